#include "core/tcp/recovery/retransmit_queue.h"

#include <algorithm>
#include <array>

namespace veer::core {

RetransmitQueue::RetransmitQueue(std::pmr::memory_resource* memory)
    : slots_(memory), free_(memory), order_(memory) {}

void RetransmitQueue::reset(uint32_t snd_una) {
  slots_.clear();
  free_.clear();
  order_.clear();
  ts_head_ = ts_tail_ = kNone;
  snd_una_ = snd_nxt_ = retransmit_hint_ = highest_sack_end_ = snd_una;
  sacked_out_ = lost_out_ = retrans_out_ = 0;
  total_retrans_ = dsack_dups_ = delivered_ = lost_total_ = 0;
}

uint32_t RetransmitQueue::allocate(const SentSegment& s) {
  uint32_t idx;
  if (!free_.empty()) {
    idx = free_.back();
    free_.pop_back();
    slots_[idx] = Slot{};
  } else {
    idx = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  slots_[idx].seg = s;
  return idx;
}

void RetransmitQueue::release(uint32_t idx) {
  unlink(idx);
  free_.push_back(idx);
}

void RetransmitQueue::link_tail(uint32_t idx) {
  Slot& s = slots_[idx];
  if (s.linked) unlink(idx);
  s.prev = ts_tail_;
  s.next = kNone;
  if (ts_tail_ != kNone) {
    slots_[ts_tail_].next = idx;
  } else {
    ts_head_ = idx;
  }
  ts_tail_ = idx;
  s.linked = true;
}

void RetransmitQueue::unlink(uint32_t idx) {
  Slot& s = slots_[idx];
  if (!s.linked) return;
  if (s.prev != kNone) {
    slots_[s.prev].next = s.next;
  } else {
    ts_head_ = s.next;
  }
  if (s.next != kNone) {
    slots_[s.next].prev = s.prev;
  } else {
    ts_tail_ = s.prev;
  }
  s.prev = s.next = kNone;
  s.linked = false;
}

size_t RetransmitQueue::find_pos(uint32_t seq) const {
  auto it = std::partition_point(order_.begin(), order_.end(),
                                 [&](uint32_t idx) { return seq_le(slots_[idx].seg.end, seq); });
  return static_cast<size_t>(it - order_.begin());
}

// tcp_fragment(): both halves keep the tags, so each counts once more; the
// tail follows the head in send-time order.
void RetransmitQueue::split(size_t pos, uint32_t at) {
  uint32_t idx = order_[pos];
  SentSegment tail = slots_[idx].seg;
  tail.seq = at;
  tail.syn = false;
  slots_[idx].seg.end = at;
  slots_[idx].seg.fin = false;
  if (tail.sacked) ++sacked_out_;
  if (tail.lost) ++lost_out_;
  if (tail.retrans_in_flight) ++retrans_out_;
  uint32_t tail_idx = allocate(tail);
  order_.insert(order_.begin() + static_cast<std::ptrdiff_t>(pos) + 1, tail_idx);
  if (slots_[idx].linked) {
    Slot& t = slots_[tail_idx];
    t.prev = idx;
    t.next = slots_[idx].next;
    if (t.next != kNone) {
      slots_[t.next].prev = tail_idx;
    } else {
      ts_tail_ = tail_idx;
    }
    slots_[idx].next = tail_idx;
    t.linked = true;
  }
}

// __tcp_retransmit_skb() / tcp_retransmit_skb(): the send time moves to now
// and the entry to the tail of the send-time order (tcp_update_skb_after_send).
void RetransmitQueue::transmitted(uint32_t idx, Time now, SendKind kind) {
  SentSegment& s = slots_[idx].seg;
  s.sent = now;
  s.order = ++transmissions_;
  ++s.transmissions;
  s.delivered_at_send = delivered_;  // tcp_rate_skb_sent()
  ++total_retrans_;
  if (kind == SendKind::Retransmit && !s.retrans_in_flight && !s.sacked) {
    s.retrans_in_flight = true;
    ++retrans_out_;
  }
  if (!s.sacked) link_tail(idx);
}

void RetransmitQueue::on_send(uint32_t seq, uint32_t end, Time now, SendKind kind, bool syn,
                              bool fin) {
  if (!seq_lt(seq, end)) return;
  // The part below SND.NXT was sent before: a retransmission or a probe.
  if (seq_lt(seq, snd_nxt_)) {
    uint32_t rend = seq_lt(end, snd_nxt_) ? end : snd_nxt_;
    SendKind rk = kind == SendKind::New ? SendKind::Retransmit : kind;
    size_t pos = find_pos(seq);
    if (pos < order_.size() && seq_lt(slots_[order_[pos]].seg.seq, seq) && seq_gt(seq, snd_una_)) {
      split(pos, seq);
      ++pos;
    }
    for (; pos < order_.size(); ++pos) {
      const SentSegment& s = slots_[order_[pos]].seg;
      if (!seq_lt(s.seq, rend)) break;
      if (seq_lt(rend, s.end)) split(pos, rend);
      transmitted(order_[pos], now, rk);
    }
    seq = rend;
    if (!seq_lt(seq, end)) return;
  }
  SentSegment s;
  s.seq = seq;
  s.end = end;
  s.first_sent = s.sent = now;
  s.order = ++transmissions_;
  s.delivered_at_send = delivered_;
  s.transmissions = 1;
  s.syn = syn;
  s.fin = fin;
  uint32_t idx = allocate(s);
  order_.push_back(idx);
  link_tail(idx);
  snd_nxt_ = end;
}

bool RetransmitQueue::mark_lost_slot(uint32_t idx, bool unlink_it) {
  SentSegment& s = slots_[idx].seg;
  if (s.sacked) return false;
  bool counted = false;
  if (s.lost) {
    if (s.retrans_in_flight) {
      // The retransmission is lost too (LINUX_MIB_TCPLOSTRETRANSMIT).
      s.retrans_in_flight = false;
      --retrans_out_;
      ++lost_total_;
      counted = true;
    }
  } else {
    s.lost = true;
    ++lost_out_;
    ++lost_total_;
    counted = true;
  }
  if (!s.retrans_in_flight && seq_lt(s.seq, retransmit_hint_)) retransmit_hint_ = s.seq;
  if (unlink_it) unlink(idx);
  return counted;
}

bool RetransmitQueue::mark_lost(uint32_t seq, bool unlink_it) {
  size_t pos = find_pos(seq);
  if (pos >= order_.size() || slots_[order_[pos]].seg.seq != seq) return false;
  return mark_lost_slot(order_[pos], unlink_it);
}

bool RetransmitQueue::mark_lost_on_timeout(Time now, std::optional<Time> rack_rtt) {
  if (order_.empty()) return false;
  bool reneged = slots_[order_.front()].seg.sacked;
  if (reneged) sacked_out_ = 0;
  for (size_t pos = 0; pos < order_.size(); ++pos) {
    uint32_t idx = order_[pos];
    SentSegment& s = slots_[idx].seg;
    if (reneged) {
      s.sacked = false;
    } else if (rack_rtt && pos != 0 && *rack_rtt > now - s.sent) {
      continue;  // RACK: sent too recently to be deemed lost yet
    }
    mark_lost_slot(idx, false);
  }
  retransmit_hint_ = snd_una_;
  return reneged;
}

void RetransmitQueue::clear_lost() {
  for (uint32_t idx : order_) slots_[idx].seg.lost = false;
  lost_out_ = 0;
}

const SentSegment* RetransmitQueue::next_retransmit() {
  if (retrans_out_ >= lost_out_) return nullptr;
  for (size_t pos = find_pos(retransmit_hint_); pos < order_.size(); ++pos) {
    const SentSegment& s = slots_[order_[pos]].seg;
    if (s.lost && !s.sacked && !s.retrans_in_flight) {
      retransmit_hint_ = s.seq;
      return &s;
    }
  }
  retransmit_hint_ = snd_nxt_;
  return nullptr;
}

const SentSegment* RetransmitQueue::head() const {
  return order_.empty() ? nullptr : &slots_[order_.front()].seg;
}

const SentSegment* RetransmitQueue::last() const {
  return order_.empty() ? nullptr : &slots_[order_.back()].seg;
}

std::optional<Time> RetransmitQueue::head_sent() const {
  if (order_.empty()) return std::nullopt;
  return slots_[order_.front()].seg.sent;
}

std::optional<Time> RetransmitQueue::head_first_sent() const {
  if (order_.empty()) return std::nullopt;
  return slots_[order_.front()].seg.first_sent;
}

bool RetransmitQueue::any_retrans_done() const {
  if (retrans_out_ > 0) return true;
  return !order_.empty() && slots_[order_.front()].seg.ever_retransmitted();
}

// --- ACK processing ----------------------------------------------------------

// Linux tcp_is_sackblock_valid(): inside [SND.UNA, SND.NXT), or a D-SACK
// below SND.UNA but not older than undo_marker (with max_window slack).
bool RetransmitQueue::sack_block_valid(bool dsack, uint32_t left, uint32_t right,
                                       const AckContext& ctx) const {
  if (seq_gt(right, snd_nxt_) || !seq_lt(left, right)) return false;
  if (!seq_lt(left, snd_nxt_)) return false;
  if (seq_gt(left, snd_una_)) return true;
  if (!dsack || !ctx.undo_marker) return false;
  if (seq_gt(right, snd_una_)) return false;
  if (!seq_lt(left, *ctx.undo_marker)) return true;
  if (!seq_gt(right, *ctx.undo_marker)) return false;
  return !seq_lt(left, right - ctx.max_window);
}

// RFC 2883 §4 as Linux tcp_check_dsack()/tcp_dsack_seen(): the first block is
// a D-SACK when it lies below the cumulative ACK or inside the second block.
bool RetransmitQueue::check_dsack(uint32_t cum_ack, std::span<const wire::SackBlock> sacks,
                                  uint32_t prior_una, const AckContext& ctx, AckResult& r) {
  const wire::SackBlock& b0 = sacks[0];
  if (!seq_lt(b0.left, cum_ack)) {
    if (sacks.size() < 2) return false;
    const wire::SackBlock& b1 = sacks[1];
    if (seq_gt(b0.right, b1.right) || seq_lt(b0.left, b1.left)) return false;
  }
  if (!seq_lt(b0.left, b0.right)) return false;
  uint32_t len = b0.right - b0.left;
  if (len > ctx.max_window) return false;  // larger than any window: dubious
  uint32_t segs = 1;
  if (len > ctx.mss && ctx.mss > 0) {
    segs = (len + ctx.mss - 1) / ctx.mss;
  } else if (ctx.tlp_high_seq && *ctx.tlp_high_seq == b0.right) {
    r.dsack_tlp = true;
  }
  dsack_dups_ += segs;
  // More duplicates than we ever retransmitted: not caused by us.
  if (dsack_dups_ > total_retrans_) return false;
  r.dsack = true;
  r.dsack_segments = segs;
  r.dsack_block = b0;
  delivered_ += segs;  // a spurious retransmission was delivered
  r.delivered += segs;
  // D-SACK for data already cumulatively acknowledged: count for undo.
  if (ctx.undo_marker && !seq_gt(b0.right, prior_una) && seq_gt(b0.right, *ctx.undo_marker)) {
    r.dsacked_retransmissions += segs;
  }
  return true;
}

void RetransmitQueue::rack_candidate(const SentSegment& s, Time now, const AckContext& ctx,
                                     AckResult& r) const {
  Time rtt = now - s.sent;
  // tcp_rack_advance(): a retransmitted segment acknowledged sooner than
  // min_rtt was probably the original's ACK; it says nothing about RACK.
  if (s.ever_retransmitted() && (!ctx.min_rtt || rtt < *ctx.min_rtt)) return;
  if (!r.rack_advanced ||
      sent_after(s.sent, s.order, s.end, r.rack_xmit, r.rack_order, r.rack_end)) {
    r.rack_xmit = s.sent;
    r.rack_order = s.order;
    r.rack_end = s.end;
  }
  r.rack_advanced = true;
  r.rack_rtt = rtt;
}

// tcp_rate_skb_delivered(): remember the delivered count when the most
// recently sent of the newly delivered segments left.
void RetransmitQueue::rate_delivered(const SentSegment& s, AckResult& r) {
  if (r.prior_delivered == 0 ||
      sent_after(s.sent, s.order, s.end, rate_sent_, rate_order_, rate_end_)) {
    r.prior_delivered = s.delivered_at_send;
    rate_sent_ = s.sent;
    rate_order_ = s.order;
    rate_end_ = s.end;
  }
}

void RetransmitQueue::sacktag_one(uint32_t idx, bool dsack, Time now, const AckContext& ctx,
                                  AckResult& r, uint32_t& reord, std::optional<Time>& first_sackt,
                                  Time& last_sackt) {
  SentSegment& s = slots_[idx].seg;
  if (dsack && s.ever_retransmitted()) {
    if (ctx.undo_marker && seq_gt(s.end, *ctx.undo_marker)) ++r.dsacked_retransmissions;
    if (s.sacked && seq_lt(s.seq, reord)) reord = s.seq;
  }
  if (!seq_gt(s.end, snd_una_)) return;  // about to be removed by the cumulative ACK

  if (!s.sacked) {
    rack_candidate(s, now, ctx, r);
    if (s.retrans_in_flight) {
      // Only an L|R entry loses its retransmission tag: otherwise the
      // retransmission is believed to be still in flight.
      if (s.lost) {
        s.lost = false;
        s.retrans_in_flight = false;
        --lost_out_;
        --retrans_out_;
      }
    } else {
      if (!s.ever_retransmitted()) {
        // A never-retransmitted segment below the highest SACK filled a
        // hole by itself: reordering.
        if (seq_lt(s.seq, fack()) && seq_lt(s.seq, reord)) reord = s.seq;
        if (!seq_gt(s.end, ctx.high_seq)) r.orig_sack_acked = true;
        if (!first_sackt) first_sackt = s.sent;
        last_sackt = s.sent;
      }
      if (s.lost) {
        s.lost = false;
        --lost_out_;
      }
    }
    s.sacked = true;
    r.data_sacked = true;
    ++sacked_out_;
    ++delivered_;
    ++r.delivered;
    ++r.newly_sacked;
    unlink(idx);
    rate_delivered(s, r);
    if (!seq_lt(s.seq, highest_sack_end_)) highest_sack_end_ = s.end;
  }
  // D-SACK: the retransmission was redundant and is no longer in flight.
  if (dsack && s.retrans_in_flight) {
    s.retrans_in_flight = false;
    --retrans_out_;
  }
}

void RetransmitQueue::sacktag(uint32_t cum_ack, std::span<const wire::SackBlock> sacks,
                              uint32_t prior_una, Time now, const AckContext& ctx, AckResult& r) {
  bool found_dsack = check_dsack(cum_ack, sacks, prior_una, ctx, r);
  // Too old an ACK to trust its SACK blocks (tcp_sacktag_write_queue()).
  if (ctx.max_window < 0x80000000u && seq_lt(cum_ack, prior_una - ctx.max_window)) return;
  if (order_.empty()) return;
  if (sacked_out_ == 0) highest_sack_end_ = snd_una_;  // tcp_highest_sack_reset()

  std::array<Block, 4> blocks{};
  size_t used = 0;
  for (size_t i = 0; i < sacks.size() && i < blocks.size(); ++i) {
    bool dsack = i == 0 && found_dsack;
    const wire::SackBlock& b = sacks[i];
    if (!sack_block_valid(dsack, b.left, b.right, ctx)) continue;
    if (!seq_gt(b.right, prior_una)) continue;  // entirely old
    blocks[used++] = Block{b.left, b.right, dsack};
  }
  std::stable_sort(blocks.begin(), blocks.begin() + static_cast<std::ptrdiff_t>(used),
                   [](const Block& a, const Block& b) { return seq_lt(a.left, b.left); });

  uint32_t reord = snd_nxt_;
  std::optional<Time> first_sackt;
  Time last_sackt{};
  // One forward walk, as Linux's: an entry is visited at most once, and is a
  // D-SACK visit when it lies inside the D-SACK block.
  size_t pos = 0;
  for (size_t i = 0; i < used; ++i) {
    const Block& b = blocks[i];
    pos = std::max(pos, find_pos(b.left));
    for (; pos < order_.size(); ++pos) {
      uint32_t idx = order_[pos];
      const SentSegment& s = slots_[idx].seg;
      if (!seq_lt(s.seq, b.right)) break;
      bool in_block = seq_le(b.left, s.seq) && seq_le(s.end, b.right);
      bool in_dsack =
          found_dsack && seq_le(r.dsack_block.left, s.seq) && seq_le(s.end, r.dsack_block.right);
      if (in_block || in_dsack) {
        sacktag_one(idx, in_dsack, now, ctx, r, reord, first_sackt, last_sackt);
      }
    }
  }
  if (reord != snd_nxt_) r.reorder_sack = reord;
  if (first_sackt) {
    r.rtt_sack = now - *first_sackt;
    r.rtt_ca = now - last_sackt;
  }
}

void RetransmitQueue::clean(uint32_t prior_una, Time now, const AckContext& ctx, bool sack_enabled,
                            AckResult& r) {
  std::optional<Time> first_ackt;
  Time last_ackt{};
  uint32_t reord = snd_nxt_;
  const uint32_t prior_sacked = sacked_out_;
  uint32_t acked = 0;
  while (!order_.empty()) {
    uint32_t idx = order_.front();
    const SentSegment& s = slots_[idx].seg;
    if (seq_gt(s.end, snd_una_)) break;  // not wholly acknowledged (pcount 1)
    if (s.ever_retransmitted()) {
      if (s.retrans_in_flight) --retrans_out_;
      r.retrans_data_acked = true;
    } else if (!s.sacked) {
      last_ackt = s.sent;
      if (!first_ackt) first_ackt = s.sent;
      if (seq_lt(s.seq, reord)) reord = s.seq;
      if (!seq_gt(s.end, ctx.high_seq)) r.orig_sack_acked = true;
    }
    if (s.sacked) {
      --sacked_out_;
    } else if (sack_enabled) {
      ++delivered_;
      ++r.delivered;
      // tcp_skb_spurious_retrans()
      bool spurious = s.ever_retransmitted() && echo_before(ctx.ts_echo, s.sent);
      if (!spurious) rack_candidate(s, now, ctx, r);
    }
    if (s.lost) --lost_out_;
    if (!s.sacked) rate_delivered(s, r);
    if (s.syn) {
      r.syn_acked = true;
    } else {
      r.data_acked = true;
    }
    ++acked;
    order_.pop_front();
    release(idx);
  }
  r.packets_acked = acked;
  if (!order_.empty() && slots_[order_.front()].seg.sacked) r.sack_reneging = true;

  if (first_ackt && !r.retrans_data_acked) {
    r.rtt_seq = now - *first_ackt;
    if (!r.rtt_sack) r.rtt_ca = now - last_ackt;
    // A lone small segment acknowledged in order: probably a delayed ACK.
    if (acked == 1 && prior_sacked == 0 && snd_una_ - prior_una < ctx.mss &&
        r.prior_delivered + 1 == delivered_ && !r.data_sacked && !ctx.ece && !r.dsack &&
        !r.syn_acked) {
      r.ack_maybe_delayed = true;
    }
  }
  if (r.data_acked || r.syn_acked) {
    r.set_xmit_timer = true;  // set TLP or RTO timer
    if (sack_enabled && seq_lt(reord, r.prior_fack)) r.reorder_ack = reord;
  } else if (!order_.empty() && r.rtt_sack && *r.rtt_sack > now - slots_[order_.front()].seg.sent) {
    // Re-arm only when the SACKed data left before the head's latest
    // transmission, or the timeout could keep moving out in recovery.
    r.set_xmit_timer = true;
  }
}

AckResult RetransmitQueue::on_ack(uint32_t cum_ack, std::span<const wire::SackBlock> sacks,
                                  Time now, const AckContext& ctx, bool sack_enabled) {
  AckResult r;
  r.prior_fack = fack();
  const uint32_t prior_una = snd_una_;
  const uint32_t prior_packets = packets_out();
  r.duplicate_ack = prior_packets > 0 && !ctx.carries_data_or_syn_fin && cum_ack == snd_una_ &&
                    !ctx.window_changed;
  if (seq_gt(cum_ack, snd_nxt_)) {
    r.invalid = true;
    r.duplicate_ack = false;
    return r;
  }
  rate_sent_ = Time{};
  rate_order_ = 0;
  rate_end_ = 0;
  if (seq_lt(cum_ack, snd_una_)) {
    r.old_ack = true;
    r.duplicate_ack = false;
  } else if (seq_gt(cum_ack, snd_una_)) {
    r.una_advanced = true;
    r.bytes_acked = cum_ack - snd_una_;
    snd_una_ = cum_ack;
  }
  if (!sacks.empty() && sack_enabled) sacktag(cum_ack, sacks, prior_una, now, ctx, r);
  if (!r.old_ack && prior_packets > 0) clean(prior_una, now, ctx, sack_enabled, r);
  return r;
}

}  // namespace veer::core
