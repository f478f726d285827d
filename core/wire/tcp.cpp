#include "core/wire/tcp.h"

#include <cstring>

#include "core/wire/bytes.h"
#include "core/wire/checksum.h"
#include "core/wire/ipv4.h"

namespace veer::wire {
namespace {

enum OptionKind : uint8_t {
  kEol = 0,
  kNop = 1,
  kMss = 2,
  kWscale = 3,
  kSackPermitted = 4,
  kSack = 5,
  kTimestamp = 8,
};

// Decodes the options area; unknown options are skipped by their length as
// RFC 9293 §3.1 requires. A length that overruns the area is malformed.
bool parse_options(Bytes b, TcpOptions* o) {
  size_t i = 0;
  while (i < b.size()) {
    uint8_t kind = uint8_t(b[i]);
    if (kind == kEol) break;
    if (kind == kNop) {
      ++i;
      continue;
    }
    if (i + 1 >= b.size()) return false;
    size_t len = uint8_t(b[i + 1]);
    if (len < 2 || i + len > b.size()) return false;
    const std::byte* v = b.data() + i + 2;
    switch (kind) {
      case kMss:
        if (len != 4) return false;
        o->mss = load16(v);
        break;
      case kWscale:
        if (len != 3) return false;
        o->window_scale = uint8_t(v[0]);
        break;
      case kSackPermitted:
        if (len != 2) return false;
        o->sack_permitted = true;
        break;
      case kSack: {
        if ((len - 2) % 8 != 0 || len == 2) return false;
        size_t n = (len - 2) / 8;
        o->sack_count = 0;
        for (size_t k = 0; k < n && k < o->sack.size(); ++k) {
          o->sack[k] = {load32(v + 8 * k), load32(v + 8 * k + 4)};
          o->sack_count = static_cast<uint8_t>(k + 1);
        }
        break;
      }
      case kTimestamp:
        if (len != 10) return false;
        o->timestamp = TcpOptions::Timestamp{load32(v), load32(v + 4)};
        break;
      default:
        break;
    }
    i += len;
  }
  return true;
}

}  // namespace

std::optional<TcpSegment> parse_tcp(Bytes b, Ipv4Addr src, Ipv4Addr dst, TcpError* error) {
  auto fail = [&](TcpError e) {
    *error = e;
    return std::nullopt;
  };
  if (b.size() < kTcpMinHeaderLen) return fail(TcpError::Truncated);
  size_t data_offset = size_t(uint8_t(b[12]) >> 4) * 4;
  if (data_offset < kTcpMinHeaderLen || data_offset > b.size())
    return fail(TcpError::BadDataOffset);
  uint32_t sum = pseudo_header_sum(src, dst, kProtoTcp, static_cast<uint16_t>(b.size()));
  if (checksum_finish(checksum_add(sum, b)) != 0) return fail(TcpError::BadChecksum);
  return decode_tcp(b, error);
}

std::optional<TcpSegment> decode_tcp(Bytes b, TcpError* error) {
  auto fail = [&](TcpError e) {
    *error = e;
    return std::nullopt;
  };
  if (b.size() < kTcpMinHeaderLen) return fail(TcpError::Truncated);
  size_t data_offset = size_t(uint8_t(b[12]) >> 4) * 4;
  if (data_offset < kTcpMinHeaderLen || data_offset > b.size())
    return fail(TcpError::BadDataOffset);
  TcpSegment s;
  TcpHeader& h = s.header;
  h.src_port = load16(b.data());
  h.dst_port = load16(b.data() + 2);
  h.seq = load32(b.data() + 4);
  h.ack = load32(b.data() + 8);
  h.flags = uint8_t(b[13]);
  h.window = load16(b.data() + 14);
  h.urgent = load16(b.data() + 18);
  if (!parse_options(b.subspan(kTcpMinHeaderLen, data_offset - kTcpMinHeaderLen), &h.options))
    return fail(TcpError::BadOption);
  s.payload = b.subspan(data_offset);
  return s;
}

size_t tcp_options_length(const TcpOptions& o) {
  size_t n = 0;
  if (o.mss) n += 4;
  if (o.sack_permitted && !o.timestamp) n += 4;  // NOP NOP SACKOK
  if (o.timestamp) n += 12;                      // (SACKOK|NOP NOP) TS
  if (o.window_scale) n += 4;                    // NOP WSCALE
  if (o.sack_count) n += 4 + 8 * size_t(o.sack_count);
  return n;
}

size_t emit_tcp(const TcpHeader& h, Bytes payload, Ipv4Addr src, Ipv4Addr dst, MutableBytes out) {
  std::byte* o = out.data();
  size_t opt_len = tcp_options_length(h.options);
  size_t header_len = kTcpMinHeaderLen + opt_len;
  store16(o, h.src_port);
  store16(o + 2, h.dst_port);
  store32(o + 4, h.seq);
  store32(o + 8, h.ack);
  o[12] = std::byte(static_cast<uint8_t>((header_len / 4) << 4));
  o[13] = std::byte{h.flags};
  store16(o + 14, h.window);
  store16(o + 16, 0);
  store16(o + 18, h.urgent);
  // Linux's layout (tcp_options_write): MSS; SACKOK+TS or NOP NOP TS or
  // NOP NOP SACKOK; NOP WSCALE; NOP NOP SACK blocks.
  std::byte* p = o + kTcpMinHeaderLen;
  auto put = [&](uint8_t v) { *p++ = std::byte{v}; };
  const TcpOptions& op = h.options;
  if (op.mss) {
    put(kMss), put(4);
    store16(p, *op.mss), p += 2;
  }
  if (op.timestamp) {
    if (op.sack_permitted) {
      put(kSackPermitted), put(2);
    } else {
      put(kNop), put(kNop);
    }
    put(kTimestamp), put(10);
    store32(p, op.timestamp->value), store32(p + 4, op.timestamp->echo), p += 8;
  } else if (op.sack_permitted) {
    put(kNop), put(kNop), put(kSackPermitted), put(2);
  }
  if (op.window_scale) put(kNop), put(kWscale), put(3), put(*op.window_scale);
  if (op.sack_count) {
    put(kNop), put(kNop), put(kSack), put(static_cast<uint8_t>(2 + 8 * op.sack_count));
    for (size_t k = 0; k < op.sack_count; ++k) {
      store32(p, op.sack[k].left), store32(p + 4, op.sack[k].right), p += 8;
    }
  }
  if (!payload.empty()) std::memcpy(o + header_len, payload.data(), payload.size());
  size_t total = header_len + payload.size();
  uint32_t sum = pseudo_header_sum(src, dst, kProtoTcp, static_cast<uint16_t>(total));
  store16(o + 16, checksum_finish(checksum_add(sum, Bytes(o, total))));
  return total;
}

}  // namespace veer::wire
