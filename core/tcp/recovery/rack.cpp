#include "core/tcp/recovery/rack.h"

#include <algorithm>

namespace veer::core {

void Rack::advance(const AckResult& r) {
  if (!r.rack_advanced) return;
  advanced_ = true;
  // Linux keeps the RTT of the last segment processed, and moves the
  // reference point only forward in send order.
  rtt_ = r.rack_rtt;
  if (!has_xmit_ || sent_after(r.rack_xmit, r.rack_order, r.rack_end, xmit_, order_, end_)) {
    xmit_ = r.rack_xmit;
    order_ = r.rack_order;
    end_ = r.rack_end;
    has_xmit_ = true;
  }
}

Time Rack::reo_wnd(const RackContext& c) const {
  if (c.reord_seen == 0) {
    // No reordering seen: be aggressive in recovery, and when dupthresh
    // SACKed segments already sit above the hole (RFC 8985 §6.2 step 4).
    if (c.state >= CaState::Recovery) return Time::zero();
    if (c.sacked_out >= c.reordering && !(c.recovery & kRackNoDupthresh)) return Time::zero();
  }
  // min_rtt/4 per step, at most SRTT. Before any RTT sample Linux's min_rtt
  // is ~0U, so the bound is SRTT (or zero).
  Time srtt = c.srtt.value_or(Time::zero());
  if (!c.min_rtt) return srtt;
  return std::min((*c.min_rtt / 4) * reo_wnd_steps_, srtt);
}

Rack::Detection Rack::detect_loss(RetransmitQueue& q, Time now, const RackContext& c) {
  Detection d;
  const Time wnd = reo_wnd(c);
  q.for_each_by_send_time([&](const SentSegment& s) {
    // Marked lost and not yet retransmitted: nothing new to learn.
    if (s.lost && !s.retrans_in_flight) return RetransmitQueue::Visit::Continue;
    if (!has_xmit_ || !sent_after(xmit_, order_, end_, s.sent, s.order, s.end))
      return RetransmitQueue::Visit::Stop;
    Time remaining = rtt_ + wnd - (now - s.sent);
    if (remaining <= Time::zero()) {
      ++d.newly_lost;
      return RetransmitQueue::Visit::MarkLost;
    }
    d.wait = d.wait ? std::max(*d.wait, remaining) : remaining;
    return RetransmitQueue::Visit::Continue;
  });
  return d;
}

std::optional<Rack::Detection> Rack::mark_lost(RetransmitQueue& q, Time now, const RackContext& c) {
  if (!advanced_) return std::nullopt;
  advanced_ = false;  // avoid rescanning until RACK moves again
  return detect_loss(q, now, c);
}

void Rack::update_reo_wnd(uint32_t prior_delivered, uint32_t delivered, int recovery) {
  if ((recovery & kRackStaticReoWnd) || prior_delivered == 0) return;
  // A D-SACK for data sent before the last adjustment is no news: at most
  // one step per round trip.
  if (seq_lt(prior_delivered, last_delivered_)) dsack_seen_ = false;
  if (dsack_seen_) {
    reo_wnd_steps_ = std::min<uint32_t>(0xff, reo_wnd_steps_ + 1);
    dsack_seen_ = false;
    last_delivered_ = delivered;
    reo_wnd_persist_ = kRecoveryThresh;
  } else if (reo_wnd_persist_ == 0) {
    reo_wnd_steps_ = 1;
  }
}

}  // namespace veer::core
