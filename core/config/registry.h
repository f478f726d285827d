// The knob registry: the one table of everything veer can be configured with.
//
// Parsers (files, environment), `veer sysctl` and the README table all read
// this table; nothing else lists knob names, defaults or ranges. Sysctl knobs
// carry Linux's name, default and accepted range, checked against
// net/ipv4/sysctl_net_ipv4.c and net/core/sysctl_net_core.c.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace veer::config {

// The highest receive queue xdp:NAME:QUEUE may name (the XDP program's socket
// map has 64 entries).
constexpr int kMaxXdpQueue = 63;

enum class Kind {
  Int,             // one integer in [min, max]
  IntTriple,       // "min default max", each in [min, max], non-decreasing (tcp_rmem)
  PortRange,       // "low high", each in [min, max], low <= high (ip_local_port_range)
  Ipv4Prefix,      // "10.77.0.2/24"
  Ipv4AddrOrNone,  // "10.77.0.1" or "none"
  Mac,             // "auto" or "aa:bb:cc:dd:ee:ff"
  Device,          // "tap:NAME" or "xdp:NAME[:QUEUE]"
  LinkName,        // an interface name, or empty for none
  Ipv4PrefixList,  // "10.99.0.0/24 192.168.5.0/24", or empty
  Enum,            // one word of `choices`
  Path,            // any text, may be empty; names a file
  String,          // any text, may be empty
};

struct Knob {
  std::string_view name;  // the sysctl name for sysctls, e.g. net.ipv4.tcp_syn_retries
  Kind kind;
  std::string_view default_value;  // in the same syntax a file would use
  int64_t min = 0;                 // Int, IntTriple, PortRange: bounds of each integer
  int64_t max = 0;
  std::string_view choices;  // Enum: the accepted words, separated by '|'
  std::string_view help;     // one line
  bool sysctl = false;       // mirrors a Linux sysctl of the same name and meaning
  // May change in a running process (`veer sysctl -p PID key=value`). Every
  // sysctl may; of veer's own settings only those marked here.
  bool runtime = false;
};

// Every knob, in the order `veer sysctl` and the README list them.
std::span<const Knob> knobs();

// The knob called `name` (full name only: "net.ipv4.tcp_syn_retries"), or null.
const Knob* find_knob(std::string_view name);

// The knob whose environment variable is `var` ("VEER_TCP_SYN_RETRIES"), or null.
const Knob* find_knob_by_env(std::string_view var);

// Whether `veer sysctl -p PID` may change this knob in a running process:
// the sysctls (for new connections, as `sysctl -w`) and the knobs marked
// runtime. The address, device, MTU and the like are fixed when the stack
// starts.
bool settable_at_run_time(const Knob& knob);

// VEER_ + the upper-cased last dotted component for sysctls
// (net.core.somaxconn -> VEER_SOMAXCONN), VEER_ + the upper-cased name for the
// others (log_file -> VEER_LOG_FILE). Unique across the table (checked at
// compile time in registry.cpp).
std::string env_name(const Knob& knob);

// What a knob accepts, as shown in errors and in the README:
// "1..127", "error|warn|info|debug|trace", ...
std::string accepted_text(const Knob& knob);

// Environment variables with the VEER_ prefix that are not knobs. Any other
// VEER_* variable is refused as a probable typo.
inline constexpr std::string_view kConfigFileEnv = "VEER_CONFIG";  // path of a config file
inline constexpr std::string_view kSysctlEnv = "VEER_SYSCTL";      // "key=value key=value"
inline constexpr std::string_view kActiveEnv = "VEER_ACTIVE";      // reserved for `veer run`
inline constexpr std::string_view kLibraryEnv = "VEER_LIBRARY";    // `veer run`: libveer.so to use
inline constexpr std::array<std::string_view, 4> kReservedEnv = {kConfigFileEnv, kSysctlEnv,
                                                                 kLibraryEnv, kActiveEnv};

bool is_reserved_env(std::string_view var);

}  // namespace veer::config
