#include "core/tcp/sack_blocks.h"

#include <utility>

#include "core/tcp/seq.h"

namespace veer::core {
namespace {

// Linux TCP_SACK_BLOCKS_EXPECTED: the blocks a receiver can count on the
// sender seeing even if some ACKs are lost.
constexpr size_t kSackBlocksExpected = 2;

// Grows `block` by [seq, end) if the two overlap or touch (tcp_sack_extend).
bool extend(SeqRange& block, uint32_t seq, uint32_t end) {
  if (seq_gt(seq, block.right) || seq_gt(block.left, end)) return false;
  if (seq_lt(seq, block.left)) block.left = seq;
  if (seq_gt(end, block.right)) block.right = end;
  return true;
}

}  // namespace

bool SackState::on_out_of_order(uint32_t seq, uint32_t end) {
  size_t i = 0;
  for (; i < count_; ++i) {
    if (extend(sacks_[i], seq, end)) {
      // RFC 2018 §4: the block holding the most recent segment goes first;
      // the others keep their order.
      for (size_t j = i; j > 0; --j) std::swap(sacks_[j], sacks_[j - 1]);
      if (count_ > 1) coalesce_first();
      return i >= kSackBlocksExpected;
    }
  }
  bool flush = i >= kSackBlocksExpected;
  // A new block at the front; with all four in use the oldest is forgotten
  // even though its data is still queued (the sender learns of it again from
  // later blocks or recovers it by timeout).
  if (count_ == kMaxBlocks) --count_;
  for (size_t j = count_; j > 0; --j) sacks_[j] = sacks_[j - 1];
  sacks_[0] = SeqRange{seq, end};
  ++count_;
  return flush;
}

void SackState::coalesce_first() {
  // tcp_sack_maybe_coalesce(): the grown first block may now reach others.
  for (size_t i = 1; i < count_;) {
    if (extend(sacks_[0], sacks_[i].left, sacks_[i].right)) {
      for (size_t j = i; j + 1 < count_; ++j) sacks_[j] = sacks_[j + 1];
      --count_;
      continue;
    }
    ++i;
  }
}

void SackState::on_in_order(uint32_t rcv_nxt, bool ofo_empty) {
  if (ofo_empty) {
    count_ = 0;
    return;
  }
  // tcp_sack_remove(): a block whose start RCV.NXT reached is wholly
  // acknowledged now (the queue released everything up to RCV.NXT).
  for (size_t i = 0; i < count_;) {
    if (seq_ge(rcv_nxt, sacks_[i].left)) {
      for (size_t j = i; j + 1 < count_; ++j) sacks_[j] = sacks_[j + 1];
      --count_;
      continue;
    }
    ++i;
  }
}

void SackState::on_duplicate(uint32_t seq, uint32_t end, uint32_t rcv_nxt) {
  // Only the part below RCV.NXT is a duplicate; the rest is new data.
  dsack_set(seq, seq_gt(end, rcv_nxt) ? rcv_nxt : end);
}

void SackState::on_duplicate(const DuplicateReport& report) {
  if (report.op == DsackOp::Set) {
    dsack_set(report.range.left, report.range.right);
  } else {
    dsack_extend(report.range.left, report.range.right);
  }
}

void SackState::dsack_set(uint32_t seq, uint32_t end) {
  dsack_ = SeqRange{seq, end};
}

void SackState::dsack_extend(uint32_t seq, uint32_t end) {
  if (!dsack_) {
    dsack_set(seq, end);
    return;
  }
  // A range that does not touch the pending D-SACK is not reported at all.
  extend(*dsack_, seq, end);
}

void SackState::reset() {
  count_ = 0;
  dsack_.reset();
}

SackBlocks SackState::blocks(size_t max_blocks) const {
  SackBlocks out;
  size_t max = max_blocks < out.block.size() ? max_blocks : out.block.size();
  auto put = [&](SeqRange r) { out.block[out.count++] = wire::SackBlock{r.left, r.right}; };
  if (dsack_ && out.count < max) put(*dsack_);
  for (size_t i = 0; i < count_ && out.count < max; ++i) put(sacks_[i]);
  return out;
}

}  // namespace veer::core
