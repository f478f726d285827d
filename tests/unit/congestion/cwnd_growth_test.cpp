// tcp_slow_start() and tcp_cong_avoid_ai(): the segment-counting primitives.
#include "core/tcp/congestion/cwnd_growth.h"

#include <gtest/gtest.h>

namespace veer::test {
namespace {

using core::TcpCongestionState;

TEST(SlowStart, AddsOneSegmentPerSegmentDelivered) {
  TcpCongestionState s;
  EXPECT_EQ(core::slow_start(s, 3), 0u);
  EXPECT_EQ(s.snd_cwnd, 13u);
}

TEST(SlowStart, StopsAtSsthreshAndReturnsTheRest) {
  TcpCongestionState s;
  s.snd_ssthresh = 12;
  EXPECT_EQ(core::slow_start(s, 5), 3u);  // 10 -> 12, three left for avoidance
  EXPECT_EQ(s.snd_cwnd, 12u);
}

TEST(SlowStart, RespectsTheClamp) {
  TcpCongestionState s;
  s.snd_cwnd_clamp = 11;
  core::slow_start(s, 5);
  EXPECT_EQ(s.snd_cwnd, 11u);
}

TEST(CongAvoidAi, OneSegmentPerWSegmentsDelivered) {
  TcpCongestionState s;
  s.snd_cwnd = 20;
  core::cong_avoid_ai(s, 20, 19);
  EXPECT_EQ(s.snd_cwnd, 20u);
  EXPECT_EQ(s.snd_cwnd_cnt, 19u);
  core::cong_avoid_ai(s, 20, 1);
  EXPECT_EQ(s.snd_cwnd, 21u);
  EXPECT_EQ(s.snd_cwnd_cnt, 0u);
}

TEST(CongAvoidAi, StretchAckCanAddSeveral) {
  TcpCongestionState s;
  s.snd_cwnd = 4;
  core::cong_avoid_ai(s, 4, 9);  // 9 = 2*4 + 1
  EXPECT_EQ(s.snd_cwnd, 6u);
  EXPECT_EQ(s.snd_cwnd_cnt, 1u);
}

TEST(CongAvoidAi, CreditFromALargerWIsAppliedGently) {
  // Credit of 30 earned against w = 40 becomes one segment when w drops to
  // 20, not one and a half.
  TcpCongestionState s;
  s.snd_cwnd = 20;
  s.snd_cwnd_cnt = 30;
  core::cong_avoid_ai(s, 20, 1);
  EXPECT_EQ(s.snd_cwnd, 21u);
  EXPECT_EQ(s.snd_cwnd_cnt, 1u);
}

}  // namespace
}  // namespace veer::test
