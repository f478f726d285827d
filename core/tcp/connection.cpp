#include "core/tcp/connection.h"

#include "core/tcp/connection_internal.h"

namespace veer::core {

using namespace wire::tcpflag;

using namespace detail;

wire::TcpHeader reset_for(const wire::TcpSegment& seg) {
  wire::TcpHeader h;
  h.src_port = seg.header.dst_port;
  h.dst_port = seg.header.src_port;
  if (seg.header.has(kAck)) {
    h.seq = seg.header.ack;
    h.flags = kRst;
  } else {
    h.seq = 0;
    h.ack = seg.header.seq + seg.seq_len();
    h.flags = kRst | kAck;
  }
  return h;
}

TcpConnection::TcpConnection(const TcpEnvironment& env, FourTuple tuple, uint32_t iss,
                             uint32_t ts_offset, std::pmr::memory_resource* memory)
    : env_(env),
      tuple_(tuple),
      iss_(iss),
      snd_una_(iss),
      snd_nxt_(iss),
      snd_max_(iss),
      snd_sml_(iss),
      // The rings start empty and grow with use (reserve_send/receive), as
      // Linux allocates skbs only for data: an idle connection holds no
      // buffer memory.
      snd_buf_(0, memory),
      chunks_(memory),
      pushed_seq_(iss),
      sndbuf_(env.settings.wmem_default),
      rcv_buf_(0, memory),
      rcvbuf_(env.settings.rmem_default),
      ofo_(static_cast<size_t>(std::max(env.settings.rmem_default, 4096)), memory),
      recovery_(recovery_settings(env.settings), memory),
      cwnd_(congestion_algorithm(env.settings, memory)),
      rtt_(std::chrono::microseconds(env.settings.rto_min_us),
           std::chrono::milliseconds(env.settings.rto_max_ms)),
      ts_offset_(ts_offset) {
  // tcp_initialize_rcv_mss(): until data shows the peer's size, assume 536.
  rcv_mss_ = std::min<uint16_t>(env.local_mss, kDefaultMss);
  snd_up_ = iss;
}

void TcpConnection::set_state(TcpState s) {
  if (env_.state_observer && s != state_) env_.state_observer->state_changed(tuple_, state_, s);
  state_ = s;
  if (s == TcpState::Established || s == TcpState::CloseWait) was_established_ = true;
  if (s == TcpState::Established) {
    last_ack_rcv_ = now_;
    if (keepalive_.on && !keepalive_at_) keepalive_at_ = now_ + keepalive_idle();
  }
}

// --- Opening -----------------------------------------------------------------

void TcpConnection::open_active(Time now) {
  now_ = now;
  set_state(TcpState::SynSent);
  // tcp_connect_init(): the SYN's window from the whole receive buffer. A
  // connection that took over a TIME_WAIT already has a TS.Recent, and the
  // timestamp option comes off the MSS it rounds to (65160).
  uint32_t mss = adv_mss();
  if (ts_recent_stamp_ && env_.settings.timestamps != 0) mss -= 12;
  choose_initial_window(mss, env_.settings.window_scaling);
  first_retrans_ = now;  // Linux tcp_connect(): retrans_stamp = SYN time
  rtt_seq_ = iss_;
  rtt_sent_ = now;
  send_syn(false, now);
  ++env_.counters.tcp_active_opens;
}

void TcpConnection::open_passive(const wire::TcpSegment& syn, Time now) {
  now_ = now;
  irs_ = syn.header.seq;
  rcv_nxt_ = irs_ + 1;
  rcv_adv_edge_ = rcv_wup_ = rcv_nxt_;
  negotiate_options(syn.header.options, false);
  // tcp_openreq_init_rwin(): the MSS the window is a multiple of leaves
  // room for the timestamp option.
  choose_initial_window(adv_mss() - (ts_ok_ ? 12 : 0), wscale_ok_);
  snd_wnd_ = syn.header.window;
  snd_wl1_ = syn.header.seq;
  snd_wl2_ = iss_;
  set_state(TcpState::SynReceived);
  first_retrans_ = now;
  rtt_seq_ = iss_;
  rtt_sent_ = now;
  send_syn(true, now);
  ++env_.counters.tcp_passive_opens;
}

void TcpConnection::open_from_cookie(const wire::TcpSegment& ack, uint16_t mss, bool ts, bool sack,
                                     std::optional<uint8_t> wscale, Time now) {
  now_ = now;
  const wire::TcpHeader& h = ack.header;
  irs_ = h.seq - 1;
  rcv_nxt_ = h.seq;
  rcv_adv_edge_ = rcv_wup_ = rcv_nxt_;
  snd_una_ = snd_nxt_ = snd_max_ = snd_sml_ = snd_up_ = iss_ + 1;
  wire::TcpOptions peer;
  peer.mss = mss;
  peer.sack_permitted = sack;
  peer.window_scale = wscale;
  if (ts && h.options.timestamp) {
    peer.timestamp = wire::TcpOptions::Timestamp{h.options.timestamp->value, 0};
  }
  negotiate_options(peer, false);
  choose_initial_window(adv_mss() - (ts_ok_ ? 12 : 0), wscale_ok_);
  rcv_adv_edge_ = rcv_nxt_ + syn_window_;  // what the cookie SYN-ACK offered
  snd_wnd_ = uint32_t{h.window} << snd_wscale_;
  snd_wl1_ = h.seq;
  snd_wl2_ = h.ack;
  set_state(TcpState::Established);
  on_established(now);
  ++env_.counters.tcp_passive_opens;
  process_data_and_fin(ack, now);
  output(now);
  if (ack_pending_) send_ack();
}

void TcpConnection::send_syn(bool with_ack, Time now) {
  wire::TcpHeader h = header(iss_, with_ack ? (kSyn | kAck) : kSyn);
  const TcpSettings& t = env_.settings;
  bool offer = !with_ack;
  // The window in a SYN is never scaled (tcp_select_initial_window()).
  h.window = static_cast<uint16_t>(syn_window_);
  // Offer what the knobs allow (SYN) or accept what the peer offered
  // (SYN-ACK), in Linux's option order (tcp_syn_options(), tcp_synack_options()).
  // TSecr is TS.Recent: 0 on a fresh SYN, the TIME_WAIT's on a takeover.
  h.options.mss = adv_mss();
  if (offer ? t.sack : sack_ok_) h.options.sack_permitted = true;
  if (offer ? t.timestamps != 0 : ts_ok_) {
    h.options.timestamp = wire::TcpOptions::Timestamp{ts_now(), ts_recent_};
  } else {
    h.options.timestamp.reset();
  }
  if (offer ? t.window_scaling : wscale_ok_) h.options.window_scale = rcv_wscale_;
  emit(h, {});
  snd_nxt_ = iss_ + 1;
  if (seq_gt(snd_nxt_, snd_max_)) snd_max_ = snd_nxt_;
  arm_retransmit(now);
}

// --- User calls --------------------------------------------------------------

Result<size_t> TcpConnection::recv(MutableBytes out, bool peek, Time now) {
  now_ = now;
  if (!rcv_buf_.empty()) {
    // tcp_recvmsg_locked(): a read ends at the urgent mark; one that starts
    // there steps over the urgent byte unless SO_OOBINLINE keeps it in line.
    size_t skip = 0;
    size_t limit = rcv_buf_.size();
    if (urg_data_) {
      uint32_t off = urg_seq_ - copied_seq();
      if (off < rcv_buf_.size()) {
        if (off > 0) {
          limit = off;
        } else if (!urg_inline_) {
          skip = 1;
        }
      }
    }
    size_t n = rcv_buf_.peek(skip, out.first(std::min(out.size(), limit - skip)));
    if (!peek) {
      rcv_buf_.pop(skip + n);
      if (urg_data_ && seq_gt(copied_seq(), urg_seq_)) urg_data_ = 0;  // past the mark
      adjust_receive_space(now);
      maybe_send_window_update(rcv_buf_.empty());
    }
    if (n > 0 || out.empty()) return n;
    // Only the urgent byte was there, and it is not data.
  }
  // tcp_recvmsg_locked()'s order when nothing is queued.
  if (peer_fin_) return size_t{0};
  if (error_) return Result<size_t>::error(take_error());
  if (rcv_shutdown_) return size_t{0};
  if (state_ == TcpState::Closed) return Result<size_t>::error(ENOTCONN);
  return Result<size_t>::error(EAGAIN);
}

Result<size_t> TcpConnection::recv_urgent(MutableBytes out, bool peek) {
  // tcp_recv_urg()
  if (urg_inline_ || !urg_data_ || urg_data_ == kUrgRead) return Result<size_t>::error(EINVAL);
  if (state_ == TcpState::Closed && !peer_fin_) return Result<size_t>::error(ENOTCONN);
  if (urg_data_ & kUrgValid) {
    std::byte c{static_cast<uint8_t>(urg_data_ & 0xff)};
    if (!peek) urg_data_ = kUrgRead;
    if (out.empty()) return size_t{0};
    out[0] = c;
    return size_t{1};
  }
  if (state_ == TcpState::Closed || rcv_shutdown_) return size_t{0};
  return Result<size_t>::error(EAGAIN);  // never blocks, as in BSD
}

Errno TcpConnection::shutdown_write(Time now) {
  now_ = now;
  snd_shutdown_ = true;
  switch (state_) {  // tcp_close_state()
    case TcpState::SynSent:
      set_state(TcpState::Closed);
      retransmit_at_.reset();
      return 0;
    case TcpState::SynReceived:
    case TcpState::Established:
      set_state(TcpState::FinWait1);
      break;
    case TcpState::CloseWait:
      set_state(TcpState::LastAck);
      break;
    default:
      return 0;
  }
  fin_queued_ = true;
  output(now);
  return 0;
}

void TcpConnection::shutdown_read() {
  rcv_shutdown_ = true;
}

void TcpConnection::close(Time now) {
  now_ = now;
  orphaned_ = true;
  rcv_shutdown_ = true;
  if (state_ == TcpState::SynSent || state_ == TcpState::Closed) {
    terminate(0);
    return;
  }
  if (!rcv_buf_.empty() &&
      in_state(state_, state_bit(TcpState::SynReceived) | state_bit(TcpState::Established) |
                           state_bit(TcpState::CloseWait) | state_bit(TcpState::FinWait1) |
                           state_bit(TcpState::FinWait2))) {
    // tcp_close(): unread data means the peer's data is lost; say so with a
    // RST instead of a FIN (RFC 2525 §2.17).
    abort(now);
    return;
  }
  if (state_ == TcpState::FinWait2) {
    fin_wait2_until_ = now + std::chrono::seconds(env_.settings.fin_timeout_s);
    return;
  }
  shutdown_write(now);
}

void TcpConnection::abort(Time now) {
  now_ = now;
  if (in_state(state_, state_bit(TcpState::SynReceived) | state_bit(TcpState::Established) |
                           state_bit(TcpState::FinWait1) | state_bit(TcpState::FinWait2) |
                           state_bit(TcpState::CloseWait) | state_bit(TcpState::Closing) |
                           state_bit(TcpState::LastAck))) {
    wire::TcpHeader h = header(snd_nxt_, kRst | kAck);
    h.window = 0;
    emit(h, {});
    ++env_.counters.tcp_rst_sent;
  }
  terminate(0);
}

void TcpConnection::terminate(int err) {
  if (err) error_ = err;
  keepalive_at_.reset();
  delack_at_.reset();
  set_state(TcpState::Closed);
  rcv_shutdown_ = snd_shutdown_ = true;  // tcp_done(): SHUTDOWN_MASK
  retransmit_at_.reset();
  time_wait_until_.reset();
  fin_wait2_until_.reset();
  persist_at_.reset();
}

int TcpConnection::take_error() {
  int e = error_;
  error_ = 0;
  return e;
}

uint32_t TcpConnection::readiness() const {
  // tcp_poll()
  uint32_t mask = 0;
  if ((rcv_shutdown_ && snd_shutdown_) || state_ == TcpState::Closed) mask |= 0x010;  // HUP
  if (rcv_shutdown_) mask |= 0x001 | 0x2000;                                          // IN|RDHUP
  if (!in_state(state_, state_bit(TcpState::SynSent) | state_bit(TcpState::SynReceived))) {
    // At the mark, the urgent byte alone does not make the socket readable
    // unless it is read in line (tcp_poll()'s target).
    size_t target = 1;
    if (urg_data_ && urg_seq_ == copied_seq() && !urg_inline_) ++target;
    if (rcv_buf_.size() >= target) mask |= 0x001;
    if (urg_data_ & kUrgValid) mask |= 0x002;  // POLLPRI
    if (!snd_shutdown_) {
      if (writable()) {
        mask |= 0x004;
      } else {
        nospace_ = true;  // tcp_poll() sets SOCK_NOSPACE: an ACK may now grow the buffer
      }
    } else {
      mask |= 0x004;
    }
  }
  if (error_) mask |= 0x008;
  return mask;
}

// --- SEGMENT ARRIVES (RFC 9293 §3.10.7) ------------------------------------

void TcpConnection::on_segment(const wire::TcpSegment& seg, Time now) {
  now_ = now;
  ++segs_in_;
  if (seg.header.has(kRst)) ++env_.counters.tcp_rst_received;
  switch (state_) {
    case TcpState::Closed:
    case TcpState::Listen:
      return;  // the stack answers for these
    case TcpState::SynSent:
      segment_in_syn_sent(seg, now);
      break;
    default:
      segment_in_synchronized(seg, now);
      break;
  }
  if (state_ != TcpState::Closed) output(now);
  if (ack_pending_) send_ack();
  if (queue_shrunk_) {
    queue_shrunk_ = false;
    on_send_space_freed();
  }
}

void TcpConnection::segment_in_syn_sent(const wire::TcpSegment& seg, Time now) {
  const wire::TcpHeader& h = seg.header;
  // First: check the ACK bit.
  bool ack_ok = false;
  if (h.has(kAck)) {
    if (seq_le(h.ack, iss_) || seq_gt(h.ack, snd_max_)) {
      if (!h.has(kRst)) send_rst_for(seg);
      return;
    }
    ack_ok = seq_lt(snd_una_, h.ack) && seq_le(h.ack, snd_nxt_);
  }
  // Second: the RST bit.
  if (h.has(kRst)) {
    if (ack_ok) {
      ++env_.counters.tcp_attempt_fails;
      terminate(ECONNREFUSED);
    }
    return;
  }
  // Fourth: the SYN bit.
  if (!h.has(kSyn)) return;
  irs_ = h.seq;
  rcv_nxt_ = h.seq + 1;
  // Our SYN's window applies from the peer's first byte (tp->rcv_wnd).
  rcv_wup_ = rcv_nxt_;
  rcv_adv_edge_ = rcv_nxt_ + syn_window_;
  negotiate_options(h.options, true);
  if (ack_ok) {
    snd_una_ = snd_up_ = h.ack;
    snd_wnd_ = h.window;
    snd_wl1_ = h.seq;
    snd_wl2_ = h.ack;
    if (rtt_seq_ && retransmits_ == 0) {
      rtt_.sample(now - rtt_sent_);
    } else if (ts_ok_ && h.options.timestamp && h.options.timestamp->echo) {
      rtt_.sample(std::chrono::milliseconds(ts_now() - h.options.timestamp->echo));
    }
    set_state(TcpState::Established);
    on_established(now);
    ack_pending_ = true;
    process_data_and_fin(seg, now);
  } else {
    // Simultaneous open: SYN_RECEIVED, answer with SYN-ACK on the same ISS.
    set_state(TcpState::SynReceived);
    snd_wnd_ = h.window;
    snd_wl1_ = h.seq;
    send_syn(true, now);
  }
}

bool TcpConnection::acceptable(const wire::TcpSegment& seg) const {
  uint32_t len = seg.seq_len();
  uint32_t wnd = seq_gt(rcv_adv_edge_, rcv_nxt_) ? rcv_adv_edge_ - rcv_nxt_ : 0;
  uint32_t seq = seg.header.seq;
  if (len == 0) {
    if (wnd == 0) return seq == rcv_nxt_;
    return seq_in(seq, rcv_nxt_, rcv_nxt_ + wnd);
  }
  // tcp_sequence(): with the window closed, a segment at RCV.NXT is still
  // processed (its ACK counts); tcp_data_queue() then drops its data.
  if (wnd == 0) return seq == rcv_nxt_;
  return seq_in(seq, rcv_nxt_, rcv_nxt_ + wnd) || seq_in(seq + len - 1, rcv_nxt_, rcv_nxt_ + wnd);
}

void TcpConnection::segment_in_time_wait(const wire::TcpSegment& seg, Time now) {
  // tcp_timewait_state_process(): TIME_WAIT takes no data and answers little.
  // (A SYN that may reopen the 4-tuple was taken by the stack already.)
  const wire::TcpHeader& h = seg.header;
  const bool paws = paws_reject(seg);
  if (!paws && h.seq == rcv_nxt_ && (seg.seq_len() == 0 || h.has(kRst))) {
    // In window: only a RST or a bare ACK can be exactly here.
    if (h.has(kRst)) {
      // TIME_WAIT assassination (RFC 1337): Linux lets it happen unless
      // tcp_rfc1337 is set, and then ignores the RST and keeps waiting.
      if (!env_.settings.rfc1337) {
        terminate(0);
        return;
      }
    } else {
      time_wait_until_ = now + kTimeWaitLength;
    }
    if (h.options.timestamp) {
      ts_recent_ = h.options.timestamp->value;
      ts_recent_stamp_ = now;
    }
    return;
  }
  // Out of window: everything but a RST is ACKed (a RST is ignored, never
  // challenged); an ACK or an old timestamp restarts the wait.
  if (h.has(kRst)) return;
  ++env_.counters.tcp_out_of_window;
  if (paws || h.has(kAck)) time_wait_until_ = now + kTimeWaitLength;
  // tcp_oow_rate_limited(): a segment that carries data or a FIN is always
  // answered; bare ACKs and SYNs at most once per tcp_invalid_ratelimit.
  if (seg.seq_len() == 0 || h.has(kSyn)) {
    if (last_oow_ack_ && now - *last_oow_ack_ < kInvalidRateLimit) return;
    last_oow_ack_ = now;
  }
  ack_pending_ = true;
}

void TcpConnection::segment_in_synchronized(const wire::TcpSegment& seg, Time now) {
  const wire::TcpHeader& h = seg.header;
  if (state_ == TcpState::TimeWait) {
    segment_in_time_wait(seg, now);
    return;
  }
  if (state_ == TcpState::SynReceived && h.has(kSyn) && h.seq == irs_) {
    if (!h.has(kAck)) {
      // A retransmitted SYN for our SYN-ACK: answer it again (tcp_check_req()).
      send_syn(true, now);
      return;
    }
    if (h.ack == snd_nxt_) {
      // Simultaneous open: the peer's SYN-ACK for our SYN completes the
      // handshake (tcp_validate_incoming() lets exactly this one through).
      if (!process_ack(seg, now)) return;
      // Its SYN was ACKed in our SYN-ACK already: tcp_data_queue() takes it
      // as a retransmission, ACKed at once with a D-SACK for it.
      enter_quickack_mode();
      if (sack_ok_) sack_.on_duplicate(h.seq, h.seq + 1, rcv_nxt_);
      ack_pending_ = true;
      process_data_and_fin(seg, now);
      return;
    }
  }
  // RFC 7323 §5 PAWS, before the sequence check as Linux does
  // (tcp_validate_incoming()): an old timestamp means an old duplicate.
  if (paws_reject(seg)) {
    if (!h.has(kRst)) ack_pending_ = true;
    return;
  }
  // First: sequence number acceptability. Old duplicates, including a
  // retransmitted FIN in TIME_WAIT, fall out here and are answered with an
  // ACK (TIME_WAIT also restarts its 2MSL wait, RFC 9293 §3.10.7.4).
  if (!acceptable(seg)) {
    if (!h.has(kRst)) {
      ++env_.counters.tcp_out_of_window;
      // tcp_send_dupack(): old data was received twice; say so (D-SACK).
      uint32_t end = h.seq + seg.seq_len();
      if (end != h.seq && seq_lt(h.seq, rcv_nxt_)) {
        enter_quickack_mode();
        if (sack_ok_) sack_.on_duplicate(h.seq, end, rcv_nxt_);
      }
      ack_pending_ = true;
    }
    return;
  }
  // Second: RST.
  if (h.has(kRst)) {
    process_rst(seg, now);
    return;
  }
  // Fourth: SYN in a synchronized state → challenge ACK (RFC 5961 §4).
  if (h.has(kSyn)) {
    ack_pending_ = true;
    return;
  }
  // Fifth: ACK.
  if (!h.has(kAck)) return;
  if (!process_ack(seg, now)) return;
  // Sixth: the URG bit.
  if (h.has(kUrg) || urg_data_ == kUrgNotYet) process_urgent(seg);
  // Seventh/eighth: data and FIN.
  process_data_and_fin(seg, now);
}

void TcpConnection::process_urgent(const wire::TcpSegment& seg) {
  const wire::TcpHeader& h = seg.header;
  if (h.has(kUrg)) {
    // tcp_check_urg(): BSD's pointer is one past the urgent byte; RFC 1122's
    // (tcp_stdurg) is the byte itself.
    uint32_t ptr = h.urgent;
    if (ptr && !env_.settings.stdurg) --ptr;
    ptr += h.seq;
    bool fresh = !seq_gt(copied_seq(), ptr) && !seq_lt(ptr, rcv_nxt_) &&
                 !(urg_data_ && !seq_gt(ptr, urg_seq_));
    if (fresh) {
      // A new mark while the old urgent byte is next to read: that byte is
      // dropped from the stream rather than read as data.
      if (urg_seq_ == copied_seq() && urg_data_ && !urg_inline_ && !rcv_buf_.empty()) {
        rcv_buf_.pop(1);
      }
      urg_data_ = kUrgNotYet;
      urg_seq_ = ptr;
      ++urg_marks_;
      ++env_.counters.tcp_urgent_marks;
    }
  }
  if (urg_data_ == kUrgNotYet) {
    // Is the urgent byte in this segment?
    uint32_t off = urg_seq_ - h.seq - (h.has(kSyn) ? 1 : 0);
    if (off < seg.payload.size()) {
      urg_data_ = static_cast<uint16_t>(kUrgValid | static_cast<uint8_t>(seg.payload[off]));
    }
  }
}

void TcpConnection::process_rst(const wire::TcpSegment& seg, Time now) {
  (void)now;
  // RFC 5961 §3.2: only an exact match resets; in-window gets a challenge ACK.
  if (seg.header.seq != rcv_nxt_) {
    ack_pending_ = true;
    return;
  }
  switch (state_) {  // tcp_reset()
    case TcpState::SynReceived:
      terminate(ECONNREFUSED);
      break;
    case TcpState::CloseWait:
      terminate(EPIPE);
      break;
    case TcpState::Closing:
    case TcpState::LastAck:
    case TcpState::TimeWait:
      terminate(0);
      break;
    default:
      ++env_.counters.tcp_estab_resets;
      terminate(ECONNRESET);
      break;
  }
}

bool TcpConnection::process_ack(const wire::TcpSegment& seg, Time now) {
  const wire::TcpHeader& h = seg.header;
  if (state_ == TcpState::SynReceived) {
    if (!(seq_lt(snd_una_, h.ack) && seq_le(h.ack, snd_max_))) {
      send_rst_for(seg);
      return false;
    }
    if (rtt_seq_ && retransmits_ == 0) rtt_.sample(now - rtt_sent_);  // tcp_synack_rtt_meas()
    set_state(TcpState::Established);
    snd_wnd_ = uint32_t{h.window} << snd_wscale_;
    snd_wl1_ = h.seq;
    snd_wl2_ = h.ack;
    on_established(now);
  }
  if (seq_gt(h.ack, snd_max_)) {
    // Acknowledges something not yet sent (RFC 5961 §5.2): ACK and drop.
    ack_pending_ = true;
    return false;
  }
  if (seq_lt(h.ack, snd_una_ - std::max(max_window_, 65535u))) {
    // Too old to be believable (RFC 5961 §5.2): challenge ACK, drop.
    ack_pending_ = true;
    return false;
  }
  // tcp_ack(): any acceptable ACK shows the peer is alive.
  last_ack_rcv_ = now;
  keepalive_probes_ = 0;
  // Window update (RFC 9293 §3.10.7.4, fifth step; tcp_ack_update_window()).
  uint32_t prior_wnd = snd_wnd_;
  bool window_update = seq_lt(snd_wl1_, h.seq) || (snd_wl1_ == h.seq && seq_le(snd_wl2_, h.ack));
  if (window_update) {
    uint32_t wnd = uint32_t{h.window} << snd_wscale_;
    // tcp_ack_update_window(): a window that changes while data waits is
    // the moment an idle connection restarts slow start.
    if (wnd != snd_wnd_ && established_ && seq_gt(write_seq(), snd_nxt_)) {
      cwnd_.restart_after_idle(now, rto_, recovery_.queue().packets_out(),
                               env_.settings.slow_start_after_idle);
    }
    snd_wnd_ = wnd;
    max_window_ = std::max(max_window_, snd_wnd_);
    snd_wl1_ = h.seq;
    snd_wl2_ = h.ack;
    if (snd_wnd_ > 0) {
      persist_at_.reset();
      probes_ = 0;
    }
  }
  if (persist_at_ && snd_wnd_ == 0 && flight_size() == 0) {
    // tcp_ack_probe(): an answer that leaves the window shut restarts the
    // probe timer from its arrival, with the backoff reached so far.
    persist_at_ = now + std::min(rto_ * (int64_t{1} << std::min(probes_, 20)), rtt_.rto_max());
  }
  bool fin_acked = false;
  if (seq_gt(h.ack, snd_una_)) {
    uint32_t acked = h.ack - snd_una_;
    fin_acked = fin_queued_ && seq_gt(h.ack, fin_seq());
    snd_buf_.pop(std::min<size_t>(acked, snd_buf_.size()));
    bytes_acked_ += acked;
    snd_una_ = h.ack;
    if (!seq_gt(snd_up_, snd_una_)) snd_up_ = snd_una_;  // urgent data acknowledged
    chunks_.release(snd_una_);
    queue_shrunk_ = true;  // SOCK_QUEUE_SHRUNK: tcp_check_space() after this segment
    if (seq_lt(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
  }
  if (established_) recovery_on_ack(seg, window_update, prior_wnd, now);
  if (fin_acked) our_fin_acked(now);
  // The ACK is acceptable: TS.Recent may advance (tcp_replace_ts_recent()).
  update_ts_recent(seg);
  return state_ != TcpState::Closed;
}

void TcpConnection::on_established(Time now) {
  if (established_) return;
  established_ = true;
  retransmit_at_.reset();
  max_window_ = std::max(max_window_, snd_wnd_);
  recovery_.reset(snd_una_);
  recovery_.set_sack(sack_ok_);
  if (rtt_.has_sample()) recovery_.on_handshake_rtt(now, rtt_.srtt());
  rto_ = rtt_.rto();
  // tcp_init_transfer(): a SYN (or SYN-ACK) sent more than twice means a
  // window of one segment.
  cwnd_.init_transfer(retransmits_ > 1, progress(now));
  // tcp_init_buffer_space(): the send buffer for the initial window, and
  // no window larger than the receive buffer offers now.
  expand_send_buffer();
  window_clamp_ = std::min(window_clamp_, static_cast<uint32_t>(std::max(full_space(), 0)));
  pushed_seq_ = write_seq();
  // tcp_init_buffer_space(): the first RTT's worth of reading to beat.
  rcvq_space_ = 10u * adv_mss();
  rcvq_seq_ = copied_seq();
  rcvq_time_ = now;
  retransmits_ = 0;
  first_retrans_.reset();
  rtt_seq_.reset();
}

void TcpConnection::recovery_on_ack(const wire::TcpSegment& seg, bool window_update,
                                    uint32_t prior_wnd, Time now) {
  const wire::TcpHeader& h = seg.header;
  AckInput in;
  in.ack = h.ack;
  if (sack_ok_) in.sacks = std::span(h.options.sack.data(), h.options.sack_count);
  in.now = now;
  in.rto = rto_;
  in.mss = snd_mss_;
  in.max_window = std::max(max_window_, 1u);
  in.has_data = !seg.payload.empty();
  in.syn_or_fin = h.has(kSyn) || h.has(kFin);
  in.window_update = window_update;
  in.window_changed = snd_wnd_ != prior_wnd;
  if (ts_ok_ && h.options.timestamp && h.options.timestamp->echo) {
    in.ts_echo = std::chrono::milliseconds(h.options.timestamp->echo - ts_offset_);
  }
  in.can_send_new_data = new_data_fits_window();
  AckOutcome out = recovery_.on_ack(in, rtt_);
  if (out.scoreboard.invalid) return;
  if (out.rtt_sampled) rto_ = rtt_.rto();  // a fresh sample ends any backoff
  if (out.reset_retransmits) {
    retransmits_ = 0;
    first_retrans_.reset();
  }
  AckSample sample;
  sample.at = progress(now);
  sample.pkts_acked = out.scoreboard.packets_acked;
  if (out.rtt_sampled) sample.rtt = out.rtt;
  cwnd_.pkts_acked(sample);
  apply_cwnd_events(out.events, now);
  sync_ca_state(now);
  CongestionAck ca;
  ca.now = now;
  ca.acked_sacked = out.delivered;
  ca.newly_lost = out.newly_lost;
  ca.in_flight = recovery_.in_flight();
  ca.snd_una_advanced = out.scoreboard.una_advanced;
  ca.may_raise_cwnd = out.may_raise_cwnd;
  cwnd_.cong_control(ca);
  xmit_recovery(out.rexmit, now);
}

bool TcpConnection::set_congestion_control(std::string_view name,
                                           std::pmr::memory_resource* memory) {
  auto cc = make_congestion_control(name, memory);
  if (!cc) return false;
  bool synchronized = !in_state(state_, state_bit(TcpState::Closed) | state_bit(TcpState::Listen) |
                                            state_bit(TcpState::SynSent));
  cwnd_.set_algorithm(std::move(cc), synchronized, progress(now_));
  return true;
}

TcpInfo TcpConnection::info(Time now) const {
  using std::chrono::duration_cast;
  using us = std::chrono::microseconds;
  using ms = std::chrono::milliseconds;
  TcpInfo i;
  i.state = static_cast<uint8_t>(state_);
  i.ca_state = static_cast<uint8_t>(cwnd_.ca_state());
  i.retransmits = static_cast<uint8_t>(std::min(retransmits_, 255));
  i.probes = static_cast<uint8_t>(std::min(std::max(probes_, keepalive_probes_), 255));
  i.backoff = i.retransmits;
  if (ts_ok_) i.options |= kTcpiOptTimestamps;
  if (sack_ok_) i.options |= kTcpiOptSack;
  if (wscale_ok_) {
    i.options |= kTcpiOptWscale;
    i.snd_wscale = snd_wscale_;
    i.rcv_wscale = rcv_wscale_;
  }
  i.rto_us = static_cast<uint32_t>(duration_cast<us>(rto_).count());
  i.ato_us = static_cast<uint32_t>(duration_cast<us>(ato_).count());
  i.snd_mss = snd_mss_;
  i.rcv_mss = rcv_mss_;
  const RetransmitQueue& q = recovery_.queue();
  i.unacked = q.packets_out();
  i.sacked = q.sacked_out();
  i.lost = q.lost_out();
  i.retrans = q.retrans_out();
  auto since = [&](Time t) { return static_cast<uint32_t>(duration_cast<ms>(now - t).count()); };
  i.last_data_sent_ms = since(last_snd_);
  i.last_data_recv_ms = since(last_rcv_);
  i.last_ack_recv_ms = since(last_ack_rcv_);
  i.pmtu = path_mtu_ ? path_mtu_ : env_.local_mss + 40u;
  i.rcv_ssthresh = window_limit();
  if (rtt_.has_sample()) {
    i.rtt_us = static_cast<uint32_t>(duration_cast<us>(rtt_.srtt()).count());
    i.rttvar_us = static_cast<uint32_t>(duration_cast<us>(rtt_.rttvar()).count());
  }
  i.snd_ssthresh = cwnd_.ssthresh();
  i.snd_cwnd = cwnd_.cwnd();
  i.advmss = adv_mss();
  i.reordering = recovery_.reordering();
  i.rcv_space = static_cast<uint32_t>(rcvq_space_);
  i.rcv_rtt_us = static_cast<uint32_t>(rcv_rtt_us8_ >> 3);
  i.total_retrans = q.total_retrans();
  i.bytes_acked = bytes_acked_;
  i.bytes_received = bytes_received_;
  i.segs_out = segs_out_;
  i.segs_in = segs_in_;
  if (auto m = recovery_.min_rtt()) {
    i.min_rtt_us = static_cast<uint32_t>(duration_cast<us>(*m).count());
  }
  i.snd_wnd = snd_wnd_;
  i.rcv_wnd = seq_gt(rcv_adv_edge_, rcv_nxt_) ? rcv_adv_edge_ - rcv_nxt_ : 0;
  return i;
}

void TcpConnection::adjust_receive_space(Time now) {
  // tcp_rcv_space_adjust(): once per receiver-measured RTT, if the program
  // read more than in the last one (less what still waits in the queue),
  // that is the new measure, and the buffer grows to offer twice it, more
  // while the sender is still speeding up (tcp_rcvbuf_grow()), up to
  // tcp_rmem[2] (net.ipv4.tcp_moderate_rcvbuf), unless the program fixed
  // SO_RCVBUF.
  if (rcv_rtt_us8_ == 0) return;
  if (now - rcvq_time_ < std::chrono::microseconds(rcv_rtt_us8_ >> 3)) return;
  int64_t copied = static_cast<int64_t>(copied_seq() - rcvq_seq_) -
                   static_cast<int64_t>(rcv_nxt_ - copied_seq());
  if (copied > static_cast<int64_t>(rcvq_space_)) {
    uint64_t old_space = std::max<size_t>(rcvq_space_, 1);
    auto new_space = static_cast<uint64_t>(copied);
    rcvq_space_ = static_cast<size_t>(new_space);
    if (env_.settings.moderate_rcvbuf && !rcvbuf_locked_) {
      // What was read is one RTT late; a sender in slow start doubles.
      uint64_t rcvwin = new_space << 1;
      rcvwin += ((rcvwin << 1) * (new_space - old_space) / old_space);
      if (size_t n = ofo_.range_count(); n > 0) rcvwin += ofo_.range(n - 1).right - rcv_nxt_;
      int window = static_cast<int>(std::min<uint64_t>(rcvwin, INT_MAX / 4));
      int rcvbuf =
          std::min(space_from_win(window, env_.settings.adv_win_scale), env_.settings.rmem_max);
      if (rcvbuf > rcvbuf_) {
        rcvbuf_ = rcvbuf;
        // The window clamp follows along.
        window_clamp_ = static_cast<uint32_t>(win_from_space(rcvbuf, env_.settings.adv_win_scale));
      }
    }
  }
  rcvq_seq_ = copied_seq();
  rcvq_time_ = now;
}

void TcpConnection::update_receive_rtt(Time sample, bool window_based) {
  // tcp_rcv_rtt_update(): the smallest sample wins at once. A window-based
  // sample only ever lowers the estimate (it is an upper bound); a
  // timestamp sample above it is averaged in (1/8), unless data still waits
  // to be read (the peer's echo then also measured our reader).
  uint64_t us =
      std::max<int64_t>(std::chrono::duration_cast<std::chrono::microseconds>(sample).count(), 1);
  uint64_t m = us << 3;
  if (rcv_rtt_us8_ == 0 || m < rcv_rtt_us8_) {
    rcv_rtt_us8_ = m;
    return;
  }
  if (window_based || rcv_nxt_ != copied_seq()) return;
  rcv_rtt_us8_ = rcv_rtt_us8_ - (rcv_rtt_us8_ >> 3) + us;
}

void TcpConnection::measure_receive_rtt(Time now) {
  // tcp_rcv_rtt_measure(): the time from one window offered to the data
  // filling it arriving.
  if (rcv_rtt_time_) {
    if (seq_lt(rcv_nxt_, rcv_rtt_seq_)) return;
    update_receive_rtt(now - *rcv_rtt_time_, true);
  }
  rcv_rtt_seq_ = rcv_nxt_ + (rcv_adv_edge_ - rcv_wup_);
  rcv_rtt_time_ = now;
}

void TcpConnection::measure_receive_rtt_ts(const wire::TcpSegment& seg) {
  // tcp_rcv_rtt_measure_ts(): a full-sized segment echoing a new TSval of
  // ours; at the timestamp clock's millisecond a shorter RTT shows as 0
  // and measures nothing.
  const auto& ts = seg.header.options.timestamp;
  if (!ts_ok_ || !ts || ts->echo == rcv_rtt_last_tsecr_) return;
  rcv_rtt_last_tsecr_ = ts->echo;
  if (seg.payload.size() < rcv_mss_) return;
  auto delta = static_cast<int32_t>(ts_now() - ts->echo);
  if (delta > 0 && delta < INT_MAX / 1000)
    update_receive_rtt(std::chrono::milliseconds(delta), false);
}

void TcpConnection::apply_cwnd_events(const CwndEvents& events, Time now) {
  for (CwndEvent e : events.list()) {
    switch (e) {
      case CwndEvent::ClearPriorSsthresh:
        cwnd_.clear_prior_ssthresh();
        break;
      case CwndEvent::SavePriorSsthresh:
        cwnd_.save_prior_ssthresh();
        break;
      case CwndEvent::InitReduction:
        cwnd_.init_cwnd_reduction();
        break;
      case CwndEvent::EndReduction:
        cwnd_.end_cwnd_reduction(now);
        break;
      case CwndEvent::Undo:
        cwnd_.undo_cwnd_reduction(now);
        break;
    }
  }
}

void TcpConnection::sync_ca_state(Time now) {
  if (recovery_.state() != cwnd_.ca_state()) cwnd_.set_ca_state(recovery_.state(), progress(now));
}

void TcpConnection::our_fin_acked(Time now) {
  switch (state_) {
    case TcpState::FinWait1:
      set_state(TcpState::FinWait2);
      // An orphan does not wait forever for the peer's FIN (tcp_fin_timeout).
      if (orphaned_) fin_wait2_until_ = now + std::chrono::seconds(env_.settings.fin_timeout_s);
      break;
    case TcpState::Closing:
      enter_time_wait(now);
      break;
    case TcpState::LastAck:
      terminate(0);
      break;
    default:
      break;
  }
}

void TcpConnection::process_data_and_fin(const wire::TcpSegment& seg, Time now) {
  const wire::TcpHeader& h = seg.header;
  uint32_t seq = h.seq + (h.has(kSyn) ? 1 : 0);
  Bytes data = seg.payload;
  bool fin = h.has(kFin);
  if (data.empty() && !fin) return;
  if (state_ == TcpState::Established) measure_receive_rtt_ts(seg);
  if (!in_state(state_, kCanReceive)) {
    // CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT: the peer already sent its FIN;
    // a retransmission of it is acknowledged again.
    if (fin) ack_pending_ = true;
    if (fin && state_ == TcpState::TimeWait) time_wait_until_ = now + kTimeWaitLength;
    return;
  }
  uint32_t end = seq + static_cast<uint32_t>(data.size()) + (fin ? 1 : 0);
  // Trim what we already have; a SACK peer hears of the duplicate (D-SACK,
  // RFC 2883) and every duplicate is ACKed at once (tcp_send_dupack()).
  if (seq_lt(seq, rcv_nxt_)) {
    if (sack_ok_) sack_.on_duplicate(seq, end, rcv_nxt_);
    uint32_t dup = rcv_nxt_ - seq;
    if (dup > data.size()) {
      data = {};
      fin = false;  // an old FIN
    } else {
      data = data.subspan(dup);
    }
    seq = rcv_nxt_;
    enter_quickack_mode();
    ack_pending_ = true;
  }
  if (data.empty() && !fin) return;
  if (seq != rcv_nxt_) {
    out_of_order(seq, data, fin);
    return;
  }
  if (orphaned_ && !data.empty() &&
      in_state(state_, state_bit(TcpState::FinWait1) | state_bit(TcpState::FinWait2))) {
    // Nobody will read it: tcp_rcv_state_process() resets (TCPAbortOnData),
    // answering this segment as tcp_v4_send_reset() does.
    send_rst_for(seg);
    terminate(0);
    return;
  }
  if (!data.empty()) {
    // tcp_data_queue(): a closed window takes nothing but a bare FIN (some
    // stacks send FINs into it in a loop); the data is dropped and ACKed.
    uint32_t offered = seq_gt(rcv_adv_edge_, rcv_nxt_) ? rcv_adv_edge_ - rcv_nxt_ : 0;
    if (offered == 0) {
      ++env_.counters.tcp_zero_window_dropped;
      enter_quickack_mode();
      ack_pending_ = true;
      return;
    }
  }
  // tcp_try_rmem_schedule(): past a full buffer a segment is ACKed at once
  // (ICSK_ACK_NOW), and its data dropped unless the program has read
  // everything. Within the buffer the whole in-order segment is taken,
  // even past the window offered.
  if (rcv_buf_.size() > static_cast<size_t>(std::max(full_space(), 0))) {
    ack_pending_ = true;
    if (!rcv_buf_.empty() && !data.empty()) {
      ++env_.counters.tcp_rcvq_dropped;
      return;
    }
  }
  bool had_ofo = !ofo_.empty();
  if (!data.empty()) {
    reserve_receive(data.size());
    rcv_buf_.push(data);
    rcv_nxt_ += static_cast<uint32_t>(data.size());
    bytes_received_ += data.size();
  }
  if (had_ofo && !fin) {
    // The hole may be filled: what queued behind it is in order now.
    reserve_receive(ofo_.bytes());
    auto rel = ofo_.pop_in_order(rcv_nxt_, rcv_buf_);
    if (rel.duplicate && sack_ok_) sack_.on_duplicate(*rel.duplicate);
    rcv_nxt_ = rel.rcv_nxt;
    bytes_received_ += rel.bytes;
    fin = rel.fin;
    // RFC 5681 §4.2: ACK at once while a gap exists or when one is filled.
    ack_pending_ = true;
  }
  if (sack_ok_) sack_.on_in_order(rcv_nxt_, ofo_.empty());
  if (!data.empty()) {
    measure_receive_rtt(now);
    on_data_received(data.size(), now);
  }
  if (!fin) return;
  rcv_nxt_ += 1;
  peer_fin_ = true;
  rcv_shutdown_ = true;
  // tcp_fin(): nothing can follow a FIN.
  ofo_.clear();
  sack_.reset();
  switch (state_) {
    case TcpState::Established:
      // The peer is done talking: its FIN is ACKed like a request would be,
      // after the delayed-ACK wait, unless a reply carries it first.
      set_state(TcpState::CloseWait);
      pingpong_ = true;
      schedule_delayed_ack(now);
      break;
    case TcpState::FinWait1:
      // Our FIN is not yet acknowledged (else we would be in FIN_WAIT_2).
      ack_pending_ = true;
      set_state(TcpState::Closing);
      break;
    case TcpState::FinWait2:
      ack_pending_ = true;
      enter_time_wait(now);
      break;
    default:
      break;
  }
}

void TcpConnection::out_of_order(uint32_t seq, Bytes data, bool fin) {
  // tcp_data_queue_ofo(): keep it for later, bounded by the receive buffer
  // space left, and tell a SACK peer what we hold.
  ofo_.set_limit(static_cast<size_t>(
      std::max<int64_t>(int64_t{full_space()} - static_cast<int64_t>(rcv_buf_.size()), 0)));
  auto ins = ofo_.insert(seq, data, fin);
  if (ins.pruned_bytes > 0) sack_.reset();
  if (ins.outcome == ReassemblyQueue::Outcome::NoMemory) {
    ++env_.counters.tcp_ooo_dropped;
    return;  // Linux sends nothing for a segment it could not keep
  }
  if (ins.outcome == ReassemblyQueue::Outcome::Ignored) return;
  ++env_.counters.tcp_ooo_queued;
  if (sack_ok_) {
    if (ins.duplicate) sack_.on_duplicate(*ins.duplicate);
    sack_.on_out_of_order(seq, seq + static_cast<uint32_t>(data.size()) + (fin ? 1 : 0));
  }
  enter_quickack_mode();
  ack_pending_ = true;
}

// --- ICMP errors (Linux tcp_v4_err()) --------------------------------------------

namespace {
// icmp_err_convert[]: the errno for each destination-unreachable code, and
// whether it is fatal.
struct IcmpErr {
  int err;
  bool fatal;
};
constexpr IcmpErr kUnreachErrors[] = {
    {ENETUNREACH, false},  {EHOSTUNREACH, false}, {ENOPROTOOPT, true},  {ECONNREFUSED, true},
    {EMSGSIZE, false},     {EOPNOTSUPP, false},   {ENETUNREACH, true},  {EHOSTDOWN, true},
    {ENONET, true},        {ENETUNREACH, true},   {EHOSTUNREACH, true}, {ENETUNREACH, false},
    {EHOSTUNREACH, false}, {EHOSTUNREACH, true},  {EHOSTUNREACH, true}, {EHOSTUNREACH, true},
};
constexpr uint8_t kFragNeeded = 4;
}  // namespace

bool TcpConnection::on_icmp_unreachable(uint8_t code, uint32_t seq, uint16_t mtu, Time now) {
  now_ = now;
  // Only about something in flight (RFC 5927 §4.1; Linux counts the rest
  // as OutOfWindowIcmps).
  if (state_ == TcpState::Closed || !seq_in(seq, snd_una_, snd_max_ + 1)) return false;
  if (code == kFragNeeded) {
    // RFC 1191: a smaller path MTU; resend what is in flight in segments
    // that fit (tcp_v4_mtu_reduced(), tcp_simple_retransmit()).
    if (mtu < 68 || (path_mtu_ && mtu >= path_mtu_) || mtu >= env_.local_mss + 40) return true;
    path_mtu_ = mtu;
    uint16_t mss = static_cast<uint16_t>(std::max(mtu - 40 - (ts_ok_ ? 12 : 0), 48));
    if (mss < snd_mss_) {
      snd_mss_ = mss;
      if (established_ && recovery_.mark_oversized_lost(mss) > 0) xmit_recovery(Rexmit::Lost, now);
    }
    return true;
  }
  IcmpErr e =
      code < std::size(kUnreachErrors) ? kUnreachErrors[code] : IcmpErr{EHOSTUNREACH, false};
  if (in_state(state_, state_bit(TcpState::SynSent) | state_bit(TcpState::SynReceived))) {
    // A connection attempt fails at once with the reason.
    if (state_ == TcpState::SynSent) ++env_.counters.tcp_attempt_fails;
    terminate(e.err);
    return true;
  }
  soft_error_ = e.err;
  return true;
}

bool TcpConnection::on_icmp_time_exceeded(uint32_t seq, Time now) {
  now_ = now;
  if (state_ == TcpState::Closed || !seq_in(seq, snd_una_, snd_max_ + 1)) return false;
  soft_error_ = EHOSTUNREACH;
  return true;
}

// --- Options ------------------------------------------------------------------

void TcpConnection::negotiate_options(const wire::TcpOptions& peer, bool we_offered) {
  const TcpSettings& t = env_.settings;
  // An option is on when both SYNs carried it (RFC 7323 §1.3, RFC 2018 §2).
  // On a passive open we offer exactly what the peer did and the knobs allow.
  wscale_ok_ = peer.window_scale.has_value() && t.window_scaling;
  if (wscale_ok_) {
    // RFC 7323 §2.3: a shift above 14 is used as 14.
    snd_wscale_ = std::min<uint8_t>(*peer.window_scale, 14);
  } else {
    snd_wscale_ = 0;
    rcv_wscale_ = 0;  // never scale what the peer cannot unscale
    window_clamp_ =
        window_clamp_ ? std::min(window_clamp_, kMaxUnscaledWindow) : kMaxUnscaledWindow;
  }
  ts_ok_ = peer.timestamp.has_value() && t.timestamps != 0;
  if (ts_ok_) {
    ts_recent_ = peer.timestamp->value;
    ts_recent_stamp_ = now_;
  }
  sack_ok_ = peer.sack_permitted && t.sack;
  (void)we_offered;
  peer_mss_ = peer.mss.value_or(kDefaultMss);
  // tcp_mss_to_mtu()/tcp_current_mss(): segments carry the timestamp option,
  // so its 12 bytes come off the payload (TCP_MAXSEG reports this value).
  snd_mss_ = static_cast<uint16_t>(std::min(peer_mss_, adv_mss()) - (ts_ok_ ? 12 : 0));
}

uint16_t TcpConnection::maxseg() const {
  // do_tcp_getsockopt(TCP_MAXSEG)
  if (in_state(state_, state_bit(TcpState::Closed) | state_bit(TcpState::Listen)) ||
      (state_ == TcpState::SynSent && !was_established_))
    return user_mss_ ? user_mss_ : kDefaultMss;
  return snd_mss_;
}

uint32_t TcpConnection::ts_now() const {
  // Linux's TCP timestamp clock ticks in milliseconds (tcp_time_stamp_ms()).
  return static_cast<uint32_t>(now_ / std::chrono::milliseconds(1)) + ts_offset_;
}

bool TcpConnection::paws_reject(const wire::TcpSegment& seg) const {
  // tcp_paws_discard(): a segment whose TSval is older than TS.Recent is an
  // old duplicate. RSTs are exempt (RFC 7323 §5.3).
  if (!ts_ok_ || !seg.header.options.timestamp || seg.header.has(kRst)) return false;
  return int32_t(seg.header.options.timestamp->value - ts_recent_) < 0;
}

void TcpConnection::update_ts_recent(const wire::TcpSegment& seg) {
  // RFC 7323 §4.3 via tcp_replace_ts_recent(): only a segment that starts at
  // or before the last ACK we sent may move TS.Recent, and never backwards.
  if (!ts_ok_ || !seg.header.options.timestamp) return;
  uint32_t val = seg.header.options.timestamp->value;
  if (seq_le(seg.header.seq, rcv_wup_) && int32_t(val - ts_recent_) >= 0) {
    ts_recent_ = val;
    ts_recent_stamp_ = now_;
  }
}

bool TcpConnection::time_wait_accepts_syn(const wire::TcpSegment& seg) const {
  const wire::TcpHeader& h = seg.header;
  if (state_ != TcpState::TimeWait || !h.has(kSyn) || h.has(kAck) || h.has(kRst)) return false;
  if (paws_reject(seg)) return false;
  return seq_gt(h.seq, rcv_nxt_) ||
         (ts_ok_ && h.options.timestamp && int32_t(ts_recent_ - h.options.timestamp->value) < 0);
}

}  // namespace veer::core
