// The SACK blocks a data receiver advertises (RFC 2018 §4) and the D-SACK
// block that reports duplicates (RFC 2883), kept the way Linux keeps them:
// tp->selective_acks[] (most recent first), tp->duplicate_sack[0] and
// rx_opt.dsack, maintained by tcp_sack_new_ofo_skb(), tcp_sack_maybe_coalesce(),
// tcp_sack_remove(), tcp_dsack_set() and tcp_dsack_extend() in tcp_input.c,
// and read out by tcp_options_write() in tcp_output.c.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/wire/tcp.h"

namespace veer::core {

// Half-open sequence space [left, right), like Linux's struct tcp_sack_block.
struct SeqRange {
  uint32_t left = 0;
  uint32_t right = 0;
  uint32_t length() const { return right - left; }
  bool operator==(const SeqRange&) const = default;
};

// Linux reports duplicates in two ways: tcp_dsack_set() replaces whatever
// D-SACK is pending, tcp_dsack_extend() only grows a pending one that it
// touches (and sets one if none is pending).
enum class DsackOp : uint8_t { Set, Extend };

struct DuplicateReport {
  SeqRange range;
  DsackOp op = DsackOp::Set;
  bool operator==(const DuplicateReport&) const = default;
};

// Blocks for one outgoing segment, laid out like wire::TcpOptions::sack and
// sack_count so they copy straight into the options.
struct SackBlocks {
  std::array<wire::SackBlock, 4> block{};
  uint8_t count = 0;
};

// How many SACK blocks fit in the 40 bytes of options beside `other_options`
// bytes of other options (padded to 4): 4 alone, 3 next to timestamps (12).
// tcp_established_options(): (remaining - TCPOLEN_SACK_BASE_ALIGNED) /
// TCPOLEN_SACK_PERBLOCK, at most TCP_NUM_SACKS.
constexpr size_t sack_blocks_that_fit(size_t other_options) {
  size_t used = (other_options + 3) / 4 * 4;
  if (used + 4 + 8 > wire::kTcpMaxOptionsLen) return 0;
  size_t n = (wire::kTcpMaxOptionsLen - used - 4) / 8;
  return n < 4 ? n : 4;
}

class SackState {
 public:
  static constexpr size_t kMaxBlocks = 4;  // Linux TCP_NUM_SACKS

  // Out-of-order data [seq, end) arrived (queued, or already held): the block
  // that holds it moves to the front, merged with the blocks it now touches;
  // a fifth block pushes out the oldest (tcp_sack_new_ofo_skb). `end` counts
  // a FIN. Returns true where Linux flushes a compressed ACK at once
  // (tcp_sack_compress_send_ack): the segment touched a block past the first
  // TCP_SACK_BLOCKS_EXPECTED (2), which a lost ACK might never report.
  bool on_out_of_order(uint32_t seq, uint32_t end);

  // RCV.NXT advanced to `rcv_nxt`: blocks it covers go (tcp_sack_remove);
  // all go once the out-of-order queue is empty.
  void on_in_order(uint32_t rcv_nxt, bool ofo_empty);

  // A segment [seq, end) starting below RCV.NXT: its old part becomes the
  // D-SACK, replacing any pending one (tcp_data_queue's retransmit and
  // partial-packet cases, tcp_send_dupack). `end` counts a FIN.
  void on_duplicate(uint32_t seq, uint32_t end, uint32_t rcv_nxt);
  // A duplicate found by the reassembly queue.
  void on_duplicate(const DuplicateReport& report);
  void dsack_set(uint32_t seq, uint32_t end);     // tcp_dsack_set
  void dsack_extend(uint32_t seq, uint32_t end);  // tcp_dsack_extend

  // Forget every block and the D-SACK (tcp_sack_reset): after the queue was
  // pruned, or when a FIN purged it (tcp_fin).
  void reset();

  // The blocks for the next segment: the D-SACK first if one is pending, then
  // the SACK blocks most recent first, at most `max_blocks` (see
  // sack_blocks_that_fit). A block equal to the D-SACK is not removed: Linux
  // writes duplicate_sack[0] followed by selective_acks[] as they are.
  SackBlocks blocks(size_t max_blocks) const;
  // The segment carrying blocks() left: the D-SACK is reported once
  // (tcp_options_write clears rx_opt.dsack).
  void consume_dsack() { dsack_.reset(); }

  size_t sack_count() const { return count_; }
  SeqRange sack(size_t i) const { return sacks_[i]; }
  const std::optional<SeqRange>& dsack() const { return dsack_; }

 private:
  void coalesce_first();

  std::array<SeqRange, kMaxBlocks> sacks_{};
  size_t count_ = 0;
  std::optional<SeqRange> dsack_;
};

}  // namespace veer::core
