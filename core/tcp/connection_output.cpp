#include "core/tcp/connection_internal.h"

namespace veer::core {

using namespace detail;

// --- The receive buffer and the window it offers ------------------------------

int TcpConnection::full_space() const {
  return win_from_space(rcvbuf_, env_.settings.adv_win_scale);
}

uint32_t TcpConnection::window_limit() const {
  // __tcp_select_window(): min(window_clamp, tcp_full_space()).
  uint32_t full = static_cast<uint32_t>(std::max(full_space(), 0));
  return window_clamp_ ? std::min(window_clamp_, full) : full;
}

void TcpConnection::choose_initial_window(uint32_t mss, bool wscale_ok) {
  // tcp_connect_init(), tcp_openreq_init_rwin(): a program that fixed
  // SO_RCVBUF fixes the clamp at what that buffer offers.
  int full = full_space();
  uint32_t clamp = rcvbuf_locked_ ? static_cast<uint32_t>(std::max(full, 0)) : 0;
  InitialWindow w = select_initial_window(full, clamp, mss, wscale_ok, env_.settings);
  rcv_wscale_ = wscale_ok ? w.wscale : 0;
  window_clamp_ = w.window_clamp;
  syn_window_ = std::min(w.rcv_wnd, kMaxUnscaledWindow);
}

void TcpConnection::reserve_receive(size_t n) {
  if (rcv_buf_.free() < n)
    rcv_buf_.grow(std::max({rcv_buf_.capacity() * 2, rcv_buf_.size() + n, kRingStep}));
}

uint32_t TcpConnection::receive_window() const {
  uint32_t max_wnd = kMaxUnscaledWindow << rcv_wscale_;
  uint32_t clamp = std::min(window_limit(), max_wnd);
  uint32_t mss = env_.local_mss;
  // tcp_space(): what the buffer still offers once the queued bytes are
  // taken out (negative past the buffer).
  int64_t space = int64_t{full_space()} - static_cast<int64_t>(rcv_buf_.size());
  uint32_t win = static_cast<uint32_t>(std::clamp<int64_t>(space, 0, clamp));
  // Receiver-side silly window avoidance (RFC 1122 §4.2.3.3).
  if (win < std::min(clamp / 2, mss)) {
    win = 0;
  } else if (rcv_wscale_) {
    // __tcp_select_window(): round up to what the scaled field can express.
    uint32_t unit = 1u << rcv_wscale_;
    win = std::min((win + unit - 1) / unit * unit, max_wnd);
  } else if (win > mss) {
    win = win / mss * mss;
  }
  // Never move the right edge back (RFC 9293 §3.8.6.2.2).
  uint32_t promised = seq_gt(rcv_adv_edge_, rcv_nxt_) ? rcv_adv_edge_ - rcv_nxt_ : 0;
  return std::min(std::max(win, promised), max_wnd);
}

// --- Output ------------------------------------------------------------------

wire::TcpHeader TcpConnection::header(uint32_t seq, uint8_t flags) const {
  wire::TcpHeader h;
  h.src_port = tuple_.local.port;
  h.dst_port = tuple_.remote.port;
  h.seq = seq;
  h.ack = (flags & kAck) ? rcv_nxt_ : 0;
  h.flags = flags;
  h.window = static_cast<uint16_t>(
      std::min<uint32_t>(receive_window() >> rcv_wscale_, kMaxUnscaledWindow));
  if (ts_ok_) h.options.timestamp = wire::TcpOptions::Timestamp{ts_now(), ts_recent_};
  if (urgent_mode() && seq_lt(seq, snd_up_)) {
    // tcp_transmit_skb(): every segment before SND.UP points at it; one too
    // far behind for 16 bits says 0xFFFF, if that stays inside what was sent.
    if (snd_up_ - seq < 0x10000) {
      h.flags |= kUrg;
      h.urgent = static_cast<uint16_t>(snd_up_ - seq);
    } else if (seq_gt(seq + 0xFFFF, snd_nxt_)) {
      h.flags |= kUrg;
      h.urgent = 0xFFFF;
    }
  }
  if (sack_ok_ && (flags & kAck) && !(flags & (kSyn | kRst))) {
    SackBlocks b = sack_.blocks(sack_blocks_that_fit(ts_ok_ ? 10 : 0));
    h.options.sack = b.block;
    h.options.sack_count = b.count;
  }
  return h;
}

void TcpConnection::emit(const wire::TcpHeader& h, Bytes payload) {
  if ((h.flags & kAck) && !(h.flags & kRst)) {
    // Whatever window a segment offers is a promise: remember its right
    // edge. The window of a SYN-ACK is never scaled.
    uint32_t shift = (h.flags & kSyn) ? 0 : rcv_wscale_;
    rcv_adv_edge_ = rcv_nxt_ + (uint32_t{h.window} << shift);
    rcv_wup_ = rcv_nxt_;
    // A D-SACK is reported once (tcp_event_ack_sent() -> tcp_sack_reset()
    // of the duplicate). Every ACK settles what was owed.
    if (h.options.sack_count) sack_.consume_dsack();
    delack_at_.reset();
    ack_scheduled_ = ack_pushed_ = ack_pending_ = false;
    if (quick_acks_ > 0) --quick_acks_;
  }
  if (!payload.empty()) {
    // tcp_event_data_sent(): answering within the ACK timeout of the last
    // arrival marks the connection interactive.
    if (ato_ > Time::zero() && last_snd_ < last_rcv_ && now_ - last_rcv_ < ato_) pingpong_ = true;
    last_snd_ = now_;
  }
  env_.output.send_segment(tuple_, h, payload);
  ++env_.counters.tcp_tx_segments;
  ++segs_out_;
}

void TcpConnection::send_ack() {
  emit(header(snd_nxt_, kAck), {});
}

void TcpConnection::send_rst_for(const wire::TcpSegment& seg) {
  wire::TcpHeader h = reset_for(seg);
  env_.output.send_segment(tuple_, h, {});
  ++env_.counters.tcp_tx_segments;
  ++env_.counters.tcp_rst_sent;
}

void TcpConnection::maybe_send_window_update(bool drained) {
  // tcp_cleanup_rbuf(), after the program read.
  bool time_to_ack = false;
  if (ack_scheduled_) {
    // Every second full segment, or a short segment the reader has now
    // consumed on a one-way connection.
    time_to_ack = rcv_nxt_ - rcv_wup_ > rcv_mss_ || (drained && ack_pushed_ && !pingpong_);
  }
  if (!time_to_ack && in_state(state_, kCanReceive) && !rcv_shutdown_) {
    // Tell the peer when the window at least doubled from a value at most
    // half the maximum.
    uint32_t clamp = std::min(window_limit(), kMaxUnscaledWindow << rcv_wscale_);
    uint32_t now_wnd = seq_gt(rcv_adv_edge_, rcv_nxt_) ? rcv_adv_edge_ - rcv_nxt_ : 0;
    if (2 * now_wnd <= clamp) {
      uint32_t new_wnd = receive_window();
      time_to_ack = new_wnd != 0 && new_wnd >= 2 * now_wnd;
    }
  }
  if (time_to_ack) send_ack();
}

// --- Delayed ACK (Linux tcp_input.c / tcp_output.c) --------------------------

namespace {
constexpr Time kAtoMin = std::chrono::milliseconds(40);      // TCP_ATO_MIN, TCP_DELACK_MIN
constexpr Time kDelackMax = std::chrono::milliseconds(200);  // TCP_DELACK_MAX
constexpr int kMaxQuickAcks = 16;                            // TCP_MAX_QUICKACKS
}  // namespace

void TcpConnection::enter_quickack_mode() {
  // tcp_incr_quickack() + tcp_enter_quickack_mode().
  uint32_t wnd = seq_gt(rcv_adv_edge_, rcv_nxt_) ? rcv_adv_edge_ - rcv_nxt_ : 0;
  int quick = static_cast<int>(std::min<uint32_t>(wnd / (2u * rcv_mss_), kMaxQuickAcks));
  quick_acks_ = std::max(quick_acks_, quick == 0 ? 2 : quick);
  pingpong_ = false;
  ato_ = kAtoMin;
}

void TcpConnection::on_data_received(size_t len, Time now) {
  // tcp_measure_rcv_mss(): the peer's segment size, and whether this one
  // was short (a push: the end of what the peer's program wrote).
  if (len >= rcv_mss_) {
    rcv_mss_ = static_cast<uint16_t>(std::min<size_t>(len, env_.local_mss));
  } else {
    ack_pushed_ = true;
  }
  ack_scheduled_ = true;
  // tcp_event_data_recv(): the first data starts in quick-ACK mode; later
  // the ACK timeout follows the arrival rhythm.
  if (ato_ == Time::zero()) {
    enter_quickack_mode();
  } else {
    Time m = now - last_rcv_;
    if (m <= kAtoMin / 2) {
      ato_ = ato_ / 2 + kAtoMin / 2;
    } else if (m < ato_) {
      ato_ = std::min(ato_ / 2 + m, rto_);
    } else if (m > rto_) {
      enter_quickack_mode();
    }
  }
  last_rcv_ = now;
  // __tcp_ack_snd_check(): ACK now every second full segment (if the window
  // does not shrink) and in quick-ACK mode; otherwise delay.
  uint32_t offered = seq_gt(rcv_adv_edge_, rcv_nxt_) ? rcv_adv_edge_ - rcv_nxt_ : 0;
  bool two_segments = rcv_nxt_ - rcv_wup_ > rcv_mss_ && receive_window() >= offered;
  if (two_segments || (quick_acks_ > 0 && !pingpong_)) {
    ack_pending_ = true;
  } else {
    schedule_delayed_ack(now);
  }
}

void TcpConnection::schedule_delayed_ack(Time now) {
  // tcp_send_delayed_ack()
  ack_scheduled_ = true;
  if (ato_ == Time::zero()) {
    // No data yet, so no ACK timeout learnt (icsk_ack.ato 0): the timer
    // would fire at once.
    ack_pending_ = true;
    return;
  }
  Time ato = ato_ == Time::zero() ? kAtoMin : ato_;
  if (ato > kAtoMin) {
    Time max_ato = std::chrono::milliseconds(500);
    if (pingpong_ || ack_pushed_) max_ato = kDelackMax;
    if (rtt_.has_sample()) max_ato = std::min(max_ato, std::max(rtt_.srtt(), kAtoMin));
    ato = std::min(ato, max_ato);
  }
  Time at = now + ato;
  if (delack_at_) {
    // About to fire anyway: ACK now instead.
    if (*delack_at_ <= now + ato / 4) {
      ack_pending_ = true;
      return;
    }
    at = std::min(at, *delack_at_);
  }
  delack_at_ = at;
}

void TcpConnection::send_data_segment(uint32_t seq, size_t len, bool fin, bool push, Time now) {
  (void)now;
  wire::TcpHeader h = header(seq, kAck);
  size_t offset = seq - snd_una_;
  // PSH where the program's write ended (tcp_push() marked the chunk), or
  // on the last segment of a TSO burst: __tcp_transmit_skb() sets it on
  // every GSO packet, and GSO leaves it on the last segment.
  if (len > 0 && (push || chunks_.push_within(seq, seq + static_cast<uint32_t>(len))))
    h.flags |= kPsh;
  if (fin) h.flags |= kFin;
  size_t n = snd_buf_.peek(offset, env_.scratch.first(len));
  emit(h, Bytes(env_.scratch.data(), n));
  if (seq_lt(seq, snd_max_)) ++env_.counters.tcp_retrans_segments;
  uint32_t end = seq + static_cast<uint32_t>(len) + (fin ? 1 : 0);
  if (seq_gt(end, snd_nxt_)) snd_nxt_ = end;
  if (seq_gt(end, snd_max_)) snd_max_ = end;
  ack_pending_ = false;
}

bool TcpConnection::new_data_fits_window() const {
  size_t sent = snd_nxt_ - snd_una_;
  size_t unsent = snd_buf_.size() - std::min(sent, snd_buf_.size());
  if (unsent == 0) return false;
  uint32_t len = static_cast<uint32_t>(std::min(unsent, size_t{snd_mss_}));
  return seq_le(snd_nxt_ + len, snd_una_ + snd_wnd_);
}

void TcpConnection::send_new_segment(size_t len, bool fin, bool push, Time now) {
  uint32_t seq = snd_nxt_;
  // tcp_event_data_sent(): CUBIC's epoch sees the flight before this segment.
  cwnd_.on_data_sent(recovery_.in_flight(), now);
  send_data_segment(seq, len, fin, push, now);
  recovery_.on_send(seq, seq + static_cast<uint32_t>(len) + (fin ? 1 : 0), now, SendKind::New, rto_,
                    false, fin);
  cwnd_.on_transmit(1);
  if (len < snd_mss_) snd_sml_ = snd_nxt_;
}

void TcpConnection::retransmit(const SentSegment& s, SendKind kind, Time now) {
  // A path MTU that shrank since: send what fits, the scoreboard splits the
  // entry (tcp_fragment()).
  uint32_t data_len = s.length() - (s.fin ? 1 : 0);
  uint32_t len = std::min<uint32_t>(data_len, snd_mss_);
  bool fin = s.fin && len == data_len;
  send_data_segment(s.seq, len, fin, false, now);
  recovery_.on_send(s.seq, s.seq + len + (fin ? 1 : 0), now, kind, rto_, false, fin);
  cwnd_.on_transmit(1);
}

void TcpConnection::xmit_recovery(Rexmit r, Time now) {
  // tcp_xmit_recovery()
  if (r == Rexmit::None) return;
  if (r == Rexmit::New) {
    output(now);
    if (!recovery_.frto_sent_new_data()) return;
  }
  // tcp_xmit_retransmit_queue(): lost segments while the window allows.
  while (cwnd_.cwnd() > recovery_.in_flight()) {
    const SentSegment* s = recovery_.next_retransmit();
    if (!s) break;
    retransmit(*s, SendKind::Retransmit, now);
  }
}

void TcpConnection::output(Time now) {
  output(now, nonagle_);
}

uint32_t TcpConnection::burst_quota() const {
  // tcp_cwnd_test(): at most half the window per burst, so that two bursts
  // are in flight; tcp_tso_segs(): the burst's size from the pacing rate.
  uint32_t cwnd = cwnd_.cwnd();
  uint32_t in_flight = recovery_.in_flight();
  uint32_t room = cwnd > in_flight ? cwnd - in_flight : 1;  // 1: the FIN cwnd lets through
  TsoInputs in;
  in.mss = snd_mss_;
  in.cwnd = cwnd;
  in.ssthresh = cwnd_.ssthresh();
  in.packets_out = recovery_.queue().packets_out();
  if (rtt_.has_sample()) in.srtt = rtt_.srtt();
  if (auto m = recovery_.min_rtt()) in.min_rtt = *m;
  return std::max(1u, std::min({std::max(cwnd >> 1, 1u), room, tso_segs(in, env_.settings)}));
}

void TcpConnection::output(Time now, uint8_t nonagle, bool one) {
  if (!in_state(state_, kCanSend) || !established_) return;
  uint32_t sent_count = 0;
  bool cwnd_limited = false;
  // The next segment from `nxt` and whether it may leave now: the whole
  // segment must fit the peer's window (tcp_snd_wnd_test(), no
  // window-limited runts); the congestion window counts segments, but the
  // final FIN is never held back by it (tcp_cwnd_test()); Nagle with
  // Minshall's refinement and TCP_CORK hold a short last piece of the
  // written data (tcp_nagle_test()): an earlier short segment is
  // unacknowledged, or the socket is corked, unless pushed.
  struct Next {
    size_t len = 0;
    bool fin = false;
    bool none = true;
  };
  auto next_from = [&](uint32_t nxt) {
    Next n;
    if (fin_queued_ && seq_gt(nxt, fin_seq())) return n;
    size_t sent = nxt - snd_una_;
    size_t unsent = snd_buf_.size() - std::min(sent, snd_buf_.size());
    n.len = std::min(unsent, size_t{snd_mss_});
    n.fin = fin_queued_ && n.len == unsent;
    n.none = n.len == 0 && !n.fin;
    return n;
  };
  auto fits_window = [&](uint32_t nxt, const Next& n) {
    return !seq_gt(nxt + static_cast<uint32_t>(n.len), snd_una_ + snd_wnd_);
  };
  auto nagle_holds = [&](uint32_t nxt, const Next& n) {
    size_t unsent = snd_buf_.size() - std::min<size_t>(nxt - snd_una_, snd_buf_.size());
    if (n.len >= snd_mss_ || n.len != unsent || n.fin) return false;
    if (nonagle & kNaglePush) return false;
    if (urgent_mode()) return false;  // tcp_nagle_test(): never for urgent data
    if (nonagle & kNagleCork) return true;
    if (nonagle & kNagleOff) return false;
    return seq_gt(snd_sml_, snd_una_) && seq_le(snd_sml_, nxt);
  };
  for (;;) {
    Next first = next_from(snd_nxt_);
    if (first.none) break;
    if (!fits_window(snd_nxt_, first)) break;
    if (recovery_.in_flight() >= cwnd_.cwnd() && !first.fin) {
      cwnd_limited = true;
      break;
    }
    if (nagle_holds(snd_nxt_, first)) break;
    // One TSO burst (one pass of tcp_write_xmit()): the segments that may
    // leave now, up to the quota; PSH goes on the last of two or more.
    uint32_t quota = burst_quota();
    uint32_t segs = 1;
    uint32_t nxt = snd_nxt_ + static_cast<uint32_t>(first.len) + (first.fin ? 1 : 0);
    while (segs < quota && !(first.fin && segs == 1)) {
      Next n = next_from(nxt);
      if (n.none || !fits_window(nxt, n) || nagle_holds(nxt, n)) break;
      nxt += static_cast<uint32_t>(n.len) + (n.fin ? 1 : 0);
      ++segs;
      if (n.fin) break;
    }
    for (uint32_t i = 0; i < segs; ++i) {
      Next n = next_from(snd_nxt_);
      send_new_segment(n.len, n.fin, segs > 1 && i + 1 == segs, now);
      ++sent_count;
    }
    if (one) break;
  }
  if (sent_count > 0) {
    recovery_.after_new_data(now, rto_, srtt());
    CwndUsage u;
    u.now = now;
    u.sent = sent_count;
    u.in_flight = recovery_.in_flight();
    u.packets_out = recovery_.queue().packets_out();
    u.snd_una = snd_una_;
    u.snd_nxt = snd_nxt_;
    u.cwnd_limited = cwnd_limited;
    u.rto = rto_;
    u.slow_start_after_idle = env_.settings.slow_start_after_idle;
    u.sndbuf_limited = nospace_;
    cwnd_.validate(u);
  }
  // tcp_check_probe_timer(): data waiting and nothing in flight: the
  // peer's window, Nagle or TCP_CORK holds it back, and only the probe
  // timer will move it (tcp_write_wakeup()).
  size_t unsent_total = snd_buf_.size() + (fin_queued_ ? 1 : 0) - flight_size();
  if (unsent_total > 0 && flight_size() == 0 && !persist_at_) {
    persist_at_ = now + rto_;
  }
}

void TcpConnection::send_window_probe(Time now) {
  // tcp_xmit_probe_skb(): an ACK with an old sequence number makes the peer
  // answer with its current window.
  emit(header(snd_una_ - 1, kAck), {});
  ++probes_;
  persist_at_ = now + std::min(rto_ * (int64_t{1} << std::min(probes_, 20)), rtt_.rto_max());
}

}  // namespace veer::core
