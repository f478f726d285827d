// Algorithms by name, as Linux's tcp_cong.c registry offers them to the
// tcp_congestion_control sysctl and the TCP_CONGESTION socket option.
#pragma once

#include <array>
#include <memory_resource>
#include <string_view>

#include "core/tcp/congestion/congestion_control.h"
#include "core/tcp/congestion/cubic.h"

namespace veer::core {

// CONFIG_DEFAULT_TCP_CONG: CUBIC, as on Linux.
inline constexpr std::string_view kDefaultCongestionControl = "cubic";

// net.ipv4.tcp_available_congestion_control, in Linux's order (reno is
// built in and registered first). All are also "allowed" (Linux's
// tcp_allowed_congestion_control default), so TCP_CONGESTION needs no
// privilege for them.
inline constexpr std::array<std::string_view, 2> kAvailableCongestionControl = {"reno", "cubic"};

// Tunables of the algorithms (Linux module parameters), shared by all
// connections of a stack.
struct CongestionParams {
  CubicParams cubic;
};

bool is_available_congestion_control(std::string_view name);

// A fresh, uninitialized algorithm in memory from `memory`; nullptr for an
// unknown name (TCP_CONGESTION then fails with ENOENT, as on Linux).
CongestionControlPtr make_congestion_control(
    std::string_view name, std::pmr::memory_resource* memory = std::pmr::get_default_resource(),
    const CongestionParams& params = {});

}  // namespace veer::core
