// Applying configuration sources to a Config. Pure: the caller reads files and
// the environment (preload/config_load.cpp) and hands over their text.
//
// Each function applies entries in order and stops at the first error, which
// it returns; entries before it stay applied. Callers refuse to run on an
// error, so a partly applied Config is never used.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config/config.h"

namespace veer::config {

// sysctl.conf syntax, one assignment per line:
//   net.ipv4.tcp_syn_retries = 3
//   net.ipv4.ip_local_port_range=40000 40100
// Whitespace around key and value is ignored; blank lines and lines whose
// first non-blank character is '#' or ';' are comments. There are no trailing
// comments and no quoting: everything after '=' is the value, as in sysctl.conf.
// Keys are full names only. `file_name` is used in error messages.
std::optional<ConfigError> apply_file_text(Config& config, std::string_view text,
                                           std::string_view file_name);

// A VEER_SYSCTL list: assignments separated by whitespace,
//   net.ipv4.tcp_syn_retries=1 net.ipv4.tcp_fin_timeout=5
// A value containing spaces is either quoted with '...' or "..." or written
// with commas instead of spaces:
//   net.ipv4.tcp_rmem='4096 131072 6291456'   net.ipv4.ip_local_port_range=40000,40100
// Any knob of the registry may be set this way, not only sysctls.
std::optional<ConfigError> apply_assignments(Config& config, std::string_view list,
                                             const Origin& origin);

// The VEER_* variables of `env` (name, value pairs, as in environ): VEER_SYSCTL
// is applied first, then each knob's own variable (VEER_TCP_SYN_RETRIES=1,
// VEER_DEVICE=tap:veer1) in the order given, so the more specific variable
// wins. The variables in kReservedEnv other than VEER_SYSCTL are skipped; any
// other VEER_* variable is refused as unknown. Variables without the prefix
// are ignored.
std::optional<ConfigError> apply_environment(
    Config& config, const std::vector<std::pair<std::string, std::string>>& env);

}  // namespace veer::config
