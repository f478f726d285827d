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

std::string_view kernel_state_name(TcpState s) {
  switch (s) {
    case TcpState::Established:
      return "ESTABLISHED";
    case TcpState::SynSent:
      return "SYN_SENT";
    case TcpState::SynReceived:
      return "SYN_RECV";
    case TcpState::FinWait1:
      return "FIN_WAIT1";
    case TcpState::FinWait2:
      return "FIN_WAIT2";
    case TcpState::TimeWait:
      return "TIME_WAIT";
    case TcpState::Closed:
      return "CLOSE";
    case TcpState::CloseWait:
      return "CLOSE_WAIT";
    case TcpState::LastAck:
      return "LAST_ACK";
    case TcpState::Listen:
      return "LISTEN";
    case TcpState::Closing:
      return "CLOSING";
  }
  return "UNKNOWN";
}

}  // namespace veer::core
