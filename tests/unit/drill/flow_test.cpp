// packetdrill's relative sequence numbers, both ways, and its TS value map.
#include "tools/drill/flow.h"

#include <gtest/gtest.h>

#include "core/wire/tcp.h"

namespace veer::drill {
namespace {

using namespace wire::tcpflag;
using K = TcpOptionSpec::Kind;

const Endpoint kLocal{Ipv4Addr::of(192, 168, 0, 1), 8080};
const Endpoint kRemote{Ipv4Addr::of(192, 0, 2, 1), 40000};

PacketSpec pkt(uint8_t flags, uint32_t seq, uint16_t len, uint32_t ack) {
  PacketSpec p;
  p.flags = flags;
  p.seq = seq;
  p.payload = len;
  p.end_seq = seq + len;
  p.ack = ack;
  p.window = 1000;
  p.options.emplace();
  return p;
}

Segment seg(uint8_t flags, uint32_t seq, uint32_t len, uint32_t ack) {
  Segment s;
  s.src = kLocal;
  s.dst = kRemote;
  s.flags = flags;
  s.seq = seq;
  s.payload = len;
  s.ack = ack;
  return s;
}

// A passive flow after the peer's SYN (script ISN 0) and our SYN-ACK with
// live ISN 5000000 (script ISN 0).
Flow passive() {
  Flow f;
  f.state = Flow::State::PassiveSynAckSent;
  f.live_local = kLocal;
  f.live_remote = kRemote;
  f.remote_isn = 0;
  f.script_local_isn = 0;
  f.live_local_isn = 5000000;
  return f;
}

TEST(DrillFlow, InboundAckAndSackMapToTheStacksSequenceSpace) {
  Flow f = passive();
  PacketSpec p = pkt(kAck, 1, 100, 1001);
  TcpOptionSpec sack;
  sack.kind = K::Sack;
  sack.blocks = {{2001, 3001}};
  p.options->push_back(sack);
  std::string err;
  auto s = f.to_live(p, false, &err);
  ASSERT_TRUE(s) << err;
  EXPECT_EQ(s->seq, 1u);  // the peer's numbers go out as written (its ISN is the script's)
  EXPECT_EQ(s->ack, 5001001u);
  EXPECT_EQ(s->options[0].blocks[0], std::make_pair(5002001u, 5003001u));
  EXPECT_EQ(s->src, kRemote);
  EXPECT_EQ(s->dst, kLocal);
}

TEST(DrillFlow, NonZeroPeerIsnMakesItsNumbersRelative) {
  Flow f = passive();
  f.remote_isn = 1000;
  std::string err;
  EXPECT_EQ(f.to_live(pkt(kSyn, 1000, 0, 0), false, &err)->seq, 1000u);  // a SYN: absolute
  EXPECT_EQ(f.to_live(pkt(kAck, 1, 0, 1), false, &err)->seq, 1001u);     // others: relative
}

TEST(DrillFlow, AckWithoutTheAckFlagIsLeftAlone) {
  Flow f = passive();
  std::string err;
  EXPECT_EQ(f.to_live(pkt(kRst, 1, 0, 0), false, &err)->ack, 0u);
}

TEST(DrillFlow, OutboundSequenceNumbersBecomeRelative) {
  Flow f = passive();
  Segment synack = seg(kSyn | kAck, 5000000, 0, 1);
  f.seq_to_script(synack);
  EXPECT_EQ(synack.seq, 0u);
  EXPECT_EQ(synack.ack, 1u);
  Segment data = seg(kAck | kPsh, 5000001, 1000, 1);
  f.seq_to_script(data);
  EXPECT_EQ(data.seq, 1u);
  EXPECT_EQ(data.ack, 1u);
}

TEST(DrillFlow, ScriptIsnOtherThanZero) {
  Flow f = passive();
  f.script_local_isn = 100;
  Segment synack = seg(kSyn | kAck, 5000000, 0, 1);
  f.seq_to_script(synack);
  EXPECT_EQ(synack.seq, 100u);
  std::string err;
  // An inbound SYN-ACK's ack is relative to the script's ISN too.
  EXPECT_EQ(f.to_live(pkt(kSyn | kAck, 0, 0, 101), false, &err)->ack, 5000001u);
}

TEST(DrillFlow, OutboundSackBlocksAreThePeersSequenceSpace) {
  Flow f = passive();
  f.remote_isn = 7;
  Segment s = seg(kAck, 5000001, 0, 108);
  TcpOptionSpec sack;
  sack.kind = K::Sack;
  sack.blocks = {{1008, 2008}};
  s.options.push_back(sack);
  f.seq_to_script(s);
  EXPECT_EQ(s.ack, 101u);
  EXPECT_EQ(s.options[0].blocks[0], std::make_pair(1001u, 2001u));
}

TEST(DrillFlow, ActiveOpenLearnsPortAndIsnFromTheSyn) {
  Flow f;
  f.state = Flow::State::ActiveSynSent;
  f.live_remote = {kRemote.addr, 8080};
  Segment syn = seg(kSyn, 777, 0, 0);
  syn.src = {kLocal.addr, 33000};
  syn.dst = f.live_remote;
  EXPECT_TRUE(f.claim_syn(syn));
  EXPECT_EQ(f.live_local.port, 33000);
  EXPECT_EQ(f.live_local_isn, 777u);
  EXPECT_TRUE(f.is_outbound(syn));
  Segment other = syn;
  other.dst.port = 9;
  f.state = Flow::State::ActiveSynSent;
  EXPECT_FALSE(f.claim_syn(other));
}

TEST(DrillFlow, TsValMapsFromTheFirstSeenAndEcrBackToLive) {
  Flow f = passive();
  TcpOptionSpec ts;
  ts.kind = K::Timestamp;
  ts.value = 4000000;  // live TSval
  Segment s = seg(kSyn | kAck, 5000000, 0, 1);
  s.options.push_back(ts);
  f.ts_to_script(s, 100);  // the script calls it 100
  EXPECT_EQ(s.options[0].value, 100u);
  Segment later = seg(kAck, 5000001, 0, 1);
  ts.value = 4001100;  // 1100 ticks later
  later.options.push_back(ts);
  f.ts_to_script(later, 1200);
  EXPECT_EQ(later.options[0].value, 1200u);

  // The peer echoes script TSval 100: the stack must see its live value.
  PacketSpec p = pkt(kAck, 1, 0, 1);
  TcpOptionSpec echo;
  echo.kind = K::Timestamp;
  echo.value = 555;
  echo.ecr = 100;
  p.options->push_back(echo);
  std::string err;
  auto live = f.to_live(p, false, &err);
  ASSERT_TRUE(live) << err;
  EXPECT_EQ(live->options[0].value, 555u);
  EXPECT_EQ(live->options[0].ecr, 4000000u);

  p.options->back().ecr = 150;  // never sent by the stack
  EXPECT_FALSE(f.to_live(p, false, &err));
  EXPECT_NE(err.find("unable to infer live TS ecr"), std::string::npos);
  auto scaled = f.to_live(p, true, &err);  // --tcp_ts_ecr_scaled interpolates
  ASSERT_TRUE(scaled);
  EXPECT_EQ(scaled->options[0].ecr, 4000050u);
}

}  // namespace
}  // namespace veer::drill
