// What the parts of TcpConnection (connection*.cpp) share and nothing else
// needs.
#pragma once

#include <algorithm>

#include "core/tcp/congestion/congestion_factory.h"
#include "core/tcp/connection.h"
#include "core/tcp/seq.h"

namespace veer::core::detail {

using namespace wire::tcpflag;

constexpr uint32_t kMaxUnscaledWindow = 65535;
constexpr uint16_t kDefaultMss = 536;  // RFC 9293 §3.7.1, when the peer sends none

// States in which the connection may still send data or a FIN.
constexpr uint32_t kCanSend = state_bit(TcpState::Established) | state_bit(TcpState::CloseWait) |
                              state_bit(TcpState::FinWait1) | state_bit(TcpState::Closing) |
                              state_bit(TcpState::LastAck);
// States in which data from the peer is still accepted.
constexpr uint32_t kCanReceive = state_bit(TcpState::Established) | state_bit(TcpState::FinWait1) |
                                 state_bit(TcpState::FinWait2);

inline RecoverySettings recovery_settings(const TcpSettings& t) {
  RecoverySettings r;
  r.recovery = t.recovery;
  r.early_retrans = t.early_retrans;
  r.rto_min = std::chrono::microseconds(t.rto_min_us);
  r.rto_max = std::chrono::milliseconds(t.rto_max_ms);
  return r;
}

// The connection's congestion control: the knob's algorithm, CUBIC if the
// name is unknown (the registry only lets known names through).
inline CongestionControlPtr congestion_algorithm(const TcpSettings& t,
                                                 std::pmr::memory_resource* memory) {
  std::string_view name(t.congestion_control.data());
  auto cc = make_congestion_control(name, memory);
  return cc ? std::move(cc) : make_congestion_control(kDefaultCongestionControl, memory);
}

}  // namespace veer::core::detail
