// The scoreboard alone: tags, counters, RTT samples (Karn), D-SACK.
#include "core/tcp/recovery/retransmit_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace veer::test {
namespace {

using namespace std::chrono_literals;
using core::AckContext;
using core::AckResult;
using core::RetransmitQueue;
using core::SendKind;

constexpr uint32_t kMss = 1000;

struct Board {
  RetransmitQueue q;
  AckContext ctx;
  Board() {
    q.reset(1);
    ctx.mss = kMss;
    ctx.max_window = 65535;
  }
  void send(int n, Time now) {
    for (int i = 0; i < n; ++i) {
      uint32_t seq = q.snd_nxt();
      q.on_send(seq, seq + kMss, now, SendKind::New);
    }
  }
  AckResult ack(uint32_t a, std::vector<wire::SackBlock> sacks, Time now) {
    return q.on_ack(a, sacks, now, ctx);
  }
};

TEST(RetransmitQueue, CountersThroughSackLossAndRetransmission) {
  Board b;
  b.send(4, 0ms);
  EXPECT_EQ(b.q.packets_out(), 4u);
  EXPECT_EQ(b.q.in_flight(), 4u);
  auto r = b.ack(1, {{1001, 3001}}, 50ms);
  EXPECT_EQ(r.newly_sacked, 2u);
  EXPECT_TRUE(r.data_sacked);
  EXPECT_EQ(b.q.sacked_out(), 2u);
  EXPECT_EQ(b.q.fack(), 3001u);
  EXPECT_EQ(b.q.in_flight(), 2u);
  EXPECT_TRUE(b.q.mark_lost(1));
  EXPECT_FALSE(b.q.mark_lost(1));  // already counted
  EXPECT_EQ(b.q.lost_out(), 1u);
  EXPECT_EQ(b.q.in_flight(), 1u);  // 4 - (2 + 1) + 0
  const core::SentSegment* next = b.q.next_retransmit();
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->seq, 1u);
  b.q.on_send(1, 1001, 60ms, SendKind::Retransmit);
  EXPECT_EQ(b.q.retrans_out(), 1u);
  EXPECT_EQ(b.q.in_flight(), 2u);
  EXPECT_EQ(b.q.next_retransmit(), nullptr);  // retrans_out >= lost_out
  // The retransmission is lost too: counted once more, eligible again.
  EXPECT_TRUE(b.q.mark_lost(1));
  EXPECT_EQ(b.q.retrans_out(), 0u);
  EXPECT_EQ(b.q.lost_total(), 2u);
  r = b.ack(4001, {}, 120ms);
  EXPECT_EQ(r.bytes_acked, 4000u);
  EXPECT_EQ(r.packets_acked, 4u);
  EXPECT_EQ(b.q.packets_out(), 0u);
  EXPECT_EQ(b.q.sacked_out() + b.q.lost_out() + b.q.retrans_out(), 0u);
}

// Karn's rule (RFC 6298 §3): no sample from a retransmitted segment; Linux
// also takes samples from newly SACKed never-retransmitted segments.
TEST(RetransmitQueue, KarnRttSamples) {
  Board b;
  b.send(3, 0ms);
  auto r = b.ack(1001, {}, 40ms);
  ASSERT_TRUE(r.rtt_sample());
  EXPECT_EQ(*r.rtt_sample(), 40ms);

  r = b.ack(1001, {{2001, 3001}}, 50ms);
  EXPECT_FALSE(r.rtt_seq);
  ASSERT_TRUE(r.rtt_sack);
  EXPECT_EQ(*r.rtt_sample(), 50ms);

  b.q.on_send(1001, 2001, 60ms, SendKind::Retransmit);
  r = b.ack(3001, {}, 90ms);
  EXPECT_TRUE(r.retrans_data_acked);
  EXPECT_FALSE(r.rtt_sample());

  // A TLP probe is a retransmission for Karn too.
  b.send(1, 100ms);
  b.q.on_send(3001, 4001, 150ms, SendKind::Probe);
  EXPECT_EQ(b.q.retrans_out(), 0u);
  r = b.ack(4001, {}, 200ms);
  EXPECT_FALSE(r.rtt_sample());
}

// An ACK covering both a never-retransmitted and a retransmitted segment
// gives no sample: the oldest one cannot be timed unambiguously.
TEST(RetransmitQueue, KarnMixedAck) {
  Board b;
  b.send(2, 0ms);
  b.q.on_send(1001, 2001, 30ms, SendKind::Retransmit);
  auto r = b.ack(2001, {}, 60ms);
  EXPECT_FALSE(r.rtt_sample());
}

// RFC 2883 §4: the first block is a D-SACK when it is below the cumulative
// ACK, or contained in the second block.
TEST(RetransmitQueue, DsackBelowCumulativeAck) {
  Board b;
  b.send(2, 0ms);
  b.q.on_send(1, 1001, 30ms, SendKind::Retransmit);
  b.ctx.undo_marker = 1;
  auto r = b.ack(2001, {{1, 1001}}, 60ms);
  EXPECT_TRUE(r.dsack);
  EXPECT_EQ(r.dsack_segments, 1u);
  EXPECT_EQ(r.dsack_block, (wire::SackBlock{1, 1001}));
  EXPECT_EQ(r.dsacked_retransmissions, 1u);
  EXPECT_EQ(b.q.retrans_out(), 0u);
}

TEST(RetransmitQueue, DsackInsideSecondBlock) {
  Board b;
  b.send(5, 0ms);
  b.q.on_send(2001, 3001, 30ms, SendKind::Retransmit);
  auto r = b.ack(1, {{2001, 3001}, {1001, 4001}}, 60ms);
  EXPECT_TRUE(r.dsack);
  EXPECT_EQ(b.q.sacked_out(), 3u);
  EXPECT_EQ(b.q.retrans_out(), 0u);  // the duplicate arrived: not in flight
}

TEST(RetransmitQueue, NotDsack) {
  Board b;
  b.send(5, 0ms);
  b.q.on_send(2001, 3001, 30ms, SendKind::Retransmit);
  // Above the ACK and not inside the next block: plain SACK blocks.
  auto r = b.ack(1, {{3001, 4001}, {1001, 2001}}, 60ms);
  EXPECT_FALSE(r.dsack);
  EXPECT_EQ(b.q.sacked_out(), 2u);
}

// A D-SACK for data we never retransmitted is not ours (Linux counts
// dsack_dups against total_retrans) and is ignored.
TEST(RetransmitQueue, DsackWithoutRetransmissionIgnored) {
  Board b;
  b.send(2, 0ms);
  auto r = b.ack(2001, {{1, 1001}}, 60ms);
  EXPECT_FALSE(r.dsack);
}

TEST(RetransmitQueue, DsackOfTailLossProbe) {
  Board b;
  b.send(2, 0ms);
  b.q.on_send(1001, 2001, 30ms, SendKind::Probe);
  b.ctx.tlp_high_seq = 2001;
  auto r = b.ack(2001, {{1001, 2001}}, 60ms);
  EXPECT_TRUE(r.dsack);
  EXPECT_TRUE(r.dsack_tlp);
}

// RFC 5681 §2: a duplicate ACK acknowledges nothing new, carries no data,
// leaves the window alone, and data is outstanding.
TEST(RetransmitQueue, DuplicateAckDefinition) {
  Board b;
  EXPECT_FALSE(b.ack(1, {}, 0ms).duplicate_ack);  // nothing outstanding
  b.send(2, 0ms);
  EXPECT_TRUE(b.ack(1, {}, 10ms).duplicate_ack);
  b.ctx.window_changed = true;
  EXPECT_FALSE(b.ack(1, {}, 10ms).duplicate_ack);
  b.ctx.window_changed = false;
  b.ctx.carries_data_or_syn_fin = true;
  EXPECT_FALSE(b.ack(1, {}, 10ms).duplicate_ack);
  b.ctx.carries_data_or_syn_fin = false;
  EXPECT_FALSE(b.ack(1001, {}, 10ms).duplicate_ack);  // new data acknowledged
  EXPECT_TRUE(b.ack(2001, {}, 10ms).invalid == false);
}

TEST(RetransmitQueue, AckOfUnsentDataIsInvalid) {
  Board b;
  b.send(1, 0ms);
  EXPECT_TRUE(b.ack(5001, {}, 10ms).invalid);
  EXPECT_EQ(b.q.packets_out(), 1u);
}

// A retransmission smaller than the segment splits it (tcp_fragment()),
// each half one packet.
TEST(RetransmitQueue, PartialRetransmissionSplits) {
  Board b;
  b.send(1, 0ms);
  b.q.mark_lost(1);
  b.q.on_send(1, 501, 30ms, SendKind::Retransmit);
  EXPECT_EQ(b.q.packets_out(), 2u);
  EXPECT_EQ(b.q.lost_out(), 2u);
  EXPECT_EQ(b.q.retrans_out(), 1u);
  const core::SentSegment* next = b.q.next_retransmit();
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->seq, 501u);
  EXPECT_EQ(next->end, 1001u);
}

TEST(RetransmitQueue, TimeoutMarksAllLostAndDetectsReneging) {
  Board b;
  b.send(3, 0ms);
  EXPECT_FALSE(b.q.mark_lost_on_timeout(300ms, std::nullopt));
  EXPECT_EQ(b.q.lost_out(), 3u);
  EXPECT_EQ(b.q.in_flight(), 0u);

  Board c;
  c.send(3, 0ms);
  c.ack(1, {{1, 1001}}, 10ms);  // invalid (starts at SND.UNA): nothing tagged
  EXPECT_EQ(c.q.sacked_out(), 0u);
  c.ack(1, {{1001, 2001}}, 10ms);
  c.ack(1001, {}, 20ms);  // the head is now a SACKed segment
  EXPECT_TRUE(c.q.mark_lost_on_timeout(300ms, std::nullopt));
  EXPECT_EQ(c.q.sacked_out(), 0u);
  EXPECT_EQ(c.q.lost_out(), 2u);
}

}  // namespace
}  // namespace veer::test
