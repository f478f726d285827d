// GsoBatch: which of core's segments join one TSO frame, and the headers
// the kernel needs to cut it back into the same segments.
#include "netdev/gso_coalesce.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/wire/checksum.h"
#include "tests/unit/netdev/byte_order.h"

namespace veer::netdev {
namespace {

constexpr uint8_t kAck = 0x10, kPsh = 0x08, kFin = 0x01;
constexpr size_t kHeaders = 14 + 20 + 32;  // Ethernet, IPv4, TCP with timestamps

struct Seg {
  uint32_t seq = 1000;
  size_t payload = 1448;
  uint8_t flags = kAck;
  uint32_t tsval = 77;
  uint16_t ip_id = 1;
};

// An IPv4/TCP frame as core emits it (checksums are not looked at).
std::vector<std::byte> frame(const Seg& s) {
  std::vector<std::byte> f(kHeaders + s.payload);
  std::byte* p = f.data();
  for (int i = 0; i < 12; ++i) p[i] = std::byte(i + 1);
  store_be16(p + 12, 0x0800);
  std::byte* ip = p + 14;
  ip[0] = std::byte{0x45};
  store_be16(ip + 2, static_cast<uint16_t>(20 + 32 + s.payload));
  store_be16(ip + 4, s.ip_id);
  store_be16(ip + 6, 0x4000);
  ip[8] = std::byte{64};
  ip[9] = std::byte{6};
  store_be32(ip + 12, 0x0a000002);
  store_be32(ip + 16, 0x0a000001);
  std::byte* tcp = ip + 20;
  store_be16(tcp, 5000);
  store_be16(tcp + 2, 80);
  store_be32(tcp + 4, s.seq);
  store_be32(tcp + 8, 42);
  tcp[12] = std::byte{8 << 4};
  tcp[13] = std::byte{s.flags};
  store_be16(tcp + 14, 512);
  tcp[20] = std::byte{1};
  tcp[21] = std::byte{1};
  tcp[22] = std::byte{8};
  tcp[23] = std::byte{10};
  store_be32(tcp + 24, s.tsval);
  store_be32(tcp + 28, 5);
  for (size_t i = 0; i < s.payload; ++i) p[kHeaders + i] = std::byte(uint8_t(s.seq + i));
  return f;
}

bool add(GsoBatch& b, const Seg& s) {
  auto f = frame(s);
  return b.add(f);
}

VnetHdr vnet_of(Bytes out) {
  VnetHdr h;
  std::memcpy(&h, out.data(), sizeof h);
  return h;
}

TEST(GsoBatch, ThreeSegmentsBecomeOneTsoFrame) {
  GsoBatch b;
  ASSERT_TRUE(add(b, {.seq = 1000}));
  ASSERT_TRUE(add(b, {.seq = 2448, .ip_id = 2}));
  ASSERT_TRUE(add(b, {.seq = 3896, .payload = 100, .flags = kAck | kPsh, .ip_id = 3}));
  EXPECT_EQ(b.segments(), 3u);
  Bytes out = b.finish();
  ASSERT_EQ(out.size(), kVnetHdrLen + kHeaders + 1448 * 2 + 100);
  VnetHdr h = vnet_of(out);
  EXPECT_EQ(h.flags, kVnetNeedsCsum);
  EXPECT_EQ(h.gso_type, kVnetGsoTcpv4);
  EXPECT_EQ(h.hdr_len, kHeaders);
  EXPECT_EQ(h.gso_size, 1448);
  EXPECT_EQ(h.csum_start, 14 + 20);
  EXPECT_EQ(h.csum_offset, 16);
  const std::byte* f = out.data() + kVnetHdrLen;
  const std::byte* ip = f + 14;
  size_t ip_len = out.size() - kVnetHdrLen - 14;
  EXPECT_EQ(load_be16(ip + 2), ip_len);
  EXPECT_EQ(load_be16(ip + 4), 1);  // the first segment's id; the kernel counts on
  EXPECT_EQ(wire::checksum(Bytes(ip, 20)), 0) << "IPv4 header checksum";
  // The TCP checksum field: the pseudo-header sum, folded, not inverted.
  uint32_t pseudo = wire::pseudo_header_sum(Ipv4Addr::of(10, 0, 0, 2), Ipv4Addr::of(10, 0, 0, 1), 6,
                                            static_cast<uint16_t>(ip_len - 20));
  EXPECT_EQ(load_be16(ip + 20 + 16), static_cast<uint16_t>(~wire::checksum_finish(pseudo)));
  EXPECT_EQ(uint8_t(ip[20 + 13]), kAck | kPsh) << "the last segment's PSH";
  EXPECT_EQ(load_be16(ip + 20 + 4), 0) << "seq high half";
  // The payload follows in sequence order.
  EXPECT_EQ(f[kHeaders], std::byte(uint8_t(1000)));
  EXPECT_EQ(f[kHeaders + 1448], std::byte(uint8_t(2448)));
  EXPECT_EQ(f[kHeaders + 2896], std::byte(uint8_t(3896)));
}

TEST(GsoBatch, OneSegmentGoesOutUnchangedBehindAZeroHeader) {
  GsoBatch b;
  auto f = frame({});
  ASSERT_TRUE(b.add(f));
  Bytes out = b.finish();
  ASSERT_EQ(out.size(), kVnetHdrLen + f.size());
  for (size_t i = 0; i < kVnetHdrLen; ++i) EXPECT_EQ(out[i], std::byte{0});
  EXPECT_EQ(std::memcmp(out.data() + kVnetHdrLen, f.data(), f.size()), 0);
}

TEST(GsoBatch, RefusesASequenceGap) {
  GsoBatch b;
  ASSERT_TRUE(add(b, {.seq = 1000}));
  EXPECT_FALSE(add(b, {.seq = 2449}));
  EXPECT_FALSE(add(b, {.seq = 1000}));  // a retransmission of the same bytes
}

TEST(GsoBatch, RefusesOtherFlagsAndStartsNoBatchWithThem) {
  GsoBatch b;
  ASSERT_TRUE(add(b, {.seq = 1000}));
  EXPECT_FALSE(add(b, {.seq = 2448, .flags = kAck | kFin}));
  EXPECT_FALSE(add(b, {.seq = 2448, .flags = kAck | 0x20}));  // URG
  EXPECT_FALSE(add(b, {.seq = 2448, .flags = kAck | 0x80}));  // CWR
  GsoBatch empty;
  EXPECT_FALSE(add(empty, {.flags = kAck | kFin}));
  EXPECT_FALSE(add(empty, {.flags = 0x02}));  // SYN
  EXPECT_FALSE(add(empty, {.flags = 0x04}));  // RST
  EXPECT_FALSE(add(empty, {.payload = 0}));   // a bare ACK
  EXPECT_TRUE(empty.empty());
}

TEST(GsoBatch, PshOnlyOnTheLastSegment) {
  GsoBatch b;
  ASSERT_TRUE(add(b, {.seq = 1000, .flags = kAck | kPsh}));
  EXPECT_FALSE(add(b, {.seq = 2448}));
  EXPECT_EQ(b.segments(), 1u);
}

TEST(GsoBatch, RefusesDifferentOptions) {
  GsoBatch b;
  ASSERT_TRUE(add(b, {.seq = 1000, .tsval = 77}));
  EXPECT_FALSE(add(b, {.seq = 2448, .tsval = 78}));
}

TEST(GsoBatch, RefusesALargerSegmentAndAnythingAfterAShortOne) {
  GsoBatch b;
  ASSERT_TRUE(add(b, {.seq = 1000, .payload = 1000}));
  EXPECT_FALSE(add(b, {.seq = 2000, .payload = 1001}));
  ASSERT_TRUE(add(b, {.seq = 2000, .payload = 500}));
  EXPECT_FALSE(add(b, {.seq = 2500, .payload = 500}));
  EXPECT_EQ(b.segments(), 2u);
}

TEST(GsoBatch, StopsAt64KBOfIp) {
  GsoBatch b;
  uint32_t seq = 1000;
  size_t n = 0;
  while (add(b, {.seq = seq})) {
    seq += 1448;
    ++n;
  }
  // 45 segments: 52 + 45 * 1448 = 65212 bytes of IP; a 46th would pass 65535.
  EXPECT_EQ(n, 45u);
  Bytes out = b.finish();
  EXPECT_LE(out.size() - kVnetHdrLen - 14, kGsoMaxIpLen);
}

TEST(GsoBatch, StopsAt64Segments) {
  GsoBatch b;
  uint32_t seq = 1000;
  size_t n = 0;
  while (add(b, {.seq = seq, .payload = 100})) {
    seq += 100;
    ++n;
  }
  EXPECT_EQ(n, kGsoMaxSegments);
}

TEST(GsoBatch, ClearStartsAfresh) {
  GsoBatch b;
  ASSERT_TRUE(add(b, {.seq = 1000}));
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_TRUE(add(b, {.seq = 9000}));
  EXPECT_EQ(b.segments(), 1u);
}

}  // namespace
}  // namespace veer::netdev
