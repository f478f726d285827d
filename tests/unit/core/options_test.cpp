// TCP options negotiated in the handshake (RFC 7323, RFC 2018) and Linux's
// delayed ACK, against a scripted peer in virtual time.
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/core/harness.h"

namespace veer::test {
namespace {

using namespace std::chrono_literals;
using namespace wire::tcpflag;

constexpr uint16_t kPort = 18000;
constexpr uint16_t kPeerPort = 40000;
constexpr uint32_t kPeerIsn = 1000;

Bytes text(const std::string& s) {
  return Bytes(reinterpret_cast<const std::byte*>(s.data()), s.size());
}

wire::TcpHeader from_peer(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window = 65535) {
  wire::TcpHeader h;
  h.src_port = kPeerPort, h.dst_port = kPort, h.flags = flags, h.seq = seq, h.ack = ack;
  h.window = window;
  return h;
}

wire::TcpOptions linux_syn_options(uint32_t tsval) {
  wire::TcpOptions o;
  o.mss = 1460;
  o.sack_permitted = true;
  o.timestamp = wire::TcpOptions::Timestamp{tsval, 0};
  o.window_scale = 7;
  return o;
}

TEST(TcpOptions, ActiveOpenOffersMssSackTimestampsAndWindowScale) {
  PeerHarness h;
  h.advance_to(5s);
  auto s = h.stack().tcp_socket().value();
  h.stack().connect(s, {kIpB, 80}, h.now());
  auto syn = h.next_segment();
  ASSERT_TRUE(syn);
  const auto& o = syn->tcp.options;
  EXPECT_EQ(o.mss, 1460);
  EXPECT_TRUE(o.sack_permitted);
  ASSERT_TRUE(o.timestamp);
  EXPECT_EQ(o.timestamp->echo, 0u);
  // tcp_rmem[2] = 6 MiB: ilog2(6291456) - 15 = 7, as Linux offers.
  EXPECT_EQ(o.window_scale, 7);
  EXPECT_EQ(syn->tcp.window, 64240) << "a SYN's window is never scaled";
}

TEST(TcpOptions, KnobsTurnEachOptionOff) {
  auto cfg = make_config(kMacA, kIpA);
  cfg.tcp.sack = false;
  cfg.tcp.timestamps = 0;
  cfg.tcp.window_scaling = false;
  PeerHarness h(cfg);
  auto s = h.stack().tcp_socket().value();
  h.stack().connect(s, {kIpB, 80}, h.now());
  auto syn = h.next_segment();
  ASSERT_TRUE(syn);
  wire::TcpOptions only_mss;
  only_mss.mss = 1460;
  EXPECT_EQ(syn->tcp.options, only_mss);
}

TEST(TcpOptions, WindowScaleFollowsTheLargestReceiveBuffer) {
  auto cfg = make_config(kMacA, kIpA);
  cfg.tcp.rmem_max = 15728640;  // packetdrill's defaults.sh: wscale 8
  PeerHarness h(cfg);
  auto s = h.stack().tcp_socket().value();
  h.stack().connect(s, {kIpB, 80}, h.now());
  auto syn = h.next_segment();
  ASSERT_TRUE(syn);
  EXPECT_EQ(syn->tcp.options.window_scale, 8);
}

// A listener, and a peer whose SYN offers what Linux offers.
struct NegotiatedServer : ::testing::Test {
  PeerHarness h;
  SocketId listener{}, conn{};
  uint32_t iss = 0;
  uint32_t our_tsval = 0;
  void SetUp() override {
    listener = h.stack().tcp_socket().value();
    ASSERT_EQ(h.stack().bind(listener, {Ipv4Addr{}, kPort}), 0);
    ASSERT_EQ(h.stack().listen(listener, 5), 0);
    auto syn = from_peer(kSyn, kPeerIsn, 0);
    syn.options = linux_syn_options(700);
    h.inject(syn);
    auto sa = h.next_segment();
    ASSERT_TRUE(sa);
    iss = sa->tcp.seq;
    synack = *sa;
    auto ack = from_peer(kAck, kPeerIsn + 1, iss + 1, 100);  // 100 << 7 = 12800 bytes
    ack.options.timestamp = wire::TcpOptions::Timestamp{701, sa->tcp.options.timestamp->value};
    h.inject(ack);
    conn = h.stack().accept(listener, nullptr).value();
  }
  SeenSegment synack;
};

TEST_F(NegotiatedServer, SynAckAcceptsEveryOfferedOptionAndEchoesTheTimestamp) {
  const auto& o = synack.tcp.options;
  EXPECT_EQ(o.mss, 1460);
  EXPECT_TRUE(o.sack_permitted);
  ASSERT_TRUE(o.timestamp);
  EXPECT_EQ(o.timestamp->echo, 700u);
  EXPECT_EQ(o.window_scale, 7);
}

TEST_F(NegotiatedServer, PeerWindowIsScaledAndTimestampsTakeTwelveBytesOfEachSegment) {
  std::string data(20000, 'x');
  ASSERT_EQ(h.stack().send(conn, text(data), h.now()).value(), 20000u);
  size_t total = 0, segments = 0;
  while (auto s = h.next_segment()) {
    EXPECT_EQ(s->payload.size(), 1448u) << "1460 - 12 bytes of TS option";
    ASSERT_TRUE(s->tcp.options.timestamp);
    EXPECT_EQ(s->tcp.options.timestamp->echo, 701u);
    total += s->payload.size();
    ++segments;
  }
  // The peer's window is 100 << 7 = 12800 bytes: 8 full segments fit.
  EXPECT_EQ(segments, 8u);
  EXPECT_EQ(total, 8u * 1448u);
}

TEST_F(NegotiatedServer, MaxsegIsThePeersMssLessTheTimestampOption) {
  EXPECT_EQ(h.stack().get_option(conn, core::SockOpt::MaxSeg).value(), 1448);
}

TEST(TcpOptions, UserMssCapsTheAdvertisedMss) {
  PeerHarness h;
  auto s = h.stack().tcp_socket().value();
  EXPECT_EQ(h.stack().get_option(s, core::SockOpt::MaxSeg).value(), 536) << "TCP_MSS_DEFAULT";
  EXPECT_EQ(h.stack().set_option(s, core::SockOpt::MaxSeg, 87), EINVAL);
  ASSERT_EQ(h.stack().set_option(s, core::SockOpt::MaxSeg, 1000), 0);
  h.stack().connect(s, {kIpB, 80}, h.now());
  auto syn = h.next_segment();
  ASSERT_TRUE(syn);
  EXPECT_EQ(syn->tcp.options.mss, 1000);
}

TEST_F(NegotiatedServer, TcpCongestionSwitchesTheAlgorithm) {
  EXPECT_EQ(h.stack().congestion_control(conn), "cubic");
  EXPECT_EQ(h.stack().set_congestion_control(conn, "bbr"), ENOENT);
  ASSERT_EQ(h.stack().set_congestion_control(conn, "reno"), 0);
  EXPECT_EQ(h.stack().congestion_control(conn), "reno");
}

TEST_F(NegotiatedServer, TcpInfoReportsTheNegotiatedConnection) {
  std::string data(3000, 'q');
  h.stack().send(conn, text(data), h.now());
  auto i = h.stack().tcp_info(conn, h.now());
  ASSERT_TRUE(i);
  EXPECT_EQ(i->state, 1) << "TCP_ESTABLISHED";
  EXPECT_EQ(i->options, core::kTcpiOptTimestamps | core::kTcpiOptSack | core::kTcpiOptWscale);
  EXPECT_EQ(i->snd_wscale, 7);
  EXPECT_EQ(i->rcv_wscale, 7);
  EXPECT_EQ(i->snd_mss, 1448u);
  EXPECT_EQ(i->snd_cwnd, 10u);
  EXPECT_EQ(i->unacked, 3u) << "1448 + 1448 + 104 bytes in flight";
  EXPECT_EQ(i->snd_ssthresh, 0x7fffffffu);
  auto listener_info = h.stack().tcp_info(listener, h.now());
  EXPECT_EQ(listener_info->state, 10) << "TCP_LISTEN";
}

TEST_F(NegotiatedServer, OurWindowIsScaledDown) {
  auto d = from_peer(kAck | kPsh, kPeerIsn + 1, iss + 1, 100);
  d.options.timestamp = wire::TcpOptions::Timestamp{702, 0};
  h.inject(d, text("hi"));
  auto ack = h.next_segment();
  ASSERT_TRUE(ack);
  // tcp_rmem[1] = 131072 offers half as window (tcp_adv_win_scale 1):
  // 65536 - 2 bytes, rounded up to the 128-byte unit: 512 << 7.
  EXPECT_EQ(ack->tcp.window, 512);
  EXPECT_EQ(ack->tcp.options.timestamp->echo, 702u) << "TS.Recent follows the newest segment";
}

TEST_F(NegotiatedServer, PawsDropsASegmentWithAnOldTimestamp) {
  auto old = from_peer(kAck | kPsh, kPeerIsn + 1, iss + 1, 100);
  old.options.timestamp = wire::TcpOptions::Timestamp{600, 0};  // older than 701
  h.inject(old, text("stale"));
  auto ack = h.next_segment();
  ASSERT_TRUE(ack) << "PAWS answers with an ACK";
  EXPECT_EQ(ack->tcp.ack, kPeerIsn + 1) << "and accepts nothing";
  EXPECT_EQ(h.stack().bytes_readable(conn), 0u);
}

TEST(TcpOptions, NoOptionsFromThePeerMeansNoneFromUs) {
  PeerHarness h;
  auto l = h.stack().tcp_socket().value();
  h.stack().bind(l, {Ipv4Addr{}, kPort});
  h.stack().listen(l, 5);
  h.inject(from_peer(kSyn, kPeerIsn, 0));
  auto sa = h.next_segment();
  ASSERT_TRUE(sa);
  wire::TcpOptions only_mss;
  only_mss.mss = 1460;
  EXPECT_EQ(sa->tcp.options, only_mss);
}

// --- Delayed ACK ----------------------------------------------------------------

struct PlainServer : ::testing::Test {
  PeerHarness h;
  SocketId conn{};
  uint32_t iss = 0;
  uint32_t peer_seq = kPeerIsn + 1;
  void SetUp() override {
    auto l = h.stack().tcp_socket().value();
    h.stack().bind(l, {Ipv4Addr{}, kPort});
    h.stack().listen(l, 5);
    auto syn = from_peer(kSyn, kPeerIsn, 0);
    syn.options.mss = 1460;
    h.inject(syn);
    iss = h.next_segment()->tcp.seq;
    h.inject(from_peer(kAck, peer_seq, iss + 1));
    conn = h.stack().accept(l, nullptr).value();
  }
  void send_from_peer(size_t n) {
    std::string d(n, 'p');
    h.inject(from_peer(kAck | kPsh, peer_seq, iss + 1), text(d));
    peer_seq += static_cast<uint32_t>(n);
  }
};

TEST_F(PlainServer, QuickAcksFirstThenTheFortyMillisecondTimer) {
  // The first data starts quick-ACK mode: 16 segments are ACKed at once.
  for (int i = 0; i < 16; ++i) {
    send_from_peer(100);
    auto ack = h.next_segment();
    ASSERT_TRUE(ack) << "segment " << i;
    EXPECT_EQ(ack->tcp.ack, peer_seq);
  }
  send_from_peer(100);
  EXPECT_FALSE(h.next_segment()) << "the 17th waits";
  Time sent = h.now();
  h.advance_to(sent + 39ms);
  EXPECT_FALSE(h.next_segment());
  h.advance_to(sent + 40ms);
  auto ack = h.next_segment();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->tcp.ack, peer_seq);
}

TEST_F(PlainServer, EverySecondFullSegmentIsAckedAtOnce) {
  for (int i = 0; i < 16; ++i) {
    send_from_peer(1460);
    h.next_segment();
  }
  send_from_peer(1460);
  EXPECT_FALSE(h.next_segment()) << "one full segment waits";
  send_from_peer(1460);
  auto ack = h.next_segment();
  ASSERT_TRUE(ack) << "the second is ACKed at once";
  EXPECT_EQ(ack->tcp.ack, peer_seq);
}

TEST_F(PlainServer, AReplyCarriesTheAckAndCancelsTheTimer) {
  for (int i = 0; i < 16; ++i) {
    send_from_peer(10);
    h.next_segment();
  }
  send_from_peer(10);
  EXPECT_FALSE(h.next_segment());
  h.advance(5ms);
  ASSERT_EQ(h.stack().send(conn, text("reply"), h.now()).value(), 5u);
  auto reply = h.next_segment();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->tcp.ack, peer_seq);
  EXPECT_EQ(reply->payload.size(), 5u);
  h.advance(100ms);
  while (auto s = h.next_segment()) {
    EXPECT_NE(s->payload.size(), 0u) << "no separate ACK after the reply carried it";
  }
}

}  // namespace
}  // namespace veer::test

namespace veer::test {
namespace {

using namespace std::chrono_literals;
using namespace wire::tcpflag;

// Keepalive with TCP_KEEPIDLE 10, TCP_KEEPINTVL 5, TCP_KEEPCNT 3 on an idle
// connection whose peer has gone silent: probes at 10, 15, 20 s after the
// last ACK, then a RST and ETIMEDOUT at 25 s (tcp_keepalive_timer()).
TEST_F(PlainServer, KeepaliveProbesThenResetsASilentPeer) {
  Time start = h.now();
  ASSERT_EQ(h.stack().set_option(conn, core::SockOpt::KeepIdle, 10), 0);
  ASSERT_EQ(h.stack().set_option(conn, core::SockOpt::KeepIntvl, 5), 0);
  ASSERT_EQ(h.stack().set_option(conn, core::SockOpt::KeepCnt, 3), 0);
  EXPECT_EQ(h.stack().set_option(conn, core::SockOpt::KeepCnt, 128), EINVAL);
  ASSERT_EQ(h.stack().set_option(conn, core::SockOpt::KeepAlive, 1), 0);
  std::vector<Time> probes;
  Time reset_at{};
  for (Time t = start; t <= start + 30s; t += 100ms) {
    h.advance_to(t);
    while (auto s = h.next_segment()) {
      if (s->has(kRst)) {
        reset_at = h.now() - start;
      } else {
        EXPECT_EQ(s->tcp.seq, iss) << "a probe is an ACK one byte behind SND.UNA";
        EXPECT_TRUE(s->payload.empty());
        probes.push_back(h.now() - start);
      }
    }
  }
  EXPECT_EQ(probes, (std::vector<Time>{10s, 15s, 20s}));
  EXPECT_EQ(reset_at, 25s);
  EXPECT_EQ(h.stack().take_error(conn), ETIMEDOUT);
}

TEST_F(PlainServer, AnAnsweredKeepaliveProbeStartsTheIdleTimeAgain) {
  Time start = h.now();
  h.stack().set_option(conn, core::SockOpt::KeepIdle, 10);
  h.stack().set_option(conn, core::SockOpt::KeepIntvl, 5);
  h.stack().set_option(conn, core::SockOpt::KeepAlive, 1);
  h.advance_to(start + 10s);
  auto probe = h.next_segment();
  ASSERT_TRUE(probe);
  // The peer answers with its ACK.
  h.inject(from_peer(kAck, peer_seq, iss + 1));
  h.advance_to(start + 19s);
  EXPECT_FALSE(h.next_segment());
  h.advance_to(start + 20s);
  auto next = h.next_segment();
  // The timer fires at 15 s, finds only 5 s of silence and waits the rest.
  ASSERT_TRUE(next) << "the next probe comes a full idle time after the answer";
  EXPECT_EQ(h.stack().get_option(conn, core::SockOpt::KeepIdle).value(), 10);
  EXPECT_EQ(h.stack().get_option(conn, core::SockOpt::KeepCnt).value(), 9) << "the knob's value";
}

}  // namespace
}  // namespace veer::test

namespace veer::test {
namespace {

using namespace std::chrono_literals;
using namespace wire::tcpflag;

// A client connection through the single ephemeral port 40000 to the peer's
// port 80, with timestamps, closed actively: it ends in TIME_WAIT.
struct TimeWaitClient {
  explicit TimeWaitClient(int tw_reuse) : h(config(tw_reuse)) {}
  static core::StackConfig config(int tw_reuse) {
    auto cfg = make_config(kMacA, kIpA);
    cfg.tcp.tw_reuse = tw_reuse;
    cfg.tcp.port_low = cfg.tcp.port_high = 40000;
    return cfg;
  }
  // Returns the snd_nxt the connection ended with. `fin_after`: how long
  // after our FIN the peer's comes; `fin_ts`: whether it carries a timestamp.
  uint32_t run_to_time_wait(bool reuse_addr = false, Time fin_after = 0ms, bool fin_ts = true) {
    auto s = h.stack().tcp_socket().value();
    h.stack().set_option(s, core::SockOpt::ReuseAddr, reuse_addr);
    EXPECT_EQ(h.stack().connect(s, {kIpB, 80}, h.now()), EINPROGRESS);
    auto syn = h.next_segment();
    wire::TcpHeader sa;
    sa.src_port = 80, sa.dst_port = 40000, sa.flags = kSyn | kAck, sa.seq = 5000;
    sa.ack = syn->tcp.seq + 1, sa.window = 65535;
    sa.options = linux_syn_options(100);
    sa.options.timestamp->echo = syn->tcp.options.timestamp->value;
    h.inject(sa);
    h.next_segment();
    h.stack().close(s, h.now());
    auto fin = h.next_segment();
    wire::TcpHeader finack;
    finack.src_port = 80, finack.dst_port = 40000, finack.flags = kFin | kAck;
    finack.seq = 5001, finack.ack = fin->tcp.seq + 1, finack.window = 65535;
    if (fin_ts) {
      finack.options.timestamp =
          wire::TcpOptions::Timestamp{101, fin->tcp.options.timestamp->value};
    }
    h.advance(fin_after);
    h.inject(finack);
    h.next_segment();
    return fin->tcp.seq + 1;
  }
  PeerHarness h;
};

TEST(TimeWaitReuse, WithTwReuse1TheTupleIsTakenOverAfterOneSecond) {
  TimeWaitClient c(1);
  uint32_t old_nxt = c.run_to_time_wait();
  ASSERT_EQ(c.h.stack().connection_count(), 1u);
  Time tw = c.h.now();
  auto s = c.h.stack().tcp_socket().value();
  EXPECT_EQ(c.h.stack().connect(s, {kIpB, 80}, c.h.now()), EADDRNOTAVAIL)
      << "TIME_WAIT is younger than tcp_tw_reuse_delay";
  c.h.advance_to(tw + 999ms);
  EXPECT_EQ(c.h.stack().connect(s, {kIpB, 80}, c.h.now()), EADDRNOTAVAIL);
  c.h.advance_to(tw + 1000ms);
  EXPECT_EQ(c.h.stack().connect(s, {kIpB, 80}, c.h.now()), EADDRNOTAVAIL)
      << "time_after32(): strictly after the delay";
  c.h.advance_to(tw + 1001ms);
  ASSERT_EQ(c.h.stack().connect(s, {kIpB, 80}, c.h.now()), EINPROGRESS);
  auto syn = c.h.next_segment();
  ASSERT_TRUE(syn);
  EXPECT_EQ(syn->tcp.src_port, 40000);
  EXPECT_EQ(syn->tcp.seq, old_nxt + 65535 + 2) << "tcp_twsk_unique()'s ISN";
  // The new connection starts with the TIME_WAIT's TS.Recent: its SYN echoes
  // the peer's last TSval, and its window is a multiple of the MSS less the
  // timestamp option (tcp_connect_init()).
  ASSERT_TRUE(syn->tcp.options.timestamp);
  EXPECT_EQ(syn->tcp.options.timestamp->echo, 101u);
  EXPECT_EQ(syn->tcp.window, 65160);
}

TEST(TimeWaitReuse, TheDelayCountsFromTheStartOfTimeWait) {
  // The peer's last timestamp came with its SYN-ACK at 0; TIME_WAIT begins
  // at 0.5 s with a FIN that carries none: tcp_tw_reuse_delay counts from
  // then (tw_entry_stamp), not from the timestamp (ts_recent_stamp).
  TimeWaitClient c(1);
  Time start = c.h.now();
  c.run_to_time_wait(false, 500ms, false);
  auto s = c.h.stack().tcp_socket().value();
  c.h.advance_to(start + 1100ms);
  EXPECT_EQ(c.h.stack().connect(s, {kIpB, 80}, c.h.now()), EADDRNOTAVAIL);
  c.h.advance_to(start + 1501ms);
  EXPECT_EQ(c.h.stack().connect(s, {kIpB, 80}, c.h.now()), EINPROGRESS);
}

TEST(TimeWaitReuse, WithTheDefaultTheTupleWaitsOutTimeWait) {
  TimeWaitClient c(2);  // Linux's default: loopback only, and veer has none
  c.run_to_time_wait();
  Time tw = c.h.now();
  auto s = c.h.stack().tcp_socket().value();
  c.h.advance_to(tw + 30s);
  EXPECT_EQ(c.h.stack().connect(s, {kIpB, 80}, c.h.now()), EADDRNOTAVAIL);
  c.h.advance_to(tw + 60s);
  EXPECT_EQ(c.h.stack().connect(s, {kIpB, 80}, c.h.now()), EINPROGRESS);
}

TEST(TimeWaitReuse, AnExplicitlyBoundPortMayTakeOverWheneverTimestampsWereSeen) {
  TimeWaitClient c(0);
  // Both sockets set SO_REUSEADDR, so bind() may share the port with the
  // TIME_WAIT remains (inet_csk_bind_conflict()); connect() then takes the
  // 4-tuple over since the port was chosen by the program.
  uint32_t old_nxt = c.run_to_time_wait(true);
  auto s = c.h.stack().tcp_socket().value();
  ASSERT_EQ(c.h.stack().set_option(s, core::SockOpt::ReuseAddr, 1), 0);
  ASSERT_EQ(c.h.stack().bind(s, {kIpA, 40000}), 0);
  ASSERT_EQ(c.h.stack().connect(s, {kIpB, 80}, c.h.now()), EINPROGRESS);
  auto syn = c.h.next_segment();
  ASSERT_TRUE(syn);
  EXPECT_EQ(syn->tcp.seq, old_nxt + 65537);
}

TEST_F(NegotiatedServer, ANewerSynReopensATimeWaitConnectionThroughTheListener) {
  h.stack().close(conn, h.now());
  auto fin = h.next_segment();
  ASSERT_TRUE(fin);
  auto finack = from_peer(kFin | kAck, kPeerIsn + 1, fin->tcp.seq + 1, 100);
  finack.options.timestamp = wire::TcpOptions::Timestamp{800, fin->tcp.options.timestamp->value};
  h.inject(finack);
  h.next_segment();
  ASSERT_EQ(h.stack().connection_count(), 1u);  // TIME_WAIT
  h.advance(2s);
  auto syn = from_peer(kSyn, kPeerIsn + 100000, 0);
  syn.options = linux_syn_options(900);
  h.inject(syn);
  auto sa = h.next_segment();
  ASSERT_TRUE(sa);
  EXPECT_EQ(sa->tcp.flags, kSyn | kAck);
  EXPECT_EQ(sa->tcp.seq, fin->tcp.seq + 1 + 65535 + 2);
  EXPECT_EQ(sa->tcp.ack, kPeerIsn + 100001);
}

}  // namespace
}  // namespace veer::test

namespace veer::test {
namespace {

using namespace std::chrono_literals;
using namespace wire::tcpflag;

TEST_F(NegotiatedServer, OutOfOrderDataIsQueuedSackedAndDeliveredInOrder) {
  uint32_t base = kPeerIsn + 1;
  auto data = [&](uint32_t seq, const std::string& text_, uint32_t tsval) {
    auto d = from_peer(kAck, seq, iss + 1, 100);
    d.options.timestamp = wire::TcpOptions::Timestamp{tsval, 0};
    h.inject(d, text(text_));
  };
  data(base + 100, std::string(100, 'b'), 710);  // the second hundred bytes first
  auto ack = h.next_segment();
  ASSERT_TRUE(ack) << "a hole is reported at once";
  EXPECT_EQ(ack->tcp.ack, base);
  ASSERT_EQ(ack->tcp.options.sack_count, 1);
  EXPECT_EQ(ack->tcp.options.sack[0], (wire::SackBlock{base + 100, base + 200}));
  data(base, std::string(100, 'a'), 711);
  ack = h.next_segment();
  ASSERT_TRUE(ack) << "filling the hole is ACKed at once";
  EXPECT_EQ(ack->tcp.ack, base + 200);
  EXPECT_EQ(ack->tcp.options.sack_count, 0);
  std::vector<std::byte> buf(300);
  auto n = h.stack().recv(conn, buf, h.now());
  ASSERT_EQ(n.value(), 200u);
  EXPECT_EQ(char(buf[0]), 'a');
  EXPECT_EQ(char(buf[100]), 'b');
  // The first hundred again: a D-SACK names it, once.
  data(base, std::string(100, 'a'), 712);
  ack = h.next_segment();
  ASSERT_TRUE(ack);
  ASSERT_EQ(ack->tcp.options.sack_count, 1);
  EXPECT_EQ(ack->tcp.options.sack[0], (wire::SackBlock{base, base + 100}));
  EXPECT_EQ(h.stack().counters().tcp_ooo_queued, 1u);
}

}  // namespace
}  // namespace veer::test
