// Frames to and from the stack under test.
#include "tools/drill/segment.h"

#include <gtest/gtest.h>

#include "core/wire/tcp.h"

namespace veer::drill {
namespace {

using namespace wire::tcpflag;
using K = TcpOptionSpec::Kind;

TEST(DrillSegment, BuildThenDecodeKeepsEveryFieldAndOptionOrder) {
  Segment s;
  s.src = {Ipv4Addr::of(192, 0, 2, 1), 40000};
  s.dst = {Ipv4Addr::of(192, 168, 0, 1), 8080};
  s.seq = 0xfffffff0u;
  s.ack = 12345;
  s.flags = kAck | kPsh;
  s.window = 257;
  s.urg = 0;
  s.payload = 100;
  TcpOptionSpec nop;
  nop.kind = K::Nop;
  TcpOptionSpec ts;
  ts.kind = K::Timestamp;
  ts.value = 7;
  ts.ecr = 9;
  TcpOptionSpec sack;
  sack.kind = K::Sack;
  sack.blocks = {{1, 2}, {3, 4}};
  s.options = {nop, nop, ts, nop, nop, sack};
  ASSERT_EQ(options_wire_length(s.options), 32u);
  auto frame = build_tcp_frame(s, MacAddr{{2, 0, 0, 0, 0, 1}}, MacAddr{{2, 0, 0, 0, 0, 2}});
  std::string err;
  auto d = decode_tcp_frame(frame, &err);  // checksums are verified on the way
  ASSERT_TRUE(d) << err;
  EXPECT_EQ(d->src, s.src);
  EXPECT_EQ(d->dst, s.dst);
  EXPECT_EQ(d->seq, s.seq);
  EXPECT_EQ(d->ack, s.ack);
  EXPECT_EQ(d->flags, s.flags);
  EXPECT_EQ(d->window, 257);
  EXPECT_EQ(d->payload, 100u);
  EXPECT_TRUE(d->payload_zero);
  EXPECT_EQ(d->options, s.options);
  EXPECT_EQ(d->options_len, 32u);
}

TEST(DrillSegment, BadChecksumsAreReported) {
  Segment s;
  s.src = {Ipv4Addr::of(192, 0, 2, 1), 1};
  s.dst = {Ipv4Addr::of(192, 168, 0, 1), 2};
  s.payload = 4;
  auto frame = build_tcp_frame(s, MacAddr{}, MacAddr{});
  frame.back() = std::byte{1};  // payload changed after the checksum
  std::string err;
  EXPECT_FALSE(decode_tcp_frame(frame, &err));
  EXPECT_EQ(err, "bad outbound TCP checksum");
}

}  // namespace
}  // namespace veer::drill
