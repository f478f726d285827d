// Tail loss probe (RFC 8985 §7) as Linux's tcp_schedule_loss_probe(),
// tcp_send_loss_probe() and tcp_process_tlp_ack(): when the ACK clock stops,
// send one probe segment after PTO = 2*SRTT (plus the minimum RTO when a
// single segment is out, for the peer's delayed ACK) so that a tail loss is
// repaired by fast recovery instead of an RTO.
#pragma once

#include <cstdint>
#include <optional>

#include "core/tcp/recovery/recovery_types.h"

namespace veer::core {

struct ProbeTimeoutInputs {
  Time now{};
  int early_retrans = 3;  // net.ipv4.tcp_early_retrans
  bool sack = true;       // TLP needs a SACK-capable peer
  CaState state = CaState::Open;
  uint32_t packets_out = 0;
  std::optional<Time> srtt;
  Time rto_min = kRtoMin;  // tcp_rto_min_us(sk)
  Time rto = kRtoInitial;  // icsk_rto, with backoff
  // true on an ACK that (re)arms the timers (tcp_set_xmit_timer): the RTO
  // would restart from now; false after sending new data: the RTO runs from
  // the head's transmission (tcp_rto_delta_us).
  bool advancing_rto = false;
  std::optional<Time> head_sent;
};

// tcp_schedule_loss_probe(): when the probe timer fires, or nullopt when no
// probe is due (the caller arms the RTO instead).
std::optional<Time> loss_probe_deadline(const ProbeTimeoutInputs& in);

class TailLossProbe {
 public:
  enum class Probe {
    None,            // a probe is already outstanding: re-arm the RTO
    NewData,         // send one new segment (Nagle off, cwnd ignored)
    RetransmitLast,  // retransmit the highest segment sent
  };
  // tcp_send_loss_probe(): new data when the peer's window takes a segment,
  // else the last segment.
  Probe choose(bool new_data_fits_window, bool anything_outstanding) const;
  // The probe left; `snd_nxt` after it (tlp_high_seq).
  void on_probe_sent(uint32_t snd_nxt, bool retransmission) {
    high_seq_ = snd_nxt;
    retrans_ = retransmission;
  }

  enum class Verdict {
    None,          // the episode goes on
    NoLoss,        // episode over: new data acked, or the original and the probe both arrived
    LossRepaired,  // the probe repaired a loss: reduce cwnd (enter CWR and leave it)
  };
  // tcp_process_tlp_ack() for an ACK of `ack`.
  Verdict on_ack(uint32_t ack, bool una_advanced, bool not_dup, bool data_sacked, bool dsack_tlp);

  // The episode ends without a verdict: RTO (tcp_retransmit_timer) or a
  // cwnd reduction starting (tcp_init_cwnd_reduction).
  void reset() { high_seq_.reset(); }
  std::optional<uint32_t> high_seq() const { return high_seq_; }
  bool retransmitted() const { return retrans_; }

 private:
  std::optional<uint32_t> high_seq_;
  bool retrans_ = false;
};

}  // namespace veer::core
