// Ethernet II framing (no 802.1Q, no FCS: devices strip it).
#pragma once

#include <optional>

#include "core/types.h"

namespace veer::wire {

inline constexpr size_t kEthHeaderLen = 14;
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;

struct EthernetHeader {
  MacAddr dst;
  MacAddr src;
  uint16_t ether_type = 0;
};

struct EthernetFrame {
  EthernetHeader header;
  Bytes payload;
};

std::optional<EthernetFrame> parse_ethernet(Bytes frame);
// Writes the 14-byte header at the start of `out` (which must be big enough).
void emit_ethernet(const EthernetHeader& h, MutableBytes out);

}  // namespace veer::wire
