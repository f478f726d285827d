#include "core/tcp/congestion/cwnd_growth.h"

#include <algorithm>

namespace veer::core {

uint32_t slow_start(TcpCongestionState& s, uint32_t acked) {
  uint32_t cwnd = std::min(s.snd_cwnd + acked, s.snd_ssthresh);
  acked -= cwnd - s.snd_cwnd;
  s.snd_cwnd = std::min(cwnd, s.snd_cwnd_clamp);
  return acked;
}

void cong_avoid_ai(TcpCongestionState& s, uint32_t w, uint32_t acked) {
  // Credit earned while w was larger is applied gently: one segment, then
  // counting starts over (Linux does the same after a reduction of w).
  if (s.snd_cwnd_cnt >= w) {
    s.snd_cwnd_cnt = 0;
    s.snd_cwnd++;
  }
  s.snd_cwnd_cnt += acked;
  if (s.snd_cwnd_cnt >= w) {
    uint32_t delta = s.snd_cwnd_cnt / w;
    s.snd_cwnd_cnt -= delta * w;
    s.snd_cwnd += delta;
  }
  s.snd_cwnd = std::min(s.snd_cwnd, s.snd_cwnd_clamp);
}

}  // namespace veer::core
