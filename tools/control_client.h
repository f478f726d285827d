// The tool's side of the control channel to a running engine
// (preload/control_protocol.h): one request, one reply.
#pragma once

#include <optional>
#include <string>

#include "preload/control_protocol.h"

namespace veer::tools {

// Sends `request` to the engine of process `pid` and waits (a few seconds
// at most) for its reply. nullopt, with `*error`, when there is no such
// engine or it did not answer; a stale socket of a dead process is removed.
std::optional<preload::ControlReply> control_exchange(int pid,
                                                      const preload::ControlRequest& request,
                                                      std::string* error);

// A PID on a command line: digits, > 0.
std::optional<int> parse_pid(std::string_view text);

}  // namespace veer::tools
