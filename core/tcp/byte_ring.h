// A byte ring that grows on demand: the send and receive buffers of a
// connection. Storage comes from the stack's memory resource.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory_resource>
#include <vector>

#include "core/types.h"

namespace veer::core {

// The smallest a ring grows to from empty.
inline constexpr size_t kRingStep = 4096;

class ByteRing {
 public:
  ByteRing(size_t capacity, std::pmr::memory_resource* memory) : buf_(capacity, memory) {}

  size_t capacity() const { return buf_.size(); }
  size_t size() const { return size_; }
  size_t free() const { return buf_.size() - size_; }
  bool empty() const { return size_ == 0; }

  // Appends as much of `data` as fits; returns the number of bytes taken.
  size_t push(Bytes data) {
    size_t n = std::min(data.size(), free());
    size_t tail = (head_ + size_) % cap();
    size_t first = std::min(n, cap() - tail);
    std::memcpy(buf_.data() + tail, data.data(), first);
    std::memcpy(buf_.data(), data.data() + first, n - first);
    size_ += n;
    return n;
  }
  // Copies up to out.size() bytes starting `offset` bytes past the head.
  size_t peek(size_t offset, MutableBytes out) const {
    if (offset >= size_) return 0;
    size_t n = std::min(out.size(), size_ - offset);
    size_t start = (head_ + offset) % cap();
    size_t first = std::min(n, cap() - start);
    std::memcpy(out.data(), buf_.data() + start, first);
    std::memcpy(out.data() + first, buf_.data(), n - first);
    return n;
  }
  // Grows the ring to `capacity` bytes (never shrinks), keeping the data.
  // The socket buffer limits (sk_sndbuf, sk_rcvbuf) are the connection's
  // to enforce; the ring grows to hold what they admit.
  void grow(size_t capacity) {
    if (capacity <= buf_.size()) return;
    std::pmr::vector<std::byte> bigger(capacity, buf_.get_allocator());
    peek(0, MutableBytes(bigger.data(), size_));
    buf_.swap(bigger);
    head_ = 0;
  }
  void pop(size_t n) {
    n = std::min(n, size_);
    head_ = size_ == n ? 0 : (head_ + n) % cap();
    size_ -= n;
  }

 private:
  size_t cap() const { return buf_.empty() ? 1 : buf_.size(); }
  std::pmr::vector<std::byte> buf_;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace veer::core
