// RACK's reordering window (tcp_rack_reo_wnd, tcp_rack_update_reo_wnd) and
// loss marking (tcp_rack_detect_loss) in isolation.
#include "core/tcp/recovery/rack.h"

#include <gtest/gtest.h>

#include <chrono>

namespace veer::test {
namespace {

using namespace std::chrono_literals;
using core::CaState;
using core::Rack;
using core::RackContext;

RackContext context() {
  RackContext c;
  c.min_rtt = 40ms;
  c.srtt = 100ms;
  c.reordering = 3;
  return c;
}

TEST(Rack, ReorderingWindowIsQuarterMinRtt) {
  Rack r;
  RackContext c = context();
  EXPECT_EQ(r.reo_wnd(c), 10ms);
  c.sacked_out = 2;
  EXPECT_EQ(r.reo_wnd(c), 10ms);
  // No reordering seen: zero once dupthresh segments are SACKed, or in recovery.
  c.sacked_out = 3;
  EXPECT_EQ(r.reo_wnd(c), 0ms);
  c.recovery |= core::kRackNoDupthresh;
  EXPECT_EQ(r.reo_wnd(c), 10ms);
  c.sacked_out = 0;
  c.state = CaState::Recovery;
  EXPECT_EQ(r.reo_wnd(c), 0ms);
  // Once reordering was seen the window always applies.
  c.reord_seen = 1;
  EXPECT_EQ(r.reo_wnd(c), 10ms);
}

// A D-SACK after reordering widens the window one min_rtt/4 step per round
// trip, up to SRTT, and it persists for 16 recoveries.
TEST(Rack, DsackGrowsReorderingWindow) {
  Rack r;
  RackContext c = context();
  c.reord_seen = 1;
  r.on_dsack();
  r.update_reo_wnd(/*prior_delivered=*/10, /*delivered=*/20, core::kRackLossDetection);
  EXPECT_EQ(r.reo_wnd_steps(), 2u);
  EXPECT_EQ(r.reo_wnd(c), 20ms);
  EXPECT_EQ(r.reo_wnd_persist(), Rack::kRecoveryThresh);
  // A D-SACK for data sent before the last adjustment: no second step.
  r.on_dsack();
  r.update_reo_wnd(15, 25, core::kRackLossDetection);
  EXPECT_EQ(r.reo_wnd_steps(), 2u);
  r.on_dsack();
  r.update_reo_wnd(21, 30, core::kRackLossDetection);
  EXPECT_EQ(r.reo_wnd_steps(), 3u);
  for (int i = 0; i < 8; ++i) {
    r.on_dsack();
    r.update_reo_wnd(100 + 100 * i, 150 + 100 * i, core::kRackLossDetection);
  }
  EXPECT_EQ(r.reo_wnd(c), 100ms);  // capped at SRTT
  // After 16 recoveries without D-SACK the window returns to one step.
  for (int i = 0; i < Rack::kRecoveryThresh; ++i) r.on_recovery_end();
  r.update_reo_wnd(5000, 5001, core::kRackLossDetection);
  EXPECT_EQ(r.reo_wnd_steps(), 1u);
}

TEST(Rack, StaticWindowKnob) {
  Rack r;
  r.on_dsack();
  r.update_reo_wnd(10, 20, core::kRackLossDetection | core::kRackStaticReoWnd);
  EXPECT_EQ(r.reo_wnd_steps(), 1u);
}

// A segment is lost once a later-sent one was delivered and RACK.rtt +
// reo_wnd has passed since it left; until then it reports how long to wait.
TEST(Rack, DetectLossByTime) {
  core::RetransmitQueue q;
  q.reset(1);
  q.on_send(1, 1001, 0ms, core::SendKind::New);
  q.on_send(1001, 2001, 5ms, core::SendKind::New);
  q.on_send(2001, 3001, 10ms, core::SendKind::New);
  core::AckContext ctx;
  ctx.mss = 1000;
  ctx.min_rtt = 40ms;
  auto ack = q.on_ack(1, std::vector<wire::SackBlock>{{2001, 3001}}, 50ms, ctx);
  Rack r;
  r.advance(ack);
  EXPECT_EQ(r.rtt(), 40ms);
  EXPECT_EQ(r.xmit_time(), 10ms);
  RackContext c = context();
  auto d = r.mark_lost(q, 50ms, c);
  ASSERT_TRUE(d);
  // Segment 1: 40 + 10 - 50 = 0 left: lost. Segment 2: 5 ms to go.
  EXPECT_EQ(d->newly_lost, 1u);
  ASSERT_TRUE(d->wait);
  EXPECT_EQ(*d->wait, 5ms);
  EXPECT_EQ(q.lost_out(), 1u);
  EXPECT_FALSE(r.mark_lost(q, 55ms, c));  // not advanced since
  auto d2 = r.detect_loss(q, 55ms, c);
  EXPECT_EQ(d2.newly_lost, 1u);
  EXPECT_EQ(q.lost_out(), 2u);
}

// The retransmission ambiguity rule: an ACK sooner than min_rtt after a
// retransmission is taken for the original's and does not advance RACK.
TEST(Rack, AmbiguousRetransmissionDoesNotAdvance) {
  core::RetransmitQueue q;
  q.reset(1);
  q.on_send(1, 1001, 0ms, core::SendKind::New);
  q.on_send(1001, 2001, 0ms, core::SendKind::New);
  q.on_send(1001, 2001, 100ms, core::SendKind::Retransmit);
  core::AckContext ctx;
  ctx.min_rtt = 40ms;
  auto ack = q.on_ack(1, std::vector<wire::SackBlock>{{1001, 2001}}, 110ms, ctx);
  EXPECT_FALSE(ack.rack_advanced);
}

// veer reads the clock once per engine pass, so new data and a
// retransmission can leave with one timestamp, new data first. A SACK for
// that new data says nothing about the retransmission that left after it
// (veer compare 11-bulk-loss once sent every retransmission twice); the
// other way round the retransmission is lost.
TEST(Rack, EqualTimestampsFollowTransmissionOrder) {
  for (bool retransmission_first : {false, true}) {
    SCOPED_TRACE(retransmission_first ? "retransmission first" : "new data first");
    core::RetransmitQueue q;
    q.reset(1);
    for (uint32_t i = 0; i < 5; ++i) {
      q.on_send(1 + 1000 * i, 1001 + 1000 * i, 0ms, core::SendKind::New);
    }
    core::AckContext ctx;
    ctx.mss = 1000;
    ctx.min_rtt = 40ms;
    Rack r;
    r.advance(q.on_ack(1, std::vector<wire::SackBlock>{{1001, 5001}}, 40ms, ctx));
    RackContext c = context();
    c.state = CaState::Recovery;
    auto d = r.mark_lost(q, 40ms, c);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->newly_lost, 1u);
    // One engine pass at 40 ms sends new data and the retransmission.
    if (retransmission_first) q.on_send(1, 1001, 40ms, core::SendKind::Retransmit);
    q.on_send(5001, 6001, 40ms, core::SendKind::New);
    if (!retransmission_first) q.on_send(1, 1001, 40ms, core::SendKind::Retransmit);
    ASSERT_EQ(q.retrans_out(), 1u);
    // The new segment is SACKed a round trip later, before the
    // retransmission's ACK.
    r.advance(q.on_ack(1, std::vector<wire::SackBlock>{{5001, 6001}, {1001, 5001}}, 80ms, ctx));
    auto d2 = r.mark_lost(q, 80ms, c);
    ASSERT_TRUE(d2);
    EXPECT_EQ(d2->newly_lost, retransmission_first ? 1u : 0u);
    EXPECT_EQ(q.retrans_out(), retransmission_first ? 0u : 1u);
  }
}

}  // namespace
}  // namespace veer::test
