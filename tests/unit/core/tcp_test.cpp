// TCP against a scripted peer in virtual time: the exact segments and times.
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/core/harness.h"

namespace veer::test {
namespace {

using namespace std::chrono_literals;
using namespace wire::tcpflag;
using core::TcpState;

constexpr uint16_t kServerPort = 18000;
constexpr uint16_t kPeerPort = 40000;
constexpr uint32_t kPeerIsn = 5000;
constexpr Time kHandshakeRtt = std::chrono::milliseconds(10);

Bytes text(const std::string& s) {
  return Bytes(reinterpret_cast<const std::byte*>(s.data()), s.size());
}

std::string as_string(const std::vector<std::byte>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

wire::TcpHeader seg(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window = 65535) {
  wire::TcpHeader h;
  h.src_port = kPeerPort;
  h.dst_port = kServerPort;
  h.flags = flags;
  h.seq = seq;
  h.ack = ack;
  h.window = window;
  return h;
}

// A listener on 18000 with one accepted connection from the peer.
struct ServerFixture : ::testing::Test {
  explicit ServerFixture(StackConfig config = make_config(kMacA, kIpA)) : h(config) {}
  PeerHarness h;
  SocketId listener{}, conn{};
  uint32_t iss = 0;

  void SetUp() override {
    listener = h.stack().tcp_socket().value();
    ASSERT_EQ(h.stack().bind(listener, {Ipv4Addr{}, kServerPort}), 0);
    ASSERT_EQ(h.stack().listen(listener, 5), 0);
    auto syn = seg(kSyn, kPeerIsn, 0);
    syn.options.mss = 1460;
    h.inject(syn);
    auto synack = h.next_segment();
    ASSERT_TRUE(synack);
    iss = synack->tcp.seq;
    h.advance_to(kHandshakeRtt);  // the first RTT sample: RTO = 10 + max(4 * 5, 200) ms
    h.inject(seg(kAck, kPeerIsn + 1, iss + 1));
    auto c = h.stack().accept(listener, nullptr);
    ASSERT_TRUE(c.ok());
    conn = c.value();
  }
};

TEST(TcpPassiveOpen, SynAckCarriesMssAndLinuxInitialWindow) {
  PeerHarness h;
  auto l = h.stack().tcp_socket().value();
  ASSERT_EQ(h.stack().bind(l, {Ipv4Addr{}, kServerPort}), 0);
  ASSERT_EQ(h.stack().listen(l, 5), 0);
  EXPECT_EQ(h.stack().accept(l, nullptr).err(), EAGAIN);
  auto syn = seg(kSyn, kPeerIsn, 0);
  syn.options.mss = 1460;
  h.inject(syn);
  auto sa = h.next_segment();
  ASSERT_TRUE(sa);
  EXPECT_EQ(sa->tcp.flags, kSyn | kAck);
  EXPECT_EQ(sa->tcp.ack, kPeerIsn + 1);
  EXPECT_EQ(sa->tcp.options.mss, 1460);
  EXPECT_EQ(sa->tcp.window, 64240);  // 44 * 1460, as Linux offers
  EXPECT_EQ(sa->tcp.src_port, kServerPort);
  EXPECT_EQ(sa->ip.src, kIpA);
  EXPECT_EQ(h.stack().readiness(l) & core::ready::kIn, 0u);
  h.inject(seg(kAck, kPeerIsn + 1, sa->tcp.seq + 1));
  EXPECT_EQ(h.stack().readiness(l) & core::ready::kIn, core::ready::kIn);
  Endpoint peer;
  auto c = h.stack().accept(l, &peer);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(peer, (Endpoint{kIpB, kPeerPort}));
  EXPECT_EQ(h.stack().state(c.value()), TcpState::Established);
  EXPECT_EQ(h.stack().counters().tcp_passive_opens, 1u);
  EXPECT_FALSE(h.next_segment()) << "the handshake's ACK needs no answer";
}

TEST(TcpPassiveOpen, SynAckRetransmittedWithBackoffThenGivenUp) {
  PeerHarness h;
  auto l = h.stack().tcp_socket().value();
  h.stack().bind(l, {Ipv4Addr{}, kServerPort});
  h.stack().listen(l, 5);
  h.inject(seg(kSyn, kPeerIsn, 0));
  std::vector<Time> sent;
  for (Time t = 0s; t <= 70s; t += 10ms) {
    h.advance_to(t);
    while (auto s = h.next_segment()) {
      EXPECT_EQ(s->tcp.flags, kSyn | kAck);
      sent.push_back(h.now());
    }
  }
  // tcp_synack_retries = 5: at 0, 1, 3, 7, 15, 31 s; dropped at 63 s.
  EXPECT_EQ(sent, (std::vector<Time>{0s, 1s, 3s, 7s, 15s, 31s}));
  EXPECT_EQ(h.stack().connection_count(), 0u);
}

TEST(TcpRst, SegmentsToAClosedPortAreAnsweredWithRst) {
  PeerHarness h;
  h.inject(seg(kSyn, kPeerIsn, 0));
  auto r = h.next_segment();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tcp.flags, kRst | kAck);
  EXPECT_EQ(r->tcp.seq, 0u);
  EXPECT_EQ(r->tcp.ack, kPeerIsn + 1);
  // With ACK set the RST takes its sequence number from the ACK field.
  h.inject(seg(kAck, kPeerIsn + 1, 777));
  r = h.next_segment();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tcp.flags, kRst);
  EXPECT_EQ(r->tcp.seq, 777u);
  // A RST is never answered.
  h.inject(seg(kRst, kPeerIsn + 1, 0));
  EXPECT_FALSE(h.next_segment());
  EXPECT_EQ(h.stack().counters().tcp_rst_sent, 2u);
}

// A TAP with offloads hands over the local kernel's GSO frames whole: one
// segment far larger than the MSS, its checksum vouched for by the device.
TEST_F(ServerFixture, OneGsoSizedSegmentIsReceivedWhole) {
  std::vector<std::byte> big(20000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = std::byte(uint8_t(i * 7));
  Frame f = build_tcp_frame(kMacB, kMacA, kIpB, kIpA, seg(kAck | kPsh, kPeerIsn + 1, iss + 1), big);
  h.inject_frame(f, /*checksum_trusted=*/true);
  EXPECT_EQ(h.stack().counters().tcp_rx_bad_checksum, 0u);
  auto ack = h.next_segment();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->tcp.ack, kPeerIsn + 1 + big.size());
  std::vector<std::byte> buf(big.size() + 1);
  auto n = h.stack().recv(conn, buf, h.now());
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(n.value(), big.size());
  EXPECT_TRUE(std::equal(big.begin(), big.end(), buf.begin()));
}

TEST_F(ServerFixture, DataBothWaysWithCumulativeAcks) {
  h.inject(seg(kAck | kPsh, kPeerIsn + 1, iss + 1), text("hello"));
  auto ack = h.next_segment();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->tcp.flags, kAck);
  EXPECT_EQ(ack->tcp.ack, kPeerIsn + 6);
  std::vector<std::byte> buf(64);
  auto n = h.stack().recv(conn, buf, h.now());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(as_string({buf.begin(), buf.begin() + static_cast<long>(n.value())}), "hello");
  EXPECT_EQ(h.stack().recv(conn, buf, h.now()).err(), EAGAIN);

  ASSERT_EQ(h.stack().send(conn, text("world!"), h.now()).value(), 6u);
  auto data = h.next_segment();
  ASSERT_TRUE(data);
  EXPECT_EQ(data->tcp.flags, kAck | kPsh);
  EXPECT_EQ(data->tcp.seq, iss + 1);
  EXPECT_EQ(as_string(data->payload), "world!");
  EXPECT_EQ(h.stack().bytes_unacked(conn), 6u);
  h.inject(seg(kAck, kPeerIsn + 6, iss + 7));
  EXPECT_EQ(h.stack().bytes_unacked(conn), 0u);
}

TEST_F(ServerFixture, LargeWriteIsSegmentedAtTheMssAndLimitedByTheWindow) {
  std::string big(10000, 'x');
  h.inject(seg(kAck, kPeerIsn + 1, iss + 1, 4000));  // peer window 4000
  ASSERT_EQ(h.stack().send(conn, text(big), h.now()).value(), 10000u);
  std::vector<size_t> sizes;
  while (auto s = h.next_segment()) sizes.push_back(s->payload.size());
  EXPECT_EQ(sizes, (std::vector<size_t>{1460, 1460}));  // a third would pass 4000
  h.inject(seg(kAck, kPeerIsn + 1, iss + 1 + 2920, 65535));
  sizes.clear();
  while (auto s = h.next_segment()) sizes.push_back(s->payload.size());
  // cwnd is 11 segments after the ACK (slow start): the rest fits, and the
  // short last segment goes out at once (Nagle with Minshall's rule: no
  // small segment is unacknowledged).
  size_t total = 0;
  for (size_t s : sizes) total += s;
  EXPECT_EQ(total, 10000u - 2920u);
}

TEST_F(ServerFixture, LostDataIsRetransmittedAtTheRtoWithBackoff) {
  ASSERT_EQ(h.stack().send(conn, text("x"), h.now()).value(), 1u);
  auto first = h.next_segment();
  ASSERT_TRUE(first);
  // Sent at 10 ms with RTO 210 ms, doubling: 220, 640, 1480 ms.
  std::vector<Time> sent;
  for (Time t = 11ms; t <= 1600ms; t += 1ms) {
    h.advance_to(t);
    while (auto s = h.next_segment()) {
      EXPECT_EQ(s->tcp.seq, iss + 1);
      EXPECT_EQ(as_string(s->payload), "x");
      sent.push_back(h.now());
    }
  }
  EXPECT_EQ(sent, (std::vector<Time>{220ms, 640ms, 1480ms}));
  EXPECT_EQ(h.stack().counters().tcp_retrans_segments, 3u);
}

TEST_F(ServerFixture, ZeroWindowProbesBackOffAndALateAnswerRestartsTheirTimer) {
  ASSERT_EQ(h.stack().send(conn, text("x"), h.now()).value(), 1u);
  ASSERT_TRUE(h.next_segment());
  h.advance_to(20ms);
  h.inject(seg(kAck, kPeerIsn + 1, iss + 2, 0));  // taken, and the window shut
  ASSERT_EQ(h.stack().send(conn, text("more"), h.now()).value(), 4u);
  EXPECT_FALSE(h.next_segment());
  // Probes at the RTO (210 ms), doubling. The first is answered at once,
  // the second 300 ms late: tcp_ack_probe() restarts the timer from the
  // answer (950 + 840 ms), not from the probe (650 + 840 ms).
  std::vector<Time> probes;
  for (Time t = 21ms; t <= 1800ms; t += 1ms) {
    h.advance_to(t);
    if (t == 950ms) h.inject(seg(kAck, kPeerIsn + 1, iss + 2, 0));
    while (auto p = h.next_segment()) {
      EXPECT_EQ(p->tcp.flags, kAck);
      EXPECT_EQ(p->tcp.seq, iss + 1) << "one byte behind snd_una";
      EXPECT_TRUE(p->payload.empty());
      probes.push_back(h.now());
      if (probes.size() == 1) h.inject(seg(kAck, kPeerIsn + 1, iss + 2, 0));
    }
  }
  EXPECT_EQ(probes, (std::vector<Time>{230ms, 650ms, 1790ms}));
  // The window opens: the data goes out at once.
  h.inject(seg(kAck, kPeerIsn + 1, iss + 2, 65535));
  auto data = h.next_segment();
  ASSERT_TRUE(data);
  EXPECT_EQ(data->tcp.seq, iss + 2);
  EXPECT_EQ(as_string(data->payload), "more");
}

TEST_F(ServerFixture, AFinBeforeAnyDataIsAckedAtOnce) {
  // No data yet means no ACK timeout learnt (icsk_ack.ato is 0).
  h.inject(seg(kAck | kFin, kPeerIsn + 1, iss + 1));
  auto ack = h.next_segment();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->tcp.ack, kPeerIsn + 2);
}

TEST_F(ServerFixture, PassiveCloseThroughCloseWaitAndLastAck) {
  h.inject(seg(kAck | kPsh, kPeerIsn + 1, iss + 1), text("x"));
  ASSERT_TRUE(h.next_segment());  // quick-ACK of the data
  std::vector<std::byte> one(1);
  h.stack().recv(conn, one, h.now());
  h.inject(seg(kAck | kFin, kPeerIsn + 2, iss + 1));
  // tcp_fin() makes the connection interactive: the FIN's ACK waits for the
  // 40 ms delayed-ACK timer in case the program answers first.
  EXPECT_FALSE(h.next_segment());
  Time fin_at = h.now();
  h.advance_to(fin_at + 39ms);
  EXPECT_FALSE(h.next_segment());
  h.advance_to(fin_at + 40ms);
  auto ack = h.next_segment();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->tcp.ack, kPeerIsn + 3);
  EXPECT_EQ(h.stack().state(conn), TcpState::CloseWait);
  std::vector<std::byte> buf(8);
  EXPECT_EQ(h.stack().recv(conn, buf, h.now()).value(), 0u) << "EOF";
  EXPECT_TRUE(h.stack().readiness(conn) & core::ready::kRdHup);
  ASSERT_EQ(h.stack().close(conn, h.now()), 0);
  auto fin = h.next_segment();
  ASSERT_TRUE(fin);
  EXPECT_EQ(fin->tcp.flags, kAck | kFin);
  EXPECT_EQ(fin->tcp.seq, iss + 1);
  EXPECT_EQ(h.stack().connection_count(), 1u);  // LAST_ACK
  h.inject(seg(kAck, kPeerIsn + 3, iss + 2));
  EXPECT_EQ(h.stack().connection_count(), 0u);
}

TEST_F(ServerFixture, ActiveCloseThroughFinWaitAndTimeWaitOf60Seconds) {
  ASSERT_EQ(h.stack().shutdown(conn, core::Shut::Write, h.now()), 0);
  auto fin = h.next_segment();
  ASSERT_TRUE(fin);
  EXPECT_EQ(fin->tcp.flags, kAck | kFin);
  EXPECT_EQ(h.stack().state(conn), TcpState::FinWait1);
  EXPECT_EQ(h.stack().send(conn, text("late"), h.now()).err(), EPIPE);
  h.inject(seg(kAck, kPeerIsn + 1, iss + 2));
  EXPECT_EQ(h.stack().state(conn), TcpState::FinWait2);
  // Half-close: the peer may still send; we still read it.
  h.inject(seg(kAck | kPsh, kPeerIsn + 1, iss + 2), text("sorted"));
  std::vector<std::byte> buf(16);
  EXPECT_EQ(h.stack().recv(conn, buf, h.now()).value(), 6u);
  h.next_segment();
  h.advance_to(5s);
  h.inject(seg(kAck | kFin, kPeerIsn + 7, iss + 2));
  auto ack = h.next_segment();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->tcp.ack, kPeerIsn + 8);
  EXPECT_EQ(h.stack().state(conn), TcpState::TimeWait);
  ASSERT_EQ(h.stack().close(conn, h.now()), 0);
  h.advance_to(5s + 60s - 1ms);
  EXPECT_EQ(h.stack().connection_count(), 1u);
  // A retransmitted FIN in TIME_WAIT is ACKed again.
  h.inject(seg(kAck | kFin, kPeerIsn + 7, iss + 2));
  auto again = h.next_segment();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->tcp.ack, kPeerIsn + 8);
  h.advance_to(5s + 60s - 1ms + 60s);
  EXPECT_EQ(h.stack().connection_count(), 0u);
}

// TIME_WAIT after an active close; the peer's FIN was at kPeerIsn + 1, so
// RCV.NXT is kPeerIsn + 2. tcp_timewait_state_process() decides the rest.
struct TimeWaitFixture : ServerFixture {
  explicit TimeWaitFixture(bool rfc1337 = false) : ServerFixture(config(rfc1337)) {}
  static StackConfig config(bool rfc1337) {
    StackConfig c = make_config(kMacA, kIpA);
    c.tcp.rfc1337 = rfc1337;
    return c;
  }
  void SetUp() override {
    ServerFixture::SetUp();
    ASSERT_EQ(h.stack().close(conn, h.now()), 0);
    ASSERT_TRUE(h.next_segment());  // our FIN
    h.inject(seg(kAck | kFin, kPeerIsn + 1, iss + 2));
    ASSERT_TRUE(h.next_segment());  // its ACK
    entered = h.now();
    ASSERT_EQ(h.stack().connection_state({kIpA, kServerPort}, {kIpB, kPeerPort}),
              TcpState::TimeWait);
  }
  std::optional<TcpState> state() {
    return h.stack().connection_state({kIpA, kServerPort}, {kIpB, kPeerPort});
  }
  Time entered{};
};

TEST_F(TimeWaitFixture, AnExactRstEndsItWithoutRfc1337) {
  h.advance(1s);
  h.inject(seg(kRst, kPeerIsn + 2, 0));
  EXPECT_FALSE(h.next_segment());
  EXPECT_EQ(h.stack().connection_count(), 0u) << "assassinated";
}

struct Rfc1337TimeWait : TimeWaitFixture {
  Rfc1337TimeWait() : TimeWaitFixture(true) {}
};

TEST_F(Rfc1337TimeWait, AnExactRstIsIgnoredAndTheWaitRunsItsCourse) {
  h.advance(1s);
  h.inject(seg(kRst, kPeerIsn + 2, 0));
  EXPECT_FALSE(h.next_segment());
  EXPECT_EQ(state(), TcpState::TimeWait);
  // Not restarted by the RST: gone 60 s after it began.
  h.advance_to(entered + 60s - 1ms);
  EXPECT_EQ(state(), TcpState::TimeWait);
  h.advance_to(entered + 60s);
  EXPECT_EQ(h.stack().connection_count(), 0u);
}

TEST_F(TimeWaitFixture, AnInWindowButInexactRstIsIgnoredNotChallenged) {
  h.inject(seg(kRst, kPeerIsn + 100, 0));
  EXPECT_FALSE(h.next_segment()) << "no challenge ACK in TIME_WAIT";
  EXPECT_EQ(state(), TcpState::TimeWait);
}

TEST_F(TimeWaitFixture, ABareAckAtRcvNxtRestartsTheWaitSilently) {
  h.advance_to(entered + 30s);
  h.inject(seg(kAck, kPeerIsn + 2, iss + 2));
  EXPECT_FALSE(h.next_segment()) << "an in-window bare ACK is not answered";
  h.advance_to(entered + 90s - 1ms);
  EXPECT_EQ(state(), TcpState::TimeWait);
  h.advance_to(entered + 90s);
  EXPECT_EQ(h.stack().connection_count(), 0u);
}

TEST_F(TimeWaitFixture, RetransmittedFinsAreAlwaysAckedOtherOutOfWindowSegmentsRateLimited) {
  // A FIN is never rate-limited: two in a row get two ACKs.
  for (int i = 0; i < 2; ++i) {
    h.inject(seg(kAck | kFin, kPeerIsn + 1, iss + 2));
    auto a = h.next_segment();
    ASSERT_TRUE(a) << i;
    EXPECT_EQ(a->tcp.flags, kAck);
    EXPECT_EQ(a->tcp.seq, iss + 2);
    EXPECT_EQ(a->tcp.ack, kPeerIsn + 2);
  }
  // A bare ACK out of window: answered once per 500 ms (tcp_invalid_ratelimit).
  h.advance(1s);
  h.inject(seg(kAck, kPeerIsn + 50000, iss + 2));
  EXPECT_TRUE(h.next_segment());
  h.advance(499ms);
  h.inject(seg(kAck, kPeerIsn + 50000, iss + 2));
  EXPECT_FALSE(h.next_segment()) << "rate-limited";
  h.advance(1ms);
  h.inject(seg(kAck, kPeerIsn + 50000, iss + 2));
  EXPECT_TRUE(h.next_segment());
}

TEST_F(ServerFixture, OrphanedFinWait2ExpiresAfterFinTimeout) {
  ASSERT_EQ(h.stack().close(conn, h.now()), 0);
  auto fin = h.next_segment();
  ASSERT_TRUE(fin);
  h.inject(seg(kAck, kPeerIsn + 1, iss + 2));
  EXPECT_EQ(h.stack().connection_count(), 1u);  // FIN_WAIT2, orphaned
  h.advance_to(kHandshakeRtt + 60s - 1ms);
  EXPECT_EQ(h.stack().connection_count(), 1u);
  h.advance_to(kHandshakeRtt + 60s);
  EXPECT_EQ(h.stack().connection_count(), 0u);
  EXPECT_FALSE(h.next_segment()) << "Linux drops the orphan silently";
}

TEST_F(ServerFixture, CloseWithUnreadDataSendsRst) {
  h.inject(seg(kAck | kPsh, kPeerIsn + 1, iss + 1), text("unread"));
  h.next_segment();
  ASSERT_EQ(h.stack().close(conn, h.now()), 0);
  auto rst = h.next_segment();
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->tcp.flags, kRst | kAck);
  EXPECT_EQ(h.stack().connection_count(), 0u);
}

TEST_F(ServerFixture, ExactRstResetsAndInWindowRstGetsAChallengeAck) {
  h.inject(seg(kRst, kPeerIsn + 100, 0));  // in window, not exact
  auto challenge = h.next_segment();
  ASSERT_TRUE(challenge);
  EXPECT_EQ(challenge->tcp.flags, kAck);
  EXPECT_EQ(challenge->tcp.ack, kPeerIsn + 1);
  EXPECT_EQ(h.stack().state(conn), TcpState::Established);
  h.inject(seg(kRst, kPeerIsn + 1, 0));
  EXPECT_EQ(h.stack().state(conn), TcpState::Closed);
  std::vector<std::byte> buf(8);
  EXPECT_EQ(h.stack().recv(conn, buf, h.now()).err(), ECONNRESET);
  EXPECT_EQ(h.stack().recv(conn, buf, h.now()).value(), 0u);
  EXPECT_EQ(h.stack().send(conn, text("x"), h.now()).err(), EPIPE);
}

TEST_F(ServerFixture, LingerZeroCloseIsAnAbortWithRst) {
  ASSERT_EQ(h.stack().set_option(conn, core::SockOpt::Linger, 0), 0);
  EXPECT_EQ(h.stack().get_option(conn, core::SockOpt::Linger).value(), 0);
  ASSERT_EQ(h.stack().close(conn, h.now()), 0);
  auto rst = h.next_segment();
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->tcp.flags, kRst | kAck);
  EXPECT_EQ(rst->tcp.seq, iss + 1);
  EXPECT_EQ(h.stack().connection_count(), 0u) << "no FIN_WAIT, no TIME_WAIT";
}

TEST_F(ServerFixture, OrphanWithAnUnansweredFinGivesUpAfterEightRetransmissions) {
  Time t0 = h.now();
  ASSERT_EQ(h.stack().close(conn, h.now()), 0);
  auto fin = h.next_segment();
  ASSERT_TRUE(fin);
  ASSERT_TRUE(fin->has(kFin));
  // RTO 210 ms doubling: retransmissions at 0.21, 0.63, 1.47, 3.15, 6.51,
  // 13.23, 26.67, 53.55 s; at 107.31 s the 102.2 s that 8 retries model
  // (tcp_orphan_retries() = 8) have passed and the orphan is dropped.
  std::vector<Time> sent;
  for (Time t = t0; t <= t0 + 120s; t += 10ms) {
    h.advance_to(t);
    while (auto s = h.next_segment()) {
      EXPECT_TRUE(s->has(kFin));
      sent.push_back(h.now() - t0);
    }
    if (h.now() - t0 == 107300ms) {
      EXPECT_EQ(h.stack().connection_count(), 1u);
    }
  }
  EXPECT_EQ(sent,
            (std::vector<Time>{210ms, 630ms, 1470ms, 3150ms, 6510ms, 13230ms, 26670ms, 53550ms}));
  EXPECT_EQ(h.stack().connection_count(), 0u);
}

TEST_F(ServerFixture, UserTimeoutEndsRetransmissionsWithEtimedout) {
  ASSERT_EQ(h.stack().set_option(conn, core::SockOpt::UserTimeoutMs, 1000), 0);
  Time t0 = h.now();
  ASSERT_EQ(h.stack().send(conn, text("x"), h.now()).value(), 1u);
  h.next_segment();
  // Retransmissions at 0.21 and 0.63 s. The next RTO (840 ms) is clamped to
  // what is left of the user timeout, counted from the first retransmission
  // (tcp_clamp_rto_to_user_timeout()): it fires at 1.21 s and gives up, as
  // this machine's kernel does (measured on loopback without SACK: 1.21 s).
  h.advance_to(t0 + 1209ms);
  EXPECT_EQ(h.stack().state(conn), TcpState::Established);
  h.advance_to(t0 + 1210ms);
  EXPECT_EQ(h.stack().state(conn), TcpState::Closed);
  std::vector<std::byte> buf(4);
  EXPECT_EQ(h.stack().recv(conn, buf, h.now()).err(), ETIMEDOUT);
}

// net.ipv4.tcp_rto_min_us and tcp_rto_max_ms: the RTO's bounds, and a lower
// maximum also shortens the time tcp_retries2 stands for.
StackConfig rto_knobs_config(int rto_min_us, int rto_max_ms, int retries2) {
  StackConfig c = make_config(kMacA, kIpA);
  c.tcp.rto_min_us = rto_min_us;
  c.tcp.rto_max_ms = rto_max_ms;
  c.tcp.retries2 = retries2;
  return c;
}

// Send times of the unanswered byte's retransmissions, and when the
// connection gave up (ETIMEDOUT), from when the byte first left.
std::pair<std::vector<Time>, Time> unanswered_byte(PeerHarness& h, SocketId conn) {
  Time t0 = h.now();
  EXPECT_EQ(h.stack().send(conn, text("x"), h.now()).value(), 1u);
  h.next_segment();
  std::vector<Time> sent;
  for (Time t = t0; t <= t0 + 60s; t += 10ms) {
    h.advance_to(t);
    while (auto s = h.next_segment()) sent.push_back(h.now() - t0);
    if (h.stack().state(conn) == TcpState::Closed) {
      std::vector<std::byte> buf(4);
      EXPECT_EQ(h.stack().recv(conn, buf, h.now()).err(), ETIMEDOUT);
      return {sent, h.now() - t0};
    }
  }
  return {sent, Time::max()};
}

struct RtoMaxOneSecond : ServerFixture {
  RtoMaxOneSecond() : ServerFixture(rto_knobs_config(200000, 1000, 3)) {}
};

TEST_F(RtoMaxOneSecond, CapsTheBackoffAndShortensTheRetries2GiveUp) {
  // RTO 210 ms doubling to 1 s at most: retransmissions at 0.21, 0.63, 1.47,
  // 2.47 s. tcp_model_timeout(3, 200 ms) with a 1 s maximum is
  // 7 * 200 ms + 1 * 1 s = 2.4 s (3 s with the default maximum), counted from
  // the first retransmission: 2.47 s goes on (2.26 s), 3.47 s gives up.
  // Measured on this machine's kernel (loopback, tcp_rto_max_ms 1000,
  // tcp_retries2 3): ETIMEDOUT 3.5 s after the write, against 6.5 s with the
  // default maximum.
  auto [sent, gave_up] = unanswered_byte(h, conn);
  EXPECT_EQ(sent, (std::vector<Time>{210ms, 630ms, 1470ms, 2470ms}));
  EXPECT_EQ(gave_up, 3470ms);
}

struct RtoKnobDefaults : ServerFixture {
  RtoKnobDefaults() : ServerFixture(rto_knobs_config(200000, 120000, 3)) {}
};

TEST_F(RtoKnobDefaults, Retries2ThreeGivesUpAfterThreeSecondsOfDoubling) {
  // The same byte with Linux's default bounds: 0.21, 0.63, 1.47, 3.15 s.
  // The 3 s model counts from the first retransmission (retrans_stamp), so
  // at 3.15 s (2.94 s after it) a fourth goes out and the fire at 6.51 s
  // gives up. Measured on this machine's kernel over loopback without SACK:
  // retransmissions 0.20, 0.62, 1.46, 3.12 s, ETIMEDOUT at 6.48 s.
  auto [sent, gave_up] = unanswered_byte(h, conn);
  EXPECT_EQ(sent, (std::vector<Time>{210ms, 630ms, 1470ms, 3150ms}));
  EXPECT_EQ(gave_up, 6510ms);
}

TEST_F(RtoKnobDefaults, TcpRtoMaxMsOnTheSocketActsLikeTheKnob) {
  EXPECT_EQ(h.stack().get_option(conn, core::SockOpt::RtoMaxMs).value(), 120000);
  // do_tcp_setsockopt(): 1 s to 120 s.
  EXPECT_EQ(h.stack().set_option(conn, core::SockOpt::RtoMaxMs, 999), EINVAL);
  EXPECT_EQ(h.stack().set_option(conn, core::SockOpt::RtoMaxMs, 120001), EINVAL);
  ASSERT_EQ(h.stack().set_option(conn, core::SockOpt::RtoMaxMs, 1000), 0);
  EXPECT_EQ(h.stack().get_option(conn, core::SockOpt::RtoMaxMs).value(), 1000);
  auto [sent, gave_up] = unanswered_byte(h, conn);
  EXPECT_EQ(sent, (std::vector<Time>{210ms, 630ms, 1470ms, 2470ms}));
  EXPECT_EQ(gave_up, 3470ms);
}

struct RtoMinFiftyMs : ServerFixture {
  RtoMinFiftyMs() : ServerFixture(rto_knobs_config(50000, 120000, 3)) {}
};

TEST_F(RtoMinFiftyMs, FloorsTheVarianceTermAtTheKnob) {
  // srtt 10 ms + max(4 * 5 ms, 50 ms): RTO 60 ms, doubling: 60, 180, 420,
  // 900 ms...; the model's base stays TCP_RTO_MIN (200 ms, as in Linux's
  // retransmits_timed_out()), so the give-up is still 3 s after the first
  // retransmission (0.06 s): 1.86 s goes on, 3.78 s (3.72 s) gives up.
  auto [sent, gave_up] = unanswered_byte(h, conn);
  EXPECT_EQ(sent, (std::vector<Time>{60ms, 180ms, 420ms, 900ms, 1860ms}));
  EXPECT_EQ(gave_up, 3780ms);
}

// A full accept queue meets a handshake's final ACK (tcp_check_req()'s
// listen_overflow), with tcp_abort_on_overflow 0 and 1.
struct OverflowingListener {
  explicit OverflowingListener(bool abort_on_overflow) : h(config(abort_on_overflow)) {
    l = h.stack().tcp_socket().value();
    EXPECT_EQ(h.stack().bind(l, {Ipv4Addr{}, kServerPort}), 0);
    // backlog 1: two established connections fill the accept queue (Linux's
    // sk_acceptq_is_full() is `>`), and the SYN queue holds two.
    EXPECT_EQ(h.stack().listen(l, 1), 0);
  }
  static StackConfig config(bool abort_on_overflow) {
    StackConfig c = make_config(kMacA, kIpA);
    c.tcp.abort_on_overflow = abort_on_overflow;
    return c;
  }
  // The peer's SYN from `port`; returns our ISS.
  uint32_t syn_from(uint16_t port, uint32_t isn) {
    auto syn = peer_header(port, kServerPort, kSyn, isn, 0, 65535);
    syn.options.mss = 1460;
    h.inject(syn);
    auto sa = h.next_segment();
    EXPECT_TRUE(sa && sa->tcp.flags == (kSyn | kAck));
    return sa ? sa->tcp.seq : 0;
  }
  void ack_from(uint16_t port, uint32_t isn, uint32_t iss) {
    h.inject(peer_header(port, kServerPort, kAck, isn + 1, iss + 1, 65535));
  }
  // Two connections queued (not accepted), and a third one's handshake
  // waiting for its final ACK: returns that one's ISS.
  uint32_t fill() {
    uint32_t a = syn_from(41000, 1000);
    uint32_t b = syn_from(41001, 2000);
    ack_from(41000, 1000, a);
    uint32_t c = syn_from(41002, 3000);
    ack_from(41001, 2000, b);
    EXPECT_EQ(h.stack().counters().tcp_listen_overflows, 0u);
    return c;
  }
  PeerHarness h;
  SocketId l{};
};

TEST(TcpAbortOnOverflow, OffIgnoresTheFinalAckSoTheSynAckIsRetried) {
  OverflowingListener o(false);
  uint32_t iss = o.fill();
  Time t0 = o.h.now();
  o.ack_from(41002, 3000, iss);
  EXPECT_FALSE(o.h.next_segment()) << "no RST, no ACK: the ACK is dropped";
  EXPECT_EQ(o.h.stack().counters().tcp_listen_overflows, 1u);
  EXPECT_EQ(o.h.stack().connection_count(), 3u) << "the request stays in SYN_RECV";
  // The SYN-ACK timer (1 s) sends it again; the client's next ACK may find room.
  o.h.advance_to(t0 + 1s);
  auto again = o.h.next_segment();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->tcp.flags, kSyn | kAck);
  EXPECT_EQ(again->tcp.dst_port, 41002);
  ASSERT_TRUE(o.h.stack().accept(o.l, nullptr).ok());
  o.ack_from(41002, 3000, iss);
  EXPECT_TRUE(o.h.stack().accept(o.l, nullptr).ok());
  EXPECT_TRUE(o.h.stack().accept(o.l, nullptr).ok()) << "the third one made it";
}

TEST(TcpAbortOnOverflow, OnAnswersTheFinalAckWithRstAndForgetsTheRequest) {
  OverflowingListener o(true);
  uint32_t iss = o.fill();
  o.ack_from(41002, 3000, iss);
  auto rst = o.h.next_segment();
  ASSERT_TRUE(rst);
  // tcp_v4_send_reset() for an ACK: RST at its acknowledgment number.
  EXPECT_EQ(rst->tcp.flags, kRst);
  EXPECT_EQ(rst->tcp.seq, iss + 1);
  EXPECT_EQ(rst->tcp.dst_port, 41002);
  EXPECT_EQ(o.h.stack().counters().tcp_listen_overflows, 1u);
  EXPECT_EQ(o.h.stack().counters().tcp_embryonic_resets, 1u);
  EXPECT_EQ(o.h.stack().connection_count(), 2u) << "only the two queued connections remain";
  o.h.advance(10s);
  while (auto s = o.h.next_segment()) {
    EXPECT_NE(s->tcp.dst_port, 41002) << "nothing more for the aborted request";
  }
  // The queued connections are intact.
  EXPECT_TRUE(o.h.stack().accept(o.l, nullptr).ok());
  EXPECT_TRUE(o.h.stack().accept(o.l, nullptr).ok());
  EXPECT_EQ(o.h.stack().accept(o.l, nullptr).err(), EAGAIN);
}

// --- Active open ---------------------------------------------------------------

struct ClientFixture : ::testing::Test {
  // SYN send times until connect() fails, and when it failed.
  std::pair<std::vector<Time>, Time> blackholed_connect(int syn_retries, int linear) {
    auto cfg = make_config(kMacA, kIpA);
    cfg.tcp.syn_retries = syn_retries;
    cfg.tcp.syn_linear_timeouts = linear;
    PeerHarness h(cfg);
    auto s = h.stack().tcp_socket().value();
    EXPECT_EQ(h.stack().connect(s, {kIpB, 80}, h.now()), EINPROGRESS);
    std::vector<Time> syns;
    Time failed{};
    for (Time t = 0s; t <= 200s; t += 10ms) {
      h.advance_to(t);
      while (auto seg = h.next_segment()) {
        EXPECT_EQ(seg->tcp.flags, kSyn);
        EXPECT_EQ(seg->tcp.options.mss, 1460);
        syns.push_back(h.now());
      }
      if (h.stack().readiness(s) & core::ready::kErr) {
        failed = h.now();
        EXPECT_EQ(h.stack().connect(s, {kIpB, 80}, h.now()), ETIMEDOUT);
        break;
      }
    }
    return {syns, failed};
  }
};

TEST_F(ClientFixture, SynRetries1Linear0) {
  auto [syns, failed] = blackholed_connect(1, 0);
  EXPECT_EQ(syns, (std::vector<Time>{0s, 1s}));
  EXPECT_EQ(failed, 3s);
}

TEST_F(ClientFixture, SynRetries1Linear4) {
  auto [syns, failed] = blackholed_connect(1, 4);
  EXPECT_EQ(syns, (std::vector<Time>{0s, 1s, 2s}));
  EXPECT_EQ(failed, 3s);
}

TEST_F(ClientFixture, SynRetries2Linear4) {
  auto [syns, failed] = blackholed_connect(2, 4);
  EXPECT_EQ(syns, (std::vector<Time>{0s, 1s, 2s, 3s, 4s, 5s}));
  EXPECT_EQ(failed, 7s);
}

TEST_F(ClientFixture, SynRetries6Linear0IsTheClassicLabSchedule) {
  auto [syns, failed] = blackholed_connect(6, 0);
  EXPECT_EQ(syns, (std::vector<Time>{0s, 1s, 3s, 7s, 15s, 31s, 63s}));
  EXPECT_EQ(failed, 127s);
}

TEST_F(ClientFixture, DefaultSchedule) {
  auto [syns, failed] = blackholed_connect(6, 4);
  EXPECT_EQ(syns, (std::vector<Time>{0s, 1s, 2s, 3s, 4s, 5s, 7s, 11s, 19s, 35s, 67s}));
  EXPECT_EQ(failed, 131s);
}

// `veer sysctl -p` at run time: a connection made after the change follows
// the new SYN schedule, one already trying keeps the one it started with.
TEST(TcpSettingsChange, NewConnectionsTakeTheNewSettings) {
  auto cfg = make_config(kMacA, kIpA);
  cfg.tcp.syn_retries = 6;
  cfg.tcp.syn_linear_timeouts = 0;
  PeerHarness h(cfg);
  auto before = h.stack().tcp_socket().value();
  EXPECT_EQ(h.stack().connect(before, {kIpB, 80}, h.now()), EINPROGRESS);
  h.advance_to(500ms);
  core::TcpSettings changed = cfg.tcp;
  changed.syn_retries = 1;
  h.stack().set_tcp_settings(changed);
  EXPECT_EQ(h.stack().config().tcp.syn_retries, 1);
  auto after = h.stack().tcp_socket().value();
  EXPECT_EQ(h.stack().connect(after, {kIpB, 81}, h.now()), EINPROGRESS);
  Time after_failed{};
  for (Time t = 500ms; t <= 10s; t += 10ms) {
    h.advance_to(t);
    while (h.next_segment()) {
    }
    if (after_failed == Time{} && (h.stack().readiness(after) & core::ready::kErr))
      after_failed = h.now();
  }
  EXPECT_EQ(after_failed, 3500ms);  // SYNs at 0.5 and 1.5 s, ETIMEDOUT 3 s after the first
  EXPECT_EQ(h.stack().readiness(before) & core::ready::kErr, 0u);  // 6 retries: 127 s
  EXPECT_EQ(h.stack().state(before), TcpState::SynSent);
}

TEST(TcpActiveOpen, RefusedByRst) {
  PeerHarness h;
  auto s = h.stack().tcp_socket().value();
  EXPECT_EQ(h.stack().connect(s, {kIpB, 80}, h.now()), EINPROGRESS);
  EXPECT_EQ(h.stack().connect(s, {kIpB, 80}, h.now()), EALREADY);
  auto syn = h.next_segment();
  ASSERT_TRUE(syn);
  wire::TcpHeader rst;
  rst.src_port = 80, rst.dst_port = syn->tcp.src_port;
  rst.flags = kRst | kAck, rst.ack = syn->tcp.seq + 1;
  h.inject(rst);
  EXPECT_TRUE(h.stack().readiness(s) & core::ready::kErr);
  EXPECT_EQ(h.stack().connect(s, {kIpB, 80}, h.now()), ECONNREFUSED);
  EXPECT_EQ(h.stack().counters().tcp_attempt_fails, 1u);
}

TEST(TcpActiveOpen, HandshakeThenFirstRepeatedConnectReturnsZeroThenEisconn) {
  PeerHarness h;
  auto s = h.stack().tcp_socket().value();
  h.stack().connect(s, {kIpB, 80}, h.now());
  auto syn = h.next_segment();
  ASSERT_TRUE(syn);
  uint16_t port = syn->tcp.src_port;
  EXPECT_GE(port, 32768);
  EXPECT_LE(port, 60999);
  wire::TcpHeader sa;
  sa.src_port = 80, sa.dst_port = port, sa.flags = kSyn | kAck;
  // An ISN in the upper half of the sequence space: the window offered in
  // the handshake's ACK must not depend on it.
  sa.seq = 3699316358u, sa.ack = syn->tcp.seq + 1, sa.window = 29200;
  sa.options.mss = 1400;
  h.advance_to(3ms);
  h.inject(sa);
  auto ack = h.next_segment();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->tcp.flags, kAck);
  EXPECT_EQ(ack->tcp.ack, 3699316359u);
  EXPECT_EQ(ack->tcp.window, 64240) << "the handshake's ACK offers the full window";
  EXPECT_EQ(h.stack().state(s), TcpState::Established);
  EXPECT_TRUE(h.stack().readiness(s) & core::ready::kOut);
  EXPECT_EQ(h.stack().connect(s, {kIpB, 80}, h.now()), 0);
  EXPECT_EQ(h.stack().connect(s, {kIpB, 80}, h.now()), EISCONN);
  EXPECT_EQ(h.stack().remote_endpoint(s), (Endpoint{kIpB, 80}));
  // The peer's MSS bounds our segments.
  std::string big(3000, 'y');
  h.stack().send(s, text(big), h.now());
  auto d = h.next_segment();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->payload.size(), 1400u);
}

TEST(TcpActiveOpen, SimultaneousOpenAcksThePeersSynAckAtOnceWithADsack) {
  PeerHarness h;
  auto s = h.stack().tcp_socket().value();
  h.stack().connect(s, {kIpB, 80}, h.now());
  auto syn = h.next_segment();
  ASSERT_TRUE(syn);
  const uint16_t port = syn->tcp.src_port;
  const uint32_t iss = syn->tcp.seq;
  // The peer's SYN crosses ours: a SYN-ACK on our ISN.
  wire::TcpHeader peer;
  peer.src_port = 80, peer.dst_port = port, peer.flags = kSyn, peer.seq = 900, peer.window = 65535;
  peer.options.mss = 1460;
  peer.options.sack_permitted = true;
  peer.options.window_scale = 7;
  h.advance_to(100ms);
  h.inject(peer);
  auto synack = h.next_segment();
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->tcp.flags, kSyn | kAck);
  EXPECT_EQ(synack->tcp.seq, iss);
  EXPECT_EQ(synack->tcp.ack, 901u);
  EXPECT_EQ(h.stack().state(s), TcpState::SynReceived);
  // The peer's SYN-ACK: established, and its SYN, old news by now, is ACKed
  // at once with a D-SACK (tcp_data_queue()).
  h.advance_to(200ms);
  peer.flags = kSyn | kAck, peer.ack = iss + 1;
  h.inject(peer);
  EXPECT_EQ(h.stack().state(s), TcpState::Established);
  auto ack = h.next_segment();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->tcp.flags, kAck);
  EXPECT_EQ(ack->tcp.seq, iss + 1);
  EXPECT_EQ(ack->tcp.ack, 901u);
  ASSERT_EQ(ack->tcp.options.sack_count, 1);
  EXPECT_EQ(ack->tcp.options.sack[0].left, 900u);
  EXPECT_EQ(ack->tcp.options.sack[0].right, 901u);
  EXPECT_EQ(h.stack().connect(s, {kIpB, 80}, h.now()), 0);
}

TEST(TcpBind, AddressInUseUnlessReuseAddrAndTimeWaitRemains) {
  PeerHarness h;
  auto a = h.stack().tcp_socket().value();
  ASSERT_EQ(h.stack().bind(a, {Ipv4Addr{}, kServerPort}), 0);
  auto b = h.stack().tcp_socket().value();
  EXPECT_EQ(h.stack().bind(b, {Ipv4Addr{}, kServerPort}), EADDRINUSE);
  EXPECT_EQ(h.stack().bind(b, {Ipv4Addr::of(10, 9, 9, 9), 1}), EADDRNOTAVAIL);
  h.stack().close(a, h.now());
  EXPECT_EQ(h.stack().bind(b, {Ipv4Addr{}, kServerPort}), 0);
}

// --- Two stacks ---------------------------------------------------------------

std::string pattern(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// Client on A sends `data` to a server on B, which echoes nothing and reads
// all of it; both close. Returns what the server read.
std::string transfer(SimLink& link, const std::string& data) {
  Stack& a = link.a();
  Stack& b = link.b();
  auto l = b.tcp_socket().value();
  EXPECT_EQ(b.bind(l, {Ipv4Addr{}, 5001}), 0);
  EXPECT_EQ(b.listen(l, 1), 0);
  auto c = a.tcp_socket().value();
  EXPECT_EQ(a.connect(c, {kIpB, 5001}, link.now()), EINPROGRESS);
  SocketId srv{};
  EXPECT_TRUE(link.run_until_true([&] {
    auto r = b.accept(l, nullptr);
    if (r.ok()) srv = r.value();
    return r.ok();
  })) << "A: "
      << a.counters().tcp_tx_segments << " sent, " << a.counters().arp_requests_sent
      << " arp; B: " << b.counters().tcp_rx_segments << " received, "
      << b.counters().tcp_tx_segments << " sent, state " << int(*a.state(c));
  size_t sent = 0;
  std::string got;
  std::vector<std::byte> buf(8192);
  bool closed = false, eof = false;
  EXPECT_TRUE(link.run_until_true(
      [&] {
        if (sent < data.size()) {
          auto r = a.send(c, text(data).subspan(sent), link.now());
          if (r.ok()) sent += r.value();
        } else if (!closed) {
          a.close(c, link.now());
          closed = true;
        }
        for (;;) {
          auto r = b.recv(srv, buf, link.now());
          if (!r.ok()) break;
          if (r.value() == 0) {
            eof = true;
            break;
          }
          got.append(reinterpret_cast<const char*>(buf.data()), r.value());
        }
        return eof;
      },
      std::chrono::seconds(3600)));
  b.close(srv, link.now());
  b.close(l, link.now());
  link.run_for(200s);  // TIME_WAIT and friends run out
  EXPECT_EQ(a.connection_count(), 0u);
  EXPECT_EQ(b.connection_count(), 0u);
  return got;
}

TEST(TwoStacks, OneMegabyteArrivesIntactOnACleanLink) {
  SimLink link;
  std::string data = pattern(1 << 20);
  EXPECT_EQ(transfer(link, data), data);
  EXPECT_EQ(link.a().counters().tcp_retrans_segments, 0u);
}

TEST(TwoStacks, OneMegabyteArrivesIntactWithLossAndDuplication) {
  SimLink link(SimLink::Options{std::chrono::milliseconds(5), 0.02, 0.01, 7});
  std::string data = pattern(1 << 20);
  EXPECT_EQ(transfer(link, data), data);
  EXPECT_GT(link.a().counters().tcp_retrans_segments, 0u);
}

}  // namespace
}  // namespace veer::test

namespace veer::test {
namespace {

using namespace std::chrono_literals;
using core::TcpState;

TEST(TwoStacks, SimultaneousOpenGoesThroughSynReceivedToEstablished) {
  SimLink link;
  Stack& a = link.a();
  Stack& b = link.b();
  auto sa = a.tcp_socket().value();
  auto sb = b.tcp_socket().value();
  ASSERT_EQ(a.bind(sa, {Ipv4Addr{}, 5000}), 0);
  ASSERT_EQ(b.bind(sb, {Ipv4Addr{}, 6000}), 0);
  // Resolve ARP first so both SYNs really cross on the wire.
  auto warm = a.tcp_socket().value();
  a.connect(warm, {kIpB, 9}, link.now());
  link.run_for(10ms);
  a.close(warm, link.now());
  EXPECT_EQ(a.connect(sa, {kIpB, 6000}, link.now()), EINPROGRESS);
  EXPECT_EQ(b.connect(sb, {kIpA, 5000}, link.now()), EINPROGRESS);
  bool saw_syn_received = false;
  ASSERT_TRUE(link.run_until_true(
      [&] {
        saw_syn_received |= a.state(sa) == TcpState::SynReceived;
        return a.state(sa) == TcpState::Established && b.state(sb) == TcpState::Established;
      },
      5s));
  EXPECT_TRUE(saw_syn_received);
  EXPECT_EQ(a.connect(sa, {kIpB, 6000}, link.now()), 0);
  EXPECT_EQ(b.connect(sb, {kIpA, 5000}, link.now()), 0);
  ASSERT_EQ(a.send(sa, Bytes(reinterpret_cast<const std::byte*>("hi"), 2), link.now()).value(), 2u);
  link.run_for(50ms);
  std::vector<std::byte> buf(8);
  EXPECT_EQ(b.recv(sb, buf, link.now()).value(), 2u);
}

TEST(TwoStacks, SimultaneousCloseGoesThroughClosingToTimeWait) {
  SimLink link;
  Stack& a = link.a();
  Stack& b = link.b();
  auto l = b.tcp_socket().value();
  b.bind(l, {Ipv4Addr{}, 7000});
  b.listen(l, 1);
  auto c = a.tcp_socket().value();
  a.connect(c, {kIpB, 7000}, link.now());
  SocketId s{};
  ASSERT_TRUE(link.run_until_true([&] {
    auto r = b.accept(l, nullptr);
    if (r.ok()) s = r.value();
    return r.ok();
  }));
  link.run_for(100ms);
  // Both FINs leave at the same instant and cross.
  a.shutdown(c, core::Shut::Write, link.now());
  b.shutdown(s, core::Shut::Write, link.now());
  EXPECT_EQ(a.state(c), TcpState::FinWait1);
  EXPECT_EQ(b.state(s), TcpState::FinWait1);
  bool a_closing = false, b_closing = false;
  ASSERT_TRUE(link.run_until_true(
      [&] {
        a_closing |= a.state(c) == TcpState::Closing;
        b_closing |= b.state(s) == TcpState::Closing;
        return a.state(c) == TcpState::TimeWait && b.state(s) == TcpState::TimeWait;
      },
      5s));
  EXPECT_TRUE(a_closing);
  EXPECT_TRUE(b_closing);
  Time tw_start = link.now();
  a.close(c, link.now());
  b.close(s, link.now());
  b.close(l, link.now());
  link.run_until(tw_start + 59s);
  EXPECT_EQ(a.connection_count(), 1u);
  link.run_until(tw_start + 61s);
  EXPECT_EQ(a.connection_count(), 0u);
  EXPECT_EQ(b.connection_count(), 0u);
}

}  // namespace
}  // namespace veer::test
