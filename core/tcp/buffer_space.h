// The arithmetic of Linux's socket buffers: what SO_SNDBUF/SO_RCVBUF store,
// how much of a receive buffer is offered as window, the window and scale a
// SYN offers, how far the send buffer grows on its own, and how large a TSO
// burst is. Pure functions of their inputs; the connection keeps the state.
//
// Linux counts buffers in skb truesize (payload plus sk_buff overhead).
// veer's buffers hold payload only, so where Linux charges an skb's
// overhead veer charges kSkbTruesize per buffer chunk (send side), and the
// receive side turns buffer bytes into payload bytes with tcp_adv_win_scale.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>

#include "core/settings.h"
#include "core/types.h"

namespace veer::core {

// Sizes behind Linux's constants on x86-64 (include/net/sock.h, tcp.h):
// SKB_DATA_ALIGN(sizeof(struct sk_buff)) and of struct skb_shared_info.
// MAX_TCP_HEADER depends on the kernel's build: TcpSettings::max_tcp_header.
inline constexpr int kSkbStructSize = 256;
inline constexpr int kSkbSharedInfoSize = 320;
// TCP_SKB_MIN_TRUESIZE, SOCK_MIN_SNDBUF, SOCK_MIN_RCVBUF.
inline constexpr int kTcpSkbMinTruesize = 2048 + kSkbStructSize;
inline constexpr int kSockMinSndbuf = 2 * kTcpSkbMinTruesize;
inline constexpr int kSockMinRcvbuf = kTcpSkbMinTruesize;
// The truesize of an empty skb from tcp_stream_alloc_skb(): its head of
// MAX_TCP_HEADER comes from the small-head cache, whose objects are
// SKB_HEAD_ALIGN(MAX_TCP_HEADER) bytes, one cache line more when that is a
// power of two (SKB_SMALL_HEAD_CACHE_SIZE, net/core/skbuff.c); truesize is
// SKB_TRUESIZE() of what is left once skb_shared_info is taken off. 896 for
// MAX_TCP_HEADER 320; 832 for 192 (ss shows it on such a kernel: w38760 for
// 24616 bytes in 17 one-segment skbs).
inline int skb_truesize(const TcpSettings& s) {
  constexpr int kCacheLine = 64;  // L1_CACHE_BYTES on x86-64
  int aligned = (s.max_tcp_header + kCacheLine - 1) / kCacheLine * kCacheLine;
  int object = aligned + kSkbSharedInfoSize;
  if ((object & (object - 1)) == 0) object += kCacheLine;
  // SKB_TRUESIZE(object - shared info) = the object plus the sk_buff.
  return object + kSkbStructSize;
}
// sk_gso_max_size for a device with the default GSO limit (64 KiB less
// MAX_TCP_HEADER + 1, sk_setup_caps()).
inline uint32_t gso_max_size(const TcpSettings& s) {
  return 65536 - static_cast<uint32_t>(s.max_tcp_header) - 1;
}

// sock_setsockopt() SO_SNDBUF/SO_RCVBUF: the value as an unsigned number,
// capped at net.core.{w,r}mem_max, doubled for the kernel's bookkeeping,
// and at least the minimum.
inline int sock_buffer_from_user(int value, int max, int minimum) {
  uint32_t v = std::min(static_cast<uint32_t>(value), static_cast<uint32_t>(max));
  v = std::min<uint32_t>(v, INT_MAX / 2);
  return std::max(static_cast<int>(v) * 2, minimum);
}

// tcp_win_from_space() with net.ipv4.tcp_adv_win_scale (the fixed ratio
// Linux used until 6.6; 6.6+ starts from the same 50 % and adapts it).
inline int win_from_space(int space, int adv_win_scale) {
  if (adv_win_scale <= 0) return space >> -adv_win_scale;
  return space - (space >> adv_win_scale);
}

// The inverse: the buffer that offers `win` (tcp_space_from_win()).
inline int space_from_win(int win, int adv_win_scale) {
  int64_t w = win;
  if (adv_win_scale <= 0) return static_cast<int>(std::min<int64_t>(w << -adv_win_scale, INT_MAX));
  int64_t keep = (int64_t{1} << adv_win_scale) - 1;  // the share offered, in 2^-n
  return static_cast<int>(std::min<int64_t>((w << adv_win_scale) / keep, INT_MAX));
}

// tcp_select_initial_window(): the window a SYN or SYN-ACK offers, the
// clamp on later windows, and the scale. `clamp` is 0 for none (Linux's
// window_clamp, set to the full space when the program fixed SO_RCVBUF).
struct InitialWindow {
  uint32_t rcv_wnd = 0;  // before the 16-bit limit of the SYN's field
  uint32_t window_clamp = 0;
  uint8_t wscale = 0;
};
InitialWindow select_initial_window(int full_space, uint32_t clamp, uint32_t mss, bool wscale_ok,
                                    const TcpSettings& settings);

// tcp_sndbuf_expand(): room for two congestion windows of worst-case skbs
// (one per segment, heads rounded to a power of two), within tcp_wmem[2].
int sndbuf_expand_target(uint32_t mss, uint32_t cwnd, uint32_t reordering,
                         const TcpSettings& settings);

// tcp_bound_to_half_wnd() + tcp_xmit_size_goal(): how much one buffer chunk
// (one skb of tcp_sendmsg()) holds: a multiple of the MSS up to the GSO
// size, at most half the largest window the peer offered.
// The link's gso_max_segs caps it in segments.
uint32_t xmit_size_goal(uint32_t mss, uint32_t max_window, const TcpSettings& settings);

// tcp_tso_autosize() + tcp_tso_segs(): segments in one TSO burst, from the
// pacing rate Linux would use (tcp_update_pacing_rate(): 200 % of
// cwnd * mss / srtt in slow start, 120 % after) and the minimum RTT, at
// least net.ipv4.tcp_min_tso_segs, at most the link's gso_max_segs.
struct TsoInputs {
  uint32_t mss = 0;
  uint32_t cwnd = 0;
  uint32_t ssthresh = 0;
  uint32_t packets_out = 0;
  Time srtt{};     // zero: no sample yet (no pacing rate: the GSO size)
  Time min_rtt{};  // zero: none
};
uint32_t tso_segs(const TsoInputs& in, const TcpSettings& settings);

}  // namespace veer::core
