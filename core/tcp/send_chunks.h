// The send queue as Linux's tcp_sendmsg() cuts it into skbs: a chunk is
// filled up to the size goal (xmit_size_goal()), may carry the PSH mark
// (tcp_mark_push()), and costs skb_truesize() of send buffer on top of its
// bytes until it is fully acknowledged (sk_wmem_queued). The bytes
// themselves live in the connection's ByteRing; this keeps the boundaries.
#pragma once

#include <algorithm>
#include <deque>
#include <memory_resource>

#include "core/tcp/seq.h"

namespace veer::core {

class SendChunks {
 public:
  explicit SendChunks(std::pmr::memory_resource* memory) : chunks_(memory) {}

  bool empty() const { return chunks_.empty(); }
  size_t count() const { return chunks_.size(); }
  // Where the last chunk starts (only when not empty).
  uint32_t tail_start() const { return chunks_.back().start; }

  // A new, empty chunk at `seq` (tcp_skb_entail()).
  void open(uint32_t seq) { chunks_.push_back(Chunk{seq, seq, false}); }
  // The last chunk now ends at `end`.
  void extend(uint32_t end) { chunks_.back().end = end; }
  void set_tail_push(bool on) {
    if (!chunks_.empty()) chunks_.back().psh = on;
  }
  // Chunks wholly below `una` are acknowledged and freed (tcp_clean_rtx_queue()).
  void release(uint32_t una) {
    while (!chunks_.empty() && seq_le(chunks_.front().end, una)) chunks_.pop_front();
  }
  // Does a PSH-marked chunk end in (begin, end]? A segment that carries it
  // carries the chunk's PSH.
  bool push_within(uint32_t begin, uint32_t end) const {
    auto it = std::partition_point(chunks_.begin(), chunks_.end(),
                                   [&](const Chunk& c) { return seq_le(c.end, begin); });
    for (; it != chunks_.end() && seq_le(it->end, end); ++it) {
      if (it->psh) return true;
    }
    return false;
  }

 private:
  struct Chunk {
    uint32_t start;
    uint32_t end;
    bool psh;
  };
  std::pmr::deque<Chunk> chunks_;
};

}  // namespace veer::core
