// The out-of-order queue of a receiving connection (Linux's
// tp->out_of_order_queue): data that arrived beyond RCV.NXT, held until the
// hole before it fills, with a bound on the bytes it may hold.
//
// Linux keeps the segments themselves in an rbtree and trims overlaps when
// they are released; this queue keeps the union of what arrived as sorted,
// disjoint runs of sequence space with their bytes. What a peer can observe —
// the bytes delivered, the FIN, the duplicates reported for D-SACK, what is
// pruned under memory pressure — follows tcp_data_queue_ofo(),
// tcp_ofo_queue() and tcp_prune_ofo_queue().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <optional>
#include <type_traits>
#include <vector>

#include "core/tcp/byte_ring.h"
#include "core/tcp/sack_blocks.h"
#include "core/types.h"

namespace veer::core {

// The queue's share of `netstat -s`, named after the Linux MIB counters.
struct ReassemblyStats {
  uint64_t queued = 0;        // TCPOFOQueue: segments taken into the queue
  uint64_t merged = 0;        // TCPOFOMerge: segments partly or wholly held already
  uint64_t dropped = 0;       // TCPOFODrop: segments refused for lack of memory
  uint64_t prunes = 0;        // OfoPruned: times data was dropped to make room
  uint64_t pruned_bytes = 0;  // bytes those prunes dropped
};

class ReassemblyQueue {
 public:
  enum class Outcome : uint8_t {
    Queued,     // something new is held now
    Duplicate,  // everything was held already
    NoMemory,   // over the bound even after pruning: the segment is dropped
    Ignored,    // nothing to hold: empty, or wholly beyond a queued FIN
  };

  struct Insertion {
    Outcome outcome = Outcome::Ignored;
    uint32_t new_bytes = 0;  // payload bytes not held before
    // The part already held, for the D-SACK (tcp_data_queue_ofo's
    // tcp_dsack_set / tcp_dsack_extend calls).
    std::optional<DuplicateReport> duplicate;
    // Bytes dropped from the top to make room; when non-zero Linux forgets
    // its SACK state (tcp_prune_ofo_queue calls tcp_sack_reset).
    size_t pruned_bytes = 0;
  };

  struct Release {
    uint32_t rcv_nxt = 0;  // RCV.NXT after the released bytes (a FIN not counted)
    size_t bytes = 0;      // bytes handed to the sink
    // The queued FIN sits at rcv_nxt: process it as an in-order FIN would be
    // (RCV.NXT + 1, tcp_fin). The rest of the queue is purged, as tcp_fin
    // does; tcp_fin also forgets the SACK state, this release's D-SACK with it.
    bool fin = false;
    // Queued data that the in-order data already covered (tcp_ofo_queue's
    // tcp_dsack_extend).
    std::optional<DuplicateReport> duplicate;
  };

  // `limit`: the most payload bytes the queue may hold.
  ReassemblyQueue(size_t limit, std::pmr::memory_resource* memory);

  // An acceptable segment that starts beyond RCV.NXT (the caller has trimmed
  // it to the window): `data` at `seq`, with a FIN after it if `fin`.
  Insertion insert(uint32_t seq, Bytes data, bool fin);

  // Hands `sink` the bytes that are contiguous with `rcv_nxt`, in order; call
  // it after in-order data advanced RCV.NXT. `sink(Bytes) -> size_t` returns
  // how many bytes it took; when it takes fewer, the rest stays queued.
  template <typename Sink>
  Release pop_in_order(uint32_t rcv_nxt, Sink&& sink) {
    using S = std::remove_reference_t<Sink>;
    return release(
        rcv_nxt, [](void* ctx, Bytes data) -> size_t { return (*static_cast<S*>(ctx))(data); },
        const_cast<void*>(static_cast<const void*>(std::addressof(sink))));
  }
  Release pop_in_order(uint32_t rcv_nxt, ByteRing& ring) {
    return pop_in_order(rcv_nxt, [&ring](Bytes data) { return ring.push(data); });
  }

  // Drops everything (tcp_fin's purge, a reset connection).
  void clear();

  bool empty() const { return runs_.empty(); }
  size_t bytes() const { return bytes_; }
  size_t limit() const { return limit_; }
  // A new bound takes effect at the next insert, as Linux prunes on arrival.
  void set_limit(size_t limit) { limit_ = limit; }
  // The held runs of sequence space, lowest first; a FIN counts as the last
  // sequence number of its run, as in a SACK block.
  size_t range_count() const { return runs_.size(); }
  SeqRange range(size_t i) const { return {runs_[i].left, runs_[i].right()}; }
  // Where the queued FIN sits (the sequence number it occupies), if one does.
  std::optional<uint32_t> fin_seq() const { return fin_seq_; }
  const ReassemblyStats& stats() const { return stats_; }

 private:
  // Sequence space [left, right()) held contiguously: bytes, then maybe the FIN.
  struct Run {
    uint32_t left = 0;
    std::pmr::vector<std::byte> data;
    bool fin = false;
    uint32_t data_end() const { return left + static_cast<uint32_t>(data.size()); }
    uint32_t right() const { return data_end() + (fin ? 1 : 0); }
  };
  using SinkFn = size_t (*)(void* ctx, Bytes data);

  Release release(uint32_t rcv_nxt, SinkFn sink, void* ctx);
  // Index of the first run that ends at or after `seq`.
  size_t first_reaching(uint32_t seq) const;
  // Payload bytes of [seq, seq + len) the runs already hold.
  size_t held_within(uint32_t seq, size_t len) const;
  std::optional<DuplicateReport> duplicate_of(uint32_t seq, uint32_t end) const;
  // Drops held bytes at and above `seq` (a lower FIN arrived).
  void truncate_from(uint32_t seq);
  // tcp_prune_ofo_queue(): frees at least `needed` bytes from the highest
  // sequence down, only bytes at or above `floor`. Returns the bytes freed.
  size_t prune(uint32_t floor, size_t needed);
  void merge(uint32_t seq, Bytes data, bool fin);

  std::pmr::memory_resource* memory_;
  std::pmr::vector<Run> runs_;
  size_t bytes_ = 0;
  size_t limit_;
  std::optional<uint32_t> fin_seq_;
  ReassemblyStats stats_;
};

}  // namespace veer::core
