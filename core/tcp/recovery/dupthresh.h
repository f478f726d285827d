// Classic loss marking for when RACK is off (net.ipv4.tcp_recovery without
// bit 1): RFC 6675's rule that a segment is lost once `reordering` (dupthresh,
// 3) segments above it are SACKed, as Linux's tcp_update_scoreboard() and
// tcp_mark_head_lost(); and, for peers without SACK, the NewReno rule
// (RFC 6582) of tcp_newreno_mark_lost(): the head is lost after dupthresh
// duplicate ACKs, and again after each partial ACK in recovery.
#pragma once

#include <cstdint>

#include "core/tcp/recovery/recovery_types.h"
#include "core/tcp/recovery/retransmit_queue.h"

namespace veer::core {

// tcp_mark_head_lost(): from the head, marks entries lost until more than
// `packets` SACKed entries have been passed; only the head when `mark_head`.
void mark_head_lost(RetransmitQueue& q, uint32_t packets, bool mark_head);

// tcp_update_scoreboard() for a SACK connection.
void update_scoreboard(RetransmitQueue& q, uint32_t reordering, bool fast_rexmit);

// tcp_newreno_mark_lost(); `sacked_out` is the dupack estimate.
void newreno_mark_lost(RetransmitQueue& q, CaState state, uint32_t reordering, bool una_advanced);

}  // namespace veer::core
