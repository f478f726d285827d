// SYN cookies (net.ipv4.tcp_syncookies), against a scripted peer.
#include "core/tcp/syncookie.h"

#include <gtest/gtest.h>

#include "tests/unit/core/harness.h"

namespace veer::test {
namespace {

using namespace std::chrono_literals;
using namespace wire::tcpflag;

wire::TcpHeader peer_syn(uint16_t port, uint32_t isn, bool with_ts) {
  wire::TcpHeader h;
  h.src_port = port, h.dst_port = 18000, h.flags = kSyn, h.seq = isn, h.window = 65535;
  h.options.mss = 1460;
  h.options.sack_permitted = true;
  h.options.window_scale = 7;
  if (with_ts) h.options.timestamp = wire::TcpOptions::Timestamp{5000, 0};
  return h;
}

struct CookieServer : ::testing::Test {
  explicit CookieServer(int syncookies = 2, int max_syn_backlog = 1024, int backlog = 8)
      : h(config(syncookies, max_syn_backlog)), backlog(backlog) {}
  static core::StackConfig config(int syncookies, int max_syn_backlog) {
    auto c = make_config(kMacA, kIpA);
    c.tcp.syncookies = syncookies;
    c.tcp.max_syn_backlog = max_syn_backlog;
    return c;
  }
  void SetUp() override {
    l = h.stack().tcp_socket().value();
    ASSERT_EQ(h.stack().bind(l, {Ipv4Addr{}, 18000}), 0);
    ASSERT_EQ(h.stack().listen(l, backlog), 0);
    h.advance_to(90s);  // some minutes into the cookie clock
  }
  PeerHarness h;
  int backlog;
  SocketId l{};
};

TEST_F(CookieServer, AlwaysModeKeepsNoStateUntilTheAckCompletesTheHandshake) {
  h.inject(peer_syn(40000, 7000, true));
  auto sa = h.next_segment();
  ASSERT_TRUE(sa);
  EXPECT_EQ(sa->tcp.flags, kSyn | kAck);
  EXPECT_EQ(sa->tcp.ack, 7001u);
  EXPECT_EQ(sa->tcp.options.mss, 1460);
  ASSERT_TRUE(sa->tcp.options.timestamp);
  EXPECT_TRUE(sa->tcp.options.sack_permitted);
  EXPECT_EQ(sa->tcp.options.window_scale, 7);
  EXPECT_EQ(h.stack().connection_count(), 0u) << "a cookie keeps nothing";
  EXPECT_EQ(h.stack().counters().tcp_syncookies_sent, 1u);
  // The peer's ACK echoes our TSval, which carries its window scale and SACK.
  wire::TcpHeader ack;
  ack.src_port = 40000, ack.dst_port = 18000, ack.flags = kAck, ack.seq = 7001;
  ack.ack = sa->tcp.seq + 1, ack.window = 1000;
  ack.options.timestamp = wire::TcpOptions::Timestamp{5001, sa->tcp.options.timestamp->value};
  h.inject(ack);
  auto c = h.stack().accept(l, nullptr);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(h.stack().counters().tcp_syncookies_recv, 1u);
  auto info = h.stack().tcp_info(c.value(), h.now());
  EXPECT_EQ(info->state, 1);
  EXPECT_EQ(info->options, core::kTcpiOptTimestamps | core::kTcpiOptSack | core::kTcpiOptWscale);
  EXPECT_EQ(info->snd_wscale, 7);
  EXPECT_EQ(info->snd_mss, 1448u) << "1460 from the cookie's table, less the TS option";
}

TEST_F(CookieServer, WithoutTimestampsTheCookieCarriesOnlyTheMss) {
  h.inject(peer_syn(40001, 9000, false));
  auto sa = h.next_segment();
  ASSERT_TRUE(sa);
  EXPECT_FALSE(sa->tcp.options.sack_permitted);
  EXPECT_FALSE(sa->tcp.options.window_scale);
  wire::TcpHeader ack;
  ack.src_port = 40001, ack.dst_port = 18000, ack.flags = kAck, ack.seq = 9001;
  ack.ack = sa->tcp.seq + 1, ack.window = 65535;
  h.inject(ack);
  auto c = h.stack().accept(l, nullptr);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(h.stack().tcp_info(c.value(), h.now())->options, 0);
}

TEST_F(CookieServer, AForgedOrStaleCookieIsRefusedWithRst) {
  h.inject(peer_syn(40002, 100, true));
  auto sa = h.next_segment();
  wire::TcpHeader ack;
  ack.src_port = 40002, ack.dst_port = 18000, ack.flags = kAck, ack.seq = 101;
  ack.ack = sa->tcp.seq + 2;  // not the cookie
  ack.window = 100;
  h.inject(ack);
  auto rst = h.next_segment();
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->tcp.flags, kRst);
  EXPECT_EQ(h.stack().counters().tcp_syncookies_failed, 1u);
  // The right cookie, but two minutes later: too old (MAX_SYNCOOKIE_AGE).
  h.advance(3min);
  ack.ack = sa->tcp.seq + 1;
  h.inject(ack);
  rst = h.next_segment();
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->tcp.flags, kRst);
  EXPECT_EQ(h.stack().accept(l, nullptr).err(), EAGAIN);
}

// listen(l, 0): the SYN queue's limit is the backlog, and it is full with
// more requests than that (inet_csk_reqsk_queue_is_full()).
struct OverflowServer : CookieServer {
  OverflowServer() : CookieServer(1, 1024, 0) {}
};

TEST_F(OverflowServer, CookiesStartWhenTheSynQueueIsFull) {
  h.inject(peer_syn(41000, 1, true));
  auto first = h.next_segment();
  ASSERT_TRUE(first);
  EXPECT_EQ(h.stack().connection_count(), 1u) << "the first SYN is queued";
  h.inject(peer_syn(41001, 2, true));
  auto second = h.next_segment();
  ASSERT_TRUE(second) << "the second is answered with a cookie";
  EXPECT_EQ(h.stack().connection_count(), 1u);
  EXPECT_EQ(h.stack().counters().tcp_syncookies_sent, 1u);
}

struct NoCookieServer : CookieServer {
  NoCookieServer() : CookieServer(0, 1024, 0) {}
};

TEST_F(NoCookieServer, AFullSynQueueDropsTheSynAndItsAckGetsARst) {
  h.inject(peer_syn(41000, 1, false));
  ASSERT_TRUE(h.next_segment());
  h.inject(peer_syn(41001, 2, false));
  EXPECT_FALSE(h.next_segment()) << "dropped without a word";
  EXPECT_EQ(h.stack().connection_count(), 1u);
  EXPECT_EQ(h.stack().counters().tcp_req_queue_full_drops, 1u);
  EXPECT_EQ(h.stack().counters().tcp_listen_overflows, 0u) << "that is the accept queue's";
  wire::TcpHeader ack;
  ack.src_port = 41001, ack.dst_port = 18000, ack.flags = kAck, ack.seq = 3, ack.ack = 1;
  ack.window = 65535;
  h.inject(ack);
  auto rst = h.next_segment();
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->tcp.flags, kRst);
}

// tcp_max_syn_backlog is no queue limit: without cookies, the last quarter
// of it is kept for peers proven alive, and veer knows of none.
struct LastQuarterServer : CookieServer {
  LastQuarterServer() : CookieServer(0, 8, 100) {}
};

TEST_F(LastQuarterServer, WithoutCookiesTheLastQuarterOfMaxSynBacklogStaysFree) {
  for (uint16_t i = 0; i < 7; ++i) {
    h.inject(peer_syn(static_cast<uint16_t>(42000 + i), 1, false));
    ASSERT_TRUE(h.next_segment()) << "request " << i;
  }
  h.inject(peer_syn(42007, 1, false));
  EXPECT_FALSE(h.next_segment()) << "8 - 7 pending < 8 / 4";
  EXPECT_EQ(h.stack().connection_count(), 7u);
  EXPECT_EQ(h.stack().counters().tcp_req_queue_full_drops, 1u);
}

TEST(SynCookie, EncodesTheMssIndexAndExpiresAfterTwoMinutes) {
  core::SecretKey key{1, 2, 3};
  core::CookieEndpoints e{{kIpA, 80}, {kIpB, 5555}};
  uint16_t used = 0;
  uint32_t c = core::make_syncookie(key, e, 1234, 1400, 10min, &used);
  EXPECT_EQ(used, 1300) << "the largest table entry not above 1400";
  EXPECT_EQ(core::check_syncookie(key, e, 1234, c, 10min + 59s), 1300);
  EXPECT_EQ(core::check_syncookie(key, e, 1234, c, 11min + 59s), 1300);
  EXPECT_FALSE(core::check_syncookie(key, e, 1234, c, 12min));
  // Like Linux's, the cookie is plain arithmetic over the peer's ISN: one
  // more shifts the MSS index; a count from other minutes is refused.
  EXPECT_EQ(core::check_syncookie(key, e, 1235, c, 10min), 536);
  EXPECT_FALSE(core::check_syncookie(key, e, 1234 - (4u << 24), c, 10min));
}

}  // namespace
}  // namespace veer::test
