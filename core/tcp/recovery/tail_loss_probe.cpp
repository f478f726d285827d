#include "core/tcp/recovery/tail_loss_probe.h"

#include <algorithm>

#include "core/tcp/seq.h"

namespace veer::core {

std::optional<Time> loss_probe_deadline(const ProbeTimeoutInputs& in) {
  // Only SACK connections not in loss recovery, limited by cwnd or the
  // application, and with tcp_early_retrans 3 or 4.
  if ((in.early_retrans != 3 && in.early_retrans != 4) || in.packets_out == 0 || !in.sack ||
      (in.state != CaState::Open && in.state != CaState::Cwr)) {
    return std::nullopt;
  }
  Time timeout = kRtoInitial;  // no RTT sample yet: TCP_TIMEOUT_INIT
  if (in.srtt) {
    // A lone segment may sit in the peer's delayed-ACK timer.
    timeout = 2 * *in.srtt + (in.packets_out == 1 ? in.rto_min : kTimeoutMin);
  }
  // Never later than the RTO would fire.
  Time rto_delta = in.rto;
  if (!in.advancing_rto && in.head_sent) rto_delta = *in.head_sent + in.rto - in.now;
  if (rto_delta > Time::zero()) timeout = std::min(timeout, rto_delta);
  return in.now + timeout;
}

TailLossProbe::Probe TailLossProbe::choose(bool new_data_fits_window,
                                           bool anything_outstanding) const {
  if (high_seq_) return Probe::None;  // at most one outstanding probe
  if (new_data_fits_window) return Probe::NewData;
  if (!anything_outstanding) return Probe::None;
  return Probe::RetransmitLast;
}

TailLossProbe::Verdict TailLossProbe::on_ack(uint32_t ack, bool una_advanced, bool not_dup,
                                             bool data_sacked, bool dsack_tlp) {
  if (!high_seq_ || seq_lt(ack, *high_seq_)) return Verdict::None;
  if (!retrans_) {
    high_seq_.reset();  // the probe was new data, and it was acknowledged
    return Verdict::NoLoss;
  }
  if (dsack_tlp) {
    high_seq_.reset();  // the D-SACK says original and probe both arrived
    return Verdict::NoLoss;
  }
  if (seq_gt(ack, *high_seq_)) {
    high_seq_.reset();  // the ACK covers more than the probe: a loss was repaired
    return Verdict::LossRepaired;
  }
  if (!(una_advanced || not_dup || data_sacked)) {
    high_seq_.reset();  // a pure duplicate ACK: original and probe both arrived
    return Verdict::NoLoss;
  }
  return Verdict::None;
}

}  // namespace veer::core
