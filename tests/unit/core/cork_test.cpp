// When queued data leaves and which segments carry PSH: TCP_CORK, MSG_MORE,
// TCP_NODELAY, the probe timer for corked data, TSO bursts, and slow start
// after an idle connection's window opens. A scripted peer in virtual time.
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/core/harness.h"

namespace veer::test {
namespace {

using namespace std::chrono_literals;
using namespace wire::tcpflag;
using core::SockOpt;

constexpr uint16_t kPort = 18000;
constexpr uint16_t kPeerPort = 40000;
constexpr uint32_t kPeerIsn = 1000;

wire::TcpHeader from_peer(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window) {
  return peer_header(kPeerPort, kPort, flags, seq, ack, window);
}

// An accepted connection from a peer with MSS 1000 and window scale 7
// (tcp_nagle_sockopt_cork_nodelay.pkt), 10 ms after the SYN-ACK.
struct Corked : ::testing::Test {
  std::unique_ptr<PeerHarness> hp;
  SocketId conn{};
  uint32_t iss = 0;

  void SetUp() override { open(make_config(kMacA, kIpA)); }
  void open(StackConfig cfg, Time rtt = 10ms) {
    hp = std::make_unique<PeerHarness>(cfg);
    auto l = hp->stack().tcp_socket().value();
    hp->stack().bind(l, {Ipv4Addr{}, kPort});
    hp->stack().listen(l, 5);
    auto syn = from_peer(kSyn, kPeerIsn, 0, 32792);
    syn.options.mss = 1000;
    syn.options.window_scale = 7;
    hp->inject(syn);
    iss = hp->next_segment()->tcp.seq;
    hp->advance(rtt);
    hp->inject(from_peer(kAck, kPeerIsn + 1, iss + 1, 257));
    conn = hp->stack().accept(l, nullptr).value();
  }
  size_t send(size_t n, bool more = false) {
    return hp->stack().send(conn, zeros(n), hp->now(), more).value();
  }
  void ack(uint32_t rel, uint16_t window = 257) {
    hp->inject(from_peer(kAck, kPeerIsn + 1, iss + rel, window));
  }
  // The segments sent since the last call, as "P. 1:81" (relative).
  std::vector<std::string> sent() {
    std::vector<std::string> v;
    while (auto s = hp->next_segment()) {
      uint32_t seq = s->tcp.seq - iss;
      v.push_back(std::string(s->has(kPsh) ? "P. " : ". ") + std::to_string(seq) + ":" +
                  std::to_string(seq + s->payload.size()));
    }
    return v;
  }
};

using Segs = std::vector<std::string>;

TEST_F(Corked, ACorkedSocketHoldsTheShortTailUntilUncorked) {
  ASSERT_EQ(hp->stack().set_option(conn, SockOpt::Cork, 1), 0);
  EXPECT_EQ(hp->stack().get_option(conn, SockOpt::Cork).value(), 1);
  send(40);
  hp->advance(50ms);
  send(40);
  EXPECT_EQ(sent(), Segs{});
  hp->advance(10ms);
  ASSERT_EQ(hp->stack().set_option(conn, SockOpt::Cork, 0), 0);
  EXPECT_EQ(sent(), Segs{"P. 1:81"}) << "both writes in one segment, PSH at the end";
}

TEST_F(Corked, FullSegmentsLeaveWhileCorked) {
  hp->stack().set_option(conn, SockOpt::Cork, 1);
  send(2500);
  EXPECT_EQ(sent(), (Segs{". 1:1001", "P. 1001:2001"})) << "a burst of two; 500 bytes wait";
  hp->stack().set_option(conn, SockOpt::Cork, 0);
  EXPECT_EQ(sent(), Segs{"P. 2001:2501"});
}

TEST_F(Corked, NodelayPushesWhatIsQueuedButTheCorkStays) {
  hp->stack().set_option(conn, SockOpt::Cork, 1);
  send(40);
  send(40);
  hp->stack().set_option(conn, SockOpt::NoDelay, 1);
  EXPECT_EQ(sent(), Segs{"P. 1:81"});
  ack(81);
  send(40);
  EXPECT_EQ(sent(), Segs{}) << "still corked: TCP_CORK is stronger than TCP_NODELAY";
  hp->stack().set_option(conn, SockOpt::Cork, 0);
  EXPECT_EQ(sent(), Segs{"P. 81:121"});
}

TEST_F(Corked, MsgMoreCorksOneWriteAndLeavesNoPshMark) {
  hp->stack().set_option(conn, SockOpt::NoDelay, 1);
  hp->stack().set_option(conn, SockOpt::Cork, 1);
  send(40, true);
  hp->advance(50ms);
  send(40, true);
  EXPECT_EQ(sent(), Segs{});
  hp->advance(10ms);
  hp->stack().set_option(conn, SockOpt::NoDelay, 1);
  EXPECT_EQ(sent(), Segs{". 1:81"}) << "MSG_MORE marks no PSH";
}

TEST_F(Corked, WithoutCorkMsgMoreHoldsDataOnlyUntilTheNextPush) {
  send(40, true);
  EXPECT_EQ(sent(), Segs{});
  send(40);
  EXPECT_EQ(sent(), Segs{"P. 1:81"}) << "a write without MSG_MORE pushes both";
  ack(81);
  send(40, true);
  EXPECT_EQ(sent(), Segs{});
  ack(81, 300);  // any ACK pushes with the socket's own Nagle setting
  EXPECT_EQ(sent(), Segs{". 81:121"});
}

TEST_F(Corked, CorkedDataWithNothingInFlightLeavesAfterOneRto) {
  // No 200 ms cork timer: the zero-window probe timer (armed when data
  // waits with nothing in flight) fires after the RTO, 10 ms + 200 ms
  // here, and tcp_write_wakeup() sends the head of the queue with PSH.
  hp->stack().set_option(conn, SockOpt::Cork, 1);
  Time start = hp->now();
  send(40);
  hp->advance_to(start + 209ms);
  EXPECT_EQ(sent(), Segs{});
  hp->advance_to(start + 210ms);
  EXPECT_EQ(sent(), Segs{"P. 1:41"});
  EXPECT_TRUE(hp->stack().get_option(conn, SockOpt::Cork).value()) << "the socket stays corked";
}

TEST_F(Corked, TsoBurstsEndWithPsh) {
  // __tcp_transmit_skb() sets PSH on every GSO packet; GSO leaves it on the
  // last segment. tcp_min_tso_segs 10 and cwnd 10: bursts of cwnd/2.
  StackConfig cfg = make_config(kMacA, kIpA);
  cfg.tcp.min_tso_segs = 10;
  open(cfg, 100ms);
  send(26000);
  EXPECT_EQ(sent(),
            (Segs{". 1:1001", ". 1001:2001", ". 2001:3001", ". 3001:4001", "P. 4001:5001",
                  ". 5001:6001", ". 6001:7001", ". 7001:8001", ". 8001:9001", "P. 9001:10001"}));
}

TEST_F(Corked, OneSegmentSkbsCarryNoBurstPsh) {
  // A link with gso_max_segs 1 (as veer compare sets for both stacks):
  // every skb is one segment (pcount 1), so no burst ends with PSH; PSH
  // marks only forced pushes (half the peer's largest window, 32896 / 2,
  // written since the last mark: the chunk ending at 17001) and the end of
  // what the write took.
  StackConfig cfg = make_config(kMacA, kIpA);
  cfg.tcp.min_tso_segs = 10;
  cfg.tcp.gso_max_segs = 1;
  open(cfg, 100ms);
  size_t taken = send(26000);
  ASSERT_GT(taken, 17000u);
  EXPECT_EQ(sent(),
            (Segs{". 1:1001", ". 1001:2001", ". 2001:3001", ". 3001:4001", ". 4001:5001",
                  ". 5001:6001", ". 6001:7001", ". 7001:8001", ". 8001:9001", ". 9001:10001"}));
  hp->advance(100ms);
  ack(10001, 511);
  Segs s = sent();
  ASSERT_FALSE(s.empty());
  std::string end = std::to_string(taken + 1);
  for (const std::string& seg : s) {
    bool marked = seg == "P. 16001:17001" || seg.ends_with(":" + end);
    EXPECT_EQ(seg.substr(0, 2), marked ? "P." : ". ") << seg;
  }
}

TEST_F(Corked, AnIdleConnectionRestartsSlowStartWhenTheWindowOpens) {
  // tcp_slow_start_slow-start-after-win-update.pkt: cwnd 36 when the peer
  // closed its window; 3 s later it opens it again.
  StackConfig cfg = make_config(kMacA, kIpA);
  cfg.tcp.min_tso_segs = 10;
  open(cfg, 100ms);
  send(26000);
  hp->advance(100ms);
  ack(10001, 511);
  hp->advance(100ms);
  ack(26001, 0);
  EXPECT_EQ(hp->stack().tcp_info(conn, hp->now())->snd_cwnd, 36u);
  sent();
  send(20000);
  hp->advance(3s);
  sent();  // the zero-window probes
  EXPECT_EQ(hp->stack().tcp_info(conn, hp->now())->snd_cwnd, 36u);
  ack(26001, 511);
  EXPECT_EQ(hp->stack().tcp_info(conn, hp->now())->snd_cwnd, 10u) << "tcp_cwnd_restart()";
  Segs s = sent();
  ASSERT_GE(s.size(), 5u);
  EXPECT_EQ(s[4], "P. 30001:31001") << "a burst of cwnd/2";
}

}  // namespace
}  // namespace veer::test
