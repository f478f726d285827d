#include "core/wire/checksum.h"

namespace veer::wire {

uint32_t checksum_add(uint32_t acc, Bytes data) {
  // 64-bit accumulation of 32-bit words keeps the loop short; folded at the end.
  uint64_t sum = acc;
  size_t i = 0;
  const std::byte* p = data.data();
  for (; i + 4 <= data.size(); i += 4) {
    sum += (uint32_t(p[i]) << 24) | (uint32_t(p[i + 1]) << 16) | (uint32_t(p[i + 2]) << 8) |
           uint32_t(p[i + 3]);
  }
  for (; i + 2 <= data.size(); i += 2) sum += (uint32_t(p[i]) << 8) | uint32_t(p[i + 1]);
  if (i < data.size()) sum += uint32_t(p[i]) << 8;
  while (sum >> 32) sum = (sum & 0xffffffffu) + (sum >> 32);
  return static_cast<uint32_t>(sum);
}

uint16_t checksum_finish(uint32_t acc) {
  uint32_t sum = (acc & 0xffff) + (acc >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

uint32_t pseudo_header_sum(Ipv4Addr src, Ipv4Addr dst, uint8_t protocol, uint16_t length) {
  uint64_t sum = (src.v >> 16) + (src.v & 0xffff) + (dst.v >> 16) + (dst.v & 0xffff) +
                 uint32_t(protocol) + uint32_t(length);
  while (sum >> 32) sum = (sum & 0xffffffffu) + (sum >> 32);
  return static_cast<uint32_t>(sum);
}

}  // namespace veer::wire
