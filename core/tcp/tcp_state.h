// The eleven TCP states, numbered as Linux numbers them (include/net/tcp_states.h)
// so TCP_INFO and `veer ss` can report them unchanged.
#pragma once

#include <cstdint>
#include <string_view>

namespace veer::core {

enum class TcpState : uint8_t {
  Established = 1,
  SynSent = 2,
  SynReceived = 3,
  FinWait1 = 4,
  FinWait2 = 5,
  TimeWait = 6,
  Closed = 7,
  CloseWait = 8,
  LastAck = 9,
  Listen = 10,
  Closing = 11,
};

// State sets tested as bitmasks: in_state(s, kFinWait1 | kClosing).
constexpr uint32_t state_bit(TcpState s) {
  return 1u << static_cast<uint8_t>(s);
}
constexpr bool in_state(TcpState s, uint32_t mask) {
  return (state_bit(s) & mask) != 0;
}

// Linux's `ss` spelling: ESTAB, SYN-SENT, …
std::string_view state_name(TcpState s);
// The kernel's own names, as its sock:inet_sock_set_state tracepoint prints
// them without the TCP_ prefix: ESTABLISHED, SYN_RECV, CLOSE, …
std::string_view kernel_state_name(TcpState s);

}  // namespace veer::core
