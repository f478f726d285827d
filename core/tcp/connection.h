// One TCP connection: the transmission control block and its transitions,
// organised after RFC 9293 §3.10 event processing (user calls, SEGMENT
// ARRIVES, timeouts), with Linux's choices where the RFC leaves room.
#pragma once

#include <memory_resource>
#include <optional>

#include "core/counters.h"
#include "core/settings.h"
#include "core/tcp/buffer_space.h"
#include "core/tcp/byte_ring.h"
#include "core/tcp/congestion/congestion_window.h"
#include "core/tcp/reassembly.h"
#include "core/tcp/recovery/loss_recovery.h"
#include "core/tcp/rto.h"
#include "core/tcp/sack_blocks.h"
#include "core/tcp/send_chunks.h"
#include "core/tcp/seq.h"
#include "core/tcp/tcp_info.h"
#include "core/tcp/tcp_state.h"
#include "core/wire/tcp.h"

namespace veer::core {

struct FourTuple {
  Endpoint local;
  Endpoint remote;
  bool operator==(const FourTuple&) const = default;
};

// Where a connection's segments go (the stack adds IPv4 and Ethernet).
class SegmentOutput {
 public:
  virtual ~SegmentOutput() = default;
  virtual void send_segment(const FourTuple& tuple, const wire::TcpHeader& header,
                            Bytes payload) = 0;
};

// Told of every state change of every connection (the debug log's state
// transitions). Called inside the stack's step: it must not call back into it.
class TcpStateObserver {
 public:
  virtual ~TcpStateObserver() = default;
  virtual void state_changed(const FourTuple& tuple, TcpState from, TcpState to) = 0;
};

// What a connection needs from its stack.
struct TcpEnvironment {
  const TcpSettings& settings;
  Counters& counters;
  SegmentOutput& output;
  uint16_t local_mss;    // what we advertise: interface MTU - 40
  MutableBytes scratch;  // room for one segment's payload while it is built
  // Told of state changes; nullptr (the default) costs one test per change.
  TcpStateObserver* state_observer = nullptr;
};

class TcpConnection {
 public:
  // `ts_offset` is added to every TSval (Linux's per-connection tsoffset,
  // secure_tcp_ts_off(); 0 with tcp_timestamps = 2).
  TcpConnection(const TcpEnvironment& env, FourTuple tuple, uint32_t iss, uint32_t ts_offset,
                std::pmr::memory_resource* memory);

  // --- Opening ---------------------------------------------------------------
  // Active open: SYN_SENT, SYN out now.
  void open_active(Time now);
  // Passive open from a listener's SYN: SYN_RECEIVED, SYN-ACK out now.
  void open_passive(const wire::TcpSegment& syn, Time now);
  // Passive open completed by the ACK of a SYN cookie (cookie_v4_check()):
  // straight to ESTABLISHED with what the cookie carried. The connection's
  // ISS is the cookie.
  void open_from_cookie(const wire::TcpSegment& ack, uint16_t mss, bool ts, bool sack,
                        std::optional<uint8_t> wscale, Time now);

  // --- User calls (RFC 9293 §3.10.1–3.10.6) --------------------------------
  // tcp_sendmsg(): takes what the send buffer allows (a partial count, or
  // EAGAIN when nothing fits). `more` is MSG_MORE: corked for this call.
  // `oob` is MSG_OOB: the last byte taken is urgent (BSD: the urgent pointer
  // points past it; tcp_mark_urg()).
  Result<size_t> send(Bytes data, bool more, Time now, bool oob = false);
  // tcp_recvmsg(): stops at the urgent mark, and steps over the urgent byte
  // there unless SO_OOBINLINE.
  Result<size_t> recv(MutableBytes out, bool peek, Time now);
  // recv(MSG_OOB) (tcp_recv_urg()): the urgent byte, never blocking.
  // EINVAL with SO_OOBINLINE or none pending/already read; 0 bytes with
  // `out` empty (MSG_TRUNC).
  Result<size_t> recv_urgent(MutableBytes out, bool peek);
  Errno shutdown_write(Time now);
  void shutdown_read();
  // close(): the program lets go; the connection finishes on its own (orphan).
  void close(Time now);
  // Abortive close: RST to the peer if synchronized, then CLOSED.
  void abort(Time now);
  // Gone without a word: a request whose listener closed.
  void drop() { terminate(0); }

  // --- Events ----------------------------------------------------------------
  void on_segment(const wire::TcpSegment& seg, Time now);
  // An ICMP destination unreachable (or time exceeded) about a segment we
  // sent with sequence number `seq` (tcp_v4_err()). `code` is the ICMP code;
  // `mtu` the next-hop MTU of a "fragmentation needed". Returns false when
  // `seq` is not in flight (the message is ignored).
  bool on_icmp_unreachable(uint8_t code, uint32_t seq, uint16_t mtu, Time now);
  // The same, for a time-exceeded message: only ever a soft error.
  bool on_icmp_time_exceeded(uint32_t seq, Time now);
  void on_timer(Time now);
  std::optional<Time> deadline() const;
  TcpTimerView timer_view() const;

  // --- Queries ---------------------------------------------------------------
  TcpState state() const { return state_; }
  const FourTuple& tuple() const { return tuple_; }
  uint32_t readiness() const;
  int take_error();
  int pending_error() const { return error_; }
  bool orphaned() const { return orphaned_; }
  // Nothing left to do: the stack may free it (once the program let go).
  bool finished() const { return state_ == TcpState::Closed; }
  uint32_t segments_received() const { return segs_in_; }
  size_t bytes_readable() const { return rcv_buf_.size(); }
  size_t bytes_unacked() const { return snd_buf_.size(); }
  bool was_established() const { return was_established_; }
  // TCP_INFO (tcp_get_info()).
  TcpInfo info(Time now) const;
  uint32_t snd_nxt() const { return snd_nxt_; }
  // When TS.Recent last moved, if the peer sends timestamps (Linux
  // ts_recent_stamp): what makes a TIME_WAIT 4-tuple safe to reuse.
  std::optional<Time> ts_recent_stamp() const { return ts_recent_stamp_; }
  uint32_t ts_recent() const { return ts_recent_; }
  // When TIME_WAIT began (Linux tw_entry_stamp): tcp_tw_reuse_delay counts
  // from here.
  Time time_wait_entered() const { return time_wait_entered_; }
  // A connection taking over a TIME_WAIT 4-tuple starts with its TS.Recent
  // (tcp_twsk_unique()), which its SYN echoes. Before open_active().
  void inherit_ts_recent(uint32_t ts_recent, Time stamp) {
    ts_recent_ = ts_recent;
    ts_recent_stamp_ = stamp;
  }
  // tcp_timewait_state_process(): may a SYN start a new connection on this
  // TIME_WAIT 4-tuple (its sequence or timestamp is newer than ours)?
  bool time_wait_accepts_syn(const wire::TcpSegment& seg) const;

  // SO_KEEPALIVE and TCP_KEEPIDLE/KEEPINTVL/KEEPCNT (0 = the knob's value).
  struct Keepalive {
    bool on = false;
    int idle_s = 0;
    int intvl_s = 0;
    int cnt = 0;
  };
  void set_keepalive(const Keepalive& k, Time now);
  // SO_OOBINLINE: the urgent byte stays in the stream.
  void set_urgent_inline(bool on) { urg_inline_ = on; }
  // SIOCATMARK: the next byte to read is the urgent mark.
  bool at_urgent_mark() const { return urg_data_ != 0 && urg_seq_ == copied_seq(); }
  // New urgent pointers received so far: each is one SIGURG for the owner
  // (sk_send_sigurg()).
  uint32_t urgent_marks() const { return urg_marks_; }
  // TCP_NODELAY (__tcp_sock_set_nodelay()): turning it on pushes what is
  // queued, even past TCP_CORK.
  void set_nodelay(bool on, Time now);
  // TCP_CORK (__tcp_sock_set_cork()): only full segments leave while it is
  // on; turning it off pushes the rest.
  void set_cork(bool on, Time now);
  bool cork() const { return nonagle_ & kNagleCork; }
  // SO_SNDBUF/SO_RCVBUF as the kernel stores them (already doubled, see
  // buffer_space.h). `locked`: the program chose it, so auto-tuning stops
  // (SOCK_SNDBUF_LOCK, SOCK_RCVBUF_LOCK).
  void set_send_buffer(int bytes, bool locked);
  void set_receive_buffer(int bytes, bool locked);
  int send_buffer() const { return sndbuf_; }
  int receive_buffer() const { return rcvbuf_; }
  // TCP_NOTSENT_LOWAT (0: net.ipv4.tcp_notsent_lowat).
  void set_notsent_lowat(uint32_t bytes) { notsent_lowat_ = bytes; }
  uint32_t notsent_lowat() const { return notsent_lowat_; }
  // TCP_CONGESTION (tcp_set_congestion_control()): false if unknown.
  bool set_congestion_control(std::string_view name, std::pmr::memory_resource* memory);
  std::string_view congestion_control() const { return cwnd_.algorithm_name(); }
  // TCP_MAXSEG set by the program (0: none): caps the MSS we advertise and use.
  void set_user_mss(uint16_t mss) { user_mss_ = mss; }
  // TCP_MAXSEG as getsockopt reports it: the send MSS in use once
  // connected (timestamps deducted), else the program's value or 536.
  uint16_t maxseg() const;
  // TCP_USER_TIMEOUT: how long data may stay unacknowledged (0: the knobs).
  void set_user_timeout(Time t) { user_timeout_ = t; }
  // TCP_RTO_MAX_MS (Linux 6.15+): this connection's largest RTO, which also
  // shortens its tcp_retries2 give-up.
  void set_rto_max(Time t) {
    rtt_.set_rto_max(t);
    recovery_.set_rto_max(t);
    rto_ = std::min(rto_, t);
  }
  Time rto_max() const { return rtt_.rto_max(); }
  bool nodelay() const { return nonagle_ & kNagleOff; }
  // Inherited by the TIME_WAIT remains for bind() conflict checks (Linux sk_reuse).
  void set_reuse_addr(bool on) { reuse_addr_ = on; }
  bool reuse_addr() const { return reuse_addr_; }

 private:
  // SEGMENT ARRIVES, by state.
  void segment_in_syn_sent(const wire::TcpSegment& seg, Time now);
  void segment_in_synchronized(const wire::TcpSegment& seg, Time now);
  void segment_in_time_wait(const wire::TcpSegment& seg, Time now);
  bool acceptable(const wire::TcpSegment& seg) const;
  void process_rst(const wire::TcpSegment& seg, Time now);
  // Returns false when the segment must be dropped after the ACK step.
  bool process_ack(const wire::TcpSegment& seg, Time now);
  void process_data_and_fin(const wire::TcpSegment& seg, Time now);
  // Step 6, the URG bit (tcp_urg(), tcp_check_urg()).
  void process_urgent(const wire::TcpSegment& seg);
  // The next sequence number the program reads (Linux copied_seq).
  uint32_t copied_seq() const {
    return rcv_nxt_ - static_cast<uint32_t>(rcv_buf_.size()) - (peer_fin_ ? 1 : 0);
  }
  // Urgent mode (tcp_urg_mode()): an urgent pointer not yet acknowledged.
  // Kept at SND.UNA otherwise (tcp_clean_rtx_queue()).
  bool urgent_mode() const { return seq_gt(snd_up_, snd_una_); }
  void out_of_order(uint32_t seq, Bytes data, bool fin);
  void our_fin_acked(Time now);
  // tcp_init_transfer(): the handshake is done; loss recovery and the
  // congestion window take over from the handshake's own timer.
  void on_established(Time now);
  // Loss recovery: feed one ACK in, apply what it decided.
  void recovery_on_ack(const wire::TcpSegment& seg, bool window_update, uint32_t prior_wnd,
                       Time now);
  void apply_cwnd_events(const CwndEvents& events, Time now);
  void sync_ca_state(Time now);
  void xmit_recovery(Rexmit r, Time now);
  void retransmit(const SentSegment& s, SendKind kind, Time now);
  void send_new_segment(size_t len, bool fin, bool push, Time now);
  void on_rto(Time now);
  void on_loss_probe(Time now);
  void on_reorder_timeout(Time now);
  SendProgress progress(Time now) const { return SendProgress{now, snd_una_, snd_nxt_}; }
  std::optional<Time> srtt() const {
    return rtt_.has_sample() ? std::optional<Time>(rtt_.srtt()) : std::nullopt;
  }
  bool new_data_fits_window() const;
  // Buffer auto-tuning (tcp_sndbuf_expand(), tcp_rcv_space_adjust()).
  void expand_send_buffer();
  void adjust_receive_space(Time now);
  // The receiver's RTT estimate (tcp_rcv_rtt_measure(), _measure_ts(),
  // tcp_rcv_rtt_update()): what paces receive-buffer auto-tuning.
  void measure_receive_rtt(Time now);
  void measure_receive_rtt_ts(const wire::TcpSegment& seg);
  void update_receive_rtt(Time sample, bool window_based);
  // tcp_check_space() after an ACK freed send buffer: a blocked writer may
  // get more room (tcp_new_space()).
  void on_send_space_freed();

  // The send buffer (sk_wmem_queued, sk_stream_memory_free(),
  // __sk_stream_is_writeable(); `wake` as in tcp_stream_memory_free()).
  uint32_t write_seq() const { return snd_una_ + static_cast<uint32_t>(snd_buf_.size()); }
  size_t wmem_queued() const {
    return snd_buf_.size() + chunks_.count() * static_cast<size_t>(skb_truesize(env_.settings));
  }
  uint32_t notsent_limit() const {
    return notsent_lowat_ ? notsent_lowat_ : env_.settings.notsent_lowat;
  }
  bool memory_free(int wake) const;
  bool writable() const;
  // tcp_sendmsg()'s steps: the chunk being filled, the marks, the pushes.
  uint32_t size_goal() const;
  bool forced_push() const;
  void mark_push();
  void push(bool more, Time now);
  // The receive buffer: what it offers as window (tcp_full_space()).
  int full_space() const;
  uint32_t window_limit() const;
  // tcp_select_initial_window() for our SYN or SYN-ACK: its window, the
  // window clamp and our window scale.
  void choose_initial_window(uint32_t mss, bool wscale_ok);
  // Room in the rings for `n` more bytes (they grow; the limits are above).
  void reserve_send(size_t n);
  void reserve_receive(size_t n);

  // Options (RFC 7323, RFC 2018).
  void negotiate_options(const wire::TcpOptions& peer, bool we_offered);
  void update_ts_recent(const wire::TcpSegment& seg);
  bool paws_reject(const wire::TcpSegment& seg) const;
  uint32_t ts_now() const;

  // Output.
  // A segment from us with the current ACK, window and timestamp filled in.
  wire::TcpHeader header(uint32_t seq, uint8_t flags) const;
  // The receive window to offer in bytes, and as the header field.
  uint32_t receive_window() const;
  void emit(const wire::TcpHeader& h, Bytes payload);
  void send_syn(bool with_ack, Time now);
  void send_ack();
  void send_rst_for(const wire::TcpSegment& seg);
  // tcp_write_xmit(): new data as cwnd, the peer's window, Nagle and
  // TCP_CORK allow, in TSO bursts. `nonagle` is Linux's tp->nonagle or the
  // caller's override (kNaglePush to push past cork, kNagleCork for
  // MSG_MORE); `one`: a single burst (tcp_push_one()).
  void output(Time now);
  void output(Time now, uint8_t nonagle, bool one = false);
  // tcp_tso_segs() with tcp_cwnd_test(): segments in the next burst.
  uint32_t burst_quota() const;
  // Emits [seq, seq + len) (+ FIN) from the send buffer; advances SND.NXT.
  // `push`: PSH regardless of the chunk marks (the end of a TSO burst).
  void send_data_segment(uint32_t seq, size_t len, bool fin, bool push, Time now);
  void maybe_send_window_update(bool drained);
  // Delayed ACK (Linux tcp_event_data_recv(), __tcp_ack_snd_check()).
  void on_data_received(size_t len, Time now);
  void schedule_delayed_ack(Time now);
  void enter_quickack_mode();

  // Timers.
  void arm_retransmit(Time now);
  void on_retransmit_timeout(Time now);
  bool retransmissions_exhausted(Time now) const;
  void enter_time_wait(Time now);
  void on_keepalive_timer(Time now);
  Time keepalive_idle() const;
  void send_window_probe(Time now);
  void set_state(TcpState s);
  // Ends the connection: CLOSED, with `err` as the program's pending error.
  void terminate(int err);

  uint32_t send_window_end() const { return snd_una_ + snd_wnd_; }
  uint32_t flight_size() const { return snd_nxt_ - snd_una_; }
  bool fin_queued() const { return fin_queued_; }
  uint32_t fin_seq() const { return snd_una_ + static_cast<uint32_t>(snd_buf_.size()); }
  bool fin_sent() const { return fin_queued_ && snd_nxt_ == fin_seq() + 1; }

  const TcpEnvironment env_;
  FourTuple tuple_;
  TcpState state_ = TcpState::Closed;

  // Send sequence space (RFC 9293 §3.3.1). snd_buf_ holds bytes from snd_una_.
  uint32_t iss_;
  uint32_t snd_una_;
  uint32_t snd_nxt_;
  uint32_t snd_wnd_ = 0;
  uint32_t snd_wl1_ = 0;
  uint32_t snd_wl2_ = 0;
  uint32_t snd_max_;        // highest sequence number sent + 1
  uint32_t snd_sml_;        // end of the last short segment sent (Minshall's Nagle)
  uint8_t snd_wscale_ = 0;  // the peer's shift for the windows it sends
  uint16_t snd_mss_ = 536;
  bool fin_queued_ = false;
  ByteRing snd_buf_;
  SendChunks chunks_;
  // Linux's tp->nonagle bits.
  static constexpr uint8_t kNagleOff = 1;   // TCP_NODELAY
  static constexpr uint8_t kNagleCork = 2;  // TCP_CORK (or MSG_MORE for one push)
  static constexpr uint8_t kNaglePush = 4;  // push what is queued once, past the cork
  uint8_t nonagle_ = 0;
  uint32_t pushed_seq_;  // write_seq at the last PSH mark (forced_push())
  int sndbuf_;           // sk_sndbuf
  bool sndbuf_locked_ = false;
  uint32_t notsent_lowat_ = 0;
  mutable bool nospace_ = false;  // SOCK_NOSPACE: a writer found the buffer full
  bool queue_shrunk_ = false;     // SOCK_QUEUE_SHRUNK: an ACK freed send buffer

  // Receive sequence space.
  uint32_t irs_ = 0;
  uint32_t rcv_nxt_ = 0;
  uint32_t rcv_adv_edge_ = 0;  // right edge of the last advertised window
  uint32_t rcv_wup_ = 0;       // RCV.NXT when the last ACK left (Linux rcv_wup)
  uint8_t rcv_wscale_ = 0;     // our shift for the windows we send
  ByteRing rcv_buf_;
  int rcvbuf_;  // sk_rcvbuf
  bool rcvbuf_locked_ = false;
  uint32_t window_clamp_ = 0;  // the largest window we offer (tp->window_clamp)
  uint32_t syn_window_ = 0;    // what our SYN or SYN-ACK offers (rcv_wnd at the start)
  ReassemblyQueue ofo_;        // segments beyond RCV.NXT
  SackState sack_;             // the blocks we report (RFC 2018, RFC 2883)

  // Loss recovery (RACK-TLP, SACK scoreboard) and the congestion window,
  // once the handshake is done.
  LossRecovery recovery_;
  CongestionWindow cwnd_;
  bool established_ = false;
  uint32_t max_window_ = 0;  // the largest window the peer offered
  // Receive-buffer auto-tuning (tp->rcvq_space): what the program read in
  // the last measured RTT, and where and when this measure started.
  size_t rcvq_space_ = 0;
  uint32_t rcvq_seq_ = 0;
  Time rcvq_time_{};
  // The receiver's RTT estimate (tp->rcv_rtt_est), 8 x microseconds, 0 until
  // measured: the time a window's worth of data takes to arrive, or the
  // timestamps the peer echoes.
  uint64_t rcv_rtt_us8_ = 0;
  uint32_t rcv_rtt_seq_ = 0;
  std::optional<Time> rcv_rtt_time_;
  uint32_t rcv_rtt_last_tsecr_ = 0;

  // Retransmission (RFC 6298 + Linux's time-based give-up).
  RtoEstimator rtt_;
  Time rto_ = kRtoInitial;
  int retransmits_ = 0;                // consecutive timeouts (icsk_retransmits)
  std::optional<Time> first_retrans_;  // when the retransmitted data first left (retrans_stamp)
  std::optional<Time> retransmit_at_;
  std::optional<Time> time_wait_until_;
  Time time_wait_entered_{};
  std::optional<Time> fin_wait2_until_;
  std::optional<Time> persist_at_;  // zero-window probe (RFC 9293 §3.8.6.1)
  int probes_ = 0;
  Keepalive keepalive_;
  Time user_timeout_{};
  uint16_t user_mss_ = 0;
  uint16_t adv_mss() const {
    return user_mss_ ? std::min(user_mss_, env_.local_mss) : env_.local_mss;
  }
  std::optional<Time> keepalive_at_;
  int keepalive_probes_ = 0;  // unanswered keepalive probes
  Time last_ack_rcv_{};       // rcv_tstamp: when the last ACK arrived
  uint64_t bytes_acked_ = 0;
  uint64_t bytes_received_ = 0;
  uint32_t segs_in_ = 0;
  uint32_t segs_out_ = 0;
  std::optional<uint32_t> rtt_seq_;  // segment being timed (Karn: not if retransmitted)
  Time rtt_sent_{};

  // Shutdown and errors (Linux's sk_shutdown bits and sk_err).
  bool rcv_shutdown_ = false;
  bool snd_shutdown_ = false;
  int error_ = 0;
  int soft_error_ = 0;     // sk_err_soft: reported if the connection times out
  uint16_t path_mtu_ = 0;  // 0 until an ICMP lowers it (RFC 1191)
  bool orphaned_ = false;
  bool reuse_addr_ = false;
  bool was_established_ = false;
  bool ack_pending_ = false;
  // net.ipv4.tcp_invalid_ratelimit's default: ACKs to out-of-window segments
  // in TIME_WAIT at most this often.
  static constexpr Time kInvalidRateLimit = std::chrono::milliseconds(500);
  std::optional<Time> last_oow_ack_;  // tw_last_oow_ack_time

  // Options both sides agreed on in the handshake.
  bool wscale_ok_ = false;
  bool ts_ok_ = false;
  bool sack_ok_ = false;
  uint16_t peer_mss_ = 536;
  uint32_t ts_offset_ = 0;
  uint32_t ts_recent_ = 0;  // RFC 7323 TS.Recent
  std::optional<Time> ts_recent_stamp_;
  Time now_{};  // the time of the event being processed

  // Delayed ACK state (Linux struct inet_connection_sock::icsk_ack).
  std::optional<Time> delack_at_;
  bool ack_scheduled_ = false;  // ICSK_ACK_SCHED: an ACK is owed
  bool ack_pushed_ = false;     // ICSK_ACK_PUSHED: a short segment arrived
  int quick_acks_ = 0;
  bool pingpong_ = false;   // interactive: ACKs ride on replies
  Time ato_{};              // 0 until the first data (TCP_ATO_MIN then)
  Time last_rcv_{};         // lrcvtime
  Time last_snd_{};         // lsndtime
  uint16_t rcv_mss_ = 536;  // estimate of the peer's segment size
  bool peer_fin_ = false;   // Linux SOCK_DONE: reads return 0 from now on

  // Urgent data (RFC 9293 §3.8.5 with BSD's pointer, as Linux has it).
  uint32_t snd_up_;  // SND.UP: past the last urgent byte we sent; SND.UNA when none
  // tp->urg_data: none, a pointer whose byte has not arrived, the byte
  // (kUrgValid | byte), or read with MSG_OOB.
  static constexpr uint16_t kUrgValid = 0x100;
  static constexpr uint16_t kUrgNotYet = 0x200;
  static constexpr uint16_t kUrgRead = 0x400;
  uint16_t urg_data_ = 0;
  uint32_t urg_seq_ = 0;  // the urgent byte's sequence number
  bool urg_inline_ = false;
  uint32_t urg_marks_ = 0;
};

// The RST answering `seg` when no connection takes it (RFC 9293 §3.10.7.1).
wire::TcpHeader reset_for(const wire::TcpSegment& seg);

}  // namespace veer::core
