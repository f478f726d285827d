#include "core/tcp/connection_internal.h"

namespace veer::core {

using namespace detail;

// --- Timers ------------------------------------------------------------------

void TcpConnection::arm_retransmit(Time now) {
  if (!retransmit_at_) retransmit_at_ = now + rto_;
}

std::optional<Time> TcpConnection::deadline() const {
  std::optional<Time> d;
  for (const auto& t : {retransmit_at_, time_wait_until_, fin_wait2_until_, persist_at_, delack_at_,
                        keepalive_at_}) {
    if (t && (!d || *t < *d)) d = t;
  }
  if (established_ && in_state(state_, kCanSend)) {
    if (auto r = recovery_.deadline(); r && (!d || *r < *d)) d = r;
  }
  return d;
}

TcpTimerView TcpConnection::timer_view() const {
  using K = TcpTimerView::Kind;
  if (retransmit_at_) return {K::Retransmit, *retransmit_at_, retransmits_};
  if (established_ && in_state(state_, kCanSend)) {
    if (auto r = recovery_.deadline()) return {K::Retransmit, *r, retransmits_};
  }
  if (persist_at_) return {K::Persist, *persist_at_, probes_};
  // An orphaned FIN_WAIT2 lives on a TIME_WAIT socket in Linux.
  if (time_wait_until_) return {K::TimeWait, *time_wait_until_, 0};
  if (fin_wait2_until_) return {K::TimeWait, *fin_wait2_until_, 0};
  if (keepalive_at_) return {K::Keepalive, *keepalive_at_, keepalive_probes_};
  return {};
}

void TcpConnection::on_timer(Time now) {
  now_ = now;
  if (keepalive_at_ && *keepalive_at_ <= now) on_keepalive_timer(now);
  if (state_ == TcpState::Closed) return;
  if (delack_at_ && *delack_at_ <= now) {
    // tcp_delack_timer_handler(): a delayed ACK had to wait for the timer,
    // so the next one waits longer, or interactivity was a wrong guess.
    delack_at_.reset();
    if (ack_scheduled_ && state_ != TcpState::Closed) {
      if (!pingpong_) {
        ato_ = std::min(ato_ * 2, rto_);
      } else {
        pingpong_ = false;
        ato_ = std::chrono::milliseconds(40);
      }
      send_ack();
    }
  }
  if (time_wait_until_ && *time_wait_until_ <= now) {
    terminate(0);
    return;
  }
  if (fin_wait2_until_ && *fin_wait2_until_ <= now) {
    // tcp_fin_timeout passed: the orphan is dropped without a segment.
    terminate(0);
    return;
  }
  if (retransmit_at_ && *retransmit_at_ <= now) {
    retransmit_at_.reset();
    on_retransmit_timeout(now);
  }
  if (established_ && in_state(state_, kCanSend)) {
    switch (recovery_.due(now)) {
      case XmitTimerKind::Retransmit:
        on_rto(now);
        break;
      case XmitTimerKind::LossProbe:
        on_loss_probe(now);
        break;
      case XmitTimerKind::ReorderTimeout:
        on_reorder_timeout(now);
        break;
      case XmitTimerKind::None:
        break;
    }
    if (state_ == TcpState::Closed) return;
  }
  if (persist_at_ && *persist_at_ <= now && state_ != TcpState::Closed) {
    // tcp_probe_timer(): only with nothing in flight and something unsent.
    size_t unsent = snd_buf_.size() - std::min<size_t>(flight_size(), snd_buf_.size());
    bool fin_unsent = fin_queued_ && !fin_sent();
    if (flight_size() > 0 || (unsent == 0 && !fin_unsent)) {
      persist_at_.reset();
      probes_ = 0;
    } else if (seq_lt(snd_nxt_, snd_una_ + snd_wnd_)) {
      // tcp_write_wakeup(): the window is open, so a window smaller than
      // the next segment, Nagle or TCP_CORK held the data: the head of it
      // goes now, as much as the window takes, with PSH. Data in flight
      // ends the probing.
      size_t len = std::min<size_t>({snd_una_ + snd_wnd_ - snd_nxt_, snd_mss_, unsent});
      send_new_segment(len, fin_queued_ && len == unsent, true, now);
      persist_at_.reset();
      probes_ = 0;
    } else {
      send_window_probe(now);
    }
  }
}

bool TcpConnection::retransmissions_exhausted(Time now) const {
  if (retransmits_ == 0 || !first_retrans_) return false;
  switch (state_) {
    case TcpState::SynSent:
      // tcp_write_timeout(): time-based, from the first SYN.
      return now - *first_retrans_ >=
             model_timeout(env_.settings.syn_retries, kRtoInitial, rtt_.rto_max());
    case TcpState::SynReceived:
      // A passive open gives up after tcp_synack_retries timeouts
      // (reqsk_timer_handler() counts them).
      return retransmits_ >= env_.settings.synack_retries;
    default:
      break;
  }
  Time elapsed = now - *first_retrans_;
  // TCP_USER_TIMEOUT replaces the retry count with a time (RFC 5482).
  if (user_timeout_ > Time::zero()) return elapsed >= user_timeout_;
  int boundary = env_.settings.retries2;
  if (orphaned_) {
    // tcp_orphan_retries(): nobody will read the error; 0 means 8 while the
    // RTO is still below its maximum (the peer may just be slow).
    boundary = env_.settings.orphan_retries;
    if (boundary == 0 && rto_ < rtt_.rto_max()) boundary = 8;
  }
  return elapsed >= model_timeout(boundary, kRtoMin, rtt_.rto_max());
}

void TcpConnection::on_retransmit_timeout(Time now) {
  // The handshake's own timer: SYN or SYN-ACK again (tcp_retransmit_timer()).
  if (!in_state(state_, state_bit(TcpState::SynSent) | state_bit(TcpState::SynReceived))) return;
  if (retransmissions_exhausted(now)) {
    ++env_.counters.tcp_timeouts;
    if (state_ == TcpState::SynSent) ++env_.counters.tcp_attempt_fails;
    // tcp_write_err(): an ICMP error seen on the way explains the timeout.
    terminate(soft_error_ ? soft_error_ : ETIMEDOUT);
    return;
  }
  ++retransmits_;
  rtt_seq_.reset();  // Karn
  // The first tcp_syn_linear_timeouts SYN retransmissions keep the initial
  // RTO; everything else backs off.
  if (!(state_ == TcpState::SynSent && retransmits_ <= env_.settings.syn_linear_timeouts)) {
    rto_ = std::min(rto_ * 2, rtt_.rto_max());
  }
  ++env_.counters.tcp_retrans_segments;
  send_syn(state_ == TcpState::SynReceived, now);
}

void TcpConnection::on_rto(Time now) {
  // tcp_retransmit_timer() once established.
  if (recovery_.queue().packets_out() == 0) return;
  if (retransmissions_exhausted(now)) {
    ++env_.counters.tcp_timeouts;
    terminate(soft_error_ ? soft_error_ : ETIMEDOUT);
    return;
  }
  TimeoutOutcome o = recovery_.on_retransmit_timeout(now, retransmits_);
  cwnd_.enter_loss(o.reduce_ssthresh, o.cwnd, progress(now));
  if (const SentSegment* head = recovery_.next_retransmit()) {
    retransmit(*head, SendKind::Retransmit, now);
  }
  // retrans_stamp: when this episode's first retransmission left (a fast
  // retransmit's, or this one's), the start of every give-up below. A tail
  // loss probe does not count (tcp_send_loss_probe() bypasses
  // tcp_retransmit_skb()).
  if (!first_retrans_) first_retrans_ = recovery_.retrans_stamp().value_or(now);
  ++retransmits_;
  rto_ = std::min(rto_ * 2, rtt_.rto_max());
  Time arm = rto_;
  if (user_timeout_ > Time::zero()) {
    // tcp_clamp_rto_to_user_timeout(): never sleep past TCP_USER_TIMEOUT.
    Time remaining = user_timeout_ - (now - *first_retrans_);
    arm = remaining <= Time::zero() ? std::chrono::milliseconds(1) : std::min(arm, remaining);
  }
  recovery_.arm_rto(now, arm);
}

void TcpConnection::on_loss_probe(Time now) {
  // tcp_send_loss_probe()
  switch (recovery_.loss_probe(new_data_fits_window())) {
    case TailLossProbe::Probe::NewData: {
      size_t sent = snd_nxt_ - snd_una_;
      size_t unsent = snd_buf_.size() - std::min(sent, snd_buf_.size());
      size_t len = std::min(unsent, size_t{snd_mss_});
      send_new_segment(len, fin_queued_ && len == unsent, false, now);
      recovery_.on_loss_probe_sent(now, rto_, false);
      break;
    }
    case TailLossProbe::Probe::RetransmitLast: {
      const SentSegment* last = recovery_.queue().last();
      if (last) {
        SentSegment copy = *last;
        // The last MSS of it, as Linux fragments a larger tail.
        uint32_t data_len = copy.length() - (copy.fin ? 1 : 0);
        if (data_len > snd_mss_) {
          copy.seq = copy.seq + data_len - snd_mss_;
        }
        retransmit(copy, SendKind::Probe, now);
        recovery_.on_loss_probe_sent(now, rto_, true);
      } else {
        recovery_.on_loss_probe_skipped(now, rto_);
      }
      break;
    }
    case TailLossProbe::Probe::None:
      recovery_.on_loss_probe_skipped(now, rto_);
      break;
  }
}

void TcpConnection::on_reorder_timeout(Time now) {
  // tcp_rack_reo_timeout()
  ReorderOutcome o = recovery_.on_reorder_timeout(now, srtt());
  apply_cwnd_events(o.events, now);
  sync_ca_state(now);
  if (o.cwnd_reduction) {
    CongestionAck ca;
    ca.now = now;
    ca.acked_sacked = 1;
    ca.newly_lost = o.newly_lost;
    ca.in_flight = recovery_.in_flight();
    cwnd_.cong_control(ca);
  }
  xmit_recovery(o.rexmit, now);
  recovery_.on_reorder_timeout_done(now, rto_);
}

void TcpConnection::enter_time_wait(Time now) {
  set_state(TcpState::TimeWait);
  time_wait_entered_ = now;
  time_wait_until_ = now + kTimeWaitLength;
  retransmit_at_.reset();
  fin_wait2_until_.reset();
  persist_at_.reset();
}

// --- Keepalive (Linux tcp_keepalive_timer()) --------------------------------

Time TcpConnection::keepalive_idle() const {
  return std::chrono::seconds(keepalive_.idle_s ? keepalive_.idle_s
                                                : env_.settings.keepalive_time_s);
}

void TcpConnection::set_keepalive(const Keepalive& k, Time now) {
  now_ = now;
  bool was_on = keepalive_.on;
  keepalive_ = k;
  constexpr uint32_t kIdleStates = state_bit(TcpState::Closed) | state_bit(TcpState::SynSent) |
                                   state_bit(TcpState::Listen) | state_bit(TcpState::TimeWait);
  if (!k.on || in_state(state_, kIdleStates)) {
    keepalive_at_.reset();
    return;
  }
  if (!was_on) {
    keepalive_at_ = now + keepalive_idle();
  } else {
    // A new TCP_KEEPIDLE counts from the last sign of life, as Linux does.
    keepalive_at_ = std::max(now, std::max(last_rcv_, last_ack_rcv_) + keepalive_idle());
  }
}

void TcpConnection::on_keepalive_timer(Time now) {
  keepalive_at_.reset();
  constexpr uint32_t kNoProbes = state_bit(TcpState::Closed) | state_bit(TcpState::SynSent) |
                                 state_bit(TcpState::Listen) | state_bit(TcpState::TimeWait);
  if (!keepalive_.on || in_state(state_, kNoProbes)) return;
  Time idle = keepalive_idle();
  if (flight_size() > 0 || !snd_buf_.empty()) {
    // Data in flight has its own timer; look again after a full idle time.
    keepalive_at_ = now + idle;
    return;
  }
  Time elapsed = now - std::max(last_rcv_, last_ack_rcv_);
  if (elapsed < idle) {
    keepalive_at_ = now + (idle - elapsed);
    return;
  }
  int cnt = keepalive_.cnt ? keepalive_.cnt : env_.settings.keepalive_probes;
  if (keepalive_probes_ >= cnt) {
    // tcp_keepalive_timer(): reset the peer and report ETIMEDOUT.
    emit(header(snd_nxt_, kRst | kAck), {});
    ++env_.counters.tcp_rst_sent;
    ++env_.counters.tcp_timeouts;
    terminate(ETIMEDOUT);
    return;
  }
  // tcp_write_wakeup() with nothing to send: an ACK one byte behind.
  emit(header(snd_una_ - 1, kAck), {});
  ++keepalive_probes_;
  keepalive_at_ = now + std::chrono::seconds(keepalive_.intvl_s ? keepalive_.intvl_s
                                                                : env_.settings.keepalive_intvl_s);
}

}  // namespace veer::core
