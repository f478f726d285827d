// IPv4 header (RFC 791): validation on receive, emission without fragmentation.
#pragma once

#include "core/types.h"

namespace veer::wire {

inline constexpr size_t kIpv4MinHeaderLen = 20;
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;

struct Ipv4Header {
  uint8_t tos = 0;
  uint16_t id = 0;
  bool dont_fragment = true;
  bool more_fragments = false;
  uint16_t fragment_offset = 0;  // in bytes
  uint8_t ttl = 64;
  uint8_t protocol = 0;
  Ipv4Addr src;
  Ipv4Addr dst;
  bool is_fragment() const { return more_fragments || fragment_offset != 0; }
};

struct Ipv4Packet {
  Ipv4Header header;
  Bytes payload;  // trimmed to the header's total length (Ethernet padding removed)
};

enum class Ipv4Error { Truncated, BadVersion, BadHeaderLength, BadTotalLength, BadChecksum };

// Parse = check + decode. On error, *error says why (for the counters).
std::optional<Ipv4Packet> parse_ipv4(Bytes packet, Ipv4Error* error);
// Writes a 20-byte header (no options) for a payload of `payload_len` bytes.
void emit_ipv4(const Ipv4Header& h, size_t payload_len, MutableBytes out);

}  // namespace veer::wire
