#include "core/tcp/congestion/prr.h"

#include <algorithm>

namespace veer::core {

uint32_t ProportionalRateReduction::on_ack(TcpCongestionState& s, uint32_t newly_acked_sacked,
                                           uint32_t newly_lost, bool snd_una_advanced,
                                           uint32_t in_flight) {
  // Linux does this arithmetic in int and returns early (WARN) without a
  // prior_cwnd: nothing to be proportional to.
  if (newly_acked_sacked == 0 || s.prior_cwnd == 0) return 0;

  const int64_t delta = int64_t(s.snd_ssthresh) - int64_t(in_flight);
  prr_delivered_ += newly_acked_sacked;

  int64_t sndcnt;
  if (delta < 0) {
    // Proportional part: ceil(ssthresh * prr_delivered / prior_cwnd) - prr_out.
    uint64_t dividend = uint64_t(s.snd_ssthresh) * prr_delivered_ + s.prior_cwnd - 1;
    sndcnt = int64_t(dividend / s.prior_cwnd) - int64_t(prr_out_);
  } else {
    // Reduction bound: what was delivered and not yet sent again (CRB) ...
    sndcnt = std::max(int64_t(prr_delivered_) - int64_t(prr_out_), int64_t(newly_acked_sacked));
    // ... plus one on a "safe" ACK (SSRB), never above ssthresh.
    if (snd_una_advanced && newly_lost == 0) sndcnt++;
    sndcnt = std::min(delta, sndcnt);
  }
  // The first ACK of the reduction always lets the fast retransmit out.
  sndcnt = std::max<int64_t>(sndcnt, prr_out_ ? 0 : 1);
  s.snd_cwnd = uint32_t(int64_t(in_flight) + sndcnt);
  return uint32_t(sndcnt);
}

}  // namespace veer::core
