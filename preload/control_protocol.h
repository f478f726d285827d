// The control channel from `veer sysctl -p PID` and `veer capture -p PID` to
// a running engine: what a request and its reply say, and how a request
// changes the engine's configuration. Pure (no I/O), so the tool, the engine
// and the unit tests share it.
//
// The channel is a Unix datagram socket, /dev/shm/veer.PID.ctl, served by the
// engine's I/O thread as one more fd in the ppoll it already makes. Why this
// and not a request file the engine looks at on its 20 ms cadence:
// - a request gets an answer: the registry's own error for a bad value, the
//   reason a capture file could not be opened, the process's effective
//   values; a file would need a second file back and a protocol for who
//   removes which;
// - a datagram arrives whole or not at all, so the engine keeps no state per
//   client: a client that connects and never writes, or writes garbage,
//   costs nothing and cannot stall the I/O thread (everything is
//   non-blocking, a reply that cannot be sent is dropped);
// - owner-only is enforced twice: the socket file is mode 0600 (sending to
//   it needs write permission), and every request carries SCM_CREDENTIALS,
//   which the kernel vouches for, and must come from the engine's user or
//   root. An abstract socket would have no permissions and lives in one
//   network namespace; /dev/shm is where the socket view already lives.
//
// Messages are text. A request is
//     veer-control 1\n
//     show\n                       every knob with its value and origin
// or
//     veer-control 1\n
//     set\n
//     KEY=VALUE\n ...              applied all together, or none of them
// and a reply is
//     veer-control 1\n
//     ok\n  (or error\n)
//     BODY                         "key = value  # origin" lines, or the error
// A peer speaking another version gets an error naming both.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config/config.h"

namespace veer::preload {

inline constexpr std::string_view kControlHeader = "veer-control 1";
// The largest request or reply; a longer request is refused, not cut.
inline constexpr size_t kMaxControlMessage = 64 * 1024;
// veer.PID.ctl under /dev/shm, next to the view veer.PID.
std::string control_socket_path(int pid);
inline constexpr std::string_view kControlSuffix = ".ctl";

using Assignment = std::pair<std::string, std::string>;

struct ControlRequest {
  enum class Verb { Show, Set };
  Verb verb = Verb::Show;
  std::vector<Assignment> assignments;  // Set
};

struct ControlReply {
  bool ok = false;
  std::string body;
};

// "KEY=VALUE" from a command line; nullopt with `*error` when there is no
// '=', the key is empty, or the text holds a newline or NUL (which the
// line-based messages cannot carry).
std::optional<Assignment> split_assignment(std::string_view text, std::string* error);

std::string encode_request(const ControlRequest& request);
// nullopt, with `*error` saying why, for anything but a well-formed request
// of this version.
std::optional<ControlRequest> decode_request(std::string_view text, std::string* error);

std::string encode_reply(const ControlReply& reply);
std::optional<ControlReply> decode_reply(std::string_view text, std::string* error);

// Applies `assignments` to `config` as a change at run time: every key must
// be a knob settable at run time (config::settable_at_run_time) and every
// value valid, else the error names the key and what is accepted, and
// `config` is left as it was.
std::optional<config::ConfigError> apply_at_run_time(config::Config& config,
                                                     const std::vector<Assignment>& assignments);

// "name = value  # origin" lines for `names`, or for every knob when empty.
std::string describe_knobs(const config::Config& config, const std::vector<std::string>& names);

}  // namespace veer::preload
