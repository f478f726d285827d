// XdpDevice against the real kernel over a veth pair at MTU 9000, inside a
// throwaway network namespace per test: veer's AF_XDP socket on xv0, the
// kernel at 10.98.0.1 on xv0-k. Full-size frames span several UMEM chunks
// (XDP multi-buffer) each way.
#include "netdev/xdp_device.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <vector>

#include "netdev/link.h"
#include "tests/unit/netdev/byte_order.h"
#include "tests/unit/netdev/netns_fixture.h"

namespace veer::netdev {
namespace {

using namespace std::chrono_literals;
using Frame = std::vector<std::byte>;

constexpr size_t kEth = 14;
constexpr int kMtu = 9000;
constexpr size_t kPayload = kMtu - 20 - 8;  // a full-size UDP datagram
constexpr Ipv4Addr kKernelIp = Ipv4Addr::of(10, 98, 0, 1);
constexpr Ipv4Addr kVeerIp = Ipv4Addr::of(10, 98, 0, 2);
constexpr uint16_t kToVeerPort = 7001, kToKernelPort = 7002;

// Where the kernel's datagrams to veer go.
sockaddr_in to_veer() {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(kToVeerPort);
  to.sin_addr.s_addr = htonl(kVeerIp.v);
  return to;
}
std::byte pattern(size_t i, int seq) {
  return std::byte(static_cast<uint8_t>(i * 7 + static_cast<size_t>(seq) * 13));
}

// Ethernet + IPv4 + UDP from veer to the kernel, `kPayload` bytes of pattern
// `seq` (UDP checksum 0: none, as IPv4 allows).
Frame udp_frame(MacAddr src, MacAddr dst, int seq) {
  Frame f(kEth + 28 + kPayload);
  std::byte* p = f.data();
  std::memcpy(p, dst.b.data(), 6);
  std::memcpy(p + 6, src.b.data(), 6);
  store_be16(p + 12, 0x0800);
  std::byte* ip = p + kEth;
  ip[0] = std::byte{0x45};
  store_be16(ip + 2, static_cast<uint16_t>(20 + 8 + kPayload));
  ip[8] = std::byte{64};
  ip[9] = std::byte{IPPROTO_UDP};
  store_be32(ip + 12, kVeerIp.v);
  store_be32(ip + 16, kKernelIp.v);
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += load_be16(ip + i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  store_be16(ip + 10, static_cast<uint16_t>(~sum));
  std::byte* udp = ip + 20;
  store_be16(udp, 5000);
  store_be16(udp + 2, kToKernelPort);
  store_be16(udp + 4, static_cast<uint16_t>(8 + kPayload));
  for (size_t i = 0; i < kPayload; ++i) udp[8 + i] = pattern(i, seq);
  return f;
}

// The ARP reply to a request for veer's address, or nothing.
std::optional<Frame> arp_reply_to(Bytes req, MacAddr ours) {
  if (req.size() < kEth + 28 || load_be16(req.data() + 12) != 0x0806 ||
      load_be16(req.data() + kEth + 6) != 1)
    return std::nullopt;
  Frame f(kEth + 28);
  std::byte* p = f.data();
  std::memcpy(p, req.data() + 6, 6);  // to the asker
  std::memcpy(p + 6, ours.b.data(), 6);
  store_be16(p + 12, 0x0806);
  std::memcpy(p + kEth, req.data() + kEth, 6);  // htype, ptype, hlen, plen
  store_be16(p + kEth + 6, 2);
  std::memcpy(p + kEth + 8, ours.b.data(), 6);
  std::memcpy(p + kEth + 14, req.data() + kEth + 24, 4);  // our address, as asked
  std::memcpy(p + kEth + 18, req.data() + kEth + 8, 10);  // the asker's MAC and address
  return f;
}

int udp_socket(uint16_t bind_port) {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int big = 8 << 20;
  (void)::setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  timeval tv{2, 0};
  (void)::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (bind_port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(bind_port);
    a.sin_addr.s_addr = htonl(kKernelIp.v);
    if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(s);
      return -1;
    }
  }
  return s;
}

class XdpDeviceTest : public testing::NetnsTest {
 protected:
  // xv0 <-> xv0-k at `mtu`, the kernel at 10.98.0.1/24 on xv0-k, and
  // veer's AF_XDP socket on xv0.
  std::unique_ptr<XdpDevice> open_pair(bool multi_buffer, uint16_t mtu = kMtu) {
    EXPECT_EQ(create_veth_pair("xv0", "xv0-k"), "");
    for (const char* link : {"xv0", "xv0-k"}) EXPECT_EQ(set_link_mtu(link, mtu), "");
    EXPECT_EQ(set_tx_checksum_offload("xv0-k", false), "");
    EXPECT_EQ(add_address("xv0-k", *Ipv4Prefix::parse("10.98.0.1/24")), "");
    EXPECT_EQ(set_link_up("xv0-k", true), "");
    EXPECT_EQ(set_link_up("xv0", true), "");
    XdpOptions options;
    options.ifname = "xv0";
    options.frames = 1024;
    options.ring_size = 512;
    options.address = kVeerIp;
    options.multi_buffer = multi_buffer;
    std::string error;
    auto dev = XdpDevice::open(options, &error);
    EXPECT_NE(dev, nullptr) << error;
    return dev;
  }
};

TEST_F(XdpDeviceTest, FullSizeFramesBothWaysAtMtu9000) {
  auto dev = open_pair(true);
  ASSERT_NE(dev, nullptr);
  if (!dev->multi_buffer())
    GTEST_SKIP() << "no XDP multi-buffer here: " << dev->single_buffer_reason();
  EXPECT_EQ(dev->mtu(), kMtu);
  MacAddr ours = *link_mac("xv0"), kernel = *link_mac("xv0-k");

  // The kernel sends full-size datagrams to veer (after ARP, which the test
  // answers through the device). receive_burst(1) takes one descriptor per
  // call, so every frame's chain spans calls.
  constexpr int kFrames = 32;
  int tx = udp_socket(0);
  ASSERT_GE(tx, 0);
  sockaddr_in to = to_veer();
  std::vector<std::byte> payload(kPayload);
  int sent = 0, got = 0;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (got < kFrames && std::chrono::steady_clock::now() < deadline) {
    if (sent < kFrames && sent <= got + 4) {
      for (size_t i = 0; i < kPayload; ++i) payload[i] = pattern(i, sent);
      if (::sendto(tx, payload.data(), payload.size(), MSG_DONTWAIT,
                   reinterpret_cast<sockaddr*>(&to), sizeof to) == static_cast<ssize_t>(kPayload))
        ++sent;
    }
    pollfd p{dev->pollable_fd(), POLLIN, 0};
    ::poll(&p, 1, 10);
    ASSERT_GE(dev->receive_burst(1,
                                 [&](Bytes f) {
                                   if (auto reply = arp_reply_to(f, ours)) {
                                     ASSERT_EQ(dev->transmit(Bytes(reply->data(), reply->size())),
                                               0);
                                     return;
                                   }
                                   if (f.size() < kEth + 28 || load_be16(f.data() + 12) != 0x0800 ||
                                       load_be16(f.data() + kEth + 22) != kToVeerPort)
                                     return;
                                   ASSERT_EQ(f.size(), kEth + 28 + kPayload);
                                   for (size_t i = 0; i < kPayload; ++i)
                                     ASSERT_EQ(f[kEth + 28 + i], pattern(i, got))
                                         << "frame " << got << " byte " << i;
                                   ++got;
                                 }),
              0);
    dev->flush();
  }
  ::close(tx);
  EXPECT_EQ(got, kFrames);
  DeviceCounters c = dev->counters();
  EXPECT_GE(c.rx_multibuf_frames, static_cast<uint64_t>(kFrames));
  EXPECT_EQ(c.rx_bad_chains, 0u);

  // veer sends full-size frames to the kernel, all queued before one flush.
  int rx = udp_socket(kToKernelPort);
  ASSERT_GE(rx, 0);
  for (int i = 0; i < kFrames; ++i) {
    Frame f = udp_frame(ours, kernel, i);
    ASSERT_EQ(dev->transmit(Bytes(f.data(), f.size())), 0) << "frame " << i;
  }
  dev->flush();
  for (int i = 0; i < kFrames; ++i) {
    ssize_t n = ::recv(rx, payload.data(), payload.size() + 1, 0);
    ASSERT_EQ(n, static_cast<ssize_t>(kPayload))
        << "datagram " << i << ": " << std::strerror(errno);
    for (size_t j = 0; j < kPayload; ++j) ASSERT_EQ(payload[j], pattern(j, i)) << "datagram " << i;
  }
  ::close(rx);
  c = dev->counters();
  EXPECT_EQ(c.tx_multibuf_frames, static_cast<uint64_t>(kFrames));
  EXPECT_GT(c.tx_kicks, 0u);
}

TEST_F(XdpDeviceTest, TooLongChainIsCountedAndDropped) {
  // The link takes 16000-byte frames, more than veer gathers (three
  // chunks): such a chain is dropped and counted, and the next frame, a
  // full-size one for MTU 9000, still arrives intact.
  auto dev = open_pair(true);
  ASSERT_NE(dev, nullptr);
  if (!dev->multi_buffer()) GTEST_SKIP() << "no XDP multi-buffer here";
  for (const char* link : {"xv0-k", "xv0"})
    ASSERT_EQ(set_link_mtu(link, 16000), "") << "veth refused MTU 16000 with a frags program";
  MacAddr ours = *link_mac("xv0");
  int tx = udp_socket(0);
  ASSERT_GE(tx, 0);
  sockaddr_in to = to_veer();
  std::vector<std::byte> huge(15000, std::byte{0x5a}), payload(kPayload);
  for (size_t i = 0; i < kPayload; ++i) payload[i] = pattern(i, 0);
  bool sent_huge = false, sent_normal = false, got = false;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!got && std::chrono::steady_clock::now() < deadline) {
    // The first datagram waits for ARP; the second follows it once the
    // first is out (the kernel keeps one packet queued per neighbour).
    if (!sent_huge)
      sent_huge = ::sendto(tx, huge.data(), huge.size(), MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&to), sizeof to) > 0;
    else if (!sent_normal && dev->counters().rx_bad_chains > 0)
      sent_normal = ::sendto(tx, payload.data(), payload.size(), MSG_DONTWAIT,
                             reinterpret_cast<sockaddr*>(&to), sizeof to) > 0;
    pollfd p{dev->pollable_fd(), POLLIN, 0};
    ::poll(&p, 1, 10);
    ASSERT_GE(dev->receive_burst(
                  2,
                  [&](Bytes f) {
                    if (auto reply = arp_reply_to(f, ours)) {
                      ASSERT_EQ(dev->transmit(Bytes(reply->data(), reply->size())), 0);
                      return;
                    }
                    if (f.size() < kEth + 28 || load_be16(f.data() + 12) != 0x0800 ||
                        load_be16(f.data() + kEth + 22) != kToVeerPort)
                      return;
                    ASSERT_EQ(f.size(), kEth + 28 + kPayload) << "the too-long frame came through";
                    for (size_t i = 0; i < kPayload; ++i)
                      ASSERT_EQ(f[kEth + 28 + i], pattern(i, 0));
                    got = true;
                  }),
              0);
    dev->flush();
  }
  ::close(tx);
  EXPECT_TRUE(got);
  EXPECT_EQ(dev->counters().rx_bad_chains, 1u);
}

TEST_F(XdpDeviceTest, SingleBufferCapsTheMtu) {
  // Without multi-buffer a 9000 link cannot take native XDP; generic mode
  // (or a refusal naming the fix) is what is left. Either way no crash and
  // an MTU of at most kMaxXdpMtu.
  auto dev = open_pair(false, 1500);
  ASSERT_NE(dev, nullptr);
  EXPECT_FALSE(dev->multi_buffer());
  EXPECT_EQ(dev->mtu(), 1500);
  EXPECT_EQ(dev->single_buffer_reason(), "");
  // A frame longer than one chunk cannot go out without multi-buffer.
  Frame big(5000);
  EXPECT_EQ(dev->transmit(Bytes(big.data(), big.size())), -EMSGSIZE);
}

}  // namespace
}  // namespace veer::netdev
