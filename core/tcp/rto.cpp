#include "core/tcp/rto.h"

#include <algorithm>
#include <bit>

namespace veer::core {

void RtoEstimator::sample(Time rtt) {
  if (rtt <= Time::zero()) rtt = std::chrono::microseconds(1);
  if (!has_sample_) {
    // RFC 6298 §2.2
    srtt_ = rtt;
    rttvar_ = rtt / 2;
    has_sample_ = true;
  } else {
    // RFC 6298 §2.3 with alpha 1/8, beta 1/4.
    Time delta = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
    rttvar_ = (3 * rttvar_ + delta) / 4;
    srtt_ = (7 * srtt_ + rtt) / 8;
  }
  // Linux keeps the variance term at least tcp_rto_min (tcp_rtt_estimator's
  // mdev_max), which makes RTO = srtt + max(4*rttvar, 200 ms) by default;
  // tcp_bound_rto() caps it at tcp_rto_max.
  rto_ = std::min(std::max(srtt_ + std::max(4 * rttvar_, rto_min_), rto_min_), rto_max_);
}

Time model_timeout(int boundary, Time rto_base, Time rto_max) {
  // tcp_model_timeout(): doubling until the RTO reaches the maximum, linear after.
  int thresh = std::bit_width(static_cast<uint64_t>(rto_max / rto_base)) - 1;  // ilog2
  if (boundary <= thresh) return ((int64_t{2} << boundary) - 1) * rto_base;
  return ((int64_t{2} << thresh) - 1) * rto_base + (boundary - thresh) * rto_max;
}

}  // namespace veer::core
