#include "core/tcp/recovery/min_rtt_filter.h"

namespace veer::core {

void MinRttFilter::update(Time now, Time rtt) {
  const Sample val{now, rtt};
  // A new minimum, or nothing left in the window: forget older samples.
  if (!valid_ || rtt <= s_[0].rtt || now - s_[2].at > window_) {
    reset(val);
    valid_ = true;
    return;
  }
  if (rtt <= s_[1].rtt) {
    s_[2] = s_[1] = val;
  } else if (rtt <= s_[2].rtt) {
    s_[2] = val;
  }
  // minmax_subwin_update(): age the choices out of the window's quarters.
  Time dt = now - s_[0].at;
  if (dt > window_) {
    s_[0] = s_[1];
    s_[1] = s_[2];
    s_[2] = val;
    if (now - s_[0].at > window_) {
      s_[0] = s_[1];
      s_[1] = s_[2];
      s_[2] = val;
    }
  } else if (s_[1].at == s_[0].at && dt > window_ / 4) {
    s_[2] = s_[1] = val;
  } else if (s_[2].at == s_[1].at && dt > window_ / 2) {
    s_[2] = val;
  }
}

}  // namespace veer::core
