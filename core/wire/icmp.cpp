#include "core/wire/icmp.h"

#include <cstring>

#include "core/wire/bytes.h"
#include "core/wire/checksum.h"

namespace veer::wire {

std::optional<IcmpMessage> parse_icmp(Bytes b) {
  if (b.size() < kIcmpHeaderLen || checksum(b) != 0) return std::nullopt;
  IcmpMessage m;
  m.type = uint8_t(b[0]);
  m.code = uint8_t(b[1]);
  m.rest = load32(b.data() + 4);
  m.body = b.subspan(kIcmpHeaderLen);
  return m;
}

size_t emit_icmp(const IcmpMessage& m, MutableBytes out) {
  std::byte* o = out.data();
  o[0] = std::byte{m.type};
  o[1] = std::byte{m.code};
  store16(o + 2, 0);
  store32(o + 4, m.rest);
  if (!m.body.empty()) std::memmove(o + kIcmpHeaderLen, m.body.data(), m.body.size());
  size_t len = kIcmpHeaderLen + m.body.size();
  store16(o + 2, checksum(Bytes(o, len)));
  return len;
}

}  // namespace veer::wire
