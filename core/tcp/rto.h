// Retransmission timeout (RFC 6298) with Linux's bounds, and Linux's model of
// how long a given number of retransmissions takes (tcp_model_timeout).
#pragma once

#include "core/types.h"

namespace veer::core {

inline constexpr Time kRtoMin = std::chrono::milliseconds(200);  // Linux TCP_RTO_MIN
inline constexpr Time kRtoMax = std::chrono::seconds(120);       // Linux TCP_RTO_MAX
inline constexpr Time kRtoInitial = std::chrono::seconds(1);     // RFC 6298 §2.1, TCP_TIMEOUT_INIT
inline constexpr Time kTimeWaitLength = std::chrono::seconds(60);  // Linux TCP_TIMEWAIT_LEN

class RtoEstimator {
 public:
  // The bounds are the connection's: net.ipv4.tcp_rto_min_us and
  // tcp_rto_max_ms (or TCP_RTO_MAX_MS) when it was created.
  explicit RtoEstimator(Time rto_min = kRtoMin, Time rto_max = kRtoMax)
      : rto_min_(rto_min), rto_max_(rto_max) {}
  void set_rto_max(Time rto_max) { rto_max_ = rto_max; }
  Time rto_min() const { return rto_min_; }
  Time rto_max() const { return rto_max_; }
  // Feeds one RTT measurement (never from a retransmitted segment: Karn).
  void sample(Time rtt);
  // The current RTO before backoff, clamped to [rto_min, rto_max].
  Time rto() const { return rto_; }
  bool has_sample() const { return has_sample_; }
  Time srtt() const { return srtt_; }
  Time rttvar() const { return rttvar_; }

 private:
  bool has_sample_ = false;
  Time srtt_{};
  Time rttvar_{};
  Time rto_min_;
  Time rto_max_;
  Time rto_ = kRtoInitial;
};

// How long Linux waits before `boundary` exponential retransmissions starting
// from `rto_base` have all timed out: the time-based give-up of
// retransmits_timed_out(): doubling until `rto_max` (tcp_rto_max(sk), so a
// smaller tcp_rto_max_ms also shortens the give-up), linear after. E.g.
// boundary 6, base 1 s: 127 s.
Time model_timeout(int boundary, Time rto_base, Time rto_max = kRtoMax);

}  // namespace veer::core
