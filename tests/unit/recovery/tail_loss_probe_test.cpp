// The probe timeout (tcp_schedule_loss_probe) and the TLP episode
// (tcp_send_loss_probe, tcp_process_tlp_ack).
#include "core/tcp/recovery/tail_loss_probe.h"

#include <gtest/gtest.h>

#include <chrono>

#include "tests/unit/recovery/sender.h"

namespace veer::test {
namespace {

using core::CaState;
using core::ProbeTimeoutInputs;
using core::TailLossProbe;

ProbeTimeoutInputs inputs(uint32_t packets_out) {
  ProbeTimeoutInputs in;
  in.now = 1000ms;
  in.packets_out = packets_out;
  in.srtt = 100ms;
  in.rto = 1s;
  in.advancing_rto = true;
  return in;
}

TEST(TailLossProbe, TimeoutForManyAndForOneInFlight) {
  // 2 * SRTT + 2 ms with several segments out...
  EXPECT_EQ(*core::loss_probe_deadline(inputs(4)), 1202ms);
  // ...and + the minimum RTO for a lone segment (the peer may delay its ACK).
  EXPECT_EQ(*core::loss_probe_deadline(inputs(1)), 1400ms);
  ProbeTimeoutInputs in = inputs(1);
  in.rto_min = 50ms;  // tcp_rto_min_us
  EXPECT_EQ(*core::loss_probe_deadline(in), 1250ms);
  // No RTT sample yet: TCP_TIMEOUT_INIT.
  in = inputs(4);
  in.srtt.reset();
  EXPECT_EQ(*core::loss_probe_deadline(in), 2000ms);
}

TEST(TailLossProbe, NeverAfterTheRto) {
  ProbeTimeoutInputs in = inputs(1);
  in.rto = 300ms;
  EXPECT_EQ(*core::loss_probe_deadline(in), 1300ms);
  // After sending new data the RTO runs from the head's transmission.
  in = inputs(4);
  in.advancing_rto = false;
  in.head_sent = 900ms;
  in.rto = 250ms;
  EXPECT_EQ(*core::loss_probe_deadline(in), 1150ms);
}

TEST(TailLossProbe, OnlyForSackConnectionsInOpenOrCwr) {
  ProbeTimeoutInputs in = inputs(4);
  in.sack = false;
  EXPECT_FALSE(core::loss_probe_deadline(in));
  in = inputs(4);
  in.state = CaState::Recovery;
  EXPECT_FALSE(core::loss_probe_deadline(in));
  in.state = CaState::Disorder;
  EXPECT_FALSE(core::loss_probe_deadline(in));
  in.state = CaState::Cwr;
  EXPECT_TRUE(core::loss_probe_deadline(in));
  in = inputs(0);
  EXPECT_FALSE(core::loss_probe_deadline(in));
  in = inputs(4);
  in.early_retrans = 2;
  EXPECT_FALSE(core::loss_probe_deadline(in));
}

TEST(TailLossProbe, ProbeChoiceAndOneOutstanding) {
  TailLossProbe t;
  EXPECT_EQ(t.choose(true, true), TailLossProbe::Probe::NewData);
  EXPECT_EQ(t.choose(false, true), TailLossProbe::Probe::RetransmitLast);
  t.on_probe_sent(5001, true);
  EXPECT_EQ(t.choose(true, true), TailLossProbe::Probe::None);
}

TEST(TailLossProbe, EpisodeVerdicts) {
  TailLossProbe t;
  // New data probe acknowledged: over, no loss.
  t.on_probe_sent(5001, false);
  EXPECT_EQ(t.on_ack(4001, true, true, false, false), TailLossProbe::Verdict::None);
  EXPECT_EQ(t.on_ack(5001, true, true, false, false), TailLossProbe::Verdict::NoLoss);
  EXPECT_FALSE(t.high_seq());
  // Retransmission probe, D-SACK for it: original and probe arrived.
  t.on_probe_sent(5001, true);
  EXPECT_EQ(t.on_ack(5001, true, true, false, true), TailLossProbe::Verdict::NoLoss);
  // Retransmission probe, then a pure duplicate ACK at tlp_high_seq.
  t.on_probe_sent(5001, true);
  EXPECT_EQ(t.on_ack(5001, true, true, false, false), TailLossProbe::Verdict::None);
  EXPECT_EQ(t.on_ack(5001, false, false, false, false), TailLossProbe::Verdict::NoLoss);
  // Retransmission probe and an ACK beyond it: a loss was repaired.
  t.on_probe_sent(5001, true);
  EXPECT_EQ(t.on_ack(6001, true, true, false, false), TailLossProbe::Verdict::LossRepaired);
}

// A lost tail segment repaired by the probe: cwnd is reduced once (CWR
// entered and left), without an RTO.
TEST(TailLossProbe, RepairedTailLossReducesCwndOnce) {
  Sender s;
  s.write(2, 200ms);
  EXPECT_EQ(*s.lr.deadline(), 402ms);
  s.ack(1461, {}, 300ms);  // segment 2 is lost
  // The ACK re-arms the probe from now: 2 * 100 ms + 200 ms for one segment,
  // capped by the RTO (300 ms).
  EXPECT_EQ(s.lr.timer_kind(), core::XmitTimerKind::LossProbe);
  EXPECT_EQ(*s.lr.deadline(), 600ms);
  ASSERT_EQ(s.lr.loss_probe(false), TailLossProbe::Probe::RetransmitLast);
  s.lr.on_send(1461, 2921, 600ms, core::SendKind::Probe, s.rto);
  s.lr.on_loss_probe_sent(600ms, s.rto, true);
  EXPECT_EQ(*s.lr.deadline(), 900ms);
  s.write(1, 650ms);  // more data after the probe
  auto a = s.ack(4381, {}, 750ms);
  EXPECT_FALSE(s.lr.tlp().high_seq());
  std::vector<core::CwndEvent> ev(a.events.list().begin(), a.events.list().end());
  EXPECT_EQ(ev, (std::vector<core::CwndEvent>{core::CwndEvent::InitReduction,
                                              core::CwndEvent::EndReduction}));
  EXPECT_EQ(s.lr.state(), CaState::Open);
}

}  // namespace
}  // namespace veer::test
