// The two window-growth primitives every Linux algorithm builds on
// (tcp_cong.c): slow start and additive increase, both counting delivered
// segments, never bytes (a stretch ACK counts for what it delivered).
#pragma once

#include <cstdint>

#include "core/tcp/congestion/congestion_state.h"

namespace veer::core {

// tcp_slow_start(): cwnd += acked, but not past ssthresh. Returns the acked
// segments left over once ssthresh is reached, for congestion avoidance.
uint32_t slow_start(TcpCongestionState& s, uint32_t acked);

// tcp_cong_avoid_ai(): one more segment of cwnd per `w` segments delivered
// ("cwnd += 1/w per segment"), with the credit kept in snd_cwnd_cnt.
void cong_avoid_ai(TcpCongestionState& s, uint32_t w, uint32_t acked);

}  // namespace veer::core
