// ICMP (RFC 792): what the stack needs to parse and answer.
#pragma once

#include <optional>

#include "core/types.h"

namespace veer::wire {

inline constexpr size_t kIcmpHeaderLen = 8;
inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpDestUnreachable = 3;
inline constexpr uint8_t kIcmpEchoRequest = 8;

struct IcmpMessage {
  uint8_t type = 0;
  uint8_t code = 0;
  uint32_t rest = 0;  // identifier+sequence for echo, unused/MTU for errors
  Bytes body;
};

// Verifies the checksum over the whole message.
std::optional<IcmpMessage> parse_icmp(Bytes b);
// Writes header + body (body copied after the 8-byte header), checksum set.
size_t emit_icmp(const IcmpMessage& m, MutableBytes out);

}  // namespace veer::wire
