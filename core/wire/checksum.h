// The Internet checksum (RFC 1071) and the TCP/UDP pseudo-header sum.
#pragma once

#include <cstdint>

#include "core/types.h"

namespace veer::wire {

// Adds `data` to a running 32-bit ones'-complement accumulator. The data is
// treated as a sequence of 16-bit big-endian words; an odd trailing byte is
// padded with zero (so only the last chunk of a sum may have odd length).
uint32_t checksum_add(uint32_t acc, Bytes data);
// Folds the accumulator and returns the ones' complement, ready to store.
uint16_t checksum_finish(uint32_t acc);
inline uint16_t checksum(Bytes data) {
  return checksum_finish(checksum_add(0, data));
}

// Pseudo-header of RFC 9293 §3.1 for IPv4.
uint32_t pseudo_header_sum(Ipv4Addr src, Ipv4Addr dst, uint8_t protocol, uint16_t length);

}  // namespace veer::wire
