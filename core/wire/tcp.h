// TCP header and options (RFC 9293 §3.1, RFC 7323, RFC 2018).
#pragma once

#include <array>
#include <optional>

#include "core/types.h"

namespace veer::wire {

inline constexpr size_t kTcpMinHeaderLen = 20;
inline constexpr size_t kTcpMaxOptionsLen = 40;

namespace tcpflag {
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
inline constexpr uint8_t kUrg = 0x20;
inline constexpr uint8_t kEce = 0x40;
inline constexpr uint8_t kCwr = 0x80;
}  // namespace tcpflag

struct SackBlock {
  uint32_t left = 0;
  uint32_t right = 0;
  bool operator==(const SackBlock&) const = default;
};

struct TcpOptions {
  std::optional<uint16_t> mss;
  std::optional<uint8_t> window_scale;
  bool sack_permitted = false;
  struct Timestamp {
    uint32_t value = 0;
    uint32_t echo = 0;
    bool operator==(const Timestamp&) const = default;
  };
  std::optional<Timestamp> timestamp;
  std::array<SackBlock, 4> sack{};
  uint8_t sack_count = 0;
  bool operator==(const TcpOptions&) const = default;
};

struct TcpHeader {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;
  uint16_t urgent = 0;
  TcpOptions options;
  bool has(uint8_t flag) const { return (flags & flag) != 0; }
};

struct TcpSegment {
  TcpHeader header;
  Bytes payload;
  // Sequence space the segment occupies: data plus one each for SYN and FIN.
  uint32_t seq_len() const {
    return static_cast<uint32_t>(payload.size()) + (header.has(tcpflag::kSyn) ? 1 : 0) +
           (header.has(tcpflag::kFin) ? 1 : 0);
  }
};

enum class TcpError { Truncated, BadDataOffset, BadChecksum, BadOption };

// Checks the checksum against the IPv4 pseudo-header, then decodes.
std::optional<TcpSegment> parse_tcp(Bytes b, Ipv4Addr src, Ipv4Addr dst, TcpError* error);
// Decodes without looking at the checksum: for captures, where a frame sent
// with checksum offload carries a partial one (never TcpError::BadChecksum).
std::optional<TcpSegment> decode_tcp(Bytes b, TcpError* error);

// Bytes the options will take, padded to a multiple of 4.
size_t tcp_options_length(const TcpOptions& o);
// Writes header + options + payload into `out` (which must hold them) with the
// checksum computed over the pseudo-header. Returns the segment length.
size_t emit_tcp(const TcpHeader& h, Bytes payload, Ipv4Addr src, Ipv4Addr dst, MutableBytes out);

}  // namespace veer::wire
