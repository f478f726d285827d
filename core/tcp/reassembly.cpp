#include "core/tcp/reassembly.h"

#include <algorithm>

#include "core/tcp/seq.h"

namespace veer::core {

ReassemblyQueue::ReassemblyQueue(size_t limit, std::pmr::memory_resource* memory)
    : memory_(memory), runs_(memory), limit_(limit) {}

ReassemblyQueue::Insertion ReassemblyQueue::insert(uint32_t seq, Bytes data, bool fin) {
  Insertion result;
  // Nothing follows a FIN. Linux would queue such bytes but never deliver
  // them (tcp_fin purges the queue when the FIN is reached), so they are not
  // held here at all.
  if (fin_seq_) {
    uint32_t f = *fin_seq_;
    if (seq_gt(seq + static_cast<uint32_t>(data.size()), f)) {
      data = seq_lt(seq, f) ? data.first(f - seq) : Bytes{};
      fin = false;  // its FIN lies beyond the queued one
    }
  }
  if (data.empty() && !fin) return result;

  const uint32_t data_end = seq + static_cast<uint32_t>(data.size());
  const uint32_t end = data_end + (fin ? 1 : 0);
  const bool fin_held = fin && fin_seq_ == data_end;
  const size_t new_bytes = data.size() - held_within(seq, data.size());

  // tcp_try_rmem_schedule(): over the bound, make room from the top of the
  // queue; if that is not enough the segment is dropped (TCPOFODrop), and
  // Linux neither D-SACKs nor SACKs it.
  if (bytes_ + new_bytes > limit_) {
    result.pruned_bytes = prune(end, bytes_ + new_bytes - limit_);
    if (bytes_ + new_bytes > limit_) {
      ++stats_.dropped;
      result.outcome = Outcome::NoMemory;
      return result;
    }
  }

  ++stats_.queued;
  result.duplicate = duplicate_of(seq, end);
  result.new_bytes = static_cast<uint32_t>(new_bytes);
  if (new_bytes < data.size() || fin_held) ++stats_.merged;
  if (new_bytes == 0 && (!fin || fin_held)) {
    result.outcome = Outcome::Duplicate;
    return result;
  }
  if (fin && (!fin_seq_ || seq_lt(data_end, *fin_seq_))) {
    // A FIN below the queued one (or the first): whatever lies beyond it
    // could never be delivered.
    truncate_from(data_end);
    fin_seq_ = data_end;
  }
  merge(seq, data, fin);
  result.outcome = Outcome::Queued;
  return result;
}

size_t ReassemblyQueue::first_reaching(uint32_t seq) const {
  // Runs are sorted and disjoint, so their right edges ascend too.
  auto it = std::partition_point(runs_.begin(), runs_.end(),
                                 [seq](const Run& r) { return seq_lt(r.right(), seq); });
  return static_cast<size_t>(it - runs_.begin());
}

size_t ReassemblyQueue::held_within(uint32_t seq, size_t len) const {
  const uint32_t end = seq + static_cast<uint32_t>(len);
  size_t held = 0;
  for (size_t i = first_reaching(seq); i < runs_.size(); ++i) {
    const Run& r = runs_[i];
    if (seq_ge(r.left, end)) break;
    uint32_t lo = seq_gt(r.left, seq) ? r.left : seq;
    uint32_t hi = seq_lt(r.data_end(), end) ? r.data_end() : end;
    if (seq_lt(lo, hi)) held += hi - lo;
  }
  return held;
}

std::optional<DuplicateReport> ReassemblyQueue::duplicate_of(uint32_t seq, uint32_t end) const {
  size_t i = first_reaching(seq);
  if (i == runs_.size()) return std::nullopt;
  const Run& r = runs_[i];
  const uint32_t right = r.right();
  if (seq_le(r.left, seq) && seq_lt(seq, right)) {
    // tcp_data_queue_ofo(), the segment starts inside a queued one: all of
    // it was there ("All the bits are present"), or its head was (partial
    // overlap), or it starts where the queued one does and covers it
    // (rb_replace_node, reported with tcp_dsack_extend).
    if (seq_le(end, right)) return DuplicateReport{{seq, end}, DsackOp::Set};
    if (seq != r.left) return DuplicateReport{{seq, right}, DsackOp::Set};
    return DuplicateReport{{r.left, right}, DsackOp::Extend};
  }
  // Starting exactly where a queued run ends, Linux appends the segment to it
  // (tcp_ooo_try_coalesce) and never looks at what it overlaps further on.
  if (right == seq) return std::nullopt;
  // Starting in a hole, the segment covers the runs after it (merge_right):
  // the first one it reaches is reported. Later ones could only extend a
  // D-SACK that touches them, and they are not adjacent to the first.
  if (seq_lt(r.left, end)) {
    return DuplicateReport{{r.left, seq_lt(end, right) ? end : right}, DsackOp::Extend};
  }
  return std::nullopt;
}

void ReassemblyQueue::merge(uint32_t seq, Bytes data, bool fin) {
  const uint32_t data_end = seq + static_cast<uint32_t>(data.size());
  const uint32_t end = data_end + (fin ? 1 : 0);
  size_t i = first_reaching(seq);
  size_t j = i;  // runs [i, j) overlap or touch [seq, end)
  while (j < runs_.size() && seq_le(runs_[j].left, end)) ++j;

  if (i == j) {
    Run run{seq, std::pmr::vector<std::byte>(data.begin(), data.end(), memory_), fin};
    runs_.insert(runs_.begin() + static_cast<ptrdiff_t>(i), std::move(run));
    bytes_ += data.size();
    return;
  }

  size_t old_bytes = 0;
  for (size_t k = i; k < j; ++k) old_bytes += runs_[k].data.size();
  Run& first = runs_[i];
  Run& last = runs_[j - 1];
  const bool keep_first = seq_le(first.left, seq);
  const uint32_t left = keep_first ? first.left : seq;
  const bool fin_out = fin || last.fin;

  // Where both hold a byte the queued one stays, as Linux delivers the
  // earlier skb and skips the overlap of the later one.
  std::pmr::vector<std::byte> out(memory_);
  if (keep_first) {
    out = std::move(first.data);
    uint32_t have = left + static_cast<uint32_t>(out.size());
    if (seq_lt(have, data_end)) {
      Bytes more = data.subspan(have - seq);
      out.insert(out.end(), more.begin(), more.end());
    }
  } else {
    out.assign(data.begin(), data.end());
  }
  if (j - 1 != i || !keep_first) {
    uint32_t have = left + static_cast<uint32_t>(out.size());
    if (seq_gt(last.data_end(), have)) {
      Bytes tail = Bytes(last.data).subspan(have - last.left);
      out.insert(out.end(), tail.begin(), tail.end());
    }
  }

  first.left = left;
  first.data = std::move(out);
  first.fin = fin_out;
  bytes_ = bytes_ - old_bytes + first.data.size();
  runs_.erase(runs_.begin() + static_cast<ptrdiff_t>(i + 1),
              runs_.begin() + static_cast<ptrdiff_t>(j));
}

void ReassemblyQueue::truncate_from(uint32_t seq) {
  while (!runs_.empty()) {
    Run& r = runs_.back();
    if (seq_ge(r.left, seq)) {
      bytes_ -= r.data.size();
      runs_.pop_back();
      continue;
    }
    if (seq_gt(r.data_end(), seq)) {
      size_t keep = seq - r.left;
      bytes_ -= r.data.size() - keep;
      r.data.resize(keep);
    }
    r.fin = false;
    break;
  }
  fin_seq_.reset();
}

size_t ReassemblyQueue::prune(uint32_t floor, size_t needed) {
  // tcp_prune_ofo_queue() frees sk_rcvbuf / 8 at a time, from the highest
  // sequence down, until the new segment fits; it keeps whatever the segment
  // would land after, so that holes below it can still be filled.
  const size_t chunk = std::max<size_t>(limit_ / 8, 1);
  const size_t target = (needed + chunk - 1) / chunk * chunk;
  size_t freed = 0;
  bool pruned = false;
  while (!runs_.empty() && freed < target) {
    Run& r = runs_.back();
    if (seq_le(r.right(), floor)) break;
    // The FIN is the highest thing held: it goes first.
    if (r.fin) {
      r.fin = false;
      fin_seq_.reset();
    }
    pruned = true;
    uint32_t lo = seq_gt(r.left, floor) ? r.left : floor;
    size_t prunable = seq_gt(r.data_end(), lo) ? r.data_end() - lo : 0;
    size_t cut = std::min(prunable, target - freed);
    r.data.resize(r.data.size() - cut);
    bytes_ -= cut;
    freed += cut;
    if (!r.data.empty()) break;  // the target is met or the rest lies below `floor`
    runs_.pop_back();
  }
  if (pruned) {
    ++stats_.prunes;
    stats_.pruned_bytes += freed;
  }
  return freed;
}

ReassemblyQueue::Release ReassemblyQueue::release(uint32_t rcv_nxt, SinkFn sink, void* ctx) {
  Release out;
  out.rcv_nxt = rcv_nxt;
  // tcp_ofo_queue(): queued data below the RCV.NXT it started from arrived
  // twice, once out of order and once in order; the first such run is the
  // D-SACK (only ranges touching it could extend it, and runs never touch).
  const uint32_t dsack_high = rcv_nxt;
  size_t done = 0;
  while (done < runs_.size()) {
    Run& r = runs_[done];
    if (seq_gt(r.left, out.rcv_nxt)) break;
    if (!out.duplicate && seq_lt(r.left, dsack_high)) {
      uint32_t hi = seq_lt(r.right(), dsack_high) ? r.right() : dsack_high;
      out.duplicate = DuplicateReport{{r.left, hi}, DsackOp::Extend};
    }
    if (seq_le(r.right(), out.rcv_nxt)) {
      bytes_ -= r.data.size();
      if (r.fin) fin_seq_.reset();
      ++done;
      continue;
    }
    size_t offset = out.rcv_nxt - r.left;
    if (offset < r.data.size()) {
      Bytes rest = Bytes(r.data).subspan(offset);
      size_t took = std::min(sink(ctx, rest), rest.size());
      out.rcv_nxt += static_cast<uint32_t>(took);
      out.bytes += took;
      if (took < rest.size()) {
        // The reader's buffer is full: the rest stays queued from RCV.NXT on.
        r.data.erase(r.data.begin(), r.data.begin() + static_cast<ptrdiff_t>(offset + took));
        r.left = out.rcv_nxt;
        bytes_ -= offset + took;
        break;
      }
    }
    bytes_ -= r.data.size();
    ++done;
    if (r.fin) {
      out.fin = true;
      break;
    }
  }
  if (out.fin) {
    clear();  // tcp_fin() purges the out-of-order queue
  } else {
    runs_.erase(runs_.begin(), runs_.begin() + static_cast<ptrdiff_t>(done));
  }
  return out;
}

void ReassemblyQueue::clear() {
  runs_.clear();
  bytes_ = 0;
  fin_seq_.reset();
}

}  // namespace veer::core
