// Runs a script against a fresh stack in virtual time, event by event, as
// packetdrill runs one against the kernel (run.c, run_packet.c,
// run_system_call.c): inbound packets are injected at their time, outbound
// ones are awaited and compared, system calls go through the shared call
// layer, and a call marked blocking (`+0...0.2 accept(...)`) stays in flight
// while later events run. The first event that does not go as the script
// says decides the outcome.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "tools/drill/ast.h"
#include "tools/drill/outcome.h"
#include "tools/drill/run_options.h"

namespace veer::drill {

// An option from the command line: it overrides the same option in a script.
struct CliOption {
  std::string name;
  std::optional<std::string> value;
};

// Runs a parsed script. `trace`, when set, receives a line per event and per
// segment (for --verbose).
Outcome run_script(const Script& script, const std::vector<CliOption>& cli, std::ostream* trace);

// Reads, parses and runs the script at `path`.
Outcome run_file(const std::string& path, const std::vector<CliOption>& cli, std::ostream* trace);

}  // namespace veer::drill
