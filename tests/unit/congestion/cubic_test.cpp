// CUBIC against Linux's tcp_cubic.c integer arithmetic. The golden numbers
// (cube roots, windows per round) come from a separate model of the kernel
// code; the curve is also checked against the real-valued RFC 9438 formula
// W(t) = C*(t-K)^3 + Wmax, C = 0.4.
#include "core/tcp/congestion/cubic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace veer::test {
namespace {

using core::Cubic;
using core::CubicParams;
using core::TcpCongestionState;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr Time kRtt = milliseconds(100);
const uint64_t kCubeFactor = (uint64_t{1} << 40) / 410;  // 2^40 / (bic_scale * 10)

// Cubic after a first loss at `loss_cwnd`, with a 100 ms minimum RTT already
// measured and cwnd set to the new ssthresh (as at the end of recovery).
struct AfterLoss {
  explicit AfterLoss(uint32_t loss_cwnd, CubicParams params = {}) : cubic(params) {
    cubic.init(s, {Time{}, 0, 0});
    s.is_cwnd_limited = true;
    s.snd_ssthresh = loss_cwnd;  // congestion avoidance: no HyStart
    cubic.pkts_acked(s, {{seconds(1), 0, 0}, 1, kRtt});
    s.snd_cwnd = loss_cwnd;
    s.snd_ssthresh = cubic.ssthresh(s);
    s.snd_cwnd = s.snd_ssthresh;
    s.snd_cwnd_cnt = 0;
  }
  // One round trip of a sender filling its window: cwnd ACKs of one segment
  // each, spread evenly over the RTT.
  void round(Time start) {
    uint32_t w = s.snd_cwnd;
    for (uint32_t j = 0; j < w; j++) cubic.cong_avoid(s, 1, start + j * kRtt / w);
  }
  Cubic cubic;
  TcpCongestionState s;
};

// bictcp_update's target and cnt, recomputed from the curve's parameters at
// the last evaluation (last_time, last_cwnd) with Linux's integer formula.
uint32_t cnt_from_formula(const Cubic::View& v) {
  const uint32_t hz = 250;
  uint64_t t = uint64_t(v.last_time - *v.epoch_start);
  t += (uint64_t(v.delay_min) * hz + 999'999) / 1'000'000;  // + one RTT, rounded up
  t = (t << 10) / hz;                                       // in 1/1024 s
  uint64_t offs = t < v.bic_K ? v.bic_K - t : t - v.bic_K;
  uint32_t delta = uint32_t((410 * offs * offs * offs) >> 40);  // 0.4 * (t-K)^3
  uint32_t target = t < v.bic_K ? v.bic_origin_point - delta : v.bic_origin_point + delta;
  uint32_t cnt = target > v.last_cwnd ? v.last_cwnd / (target - v.last_cwnd) : 100 * v.last_cwnd;
  return std::max(cnt, 2u);
}

TEST(Cubic, PrecomputedConstantsAreLinuxs) {
  Cubic cubic;
  EXPECT_EQ(cubic.beta_scale(), 15u);  // 8*(1024+717)/3/(1024-717)
  EXPECT_EQ(cubic.cube_rtt_scale(), 410u);
  EXPECT_EQ(cubic.cube_factor(), 2681735677u);
  EXPECT_EQ(cubic.cube_factor(), kCubeFactor);
}

TEST(Cubic, CubicRootMatchesLinuxBitForBit) {
  struct Case {
    uint64_t a;
    uint32_t root;
  };
  const Case cases[] = {
      {0, 0},
      {1, 1},
      {7, 2},
      {8, 2},
      {27, 3},
      {63, 4},
      {64, 4},
      {125, 5},
      {1000, 10},
      {27000, 30},
      {1000000, 100},
      {uint64_t{1} << 40, 10323},
      {kCubeFactor, 1388},
      {kCubeFactor * 13, 3266},
      {kCubeFactor * 27, 4165},
      {kCubeFactor * 30, 4316},
      {1000000000000000000ull, 1000016},
  };
  for (const Case& c : cases) EXPECT_EQ(core::cubic_root(c.a), c.root) << c.a;
}

TEST(Cubic, CubicRootIsWithinAFifthOfAPercentForEveryK) {
  // K is the cube root of cube_factor * (Wmax - cwnd).
  for (uint64_t dw = 1; dw <= 200000; dw++) {
    double exact = std::cbrt(double(kCubeFactor * dw));
    ASSERT_NEAR(core::cubic_root(kCubeFactor * dw), exact, exact * 0.002) << dw;
  }
}

TEST(Cubic, JiffiesAtHz250) {
  Cubic cubic;
  EXPECT_EQ(cubic.jiffies(seconds(1)), 250u);
  EXPECT_EQ(cubic.jiffies(std::chrono::microseconds(3999)), 0u);
  EXPECT_EQ(cubic.jiffies(milliseconds(4)), 1u);
  EXPECT_EQ(cubic.usecs_to_jiffies(1), 1u);  // rounded up
  EXPECT_EQ(cubic.usecs_to_jiffies(4000), 1u);
  EXPECT_EQ(cubic.usecs_to_jiffies(4001), 2u);
  EXPECT_EQ(cubic.usecs_to_jiffies(100000), 25u);
}

TEST(Cubic, LossAtCwnd100LeavesSsthresh70AndWmax100) {
  AfterLoss a(100);
  EXPECT_EQ(a.s.snd_ssthresh, 70u);  // 100 * 717/1024
  EXPECT_EQ(a.cubic.view().last_max_cwnd, 100u);
  EXPECT_FALSE(a.cubic.view().epoch_start);
}

TEST(Cubic, SsthreshIsAtLeastTwo) {
  Cubic cubic;
  TcpCongestionState s;
  s.snd_cwnd = 2;
  EXPECT_EQ(cubic.ssthresh(s), 2u);
}

TEST(Cubic, FirstAckAfterTheLossStartsTheEpochWithK) {
  AfterLoss a(100);
  a.cubic.cong_avoid(a.s, 1, seconds(20));
  Cubic::View v = a.cubic.view();
  ASSERT_TRUE(v.epoch_start);
  EXPECT_EQ(*v.epoch_start, 5000u);     // 20 s at HZ 250
  EXPECT_EQ(v.bic_origin_point, 100u);  // plateau at Wmax
  EXPECT_EQ(v.bic_K, 4316u);            // cubic_root(cube_factor * 30): 4.215 s
  EXPECT_NEAR(v.bic_K / 1024.0, std::cbrt(30 / 0.4), 0.01);
  EXPECT_EQ(v.tcp_cwnd, 70u);
}

TEST(Cubic, WindowFollowsTheCubicCurveAfterALoss) {
  AfterLoss a(100);
  const Time t0 = seconds(20);
  std::vector<uint32_t> cwnd;  // after each round
  for (int r = 0; r < 90; r++) {
    a.round(t0 + r * kRtt);
    cwnd.push_back(a.s.snd_cwnd);
    Cubic::View v = a.cubic.view();
    // Where the Reno-friendly estimate does not take over, cnt is the
    // curve's: cwnd / (W(t) - cwnd).
    if (v.tcp_cwnd <= v.last_cwnd) {
      EXPECT_EQ(v.cnt, cnt_from_formula(v)) << "round " << r + 1;
    }
  }
  // Linux's windows after 1, 2, ... 9 s: concave up to Wmax = 100, a plateau
  // around K = 4.2 s, then convex probing.
  const uint32_t expected[] = {87, 97, 100, 100, 100, 102, 109, 121, 144};
  for (int i = 0; i < 9; i++) EXPECT_EQ(cwnd[(i + 1) * 10 - 1], expected[i]) << (i + 1) << " s";

  // And the real-valued curve, evaluated one RTT ahead as Linux does
  // (t + delay_min), is within 3% (at least three segments) all along: the
  // window trails the target by the round's growth.
  const double k = std::cbrt((100 - 70) / 0.4);
  for (int r = 1; r <= 90; r++) {
    double t = r * 0.1 + 0.1;
    double w = 0.4 * std::pow(t - k, 3) + 100;
    EXPECT_NEAR(cwnd[r - 1], w, std::max(3.0, 0.03 * w)) << "round " << r;
  }
}

TEST(Cubic, FastConvergenceLowersWmaxOnALossBelowIt) {
  AfterLoss a(100);
  a.s.snd_cwnd = 90;  // lost again before regaining Wmax = 100
  a.s.snd_ssthresh = a.cubic.ssthresh(a.s);
  EXPECT_EQ(a.s.snd_ssthresh, 63u);              // 90 * 717/1024
  EXPECT_EQ(a.cubic.view().last_max_cwnd, 76u);  // 90 * (1 + 0.7)/2
  a.s.snd_cwnd = a.s.snd_ssthresh;
  a.cubic.cong_avoid(a.s, 1, seconds(30));
  EXPECT_EQ(a.cubic.view().bic_K, 3266u);  // cubic_root(cube_factor * (76 - 63))
  EXPECT_EQ(a.cubic.view().bic_origin_point, 76u);
}

TEST(Cubic, WithoutFastConvergenceWmaxIsTheLossWindow) {
  CubicParams params;
  params.fast_convergence = false;
  AfterLoss a(100, params);
  a.s.snd_cwnd = 90;
  a.s.snd_ssthresh = a.cubic.ssthresh(a.s);
  EXPECT_EQ(a.cubic.view().last_max_cwnd, 90u);
  a.s.snd_cwnd = a.s.snd_ssthresh;
  a.cubic.cong_avoid(a.s, 1, seconds(30));
  EXPECT_EQ(a.cubic.view().bic_K, 4165u);  // cubic_root(cube_factor * (90 - 63))
}

TEST(Cubic, BeforeAnyLossGrowsAtLeastFivePercentPerRound) {
  // Slow start ended without a loss (HyStart): no Wmax to aim at.
  Cubic cubic;
  TcpCongestionState s;
  s.is_cwnd_limited = true;
  s.snd_cwnd = 20;
  s.snd_ssthresh = 20;
  cubic.init(s, {Time{}, 0, 0});
  cubic.cong_avoid(s, 1, seconds(5));
  EXPECT_EQ(cubic.view().cnt, 20u);
  for (int i = 0; i < 19; i++) cubic.cong_avoid(s, 1, seconds(5));
  EXPECT_EQ(s.snd_cwnd, 21u);
}

TEST(Cubic, RenoFriendlyRegionTakesOverWhenTheCurveIsSlower) {
  // Restarting just below Wmax, the curve sits on its plateau (target 100,
  // cnt 99) while Reno's estimate (alpha = 3(1-beta)/(1+beta): one segment
  // per (99*15)>>3 = 185 acked) has passed cwnd: cnt is capped to
  // cwnd / (tcp_cwnd - cwnd).
  AfterLoss a(100);
  a.s.snd_cwnd = 99;
  a.cubic.cong_avoid(a.s, 1, seconds(20));
  EXPECT_EQ(a.cubic.view().bic_K, 1388u);
  EXPECT_EQ(a.cubic.view().cnt, 99u);
  a.cubic.cong_avoid(a.s, 500, seconds(20) + milliseconds(1260));  // a stretch ACK
  Cubic::View v = a.cubic.view();
  EXPECT_EQ(v.tcp_cwnd, 101u);  // 501 acked = 2 * 185 + 131
  EXPECT_EQ(v.ack_cnt, 131u);
  EXPECT_EQ(v.cnt, 49u);  // 99 / (101 - 99)
  EXPECT_EQ(a.s.snd_cwnd, 109u);
}

TEST(Cubic, RtoForgetsTheCurve) {
  AfterLoss a(100);
  a.cubic.cong_avoid(a.s, 1, seconds(20));
  a.cubic.set_state(a.s, core::CaState::Loss, {seconds(21), 0, 0});
  Cubic::View v = a.cubic.view();
  EXPECT_EQ(v.last_max_cwnd, 0u);
  EXPECT_EQ(v.delay_min, 0u);
  EXPECT_FALSE(v.epoch_start);
}

TEST(Cubic, RecoveryKeepsTheCurve) {
  AfterLoss a(100);
  a.cubic.set_state(a.s, core::CaState::Recovery, {seconds(21), 0, 0});
  EXPECT_EQ(a.cubic.view().last_max_cwnd, 100u);
  EXPECT_EQ(a.cubic.view().delay_min, 100000u);
}

TEST(Cubic, IdleShiftsTheEpochByTheIdleTime) {
  AfterLoss a(100);
  a.cubic.cong_avoid(a.s, 1, seconds(20));  // epoch at 20 s = jiffy 5000
  a.s.lsndtime = seconds(21);
  a.cubic.cwnd_event(a.s, core::CaEvent::TxStart, seconds(24));
  EXPECT_EQ(*a.cubic.view().epoch_start, 5750u);  // + 3 s of idleness
}

TEST(Cubic, EpochNeverMovesPastNow) {
  AfterLoss a(100);
  a.cubic.cong_avoid(a.s, 1, seconds(20));
  a.s.lsndtime = seconds(0);  // idle since long before the epoch began
  a.cubic.cwnd_event(a.s, core::CaEvent::TxStart, seconds(22));
  EXPECT_EQ(*a.cubic.view().epoch_start, 5500u);  // 22 s
}

TEST(Cubic, DelaySamplesRightAfterALossAreIgnored) {
  AfterLoss a(100);
  a.cubic.cong_avoid(a.s, 1, seconds(20));
  a.cubic.pkts_acked(a.s, {{seconds(20) + milliseconds(999), 0, 0}, 1, milliseconds(50)});
  EXPECT_EQ(a.cubic.view().delay_min, 100000u);
  a.cubic.pkts_acked(a.s, {{seconds(21), 0, 0}, 1, milliseconds(50)});
  EXPECT_EQ(a.cubic.view().delay_min, 50000u);
}

TEST(Cubic, AcksWithoutRttSampleAreIgnored) {
  Cubic cubic;
  TcpCongestionState s;
  cubic.init(s, {Time{}, 0, 0});
  cubic.pkts_acked(s, {{seconds(1), 0, 0}, 1, std::nullopt});
  EXPECT_EQ(cubic.view().delay_min, 0u);
  cubic.pkts_acked(s, {{seconds(1), 0, 0}, 1, Time{}});  // 0 counts as 1 us
  EXPECT_EQ(cubic.view().delay_min, 1u);
}

TEST(Cubic, UndoReturnsToThePriorWindow) {
  Cubic cubic;
  TcpCongestionState s;
  s.snd_cwnd = 70;
  s.prior_cwnd = 100;
  EXPECT_EQ(cubic.undo_cwnd(s), 100u);
}

TEST(Cubic, InitialSsthreshAppliesOnlyWithoutHyStart) {
  CubicParams params;
  params.initial_ssthresh = 50;
  TcpCongestionState s;
  Cubic(params).init(s, {Time{}, 0, 0});
  EXPECT_EQ(s.snd_ssthresh, core::kTcpInfiniteSsthresh);
  params.hystart = false;
  Cubic(params).init(s, {Time{}, 0, 0});
  EXPECT_EQ(s.snd_ssthresh, 50u);
}

}  // namespace
}  // namespace veer::test
