#include "core/wire/arp.h"

#include <cstring>

#include "core/wire/bytes.h"
#include "core/wire/ethernet.h"

namespace veer::wire {

std::optional<ArpPacket> parse_arp(Bytes b) {
  if (b.size() < kArpLen) return std::nullopt;
  if (load16(b.data()) != 1 || load16(b.data() + 2) != kEtherTypeIpv4 || uint8_t(b[4]) != 6 ||
      uint8_t(b[5]) != 4)
    return std::nullopt;
  ArpPacket p;
  p.op = load16(b.data() + 6);
  if (p.op != kArpRequest && p.op != kArpReply) return std::nullopt;
  std::memcpy(p.sender_mac.b.data(), b.data() + 8, 6);
  p.sender_ip = Ipv4Addr(load32(b.data() + 14));
  std::memcpy(p.target_mac.b.data(), b.data() + 18, 6);
  p.target_ip = Ipv4Addr(load32(b.data() + 24));
  return p;
}

void emit_arp(const ArpPacket& p, MutableBytes out) {
  std::byte* o = out.data();
  store16(o, 1);
  store16(o + 2, kEtherTypeIpv4);
  o[4] = std::byte{6};
  o[5] = std::byte{4};
  store16(o + 6, p.op);
  std::memcpy(o + 8, p.sender_mac.b.data(), 6);
  store32(o + 14, p.sender_ip.v);
  std::memcpy(o + 18, p.target_mac.b.data(), 6);
  store32(o + 24, p.target_ip.v);
}

}  // namespace veer::wire
