// ICMP errors for TCP (tcp_v4_err()) and a neighbour that never answers ARP.
#include <gtest/gtest.h>

#include <string>

#include "core/wire/checksum.h"
#include "core/wire/icmp.h"
#include "tests/unit/core/harness.h"

namespace veer::test {
namespace {

using namespace std::chrono_literals;
using namespace wire::tcpflag;
using core::TcpState;

// An ICMP error from the peer quoting the IP header and first 8 bytes of a
// segment we sent (its raw frame).
Frame icmp_error(uint8_t type, uint8_t code, uint16_t mtu, const Frame& our_frame) {
  Bytes quoted = Bytes(our_frame).subspan(wire::kEthHeaderLen, wire::kIpv4MinHeaderLen + 8);
  std::vector<std::byte> icmp(wire::kIcmpHeaderLen + quoted.size());
  wire::emit_icmp({type, code, mtu, quoted}, icmp);
  Frame f(wire::kEthHeaderLen + wire::kIpv4MinHeaderLen + icmp.size());
  wire::emit_ethernet({kMacA, kMacB, wire::kEtherTypeIpv4}, f);
  wire::Ipv4Header ih;
  ih.protocol = wire::kProtoIcmp, ih.src = kIpB, ih.dst = kIpA;
  wire::emit_ipv4(ih, icmp.size(), MutableBytes(f).subspan(wire::kEthHeaderLen));
  std::copy(icmp.begin(), icmp.end(), f.begin() + wire::kEthHeaderLen + wire::kIpv4MinHeaderLen);
  return f;
}

// The next raw frame that carries TCP.
Frame next_tcp_frame(PeerHarness& h) {
  h.advance(0s);  // lets the harness answer ARP, which releases queued packets
  while (!h.raw_frames().empty()) {
    Frame f = h.raw_frames().front();
    h.raw_frames().pop_front();
    if (decode_tcp(f)) return f;
  }
  return {};
}

TEST(IcmpErrors, PortUnreachableFailsAConnectAtOnce) {
  PeerHarness h;
  auto s = h.stack().tcp_socket().value();
  h.stack().connect(s, {kIpB, 80}, h.now());
  Frame syn = next_tcp_frame(h);
  ASSERT_FALSE(syn.empty());
  h.inject_frame(icmp_error(wire::kIcmpDestUnreachable, 3, 0, syn));
  EXPECT_EQ(h.stack().state(s), TcpState::Closed);
  EXPECT_EQ(h.stack().connect(s, {kIpB, 80}, h.now()), ECONNREFUSED);
}

TEST(IcmpErrors, AnErrorForNothingInFlightIsIgnored) {
  PeerHarness h;
  auto s = h.stack().tcp_socket().value();
  h.stack().connect(s, {kIpB, 80}, h.now());
  Frame syn = next_tcp_frame(h);
  // Quote a sequence number we never sent.
  syn[wire::kEthHeaderLen + 20 + 4] ^= std::byte{0x40};
  h.inject_frame(icmp_error(wire::kIcmpDestUnreachable, 1, 0, syn));
  EXPECT_EQ(h.stack().state(s), TcpState::SynSent);
  EXPECT_EQ(h.stack().counters().icmp_out_of_window, 1u);
}

TEST(IcmpErrors, NeighbourThatNeverAnswersArpGivesEhostunreach) {
  // Linux: connect() to a silent address on the subnet fails with "No route
  // to host" once the neighbour gives up (3 requests, 1 s apart).
  PeerHarness h;
  h.answer_arp = false;
  auto s = h.stack().tcp_socket().value();
  ASSERT_EQ(h.stack().connect(s, {kIpB, 80}, h.now()), EINPROGRESS);
  h.advance_to(2999ms);
  EXPECT_EQ(h.stack().state(s), TcpState::SynSent);
  h.advance_to(3s);
  EXPECT_EQ(h.stack().state(s), TcpState::Closed);
  EXPECT_EQ(h.stack().connect(s, {kIpB, 80}, h.now()), EHOSTUNREACH);
}

TEST(IcmpErrors, FragmentationNeededShrinksTheSegments) {
  PeerHarness h;
  auto l = h.stack().tcp_socket().value();
  h.stack().bind(l, {Ipv4Addr{}, 18000});
  h.stack().listen(l, 5);
  wire::TcpHeader syn;
  syn.src_port = 40000, syn.dst_port = 18000, syn.flags = kSyn, syn.seq = 1, syn.window = 65535;
  syn.options.mss = 1460;
  h.inject(syn);
  auto sa = h.next_segment();
  wire::TcpHeader ack = syn;
  ack.flags = kAck, ack.seq = 2, ack.ack = sa->tcp.seq + 1, ack.options = {};
  h.inject(ack);
  auto c = h.stack().accept(l, nullptr).value();
  std::string data(3000, 'z');
  h.stack().send(c, Bytes(reinterpret_cast<const std::byte*>(data.data()), data.size()), h.now());
  Frame first = next_tcp_frame(h);
  ASSERT_EQ(decode_tcp(first)->payload.size(), 1460u);
  h.raw_frames().clear();
  // A router on the path has an MTU of 1000.
  h.inject_frame(icmp_error(wire::kIcmpDestUnreachable, 4, 1000, first));
  size_t total = 0;
  while (auto s = h.next_segment()) {
    EXPECT_LE(s->payload.size(), 960u);
    total += s->payload.size();
  }
  // tcp_simple_retransmit(): the two full-size segments were too big for the
  // path and go again in pieces that fit; the 80-byte tail got through.
  EXPECT_EQ(total, 2u * 1460u);
}

}  // namespace
}  // namespace veer::test
