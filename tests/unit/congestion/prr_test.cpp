// PRR with Linux's arithmetic (tcp_cwnd_reduction) on the scenarios of
// RFC 6937 §3.1: 20 segments in flight, ssthresh 10 (Reno halving), limited
// transmit sending two new segments on the first two duplicate ACKs.
#include "core/tcp/congestion/prr.h"

#include <gtest/gtest.h>

#include <string>

namespace veer::test {
namespace {

using core::ProportionalRateReduction;
using core::TcpCongestionState;

// A bulk sender that just entered recovery from a full window of `cwnd`
// segments: it always has data, so it sends whatever cwnd allows after each
// ACK. `pipe` is RFC 6675's pipe (Linux's tcp_packets_in_flight).
struct RecoveringSender {
  RecoveringSender(uint32_t cwnd, uint32_t ssthresh) : pipe(cwnd) {
    s.snd_cwnd = cwnd;
    s.prior_cwnd = cwnd;  // tcp_init_cwnd_reduction
    s.snd_ssthresh = ssthresh;
    prr.start();
  }
  // One ACK: `delivered` segments newly (S)ACKed, `lost` newly marked lost.
  // Returns what was sent in response: "" nothing, "1", "2"...
  std::string ack(uint32_t delivered, uint32_t lost = 0, bool una_advanced = false) {
    pipe -= delivered + lost;
    pipe_before_send = pipe;
    prr.on_ack(s, delivered, lost, una_advanced, pipe);
    uint32_t send = s.snd_cwnd > pipe ? s.snd_cwnd - pipe : 0;
    prr.on_sent(send);
    pipe += send;
    return send ? std::to_string(send) : "";
  }
  TcpCongestionState s;
  ProportionalRateReduction prr;
  uint32_t pipe;
  uint32_t pipe_before_send = 0;
};

TEST(Prr, SingleLossSpreadsTheReductionOverTheRoundTrip) {
  // Segment 0 is lost; ACKs 1 and 2 clock out two new segments (limited
  // transmit, pipe back to 20); ACK 3 starts recovery and marks segment 0
  // lost.
  RecoveringSender r(20, 10);
  EXPECT_EQ(r.ack(1, 1), "1");  // ACK 3: the fast retransmit
  EXPECT_EQ(r.pipe_before_send, 18u);
  // RFC 6937's PRR row for ACKs 4..15: one transmission every other ACK,
  // in proportion ssthresh/prior_cwnd = 1/2.
  const char* rfc[] = {"", "1", "", "1", "", "1", "", "1", "", "1", "", "1"};
  for (int a = 4; a <= 15; a++) EXPECT_EQ(r.ack(1), rfc[a - 4]) << "ACK " << a;
  // ACKs 16..19. Linux's ceil(ssthresh * prr_delivered / prior_cwnd) sends
  // on ACK 17 where the RFC's table shows ACKs 18 and 19 (its pipe row and
  // send row disagree from ACK 5 on); either way pipe ends at ssthresh.
  EXPECT_EQ(r.ack(1), "");   // 16
  EXPECT_EQ(r.ack(1), "1");  // 17: ceil(10 * 15 / 20) - 7
  EXPECT_EQ(r.ack(1), "");   // 18
  EXPECT_EQ(r.ack(1), "");   // 19: pipe == ssthresh, nothing more
  EXPECT_EQ(r.pipe, 10u);
  EXPECT_EQ(r.prr.delivered(), 17u);
  EXPECT_EQ(r.prr.out(), 8u);
}

TEST(Prr, BurstLossFollowsDeliveriesOneForOne) {
  // Segments 0..14 are lost; only ACKs 15..19 come back, the first two
  // clocking out new segments. On ACK 17 the 15 holes are marked lost:
  // pipe = 22 - 3 SACKed - 15 lost = 4, below ssthresh. Linux then
  // conserves packets, as RFC 6937's PRR-CRB row: pipe 4 4 4, one
  // retransmission per ACK.
  RecoveringSender r(20, 10);
  EXPECT_EQ(r.ack(1, 15), "1");
  EXPECT_EQ(r.pipe_before_send, 4u);
  EXPECT_EQ(r.ack(1), "1");
  EXPECT_EQ(r.pipe_before_send, 4u);
  EXPECT_EQ(r.ack(1), "1");
  EXPECT_EQ(r.pipe_before_send, 4u);
}

TEST(Prr, SafeAckSlowStartsBackToSsthresh) {
  // RFC 9937 (6937bis), as Linux: an ACK that advances snd_una without new
  // losses may send one more than it delivered (PRR-SSRB: RFC 6937's
  // "2R" per ACK), so pipe climbs back to ssthresh, one segment per ACK.
  RecoveringSender r(20, 10);
  EXPECT_EQ(r.ack(1, 15), "1");  // pipe 4, not a safe ACK: no extra segment
  for (uint32_t pipe = 6; pipe <= 10; pipe++) {
    EXPECT_EQ(r.ack(1, 0, true), "2");
    EXPECT_EQ(r.pipe, pipe);
  }
  EXPECT_EQ(r.ack(1, 0, true), "1");  // capped at ssthresh - pipe
  EXPECT_EQ(r.pipe, 10u);
}

TEST(Prr, AckThatAlsoFindsALossIsNotSafe) {
  RecoveringSender r(20, 10);
  r.ack(1, 15);
  EXPECT_EQ(r.ack(1, 1, true), "1");  // advanced, but marked another loss
}

TEST(Prr, BankedDeliveriesAreSentWhenTheApplicationCatchesUp) {
  // Below ssthresh, prr_delivered - prr_out carries what an idle
  // application did not send.
  TcpCongestionState s;
  s.prior_cwnd = 20;
  s.snd_ssthresh = 10;
  ProportionalRateReduction prr;
  prr.start();
  prr.on_ack(s, 1, 0, false, 5);
  prr.on_sent(1);
  prr.on_ack(s, 1, 0, false, 4);  // nothing sent: application idle
  prr.on_ack(s, 1, 0, false, 3);
  EXPECT_EQ(prr.on_ack(s, 1, 0, false, 2), 3u);  // 4 delivered - 1 sent
  EXPECT_EQ(s.snd_cwnd, 5u);
}

TEST(Prr, FirstAckAlwaysAllowsTheFastRetransmit) {
  TcpCongestionState s;
  s.prior_cwnd = 100;
  s.snd_ssthresh = 70;
  ProportionalRateReduction prr;
  prr.start();
  // Above ssthresh the proportional part rounds up: ceil(70 * 1 / 100) = 1.
  EXPECT_EQ(prr.on_ack(s, 1, 1, false, 98), 1u);
  EXPECT_EQ(s.snd_cwnd, 99u);
}

TEST(Prr, NoDeliveryLeavesCwndAlone) {
  TcpCongestionState s;
  s.snd_cwnd = 33;
  s.prior_cwnd = 20;
  s.snd_ssthresh = 10;
  ProportionalRateReduction prr;
  prr.start();
  EXPECT_EQ(prr.on_ack(s, 0, 0, false, 15), 0u);
  EXPECT_EQ(s.snd_cwnd, 33u);
  s.prior_cwnd = 0;  // Linux WARNs and ignores
  EXPECT_EQ(prr.on_ack(s, 1, 0, false, 15), 0u);
  EXPECT_EQ(s.snd_cwnd, 33u);
}

}  // namespace
}  // namespace veer::test
