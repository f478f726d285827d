// Urgent data: MSG_OOB out and in, the mark that reads stop at, SO_OOBINLINE,
// SIOCATMARK, readiness (POLLPRI) and tcp_stdurg, against a scripted peer and
// between two stacks, in virtual time.
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/core/harness.h"

namespace veer::test {
namespace {

using namespace std::chrono_literals;
using namespace wire::tcpflag;
using core::SockOpt;
namespace ready = core::ready;

constexpr uint16_t kPort = 18000;
constexpr uint16_t kPeerPort = 40000;
constexpr uint32_t kPeerIsn = 1000;

Bytes text(const std::string& s) {
  return Bytes(reinterpret_cast<const std::byte*>(s.data()), s.size());
}

// An accepted connection from a scripted peer (MSS 1460, no options).
struct Urgent : ::testing::Test {
  std::unique_ptr<PeerHarness> hp;
  SocketId conn{};
  uint32_t iss = 0;
  uint32_t peer_seq = kPeerIsn + 1;  // the peer's next byte

  void SetUp() override { open(make_config(kMacA, kIpA)); }
  void open(StackConfig cfg, bool oob_inline = false) {
    hp = std::make_unique<PeerHarness>(cfg);
    auto l = hp->stack().tcp_socket().value();
    hp->stack().bind(l, {Ipv4Addr{}, kPort});
    hp->stack().listen(l, 5);
    // SO_OOBINLINE on the listener is inherited, as sk_clone_lock() copies flags.
    if (oob_inline) {
      EXPECT_EQ(hp->stack().set_option(l, SockOpt::OobInline, 1), 0);
    }
    auto syn = peer_header(kPeerPort, kPort, kSyn, kPeerIsn, 0, 65535);
    syn.options.mss = 1460;
    hp->inject(syn);
    iss = hp->next_segment()->tcp.seq;
    hp->advance(10ms);
    hp->inject(peer_header(kPeerPort, kPort, kAck, peer_seq, iss + 1, 65535));
    conn = hp->stack().accept(l, nullptr).value();
  }
  // The peer sends `s`; `urg`: its urgent pointer (0: no URG flag).
  void peer_sends(const std::string& s, uint16_t urg = 0) {
    auto h = peer_header(kPeerPort, kPort, kAck | kPsh, peer_seq, iss + 1, 65535);
    if (urg) {
      h.flags |= kUrg;
      h.urgent = urg;
    }
    hp->inject(h, text(s));
    peer_seq += static_cast<uint32_t>(s.size());
  }
  Result<std::string> read(size_t n = 64, bool peek = false) {
    std::vector<std::byte> buf(n);
    auto r = hp->stack().recv(conn, buf, hp->now(), peek);
    if (!r.ok()) return Result<std::string>::error(r.err());
    return std::string(reinterpret_cast<const char*>(buf.data()), r.value());
  }
  Result<std::string> read_oob(bool peek = false) {
    std::vector<std::byte> buf(1);
    auto r = hp->stack().recv_urgent(conn, buf, peek);
    if (!r.ok()) return Result<std::string>::error(r.err());
    return std::string(reinterpret_cast<const char*>(buf.data()), r.value());
  }
};

TEST_F(Urgent, TheUrgentByteIsReadApartAndReadsStopAtTheMark) {
  EXPECT_EQ(read_oob().err(), EINVAL) << "nothing urgent yet";
  // send(fd, "abc", MSG_OOB) on Linux: URG with pointer 3, 'c' is urgent.
  peer_sends("abc", 3);
  EXPECT_EQ(hp->stack().counters().tcp_urgent_marks, 1u);
  uint32_t r = hp->stack().readiness(conn);
  EXPECT_TRUE(r & ready::kPri);
  EXPECT_TRUE(r & ready::kIn);
  EXPECT_FALSE(hp->stack().at_urgent_mark(conn));
  EXPECT_EQ(read().value(), "ab") << "the read ends at the mark";
  EXPECT_TRUE(hp->stack().at_urgent_mark(conn));
  EXPECT_FALSE(hp->stack().readiness(conn) & ready::kIn)
      << "the urgent byte alone is not readable data";
  EXPECT_EQ(read_oob(/*peek=*/true).value(), "c");
  EXPECT_EQ(read_oob().value(), "c");
  EXPECT_FALSE(hp->stack().readiness(conn) & ready::kPri);
  EXPECT_EQ(read_oob().err(), EINVAL) << "read already";
  EXPECT_EQ(read().err(), EAGAIN) << "the urgent byte is not in the stream";
  peer_sends("de");
  EXPECT_EQ(read().value(), "de");
  EXPECT_FALSE(hp->stack().at_urgent_mark(conn));
}

TEST_F(Urgent, AReadAtTheMarkStepsOverTheUrgentByteEvenIfItWasNotReadApart) {
  peer_sends("abc", 3);
  peer_sends("def");
  EXPECT_EQ(read().value(), "ab");
  EXPECT_EQ(read().value(), "def") << "'c' skipped";
  EXPECT_EQ(read_oob().err(), EINVAL) << "a read past the mark forgets the urgent byte";
}

TEST_F(Urgent, ThePointerMayComeBeforeItsByte) {
  // Urgent pointer 5 in a 2-byte segment: the byte is in the next one.
  peer_sends("ab", 5);
  EXPECT_EQ(read_oob().err(), EAGAIN) << "announced, not arrived; never blocks";
  EXPECT_FALSE(hp->stack().readiness(conn) & ready::kPri);
  peer_sends("cdefg");
  EXPECT_EQ(read_oob().value(), "e");
  EXPECT_EQ(read().value(), "abcd");
  EXPECT_EQ(read().value(), "fg");
}

TEST_F(Urgent, OobInlineKeepsTheByteInTheStream) {
  open(make_config(kMacA, kIpA), /*oob_inline=*/true);
  EXPECT_EQ(hp->stack().get_option(conn, SockOpt::OobInline).value(), 1);
  peer_sends("abc", 3);
  EXPECT_TRUE(hp->stack().readiness(conn) & ready::kPri);
  EXPECT_EQ(read_oob().err(), EINVAL) << "tcp_recv_urg(): not with SO_OOBINLINE";
  EXPECT_EQ(read().value(), "ab");
  EXPECT_TRUE(hp->stack().at_urgent_mark(conn));
  EXPECT_TRUE(hp->stack().readiness(conn) & ready::kIn);
  peer_sends("d");
  EXPECT_EQ(read().value(), "cd");
  EXPECT_FALSE(hp->stack().at_urgent_mark(conn));
}

TEST_F(Urgent, StdurgReadsThePointerAsTheUrgentByteItself) {
  auto cfg = make_config(kMacA, kIpA);
  cfg.tcp.stdurg = true;
  open(cfg);
  peer_sends("abcd", 3);
  EXPECT_EQ(read().value(), "abc");
  EXPECT_EQ(read_oob().value(), "d");
}

TEST_F(Urgent, ANewMarkDropsAnUnreadUrgentByteAtTheHead) {
  peer_sends("ab", 2);
  EXPECT_EQ(read().value(), "a");
  EXPECT_TRUE(hp->stack().at_urgent_mark(conn));
  // A second urgent byte while 'b' (urgent, unread) is next: tcp_check_urg()
  // drops 'b' from the stream and moves the mark.
  peer_sends("cd", 2);
  EXPECT_EQ(read_oob().value(), "d");
  EXPECT_EQ(read().value(), "c");
}

TEST_F(Urgent, OldAndDuplicatePointersAreIgnored) {
  peer_sends("abc", 3);
  EXPECT_EQ(read().value(), "ab");
  EXPECT_EQ(read_oob().value(), "c");
  // The same segment again (a retransmission): no new mark.
  peer_seq -= 3;
  peer_sends("abc", 3);
  EXPECT_EQ(hp->stack().counters().tcp_urgent_marks, 1u);
  EXPECT_EQ(read_oob().err(), EINVAL);
}

TEST_F(Urgent, SendOobMarksTheLastByteAndEverySegmentBeforeIt) {
  // tcp_mark_urg(): SND.UP = the end of this write; the segment points at it.
  ASSERT_EQ(hp->stack().send(conn, text("xyz"), hp->now(), false, /*oob=*/true).value(), 3u);
  auto s = hp->next_segment();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->tcp.flags, kAck | kPsh | kUrg);
  EXPECT_EQ(s->tcp.urgent, 3);
  EXPECT_EQ(s->tcp.seq, iss + 1);
  // Still unacknowledged: a small write leaves at once (no Nagle in urgent
  // mode, tcp_nagle_test()) and also carries the pointer, now behind it.
  ASSERT_EQ(hp->stack().send(conn, text("q"), hp->now()).value(), 1u);
  auto t = hp->next_segment();
  ASSERT_TRUE(t) << "not held back by Nagle";
  EXPECT_EQ(t->tcp.seq, iss + 4);
  EXPECT_FALSE(t->has(kUrg)) << "the pointer is not ahead of this segment";
  // Once SND.UP is acknowledged urgent mode ends, and Nagle is back.
  hp->inject(peer_header(kPeerPort, kPort, kAck, peer_seq, iss + 5, 65535));
  ASSERT_EQ(hp->stack().send(conn, text("r"), hp->now()).value(), 1u);
  auto u = hp->next_segment();
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->has(kUrg));
  ASSERT_EQ(hp->stack().send(conn, text("s"), hp->now()).value(), 1u);
  EXPECT_FALSE(hp->next_segment()) << "Nagle holds the second small segment";
}

TEST_F(Urgent, ARetransmissionCarriesThePointerToo) {
  ASSERT_EQ(hp->stack().send(conn, text("xyz"), hp->now(), false, true).value(), 3u);
  ASSERT_TRUE(hp->next_segment());
  hp->advance(1s);
  auto again = hp->next_segment();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->tcp.seq, iss + 1);
  EXPECT_TRUE(again->has(kUrg));
  EXPECT_EQ(again->tcp.urgent, 3);
}

TEST_F(Urgent, ListenerAndFreshSocketAnswerLikeLinux) {
  auto l = hp->stack().tcp_socket().value();
  hp->stack().bind(l, {Ipv4Addr{}, 18001});
  hp->stack().listen(l, 1);
  std::vector<std::byte> buf(1);
  EXPECT_EQ(hp->stack().recv_urgent(l, buf).err(), ENOTCONN);
  auto fresh = hp->stack().tcp_socket().value();
  EXPECT_EQ(hp->stack().recv_urgent(fresh, buf).err(), EINVAL);
  EXPECT_FALSE(hp->stack().at_urgent_mark(fresh));
}

TEST(UrgentTwoStacks, AnOobByteCrossesTheLinkAndIsReadApart) {
  SimLink link;
  auto ls = link.b().tcp_socket().value();
  ASSERT_EQ(link.b().bind(ls, {Ipv4Addr{}, 9000}), 0);
  ASSERT_EQ(link.b().listen(ls, 4), 0);
  auto c = link.a().tcp_socket().value();
  ASSERT_EQ(link.a().connect(c, {kIpB, 9000}, link.now()), EINPROGRESS);
  std::optional<SocketId> srv;
  ASSERT_TRUE(link.run_until_true([&] {
    auto r = link.b().accept(ls, nullptr);
    if (r.ok()) srv = r.value();
    return srv.has_value();
  }));
  ASSERT_EQ(link.a().send(c, text("hello"), link.now()).value(), 5u);
  ASSERT_EQ(link.a().send(c, text("!"), link.now(), false, true).value(), 1u);
  ASSERT_EQ(link.a().send(c, text("world"), link.now()).value(), 5u);
  ASSERT_TRUE(link.run_until_true([&] { return link.b().readiness(*srv) & ready::kPri; }));
  std::vector<std::byte> oob(1);
  ASSERT_TRUE(link.run_until_true([&] { return link.b().bytes_readable(*srv) == 11; }));
  ASSERT_EQ(link.b().recv_urgent(*srv, oob).value(), 1u);
  EXPECT_EQ(static_cast<char>(oob[0]), '!');
  std::string got;
  std::vector<std::byte> buf(64);
  for (int i = 0; i < 3; ++i) {
    auto r = link.b().recv(*srv, buf, link.now());
    if (!r.ok()) break;
    got.append(reinterpret_cast<const char*>(buf.data()), r.value());
  }
  EXPECT_EQ(got, "helloworld");
}

}  // namespace
}  // namespace veer::test
