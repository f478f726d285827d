#include "core/tcp/tcp_state.h"

namespace veer::core {

std::string_view state_name(TcpState s) {
  switch (s) {
    case TcpState::Established:
      return "ESTAB";
    case TcpState::SynSent:
      return "SYN-SENT";
    case TcpState::SynReceived:
      return "SYN-RECV";
    case TcpState::FinWait1:
      return "FIN-WAIT-1";
    case TcpState::FinWait2:
      return "FIN-WAIT-2";
    case TcpState::TimeWait:
      return "TIME-WAIT";
    case TcpState::Closed:
      return "UNCONN";
    case TcpState::CloseWait:
      return "CLOSE-WAIT";
    case TcpState::LastAck:
      return "LAST-ACK";
    case TcpState::Listen:
      return "LISTEN";
    case TcpState::Closing:
      return "CLOSING";
  }
  return "UNKNOWN";
}

}  // namespace veer::core
