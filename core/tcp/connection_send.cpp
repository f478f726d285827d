// The send side of the user calls: tcp_sendmsg() and the send buffer it
// fills, the socket options that decide when queued data may leave
// (TCP_NODELAY, TCP_CORK, TCP_NOTSENT_LOWAT) and the buffers' sizes.
#include "core/tcp/connection_internal.h"

namespace veer::core {

using namespace detail;

// --- The send buffer -----------------------------------------------------------

void TcpConnection::reserve_send(size_t n) {
  if (snd_buf_.free() < n)
    snd_buf_.grow(std::max({snd_buf_.capacity() * 2, snd_buf_.size() + n, kRingStep}));
}

bool TcpConnection::memory_free(int wake) const {
  // sk_stream_memory_free(): room in sk_sndbuf, and (tcp_stream_memory_free())
  // fewer unsent bytes than TCP_NOTSENT_LOWAT; a waiting writer is only woken
  // once they are below half of it (`wake` = 1).
  if (wmem_queued() >= static_cast<size_t>(std::max(sndbuf_, 0))) return false;
  uint32_t wseq = write_seq();
  uint64_t notsent = seq_gt(wseq, snd_nxt_) ? wseq - snd_nxt_ : 0;
  return (notsent << wake) < notsent_limit();
}

bool TcpConnection::writable() const {
  // __sk_stream_is_writeable(sk, 1): at least a third of the buffer free
  // (free space no less than half of what is queued).
  int64_t queued = static_cast<int64_t>(wmem_queued());
  return int64_t{sndbuf_} - queued >= queued / 2 && memory_free(1);
}

uint32_t TcpConnection::size_goal() const {
  return xmit_size_goal(snd_mss_, max_window_, env_.settings);
}

bool TcpConnection::forced_push() const {
  // forced_push(): more than half the largest window written since the last mark.
  return seq_gt(write_seq(), pushed_seq_ + (max_window_ >> 1));
}

void TcpConnection::mark_push() {
  // tcp_mark_push()
  chunks_.set_tail_push(true);
  pushed_seq_ = write_seq();
}

void TcpConnection::push(bool more, Time now) {
  // tcp_push(): the end of what the program wrote is marked PSH, unless it
  // said MSG_MORE; MSG_MORE corks this one push.
  if (!more || forced_push()) mark_push();
  output(now, more ? kNagleCork : nonagle_);
}

Result<size_t> TcpConnection::send(Bytes data, bool more, Time now, bool oob) {
  now_ = now;
  // tcp_sendmsg_locked(): wait for the handshake, then report sk_err before
  // EPIPE (sk_stream_error).
  if (in_state(state_, state_bit(TcpState::SynSent) | state_bit(TcpState::SynReceived)))
    return Result<size_t>::error(EAGAIN);
  bool open = in_state(state_, state_bit(TcpState::Established) | state_bit(TcpState::CloseWait));
  if (error_) return Result<size_t>::error(take_error());
  if (!open || snd_shutdown_) return Result<size_t>::error(EPIPE);
  const uint32_t goal = size_goal();
  size_t copied = 0;
  bool full = false;
  while (copied < data.size()) {
    // The chunk being filled: the last one while it has unsent bytes
    // (tcp_write_queue_tail()); what of it left already is not part of it.
    uint32_t wseq = write_seq();
    bool have_tail = !chunks_.empty() && seq_gt(wseq, snd_nxt_);
    uint32_t tail = 0;
    if (have_tail) {
      uint32_t start = seq_gt(chunks_.tail_start(), snd_nxt_) ? chunks_.tail_start() : snd_nxt_;
      tail = wseq - start;
    }
    if (!have_tail || tail >= goal) {
      // A new chunk only while the buffer has room: a chunk once started is
      // filled to the goal, so the buffer may end up to one goal over.
      if (!memory_free(0)) {
        full = true;
        break;
      }
      chunks_.open(wseq);
      // tcp_skb_entail(): a new chunk consumes a pending push, and after an
      // idle RTO restarts slow start (tcp_slow_start_after_idle_check()).
      nonagle_ &= static_cast<uint8_t>(~kNaglePush);
      cwnd_.restart_after_idle(now, rto_, recovery_.queue().packets_out(),
                               env_.settings.slow_start_after_idle);
      tail = 0;
    } else if (copied == 0) {
      chunks_.set_tail_push(false);  // appended to: its PSH moves to the new end
    }
    size_t copy = std::min<size_t>(goal - tail, data.size() - copied);
    reserve_send(copy);
    snd_buf_.push(data.subspan(copied, copy));
    copied += copy;
    chunks_.extend(write_seq());
    if (copied == data.size()) break;
    if (tail + copy < goal) continue;
    // A full chunk goes out at once: all of what may leave once more than
    // half a window is unmarked, else one burst if it is at the head.
    if (forced_push()) {
      mark_push();
      output(now, kNaglePush);
    } else if (!seq_gt(chunks_.tail_start(), snd_nxt_)) {
      output(now, kNaglePush, /*one=*/true);
    }
  }
  if (full) {
    // wait_for_space: what was taken leaves now, past Nagle and the cork.
    nospace_ = true;
    if (copied == 0) return Result<size_t>::error(EAGAIN);
    if (oob) snd_up_ = write_seq();  // tcp_mark_urg()
    mark_push();
    output(now, kNaglePush);
    return copied;
  }
  if (copied > 0) {
    if (oob) snd_up_ = write_seq();  // tcp_mark_urg(): the last byte is urgent
    push(more, now);
  }
  return copied;
}

// --- Options ---------------------------------------------------------------------

void TcpConnection::set_nodelay(bool on, Time now) {
  now_ = now;
  if (!on) {
    nonagle_ &= static_cast<uint8_t>(~kNagleOff);
    return;
  }
  nonagle_ |= kNagleOff | kNaglePush;
  output(now);
}

void TcpConnection::set_cork(bool on, Time now) {
  now_ = now;
  if (on) {
    nonagle_ |= kNagleCork;
    return;
  }
  nonagle_ &= static_cast<uint8_t>(~kNagleCork);
  if (nonagle_ & kNagleOff) nonagle_ |= kNaglePush;
  output(now);
}

void TcpConnection::set_send_buffer(int bytes, bool locked) {
  sndbuf_ = bytes;
  sndbuf_locked_ = sndbuf_locked_ || locked;
}

void TcpConnection::set_receive_buffer(int bytes, bool locked) {
  rcvbuf_ = bytes;
  rcvbuf_locked_ = rcvbuf_locked_ || locked;
}

// --- Growing the send buffer (tcp_sndbuf_expand(), tcp_new_space()) -------------

void TcpConnection::expand_send_buffer() {
  if (sndbuf_locked_) return;
  uint32_t mss = std::max<uint32_t>(std::min(peer_mss_, adv_mss()), snd_mss_);
  int want = sndbuf_expand_target(mss, cwnd_.cwnd(), recovery_.reordering(), env_.settings);
  sndbuf_ = std::max(sndbuf_, want);
}

void TcpConnection::on_send_space_freed() {
  // tcp_check_space(): only for a writer that found the buffer full. The
  // buffer grows while cwnd is not the limit (tcp_should_expand_sndbuf()),
  // then the writer is woken if there is room (sk_stream_write_space()).
  if (!nospace_) return;
  if (recovery_.in_flight() < cwnd_.cwnd()) expand_send_buffer();
  if (writable()) nospace_ = false;
}

}  // namespace veer::core
