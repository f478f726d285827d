// Reno as Linux's tcp_reno_cong_avoid/tcp_reno_ssthresh/tcp_reno_undo_cwnd.
#include "core/tcp/congestion/reno.h"

#include <gtest/gtest.h>

namespace veer::test {
namespace {

using core::Reno;
using core::TcpCongestionState;

// A sender that fills its window: every ACK is cwnd-limited.
TcpCongestionState full_window() {
  TcpCongestionState s;
  s.is_cwnd_limited = true;
  return s;
}

// Delivers `acks` ACKs of one segment each.
void ack_each(Reno& reno, TcpCongestionState& s, int acks) {
  for (int i = 0; i < acks; i++) reno.cong_avoid(s, 1, Time{});
}

TEST(Reno, SlowStartDoublesTheWindowEveryRound) {
  Reno reno;
  TcpCongestionState s = full_window();
  ASSERT_EQ(s.snd_cwnd, 10u);  // RFC 6928
  ASSERT_EQ(s.snd_ssthresh, 0x7fffffffu);
  ack_each(reno, s, 10);  // one window of ACKs
  EXPECT_EQ(s.snd_cwnd, 20u);
  ack_each(reno, s, 20);
  EXPECT_EQ(s.snd_cwnd, 40u);
}

TEST(Reno, SlowStartCountsDelayedAcksBySegments) {
  Reno reno;
  TcpCongestionState s = full_window();
  for (int i = 0; i < 5; i++) reno.cong_avoid(s, 2, Time{});  // every other segment acked
  EXPECT_EQ(s.snd_cwnd, 20u);
}

TEST(Reno, LeftoverAcksAfterSsthreshGoToCongestionAvoidance) {
  Reno reno;
  TcpCongestionState s = full_window();
  s.snd_ssthresh = 12;
  reno.cong_avoid(s, 5, Time{});
  EXPECT_EQ(s.snd_cwnd, 12u);
  EXPECT_EQ(s.snd_cwnd_cnt, 3u);
}

TEST(Reno, CongestionAvoidanceAddsOneSegmentPerWindowAcked) {
  Reno reno;
  TcpCongestionState s = full_window();
  s.snd_cwnd = 20;
  s.snd_ssthresh = 20;  // cwnd == ssthresh: no longer slow start
  ack_each(reno, s, 19);
  EXPECT_EQ(s.snd_cwnd, 20u);
  ack_each(reno, s, 1);
  EXPECT_EQ(s.snd_cwnd, 21u);
  ack_each(reno, s, 21);
  EXPECT_EQ(s.snd_cwnd, 22u);
}

TEST(Reno, SsthreshIsHalfTheWindowAtLeastTwo) {
  Reno reno;
  TcpCongestionState s;
  s.snd_cwnd = 20;
  EXPECT_EQ(reno.ssthresh(s), 10u);
  s.snd_cwnd = 21;
  EXPECT_EQ(reno.ssthresh(s), 10u);
  s.snd_cwnd = 3;
  EXPECT_EQ(reno.ssthresh(s), 2u);
  s.snd_cwnd = 1;
  EXPECT_EQ(reno.ssthresh(s), 2u);
}

TEST(Reno, UndoReturnsToThePriorWindow) {
  Reno reno;
  TcpCongestionState s;
  s.snd_cwnd = 10;
  s.prior_cwnd = 20;
  EXPECT_EQ(reno.undo_cwnd(s), 20u);
  s.snd_cwnd = 25;
  EXPECT_EQ(reno.undo_cwnd(s), 25u);
}

TEST(Reno, ApplicationLimitedSenderDoesNotGrow) {
  Reno reno;
  TcpCongestionState s;   // is_cwnd_limited false
  s.max_packets_out = 4;  // used 4 of 10
  ack_each(reno, s, 4);
  EXPECT_EQ(s.snd_cwnd, 10u);
}

TEST(Reno, SlowStartGrowsToTwiceWhatWasUsed) {
  // tcp_is_cwnd_limited(): with 9 of 10 used, slow start may go to 18.
  Reno reno;
  TcpCongestionState s;
  s.max_packets_out = 9;
  ack_each(reno, s, 9);
  EXPECT_EQ(s.snd_cwnd, 18u);
  ack_each(reno, s, 5);
  EXPECT_EQ(s.snd_cwnd, 18u);
}

TEST(Reno, NameIsReno) {
  EXPECT_EQ(Reno().name(), "reno");
}

}  // namespace
}  // namespace veer::test
