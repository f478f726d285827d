// The congestion window of one connection: its TcpCongestionState, the
// algorithm chosen for it and PRR, driven at the points where Linux's
// tcp_input.c and tcp_output.c touch cwnd. The loss-recovery state machine
// (core/tcp/recovery: LossRecovery, Linux's tcp_fastretrans_alert) decides
// what happened and when; this class applies the cwnd side of it, each
// method named after the Linux function whose cwnd handling it mirrors.
#pragma once

#include <cstdint>

#include "core/tcp/congestion/congestion_control.h"
#include "core/tcp/congestion/congestion_state.h"
#include "core/tcp/congestion/prr.h"

namespace veer::core {

// What tcp_ack() learned from one ACK, for tcp_cong_control().
struct CongestionAck {
  Time now{};
  uint32_t acked_sacked = 0;      // segments newly delivered (tcp_newly_delivered)
  uint32_t newly_lost = 0;        // segments this ACK marked lost (rate sample losses)
  uint32_t in_flight = 0;         // tcp_packets_in_flight() after the ACK
  bool snd_una_advanced = false;  // FLAG_SND_UNA_ADVANCED: PRR's "safe ACK"
  bool may_raise_cwnd = false;    // tcp_may_raise_cwnd(): in-order delivery, or any
                                  // delivery once the path is known to reorder
};

// One pass of the send loop (tcp_write_xmit), for tcp_cwnd_validate().
struct CwndUsage {
  Time now{};
  uint32_t sent = 0;         // segments sent by this pass
  uint32_t in_flight = 0;    // tcp_packets_in_flight() after it
  uint32_t packets_out = 0;  // segments between snd_una and snd_nxt after it
  uint32_t snd_una = 0;
  uint32_t snd_nxt = 0;
  bool cwnd_limited = false;    // the pass stopped because cwnd was full
  bool sndbuf_limited = false;  // SOCK_NOSPACE: the program hit its send buffer
  Time rto{};
  bool slow_start_after_idle = true;  // net.ipv4.tcp_slow_start_after_idle
};

class CongestionWindow {
 public:
  explicit CongestionWindow(CongestionControlPtr algorithm);

  const TcpCongestionState& state() const { return state_; }
  TcpCongestionState& state() { return state_; }
  uint32_t cwnd() const { return state_.snd_cwnd; }
  uint32_t ssthresh() const { return state_.snd_ssthresh; }
  CaState ca_state() const { return state_.ca_state; }
  CongestionControl& algorithm() { return *algorithm_; }
  std::string_view algorithm_name() const { return algorithm_->name(); }
  const ProportionalRateReduction& prr() const { return prr_; }

  // tcp_init_transfer() and tcp_init_congestion_control(): the connection is
  // established. The initial window is 10 segments (RFC 6928), 1 when the
  // SYN or SYN-ACK had to be retransmitted more than once (RFC 5681).
  void init_transfer(bool syn_retransmitted_twice, const SendProgress& at);

  // TCP_CONGESTION (tcp_set_congestion_control/tcp_reinit_congestion_control):
  // switch algorithms, keeping the window; `initialize` past LISTEN/CLOSE.
  void set_algorithm(CongestionControlPtr algorithm, bool initialize, const SendProgress& at);

  // tcp_set_ca_state(): the loss-recovery state changes (call it whenever
  // LossRecovery::state() differs from ca_state()): the algorithm hears of
  // it first (CUBIC forgets its curve on Loss).
  void set_ca_state(CaState state, const SendProgress& at);

  // --- Per ACK, in tcp_ack()'s order -------------------------------------------
  // 1. tcp_clean_rtx_queue(): .pkts_acked with the ACK's RTT sample, before
  //    the recovery state machine has acted on this ACK.
  void pkts_acked(const AckSample& sample);
  // 2. The state machine's cwnd steps, below (LossRecovery's CwndEvents).
  // 3. tcp_cong_control(): PRR in CWR/Recovery, else .cong_avoid.
  void cong_control(const CongestionAck& ack);

  // --- The cwnd side of the recovery state machine ---------------------------
  // LossRecovery hands these over as CwndEvents, in the order to apply them.
  // [ClearPriorSsthresh] this reduction cannot be undone (ECN, CWR).
  void clear_prior_ssthresh() { state_.prior_ssthresh = 0; }
  // [SavePriorSsthresh] the undo point: tcp_current_ssthresh().
  void save_prior_ssthresh() { state_.prior_ssthresh = state_.current_ssthresh(); }
  // [InitReduction] tcp_init_cwnd_reduction(): CWR or Recovery begins;
  // ssthresh from the algorithm, PRR starts from the current cwnd.
  void init_cwnd_reduction();
  // [EndReduction] tcp_end_cwnd_reduction(): snd_una reached high_seq after
  // CWR, or after a Recovery that was not undone: cwnd settles at ssthresh.
  void end_cwnd_reduction(Time now);
  // [Undo] tcp_undo_cwnd_reduction(): the reduction was spurious (D-SACK,
  // timestamps, F-RTO): restore cwnd and ssthresh.
  void undo_cwnd_reduction(Time now);
  // tcp_enter_loss() on a retransmission timeout (LossRecovery's
  // TimeoutOutcome): ssthresh from the algorithm on the first RTO of a loss
  // episode (`reduce_ssthresh`), cwnd = in_flight + 1, state Loss.
  void enter_loss(bool reduce_ssthresh, uint32_t cwnd, const SendProgress& at);

  // --- Sending -----------------------------------------------------------------
  // tcp_event_data_sent(): before a data segment goes out; `in_flight` is
  // tcp_packets_in_flight() before it. Starting from an empty pipe is
  // CA_EVENT_TX_START (CUBIC shifts its epoch past the idle time).
  void on_data_sent(uint32_t in_flight, Time now);
  // Every segment sent, new or retransmitted, while cwnd is being reduced
  // counts as PRR's prr_out (tcp_write_xmit, tcp_xmit_retransmit_queue).
  void on_transmit(uint32_t segments);
  // tcp_cwnd_validate() after a pass of the send loop (RFC 2861 as Linux
  // does it): track whether cwnd is what limits the sender, and decay a
  // window the application has not used for an RTO.
  void validate(const CwndUsage& usage);
  // tcp_slow_start_after_idle_check() + tcp_cwnd_restart(): the program
  // queues new data (skb_entail) or the peer opens its window while nothing
  // is in flight. After more than an RTO idle, cwnd restarts from the
  // initial window, halved once per further RTO of idleness (RFC 2861).
  void restart_after_idle(Time now, Time rto, uint32_t packets_out, bool slow_start_after_idle);

 private:
  // tcp_init_cwnd(): the initial window, within the clamp.
  uint32_t init_cwnd() const;

  CongestionControlPtr algorithm_;
  TcpCongestionState state_;
  ProportionalRateReduction prr_;
};

}  // namespace veer::core
