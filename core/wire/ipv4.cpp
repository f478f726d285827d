#include "core/wire/ipv4.h"

#include "core/wire/bytes.h"
#include "core/wire/checksum.h"

namespace veer::wire {

std::optional<Ipv4Packet> parse_ipv4(Bytes b, Ipv4Error* error) {
  auto fail = [&](Ipv4Error e) {
    *error = e;
    return std::nullopt;
  };
  if (b.size() < kIpv4MinHeaderLen) return fail(Ipv4Error::Truncated);
  uint8_t vihl = uint8_t(b[0]);
  if ((vihl >> 4) != 4) return fail(Ipv4Error::BadVersion);
  size_t ihl = size_t(vihl & 0xf) * 4;
  if (ihl < kIpv4MinHeaderLen || ihl > b.size()) return fail(Ipv4Error::BadHeaderLength);
  uint16_t total = load16(b.data() + 2);
  if (total < ihl || total > b.size()) return fail(Ipv4Error::BadTotalLength);
  if (checksum(b.first(ihl)) != 0) return fail(Ipv4Error::BadChecksum);
  Ipv4Packet p;
  p.header.tos = uint8_t(b[1]);
  p.header.id = load16(b.data() + 4);
  uint16_t frag = load16(b.data() + 6);
  p.header.dont_fragment = (frag & 0x4000) != 0;
  p.header.more_fragments = (frag & 0x2000) != 0;
  p.header.fragment_offset = static_cast<uint16_t>((frag & 0x1fff) * 8);
  p.header.ttl = uint8_t(b[8]);
  p.header.protocol = uint8_t(b[9]);
  p.header.src = Ipv4Addr(load32(b.data() + 12));
  p.header.dst = Ipv4Addr(load32(b.data() + 16));
  p.payload = b.subspan(ihl, total - ihl);
  return p;
}

void emit_ipv4(const Ipv4Header& h, size_t payload_len, MutableBytes out) {
  std::byte* o = out.data();
  o[0] = std::byte{0x45};
  o[1] = std::byte{h.tos};
  store16(o + 2, static_cast<uint16_t>(kIpv4MinHeaderLen + payload_len));
  store16(o + 4, h.id);
  uint16_t frag =
      static_cast<uint16_t>((h.dont_fragment ? 0x4000 : 0) | (h.more_fragments ? 0x2000 : 0) |
                            ((h.fragment_offset / 8) & 0x1fff));
  store16(o + 6, frag);
  o[8] = std::byte{h.ttl};
  o[9] = std::byte{h.protocol};
  store16(o + 10, 0);
  store32(o + 12, h.src.v);
  store32(o + 16, h.dst.v);
  store16(o + 10, checksum(Bytes(o, kIpv4MinHeaderLen)));
}

}  // namespace veer::wire
