// Big-endian loads and stores on byte spans. Callers check lengths first.
#pragma once

#include <cstddef>
#include <cstdint>

namespace veer::wire {

inline uint16_t load16(const std::byte* p) {
  return static_cast<uint16_t>((uint16_t(p[0]) << 8) | uint16_t(p[1]));
}
inline uint32_t load32(const std::byte* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}
inline void store16(std::byte* p, uint16_t v) {
  p[0] = std::byte(v >> 8);
  p[1] = std::byte(v & 0xff);
}
inline void store32(std::byte* p, uint32_t v) {
  p[0] = std::byte(v >> 24);
  p[1] = std::byte((v >> 16) & 0xff);
  p[2] = std::byte((v >> 8) & 0xff);
  p[3] = std::byte(v & 0xff);
}

}  // namespace veer::wire
