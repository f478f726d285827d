// The minimum RTT over a sliding window (net.ipv4.tcp_min_rtt_wlen, 300 s),
// as Linux tracks it for RACK's reordering window and TLP: Kathleen Nichols'
// windowed min filter of lib/win_minmax.c, which keeps the best, second best
// and third best samples of the window's quarters.
#pragma once

#include <array>
#include <optional>

#include "core/types.h"

namespace veer::core {

class MinRttFilter {
 public:
  explicit MinRttFilter(Time window = std::chrono::seconds(300)) : window_(window) {}

  // minmax_running_min(): feeds the sample `rtt` taken at `now`.
  void update(Time now, Time rtt);
  // tcp_min_rtt(); nullopt before the first sample (Linux's ~0U).
  std::optional<Time> get() const {
    if (!valid_) return std::nullopt;
    return s_[0].rtt;
  }

 private:
  struct Sample {
    Time at{};
    Time rtt{};
  };
  void reset(const Sample& s) { s_ = {s, s, s}; }

  Time window_;
  bool valid_ = false;
  std::array<Sample, 3> s_{};
};

}  // namespace veer::core
