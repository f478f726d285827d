// The sender's scoreboard: one entry per transmitted segment from SND.UNA to
// SND.NXT with Linux's tags (SACKED_ACKED, LOST, SACKED_RETRANS,
// EVER_RETRANS) and the counters derived from them (packets_out, sacked_out,
// lost_out, retrans_out). ACK and SACK processing follows Linux's
// tcp_sacktag_write_queue() and tcp_clean_rtx_queue(); the segments are also
// kept in send-time order, Linux's tsorted_sent_queue, for RACK.
//
// One entry is one packet (Linux pcount 1): a SACK block tags an entry only
// when it covers it whole (tcp_match_skb_to_sack), and a cumulative ACK inside
// an entry leaves it in the queue until its end is acknowledged.
#pragma once

#include <cstdint>
#include <deque>
#include <memory_resource>
#include <optional>
#include <span>
#include <vector>

#include "core/tcp/recovery/recovery_types.h"
#include "core/tcp/seq.h"
#include "core/types.h"
#include "core/wire/tcp.h"

namespace veer::core {

struct SentSegment {
  uint32_t seq = 0;
  uint32_t end = 0;  // one past the last sequence number (SYN and FIN count)
  Time first_sent{};
  Time sent{};                     // latest (re)transmission: Linux skb_mstamp
  uint64_t order = 0;              // the connection's transmission count when it left
  uint32_t delivered_at_send = 0;  // the delivered count when it left (tx.delivered)
  uint16_t transmissions = 0;      // 1 + retransmissions + probes
  bool retrans_in_flight = false;  // TCPCB_SACKED_RETRANS: a retransmission is out
  bool sacked = false;             // TCPCB_SACKED_ACKED
  bool lost = false;               // TCPCB_LOST
  bool syn = false;
  bool fin = false;
  // TCPCB_EVER_RETRANS: Karn's rule takes no RTT sample from it.
  bool ever_retransmitted() const { return transmissions > 1; }
  uint32_t length() const { return end - seq; }
};

// What the ACK processing needs from the rest of the sender.
struct AckContext {
  uint32_t mss = 536;                    // tp->mss_cache
  uint32_t max_window = 0xffffffff;      // largest window the peer offered (tp->max_window)
  std::optional<uint32_t> undo_marker;   // SND.UNA when the recovery began (tp->undo_marker)
  std::optional<uint32_t> tlp_high_seq;  // SND.NXT when the outstanding TLP left
  uint32_t high_seq = 0;                 // SND.NXT when the recovery began (tp->high_seq)
  std::optional<Time> min_rtt;           // RACK's retransmission ambiguity rule
  std::optional<Time> ts_echo;           // when the segment whose TSval came back was sent
  bool ece = false;                      // the ACK carries ECE
  // For the RFC 5681 §2 duplicate-ACK test:
  bool carries_data_or_syn_fin = false;  // (b), (c)
  bool window_changed = false;           // (e)
};

struct AckResult {
  bool invalid = false;       // acknowledges data never sent: the caller drops it
  bool old_ack = false;       // below SND.UNA: only its SACK information counts
  bool una_advanced = false;  // FLAG_SND_UNA_ADVANCED
  uint32_t bytes_acked = 0;
  uint32_t packets_acked = 0;    // entries removed (pkts_acked)
  uint32_t newly_sacked = 0;     // entries newly SACKed
  uint32_t delivered = 0;        // newly delivered packets (tcp_count_delivered)
  uint32_t prior_delivered = 0;  // delivered count when the most recently sent delivered entry left
  bool data_acked = false;       // FLAG_DATA_ACKED
  bool syn_acked = false;        // FLAG_SYN_ACKED
  bool retrans_data_acked = false;  // FLAG_RETRANS_DATA_ACKED
  bool orig_sack_acked = false;     // FLAG_ORIG_SACK_ACKED: never-retransmitted data (s)acked
  bool data_sacked = false;         // FLAG_DATA_SACKED
  bool sack_reneging = false;       // FLAG_SACK_RENEGING: the new head was SACKed
  bool set_xmit_timer = false;      // FLAG_SET_XMIT_TIMER
  bool ack_maybe_delayed = false;   // FLAG_ACK_MAYBE_DELAYED
  bool duplicate_ack = false;       // RFC 5681 §2 definition

  // D-SACK (RFC 2883 §4, Linux tcp_check_dsack()).
  bool dsack = false;      // a D-SACK that Linux accepts (FLAG_DSACKING_ACK)
  bool dsack_tlp = false;  // it reports the TLP probe (FLAG_DSACK_TLP)
  uint32_t dsack_segments = 0;
  wire::SackBlock dsack_block{};
  // D-SACKed retransmissions above undo_marker (decrement undo_retrans).
  uint32_t dsacked_retransmissions = 0;

  // RTT candidates, Karn-safe (never from a retransmitted entry).
  std::optional<Time> rtt_seq;   // oldest newly cum-acked entry (seq_rtt_us)
  std::optional<Time> rtt_sack;  // oldest newly SACKed entry (sack_rtt_us)
  std::optional<Time> rtt_ca;    // newest (s)acked entry, for min_rtt/CC (ca_rtt_us)
  // Linux tcp_ack_update_rtt(): the cumulative ACK's sample, else the SACK's.
  std::optional<Time> rtt_sample() const { return rtt_seq ? rtt_seq : rtt_sack; }

  // RACK (tcp_rack_advance over every newly delivered entry).
  bool rack_advanced = false;
  Time rack_rtt{};          // RTT of the last entry that advanced RACK
  Time rack_xmit{};         // send time of the most recently sent delivered entry
  uint64_t rack_order = 0;  // and its transmission count
  uint32_t rack_end = 0;    // and its end

  // Reordering evidence for tcp_check_sack_reordering().
  std::optional<uint32_t> reorder_sack;  // from SACKs (state->reord)
  std::optional<uint32_t> reorder_ack;   // from the cumulative ACK (clean_rtx reord)
  uint32_t prior_fack = 0;               // highest SACKed end before this ACK
};

class RetransmitQueue {
 public:
  explicit RetransmitQueue(std::pmr::memory_resource* memory = std::pmr::get_default_resource());

  // Empties the queue; SND.UNA = SND.NXT = `snd_una`.
  void reset(uint32_t snd_una);

  // [seq, end) left the host at `now`. New data must start at snd_nxt();
  // a retransmission may cover one entry, part of one (the entry is split, as
  // tcp_fragment() does) or several.
  void on_send(uint32_t seq, uint32_t end, Time now, SendKind kind, bool syn = false,
               bool fin = false);

  // An ACK for `cum_ack` with `sacks` in the order they appear in the segment.
  AckResult on_ack(uint32_t cum_ack, std::span<const wire::SackBlock> sacks, Time now,
                   const AckContext& ctx, bool sack_enabled = true);

  // tcp_mark_skb_lost(): returns true when the entry newly counts as lost or a
  // retransmission of it is now known lost. `unlink` drops it from the
  // send-time order as RACK does.
  bool mark_lost(uint32_t seq, bool unlink = false);
  // tcp_timeout_mark_lost(): on RTO mark everything lost except, with RACK,
  // entries sent less than `rack_rtt` ago. If the head was SACKed the receiver
  // reneged: forget all SACKs. Returns true on reneging.
  bool mark_lost_on_timeout(Time now, std::optional<Time> rack_rtt);
  // tcp_undo_cwnd_reduction(unmark_loss): the losses were spurious.
  void clear_lost();

  // Walks entries in send-time order (tsorted_sent_queue), oldest first. `fn`
  // returns Visit::Continue, Visit::MarkLost (marks and unlinks), or Visit::Stop.
  enum class Visit { Continue, MarkLost, Stop };
  template <typename Fn>
  void for_each_by_send_time(Fn&& fn);
  // Walks entries in sequence order.
  template <typename Fn>
  void for_each_by_seq(Fn&& fn);
  // Reads every entry in sequence order (TCP_INFO, checks).
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (uint32_t idx : order_) fn(slots_[idx].seg);
  }

  // Linux tcp_xmit_retransmit_queue(): the lowest entry marked lost, not
  // SACKed and not already retransmitted; none while retrans_out >= lost_out.
  const SentSegment* next_retransmit();

  // NewReno emulation of sacked_out from duplicate ACKs (no SACK).
  void set_reno_sacked(uint32_t n) { sacked_out_ = n; }
  void add_delivered(uint32_t n) { delivered_ += n; }

  uint32_t snd_una() const { return snd_una_; }
  uint32_t snd_nxt() const { return snd_nxt_; }
  bool empty() const { return order_.empty(); }
  uint32_t packets_out() const { return static_cast<uint32_t>(order_.size()); }
  uint32_t sacked_out() const { return sacked_out_; }
  uint32_t lost_out() const { return lost_out_; }
  uint32_t retrans_out() const { return retrans_out_; }
  uint32_t left_out() const { return sacked_out_ + lost_out_; }
  // Linux tcp_packets_in_flight(): packets_out - (sacked_out + lost_out) + retrans_out.
  uint32_t in_flight() const { return packets_out() - left_out() + retrans_out_; }
  // Linux tcp_highest_sack_seq(): end of the highest SACKed entry, or SND.UNA.
  uint32_t fack() const { return sacked_out_ > 0 ? highest_sack_end_ : snd_una_; }
  uint32_t total_retrans() const { return total_retrans_; }  // tp->total_retrans
  uint32_t delivered() const { return delivered_; }          // tp->delivered
  uint32_t lost_total() const { return lost_total_; }        // tp->lost
  const SentSegment* head() const;
  const SentSegment* last() const;
  // When the head was last (re)sent: the RTO runs from it (tcp_rto_delta_us).
  std::optional<Time> head_sent() const;
  // When the oldest unacknowledged data first left.
  std::optional<Time> head_first_sent() const;
  // TCPCB_EVER_RETRANS on the head or a retransmission out (tcp_any_retrans_done).
  bool any_retrans_done() const;

 private:
  static constexpr uint32_t kNone = 0xffffffff;
  struct Slot {
    SentSegment seg;
    uint32_t prev = kNone;  // send-time order links
    uint32_t next = kNone;
    bool linked = false;
  };

  uint32_t allocate(const SentSegment& s);
  void release(uint32_t idx);
  void link_tail(uint32_t idx);
  void unlink(uint32_t idx);
  // Position in order_ of the first entry whose end is after `seq`.
  size_t find_pos(uint32_t seq) const;
  void split(size_t pos, uint32_t at);
  void transmitted(uint32_t idx, Time now, SendKind kind);
  bool mark_lost_slot(uint32_t idx, bool unlink_it);

  struct Block {
    uint32_t left;
    uint32_t right;
    bool dsack;
  };
  bool check_dsack(uint32_t cum_ack, std::span<const wire::SackBlock> sacks, uint32_t prior_una,
                   const AckContext& ctx, AckResult& r);
  bool sack_block_valid(bool dsack, uint32_t left, uint32_t right, const AckContext& ctx) const;
  void sacktag(uint32_t cum_ack, std::span<const wire::SackBlock> sacks, uint32_t prior_una,
               Time now, const AckContext& ctx, AckResult& r);
  void sacktag_one(uint32_t idx, bool dsack, Time now, const AckContext& ctx, AckResult& r,
                   uint32_t& reord, std::optional<Time>& first_sackt, Time& last_sackt);
  void clean(uint32_t prior_una, Time now, const AckContext& ctx, bool sack_enabled, AckResult& r);
  void rack_candidate(const SentSegment& s, Time now, const AckContext& ctx, AckResult& r) const;
  void rate_delivered(const SentSegment& s, AckResult& r);

  std::pmr::vector<Slot> slots_;
  std::pmr::vector<uint32_t> free_;
  std::pmr::deque<uint32_t> order_;  // slot indices by sequence number
  uint32_t ts_head_ = kNone;
  uint32_t ts_tail_ = kNone;
  uint32_t retransmit_hint_ = 0;  // no retransmission candidate below this seq

  uint32_t snd_una_ = 0;
  uint32_t snd_nxt_ = 0;
  uint32_t sacked_out_ = 0;
  uint32_t lost_out_ = 0;
  uint32_t retrans_out_ = 0;
  uint32_t highest_sack_end_ = 0;
  uint32_t total_retrans_ = 0;
  uint32_t dsack_dups_ = 0;
  uint32_t delivered_ = 0;
  uint32_t lost_total_ = 0;
  // The most recently sent entry delivered by the ACK being processed.
  Time rate_sent_{};
  uint64_t rate_order_ = 0;
  uint32_t rate_end_ = 0;
  uint64_t transmissions_ = 0;  // every (re)transmission, for SentSegment::order
};

template <typename Fn>
void RetransmitQueue::for_each_by_send_time(Fn&& fn) {
  uint32_t idx = ts_head_;
  while (idx != kNone) {
    uint32_t next = slots_[idx].next;
    Visit v = fn(static_cast<const SentSegment&>(slots_[idx].seg));
    if (v == Visit::Stop) return;
    if (v == Visit::MarkLost) mark_lost_slot(idx, true);
    idx = next;
  }
}

template <typename Fn>
void RetransmitQueue::for_each_by_seq(Fn&& fn) {
  for (size_t i = 0; i < order_.size(); ++i) {
    uint32_t idx = order_[i];
    Visit v = fn(static_cast<const SentSegment&>(slots_[idx].seg));
    if (v == Visit::Stop) return;
    if (v == Visit::MarkLost) mark_lost_slot(idx, false);
  }
}

}  // namespace veer::core
