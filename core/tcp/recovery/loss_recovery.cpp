#include "core/tcp/recovery/loss_recovery.h"

#include <algorithm>

#include "core/tcp/recovery/dupthresh.h"

namespace veer::core {

LossRecovery::LossRecovery(const RecoverySettings& settings, std::pmr::memory_resource* memory)
    : settings_(settings),
      queue_(memory),
      min_rtt_(settings.min_rtt_window),
      reordering_(settings.reordering) {}

void LossRecovery::reset(uint32_t snd_una) {
  queue_.reset(snd_una);
  rack_ = Rack{};
  tlp_ = TailLossProbe{};
  min_rtt_ = MinRttFilter(settings_.min_rtt_window);
  timer_.clear();
  state_ = CaState::Open;
  high_seq_ = snd_una;
  undo_marker_.reset();
  undo_retrans_ = -1;
  frto_ = false;
  is_sack_reneg_ = false;
  reordering_ = settings_.reordering;
  reord_seen_ = 0;
  retrans_stamp_.reset();
}

RackContext LossRecovery::rack_context(std::optional<Time> srtt) const {
  RackContext c;
  c.state = state_;
  c.reord_seen = reord_seen_;
  c.sacked_out = queue_.sacked_out();
  c.reordering = reordering_;
  c.recovery = settings_.recovery;
  c.min_rtt = min_rtt_.get();
  c.srtt = srtt;
  return c;
}

// --- Timers ------------------------------------------------------------------

// tcp_rearm_rto(): RFC 6298 §5.3 restarts the RTO at now + RTO, but when the
// probe or reordering timer had replaced it, the time the RTO already ran
// (since the head left) is kept.
void LossRecovery::rearm_rto(Time now, Time rto) {
  if (queue_.packets_out() == 0) {
    timer_.clear();
    return;
  }
  Time after = rto;
  if (timer_.kind == XmitTimerKind::ReorderTimeout || timer_.kind == XmitTimerKind::LossProbe) {
    Time delta = *queue_.head_sent() + rto - now;
    after = std::max(delta, Time(std::chrono::microseconds(1)));
  }
  timer_.set(XmitTimerKind::Retransmit, now + std::min(after, settings_.rto_max));
}

void LossRecovery::arm_rto(Time now, Time rto) {
  timer_.set(XmitTimerKind::Retransmit, now + std::min(rto, settings_.rto_max));
}

// tcp_set_xmit_timer(): a probe if one is due, else the RTO.
ProbeTimeoutInputs LossRecovery::probe_inputs(Time now, Time rto, std::optional<Time> srtt) const {
  ProbeTimeoutInputs in;
  in.now = now;
  in.early_retrans = settings_.early_retrans;
  in.sack = settings_.sack;
  in.state = state_;
  in.packets_out = queue_.packets_out();
  in.srtt = srtt;
  in.rto_min = settings_.rto_min;
  in.rto = rto;
  return in;
}

void LossRecovery::set_xmit_timer(Time now, Time rto, std::optional<Time> srtt) {
  ProbeTimeoutInputs in = probe_inputs(now, rto, srtt);
  in.advancing_rto = true;
  if (auto at = loss_probe_deadline(in)) {
    timer_.set(XmitTimerKind::LossProbe, *at);
  } else {
    rearm_rto(now, rto);
  }
}

void LossRecovery::after_new_data(Time now, Time rto, std::optional<Time> srtt) {
  ProbeTimeoutInputs in = probe_inputs(now, rto, srtt);
  in.advancing_rto = false;
  in.head_sent = queue_.head_sent();
  if (auto at = loss_probe_deadline(in)) timer_.set(XmitTimerKind::LossProbe, *at);
}

TailLossProbe::Probe LossRecovery::loss_probe(bool new_data_fits_window) const {
  return tlp_.choose(new_data_fits_window, !queue_.empty());
}

void LossRecovery::on_loss_probe_sent(Time now, Time rto, bool retransmission) {
  tlp_.on_probe_sent(queue_.snd_nxt(), retransmission);
  timer_.clear();  // so that the RTO restarts from now
  rearm_rto(now, rto);
}

void LossRecovery::on_loss_probe_skipped(Time now, Time rto) {
  rearm_rto(now, rto);
}

// --- Sending -----------------------------------------------------------------

void LossRecovery::on_send(uint32_t seq, uint32_t end, Time now, SendKind kind, Time rto, bool syn,
                           bool fin) {
  const uint32_t prior_packets = queue_.packets_out();
  const bool head_retransmit =
      kind == SendKind::Retransmit && queue_.head() != nullptr && queue_.head()->seq == seq;
  queue_.on_send(seq, end, now, kind, syn, fin);
  switch (kind) {
    case SendKind::New:
      if (prior_packets == 0 || timer_.kind == XmitTimerKind::LossProbe) rearm_rto(now, rto);
      break;
    case SendKind::Retransmit:
      // tcp_retransmit_skb(): the first retransmission stamps the episode;
      // every retransmission may later be proven spurious by a D-SACK.
      if (!retrans_stamp_) retrans_stamp_ = now;
      if (undo_retrans_ < 0) undo_retrans_ = 0;
      ++undo_retrans_;
      if (head_retransmit && timer_.kind != XmitTimerKind::ReorderTimeout) {
        timer_.set(XmitTimerKind::Retransmit, now + std::min(rto, settings_.rto_max));
      }
      break;
    case SendKind::Probe:
      break;
  }
}

bool LossRecovery::frto_sent_new_data() {
  if (seq_gt(queue_.snd_nxt(), high_seq_)) return false;
  frto_ = false;
  return true;
}

// --- Reordering --------------------------------------------------------------

// tcp_check_sack_reordering(): a hole below the highest SACK was filled by a
// never-retransmitted segment; the distance (in MSS) is the reordering degree.
void LossRecovery::check_sack_reordering(uint32_t low_seq, uint32_t mss) {
  const uint32_t fack = queue_.fack();
  if (!seq_lt(low_seq, fack)) return;
  const uint32_t metric = fack - low_seq;
  if (mss > 0 && metric > reordering_ * mss) {
    reordering_ = std::min((metric + mss - 1) / mss, settings_.max_reordering);
  }
  ++reord_seen_;
}

// NewReno's sacked_out is the number of duplicate ACKs (tcp_add_reno_sack()).
void LossRecovery::add_reno_sack(uint32_t num_dupack) {
  if (num_dupack == 0) return;
  const uint32_t prior = queue_.sacked_out();
  queue_.set_reno_sacked(prior + num_dupack);
  check_reno_reordering(0);
  if (queue_.sacked_out() > prior) queue_.add_delivered(queue_.sacked_out() - prior);
}

// tcp_remove_reno_sacks(): one ACK fills a hole, the rest eat dupacks.
void LossRecovery::remove_reno_sacks(uint32_t acked) {
  const uint32_t sacked = queue_.sacked_out();
  if (acked > 0) {
    queue_.add_delivered(acked > sacked ? std::max(acked - sacked, 1u) : 1u);
    queue_.set_reno_sacked(acked - 1 >= sacked ? 0 : sacked - (acked - 1));
  }
  check_reno_reordering(acked);
}

// tcp_check_reno_reordering(): more dupacks than segments out means reordering.
void LossRecovery::check_reno_reordering(uint32_t addend) {
  const uint32_t packets = queue_.packets_out();
  const uint32_t holes = std::min(std::max(queue_.lost_out(), 1u), packets);
  if (queue_.sacked_out() + holes <= packets) return;
  queue_.set_reno_sacked(packets - holes);
  reordering_ = std::min(packets + addend, settings_.max_reordering);
  ++reord_seen_;
}

// --- The state machine (tcp_fastretrans_alert and helpers) -------------------

void LossRecovery::init_undo() {
  undo_marker_ = queue_.snd_una();
  // Retransmissions still in flight may bring D-SACKs later.
  undo_retrans_ = queue_.retrans_out() > 0 ? static_cast<int>(queue_.retrans_out()) : -1;
}

void LossRecovery::init_cwnd_reduction(Pass& p) {
  high_seq_ = queue_.snd_nxt();
  tlp_.reset();
  p.events->push(CwndEvent::InitReduction);
}

void LossRecovery::end_cwnd_reduction(Pass& p) {
  // Back to ssthresh after CWR or a recovery that was not undone.
  if (state_ == CaState::Cwr || undo_marker_) p.events->push(CwndEvent::EndReduction);
}

void LossRecovery::enter_recovery(Pass& p, bool ece) {
  p.events->push(CwndEvent::ClearPriorSsthresh);
  init_undo();
  if (!in_cwnd_reduction()) {
    if (!ece) p.events->push(CwndEvent::SavePriorSsthresh);
    init_cwnd_reduction(p);
  }
  state_ = CaState::Recovery;
}

// tcp_enter_cwr(): ECN congestion is proven, so no undo.
void LossRecovery::enter_cwr(Pass& p) {
  p.events->push(CwndEvent::ClearPriorSsthresh);
  if (state_ < CaState::Cwr) {
    undo_marker_.reset();
    init_cwnd_reduction(p);
    state_ = CaState::Cwr;
  }
}

void LossRecovery::undo_cwnd_reduction(Pass& p, bool unmark_loss) {
  if (unmark_loss) queue_.clear_lost();
  p.events->push(CwndEvent::Undo);
  undo_marker_.reset();
  rack_.force_recheck();
}

// tcp_packet_delayed(): the peer echoes a timestamp from before our first
// retransmission, so the original arrived.
bool LossRecovery::packet_delayed(const Pass& p) const {
  return retrans_stamp_ && echo_before(p.ts_echo, *retrans_stamp_);
}

bool LossRecovery::may_undo(const Pass& p) const {
  return undo_marker_ && (undo_retrans_ == 0 || packet_delayed(p));
}

// tcp_is_non_sack_preventing_reopen(): NewReno holds the state until data
// above high_seq is acknowledged (RFC 6582 avoids false fast retransmits).
bool LossRecovery::non_sack_preventing_reopen() {
  if (queue_.snd_una() == high_seq_ && !settings_.sack) {
    if (!queue_.any_retrans_done()) retrans_stamp_.reset();
    return true;
  }
  return false;
}

bool LossRecovery::try_undo_recovery(Pass& p) {
  if (may_undo(p)) {
    // Nothing was retransmitted, or the originals arrived: the window
    // reduction was a mistake.
    undo_cwnd_reduction(p, false);
  } else {
    rack_.on_recovery_end();
  }
  if (non_sack_preventing_reopen()) return true;
  state_ = CaState::Open;
  is_sack_reneg_ = false;
  return false;
}

// D-SACKs covered every retransmission: the recovery was spurious.
bool LossRecovery::try_undo_dsack(Pass& p) {
  if (undo_marker_ && undo_retrans_ == 0) {
    rack_.on_dsack_undo();
    undo_cwnd_reduction(p, false);
    return true;
  }
  return false;
}

bool LossRecovery::try_undo_loss(Pass& p, bool frto_undo) {
  if (!frto_undo && !may_undo(p)) return false;
  undo_cwnd_reduction(p, true);
  *p.reset_retransmits = true;
  if (non_sack_preventing_reopen()) return true;
  if (frto_undo || settings_.sack) {
    state_ = CaState::Open;
    is_sack_reneg_ = false;
  }
  return true;
}

bool LossRecovery::try_undo_partial(Pass& p, uint32_t prior_una, bool& do_lost) {
  if (undo_marker_ && packet_delayed(p)) {
    // The hole was filled by the delayed original: more reordering than
    // we thought. Undo only when no retransmission is still out.
    check_sack_reordering(prior_una, p.mss);
    if (queue_.retrans_out() > 0) return true;
    if (!queue_.any_retrans_done()) retrans_stamp_.reset();
    undo_cwnd_reduction(p, true);
    try_keep_open();
  } else {
    // Partial ACK (RFC 6582 §3.2 step 3): retransmit the next hole.
    do_lost = force_fast_retransmit(p.mss);
  }
  return false;
}

void LossRecovery::try_keep_open() {
  CaState s =
      (queue_.left_out() > 0 || queue_.any_retrans_done()) ? CaState::Disorder : CaState::Open;
  if (state_ != s) {
    state_ = s;
    high_seq_ = queue_.snd_nxt();
  }
}

void LossRecovery::try_to_open(Pass& p) {
  if (!queue_.any_retrans_done()) retrans_stamp_.reset();
  if (p.f.ece) enter_cwr(p);
  if (state_ != CaState::Cwr) try_keep_open();
}

bool LossRecovery::time_to_recover() const {
  if (queue_.lost_out() > 0) return true;  // the loss is proven
  // RFC 6675's DupThresh: more than `reordering` segments SACKed above.
  return !rack_on() && queue_.sacked_out() + 1 > reordering_;
}

bool LossRecovery::force_fast_retransmit(uint32_t mss) const {
  return seq_gt(queue_.fack(), queue_.snd_una() + reordering_ * mss);
}

// tcp_check_sack_reneging(): the ACK stopped at SACKed data. Give the
// receiver max(SRTT/2, 10 ms) to make sense before the RTO clears the board.
bool LossRecovery::check_sack_reneging(Pass& p) {
  if (!(p.f.sack_reneging && p.f.una_advanced)) return false;
  Time delay = std::max(p.srtt.value_or(Time::zero()) / 2, Time(std::chrono::milliseconds(10)));
  timer_.set(XmitTimerKind::Retransmit, p.now + delay);
  p.f.set_xmit_timer = false;
  return true;
}

void LossRecovery::identify_packet_loss(Pass& p) {
  if (queue_.empty()) return;
  if (!settings_.sack) {
    newreno_mark_lost(queue_, state_, reordering_, p.f.una_advanced);
  } else if (rack_on()) {
    const uint32_t prior_retrans = queue_.retrans_out();
    auto d = rack_.mark_lost(queue_, p.now, rack_context(p.srtt));
    if (d && d->wait) {
      // tcp_rack_mark_lost(): wait out the reordering window, plus a floor.
      Time wait = std::min(*d->wait + kTimeoutMin, p.rto);
      timer_.set(XmitTimerKind::ReorderTimeout, p.now + wait);
      p.f.set_xmit_timer = false;
    }
    if (prior_retrans > queue_.retrans_out()) p.f.lost_retrans = true;
  }
}

// tcp_process_loss(): an ACK in the Loss state (after an RTO), with F-RTO
// (RFC 5682) telling a spurious timeout from a real one.
void LossRecovery::process_loss(Pass& p, uint32_t num_dupack) {
  const bool recovered = !seq_lt(queue_.snd_una(), high_seq_);
  if (p.f.una_advanced && try_undo_loss(p, false)) return;
  if (frto_) {
    // Step 3.b: never-retransmitted data was (s)acked: the RTO was spurious.
    if (p.f.orig_sack_acked && try_undo_loss(p, true)) return;
    if (seq_gt(queue_.snd_nxt(), high_seq_)) {
      if (p.f.data_sacked || num_dupack > 0) frto_ = false;  // step 3.a: the loss was real
    } else if (p.f.una_advanced && !recovered) {
      high_seq_ = queue_.snd_nxt();
      // Step 2.b: send new data, if any, before retransmitting more.
      if (p.can_send_new_data) {
        p.rexmit = Rexmit::New;
        return;
      }
      frto_ = false;
    }
  }
  if (recovered) {
    try_undo_recovery(p);
    return;
  }
  if (!settings_.sack) {
    if (seq_gt(queue_.snd_nxt(), high_seq_) && num_dupack > 0) {
      add_reno_sack(num_dupack);
    } else if (p.f.una_advanced) {
      queue_.set_reno_sacked(0);
    }
  }
  p.rexmit = Rexmit::Lost;
}

void LossRecovery::fastretrans_alert(Pass& p, uint32_t prior_una, uint32_t num_dupack) {
  bool fast_rexmit = false;
  bool do_lost = num_dupack > 0 || (p.f.data_sacked && force_fast_retransmit(p.mss));
  if (queue_.packets_out() == 0 && queue_.sacked_out() > 0) queue_.set_reno_sacked(0);

  // A. ECE: the reduction is required, no undo.
  if (p.f.ece) p.events->push(CwndEvent::ClearPriorSsthresh);
  // B. Reneging SACKs.
  if (check_sack_reneging(p)) return;
  // D. State exits once high_seq is acknowledged.
  if (state_ == CaState::Open) {
    retrans_stamp_.reset();
  } else if (!seq_lt(queue_.snd_una(), high_seq_)) {
    switch (state_) {
      case CaState::Cwr:
        // Hold CWR until something above high_seq is acknowledged.
        if (queue_.snd_una() != high_seq_) {
          end_cwnd_reduction(p);
          state_ = CaState::Open;
        }
        break;
      case CaState::Recovery:
        if (!settings_.sack) queue_.set_reno_sacked(0);
        if (try_undo_recovery(p)) return;
        end_cwnd_reduction(p);
        break;
      default:
        break;
    }
  }

  // E. Process the state.
  switch (state_) {
    case CaState::Recovery:
      if (!p.f.una_advanced) {
        if (!settings_.sack) add_reno_sack(num_dupack);
      } else if (try_undo_partial(p, prior_una, do_lost)) {
        return;
      }
      if (try_undo_dsack(p)) try_keep_open();
      identify_packet_loss(p);
      if (state_ != CaState::Recovery) {
        if (!time_to_recover()) return;
        // Undone, but the loss is evident: a new recovery.
        enter_recovery(p, p.f.ece);
      }
      break;
    case CaState::Loss:
      process_loss(p, num_dupack);
      identify_packet_loss(p);
      // Change state only when cwnd was undone or retransmissions were lost.
      if (!(state_ == CaState::Open || p.f.lost_retrans)) return;
      [[fallthrough]];
    default:
      if (!settings_.sack) {
        if (p.f.una_advanced) queue_.set_reno_sacked(0);
        add_reno_sack(num_dupack);
      }
      if (state_ <= CaState::Disorder) try_undo_dsack(p);
      identify_packet_loss(p);
      if (!time_to_recover()) {
        try_to_open(p);
        return;
      }
      enter_recovery(p, p.f.ece);
      fast_rexmit = true;
      break;
  }
  if (!rack_on() && do_lost && settings_.sack) update_scoreboard(queue_, reordering_, fast_rexmit);
  p.rexmit = Rexmit::Lost;
}

// tcp_process_tlp_ack().
void LossRecovery::process_tlp_ack(Pass& p, uint32_t ack) {
  auto v = tlp_.on_ack(ack, p.f.una_advanced, p.f.not_dup(), p.f.data_sacked, p.f.dsack_tlp);
  if (v != TailLossProbe::Verdict::LossRepaired) return;
  // The probe repaired a loss: reduce cwnd once, as after ECN.
  init_cwnd_reduction(p);
  state_ = CaState::Cwr;
  end_cwnd_reduction(p);
  try_keep_open();
}

AckOutcome LossRecovery::on_ack(const AckInput& in, RtoEstimator& rtt) {
  AckOutcome out;
  Pass p;
  p.now = in.now;
  p.rto = in.rto;
  p.mss = in.mss;
  p.srtt = rtt.has_sample() ? std::optional<Time>(rtt.srtt()) : std::nullopt;
  p.ts_echo = in.ts_echo;
  p.can_send_new_data = in.can_send_new_data;
  p.events = &out.events;
  p.reset_retransmits = &out.reset_retransmits;

  const uint32_t prior_una = queue_.snd_una();
  const uint32_t prior_packets = queue_.packets_out();
  const uint32_t prior_delivered = queue_.delivered();
  const uint32_t prior_lost = queue_.lost_total();

  AckContext ctx;
  ctx.mss = in.mss;
  ctx.max_window = in.max_window;
  ctx.undo_marker = undo_marker_;
  ctx.tlp_high_seq = tlp_.high_seq();
  ctx.high_seq = high_seq_;
  ctx.min_rtt = min_rtt_.get();
  ctx.ts_echo = in.ts_echo;
  ctx.ece = in.ece;
  ctx.carries_data_or_syn_fin = in.has_data || in.syn_or_fin;
  ctx.window_changed = in.window_changed;
  AckResult r = queue_.on_ack(in.ack, in.sacks, in.now, ctx, settings_.sack);
  if (r.invalid) {
    out.scoreboard = r;
    return out;
  }

  Flags& f = p.f;
  f.una_advanced = r.una_advanced;
  f.data = in.has_data;
  f.win_update = in.window_update;
  f.ece = in.ece;
  f.acked = r.data_acked || r.syn_acked;
  f.data_acked = r.data_acked;
  f.data_sacked = r.data_sacked;
  f.dsack = r.dsack;
  f.dsack_tlp = r.dsack_tlp;
  f.set_xmit_timer = r.set_xmit_timer;
  f.orig_sack_acked = r.orig_sack_acked;
  f.sack_reneging = r.sack_reneging;
  if (r.una_advanced) out.reset_retransmits = true;
  if (r.syn_acked) retrans_stamp_.reset();  // tcp_clean_rtx_queue()

  // tcp_dsack_seen(): D-SACKs after reordering may mean RACK was too quick.
  if (r.dsack && reord_seen_ > 0 && !r.dsack_tlp) rack_.on_dsack();
  if (r.dsacked_retransmissions > 0 && undo_retrans_ > 0) {
    undo_retrans_ = std::max(0, undo_retrans_ - static_cast<int>(r.dsacked_retransmissions));
  }
  if (r.reorder_sack && (state_ != CaState::Loss || undo_marker_)) {
    check_sack_reordering(*r.reorder_sack, in.mss);
  }
  rack_.advance(r);

  if (r.old_ack) {
    if (!in.sacks.empty()) fastretrans_alert(p, prior_una, 0);
  } else if (prior_packets == 0) {
    // Nothing was outstanding: only a D-SACK may undo an earlier reduction.
    if (f.dsack) fastretrans_alert(p, prior_una, 0);
    if (tlp_.high_seq()) process_tlp_ack(p, in.ack);
  } else {
    // tcp_ack_update_rtt(): Karn-safe samples, else the timestamp echo.
    std::optional<Time> seq_rtt = r.rtt_sample();
    std::optional<Time> ca_rtt = r.rtt_ca;
    if (!seq_rtt && in.ts_echo && f.acked) seq_rtt = ca_rtt = in.now - *in.ts_echo;
    if (seq_rtt) {
      Time ca = ca_rtt.value_or(*seq_rtt);
      auto min = min_rtt_.get();
      // A suspected delayed ACK would inflate the path's minimum RTT.
      if (!(r.ack_maybe_delayed && min && ca > *min)) {
        min_rtt_.update(in.now, std::max(ca, Time(std::chrono::microseconds(1))));
      }
      rtt.sample(*seq_rtt);
      p.rto = rtt.rto();
      p.srtt = rtt.srtt();
      out.rtt_sampled = true;
      out.rtt = *seq_rtt;
    }
    if (f.acked) {
      if (!settings_.sack) {
        remove_reno_sacks(r.packets_acked);
        // Without SACK an ACK of retransmitted data proves nothing original.
        if (r.retrans_data_acked) f.orig_sack_acked = false;
      } else if (r.reorder_ack) {
        check_sack_reordering(*r.reorder_ack, in.mss);
      }
    }
    rack_.update_reo_wnd(r.prior_delivered, queue_.delivered(), settings_.recovery);
    if (tlp_.high_seq()) process_tlp_ack(p, in.ack);

    // tcp_ack_is_dubious().
    if (!f.not_dup() || f.data_sacked || f.ece || f.dsack || state_ != CaState::Open) {
      uint32_t num_dupack = (f.una_advanced || f.not_dup() || f.dsack) ? 0 : 1;
      fastretrans_alert(p, prior_una, num_dupack);
    }
    if (f.set_xmit_timer) set_xmit_timer(in.now, p.rto, p.srtt);
  }

  out.scoreboard = r;
  out.delivered = queue_.delivered() - prior_delivered;
  out.newly_lost = queue_.lost_total() - prior_lost;
  // tcp_may_raise_cwnd(): with much reordering any delivery counts.
  out.may_raise_cwnd =
      reordering_ > settings_.reordering ? (f.acked || f.data_sacked) : f.data_acked;
  out.in_cwnd_reduction = in_cwnd_reduction();
  out.rexmit = p.rexmit;
  return out;
}

// --- Timeouts ------------------------------------------------------------------

TimeoutOutcome LossRecovery::on_retransmit_timeout(Time now, int retransmits) {
  TimeoutOutcome o;
  tlp_.reset();  // tcp_retransmit_timer(): the TLP episode ends
  const bool new_recovery = state_ < CaState::Recovery;
  if (!settings_.sack) queue_.set_reno_sacked(0);
  std::optional<Time> rack_rtt;
  if (rack_on()) rack_rtt = rack_.rtt();
  o.sack_reneged = queue_.mark_lost_on_timeout(now, rack_rtt);
  if (o.sack_reneged) is_sack_reneg_ = true;
  // Reduce ssthresh only once per window of data.
  if (state_ <= CaState::Disorder || !seq_gt(high_seq_, queue_.snd_una()) ||
      (state_ == CaState::Loss && retransmits == 0)) {
    o.reduce_ssthresh = true;
    init_undo();
  }
  o.cwnd = queue_.in_flight() + 1;
  // Timing out after many dupacks: the reordering estimate was too high.
  if (state_ <= CaState::Disorder && queue_.sacked_out() >= settings_.reordering) {
    reordering_ = std::min(reordering_, settings_.reordering);
  }
  state_ = CaState::Loss;
  high_seq_ = queue_.snd_nxt();
  // F-RTO (RFC 5682 §3.1 step 1) unless recovery was already under way.
  frto_ = settings_.frto != 0 && (new_recovery || retransmits > 0);
  return o;
}

ReorderOutcome LossRecovery::on_reorder_timeout(Time now, std::optional<Time> srtt) {
  ReorderOutcome o;
  Pass p;
  p.now = now;
  p.srtt = srtt;
  p.events = &o.events;
  bool reset = false;
  p.reset_retransmits = &reset;
  const uint32_t prior_inflight = queue_.in_flight();
  const uint32_t prior_lost = queue_.lost_total();
  rack_.detect_loss(queue_, now, rack_context(srtt));
  o.newly_lost = queue_.lost_total() - prior_lost;
  if (prior_inflight != queue_.in_flight()) {
    if (state_ != CaState::Recovery) {
      enter_recovery(p, false);
      o.cwnd_reduction = true;
    }
    o.rexmit = Rexmit::Lost;
  }
  return o;
}

void LossRecovery::on_reorder_timeout_done(Time now, Time rto) {
  if (timer_.kind != XmitTimerKind::Retransmit) rearm_rto(now, rto);
}

uint32_t LossRecovery::mark_oversized_lost(uint32_t mss) {
  std::pmr::vector<uint32_t> seqs(std::pmr::get_default_resource());
  queue_.for_each([&](const SentSegment& s) {
    uint32_t data = s.length() - (s.fin ? 1 : 0) - (s.syn ? 1 : 0);
    if (!s.sacked && data > mss) seqs.push_back(s.seq);
  });
  uint32_t marked = 0;
  for (uint32_t seq : seqs) marked += queue_.mark_lost(seq) ? 1 : 0;
  return marked;
}

}  // namespace veer::core
