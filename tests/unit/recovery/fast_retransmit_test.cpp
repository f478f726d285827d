// Fast retransmit and recovery in virtual time, after the packetdrill scripts
// gtests/net/tcp/fast_retransmit/fr-4pkt-sack.pkt and
// fr-4pkt-fack-last-byte.pkt (which pass on Linux): the same segments, the
// same ACKs, the same times.
#include <gtest/gtest.h>

#include "tests/unit/recovery/sender.h"

namespace veer::test {
namespace {

using core::CaState;
using core::CwndEvent;
using core::Rexmit;
using core::XmitTimerKind;

std::vector<CwndEvent> events(const core::CwndEvents& e) {
  return {e.list().begin(), e.list().end()};
}

// fr-4pkt-sack.pkt: 4 segments at 200 ms, the first lost; at 300 ms three
// ACKs SACK 2, 2-3, 2-4. RACK's dupthresh shortcut (3 SACKed, no reordering
// seen) marks segment 1 lost on the third: fast retransmit at 300 ms.
TEST(FastRetransmit, FourSegmentsSackRack) {
  Sender s;
  s.write(4, 200ms);
  EXPECT_EQ(s.lr.in_flight(), 4u);
  // PTO = 2 * SRTT + 2 ms (more than one segment out).
  EXPECT_EQ(s.lr.timer_kind(), XmitTimerKind::LossProbe);
  EXPECT_EQ(*s.lr.deadline(), 402ms);

  auto a1 = s.ack(1, {{1461, 2921}}, 300ms);
  EXPECT_TRUE(a1.scoreboard.duplicate_ack);
  EXPECT_EQ(a1.delivered, 1u);
  EXPECT_EQ(s.lr.state(), CaState::Disorder);
  EXPECT_EQ(s.lr.queue().sacked_out(), 1u);
  EXPECT_EQ(s.lr.in_flight(), 3u);
  EXPECT_EQ(a1.rexmit, Rexmit::None);
  // Segment 1 may still be reordered: RACK.rtt + min_rtt/4 after it left,
  // plus Linux's 2 ms floor.
  EXPECT_EQ(s.lr.timer_kind(), XmitTimerKind::ReorderTimeout);
  EXPECT_EQ(*s.lr.deadline(), 327ms);

  auto a2 = s.ack(1, {{1461, 4381}}, 300ms);
  EXPECT_EQ(s.lr.state(), CaState::Disorder);
  EXPECT_EQ(s.lr.in_flight(), 2u);
  EXPECT_EQ(a2.rexmit, Rexmit::None);
  EXPECT_EQ(*s.lr.deadline(), 327ms);

  auto a3 = s.ack(1, {{1461, 5841}}, 300ms);
  EXPECT_EQ(s.lr.state(), CaState::Recovery);
  EXPECT_EQ(s.lr.queue().lost_out(), 1u);
  EXPECT_EQ(a3.newly_lost, 1u);
  EXPECT_EQ(s.lr.in_flight(), 0u);  // 4 out - (3 SACKed + 1 lost)
  EXPECT_EQ(a3.rexmit, Rexmit::Lost);
  EXPECT_TRUE(a3.in_cwnd_reduction);
  EXPECT_EQ(events(a3.events),
            (std::vector<CwndEvent>{CwndEvent::ClearPriorSsthresh, CwndEvent::SavePriorSsthresh,
                                    CwndEvent::InitReduction}));
  EXPECT_EQ(s.retransmit(300ms, 10), std::vector<uint32_t>{1});
  EXPECT_EQ(s.lr.in_flight(), 1u);
  EXPECT_EQ(s.lr.queue().retrans_out(), 1u);

  // The reordering timer armed by the second ACK still runs; it finds
  // nothing new and hands the slot back to the RTO, counted from the
  // retransmission.
  EXPECT_EQ(s.lr.due(326ms), XmitTimerKind::None);
  EXPECT_EQ(s.lr.due(327ms), XmitTimerKind::ReorderTimeout);
  auto reo = s.lr.on_reorder_timeout(327ms, s.rtt.srtt());
  EXPECT_EQ(reo.newly_lost, 0u);
  EXPECT_EQ(reo.rexmit, Rexmit::None);
  s.lr.on_reorder_timeout_done(327ms, s.rto);
  EXPECT_EQ(s.lr.timer_kind(), XmitTimerKind::Retransmit);
  EXPECT_EQ(*s.lr.deadline(), 600ms);

  // 400 ms: everything acknowledged. No RTT sample (Karn), recovery ends.
  auto a4 = s.ack(5841, {}, 400ms);
  EXPECT_FALSE(a4.rtt_sampled);
  EXPECT_EQ(a4.delivered, 1u);
  EXPECT_EQ(s.lr.state(), CaState::Open);
  EXPECT_EQ(events(a4.events), std::vector<CwndEvent>{CwndEvent::EndReduction});
  EXPECT_EQ(s.lr.in_flight(), 0u);
  EXPECT_EQ(s.lr.queue().packets_out(), 0u);
  EXPECT_FALSE(s.lr.deadline());
}

// The same ACKs with net.ipv4.tcp_recovery = 0: the classic rule (RFC 6675
// DupThresh, Linux tcp_update_scoreboard) fires on the third SACK as well.
TEST(FastRetransmit, FourSegmentsSackDupthresh) {
  core::RecoverySettings settings;
  settings.recovery = 0;
  Sender s(settings);
  s.write(4, 200ms);
  s.ack(1, {{1461, 2921}}, 300ms);
  EXPECT_EQ(s.lr.state(), CaState::Disorder);
  EXPECT_EQ(s.lr.timer_kind(), XmitTimerKind::LossProbe);  // no reordering timer
  auto a2 = s.ack(1, {{1461, 4381}}, 300ms);
  EXPECT_EQ(a2.rexmit, Rexmit::None);
  EXPECT_EQ(s.lr.queue().lost_out(), 0u);
  auto a3 = s.ack(1, {{1461, 5841}}, 300ms);
  EXPECT_EQ(s.lr.state(), CaState::Recovery);
  EXPECT_EQ(a3.rexmit, Rexmit::Lost);
  EXPECT_EQ(s.retransmit(300ms, 10), std::vector<uint32_t>{1});
  // Retransmitting the head re-arms the RTO.
  EXPECT_EQ(s.lr.timer_kind(), XmitTimerKind::Retransmit);
  EXPECT_EQ(*s.lr.deadline(), 600ms);
  s.ack(5841, {}, 400ms);
  EXPECT_EQ(s.lr.state(), CaState::Open);
}

// Two SACKs only: below dupthresh RACK waits RACK.rtt + min_rtt/4 after
// segment 1 left (200 + 100 + 25 ms), plus 2 ms, then marks it lost.
TEST(FastRetransmit, RackReorderingTimerMarksLoss) {
  Sender s;
  s.write(4, 200ms);
  s.ack(1, {{1461, 2921}}, 300ms);
  s.ack(1, {{1461, 4381}}, 300ms);
  EXPECT_EQ(s.lr.queue().lost_out(), 0u);
  EXPECT_EQ(s.lr.due(327ms), XmitTimerKind::ReorderTimeout);
  auto reo = s.lr.on_reorder_timeout(327ms, s.rtt.srtt());
  EXPECT_EQ(reo.newly_lost, 1u);
  EXPECT_EQ(reo.rexmit, Rexmit::Lost);
  EXPECT_TRUE(reo.cwnd_reduction);
  EXPECT_EQ(s.lr.state(), CaState::Recovery);
  EXPECT_EQ(s.retransmit(327ms, 10), std::vector<uint32_t>{1});
  s.lr.on_reorder_timeout_done(327ms, s.rto);
  EXPECT_EQ(*s.lr.deadline(), 627ms);
  EXPECT_EQ(s.lr.in_flight(), 2u);  // 4 - (2 SACKed + 1 lost) + 1 retransmitted
}

// tcp_recovery bit 4 (TCP_RACK_NO_DUPTHRESH): three SACKs no longer shortcut
// the reordering window.
TEST(FastRetransmit, RackNoDupthreshWaitsReorderingWindow) {
  core::RecoverySettings settings;
  settings.recovery = core::kRackLossDetection | core::kRackNoDupthresh;
  Sender s(settings);
  s.write(4, 200ms);
  s.ack(1, {{1461, 2921}}, 300ms);
  s.ack(1, {{1461, 4381}}, 300ms);
  auto a3 = s.ack(1, {{1461, 5841}}, 300ms);
  EXPECT_EQ(a3.rexmit, Rexmit::None);
  EXPECT_EQ(s.lr.state(), CaState::Disorder);
  EXPECT_EQ(*s.lr.deadline(), 327ms);
  auto reo = s.lr.on_reorder_timeout(327ms, s.rtt.srtt());
  EXPECT_EQ(reo.newly_lost, 1u);
  EXPECT_EQ(s.lr.state(), CaState::Recovery);
}

// The retransmission was spurious: the ACK that ends recovery carries a
// D-SACK for it (RFC 2883), so the window reduction is undone
// (tcp_try_undo_recovery()).
TEST(FastRetransmit, DsackUndoesSpuriousRecovery) {
  Sender s;
  s.write(4, 200ms);
  s.ack(1, {{1461, 2921}}, 300ms);
  s.ack(1, {{1461, 4381}}, 300ms);
  s.ack(1, {{1461, 5841}}, 300ms);
  s.retransmit(300ms, 10);
  ASSERT_EQ(s.lr.undo_retrans(), 1);
  auto a = s.ack(5841, {{1, 1461}}, 400ms);
  EXPECT_TRUE(a.scoreboard.dsack);
  EXPECT_EQ(a.scoreboard.dsack_segments, 1u);
  EXPECT_EQ(s.lr.undo_retrans(), 0);
  EXPECT_EQ(events(a.events), std::vector<CwndEvent>{CwndEvent::Undo});
  EXPECT_EQ(s.lr.state(), CaState::Open);
  EXPECT_FALSE(s.lr.undo_marker());
}

// fr-4pkt-fack-last-byte.pkt (MSS 1000): only the last byte is SACKed, which
// tags nothing; TLP retransmits the last segment at 2*SRTT + 2 ms, the RTO
// (RTT + 200 ms) fires 300 ms later, and recovery proceeds in the Loss state.
TEST(FastRetransmit, FourSegmentsLastByteSacked) {
  Sender s({}, 1000);
  s.write(4, 200ms);
  EXPECT_EQ(*s.lr.deadline(), 402ms);

  auto a1 = s.ack(1, {{4000, 4001}}, 300ms);
  EXPECT_TRUE(a1.scoreboard.duplicate_ack);
  EXPECT_EQ(s.lr.queue().sacked_out(), 0u);  // a partial SACK tags no segment
  EXPECT_EQ(s.lr.state(), CaState::Open);
  EXPECT_EQ(a1.rexmit, Rexmit::None);
  EXPECT_EQ(s.lr.timer_kind(), XmitTimerKind::LossProbe);
  EXPECT_EQ(*s.lr.deadline(), 402ms);

  // 402 ms: the probe. No new data, so the last segment again.
  EXPECT_EQ(s.lr.due(401ms), XmitTimerKind::None);
  ASSERT_EQ(s.lr.due(402ms), XmitTimerKind::LossProbe);
  ASSERT_EQ(s.lr.loss_probe(false), core::TailLossProbe::Probe::RetransmitLast);
  const core::SentSegment* last = s.lr.queue().last();
  ASSERT_EQ(last->seq, 3001u);
  s.lr.on_send(3001, 4001, 402ms, core::SendKind::Probe, s.rto);
  s.lr.on_loss_probe_sent(402ms, s.rto, true);
  EXPECT_EQ(*s.lr.tlp().high_seq(), 4001u);
  EXPECT_EQ(s.lr.queue().retrans_out(), 0u);  // a probe is not counted
  EXPECT_EQ(s.lr.in_flight(), 4u);
  EXPECT_EQ(s.lr.timer_kind(), XmitTimerKind::Retransmit);
  EXPECT_EQ(*s.lr.deadline(), 702ms);
  // A second probe is refused while one is out.
  EXPECT_EQ(s.lr.loss_probe(false), core::TailLossProbe::Probe::None);

  // 702 ms: RTO. Everything is lost, cwnd = in_flight + 1.
  ASSERT_EQ(s.lr.due(702ms), XmitTimerKind::Retransmit);
  auto to = s.lr.on_retransmit_timeout(702ms, 0);
  EXPECT_TRUE(to.reduce_ssthresh);
  EXPECT_EQ(to.cwnd, 1u);
  EXPECT_EQ(s.lr.state(), CaState::Loss);
  EXPECT_EQ(s.lr.queue().lost_out(), 4u);
  EXPECT_FALSE(s.lr.tlp().high_seq());
  EXPECT_EQ(s.retransmit(702ms, 1), std::vector<uint32_t>{1});
  s.rto *= 2;  // backoff
  s.lr.arm_rto(702ms, s.rto);
  EXPECT_EQ(*s.lr.deadline(), 1302ms);

  // 1.2 s: ACK of the retransmission. The probe's segment was not
  // retransmitted by tcp_retransmit_skb, so RACK does not call it lost
  // again: still Loss, retransmit the next lost ones (cwnd allows 2).
  auto a2 = s.ack(1001, {{4000, 4001}}, 1200ms);
  EXPECT_FALSE(a2.rtt_sampled);
  EXPECT_TRUE(a2.reset_retransmits);
  EXPECT_TRUE(a2.may_raise_cwnd);
  EXPECT_EQ(a2.newly_lost, 0u);
  EXPECT_EQ(s.lr.state(), CaState::Loss);
  EXPECT_EQ(a2.rexmit, Rexmit::Lost);
  EXPECT_EQ(s.lr.in_flight(), 0u);
  EXPECT_EQ(s.retransmit(1200ms, 2), (std::vector<uint32_t>{1001, 2001}));
  EXPECT_EQ(s.lr.in_flight(), 2u);
  EXPECT_EQ(*s.lr.deadline(), 1800ms);

  auto a3 = s.ack(3001, {{4000, 4001}}, 1300ms);
  EXPECT_EQ(a3.rexmit, Rexmit::Lost);
  EXPECT_EQ(s.retransmit(1300ms, 4), std::vector<uint32_t>{3001});

  s.ack(4001, {}, 1400ms);
  EXPECT_EQ(s.lr.state(), CaState::Open);
  EXPECT_EQ(s.lr.queue().packets_out(), 0u);
  EXPECT_FALSE(s.lr.deadline());
}

// NewReno (no SACK, RFC 6582): three duplicate ACKs mark the head lost, a
// partial ACK marks the next hole lost.
TEST(FastRetransmit, NewRenoPartialAck) {
  core::RecoverySettings settings;
  settings.sack = false;
  Sender s(settings);
  s.write(6, 200ms);                                        // segments 1 and 4 will be lost
  EXPECT_EQ(s.lr.timer_kind(), XmitTimerKind::Retransmit);  // no TLP without SACK
  EXPECT_EQ(*s.lr.deadline(), 500ms);
  s.ack(1, {}, 300ms);
  s.ack(1, {}, 300ms);
  EXPECT_EQ(s.lr.state(), CaState::Disorder);
  auto a3 = s.ack(1, {}, 300ms);
  EXPECT_EQ(s.lr.state(), CaState::Recovery);
  EXPECT_EQ(a3.rexmit, Rexmit::Lost);
  EXPECT_EQ(s.lr.queue().sacked_out(), 3u);
  EXPECT_EQ(s.retransmit(300ms, 10), std::vector<uint32_t>{1});
  s.ack(1, {}, 310ms);  // the fourth duplicate (segment 6)
  EXPECT_EQ(s.lr.queue().sacked_out(), 4u);
  auto partial = s.ack(4381, {}, 400ms);
  EXPECT_EQ(s.lr.state(), CaState::Recovery);
  EXPECT_EQ(partial.rexmit, Rexmit::Lost);
  EXPECT_EQ(s.retransmit(400ms, 10), std::vector<uint32_t>{4381});
  // Everything up to high_seq acknowledged: NewReno holds the state until
  // data above high_seq is (tcp_is_non_sack_preventing_reopen()).
  s.ack(8761, {}, 500ms);
  EXPECT_EQ(s.lr.state(), CaState::Recovery);
  s.write(1, 500ms);
  auto done = s.ack(10221, {}, 600ms);
  EXPECT_EQ(s.lr.state(), CaState::Open);
  EXPECT_EQ(events(done.events), std::vector<CwndEvent>{CwndEvent::EndReduction});
}

}  // namespace
}  // namespace veer::test
