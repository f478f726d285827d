// Linux's one transmit timer per connection (icsk_pending/icsk_timeout):
// the RTO, the tail-loss-probe timer and RACK's reordering timer share it,
// and each arming replaces the previous one. Which of them is pending changes
// how the RTO is re-armed (tcp_rearm_rto()), so the kind is kept with the
// deadline.
#pragma once

#include <optional>

#include "core/types.h"

namespace veer::core {

enum class XmitTimerKind : uint8_t {
  None,
  Retransmit,      // ICSK_TIME_RETRANS: the RTO
  LossProbe,       // ICSK_TIME_LOSS_PROBE: TLP
  ReorderTimeout,  // ICSK_TIME_REO_TIMEOUT: RACK's reordering window ends
};

struct XmitTimer {
  XmitTimerKind kind = XmitTimerKind::None;
  Time at{};

  void set(XmitTimerKind k, Time when) {
    kind = k;
    at = when;
  }
  void clear() { kind = XmitTimerKind::None; }
  std::optional<Time> deadline() const {
    if (kind == XmitTimerKind::None) return std::nullopt;
    return at;
  }
  // The kind that is due at `now`, or None.
  XmitTimerKind due(Time now) const {
    return kind != XmitTimerKind::None && now >= at ? kind : XmitTimerKind::None;
  }
};

}  // namespace veer::core
