// Matching the stack's segments against the script's, and merging them.
#include "tools/drill/matcher.h"

#include <gtest/gtest.h>

#include "core/wire/tcp.h"

namespace veer::drill {
namespace {

using namespace wire::tcpflag;
using K = TcpOptionSpec::Kind;

TcpOptionSpec opt(K k, uint32_t v = 0, uint32_t ecr = 0) {
  TcpOptionSpec o;
  o.kind = k;
  o.value = v;
  o.ecr = ecr;
  return o;
}

PacketSpec expect(uint8_t flags, uint32_t seq, uint16_t len, uint32_t ack) {
  PacketSpec p;
  p.inbound = false;
  p.flags = flags;
  p.seq = seq;
  p.payload = len;
  p.ack = ack;
  p.options.emplace();
  return p;
}

Segment actual(uint8_t flags, uint32_t seq, uint32_t len, uint32_t ack) {
  Segment s;
  s.flags = flags;
  s.seq = seq;
  s.payload = len;
  s.ack = ack;
  s.window = 502;
  return s;
}

void set_options(Segment& s, std::vector<TcpOptionSpec> o) {
  s.options = std::move(o);
  s.options_len = options_wire_length(s.options);
}

TEST(DrillMatcher, EqualSegmentsMatch) {
  EXPECT_EQ(compare_outbound(expect(kAck | kPsh, 1, 100, 1), actual(kAck | kPsh, 1, 100, 1), {}),
            "");
}

TEST(DrillMatcher, EachHeaderFieldIsChecked) {
  PacketSpec p = expect(kAck, 1, 0, 1);
  EXPECT_EQ(compare_outbound(p, actual(kAck | kPsh, 1, 0, 1), {}), "flags: expected ., actual P.");
  EXPECT_EQ(compare_outbound(p, actual(kAck, 2, 0, 1), {}), "seq: expected 1, actual 2");
  EXPECT_EQ(compare_outbound(p, actual(kAck, 1, 0, 5), {}), "ack: expected 1, actual 5");
  EXPECT_EQ(compare_outbound(p, actual(kAck, 1, 10, 1), {}),
            "payload length: expected 0, actual 10");
  Segment dirty = actual(kAck, 1, 0, 1);
  dirty.urg = 1;
  EXPECT_EQ(compare_outbound(p, dirty, {}), "urg: expected 0, actual 1");
}

TEST(DrillMatcher, WindowOnlyWhenTheScriptGivesIt) {
  PacketSpec p = expect(kRst, 0, 0, 0);
  EXPECT_EQ(compare_outbound(p, actual(kRst, 0, 0, 0), {}), "");
  p.window = 0;
  EXPECT_EQ(compare_outbound(p, actual(kRst, 0, 0, 0), {}), "win: expected 0, actual 502");
}

TEST(DrillMatcher, OptionsInOrderOrAnythingWithEllipsis) {
  PacketSpec p = expect(kSyn | kAck, 0, 0, 1);
  p.options = {opt(K::Mss, 1460), opt(K::Nop), opt(K::WindowScale, 7)};
  Segment a = actual(kSyn | kAck, 0, 0, 1);
  set_options(a, {opt(K::Mss, 1460), opt(K::Nop), opt(K::WindowScale, 7)});
  EXPECT_EQ(compare_outbound(p, a, {}), "");
  set_options(a, {opt(K::Mss, 1460), opt(K::Nop), opt(K::WindowScale, 8)});
  EXPECT_NE(compare_outbound(p, a, {}).find("options: expected <mss 1460,nop,wscale 7>"),
            std::string::npos);
  set_options(a, {opt(K::Mss, 1460)});
  EXPECT_NE(compare_outbound(p, a, {}).find("TCP options"), std::string::npos);
  p.options.reset();  // <...>
  EXPECT_EQ(compare_outbound(p, a, {}), "");
  // No options listed at all means none may be sent.
  p.options.emplace();
  EXPECT_NE(compare_outbound(p, a, {}), "");
}

TEST(DrillMatcher, TimestampsWithinTheTolerancePerTick) {
  PacketSpec p = expect(kAck, 1, 0, 1);
  p.options = {opt(K::Nop), opt(K::Nop), opt(K::Timestamp, 1200, 200)};
  Segment a = actual(kAck, 1, 0, 1);
  set_options(a, {opt(K::Nop), opt(K::Nop), opt(K::Timestamp, 1207, 999)});
  EXPECT_EQ(compare_outbound(p, a, {}), "");  // no tick given: TSval unchecked, TSecr never
  MatchSettings tick{1000, 7000};
  EXPECT_EQ(compare_outbound(p, a, tick), "");  // 7 ticks of 1 ms within 7 ms
  set_options(a, {opt(K::Nop), opt(K::Nop), opt(K::Timestamp, 1208, 200)});
  EXPECT_NE(compare_outbound(p, a, tick).find("TS val"), std::string::npos);
}

TEST(DrillMatcher, PayloadMustBeTheZerosWritten) {
  Segment a = actual(kAck, 1, 10, 1);
  a.payload_zero = false;
  EXPECT_NE(compare_outbound(expect(kAck, 1, 10, 1), a, {}), "");
}

TEST(DrillMatcher, MergesConsecutiveSegments) {
  std::vector<Segment> f = {actual(kAck, 1, 1000, 1), actual(kAck, 1001, 1000, 1),
                            actual(kAck | kPsh, 2001, 500, 1)};
  EXPECT_EQ(check_fragment(f[0], f[1], 1000, 2500), "");
  EXPECT_EQ(check_fragment(f[1], f[2], 2000, 2500), "");
  Segment m = merge_fragments(f);
  EXPECT_EQ(m.seq, 1u);
  EXPECT_EQ(m.payload, 2500u);
  EXPECT_EQ(m.flags, kAck | kPsh);  // the last one's flags
  EXPECT_EQ(compare_outbound(expect(kAck | kPsh, 1, 2500, 1), m, {}), "");
}

TEST(DrillMatcher, FragmentsMustContinueEachOther) {
  Segment a = actual(kAck, 1, 1000, 1);
  EXPECT_NE(check_fragment(a, actual(kAck, 1501, 1000, 1), 1000, 3000), "");  // a hole
  EXPECT_NE(check_fragment(a, actual(kAck, 1001, 1000, 9), 1000, 3000), "");  // other ack
  EXPECT_NE(check_fragment(a, actual(kAck, 1001, 500, 1), 1000, 3000), "");   // short, not last
  EXPECT_EQ(check_fragment(a, actual(kAck, 1001, 500, 1), 1000, 1500), "");   // short, last
  EXPECT_NE(check_fragment(a, actual(kSyn | kAck, 1001, 1000, 1), 1000, 3000), "");
}

}  // namespace
}  // namespace veer::drill
