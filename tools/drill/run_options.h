// The settings of one run: packetdrill's command-line options (which a
// script may also give at its top, `--mss=1000`), with packetdrill's
// defaults, plus veer's own (--sysctl).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/types.h"

namespace veer::drill {

struct RunOptions {
  // Timing (packetdrill config.c): an event may be this far off its script time.
  long tolerance_usecs = 4000;
  // ... or this share of the time since the previous event, when larger (Linux
  // timers are jiffy- and wheel-based; packetdrill allows 12.5 %).
  double tolerance_percent = 12.5;
  // Microseconds per TSval tick for checking outbound TSval; 0: not checked.
  long tcp_ts_tick_usecs = 0;
  // Interpolate inbound TS ecr values that echo no TSval the script has seen.
  bool tcp_ts_ecr_scaled = false;
  // Match each outbound segment on its own instead of merging consecutive
  // segments up to the script's length (TSO/GSO emulation).
  bool strict_segments = false;
  // packetdrill's GSO size for inbound segments. Linux's receive path takes
  // a GSO packet as one segment, and so does veer: parsed, without effect.
  int mss = 0;
  int mtu = 1500;
  Ipv4Addr local_ip = Ipv4Addr::of(192, 168, 0, 1);
  Ipv4Addr remote_ip = Ipv4Addr::of(192, 0, 2, 1);
  Ipv4Addr netmask = Ipv4Addr::of(255, 255, 255, 0);
  std::optional<Ipv4Addr> gateway_ip;  // default: the subnet's last host address
  uint16_t bind_port = 8080;
  uint16_t connect_port = 8080;
  // Sysctls to apply before the script's own commands, as `key=value`.
  std::vector<std::string> sysctls;
  bool verbose = false;
};

// Applies `--name[=value]` (without the dashes) to `o`. Returns an empty
// string on success; "unsupported: …" for packetdrill options the runner
// does not implement; any other text is an error in the value or the name.
std::string apply_option(RunOptions& o, std::string_view name,
                         const std::optional<std::string>& value);

// The gateway to give the stack: the option, or the last host address of the
// local subnet (never the local address itself).
Ipv4Addr gateway_for(const RunOptions& o);
uint8_t prefix_length(Ipv4Addr netmask);

}  // namespace veer::drill
