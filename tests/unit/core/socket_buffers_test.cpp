// SO_SNDBUF, SO_RCVBUF and TCP_NOTSENT_LOWAT against a scripted peer in
// virtual time: what the options store, the windows a receive buffer
// offers, and how much a send buffer takes before send() stops and when
// the socket is writable again.
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

wire::TcpHeader from_peer(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window) {
  return peer_header(kPeerPort, kPort, flags, seq, ack, window);
}

// A listener on kPort (options set by `setup` before the SYN) and one
// accepted connection from a peer with the given MSS, window scale and the
// window its handshake ACK offers, `rtt` after the SYN-ACK.
struct Server : ::testing::Test {
  std::unique_ptr<PeerHarness> hp;
  SocketId listener{}, conn{};
  uint32_t iss = 0;
  uint32_t peer_seq = kPeerIsn + 1;
  std::optional<SeenSegment> synack;

  void open(StackConfig cfg, uint16_t peer_mss, std::optional<uint8_t> peer_wscale,
            uint16_t ack_window, Time rtt,
            const std::function<void(Stack&, SocketId)>& setup = {}) {
    hp = std::make_unique<PeerHarness>(cfg);
    PeerHarness& h = *hp;
    listener = h.stack().tcp_socket().value();
    ASSERT_EQ(h.stack().bind(listener, {Ipv4Addr{}, kPort}), 0);
    if (setup) setup(h.stack(), listener);
    ASSERT_EQ(h.stack().listen(listener, 5), 0);
    auto syn = from_peer(kSyn, kPeerIsn, 0, 32792);
    syn.options.mss = peer_mss;
    syn.options.window_scale = peer_wscale;
    h.inject(syn);
    synack = h.next_segment();
    ASSERT_TRUE(synack);
    iss = synack->tcp.seq;
    h.advance(rtt);
    h.inject(from_peer(kAck, peer_seq, iss + 1, ack_window));
    conn = h.stack().accept(listener, nullptr).value();
  }
  PeerHarness& h() { return *hp; }
  int option(SocketId s, SockOpt o) { return h().stack().get_option(s, o).value(); }
  // The peer ACKs up to `ack` (relative to our ISS).
  void ack(uint32_t rel, uint16_t window) {
    h().inject(from_peer(kAck, peer_seq, iss + rel, window));
  }
  // Everything the stack sent since the last call.
  std::vector<SeenSegment> sent() {
    std::vector<SeenSegment> v;
    while (auto s = h().next_segment()) v.push_back(*s);
    return v;
  }
  bool writable() { return h().stack().readiness(conn) & ready::kOut; }
};

TEST(SocketBuffers, OptionsStoreTheDoubledValueLikeLinux) {
  PeerHarness h;
  Stack& st = h.stack();
  auto s = st.tcp_socket().value();
  // Before the program sets them: tcp_wmem[1] and tcp_rmem[1].
  EXPECT_EQ(st.get_option(s, SockOpt::SndBuf).value(), 16384);
  EXPECT_EQ(st.get_option(s, SockOpt::RcvBuf).value(), 131072);
  EXPECT_EQ(st.set_option(s, SockOpt::SndBuf, 21000), 0);
  EXPECT_EQ(st.get_option(s, SockOpt::SndBuf).value(), 42000);
  EXPECT_EQ(st.set_option(s, SockOpt::RcvBuf, 20000), 0);
  EXPECT_EQ(st.get_option(s, SockOpt::RcvBuf).value(), 40000);
  // Never an error: too small becomes the minimum, too large the maximum.
  EXPECT_EQ(st.set_option(s, SockOpt::SndBuf, 1), 0);
  EXPECT_EQ(st.get_option(s, SockOpt::SndBuf).value(), 4608) << "SOCK_MIN_SNDBUF";
  EXPECT_EQ(st.set_option(s, SockOpt::RcvBuf, 0), 0);
  EXPECT_EQ(st.get_option(s, SockOpt::RcvBuf).value(), 2304) << "SOCK_MIN_RCVBUF";
  EXPECT_EQ(st.set_option(s, SockOpt::SndBuf, -1), 0);
  EXPECT_EQ(st.get_option(s, SockOpt::SndBuf).value(), 2 * 4194304) << "net.core.wmem_max";
  EXPECT_EQ(st.set_option(s, SockOpt::RcvBuf, 1 << 30), 0);
  EXPECT_EQ(st.get_option(s, SockOpt::RcvBuf).value(), 2 * 4194304) << "net.core.rmem_max";
}

TEST(SocketBuffers, TheKnobsCapWhatAProgramMaySet) {
  StackConfig cfg = make_config(kMacA, kIpA);
  cfg.tcp.core_wmem_max = 100000;
  cfg.tcp.core_rmem_max = 50000;
  PeerHarness h(cfg);
  auto s = h.stack().tcp_socket().value();
  h.stack().set_option(s, SockOpt::SndBuf, 1000000);
  h.stack().set_option(s, SockOpt::RcvBuf, 1000000);
  EXPECT_EQ(h.stack().get_option(s, SockOpt::SndBuf).value(), 200000);
  EXPECT_EQ(h.stack().get_option(s, SockOpt::RcvBuf).value(), 100000);
}

TEST_F(Server, AConnectionsSendBufferStartsAtTwoInitialWindowsOfSkbs) {
  open(make_config(kMacA, kIpA), 1460, 7, 100, 10ms);
  // tcp_init_buffer_space(): tcp_wmem[1] grows to 2 * 10 * 4352 bytes.
  EXPECT_EQ(option(conn, SockOpt::SndBuf), 87040);
  EXPECT_EQ(option(conn, SockOpt::RcvBuf), 131072);
}

TEST_F(Server, AcceptedSocketsInheritTheListenersBuffersAndTheyStayFixed) {
  open(make_config(kMacA, kIpA), 1460, 7, 100, 10ms, [](Stack& st, SocketId l) {
    st.set_option(l, SockOpt::SndBuf, 21000);
    st.set_option(l, SockOpt::RcvBuf, 20000);
  });
  EXPECT_EQ(option(conn, SockOpt::SndBuf), 42000) << "locked: no tcp_sndbuf_expand()";
  EXPECT_EQ(option(conn, SockOpt::RcvBuf), 40000);
  // A fixed SO_RCVBUF clamps the window scale: 40000 bytes offer 20000.
  EXPECT_EQ(synack->tcp.options.window_scale, 0);
  EXPECT_EQ(synack->tcp.window, 18980) << "13 * 1460";
}

TEST_F(Server, WithoutSoRcvbufTheScaleCoversTheLargestBuffer) {
  open(make_config(kMacA, kIpA), 1460, 7, 100, 10ms);
  EXPECT_EQ(synack->tcp.options.window_scale, 7);
  EXPECT_EQ(synack->tcp.window, 64240);
}

TEST_F(Server, AClosedWindowDropsDataButTakesABareFin) {
  open(make_config(kMacA, kIpA), 1000, std::nullopt, 257, 10ms, [](Stack& st, SocketId l) {
    st.set_option(l, SockOpt::RcvBuf, 20000);  // 20000 bytes of window
  });
  Stack& st = h().stack();
  // In-order data is taken whole, even past the window, while the buffer
  // has room (tcp_rcv_zero_wnd_fin.pkt sends 60000 at once).
  h().inject(from_peer(kAck | kPsh, peer_seq, iss + 1, 257), zeros(60000));
  peer_seq += 60000;
  auto a = sent();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].tcp.ack, peer_seq);
  EXPECT_EQ(a[0].tcp.window, 0);
  EXPECT_EQ(st.bytes_readable(conn), 60000u);
  // More data into the closed window: dropped, and ACKed at once.
  h().inject(from_peer(kAck | kPsh, peer_seq, iss + 1, 257), zeros(1000));
  a = sent();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].tcp.ack, peer_seq);
  EXPECT_EQ(a[0].tcp.window, 0);
  EXPECT_EQ(st.counters().tcp_zero_window_dropped, 1u);
  EXPECT_EQ(st.bytes_readable(conn), 60000u);
  // A bare FIN is taken (no FIN/ACK loop with a peer that ignores the window).
  h().inject(from_peer(kAck | kFin, peer_seq, iss + 1, 257));
  a = sent();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].tcp.ack, peer_seq + 1);
  EXPECT_EQ(a[0].tcp.window, 0);
  EXPECT_EQ(st.state(conn), core::TcpState::CloseWait);
}

TEST_F(Server, ReadingReopensTheWindowTheBufferOffers) {
  open(make_config(kMacA, kIpA), 1000, std::nullopt, 257, 10ms,
       [](Stack& st, SocketId l) { st.set_option(l, SockOpt::RcvBuf, 20000); });
  h().inject(from_peer(kAck | kPsh, peer_seq, iss + 1, 257), zeros(20000));
  auto a = sent();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].tcp.window, 0);
  std::vector<std::byte> buf(20000);
  ASSERT_EQ(h().stack().recv(conn, buf, h().now()).value(), 20000u);
  a = sent();
  ASSERT_EQ(a.size(), 1u) << "a window update";
  EXPECT_EQ(a[0].tcp.window, 18980) << "the buffer's 20000, in whole segments";
}

// Receive-buffer auto-tuning (tcp_rcv_rtt_measure(), tcp_rcv_space_adjust(),
// tcp_rcvbuf_grow()): without timestamps the receiver times how long the
// data filling one offered window takes to arrive, and once per such RTT
// the buffer grows to offer twice what the program read in it, more while
// that still grows (a sender in slow start).
struct AutoTuning : Server {
  static constexpr uint8_t kScale = 7;  // the peer's
  uint32_t offered = 0;                 // the window the stack last offered, in bytes
  // The peer fills the window offered in 1000-byte segments, `rtt` passes,
  // and the program reads what arrived if `read`. Returns the bytes sent.
  size_t round(Time rtt, bool read) {
    size_t n = offered - offered % 1000;
    for (size_t off = 0; off < n; off += 1000) {
      h().inject(from_peer(kAck, peer_seq, iss + 1, 100), zeros(1000));
      peer_seq += 1000;
    }
    note(sent());
    h().advance(rtt);
    if (read) {
      std::vector<std::byte> buf(n);
      EXPECT_EQ(h().stack().recv(conn, buf, h().now()).value(), n);
      note(sent());
    }
    return n;
  }
  void note(const std::vector<SeenSegment>& segs) {
    if (!segs.empty())
      offered = uint32_t{segs.back().tcp.window} << synack->tcp.options.window_scale.value_or(0);
  }
  core::TcpInfo info() { return h().stack().tcp_info(conn, h().now()).value(); }
};

TEST_F(AutoTuning, TheReceiveBufferGrowsOncePerReceiverRttWithWhatTheProgramRead) {
  open(make_config(kMacA, kIpA), 1000, kScale, 100, 1ms);
  offered = synack->tcp.window;  // a SYN-ACK's window is never scaled
  const int rcvbuf0 = option(conn, SockOpt::RcvBuf);
  const uint32_t space0 = info().rcv_space;
  EXPECT_EQ(space0, 10 * info().advmss) << "tcp_init_buffer_space(): ten segments";
  // The first window: the RTT is not measured yet (the data that ends it
  // has not come), so nothing grows.
  size_t first = round(1ms, true);
  EXPECT_EQ(info().rcv_rtt_us, 0u);
  EXPECT_EQ(option(conn, SockOpt::RcvBuf), rcvbuf0);
  // The second: its data completes the first window 1 ms after it started.
  size_t second = round(1ms, true);
  EXPECT_EQ(info().rcv_rtt_us, 1000u);
  // Read in the measured time: both windows, against the initial ten segments.
  uint64_t copied = first + second;
  uint64_t rcvwin = 2 * copied + 4 * copied * (copied - space0) / space0;
  EXPECT_EQ(option(conn, SockOpt::RcvBuf), std::min<int64_t>(2 * rcvwin, 6291456))
      << "tcp_space_from_win() with tcp_adv_win_scale 1: twice the window";
  EXPECT_EQ(info().rcv_space, copied);
  // The windows offered follow, up to tcp_rmem[2].
  for (int i = 0; i < 3; ++i) round(1ms, true);
  EXPECT_EQ(option(conn, SockOpt::RcvBuf), 6291456);
  EXPECT_GT(offered, 2'000'000u);
  EXPECT_EQ(info().rcv_rtt_us, 1000u);
}

TEST_F(AutoTuning, NothingGrowsWhileTheProgramDoesNotRead) {
  open(make_config(kMacA, kIpA), 1000, kScale, 100, 1ms);
  offered = synack->tcp.window;
  const int rcvbuf0 = option(conn, SockOpt::RcvBuf);
  for (int i = 0; i < 4 && offered >= 1000; ++i) round(1ms, false);
  EXPECT_GT(info().rcv_rtt_us, 0u) << "measured, and no reading to grow for";
  EXPECT_EQ(option(conn, SockOpt::RcvBuf), rcvbuf0);
}

TEST_F(AutoTuning, SoRcvbufFixesTheBuffer) {
  open(make_config(kMacA, kIpA), 1000, kScale, 100, 1ms,
       [](Stack& st, SocketId l) { st.set_option(l, SockOpt::RcvBuf, 100000); });
  offered = synack->tcp.window;
  for (int i = 0; i < 6; ++i) round(1ms, true);
  EXPECT_EQ(info().rcv_rtt_us, 1000u);
  EXPECT_EQ(option(conn, SockOpt::RcvBuf), 200000);
}

TEST_F(Server, SendTakesWholeChunksPastTheBufferThenBlocksUntilAThirdIsFree) {
  // tcp_blocking_blocking-write.pkt: SO_SNDBUF 21000 (42000), bursts of
  // tcp_min_tso_segs 10, a peer with MSS 1000 and a 50000-byte window.
  StackConfig cfg = make_config(kMacA, kIpA);
  cfg.tcp.min_tso_segs = 10;
  open(cfg, 1000, 0, 50000, 100ms);
  Stack& st = h().stack();
  ASSERT_EQ(st.set_option(conn, SockOpt::SndBuf, 21000), 0);
  // Chunks of half the peer's window (25000) are filled once begun: the
  // third is refused, 60000 bytes in.
  EXPECT_EQ(st.send(conn, zeros(61000), h().now()).value(), 60000u);
  EXPECT_EQ(st.send(conn, zeros(1000), h().now()).err(), EAGAIN);
  EXPECT_FALSE(writable());
  auto a = sent();
  ASSERT_EQ(a.size(), 10u) << "the initial window";
  h().advance(100ms);
  ack(10001, 50000);
  EXPECT_FALSE(writable()) << "50000 queued";
  h().advance(100ms);
  ack(30001, 50000);
  EXPECT_FALSE(writable()) << "30000 queued: less than half of it is free";
  h().advance(100ms);
  ack(36001, 50000);
  EXPECT_TRUE(writable()) << "24000 queued";
  EXPECT_EQ(st.send(conn, zeros(1000), h().now()).value(), 1000u);
}

TEST_F(Server, ABlockedWriterGrowsTheSendBufferWhenCwndHasRoom) {
  open(make_config(kMacA, kIpA), 1000, 7, 1000, 10ms);  // 128000-byte window
  Stack& st = h().stack();
  ASSERT_EQ(option(conn, SockOpt::SndBuf), 46080);
  uint32_t acked = 1;
  int grown = 0;
  for (int round = 0; round < 8; ++round) {
    while (st.send(conn, zeros(10000), h().now()).ok()) {
    }
    int before = option(conn, SockOpt::SndBuf);
    h().advance(10ms);
    for (const SeenSegment& s : sent())
      acked = s.tcp.seq - iss + static_cast<uint32_t>(s.payload.size());
    ack(acked, 1000);
    int after = option(conn, SockOpt::SndBuf);
    if (after != before) {
      // tcp_sndbuf_expand(): two windows of 2304-byte skbs for MSS 1000.
      uint32_t cwnd = st.tcp_info(conn, h().now())->snd_cwnd;
      EXPECT_EQ(after, static_cast<int>(2 * cwnd * 2304));
      ++grown;
    }
  }
  EXPECT_GT(grown, 0);
}

TEST_F(Server, ALockedSendBufferNeverGrows) {
  open(make_config(kMacA, kIpA), 1000, 7, 1000, 10ms);
  Stack& st = h().stack();
  st.set_option(conn, SockOpt::SndBuf, 30000);
  uint32_t acked = 1;
  for (int round = 0; round < 8; ++round) {
    while (st.send(conn, zeros(10000), h().now()).ok()) {
    }
    h().advance(10ms);
    for (const SeenSegment& s : sent())
      acked = s.tcp.seq - iss + static_cast<uint32_t>(s.payload.size());
    ack(acked, 1000);
  }
  EXPECT_EQ(option(conn, SockOpt::SndBuf), 60000);
}

TEST_F(Server, NotsentLowatStopsSendAndPollOutAtItsUnsentBytes) {
  // notsent-lowat-setsockopt.pkt: chunks of 16000 (half of 257 << 7).
  open(make_config(kMacA, kIpA), 1000, 7, 257, 10ms);
  Stack& st = h().stack();
  ASSERT_EQ(st.set_option(conn, SockOpt::NotSentLowat, 4000), 0);
  EXPECT_EQ(option(conn, SockOpt::NotSentLowat), 4000);
  EXPECT_EQ(st.send(conn, zeros(59000), h().now()).value(), 26000u);
  EXPECT_EQ(sent().size(), 10u);
  EXPECT_FALSE(writable()) << "16000 unsent";
  // Each ACK of two segments lets four more out.
  for (uint32_t acked = 2001; acked <= 6001; acked += 2000) {
    h().advance(10ms);
    ack(acked, 257);
    EXPECT_EQ(sent().size(), 4u);
    EXPECT_FALSE(writable());
  }
  h().advance(10ms);
  ack(8001, 257);
  EXPECT_EQ(sent().size(), 4u);
  EXPECT_TRUE(writable()) << "nothing unsent: twice that is below 4000";
}

TEST_F(Server, TheNotsentLowatKnobAppliesWhenTheSocketSetsNone) {
  StackConfig cfg = make_config(kMacA, kIpA);
  cfg.tcp.notsent_lowat = 4000;
  open(cfg, 1000, 7, 257, 10ms);
  EXPECT_EQ(option(conn, SockOpt::NotSentLowat), 0);
  EXPECT_EQ(h().stack().send(conn, zeros(59000), h().now()).value(), 26000u);
}

}  // namespace
}  // namespace veer::test
