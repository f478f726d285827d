// Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4).
#pragma once

#include <cstdint>

namespace veer::core {

constexpr bool seq_lt(uint32_t a, uint32_t b) {
  return int32_t(a - b) < 0;
}
constexpr bool seq_le(uint32_t a, uint32_t b) {
  return int32_t(a - b) <= 0;
}
constexpr bool seq_gt(uint32_t a, uint32_t b) {
  return int32_t(a - b) > 0;
}
constexpr bool seq_ge(uint32_t a, uint32_t b) {
  return int32_t(a - b) >= 0;
}
// a <= x < b
constexpr bool seq_in(uint32_t x, uint32_t a, uint32_t b) {
  return seq_le(a, x) && seq_lt(x, b);
}

}  // namespace veer::core
