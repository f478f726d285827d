#include "tools/drill/segment.h"

#include "core/wire/bytes.h"
#include "core/wire/checksum.h"
#include "core/wire/ethernet.h"
#include "core/wire/ipv4.h"
#include "core/wire/tcp.h"

namespace veer::drill {
namespace {

using K = TcpOptionSpec::Kind;

// RFC 9293 / 7323 / 2018 option kinds.
constexpr uint8_t kOptEol = 0, kOptNop = 1, kOptMss = 2, kOptWscale = 3, kOptSackOk = 4,
                  kOptSack = 5, kOptTs = 8;

size_t option_length(const TcpOptionSpec& o) {
  switch (o.kind) {
    case K::Eol:
    case K::Nop:
      return 1;
    case K::Mss:
      return 4;
    case K::WindowScale:
      return 3;
    case K::SackPermitted:
      return 2;
    case K::Sack:
      return 2 + 8 * o.blocks.size();
    case K::Timestamp:
      return 10;
    case K::Other:
      return 2 + o.raw.size();
  }
  return 0;
}

void put_option(const TcpOptionSpec& o, std::byte* p) {
  auto b = [](uint32_t v) { return static_cast<std::byte>(v); };
  switch (o.kind) {
    case K::Eol:
      p[0] = b(kOptEol);
      break;
    case K::Nop:
      p[0] = b(kOptNop);
      break;
    case K::Mss:
      p[0] = b(kOptMss);
      p[1] = b(4);
      wire::store16(p + 2, static_cast<uint16_t>(o.value));
      break;
    case K::WindowScale:
      p[0] = b(kOptWscale);
      p[1] = b(3);
      p[2] = b(o.value);
      break;
    case K::SackPermitted:
      p[0] = b(kOptSackOk);
      p[1] = b(2);
      break;
    case K::Sack:
      p[0] = b(kOptSack);
      p[1] = b(2 + 8 * o.blocks.size());
      for (size_t i = 0; i < o.blocks.size(); ++i) {
        wire::store32(p + 2 + 8 * i, o.blocks[i].first);
        wire::store32(p + 6 + 8 * i, o.blocks[i].second);
      }
      break;
    case K::Timestamp:
      p[0] = b(kOptTs);
      p[1] = b(10);
      wire::store32(p + 2, o.value);
      wire::store32(p + 6, o.ecr);
      break;
    case K::Other:
      p[0] = b(o.value);
      p[1] = b(2 + o.raw.size());
      for (size_t i = 0; i < o.raw.size(); ++i) p[2 + i] = b(o.raw[i]);
      break;
  }
}

// The options of a received header, in order. False on a malformed list.
bool parse_options(const std::byte* p, size_t len, std::vector<TcpOptionSpec>* out) {
  size_t i = 0;
  while (i < len) {
    uint8_t kind = static_cast<uint8_t>(p[i]);
    TcpOptionSpec o;
    if (kind == kOptEol) {
      o.kind = K::Eol;
      out->push_back(o);
      // Whatever follows EOL is padding; packetdrill's iterator stops here too.
      return true;
    }
    if (kind == kOptNop) {
      o.kind = K::Nop;
      out->push_back(o);
      ++i;
      continue;
    }
    if (i + 1 >= len) return false;
    size_t olen = static_cast<uint8_t>(p[i + 1]);
    if (olen < 2 || i + olen > len) return false;
    const std::byte* d = p + i + 2;
    if (kind == kOptMss && olen == 4) {
      o.kind = K::Mss;
      o.value = wire::load16(d);
    } else if (kind == kOptWscale && olen == 3) {
      o.kind = K::WindowScale;
      o.value = static_cast<uint8_t>(d[0]);
    } else if (kind == kOptSackOk && olen == 2) {
      o.kind = K::SackPermitted;
    } else if (kind == kOptSack && olen >= 10 && (olen - 2) % 8 == 0) {
      o.kind = K::Sack;
      for (size_t k = 0; k + 8 <= olen - 2; k += 8)
        o.blocks.emplace_back(wire::load32(d + k), wire::load32(d + k + 4));
    } else if (kind == kOptTs && olen == 10) {
      o.kind = K::Timestamp;
      o.value = wire::load32(d);
      o.ecr = wire::load32(d + 4);
    } else {
      o.kind = K::Other;
      o.value = kind;
      for (size_t k = 0; k < olen - 2; ++k) o.raw.push_back(static_cast<uint8_t>(d[k]));
    }
    out->push_back(o);
    i += olen;
  }
  return true;
}

}  // namespace

const TcpOptionSpec* Segment::option(TcpOptionSpec::Kind k) const {
  for (const auto& o : options)
    if (o.kind == k) return &o;
  return nullptr;
}

TcpOptionSpec* Segment::option(TcpOptionSpec::Kind k) {
  for (auto& o : options)
    if (o.kind == k) return &o;
  return nullptr;
}

size_t options_wire_length(const std::vector<TcpOptionSpec>& options) {
  size_t n = 0;
  for (const auto& o : options) n += option_length(o);
  return n;
}

std::vector<std::byte> build_tcp_frame(const Segment& seg, MacAddr src_mac, MacAddr dst_mac) {
  size_t opt_len = options_wire_length(seg.options);
  size_t tcp_len = wire::kTcpMinHeaderLen + opt_len + seg.payload;
  size_t ip_len = wire::kIpv4MinHeaderLen + tcp_len;
  std::vector<std::byte> f(wire::kEthHeaderLen + ip_len);
  wire::emit_ethernet({dst_mac, src_mac, wire::kEtherTypeIpv4}, MutableBytes(f));
  wire::Ipv4Header ih;
  ih.protocol = wire::kProtoTcp;
  ih.src = seg.src.addr;
  ih.dst = seg.dst.addr;
  std::byte* ip = f.data() + wire::kEthHeaderLen;
  wire::emit_ipv4(ih, tcp_len, MutableBytes(ip, ip_len));
  std::byte* t = ip + wire::kIpv4MinHeaderLen;
  wire::store16(t, seg.src.port);
  wire::store16(t + 2, seg.dst.port);
  wire::store32(t + 4, seg.seq);
  wire::store32(t + 8, seg.ack);
  t[12] = static_cast<std::byte>(((wire::kTcpMinHeaderLen + opt_len) / 4) << 4);
  t[13] = static_cast<std::byte>(seg.flags);
  wire::store16(t + 14, seg.window);
  wire::store16(t + 16, 0);
  wire::store16(t + 18, seg.urg);
  size_t off = wire::kTcpMinHeaderLen;
  for (const auto& o : seg.options) {
    put_option(o, t + off);
    off += option_length(o);
  }
  // The payload stays zero (vector value-initialised).
  uint32_t sum = wire::pseudo_header_sum(seg.src.addr, seg.dst.addr, wire::kProtoTcp,
                                         static_cast<uint16_t>(tcp_len));
  sum = wire::checksum_add(sum, Bytes(t, tcp_len));
  wire::store16(t + 16, wire::checksum_finish(sum));
  return f;
}

std::optional<Segment> decode_tcp_frame(Bytes frame, std::string* error) {
  auto eth = wire::parse_ethernet(frame);
  if (!eth || eth->header.ether_type != wire::kEtherTypeIpv4) return std::nullopt;
  wire::Ipv4Error ip_err{};
  auto ip = wire::parse_ipv4(eth->payload, &ip_err);
  if (!ip) {
    *error = ip_err == wire::Ipv4Error::BadChecksum ? "bad outbound IP checksum"
                                                    : "malformed outbound IPv4 header";
    return std::nullopt;
  }
  if (ip->header.protocol != wire::kProtoTcp) return std::nullopt;
  wire::TcpError tcp_err{};
  if (!wire::parse_tcp(ip->payload, ip->header.src, ip->header.dst, &tcp_err)) {
    *error = tcp_err == wire::TcpError::BadChecksum ? "bad outbound TCP checksum"
                                                    : "malformed outbound TCP header";
    return std::nullopt;
  }
  const std::byte* t = ip->payload.data();
  size_t hl = (static_cast<uint8_t>(t[12]) >> 4) * 4u;
  Segment s;
  s.src = {ip->header.src, wire::load16(t)};
  s.dst = {ip->header.dst, wire::load16(t + 2)};
  s.seq = wire::load32(t + 4);
  s.ack = wire::load32(t + 8);
  s.flags = static_cast<uint8_t>(t[13]);
  s.window = wire::load16(t + 14);
  s.urg = wire::load16(t + 18);
  s.options_len = hl - wire::kTcpMinHeaderLen;
  if (!parse_options(t + wire::kTcpMinHeaderLen, s.options_len, &s.options)) {
    *error = "malformed outbound TCP options";
    return std::nullopt;
  }
  Bytes payload = ip->payload.subspan(hl);
  s.payload = static_cast<uint32_t>(payload.size());
  for (std::byte b : payload) {
    if (b != std::byte{0}) {
      s.payload_zero = false;
      break;
    }
  }
  return s;
}

}  // namespace veer::drill
