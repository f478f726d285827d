// The sender's loss recovery, one object per connection: Linux's ACK
// processing for the scoreboard (tcp_ack()), its state machine
// (tcp_fastretrans_alert(): Open, Disorder, CWR, Recovery, Loss, with the
// undo heuristics tcp_try_undo_*) and the transmit timer shared by the RTO,
// TLP and RACK's reordering timer.
//
// It decides what is lost, when to retransmit and when the congestion window
// must be reduced or restored; the window itself stays with the congestion
// controller, which applies the CwndEvents it is handed (and PRR, RFC 6937,
// with `delivered`/`newly_lost` while in_cwnd_reduction()).
#pragma once

#include <array>
#include <cstdint>
#include <memory_resource>
#include <optional>
#include <span>

#include "core/tcp/recovery/min_rtt_filter.h"
#include "core/tcp/recovery/rack.h"
#include "core/tcp/recovery/recovery_types.h"
#include "core/tcp/recovery/retransmit_queue.h"
#include "core/tcp/recovery/tail_loss_probe.h"
#include "core/tcp/recovery/xmit_timer.h"
#include "core/tcp/rto.h"
#include "core/wire/tcp.h"

namespace veer::core {

// What the congestion controller must do, in the order given.
enum class CwndEvent : uint8_t {
  ClearPriorSsthresh,  // prior_ssthresh = 0: the reduction cannot be undone
  SavePriorSsthresh,   // prior_ssthresh = tcp_current_ssthresh(): the undo point
  InitReduction,       // tcp_init_cwnd_reduction(): prior_cwnd = cwnd,
                       // prr_delivered = prr_out = 0, ssthresh = cc.ssthresh()
  EndReduction,        // tcp_end_cwnd_reduction(): cwnd = ssthresh (if finite)
  Undo,                // tcp_undo_cwnd_reduction(): if prior_ssthresh: cwnd =
                       // cc.undo_cwnd(), ssthresh = max(ssthresh, prior_ssthresh)
};

class CwndEvents {
 public:
  void push(CwndEvent e) {
    if (n_ < list_.size()) list_[n_++] = e;
  }
  std::span<const CwndEvent> list() const { return {list_.data(), n_}; }
  bool contains(CwndEvent e) const {
    for (CwndEvent x : list()) {
      if (x == e) return true;
    }
    return false;
  }

 private:
  std::array<CwndEvent, 12> list_{};
  size_t n_ = 0;
};

// Linux REXMIT_*: what to transmit after the congestion window is updated
// (tcp_xmit_recovery()).
enum class Rexmit : uint8_t {
  None,
  Lost,  // retransmit next_retransmit() while cwnd > in_flight
  New,   // F-RTO step 2b: send new data, then frto_sent_new_data()
};

struct AckInput {
  uint32_t ack = 0;
  std::span<const wire::SackBlock> sacks;
  Time now{};
  Time rto = kRtoInitial;  // icsk_rto before this ACK, with backoff
  uint32_t mss = 536;
  uint32_t max_window = 0xffffffff;  // largest window the peer ever offered
  bool has_data = false;             // FLAG_DATA: the segment carries data
  bool syn_or_fin = false;
  bool window_update = false;   // FLAG_WIN_UPDATE: tcp_may_update_window() held
  bool window_changed = false;  // the advertised window differs (RFC 5681 (e))
  bool ece = false;
  std::optional<Time> ts_echo;     // when the segment whose TSval the peer echoed left
  bool can_send_new_data = false;  // unsent data and the peer's window takes it
};

struct AckOutcome {
  AckResult scoreboard;      // bytes/packets acked, SACK and D-SACK facts
  bool rtt_sampled = false;  // RtoEstimator fed: icsk_rto = rtt.rto(), backoff 0
  Time rtt{};
  bool reset_retransmits = false;  // icsk_retransmits = 0
  uint32_t delivered = 0;          // newly delivered packets (tcp_newly_delivered)
  uint32_t newly_lost = 0;         // newly marked lost (rate_sample losses)
  bool may_raise_cwnd = false;     // tcp_may_raise_cwnd()
  bool in_cwnd_reduction = false;  // CWR or Recovery: PRR instead of cong_avoid
  CwndEvents events;
  Rexmit rexmit = Rexmit::None;
};

struct TimeoutOutcome {
  // tcp_enter_loss(): prior_ssthresh = current, prior_cwnd = cwnd,
  // ssthresh = cc.ssthresh() (not again for a repeated timeout).
  bool reduce_ssthresh = false;
  uint32_t cwnd = 1;  // in_flight + 1
  bool sack_reneged = false;
};

struct ReorderOutcome {
  CwndEvents events;
  bool cwnd_reduction = false;  // tcp_cwnd_reduction(1 delivered, newly_lost)
  uint32_t newly_lost = 0;
  Rexmit rexmit = Rexmit::None;
};

class LossRecovery {
 public:
  explicit LossRecovery(const RecoverySettings& settings = {},
                        std::pmr::memory_resource* memory = std::pmr::get_default_resource());

  // The connection is synchronized: SND.UNA = SND.NXT = `snd_una`.
  void reset(uint32_t snd_una);
  // The peer's SACK-permitted (RFC 2018) decides SACK or NewReno recovery.
  void set_sack(bool on) { settings_.sack = on; }
  void set_rto_max(Time rto_max) { settings_.rto_max = rto_max; }
  // An RTT measured outside on_ack (the handshake: tcp_synack_rtt_meas())
  // counts for min_rtt too.
  void on_handshake_rtt(Time now, Time rtt) { min_rtt_.update(now, rtt); }

  // --- Sending -----------------------------------------------------------------
  // [seq, end) left at `now` (see SendKind). `rto` is icsk_rto: a first
  // transmission into an empty pipe or over a pending TLP re-arms the RTO
  // (tcp_event_new_data_sent), a retransmission of the head re-arms it
  // unless the reordering timer is pending (tcp_xmit_retransmit_queue).
  void on_send(uint32_t seq, uint32_t end, Time now, SendKind kind, Time rto, bool syn = false,
               bool fin = false);
  // After a burst that sent new data (the end of tcp_write_xmit()): arms TLP.
  void after_new_data(Time now, Time rto, std::optional<Time> srtt);
  // tcp_xmit_retransmit_queue(): the next segment to retransmit, or null.
  const SentSegment* next_retransmit() { return queue_.next_retransmit(); }
  // After Rexmit::New sent data: true when lost segments must now be
  // retransmitted too (F-RTO found nothing new to send).
  bool frto_sent_new_data();

  // tcp_simple_retransmit(): the path MTU shrank, so every segment in flight
  // longer than `mss` was dropped on the way; mark them lost so they are
  // sent again in pieces that fit. Returns how many were newly marked.
  uint32_t mark_oversized_lost(uint32_t mss);

  // --- ACKs --------------------------------------------------------------------
  // tcp_ack() from SND.UNA on. The connection has already dropped ACKs of
  // unsent data and ACKs older than SND.UNA - max_window (RFC 5961 §5.2).
  AckOutcome on_ack(const AckInput& in, RtoEstimator& rtt);

  // --- Timers ------------------------------------------------------------------
  std::optional<Time> deadline() const { return timer_.deadline(); }
  XmitTimerKind timer_kind() const { return timer_.kind; }
  XmitTimerKind due(Time now) const { return timer_.due(now); }
  // inet_csk_reset_xmit_timer(ICSK_TIME_RETRANS, rto): after an RTO
  // retransmission with the backed-off RTO.
  void arm_rto(Time now, Time rto);
  // Retransmit due: the connection checked its give-up (tcp_write_timeout);
  // this is tcp_enter_loss(). `retransmits` is icsk_retransmits before it.
  // Then the connection retransmits next_retransmit() (the head), backs off
  // and calls arm_rto().
  TimeoutOutcome on_retransmit_timeout(Time now, int retransmits);
  // LossProbe due: what to send (tcp_send_loss_probe()).
  TailLossProbe::Probe loss_probe(bool new_data_fits_window) const;
  // The probe left (after on_send with New or Probe): the RTO restarts now.
  void on_loss_probe_sent(Time now, Time rto, bool retransmission);
  // No probe was sent: the RTO is re-armed from the head's transmission.
  void on_loss_probe_skipped(Time now, Time rto);
  // ReorderTimeout due: tcp_rack_reo_timeout(). Retransmit as told, then call
  // on_reorder_timeout_done().
  ReorderOutcome on_reorder_timeout(Time now, std::optional<Time> srtt);
  void on_reorder_timeout_done(Time now, Time rto);

  // --- State -------------------------------------------------------------------
  CaState state() const { return state_; }
  const RetransmitQueue& queue() const { return queue_; }
  const Rack& rack() const { return rack_; }
  const TailLossProbe& tlp() const { return tlp_; }
  std::optional<Time> min_rtt() const { return min_rtt_.get(); }
  uint32_t in_flight() const { return queue_.in_flight(); }
  uint32_t reordering() const { return reordering_; }  // tp->reordering
  uint32_t reord_seen() const { return reord_seen_; }
  uint32_t high_seq() const { return high_seq_; }
  std::optional<uint32_t> undo_marker() const { return undo_marker_; }
  int undo_retrans() const { return undo_retrans_; }
  bool frto() const { return frto_; }
  // tp->retrans_stamp: when the first retransmission of this episode left.
  std::optional<Time> retrans_stamp() const { return retrans_stamp_; }
  bool in_cwnd_reduction() const { return state_ == CaState::Cwr || state_ == CaState::Recovery; }
  const RecoverySettings& settings() const { return settings_; }

 private:
  struct Flags {
    bool una_advanced = false;
    bool data = false;
    bool win_update = false;
    bool ece = false;
    bool acked = false;
    bool data_acked = false;
    bool data_sacked = false;
    bool dsack = false;
    bool dsack_tlp = false;
    bool set_xmit_timer = false;
    bool lost_retrans = false;
    bool orig_sack_acked = false;
    bool sack_reneging = false;
    bool not_dup() const { return data || win_update || acked; }
  };
  struct Pass {
    Time now{};
    Time rto{};
    uint32_t mss = 536;
    std::optional<Time> srtt;
    std::optional<Time> ts_echo;
    bool can_send_new_data = false;
    CwndEvents* events = nullptr;
    bool* reset_retransmits = nullptr;
    Flags f;
    Rexmit rexmit = Rexmit::None;
  };

  bool rack_on() const { return settings_.recovery & kRackLossDetection; }
  RackContext rack_context(std::optional<Time> srtt) const;
  void rearm_rto(Time now, Time rto);
  void set_xmit_timer(Time now, Time rto, std::optional<Time> srtt);
  // What the probe timeout depends on, as the connection stands now.
  ProbeTimeoutInputs probe_inputs(Time now, Time rto, std::optional<Time> srtt) const;

  void fastretrans_alert(Pass& p, uint32_t prior_una, uint32_t num_dupack);
  bool check_sack_reneging(Pass& p);
  void identify_packet_loss(Pass& p);
  bool time_to_recover() const;
  bool force_fast_retransmit(uint32_t mss) const;
  void enter_recovery(Pass& p, bool ece);
  void enter_cwr(Pass& p);
  void init_undo();
  void init_cwnd_reduction(Pass& p);
  void end_cwnd_reduction(Pass& p);
  void undo_cwnd_reduction(Pass& p, bool unmark_loss);
  bool packet_delayed(const Pass& p) const;
  bool may_undo(const Pass& p) const;
  bool non_sack_preventing_reopen();
  bool try_undo_recovery(Pass& p);
  bool try_undo_dsack(Pass& p);
  bool try_undo_loss(Pass& p, bool frto_undo);
  bool try_undo_partial(Pass& p, uint32_t prior_una, bool& do_lost);
  void try_keep_open();
  void try_to_open(Pass& p);
  void process_loss(Pass& p, uint32_t num_dupack);
  void process_tlp_ack(Pass& p, uint32_t ack);
  void check_sack_reordering(uint32_t low_seq, uint32_t mss);
  void add_reno_sack(uint32_t num_dupack);
  void remove_reno_sacks(uint32_t acked);
  void check_reno_reordering(uint32_t addend);

  RecoverySettings settings_;
  RetransmitQueue queue_;
  Rack rack_;
  TailLossProbe tlp_;
  MinRttFilter min_rtt_;
  XmitTimer timer_;

  CaState state_ = CaState::Open;
  uint32_t high_seq_ = 0;
  std::optional<uint32_t> undo_marker_;
  int undo_retrans_ = -1;  // retransmissions not yet proven spurious; -1: none
  bool frto_ = false;
  bool is_sack_reneg_ = false;
  uint32_t reordering_;
  uint32_t reord_seen_ = 0;
  std::optional<Time> retrans_stamp_;
};

}  // namespace veer::core
