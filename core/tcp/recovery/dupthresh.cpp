#include "core/tcp/recovery/dupthresh.h"

namespace veer::core {

void mark_head_lost(RetransmitQueue& q, uint32_t packets, bool mark_head) {
  // SACKs may show losses among data sent during recovery too, up to SND.NXT.
  const uint32_t loss_high = q.snd_nxt();
  uint32_t cnt = 0;
  q.for_each_by_seq([&](const SentSegment& s) {
    if (seq_gt(s.end, loss_high)) return RetransmitQueue::Visit::Stop;
    if (s.sacked) ++cnt;
    if (cnt > packets) return RetransmitQueue::Visit::Stop;
    if (!s.lost) q.mark_lost(s.seq);
    return mark_head ? RetransmitQueue::Visit::Stop : RetransmitQueue::Visit::Continue;
  });
}

void update_scoreboard(RetransmitQueue& q, uint32_t reordering, bool fast_rexmit) {
  if (q.sacked_out() >= reordering) {
    mark_head_lost(q, q.sacked_out() - reordering, false);
  } else if (fast_rexmit) {
    mark_head_lost(q, 1, true);
  }
}

void newreno_mark_lost(RetransmitQueue& q, CaState state, uint32_t reordering, bool una_advanced) {
  if ((state < CaState::Recovery && q.sacked_out() >= reordering) ||
      (state == CaState::Recovery && una_advanced)) {
    const SentSegment* head = q.head();
    if (head == nullptr || head->lost) return;
    q.mark_lost(head->seq);
  }
}

}  // namespace veer::core
