// HyStart as CUBIC runs it in Linux (hystart_update via cubictcp_acked):
// slow start ends at the ACK that shows a delay increase or a full pipe.
#include "core/tcp/congestion/hystart.h"

#include <gtest/gtest.h>

#include "core/tcp/congestion/cubic.h"

namespace veer::test {
namespace {

using core::Cubic;
using core::kTcpInfiniteSsthresh;
using core::TcpCongestionState;
using std::chrono::microseconds;
using std::chrono::milliseconds;

// A connection in slow start at cwnd 20, the first round ending at snd_nxt
// 1000. RTT samples arrive `spacing` apart.
struct HyStartSlowStart : ::testing::Test {
  HyStartSlowStart() {
    s.snd_cwnd = 20;
    cubic.init(s, {Time{}, 0, round_end});
  }
  // One ACK with an RTT sample; `una` beyond the current round's end starts
  // the next round, which ends at `round_end` + 1000.
  void ack(Time rtt, Time spacing = milliseconds(3), bool next_round = false,
           core::AckSample extra = {}) {
    now += spacing;
    if (next_round) round_end += 1000;
    extra.at = {now, next_round ? round_end - 999 : round_end - 1000, round_end};
    extra.pkts_acked = 1;
    extra.rtt = rtt;
    cubic.pkts_acked(s, extra);
  }
  // A round of `n` ACKs with the same RTT.
  void round(int n, Time rtt, Time spacing = milliseconds(3)) {
    ack(rtt, spacing, true);
    for (int i = 1; i < n; i++) ack(rtt, spacing);
  }

  Cubic cubic;
  TcpCongestionState s;
  Time now{};
  uint32_t round_end = 1000;
};

TEST_F(HyStartSlowStart, DelayIncreaseOfAQuarterOfMinRttOrFourMsEndsSlowStart) {
  round(9, milliseconds(10));  // delay_min 10 ms
  EXPECT_EQ(cubic.view().delay_min, 10000u);
  // Threshold: 10 ms + clamp(10 ms / 8, 4 ms, 16 ms) = 14 ms.
  round(9, milliseconds(14));
  EXPECT_EQ(s.snd_ssthresh, kTcpInfiniteSsthresh);

  // A round whose minimum exceeds 14 ms ends slow start on its ninth sample
  // (HYSTART_MIN_SAMPLES before the test runs).
  ack(microseconds(14001), milliseconds(3), true);
  for (int i = 0; i < 7; i++) ack(microseconds(14001));
  EXPECT_EQ(s.snd_ssthresh, kTcpInfiniteSsthresh);
  EXPECT_FALSE(cubic.view().hystart_found);
  ack(microseconds(14001));
  EXPECT_EQ(s.snd_ssthresh, 20u);  // ssthresh = cwnd: congestion avoidance from here
  EXPECT_TRUE(cubic.view().hystart_found);
  EXPECT_FALSE(s.in_slow_start());
}

TEST_F(HyStartSlowStart, DelayThresholdIsAtMostSixteenMs) {
  round(9, milliseconds(200));
  round(9, milliseconds(216));  // 200 + min(25, 16)
  EXPECT_EQ(s.snd_ssthresh, kTcpInfiniteSsthresh);
  round(9, microseconds(216001));
  EXPECT_EQ(s.snd_ssthresh, 20u);
}

TEST_F(HyStartSlowStart, NothingBelowTheLowWindow) {
  s.snd_cwnd = 15;  // hystart_low_window is 16
  round(9, milliseconds(10));
  round(9, milliseconds(50));
  EXPECT_EQ(s.snd_ssthresh, kTcpInfiniteSsthresh);
}

TEST_F(HyStartSlowStart, AckTrainLongerThanHalfTheMinRttEndsSlowStart) {
  round(9, milliseconds(10));  // delay_min 10 ms, ACKs spread out: no train
  EXPECT_EQ(s.snd_ssthresh, kTcpInfiniteSsthresh);
  // Next round: ACKs 1 ms apart (within hystart_ack_delta_us, 2 ms). The
  // train passes delay_min / 2 = 5 ms on its seventh ACK.
  ack(milliseconds(10), milliseconds(3), true);
  for (int i = 0; i < 5; i++) ack(milliseconds(10), milliseconds(1));
  EXPECT_EQ(s.snd_ssthresh, kTcpInfiniteSsthresh);  // 5 ms: not more than 5 ms
  ack(milliseconds(10), milliseconds(1));
  EXPECT_EQ(s.snd_ssthresh, 20u);
}

TEST_F(HyStartSlowStart, PacedAckTrainMayLastAFullMinRtt) {
  round(9, milliseconds(10));
  core::AckSample paced;
  paced.pacing = true;
  ack(milliseconds(10), milliseconds(3), true, paced);
  for (int i = 0; i < 10; i++) ack(milliseconds(10), milliseconds(1), false, paced);
  EXPECT_EQ(s.snd_ssthresh, kTcpInfiniteSsthresh);  // 10 ms
  ack(milliseconds(10), milliseconds(1), false, paced);
  EXPECT_EQ(s.snd_ssthresh, 20u);
}

TEST_F(HyStartSlowStart, BrokenTrainDoesNotCount) {
  round(9, milliseconds(10));
  ack(milliseconds(10), milliseconds(3), true);
  for (int i = 0; i < 20; i++) ack(milliseconds(10), microseconds(2001));
  EXPECT_EQ(s.snd_ssthresh, kTcpInfiniteSsthresh);
}

TEST_F(HyStartSlowStart, FoundOnceThenRtoRearms) {
  round(9, milliseconds(10));
  round(9, milliseconds(20));
  ASSERT_EQ(s.snd_ssthresh, 20u);
  s.snd_cwnd = 30;
  s.snd_ssthresh = kTcpInfiniteSsthresh;  // pretend slow start resumed
  round(9, milliseconds(30));
  EXPECT_EQ(s.snd_ssthresh, kTcpInfiniteSsthresh);  // no second exit

  cubic.set_state(s, core::CaState::Loss, {now, 0, round_end});
  EXPECT_FALSE(cubic.view().hystart_found);
}

TEST(HyStart, RoundEndsWhenSndUnaPassesItsEnd) {
  core::HyStart h;
  h.reset_round(100, 5000);
  EXPECT_EQ(h.end_seq(), 5000u);
  h.update(core::kHystartDelay, 2000, 10, 10, 0, false, 200, 5000, 6000);
  EXPECT_EQ(h.round_start(), 100u);  // snd_una == end: same round
  EXPECT_EQ(h.sample_cnt(), 1u);
  h.update(core::kHystartDelay, 2000, 10, 10, 0, false, 300, 5001, 6000);
  EXPECT_EQ(h.round_start(), 300u);
  EXPECT_EQ(h.end_seq(), 6000u);
  EXPECT_EQ(h.sample_cnt(), 1u);
}

TEST(HyStart, AckDelayCushionIsAtMostOneMs) {
  EXPECT_EQ(core::hystart_ack_delay_us(0, 65536), 0u);                // no pacing rate
  EXPECT_EQ(core::hystart_ack_delay_us(1'000'000'000, 65536), 262u);  // 4 GSO packets at 1 GB/s
  EXPECT_EQ(core::hystart_ack_delay_us(1'000'000, 65536), 1000u);
}

}  // namespace
}  // namespace veer::test
