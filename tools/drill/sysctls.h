// Backquoted shell commands in scripts, emulated. The public scripts only
// configure the kernel: `defaults.sh` (a baseline of sysctls), set_sysctls.py
// and `sysctl -q net.ipv4.X=V`. These become veer knobs (core/config); a
// command that does anything else, or a sysctl veer can neither set nor
// already behaves as, makes the script UNSUPPORTED instead of being skipped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"

namespace veer::drill {

struct SysctlAssignment {
  std::string name;   // net.ipv4.tcp_syn_retries
  std::string value;  // as written, quotes removed
  // Part of the defaults.sh baseline: a sysctl without a veer knob is taken
  // as an environment fact (veer's fixed behaviour stands, and a difference
  // shows up as a FAIL naming the feature), not as a request to refuse.
  bool baseline = false;
};

struct CommandPlan {
  std::vector<SysctlAssignment> sets;
  std::string unsupported;  // non-empty: what in the command cannot be emulated
};

// What a backquoted command does, as sysctl assignments.
CommandPlan plan_command(std::string_view command);

// Applies one assignment: a veer knob is set in `config`; a Linux sysctl veer
// has no knob for is accepted when veer behaves as the value asks (or the
// value is Linux's default, which veer mirrors by design). Returns an empty
// string, or why the assignment cannot be honoured.
std::string apply_sysctl(config::Config& config, const SysctlAssignment& a,
                         const config::Origin& origin);

}  // namespace veer::drill
