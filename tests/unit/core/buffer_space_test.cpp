// The arithmetic of Linux's socket buffers (core/tcp/buffer_space.h), with
// the numbers Linux produces.
#include "core/tcp/buffer_space.h"

#include <gtest/gtest.h>

namespace veer::core {
namespace {

using namespace std::chrono_literals;

TEST(BufferSpace, SetsockoptDoublesWithinTheMaximumAndAboveTheMinimum) {
  // sock_setsockopt(): 21000 is stored as 42000 (tcp_blocking_blocking-write.pkt).
  EXPECT_EQ(sock_buffer_from_user(21000, 4194304, kSockMinSndbuf), 42000);
  EXPECT_EQ(sock_buffer_from_user(1, 4194304, kSockMinSndbuf), 4608);
  EXPECT_EQ(sock_buffer_from_user(0, 4194304, kSockMinRcvbuf), 2304);
  EXPECT_EQ(sock_buffer_from_user(1000000, 100000, kSockMinSndbuf), 200000);
  // A negative value is a huge unsigned one: the maximum.
  EXPECT_EQ(sock_buffer_from_user(-1, 4194304, kSockMinSndbuf), 8388608);
  EXPECT_EQ(sock_buffer_from_user(INT_MAX, INT_MAX, kSockMinSndbuf), INT_MAX - 1)
      << "val * 2 must fit an int";
}

TEST(BufferSpace, TcpAdvWinScaleSharesTheBufferBetweenWindowAndOverhead) {
  EXPECT_EQ(win_from_space(40000, 1), 20000);
  EXPECT_EQ(win_from_space(40000, 2), 30000);
  EXPECT_EQ(win_from_space(40000, 0), 40000);
  EXPECT_EQ(win_from_space(40000, -2), 10000);
  EXPECT_EQ(space_from_win(20000, 1), 40000);
  EXPECT_EQ(space_from_win(30000, 2), 40000);
  EXPECT_EQ(space_from_win(10000, -2), 40000);
}

TEST(BufferSpace, InitialWindowAndScaleAsTcpSelectInitialWindow) {
  TcpSettings t;  // tcp_rmem 4096 131072 6291456, rmem_max 4 MiB
  InitialWindow w = select_initial_window(65536, 0, 1460, true, t);
  EXPECT_EQ(w.rcv_wnd, 64240u) << "44 * 1460";
  EXPECT_EQ(w.wscale, 7) << "ilog2(6291456) - 15";
  EXPECT_EQ(w.window_clamp, 65535u << 7);
  // A SYN-ACK with timestamps rounds to 1448: Linux's 65160.
  EXPECT_EQ(select_initial_window(65536, 0, 1448, true, t).rcv_wnd, 65160u);
  // SO_RCVBUF 20000 (stored 40000, half of it offered) clamps the scale.
  w = select_initial_window(20000, 20000, 1460, true, t);
  EXPECT_EQ(w.rcv_wnd, 18980u);
  EXPECT_EQ(w.wscale, 0);
  EXPECT_EQ(w.window_clamp, 20000u);
  // Without window scaling the clamp is what 16 bits can say.
  w = select_initial_window(270000, 0, 1460, false, t);
  EXPECT_EQ(w.wscale, 0);
  EXPECT_EQ(w.window_clamp, 65535u);
  EXPECT_EQ(w.rcv_wnd, 268640u) << "the 16-bit limit applies to the SYN's field only";
  t.rmem_max = 15728640;  // packetdrill's defaults.sh
  EXPECT_EQ(select_initial_window(270000, 0, 1460, true, t).wscale, 8);
}

TEST(BufferSpace, SendBufferGrowsForTwoWindowsOfWorstCaseSkbs) {
  TcpSettings t;  // tcp_wmem[2] = 4 MiB
  // MSS 1460: 2100 bytes per segment round up to 4096, plus the sk_buff.
  EXPECT_EQ(sndbuf_expand_target(1460, 10, 3, t), 87040);
  EXPECT_EQ(sndbuf_expand_target(1000, 10, 3, t), 46080);
  EXPECT_EQ(sndbuf_expand_target(1448, 40, 3, t), 348160);
  EXPECT_EQ(sndbuf_expand_target(1460, 4, 3, t), 87040) << "at least the initial window";
  t.wmem_max = 100000;
  EXPECT_EQ(sndbuf_expand_target(1448, 40, 3, t), 100000);
  // A kernel built without Wi-Fi, Hyper-V and tunnels (MAX_TCP_HEADER 192):
  // 1460 + 192 + 320 fits 2048, as ss shows on such a kernel (tb46080).
  TcpSettings small;
  small.max_tcp_header = 192;
  EXPECT_EQ(sndbuf_expand_target(1460, 10, 3, small), 46080);
  EXPECT_EQ(skb_truesize(small), 832) << "a 512-byte head object is one cache line larger";
  EXPECT_EQ(skb_truesize(TcpSettings{}), 896);
}

TEST(BufferSpace, SizeGoalIsHalfThePeersLargestWindowInWholeSegments) {
  TcpSettings t, segs4, segs1;
  segs4.gso_max_segs = 4;
  segs1.gso_max_segs = 1;
  EXPECT_EQ(xmit_size_goal(1000, 50000, t), 25000u);
  EXPECT_EQ(xmit_size_goal(1000, 257u << 7, t), 16000u);
  EXPECT_EQ(xmit_size_goal(1460, 65535u << 7, t), 64240u) << "the GSO limit";
  EXPECT_EQ(xmit_size_goal(1000, 1500, t), 1000u) << "never below one segment";
  EXPECT_EQ(xmit_size_goal(1000, 50000, segs4), 4000u) << "the link's gso_max_segs";
  EXPECT_EQ(xmit_size_goal(1000, 50000, segs1), 1000u);
}

TEST(BufferSpace, TsoBurstsFollowThePacingRate) {
  TcpSettings t;
  TsoInputs in;
  in.mss = 1000;
  in.cwnd = 10;
  in.ssthresh = 0x7fffffff;
  EXPECT_EQ(tso_segs(in, t), 65u) << "no RTT yet: the GSO size";
  // 100 ms: 200 % of 10 segments per RTT is 200 kB/s, 195 bytes a ms.
  in.srtt = 100ms;
  in.min_rtt = 100ms;
  EXPECT_EQ(tso_segs(in, t), 2u) << "tcp_min_tso_segs";
  t.min_tso_segs = 10;
  EXPECT_EQ(tso_segs(in, t), 10u);
  // A close peer gets the whole GSO size.
  t.min_tso_segs = 2;
  in.srtt = 100us;
  in.min_rtt = 100us;
  EXPECT_EQ(tso_segs(in, t), 65u);
  // The link's gso_max_segs caps bursts, tcp_min_tso_segs included.
  t.gso_max_segs = 8;
  EXPECT_EQ(tso_segs(in, t), 8u);
  t.gso_max_segs = 1;
  in.srtt = in.min_rtt = 100ms;
  EXPECT_EQ(tso_segs(in, t), 1u);
}

}  // namespace
}  // namespace veer::core
