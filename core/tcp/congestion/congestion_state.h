// The congestion-control fields of a TCP connection, in segments as Linux
// keeps them in struct tcp_sock (TCP_INFO reports snd_cwnd and snd_ssthresh
// in packets too). CongestionWindow holds one per connection; the algorithm
// behind CongestionControl reads and writes it.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/tcp/recovery/recovery_types.h"  // CaState, shared with loss recovery
#include "core/types.h"

namespace veer::core {

inline constexpr uint32_t kTcpInitCwnd = 10;                  // TCP_INIT_CWND, RFC 6928
inline constexpr uint32_t kTcpInfiniteSsthresh = 0x7fffffff;  // TCP_INFINITE_SSTHRESH

// Events the connection reports to the algorithm (enum tcp_ca_event).
enum class CaEvent : uint8_t {
  TxStart,      // first transmit when nothing was in flight (tcp_event_data_sent)
  CwndRestart,  // cwnd restart after idle (tcp_cwnd_restart)
  CompleteCwr,  // end of a cwnd reduction (tcp_end_cwnd_reduction)
  Loss,         // RTO entered Loss (tcp_enter_loss)
  EcnNoCe,      // ECN: not CE marked
  EcnIsCe,      // ECN: CE marked
};

struct TcpCongestionState {
  uint32_t snd_cwnd = kTcpInitCwnd;              // tcp_init_sock
  uint32_t snd_ssthresh = kTcpInfiniteSsthresh;  // until the first loss or HyStart exit
  uint32_t snd_cwnd_cnt = 0;                     // linear-increase credit (tcp_cong_avoid_ai)
  uint32_t snd_cwnd_clamp = ~uint32_t{0};        // upper bound on snd_cwnd
  uint32_t snd_cwnd_used = 0;                    // largest flight while not cwnd-limited
  Time snd_cwnd_stamp{};                         // last time cwnd was found fully used
  uint32_t prior_cwnd = 0;                       // cwnd when the last reduction began
  uint32_t prior_ssthresh = 0;                   // ssthresh to restore on undo (0: no undo)
  bool is_cwnd_limited = false;                  // cwnd was the limit in the last window
  uint32_t max_packets_out = 0;                  // largest flight in the last window
  uint32_t cwnd_usage_seq = 0;                   // right edge of that window
  Time lsndtime{};                               // last time data was sent
  CaState ca_state = CaState::Open;              // mirrors LossRecovery::state()

  // tcp_in_slow_start()
  bool in_slow_start() const { return snd_cwnd < snd_ssthresh; }

  // tcp_is_cwnd_limited(): grow cwnd only when it is what limits sending; in
  // slow start, while the flight reached half the window (cwnd may grow to
  // twice what the application actually used, no further).
  bool cwnd_limited() const {
    if (is_cwnd_limited) return true;
    if (in_slow_start()) return snd_cwnd < 2 * max_packets_out;
    return false;
  }

  // tcp_in_cwnd_reduction(): PRR drives cwnd in CWR and Recovery.
  bool in_cwnd_reduction() const {
    return ca_state == CaState::Cwr || ca_state == CaState::Recovery;
  }

  // tcp_current_ssthresh(): the threshold to remember before a reduction;
  // outside one, three quarters of cwnd counts as already-proven safe.
  uint32_t current_ssthresh() const {
    if (in_cwnd_reduction()) return snd_ssthresh;
    return std::max(snd_ssthresh, (snd_cwnd >> 1) + (snd_cwnd >> 2));
  }
};

}  // namespace veer::core
