// ARP, ICMP and malformed input, against one stack in virtual time.
#include <gtest/gtest.h>

#include <random>

#include "core/wire/checksum.h"
#include "core/wire/icmp.h"
#include "tests/unit/core/harness.h"

namespace veer::test {
namespace {

using namespace std::chrono_literals;

std::optional<wire::ArpPacket> as_arp(const Frame& f) {
  auto eth = wire::parse_ethernet(f);
  if (!eth || eth->header.ether_type != wire::kEtherTypeArp) return std::nullopt;
  return wire::parse_arp(eth->payload);
}

TEST(Arp, AnswersRequestsForOurAddressOnly) {
  PeerHarness h;
  h.answer_arp = false;
  wire::ArpPacket req{wire::kArpRequest, kMacB, kIpB, MacAddr{}, kIpA};
  h.inject_frame(build_arp_frame(kMacB, MacAddr::broadcast(), req));
  ASSERT_EQ(h.raw_frames().size(), 1u);
  auto eth = wire::parse_ethernet(h.raw_frames().front());
  EXPECT_EQ(eth->header.dst, kMacB);
  auto reply = as_arp(h.raw_frames().front());
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->op, wire::kArpReply);
  EXPECT_EQ(reply->sender_mac, kMacA);
  EXPECT_EQ(reply->sender_ip, kIpA);
  EXPECT_EQ(reply->target_ip, kIpB);
  h.raw_frames().clear();

  wire::ArpPacket other{wire::kArpRequest, kMacB, kIpB, MacAddr{}, Ipv4Addr::of(10, 77, 0, 9)};
  h.inject_frame(build_arp_frame(kMacB, MacAddr::broadcast(), other));
  EXPECT_TRUE(h.raw_frames().empty());
  EXPECT_EQ(h.stack().counters().arp_requests_answered, 1u);
}

TEST(Arp, ResolvesBeforeSendingRetriesEverySecondThenGivesUp) {
  PeerHarness h;
  h.answer_arp = false;
  auto s = h.stack().tcp_socket().value();
  EXPECT_EQ(h.stack().connect(s, {kIpB, 80}, h.now()), EINPROGRESS);
  // The SYN waits for ARP: a broadcast request at 0, 1 s, 2 s, then failure.
  std::vector<Time> requests;
  auto collect = [&] {
    while (!h.raw_frames().empty()) {
      auto arp = as_arp(h.raw_frames().front());
      ASSERT_TRUE(arp) << "only ARP may leave before resolution";
      EXPECT_EQ(arp->op, wire::kArpRequest);
      EXPECT_EQ(arp->target_ip, kIpB);
      requests.push_back(h.now());
      h.raw_frames().pop_front();
    }
  };
  collect();
  for (int ms = 100; ms <= 3500; ms += 100) {
    h.advance_to(std::chrono::milliseconds(ms));
    collect();
  }
  EXPECT_EQ(requests, (std::vector<Time>{0s, 1s, 2s}));
  EXPECT_EQ(h.stack().counters().arp_resolution_failed, 1u);
  EXPECT_GE(h.stack().counters().arp_queue_dropped, 1u);
}

TEST(Arp, QueuedPacketLeavesOnceResolved) {
  PeerHarness h;
  h.answer_arp = false;
  auto s = h.stack().tcp_socket().value();
  h.stack().connect(s, {kIpB, 80}, h.now());
  ASSERT_EQ(h.raw_frames().size(), 1u);
  h.raw_frames().clear();
  wire::ArpPacket reply{wire::kArpReply, kMacB, kIpB, kMacA, kIpA};
  h.inject_frame(build_arp_frame(kMacB, kMacA, reply));
  auto seg = h.next_segment();
  ASSERT_TRUE(seg);
  EXPECT_TRUE(seg->has(wire::tcpflag::kSyn));
  EXPECT_EQ(seg->ip.dst, kIpB);
}

TEST(Icmp, EchoRequestGetsAReplyWithTheSamePayload) {
  PeerHarness h;
  std::vector<std::byte> body{std::byte{'p'}, std::byte{'i'}, std::byte{'n'}, std::byte{'g'}};
  std::vector<std::byte> icmp(8 + body.size());
  wire::emit_icmp({wire::kIcmpEchoRequest, 0, 0x12340001, body}, icmp);
  Frame f(14 + 20 + icmp.size());
  wire::emit_ethernet({kMacA, kMacB, wire::kEtherTypeIpv4}, f);
  wire::Ipv4Header ih;
  ih.protocol = wire::kProtoIcmp, ih.src = kIpB, ih.dst = kIpA;
  wire::emit_ipv4(ih, icmp.size(), MutableBytes(f).subspan(14));
  std::copy(icmp.begin(), icmp.end(), f.begin() + 34);
  h.inject_frame(f);
  ASSERT_EQ(h.raw_frames().size(), 1u);
  auto eth = wire::parse_ethernet(h.raw_frames().front());
  wire::Ipv4Error ie{};
  auto ip = wire::parse_ipv4(eth->payload, &ie);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->header.dst, kIpB);
  auto m = wire::parse_icmp(ip->payload);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, wire::kIcmpEchoReply);
  EXPECT_EQ(m->rest, 0x12340001u);
  EXPECT_TRUE(std::equal(m->body.begin(), m->body.end(), body.begin(), body.end()));
}

// --- Bad input: counted and dropped, never a crash --------------------------

Frame syn_frame() {
  wire::TcpHeader t;
  t.src_port = 40000, t.dst_port = 18000, t.seq = 1000, t.flags = wire::tcpflag::kSyn;
  t.window = 65535;
  return build_tcp_frame(kMacB, kMacA, kIpB, kIpA, t, {});
}

TEST(BadInput, TruncatedFramesAreCountedAndDropped) {
  PeerHarness h;
  Frame f = syn_frame();
  h.inject_frame(Frame(f.begin(), f.begin() + 10));  // shorter than Ethernet
  EXPECT_EQ(h.stack().counters().eth_rx_truncated, 1u);
  h.inject_frame(Frame(f.begin(), f.begin() + 30));  // IPv4 header cut
  EXPECT_EQ(h.stack().counters().ip_rx_header_errors, 1u);
  EXPECT_TRUE(h.raw_frames().empty());
}

TEST(BadInput, CorruptChecksumsAreCountedAndDropped) {
  PeerHarness h;
  Frame ip_bad = syn_frame();
  ip_bad[14 + 8] ^= std::byte{0x01};  // TTL flipped: IP checksum fails
  h.inject_frame(ip_bad);
  EXPECT_EQ(h.stack().counters().ip_rx_bad_checksum, 1u);
  Frame tcp_bad = syn_frame();
  tcp_bad[14 + 20 + 4] ^= std::byte{0x01};  // sequence number flipped
  h.inject_frame(tcp_bad);
  EXPECT_EQ(h.stack().counters().tcp_rx_bad_checksum, 1u);
  EXPECT_TRUE(h.raw_frames().empty()) << "a corrupt SYN must not be answered";
  h.inject_frame(syn_frame());  // the intact one is answered (RST: no listener)
  EXPECT_EQ(h.stack().counters().tcp_no_socket, 1u);
}

// A TAP with offloads hands over the local kernel's frames with a partial
// TCP checksum (virtio_net_hdr NEEDS_CSUM): the device vouches, core does not
// check it. The IP header checksum is still checked.
TEST(BadInput, TrustedTcpChecksumIsNotChecked) {
  PeerHarness h;
  Frame tcp_partial = syn_frame();
  tcp_partial[14 + 20 + 16] ^= std::byte{0x5a};
  h.inject_frame(tcp_partial, /*checksum_trusted=*/true);
  EXPECT_EQ(h.stack().counters().tcp_rx_bad_checksum, 0u);
  EXPECT_EQ(h.stack().counters().tcp_no_socket, 1u) << "answered as any SYN";
  h.inject_frame(tcp_partial);  // the next frame is checked again
  EXPECT_EQ(h.stack().counters().tcp_rx_bad_checksum, 1u);
  Frame ip_bad = syn_frame();
  ip_bad[14 + 8] ^= std::byte{0x01};
  h.inject_frame(ip_bad, true);
  EXPECT_EQ(h.stack().counters().ip_rx_bad_checksum, 1u);
}

TEST(BadInput, FragmentsOtherHostsAndUnknownTypesAreCounted) {
  PeerHarness h;
  Frame frag = syn_frame();
  frag[14 + 6] = std::byte{0x20};  // MF set
  frag[14 + 10] = frag[14 + 11] = std::byte{0};
  uint16_t c = wire::checksum(Bytes(frag).subspan(14, 20));
  frag[14 + 10] = std::byte(c >> 8), frag[14 + 11] = std::byte(c & 0xff);
  h.inject_frame(frag);
  EXPECT_EQ(h.stack().counters().ip_rx_fragments_dropped, 1u);
  Frame other_mac = syn_frame();
  other_mac[0] = std::byte{0x04};
  h.inject_frame(other_mac);
  EXPECT_EQ(h.stack().counters().eth_rx_not_for_us, 1u);
  Frame ipv6 = syn_frame();
  ipv6[12] = std::byte{0x86}, ipv6[13] = std::byte{0xdd};
  h.inject_frame(ipv6);
  EXPECT_EQ(h.stack().counters().eth_rx_unknown_type, 1u);
  EXPECT_TRUE(h.raw_frames().empty());
}

TEST(BadInput, RandomGarbageNeverCrashesAndIsAllAccountedFor) {
  PeerHarness h;
  h.answer_arp = false;  // only the 20000 frames below go in
  std::mt19937 rng(42);
  Frame base = syn_frame();
  for (int i = 0; i < 20000; ++i) {
    Frame f = base;
    // Corrupt a few random bytes past the MAC addresses, and maybe truncate.
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) f[12 + rng() % (f.size() - 12)] = std::byte(rng() & 0xff);
    if (rng() % 3 == 0) f.resize(rng() % f.size());
    h.inject_frame(f);
  }
  const auto& c = h.stack().counters();
  EXPECT_EQ(c.eth_rx_frames, 20000u);
  // Nearly every corrupted frame fails a length or checksum check; the
  // sanitizers in CI check that none of them is read out of bounds.
  uint64_t rejected = c.eth_rx_truncated + c.eth_rx_unknown_type + c.eth_rx_not_for_us +
                      c.ip_rx_header_errors + c.ip_rx_bad_checksum + c.ip_rx_not_for_us +
                      c.ip_rx_fragments_dropped + c.ip_rx_unknown_protocol + c.tcp_rx_bad_checksum +
                      c.tcp_rx_malformed + c.arp_rx_malformed;
  EXPECT_GT(rejected, 19000u);
  EXPECT_EQ(rejected + c.tcp_rx_segments + c.icmp_rx +
                (c.eth_rx_frames - c.eth_rx_truncated - c.eth_rx_unknown_type -
                 c.eth_rx_not_for_us - c.ip_rx_packets - c.arp_rx_malformed),
            20000u);
}

}  // namespace
}  // namespace veer::test
