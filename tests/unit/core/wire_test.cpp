#include <gtest/gtest.h>

#include <random>

#include "core/wire/checksum.h"
#include "core/wire/ipv4.h"
#include "core/wire/tcp.h"
#include "tests/unit/core/harness.h"

namespace veer::test {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int x : v) out.push_back(std::byte(x));
  return out;
}

TEST(Checksum, MatchesRfc1071Example) {
  // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2, checksum 220d.
  auto b = bytes({0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7});
  EXPECT_EQ(wire::checksum(b), 0x220d);
}

TEST(Checksum, OddLengthPadsWithZero) {
  auto b = bytes({0x01, 0x02, 0x03});
  EXPECT_EQ(wire::checksum(b), static_cast<uint16_t>(~(0x0102 + 0x0300) & 0xffff));
}

TEST(Ipv4, RoundTripAndRejections) {
  std::vector<std::byte> pkt(24);
  wire::Ipv4Header h;
  h.protocol = wire::kProtoTcp;
  h.src = kIpB;
  h.dst = kIpA;
  h.id = 7;
  wire::emit_ipv4(h, 4, pkt);
  wire::Ipv4Error err{};
  auto p = wire::parse_ipv4(pkt, &err);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->header.src, kIpB);
  EXPECT_EQ(p->header.dst, kIpA);
  EXPECT_TRUE(p->header.dont_fragment);
  EXPECT_EQ(p->payload.size(), 4u);

  auto bad = pkt;
  bad[8] = std::byte{1};  // TTL changed, checksum now wrong
  EXPECT_FALSE(wire::parse_ipv4(bad, &err));
  EXPECT_EQ(err, wire::Ipv4Error::BadChecksum);
  EXPECT_FALSE(wire::parse_ipv4(Bytes(pkt).first(19), &err));
  EXPECT_EQ(err, wire::Ipv4Error::Truncated);
  auto longer = pkt;
  longer[3] = std::byte{200};  // total length beyond the buffer
  EXPECT_FALSE(wire::parse_ipv4(longer, &err));
  EXPECT_EQ(err, wire::Ipv4Error::BadTotalLength);
}

TEST(Tcp, OptionsRoundTripInLinuxLayout) {
  wire::TcpHeader h;
  h.src_port = 1, h.dst_port = 2, h.seq = 100, h.flags = wire::tcpflag::kSyn, h.window = 64240;
  h.options.mss = 1460;
  h.options.sack_permitted = true;
  h.options.timestamp = wire::TcpOptions::Timestamp{5, 0};
  h.options.window_scale = 7;
  std::vector<std::byte> out(60);
  size_t n = wire::emit_tcp(h, {}, kIpA, kIpB, out);
  EXPECT_EQ(n, 40u);  // 20 + mss 4 + sackok/ts 12 + nop/wscale 4
  // mss, SACKOK, TS, NOP, WSCALE: the order Linux puts in its SYNs.
  EXPECT_EQ(out[20], std::byte{2});
  EXPECT_EQ(out[24], std::byte{4});
  EXPECT_EQ(out[26], std::byte{8});
  EXPECT_EQ(out[36], std::byte{1});
  EXPECT_EQ(out[37], std::byte{3});
  wire::TcpError err{};
  auto s = wire::parse_tcp(Bytes(out).first(n), kIpA, kIpB, &err);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->header.options, h.options);
  EXPECT_EQ(s->header.window, 64240);
}

TEST(Tcp, RejectsBadChecksumAndOverrunningOption) {
  wire::TcpHeader h;
  h.options.mss = 1000;
  std::vector<std::byte> out(24);
  wire::emit_tcp(h, {}, kIpA, kIpB, out);
  wire::TcpError err{};
  EXPECT_TRUE(wire::parse_tcp(out, kIpA, kIpB, &err));
  // The pseudo-header covers the addresses: another destination fails.
  EXPECT_FALSE(wire::parse_tcp(out, kIpA, Ipv4Addr::of(10, 77, 0, 3), &err));
  EXPECT_EQ(err, wire::TcpError::BadChecksum);
  auto bad = out;
  bad[4] = std::byte{0xff};
  EXPECT_FALSE(wire::parse_tcp(bad, kIpA, kIpB, &err));
  EXPECT_EQ(err, wire::TcpError::BadChecksum);
  // An MSS option claiming 9 bytes overruns the 4-byte options area.
  auto overrun = out;
  overrun[21] = std::byte{9};
  overrun[16] = overrun[17] = std::byte{0};
  uint32_t sum = wire::pseudo_header_sum(kIpA, kIpB, wire::kProtoTcp, 24);
  uint16_t c = wire::checksum_finish(wire::checksum_add(sum, overrun));
  overrun[16] = std::byte(c >> 8), overrun[17] = std::byte(c & 0xff);
  EXPECT_FALSE(wire::parse_tcp(overrun, kIpA, kIpB, &err));
  EXPECT_EQ(err, wire::TcpError::BadOption);
}

}  // namespace
}  // namespace veer::test
