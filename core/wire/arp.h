// ARP for IPv4 over Ethernet (RFC 826).
#pragma once

#include <optional>

#include "core/types.h"

namespace veer::wire {

inline constexpr size_t kArpLen = 28;
inline constexpr uint16_t kArpRequest = 1;
inline constexpr uint16_t kArpReply = 2;

struct ArpPacket {
  uint16_t op = 0;
  MacAddr sender_mac;
  Ipv4Addr sender_ip;
  MacAddr target_mac;
  Ipv4Addr target_ip;
};

// Accepts only Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4).
std::optional<ArpPacket> parse_arp(Bytes payload);
void emit_arp(const ArpPacket& p, MutableBytes out);

}  // namespace veer::wire
