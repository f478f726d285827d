#include "core/wire/ethernet.h"

#include <cstring>

#include "core/wire/bytes.h"

namespace veer::wire {

std::optional<EthernetFrame> parse_ethernet(Bytes frame) {
  if (frame.size() < kEthHeaderLen) return std::nullopt;
  EthernetFrame f;
  std::memcpy(f.header.dst.b.data(), frame.data(), 6);
  std::memcpy(f.header.src.b.data(), frame.data() + 6, 6);
  f.header.ether_type = load16(frame.data() + 12);
  f.payload = frame.subspan(kEthHeaderLen);
  return f;
}

void emit_ethernet(const EthernetHeader& h, MutableBytes out) {
  std::memcpy(out.data(), h.dst.b.data(), 6);
  std::memcpy(out.data() + 6, h.src.b.data(), 6);
  store16(out.data() + 12, h.ether_type);
}

}  // namespace veer::wire
