#include "core/tcp/congestion/reno.h"

#include <algorithm>

#include "core/tcp/congestion/cwnd_growth.h"

namespace veer::core {

uint32_t reno_ssthresh(const TcpCongestionState& s) {
  return std::max(s.snd_cwnd >> 1, 2u);
}

uint32_t reno_undo_cwnd(const TcpCongestionState& s) {
  return std::max(s.snd_cwnd, s.prior_cwnd);
}

void Reno::cong_avoid(TcpCongestionState& s, uint32_t acked, Time) {
  if (!s.cwnd_limited()) return;
  if (s.in_slow_start()) {
    acked = slow_start(s, acked);
    if (acked == 0) return;
  }
  cong_avoid_ai(s, s.snd_cwnd, acked);
}

}  // namespace veer::core
