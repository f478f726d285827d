// NewReno congestion control as Linux's built-in "reno" (tcp_cong.c):
// slow start to ssthresh, then one segment per window of delivered segments;
// ssthresh halves on loss. The loss recovery itself (RFC 6582 partial ACKs,
// SACK) is the connection's; PRR shapes cwnd during it.
#pragma once

#include "core/tcp/congestion/congestion_control.h"

namespace veer::core {

// tcp_reno_ssthresh(): half the window, at least 2.
uint32_t reno_ssthresh(const TcpCongestionState& s);
// tcp_reno_undo_cwnd(): back to the window before the reduction.
uint32_t reno_undo_cwnd(const TcpCongestionState& s);

class Reno final : public CongestionControl {
 public:
  static constexpr std::string_view kName = "reno";

  std::string_view name() const override { return kName; }
  void init(TcpCongestionState&, const SendProgress&) override {}
  uint32_t ssthresh(const TcpCongestionState& s) override { return reno_ssthresh(s); }
  // tcp_reno_cong_avoid()
  void cong_avoid(TcpCongestionState& s, uint32_t acked, Time now) override;
  uint32_t undo_cwnd(const TcpCongestionState& s) override { return reno_undo_cwnd(s); }
};

}  // namespace veer::core
