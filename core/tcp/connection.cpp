#include "core/tcp/connection.h"

#include <algorithm>

#include "core/tcp/seq.h"

namespace veer::core {

using namespace wire::tcpflag;

namespace {

constexpr uint32_t kMaxUnscaledWindow = 65535;
constexpr uint16_t kDefaultMss = 536;  // RFC 9293 §3.7.1, when the peer sends none

// States in which the connection may still send data or a FIN.
constexpr uint32_t kCanSend = state_bit(TcpState::Established) | state_bit(TcpState::CloseWait) |
                              state_bit(TcpState::FinWait1) | state_bit(TcpState::Closing) |
                              state_bit(TcpState::LastAck);
// States in which data from the peer is still accepted.
constexpr uint32_t kCanReceive = state_bit(TcpState::Established) | state_bit(TcpState::FinWait1) |
                                 state_bit(TcpState::FinWait2);

size_t send_buffer_size(const TcpSettings& s) {
  // Linux starts at tcp_wmem[1] and grows the buffer as cwnd grows
  // (tcp_sndbuf_expand); until auto-tuning lands, start at four times the
  // default so one buffer covers the initial window with room to spare.
  return static_cast<size_t>(std::max(s.wmem_default, 4096)) * 4;
}

}  // namespace

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
                             std::pmr::memory_resource* memory)
    : env_(env),
      tuple_(tuple),
      iss_(iss),
      snd_una_(iss),
      snd_nxt_(iss),
      snd_max_(iss),
      snd_sml_(iss),
      snd_buf_(send_buffer_size(env.settings), memory),
      rcv_buf_(static_cast<size_t>(std::max(env.settings.rmem_default, 4096)), memory),
      cwnd_(10 * kDefaultMss) {}

void TcpConnection::set_state(TcpState s) {
  state_ = s;
  if (s == TcpState::Established || s == TcpState::CloseWait) was_established_ = true;
}

// --- Opening -----------------------------------------------------------------

void TcpConnection::open_active(Time now) {
  set_state(TcpState::SynSent);
  first_retrans_ = now;  // Linux tcp_connect(): retrans_stamp = SYN time
  rtt_seq_ = iss_;
  rtt_sent_ = now;
  send_syn(false, now);
  ++env_.counters.tcp_active_opens;
}

void TcpConnection::open_passive(const wire::TcpSegment& syn, Time now) {
  irs_ = syn.header.seq;
  rcv_nxt_ = irs_ + 1;
  rcv_adv_edge_ = rcv_nxt_;
  snd_mss_ = std::min(syn.header.options.mss.value_or(kDefaultMss), env_.local_mss);
  cwnd_ = 10u * snd_mss_;  // RFC 6928
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

void TcpConnection::send_syn(bool with_ack, Time now) {
  wire::TcpHeader h = header(iss_, with_ack ? (kSyn | kAck) : kSyn);
  // The window in a SYN is never scaled: Linux offers the largest multiple
  // of the MSS that fits (64240 for MSS 1460).
  uint32_t space = std::min<uint32_t>(static_cast<uint32_t>(rcv_buf_.free()), kMaxUnscaledWindow);
  h.window = static_cast<uint16_t>(space / env_.local_mss * env_.local_mss);
  h.options.mss = env_.local_mss;
  emit(h, {});
  snd_nxt_ = iss_ + 1;
  if (seq_gt(snd_nxt_, snd_max_)) snd_max_ = snd_nxt_;
  arm_retransmit(now);
}

// --- User calls --------------------------------------------------------------

Result<size_t> TcpConnection::send(Bytes data, Time now) {
  // tcp_sendmsg_locked(): wait for the handshake, then report sk_err before
  // EPIPE (sk_stream_error).
  if (in_state(state_, state_bit(TcpState::SynSent) | state_bit(TcpState::SynReceived)))
    return Result<size_t>::error(EAGAIN);
  bool open = in_state(state_, state_bit(TcpState::Established) | state_bit(TcpState::CloseWait));
  if (error_) return Result<size_t>::error(take_error());
  if (!open || snd_shutdown_) return Result<size_t>::error(EPIPE);
  size_t n = snd_buf_.push(data);
  if (n == 0 && !data.empty()) return Result<size_t>::error(EAGAIN);
  output(now);
  return n;
}

Result<size_t> TcpConnection::recv(MutableBytes out, bool peek, Time now) {
  (void)now;
  if (!rcv_buf_.empty()) {
    size_t n = rcv_buf_.peek(0, out);
    if (!peek) {
      rcv_buf_.pop(n);
      maybe_send_window_update();
    }
    return n;
  }
  // tcp_recvmsg_locked()'s order when nothing is queued.
  if (peer_fin_) return size_t{0};
  if (error_) return Result<size_t>::error(take_error());
  if (rcv_shutdown_) return size_t{0};
  if (state_ == TcpState::Closed) return Result<size_t>::error(ENOTCONN);
  return Result<size_t>::error(EAGAIN);
}

Errno TcpConnection::shutdown_write(Time now) {
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
  (void)now;
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
    if (!rcv_buf_.empty()) mask |= 0x001;
    if (!snd_shutdown_) {
      // sk_stream_is_writeable(): free space at least half of what is queued.
      if (snd_buf_.free() >= snd_buf_.size() / 2 && snd_buf_.free() > 0) mask |= 0x004;
    } else {
      mask |= 0x004;
    }
  }
  if (error_) mask |= 0x008;
  return mask;
}

// --- SEGMENT ARRIVES (RFC 9293 §3.10.7) ------------------------------------

void TcpConnection::on_segment(const wire::TcpSegment& seg, Time now) {
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
  rcv_adv_edge_ = rcv_nxt_;  // nothing advertised yet in this sequence space
  snd_mss_ = std::min(h.options.mss.value_or(kDefaultMss), env_.local_mss);
  cwnd_ = 10u * snd_mss_;
  if (ack_ok) {
    snd_una_ = h.ack;
    snd_wnd_ = h.window;
    snd_wl1_ = h.seq;
    snd_wl2_ = h.ack;
    if (rtt_seq_ && retransmits_ == 0) rtt_.sample(now - rtt_sent_);
    rtt_seq_.reset();
    rto_ = rtt_.rto();
    retransmits_ = 0;
    first_retrans_.reset();
    retransmit_at_.reset();
    set_state(TcpState::Established);
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
  if (wnd == 0) return false;
  return seq_in(seq, rcv_nxt_, rcv_nxt_ + wnd) || seq_in(seq + len - 1, rcv_nxt_, rcv_nxt_ + wnd);
}

void TcpConnection::segment_in_synchronized(const wire::TcpSegment& seg, Time now) {
  const wire::TcpHeader& h = seg.header;
  // A retransmitted SYN for our SYN-ACK: answer it again (tcp_check_req()).
  if (state_ == TcpState::SynReceived && h.has(kSyn) && !h.has(kAck) && h.seq == irs_) {
    send_syn(true, now);
    return;
  }
  // First: sequence number acceptability. Old duplicates, including a
  // retransmitted FIN in TIME_WAIT, fall out here and are answered with an
  // ACK (TIME_WAIT also restarts its 2MSL wait, RFC 9293 §3.10.7.4).
  if (!acceptable(seg)) {
    if (!h.has(kRst)) {
      ++env_.counters.tcp_out_of_window;
      ack_pending_ = true;
      if (state_ == TcpState::TimeWait && h.has(kFin)) time_wait_until_ = now + kTimeWaitLength;
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
  // Seventh/eighth: data and FIN.
  process_data_and_fin(seg, now);
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
    set_state(TcpState::Established);
    snd_wnd_ = h.window;
    snd_wl1_ = h.seq;
    snd_wl2_ = h.ack;
  }
  if (seq_gt(h.ack, snd_max_)) {
    // Acknowledges something not yet sent (RFC 5961 §5.2): ACK and drop.
    ack_pending_ = true;
    return false;
  }
  if (seq_gt(h.ack, snd_una_)) {
    uint32_t acked = h.ack - snd_una_;
    bool fin_acked = fin_queued_ && seq_gt(h.ack, fin_seq());
    snd_buf_.pop(std::min<size_t>(acked, snd_buf_.size()));
    snd_una_ = h.ack;
    if (seq_lt(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
    // Karn's rule: time only segments that were never retransmitted.
    if (rtt_seq_ && seq_gt(h.ack, *rtt_seq_)) {
      rtt_.sample(now - rtt_sent_);
      rtt_seq_.reset();
    }
    rto_ = rtt_.rto();
    retransmits_ = 0;
    first_retrans_.reset();
    // RFC 5681 slow start and congestion avoidance.
    if (cwnd_ < ssthresh_) {
      cwnd_ += std::min<uint32_t>(acked, snd_mss_);
    } else {
      cwnd_ += std::max<uint32_t>(1, uint32_t(snd_mss_) * snd_mss_ / cwnd_);
    }
    retransmit_at_.reset();
    if (flight_size() > 0) arm_retransmit(now);
    if (fin_acked) our_fin_acked(now);
  }
  // Window update (RFC 9293 §3.10.7.4, fifth step).
  if (seq_lt(snd_wl1_, h.seq) || (snd_wl1_ == h.seq && seq_le(snd_wl2_, h.ack))) {
    snd_wnd_ = h.window;
    snd_wl1_ = h.seq;
    snd_wl2_ = h.ack;
    if (snd_wnd_ > 0) {
      persist_at_.reset();
      probes_ = 0;
    }
  }
  return state_ != TcpState::Closed;
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
  if (!in_state(state_, kCanReceive)) {
    // CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT: the peer already sent its FIN;
    // a retransmission of it is acknowledged again.
    if (fin) ack_pending_ = true;
    if (fin && state_ == TcpState::TimeWait) time_wait_until_ = now + kTimeWaitLength;
    return;
  }
  // Trim what we already have.
  if (seq_lt(seq, rcv_nxt_)) {
    uint32_t dup = rcv_nxt_ - seq;
    if (dup > data.size()) {
      data = {};
      fin = false;  // an old FIN
    } else {
      data = data.subspan(dup);
    }
    seq = rcv_nxt_;
    ack_pending_ = true;
  }
  if (seq != rcv_nxt_) {
    // Out of order: no reassembly queue yet, so drop and send a duplicate
    // ACK that tells the peer what is missing.
    ++env_.counters.tcp_ooo_dropped;
    ack_pending_ = true;
    return;
  }
  if (orphaned_ && !data.empty() &&
      in_state(state_, state_bit(TcpState::FinWait1) | state_bit(TcpState::FinWait2))) {
    // Nobody will read it: tcp_rcv_state_process() resets (TCPAbortOnData).
    abort(now);
    return;
  }
  if (data.size() > rcv_buf_.free()) {
    data = data.first(rcv_buf_.free());
    fin = false;
  }
  if (!data.empty()) {
    rcv_buf_.push(data);
    rcv_nxt_ += static_cast<uint32_t>(data.size());
    ack_pending_ = true;
  }
  if (!fin) return;
  rcv_nxt_ += 1;
  peer_fin_ = true;
  rcv_shutdown_ = true;
  ack_pending_ = true;
  switch (state_) {
    case TcpState::Established:
      set_state(TcpState::CloseWait);
      break;
    case TcpState::FinWait1:
      // Our FIN is not yet acknowledged (else we would be in FIN_WAIT_2).
      set_state(TcpState::Closing);
      break;
    case TcpState::FinWait2:
      enter_time_wait(now);
      break;
    default:
      break;
  }
}

// --- Output ------------------------------------------------------------------

uint16_t TcpConnection::advertised_window() const {
  uint32_t clamp =
      std::min<uint32_t>(static_cast<uint32_t>(rcv_buf_.capacity()), kMaxUnscaledWindow);
  uint32_t mss = env_.local_mss;
  uint32_t win = std::min<uint32_t>(static_cast<uint32_t>(rcv_buf_.free()), clamp);
  // Receiver-side silly window avoidance (RFC 1122 §4.2.3.3).
  if (win < std::min(clamp / 2, mss)) {
    win = 0;
  } else if (win > mss) {
    win = win / mss * mss;
  }
  // Never move the right edge back (RFC 9293 §3.8.6.2.2).
  uint32_t promised = seq_gt(rcv_adv_edge_, rcv_nxt_) ? rcv_adv_edge_ - rcv_nxt_ : 0;
  return static_cast<uint16_t>(std::min(std::max(win, promised), kMaxUnscaledWindow));
}

wire::TcpHeader TcpConnection::header(uint32_t seq, uint8_t flags) const {
  wire::TcpHeader h;
  h.src_port = tuple_.local.port;
  h.dst_port = tuple_.remote.port;
  h.seq = seq;
  h.ack = (flags & kAck) ? rcv_nxt_ : 0;
  h.flags = flags;
  h.window = advertised_window();
  return h;
}

void TcpConnection::emit(const wire::TcpHeader& h, Bytes payload) {
  // Whatever window a segment offers is a promise: remember its right edge.
  if ((h.flags & kAck) && !(h.flags & kRst)) rcv_adv_edge_ = rcv_nxt_ + h.window;
  env_.output.send_segment(tuple_, h, payload);
  ++env_.counters.tcp_tx_segments;
}

void TcpConnection::send_ack() {
  emit(header(snd_nxt_, kAck), {});
  ack_pending_ = false;
}

void TcpConnection::send_rst_for(const wire::TcpSegment& seg) {
  wire::TcpHeader h = reset_for(seg);
  env_.output.send_segment(tuple_, h, {});
  ++env_.counters.tcp_tx_segments;
  ++env_.counters.tcp_rst_sent;
}

void TcpConnection::maybe_send_window_update() {
  // tcp_cleanup_rbuf(): after the reader drained the buffer, tell the peer
  // when the window at least doubled from a value at most half the maximum.
  if (!in_state(state_, kCanReceive) || rcv_shutdown_) return;
  uint32_t clamp =
      std::min<uint32_t>(static_cast<uint32_t>(rcv_buf_.capacity()), kMaxUnscaledWindow);
  uint32_t now_wnd = seq_gt(rcv_adv_edge_, rcv_nxt_) ? rcv_adv_edge_ - rcv_nxt_ : 0;
  if (2 * now_wnd > clamp) return;
  uint32_t new_wnd = advertised_window();
  if (new_wnd != 0 && new_wnd >= 2 * now_wnd) send_ack();
}

void TcpConnection::send_data_segment(uint32_t seq, size_t len, bool fin, Time now) {
  wire::TcpHeader h = header(seq, kAck);
  size_t offset = seq - snd_una_;
  // PSH on the segment that empties what the program has written.
  if (len > 0 && offset + len == snd_buf_.size()) h.flags |= kPsh;
  if (fin) h.flags |= kFin;
  size_t n = snd_buf_.peek(offset, env_.scratch.first(len));
  emit(h, Bytes(env_.scratch.data(), n));
  if (seq_lt(seq, snd_max_)) {
    ++env_.counters.tcp_retrans_segments;
  } else if (!rtt_seq_ && retransmits_ == 0) {
    rtt_seq_ = seq;
    rtt_sent_ = now;
  }
  uint32_t end = seq + static_cast<uint32_t>(len) + (fin ? 1 : 0);
  if (seq_gt(end, snd_nxt_)) snd_nxt_ = end;
  if (seq_gt(end, snd_max_)) snd_max_ = end;
  ack_pending_ = false;
  arm_retransmit(now);
}

void TcpConnection::output(Time now) {
  if (!in_state(state_, kCanSend)) return;
  for (;;) {
    if (fin_sent()) break;
    size_t sent = snd_nxt_ - snd_una_;
    size_t unsent = snd_buf_.size() - std::min(sent, snd_buf_.size());
    uint32_t limit = std::min(snd_wnd_, cwnd_);
    size_t avail = limit > flight_size() ? limit - flight_size() : 0;
    size_t len = std::min(unsent, size_t{snd_mss_});
    bool fin = fin_queued_ && len == unsent;
    if (len == 0 && !fin) break;
    // The whole segment must fit the send and congestion windows
    // (tcp_snd_wnd_test(), tcp_cwnd_test()): no window-limited runts.
    if (len > avail) break;
    // Nagle with Minshall's refinement (Linux tcp_nagle_check()): hold the
    // last, short piece of the written data while an earlier short segment
    // is unacknowledged, unless TCP_NODELAY or it carries the FIN.
    bool small_unacked = seq_gt(snd_sml_, snd_una_) && seq_le(snd_sml_, snd_nxt_);
    if (len < snd_mss_ && len == unsent && small_unacked && !nodelay_ && !fin) break;
    send_data_segment(snd_nxt_, len, fin, now);
    if (len < snd_mss_) snd_sml_ = snd_nxt_;
  }
  // Data waiting, nothing in flight: only the peer's window can be holding
  // it back, and only a probe will make the peer say when it opens.
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
  persist_at_ = now + std::min(rto_ * (int64_t{1} << std::min(probes_, 20)), kRtoMax);
}

// --- Timers ------------------------------------------------------------------

void TcpConnection::arm_retransmit(Time now) {
  if (!retransmit_at_) retransmit_at_ = now + rto_;
}

std::optional<Time> TcpConnection::deadline() const {
  std::optional<Time> d;
  for (const auto& t : {retransmit_at_, time_wait_until_, fin_wait2_until_, persist_at_}) {
    if (t && (!d || *t < *d)) d = t;
  }
  return d;
}

void TcpConnection::on_timer(Time now) {
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
  if (persist_at_ && *persist_at_ <= now && state_ != TcpState::Closed) {
    size_t unsent = snd_buf_.size() - std::min<size_t>(flight_size(), snd_buf_.size());
    if (flight_size() == 0 && snd_wnd_ > 0 && unsent > 0 && snd_wnd_ < snd_mss_ &&
        snd_wnd_ < unsent) {
      // tcp_write_wakeup(): the window is open but smaller than the next
      // segment; send what fits, as a probe.
      send_data_segment(snd_nxt_, snd_wnd_, false, now);
      ++probes_;
      persist_at_.reset();
    } else if (flight_size() == 0 && snd_wnd_ == 0) {
      send_window_probe(now);
    } else {
      persist_at_.reset();
      probes_ = 0;
      output(now);
    }
  }
}

bool TcpConnection::retransmissions_exhausted(Time now) const {
  if (retransmits_ == 0 || !first_retrans_) return false;
  switch (state_) {
    case TcpState::SynSent:
      // tcp_write_timeout(): time-based, from the first SYN.
      return now - *first_retrans_ >= model_timeout(env_.settings.syn_retries, kRtoInitial);
    case TcpState::SynReceived:
      // A passive open gives up after tcp_synack_retries timeouts
      // (reqsk_timer_handler() counts them).
      return retransmits_ >= env_.settings.synack_retries;
    default:
      return now - *first_retrans_ >= model_timeout(env_.settings.retries2, kRtoMin);
  }
}

void TcpConnection::on_retransmit_timeout(Time now) {
  if (flight_size() == 0 &&
      !in_state(state_, state_bit(TcpState::SynSent) | state_bit(TcpState::SynReceived)))
    return;
  if (retransmits_ == 0 && !first_retrans_) first_retrans_ = now - rto_;
  if (retransmissions_exhausted(now)) {
    ++env_.counters.tcp_timeouts;
    if (state_ == TcpState::SynSent) ++env_.counters.tcp_attempt_fails;
    terminate(ETIMEDOUT);
    return;
  }
  ++retransmits_;
  rtt_seq_.reset();  // Karn
  // tcp_retransmit_timer(): the first tcp_syn_linear_timeouts SYN
  // retransmissions keep the initial RTO; everything else backs off.
  if (!(state_ == TcpState::SynSent && retransmits_ <= env_.settings.syn_linear_timeouts)) {
    rto_ = std::min(rto_ * 2, kRtoMax);
  }
  if (state_ == TcpState::SynSent || state_ == TcpState::SynReceived) {
    ++env_.counters.tcp_retrans_segments;
    send_syn(state_ == TcpState::SynReceived, now);
    return;
  }
  // Go back to the first unacknowledged segment with a one-segment window.
  ssthresh_ = std::max<uint32_t>(flight_size() / 2, 2u * snd_mss_);
  cwnd_ = snd_mss_;
  snd_nxt_ = snd_una_;
  size_t len = std::min(snd_buf_.size(), size_t{snd_mss_});
  bool fin = fin_queued_ && len == snd_buf_.size();
  send_data_segment(snd_una_, len, fin, now);
}

void TcpConnection::enter_time_wait(Time now) {
  set_state(TcpState::TimeWait);
  time_wait_until_ = now + kTimeWaitLength;
  retransmit_at_.reset();
  fin_wait2_until_.reset();
  persist_at_.reset();
}

}  // namespace veer::core
