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

inline size_t send_buffer_size(const TcpSettings& s) {
  // Linux starts at tcp_wmem[1] and grows the buffer with cwnd
  // (tcp_sndbuf_expand(), see expand_send_buffer()); four times the default
  // covers the initial window before the first ACK.
  return static_cast<size_t>(std::max(s.wmem_default, 4096)) * 4;
}

// tcp_select_initial_window(): the shift that lets the largest receive
// buffer (tcp_rmem[2] or rmem_max) be offered in full, at most 14.
inline uint8_t our_window_scale(const TcpSettings& t) {
  uint32_t space = static_cast<uint32_t>(std::max(t.rmem_max, t.core_rmem_max));
  int log2 = 31 - __builtin_clz(space | 1);
  return static_cast<uint8_t>(std::clamp(log2 - 15, 0, 14));
}

inline RecoverySettings recovery_settings(const TcpSettings& t) {
  RecoverySettings r;
  r.recovery = t.recovery;
  r.early_retrans = t.early_retrans;
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
