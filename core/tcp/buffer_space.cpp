#include "core/tcp/buffer_space.h"

#include <bit>

namespace veer::core {

namespace {
constexpr uint32_t kMaxScaledWindow = 65535u << 14;  // U16_MAX << TCP_MAX_WSCALE
constexpr uint32_t kGsoMaxSegs = 65535;              // GSO_MAX_SEGS
constexpr int kTsoRttLog = 9;                        // net.ipv4.tcp_tso_rtt_log
constexpr int kPacingShift = 10;                     // sk_pacing_shift: ~1 ms of data
constexpr uint64_t kPacingSsRatio = 200;             // net.ipv4.tcp_pacing_ss_ratio
constexpr uint64_t kPacingCaRatio = 120;             // net.ipv4.tcp_pacing_ca_ratio
}  // namespace

InitialWindow select_initial_window(int full_space, uint32_t clamp, uint32_t mss, bool wscale_ok,
                                    const TcpSettings& settings) {
  InitialWindow w;
  uint32_t window_clamp = clamp ? clamp : kMaxScaledWindow;
  uint32_t space = std::min(window_clamp, static_cast<uint32_t>(std::max(full_space, 0)));
  // Quantize the offer to a multiple of the MSS.
  if (mss > 0 && space > mss) space = space / mss * mss;
  w.rcv_wnd = space;
  if (wscale_ok) {
    // Scale for the largest window the buffer could ever offer.
    uint32_t most = std::max(space, static_cast<uint32_t>(settings.rmem_max));
    most = std::max(most, static_cast<uint32_t>(settings.core_rmem_max));
    most = std::min(most, window_clamp);
    int log2 = std::bit_width(most) - 1;
    w.wscale = static_cast<uint8_t>(std::clamp(log2 - 15, 0, 14));
  }
  w.window_clamp = std::min(65535u << w.wscale, window_clamp);
  return w;
}

int sndbuf_expand_target(uint32_t mss, uint32_t cwnd, uint32_t reordering,
                         const TcpSettings& settings) {
  uint32_t per_mss =
      std::bit_ceil(mss + static_cast<uint32_t>(settings.max_tcp_header) + kSkbSharedInfoSize) +
      kSkbStructSize;
  uint32_t segs = std::max({10u, cwnd, reordering + 1});
  // Fast recovery: CUBIC needs 1.7 windows, rounded up to 2 (Reno too).
  uint64_t sndmem = 2ull * segs * per_mss;
  return static_cast<int>(std::min<uint64_t>(sndmem, static_cast<uint64_t>(settings.wmem_max)));
}

uint32_t xmit_size_goal(uint32_t mss, uint32_t max_window, const TcpSettings& settings) {
  if (mss == 0) return 0;
  uint32_t goal = gso_max_size(settings);
  uint32_t cutoff = max_window > 536 ? max_window / 2 : max_window;
  if (cutoff && goal > cutoff) goal = std::max(cutoff, 48u);
  uint32_t segs = std::min({goal / mss, kGsoMaxSegs, settings.gso_max_segs});
  return std::max(segs * mss, mss);
}

uint32_t tso_segs(const TsoInputs& in, const TcpSettings& settings) {
  if (in.mss == 0) return 1;
  const uint64_t gso_max = gso_max_size(settings);
  uint64_t bytes = gso_max;  // no RTT yet: no pacing rate, no limit but GSO's
  int64_t srtt_us = std::chrono::duration_cast<std::chrono::microseconds>(in.srtt).count();
  if (srtt_us > 0) {
    uint64_t ratio = in.cwnd < in.ssthresh / 2 ? kPacingSsRatio : kPacingCaRatio;
    uint64_t rate = uint64_t{in.mss} * ratio * std::max(in.cwnd, in.packets_out) * 10000 /
                    static_cast<uint64_t>(srtt_us);  // bytes per second
    bytes = rate >> kPacingShift;
    int64_t min_rtt_us = std::chrono::duration_cast<std::chrono::microseconds>(in.min_rtt).count();
    if (min_rtt_us > 0) {
      // Close peers get larger bursts: the allowance halves every 512 us.
      int64_t r = min_rtt_us >> kTsoRttLog;
      if (r < 32) bytes += gso_max >> r;
    }
    bytes = std::min<uint64_t>(bytes, gso_max);
  }
  uint64_t segs = std::max<uint64_t>(bytes / in.mss, static_cast<uint64_t>(settings.min_tso_segs));
  return static_cast<uint32_t>(std::min<uint64_t>({segs, kGsoMaxSegs, settings.gso_max_segs}));
}

}  // namespace veer::core
