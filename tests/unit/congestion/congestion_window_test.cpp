// CongestionWindow: the cwnd steps of tcp_input.c/tcp_output.c around the
// algorithm (recovery entry and exit, RTO, undo, restart after idle, cwnd
// validation), with CUBIC as on Linux by default.
#include "core/tcp/congestion/congestion_window.h"

#include <gtest/gtest.h>

#include "core/tcp/congestion/congestion_factory.h"
#include "core/tcp/congestion/cubic.h"

namespace veer::test {
namespace {

using core::CaState;
using core::CongestionAck;
using core::CongestionWindow;
using core::CwndUsage;
using core::kTcpInfiniteSsthresh;
using core::SendProgress;
using std::chrono::milliseconds;
using std::chrono::seconds;

CongestionWindow established(std::string_view algorithm = "cubic", Time now = seconds(1)) {
  CongestionWindow w(core::make_congestion_control(algorithm));
  w.init_transfer(false, {now, 1, 1});
  return w;
}

// An ACK that cumulatively acknowledges `n` new segments.
CongestionAck acked(uint32_t n, uint32_t in_flight, Time now) {
  CongestionAck a;
  a.now = now;
  a.acked_sacked = n;
  a.in_flight = in_flight;
  a.snd_una_advanced = true;
  a.may_raise_cwnd = true;
  return a;
}

// The CwndEvents LossRecovery emits for tcp_enter_recovery(), then the
// state change.
void enter_recovery(CongestionWindow& w, bool ece, const SendProgress& at) {
  w.clear_prior_ssthresh();
  if (!ece) w.save_prior_ssthresh();
  w.init_cwnd_reduction();
  w.set_ca_state(CaState::Recovery, at);
}

TEST(CongestionWindow, StartsWithTenSegmentsAndNoThreshold) {
  CongestionWindow w = established();
  EXPECT_EQ(w.algorithm_name(), "cubic");
  EXPECT_EQ(w.cwnd(), 10u);
  EXPECT_EQ(w.ssthresh(), kTcpInfiniteSsthresh);
  EXPECT_EQ(w.ca_state(), CaState::Open);
  EXPECT_EQ(w.state().lsndtime, seconds(1));
}

TEST(CongestionWindow, StartsWithOneSegmentAfterTwoSynRetransmissions) {
  CongestionWindow w(core::make_congestion_control("cubic"));
  w.init_transfer(true, {seconds(7), 1, 1});
  EXPECT_EQ(w.cwnd(), 1u);
}

TEST(CongestionWindow, GrowsWhenTheAckMayRaiseCwnd) {
  CongestionWindow w = established("reno");
  w.state().is_cwnd_limited = true;
  CongestionAck sack_only;  // out-of-order delivery on a path without reordering
  sack_only.acked_sacked = 1;
  w.cong_control(sack_only);
  EXPECT_EQ(w.cwnd(), 10u);
  w.cong_control(acked(2, 9, seconds(2)));
  EXPECT_EQ(w.cwnd(), 12u);
  EXPECT_EQ(w.state().snd_cwnd_stamp, seconds(2));
}

TEST(CongestionWindow, FastRecoveryReducesByPrrAndEndsAtSsthresh) {
  CongestionWindow w = established();
  w.state().snd_cwnd = 100;
  const SendProgress at{seconds(5), 1000, 1100};
  enter_recovery(w, false, at);
  EXPECT_EQ(w.ca_state(), CaState::Recovery);
  EXPECT_EQ(w.ssthresh(), 70u);  // CUBIC: 100 * 717/1024
  EXPECT_EQ(w.state().prior_cwnd, 100u);
  EXPECT_EQ(w.state().prior_ssthresh, kTcpInfiniteSsthresh);  // what undo restores

  // The ACK that entered recovery: one SACKed, one marked lost.
  CongestionAck dupack;
  dupack.now = at.now;
  dupack.acked_sacked = 1;
  dupack.newly_lost = 1;
  dupack.in_flight = 98;
  dupack.may_raise_cwnd = true;  // ignored: PRR rules in Recovery
  w.cong_control(dupack);
  EXPECT_EQ(w.cwnd(), 99u);  // room for the fast retransmit
  w.on_transmit(1);
  EXPECT_EQ(w.prr().out(), 1u);

  dupack.newly_lost = 0;
  w.cong_control(dupack);
  EXPECT_EQ(w.cwnd(), 99u);  // ceil(70 * 2/100) - 1 = 1

  // snd_una reaches high_seq: cwnd settles at ssthresh.
  w.end_cwnd_reduction(seconds(6));
  w.set_ca_state(CaState::Open, {seconds(6), 1100, 1200});
  EXPECT_EQ(w.cwnd(), 70u);
  EXPECT_EQ(w.ca_state(), CaState::Open);
}

TEST(CongestionWindow, UndoneRecoveryRestoresWindowAndThreshold) {
  CongestionWindow w = established();
  w.state().snd_cwnd = 100;
  enter_recovery(w, false, {seconds(5), 1000, 1100});
  w.state().snd_cwnd = 80;
  w.undo_cwnd_reduction(seconds(6));
  w.set_ca_state(CaState::Open, {seconds(6), 1100, 1100});
  EXPECT_EQ(w.cwnd(), 100u);
  EXPECT_EQ(w.ssthresh(), kTcpInfiniteSsthresh);
}

TEST(CongestionWindow, EcnSignalledLossCannotBeUndone) {
  CongestionWindow w = established();
  w.state().snd_cwnd = 100;
  enter_recovery(w, true, {seconds(5), 1000, 1100});
  EXPECT_EQ(w.state().prior_ssthresh, 0u);
  w.state().snd_cwnd = 80;
  w.undo_cwnd_reduction(seconds(6));
  EXPECT_EQ(w.cwnd(), 80u);
  EXPECT_EQ(w.ssthresh(), 70u);
}

TEST(CongestionWindow, CwrReducesAndEndsAtSsthresh) {
  // tcp_enter_cwr() then tcp_end_cwnd_reduction(), e.g. a repaired TLP loss.
  CongestionWindow w = established("reno");
  w.state().snd_cwnd = 40;
  w.clear_prior_ssthresh();
  w.init_cwnd_reduction();
  w.set_ca_state(CaState::Cwr, {seconds(5), 1000, 1040});
  EXPECT_EQ(w.ssthresh(), 20u);
  EXPECT_TRUE(w.state().in_cwnd_reduction());
  w.end_cwnd_reduction(seconds(6));
  EXPECT_EQ(w.cwnd(), 20u);
}

TEST(CongestionWindow, EndOfReductionWithoutThresholdKeepsCwnd) {
  CongestionWindow w = established("reno");
  w.state().snd_cwnd = 40;
  w.end_cwnd_reduction(seconds(6));  // ssthresh still infinite
  EXPECT_EQ(w.cwnd(), 40u);
}

TEST(CongestionWindow, RtoCollapsesToOneSegmentAndReducesOncePerEpisode) {
  CongestionWindow w = established();
  w.state().snd_cwnd = 50;
  w.enter_loss(true, 1, {seconds(5), 1000, 1050});
  EXPECT_EQ(w.ca_state(), CaState::Loss);
  EXPECT_EQ(w.cwnd(), 1u);
  EXPECT_EQ(w.ssthresh(), 35u);  // 50 * 717/1024
  EXPECT_EQ(w.state().prior_cwnd, 50u);
  EXPECT_EQ(w.state().prior_ssthresh, kTcpInfiniteSsthresh);

  // The retransmission times out too: same episode, ssthresh stays.
  w.enter_loss(false, 1, {seconds(6), 1000, 1050});
  EXPECT_EQ(w.ssthresh(), 35u);
  EXPECT_EQ(w.cwnd(), 1u);

  // Slow start from one segment while the loss is repaired.
  w.state().is_cwnd_limited = true;
  w.cong_control(acked(1, 0, seconds(7)));
  EXPECT_EQ(w.cwnd(), 2u);
}

TEST(CongestionWindow, RtoForgetsCubicsWmax) {
  CongestionWindow w = established();
  w.state().snd_cwnd = 50;
  w.enter_loss(true, 1, {seconds(5), 1000, 1050});
  auto& cubic = static_cast<core::Cubic&>(w.algorithm());
  EXPECT_EQ(cubic.view().last_max_cwnd, 0u);  // set by .ssthresh, then reset by Loss
}

TEST(CongestionWindow, SpuriousRtoIsUndone) {
  CongestionWindow w = established("reno");
  w.state().snd_cwnd = 50;
  w.state().snd_ssthresh = 30;
  w.enter_loss(true, 1, {seconds(5), 1000, 1050});
  EXPECT_EQ(w.ssthresh(), 25u);
  w.undo_cwnd_reduction(seconds(5) + milliseconds(10));  // F-RTO: it was spurious
  EXPECT_EQ(w.cwnd(), 50u);
  EXPECT_EQ(w.ssthresh(), 37u);  // prior_ssthresh: max(30, 3/4 * 50)
}

TEST(CongestionWindow, IdleRestartHalvesPerRtoDownToTheInitialWindow) {
  CongestionWindow w = established("reno", Time{});
  w.state().snd_cwnd = 40;
  w.state().snd_ssthresh = 20;
  // Idle 1.5 RTOs: restart (more than one RTO), one halving.
  w.restart_after_idle(milliseconds(1500), seconds(1), 0, true);
  EXPECT_EQ(w.cwnd(), 20u);
  EXPECT_EQ(w.ssthresh(), 30u);  // tcp_current_ssthresh: 3/4 of the old cwnd

  CongestionWindow w2 = established("reno", Time{});
  w2.state().snd_cwnd = 40;
  w2.restart_after_idle(milliseconds(3500), seconds(1), 0, true);
  EXPECT_EQ(w2.cwnd(), 10u);  // 40 -> 20 -> 10, never below the initial window
}

TEST(CongestionWindow, NoRestartWhileDataIsOutOrWithinAnRtoOrWhenDisabled) {
  CongestionWindow w = established("reno", Time{});
  w.state().snd_cwnd = 40;
  w.restart_after_idle(seconds(5), seconds(1), 3, true);
  w.restart_after_idle(seconds(1), seconds(1), 0, true);
  w.restart_after_idle(seconds(5), seconds(1), 0, false);
  EXPECT_EQ(w.cwnd(), 40u);
}

TEST(CongestionWindow, FirstDataAfterIdleShiftsCubicsEpoch) {
  CongestionWindow w = established();
  auto& cubic = static_cast<core::Cubic&>(w.algorithm());
  w.state().snd_cwnd = 50;
  w.state().snd_ssthresh = 50;
  w.state().is_cwnd_limited = true;
  w.on_data_sent(0, seconds(10));
  w.cong_control(acked(1, 49, seconds(10)));  // epoch begins at 10 s
  ASSERT_EQ(*cubic.view().epoch_start, 2500u);
  w.on_data_sent(5, seconds(11));  // data still in flight: no event
  w.on_data_sent(0, seconds(14));  // from an empty pipe after 3 s
  EXPECT_EQ(*cubic.view().epoch_start, 3250u);
  EXPECT_EQ(w.state().lsndtime, seconds(14));
}

TEST(CongestionWindow, TracksWhetherCwndLimitsPerWindow) {
  CongestionWindow w = established("reno");
  CwndUsage full{seconds(2), 10, 10, 10, 0, 10};
  w.validate(full);
  EXPECT_TRUE(w.state().is_cwnd_limited);
  EXPECT_EQ(w.state().cwnd_usage_seq, 10u);
  // Within that window a lighter pass does not clear it...
  CwndUsage light{seconds(2), 1, 4, 4, 6, 11};
  w.validate(light);
  EXPECT_TRUE(w.state().is_cwnd_limited);
  // ... the first pass after the window is acked does.
  light.snd_una = 10;
  w.validate(light);
  EXPECT_FALSE(w.state().is_cwnd_limited);
  EXPECT_EQ(w.state().max_packets_out, 4u);
}

TEST(CongestionWindow, UnusedWindowDecaysAfterAnRto) {
  // RFC 2861 as tcp_cwnd_application_limited(): cwnd 40 but the program
  // keeps only 12 in flight; after an RTO cwnd goes halfway down to 12.
  CongestionWindow w = established("reno", Time{});
  w.state().snd_cwnd = 40;
  w.state().snd_ssthresh = 40;
  CwndUsage usage{milliseconds(100), 12, 12, 12, 0, 12};
  usage.rto = seconds(1);
  w.validate(usage);
  EXPECT_EQ(w.cwnd(), 40u);
  usage.now = seconds(1);
  w.validate(usage);
  EXPECT_EQ(w.cwnd(), 26u);      // (40 + 12) / 2
  EXPECT_EQ(w.ssthresh(), 40u);  // max(40, 3/4 * 40)
  EXPECT_EQ(w.state().snd_cwnd_stamp, seconds(1));
}

TEST(CongestionWindow, UnusedWindowStaysWhenTheSendBufferWasTheLimit) {
  CongestionWindow w = established("reno", Time{});
  w.state().snd_cwnd = 40;
  CwndUsage usage{seconds(2), 12, 12, 12, 0, 12};
  usage.rto = seconds(1);
  usage.sndbuf_limited = true;
  w.validate(usage);
  EXPECT_EQ(w.cwnd(), 40u);
}

TEST(CongestionWindow, SwitchingAlgorithmKeepsTheWindow) {
  CongestionWindow w = established();
  w.state().snd_cwnd = 30;
  w.set_algorithm(core::make_congestion_control("reno"), true, {seconds(3), 1, 1});
  EXPECT_EQ(w.algorithm_name(), "reno");
  EXPECT_EQ(w.cwnd(), 30u);
  w.init_cwnd_reduction();
  EXPECT_EQ(w.ssthresh(), 15u);
}

}  // namespace
}  // namespace veer::test
