// Stream contents and printers shared by the reassembly tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <vector>

#include "core/tcp/sack_blocks.h"
#include "core/wire/tcp.h"

namespace veer::test {

// The byte the sender put at sequence number `seq`: every copy of a segment,
// however it was cut, carries the same bytes.
inline std::byte stream_byte(uint32_t seq) {
  return std::byte(static_cast<uint8_t>(seq * 131u + (seq >> 8) + 7u));
}

inline std::vector<std::byte> stream(uint32_t seq, size_t len) {
  std::vector<std::byte> out(len);
  for (size_t i = 0; i < len; ++i) out[i] = stream_byte(seq + static_cast<uint32_t>(i));
  return out;
}

inline std::vector<wire::SackBlock> to_vector(const core::SackBlocks& b) {
  return {b.block.begin(), b.block.begin() + b.count};
}

}  // namespace veer::test

namespace veer::wire {
inline void PrintTo(const SackBlock& b, std::ostream* os) {
  *os << b.left << ":" << b.right;
}
}  // namespace veer::wire

namespace veer::core {
inline void PrintTo(const SeqRange& r, std::ostream* os) {
  *os << "[" << r.left << "," << r.right << ")";
}
inline void PrintTo(const DuplicateReport& d, std::ostream* os) {
  *os << (d.op == DsackOp::Set ? "set " : "extend ");
  PrintTo(d.range, os);
}
}  // namespace veer::core
