#include "netdev/gso_coalesce.h"

#include <algorithm>
#include <cstring>

#include "core/wire/checksum.h"

namespace veer::netdev {
namespace {

constexpr size_t kEthLen = 14;
constexpr uint8_t kTcpAck = 0x10;
constexpr uint8_t kTcpPsh = 0x08;

uint16_t load16(const std::byte* p) {
  return static_cast<uint16_t>((uint16_t(p[0]) << 8) | uint16_t(p[1]));
}
uint32_t load32(const std::byte* p) {
  return (uint32_t(load16(p)) << 16) | load16(p + 2);
}
void store16(std::byte* p, uint16_t v) {
  p[0] = std::byte(v >> 8);
  p[1] = std::byte(v & 0xff);
}

// Where the headers of an IPv4/TCP frame core emitted end, or 0 when the
// frame cannot be part of a TSO batch: not plain IPv4/TCP, a fragment, no
// payload, or flags other than ACK (and PSH).
struct Layout {
  size_t ip = 0, tcp = 0, headers = 0, payload = 0;
  uint8_t flags = 0;
  uint32_t seq = 0;
};
bool layout_of(Bytes f, Layout* l) {
  if (f.size() < kEthLen + 20 + 20 || load16(f.data() + 12) != 0x0800) return false;
  const std::byte* ip = f.data() + kEthLen;
  if ((uint8_t(ip[0]) >> 4) != 4 || uint8_t(ip[9]) != 6) return false;
  size_t ihl = size_t(uint8_t(ip[0]) & 0xf) * 4;
  size_t total = load16(ip + 2);
  if (ihl < 20 || total != f.size() - kEthLen || (load16(ip + 6) & 0x3fff) != 0) return false;
  if (total < ihl + 20) return false;
  const std::byte* tcp = ip + ihl;
  size_t doff = size_t(uint8_t(tcp[12]) >> 4) * 4;
  if (doff < 20 || ihl + doff >= total) return false;
  uint8_t flags = uint8_t(tcp[13]);
  if ((flags & ~kTcpPsh) != kTcpAck || load16(tcp + 18) != 0) return false;
  l->ip = kEthLen;
  l->tcp = kEthLen + ihl;
  l->headers = kEthLen + ihl + doff;
  l->payload = f.size() - l->headers;
  l->flags = flags;
  l->seq = load32(tcp + 4);
  return true;
}

// The header bytes two frames of one batch must share: all but the IP
// total length, id and checksum and the TCP sequence number, flags (PSH) and
// checksum.
bool same_headers(const std::byte* a, Bytes b, size_t ip, size_t tcp, size_t headers) {
  auto eq = [&](size_t from, size_t to) {
    return std::memcmp(a + from, b.data() + from, to - from) == 0;
  };
  return eq(0, ip + 2) && eq(ip + 6, ip + 10) && eq(ip + 12, tcp + 4) && eq(tcp + 8, tcp + 13) &&
         eq(tcp + 14, tcp + 16) && eq(tcp + 18, headers);
}

}  // namespace

GsoBatch::GsoBatch() {
  buf_.reserve(kVnetHdrLen + kEthLen + kGsoMaxIpLen);
}

void write_plain_vnet_hdr(std::byte* out) {
  std::memset(out, 0, kVnetHdrLen);
}

bool GsoBatch::add(Bytes frame) {
  Layout l;
  if (!layout_of(frame, &l)) return false;
  if (segments_ == 0) {
    buf_.assign(kVnetHdrLen, std::byte{0});
    buf_.insert(buf_.end(), frame.begin(), frame.end());
    segments_ = 1;
    ip_offset_ = l.ip;
    tcp_offset_ = l.tcp;
    headers_len_ = l.headers;
    segment_size_ = last_size_ = l.payload;
    next_seq_ = l.seq + static_cast<uint32_t>(l.payload);
    ended_ = (l.flags & kTcpPsh) != 0;
    return true;
  }
  if (ended_ || segments_ >= kGsoMaxSegments) return false;
  if (l.headers != headers_len_ || l.tcp != tcp_offset_ || l.seq != next_seq_ ||
      l.payload > segment_size_)
    return false;
  size_t ip_len = buf_.size() - kVnetHdrLen - kEthLen + l.payload;
  if (ip_len > kGsoMaxIpLen) return false;
  const std::byte* first = buf_.data() + kVnetHdrLen;
  if (!same_headers(first, frame, ip_offset_, tcp_offset_, headers_len_)) return false;
  buf_.insert(buf_.end(), frame.begin() + static_cast<std::ptrdiff_t>(l.headers), frame.end());
  // The super-frame's flags are the last segment's: tcp_gso_segment() gives
  // PSH to the last segment only.
  buf_[kVnetHdrLen + tcp_offset_ + 13] = std::byte{l.flags};
  ++segments_;
  last_size_ = l.payload;
  next_seq_ += static_cast<uint32_t>(l.payload);
  ended_ = (l.flags & kTcpPsh) != 0 || l.payload < segment_size_;
  return true;
}

Bytes GsoBatch::finish() {
  if (segments_ == 0) return {};
  if (segments_ == 1) return Bytes(buf_.data(), buf_.size());
  std::byte* f = buf_.data() + kVnetHdrLen;
  size_t frame_len = buf_.size() - kVnetHdrLen;
  std::byte* ip = f + ip_offset_;
  size_t ip_len = frame_len - ip_offset_;
  store16(ip + 2, static_cast<uint16_t>(ip_len));
  store16(ip + 10, 0);
  store16(ip + 10, wire::checksum(Bytes(ip, tcp_offset_ - ip_offset_)));
  // CHECKSUM_PARTIAL: the field holds the pseudo-header sum, folded and not
  // inverted; the kernel adds the segment and inverts.
  size_t tcp_len = frame_len - tcp_offset_;
  uint32_t pseudo = wire::checksum_add(6 + static_cast<uint32_t>(tcp_len), Bytes(ip + 12, 8));
  store16(f + tcp_offset_ + 16, static_cast<uint16_t>(~wire::checksum_finish(pseudo)));
  VnetHdr h{};
  h.flags = kVnetNeedsCsum;
  h.gso_type = kVnetGsoTcpv4;
  h.hdr_len = static_cast<uint16_t>(headers_len_);
  h.gso_size = static_cast<uint16_t>(segment_size_);
  h.csum_start = static_cast<uint16_t>(tcp_offset_);
  h.csum_offset = 16;
  std::memcpy(buf_.data(), &h, sizeof h);
  return Bytes(buf_.data(), buf_.size());
}

void GsoBatch::clear() {
  segments_ = 0;
  buf_.clear();
}

}  // namespace veer::netdev
