// RACK loss detection (RFC 8985 §6) as Linux implements it in
// net/ipv4/tcp_recovery.c: a segment is lost when a segment sent after it was
// delivered and more than RACK.rtt + reo_wnd has passed since it left.
// reo_wnd is min_rtt/4 scaled by D-SACK-driven steps
// (tcp_rack_update_reo_wnd), or zero when no reordering was seen and the
// dupthresh shortcut applies (tcp_rack_reo_wnd).
#pragma once

#include <cstdint>
#include <optional>

#include "core/tcp/recovery/recovery_types.h"
#include "core/tcp/recovery/retransmit_queue.h"

namespace veer::core {

// What the reordering window depends on.
struct RackContext {
  CaState state = CaState::Open;
  uint32_t reord_seen = 0;  // tp->reord_seen: reordering events observed
  uint32_t sacked_out = 0;
  uint32_t reordering = 3;            // tp->reordering
  int recovery = kRackLossDetection;  // net.ipv4.tcp_recovery
  std::optional<Time> min_rtt;
  std::optional<Time> srtt;
};

class Rack {
 public:
  // Linux TCP_RACK_RECOVERY_THRESH: recoveries a widened reo_wnd persists.
  static constexpr uint8_t kRecoveryThresh = 16;

  // tcp_rack_advance() over the segments one ACK delivered.
  void advance(const AckResult& r);

  // tcp_rack_reo_wnd().
  Time reo_wnd(const RackContext& c) const;

  struct Detection {
    uint32_t newly_lost = 0;
    // The longest time a not-yet-lost segment still has (the reordering timer).
    std::optional<Time> wait;
  };
  // tcp_rack_detect_loss(): marks what is lost now.
  Detection detect_loss(RetransmitQueue& q, Time now, const RackContext& c);
  // tcp_rack_mark_lost(): only when RACK advanced since the last scan.
  std::optional<Detection> mark_lost(RetransmitQueue& q, Time now, const RackContext& c);

  // tcp_rack_update_reo_wnd(), once per ACK: `prior_delivered` is the
  // delivered count when the most recently sent delivered segment left
  // (0: nothing delivered), `delivered` the count now.
  void update_reo_wnd(uint32_t prior_delivered, uint32_t delivered, int recovery);
  // tcp_dsack_seen(): a D-SACK that may come from reordering (not from TLP).
  void on_dsack() { dsack_seen_ = true; }
  // tcp_try_undo_recovery() without undo: one fewer recovery to persist.
  void on_recovery_end() {
    if (reo_wnd_persist_ > 0) --reo_wnd_persist_;
  }
  // tcp_try_undo_dsack(): the recovery was spurious; persist the window.
  void on_dsack_undo() {
    if (reo_wnd_persist_ < kRecoveryThresh) ++reo_wnd_persist_;
  }
  // tcp_undo_cwnd_reduction(): force RACK to re-examine losses.
  void force_recheck() { advanced_ = true; }

  bool has_sample() const { return has_xmit_; }
  Time xmit_time() const { return xmit_; }   // RACK.xmit_ts
  uint32_t end_seq() const { return end_; }  // RACK.end_seq
  Time rtt() const { return rtt_; }          // RACK.rtt
  bool advanced() const { return advanced_; }
  uint32_t reo_wnd_steps() const { return reo_wnd_steps_; }
  uint8_t reo_wnd_persist() const { return reo_wnd_persist_; }

 private:
  bool has_xmit_ = false;
  Time xmit_{};
  uint64_t order_ = 0;
  uint32_t end_ = 0;
  Time rtt_{};
  bool advanced_ = false;
  uint32_t reo_wnd_steps_ = 1;
  uint8_t reo_wnd_persist_ = 0;
  bool dsack_seen_ = false;
  uint32_t last_delivered_ = 0;
};

}  // namespace veer::core
