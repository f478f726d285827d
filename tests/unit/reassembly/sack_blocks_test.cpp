#include "core/tcp/sack_blocks.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/unit/reassembly/test_data.h"

namespace veer::test {
namespace {

using core::DsackOp;
using core::SackState;
using core::SeqRange;
using Blocks = std::vector<wire::SackBlock>;

TEST(SackBlocks, HowManyFit) {
  EXPECT_EQ(core::sack_blocks_that_fit(0), 4u);   // no other options
  EXPECT_EQ(core::sack_blocks_that_fit(10), 3u);  // timestamps (padded to 12)
  EXPECT_EQ(core::sack_blocks_that_fit(12), 3u);
  EXPECT_EQ(core::sack_blocks_that_fit(20), 2u);
  EXPECT_EQ(core::sack_blocks_that_fit(28), 1u);
  EXPECT_EQ(core::sack_blocks_that_fit(30), 0u);
}

TEST(SackBlocks, MostRecentFirstAndAtMostFour) {
  SackState s;
  s.on_out_of_order(200, 300);
  s.on_out_of_order(400, 500);
  s.on_out_of_order(600, 700);
  s.on_out_of_order(800, 900);
  EXPECT_EQ(to_vector(s.blocks(4)), (Blocks{{800, 900}, {600, 700}, {400, 500}, {200, 300}}));
  // A fifth hole: the oldest block is forgotten.
  s.on_out_of_order(1000, 1100);
  EXPECT_EQ(to_vector(s.blocks(4)), (Blocks{{1000, 1100}, {800, 900}, {600, 700}, {400, 500}}));
  // With timestamps only three go out.
  EXPECT_EQ(to_vector(s.blocks(3)), (Blocks{{1000, 1100}, {800, 900}, {600, 700}}));
  EXPECT_EQ(s.sack_count(), 4u);
}

TEST(SackBlocks, ExtendedBlockMovesToTheFrontAndCoalesces) {
  SackState s;
  s.on_out_of_order(6000, 6500);
  s.on_out_of_order(7000, 7500);
  s.on_out_of_order(8000, 8500);
  // 6500:7000 extends 7000:7500 (second), which moves first and then swallows
  // 6000:6500 (tcp_sack_maybe_coalesce); 8000:8500 keeps its place.
  s.on_out_of_order(6500, 7000);
  EXPECT_EQ(to_vector(s.blocks(4)), (Blocks{{6000, 7500}, {8000, 8500}}));
}

TEST(SackBlocks, DuplicateInsideABlockStillMovesItFirst) {
  SackState s;
  s.on_out_of_order(1000, 2000);
  s.on_out_of_order(3000, 4000);
  s.on_out_of_order(1200, 1300);
  EXPECT_EQ(to_vector(s.blocks(4)), (Blocks{{1000, 2000}, {3000, 4000}}));
}

TEST(SackBlocks, CompressedAckFlushWhenAnOlderBlockChanges) {
  // tcp_sack_new_ofo_skb calls tcp_sack_compress_send_ack when the block it
  // touched (or the new one's slot) is past TCP_SACK_BLOCKS_EXPECTED (2).
  SackState s;
  EXPECT_FALSE(s.on_out_of_order(100, 200));
  EXPECT_FALSE(s.on_out_of_order(300, 400));
  EXPECT_TRUE(s.on_out_of_order(500, 600));   // two already there
  EXPECT_FALSE(s.on_out_of_order(600, 700));  // extends the first
  EXPECT_TRUE(s.on_out_of_order(200, 250));   // extends the third
}

TEST(SackBlocks, RcvNxtRemovesTheBlocksItReaches) {
  SackState s;
  s.on_out_of_order(3000, 4000);
  s.on_out_of_order(1000, 2000);
  s.on_out_of_order(5000, 6000);
  s.on_in_order(2000, false);
  EXPECT_EQ(to_vector(s.blocks(4)), (Blocks{{5000, 6000}, {3000, 4000}}));
  s.on_in_order(4000, true);  // the queue is empty: nothing left to SACK
  EXPECT_EQ(s.sack_count(), 0u);
}

TEST(SackBlocks, DsackGoesFirstAndOnlyOnce) {
  SackState s;
  s.on_out_of_order(3000, 4000);
  s.on_duplicate(1000, 1500, 2000);
  EXPECT_EQ(to_vector(s.blocks(4)), (Blocks{{1000, 1500}, {3000, 4000}}));
  s.consume_dsack();
  EXPECT_EQ(to_vector(s.blocks(4)), (Blocks{{3000, 4000}}));
}

TEST(SackBlocks, PartlyOldSegmentReportsOnlyItsOldPart) {
  // RFC 2883 §4.2 / tcp_data_queue: seq < RCV.NXT < end_seq.
  SackState s;
  s.on_duplicate(500, 1500, 1000);
  EXPECT_EQ(s.dsack(), (SeqRange{500, 1000}));
}

TEST(SackBlocks, DsackSetReplacesExtendGrows) {
  SackState s;
  s.dsack_extend(1000, 2000);  // none pending: sets
  EXPECT_EQ(s.dsack(), (SeqRange{1000, 2000}));
  s.dsack_extend(2000, 2500);  // touches: grows
  EXPECT_EQ(s.dsack(), (SeqRange{1000, 2500}));
  s.dsack_extend(4000, 4500);  // apart: ignored
  EXPECT_EQ(s.dsack(), (SeqRange{1000, 2500}));
  s.on_duplicate({{7000, 7100}, DsackOp::Set});
  EXPECT_EQ(s.dsack(), (SeqRange{7000, 7100}));
}

TEST(SackBlocks, DsackTakesASlotFromTheSackBlocks) {
  SackState s;
  s.on_out_of_order(200, 300);
  s.on_out_of_order(400, 500);
  s.on_out_of_order(600, 700);
  s.dsack_set(10, 20);
  EXPECT_EQ(to_vector(s.blocks(3)), (Blocks{{10, 20}, {600, 700}, {400, 500}}));
  EXPECT_EQ(to_vector(s.blocks(1)), (Blocks{{10, 20}}));
  EXPECT_EQ(to_vector(s.blocks(0)), Blocks{});
}

TEST(SackBlocks, ResetForgetsBlocksAndDsack) {
  SackState s;
  s.on_out_of_order(200, 300);
  s.dsack_set(10, 20);
  s.reset();
  EXPECT_EQ(s.blocks(4).count, 0u);
}

TEST(SackBlocks, WorksAcrossTheWrap) {
  SackState s;
  s.on_out_of_order(0xfffffe00u, 0xffffff00u);
  s.on_out_of_order(0xffffff00u, 0x100u);
  EXPECT_EQ(to_vector(s.blocks(4)), (Blocks{{0xfffffe00u, 0x100u}}));
  s.on_in_order(0x100u, false);
  EXPECT_EQ(s.sack_count(), 0u);
}

}  // namespace
}  // namespace veer::test
