// TapDevice against the real kernel, inside a throwaway network namespace per
// test: the kernel at one end of the TAP's wire, the test at the other.
#include "netdev/tap_device.h"

#include <arpa/inet.h>
#include <fcntl.h>
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

constexpr uint16_t kEtherTypeArp = 0x0806;
constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr size_t kEth = 14;  // Ethernet header; ARP or IPv4 starts here.
constexpr Ipv4Addr kKernelIp = Ipv4Addr::of(10, 99, 0, 1);
constexpr Ipv4Addr kPeerIp = Ipv4Addr::of(10, 99, 0, 2);
constexpr MacAddr kPeerMac{{0x02, 0x00, 0x00, 0x99, 0x00, 0x02}};

uint16_t be16(const Frame& f, size_t at) {
  return load_be16(&f[at]);
}
uint32_t be32(const Frame& f, size_t at) {
  return load_be32(&f[at]);
}
MacAddr mac_at(const Frame& f, size_t at) {
  MacAddr mac;
  std::memcpy(mac.b.data(), f.data() + at, 6);
  return mac;
}
void put16(Frame& f, uint16_t v) {
  f.push_back(std::byte(v >> 8));
  f.push_back(std::byte(v & 0xff));
}
void put32(Frame& f, uint32_t v) {
  put16(f, static_cast<uint16_t>(v >> 16));
  put16(f, static_cast<uint16_t>(v));
}
void put_mac(Frame& f, MacAddr mac) {
  for (uint8_t b : mac.b) f.push_back(std::byte(b));
}

bool is_arp(const Frame& f, uint16_t op) {
  return f.size() >= kEth + 28 && be16(f, 12) == kEtherTypeArp && be16(f, kEth + 6) == op;
}
// ARP fields, RFC 826: sender hw at 8, sender ip at 14, target hw 18, target ip 24.
Ipv4Addr arp_sender_ip(const Frame& f) {
  return Ipv4Addr(be32(f, kEth + 14));
}
Ipv4Addr arp_target_ip(const Frame& f) {
  return Ipv4Addr(be32(f, kEth + 24));
}

Frame arp_reply(MacAddr from_mac, Ipv4Addr from_ip, MacAddr to_mac, Ipv4Addr to_ip) {
  Frame f;
  put_mac(f, to_mac);
  put_mac(f, from_mac);
  put16(f, kEtherTypeArp);
  put16(f, 1);       // Ethernet
  put16(f, 0x0800);  // IPv4
  f.push_back(std::byte{6});
  f.push_back(std::byte{4});
  put16(f, 2);  // reply
  put_mac(f, from_mac);
  put32(f, from_ip.v);
  put_mac(f, to_mac);
  put32(f, to_ip.v);
  return f;
}

// UDP in IPv4 in Ethernet to `dst` port `port`; returns the payload offset.
std::optional<size_t> udp_payload_at(const Frame& f, Ipv4Addr dst, uint16_t port) {
  if (f.size() < kEth + 20 || be16(f, 12) != kEtherTypeIpv4) return std::nullopt;
  size_t ihl = (std::to_integer<size_t>(f[kEth]) & 0xf) * 4;
  if (std::to_integer<int>(f[kEth + 9]) != IPPROTO_UDP || be32(f, kEth + 16) != dst.v) {
    return std::nullopt;
  }
  size_t udp = kEth + ihl;
  if (f.size() < udp + 8 || be16(f, udp + 2) != port) return std::nullopt;
  return udp + 8;
}

// Waits up to `timeout` for a frame `wanted` accepts, receiving in bursts the
// way the engine will (poll, then drain).
template <typename Pred>
std::optional<Frame> wait_for(TapDevice& tap, Pred wanted, std::chrono::milliseconds timeout = 3s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::optional<Frame> found;
  while (!found) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) break;
    pollfd p{tap.pollable_fd(), POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(left.count()));
    int n = tap.receive_burst(16, [&](Bytes bytes) {
      Frame f(bytes.begin(), bytes.end());
      if (!found && wanted(f)) found = std::move(f);
    });
    if (n < 0) break;
  }
  return found;
}

// Sends `payload` from a kernel UDP socket.
bool send_udp(Ipv4Addr to, uint16_t port, const std::string& payload, bool broadcast = false) {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return false;
  int on = 1;
  if (broadcast) ::setsockopt(sock, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  dst.sin_addr.s_addr = htonl(to.v);
  ssize_t n = ::sendto(sock, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&dst),
                       sizeof dst);
  ::close(sock);
  return n == static_cast<ssize_t>(payload.size());
}

class TapDeviceTest : public testing::NetnsTest {
 protected:
  // veer0 with the kernel at 10.99.0.1/24, up, and this test attached.
  std::unique_ptr<TapDevice> open_configured_tap() {
    EXPECT_EQ(create_persistent_tap("veer0"), "");
    EXPECT_EQ(add_address("veer0", *Ipv4Prefix::parse("10.99.0.1/24")), "");
    std::string error;
    auto tap = TapDevice::open("veer0", &error);
    EXPECT_NE(tap, nullptr) << error;
    EXPECT_EQ(set_link_up("veer0", true), "");
    return tap;
  }
};

TEST_F(TapDeviceTest, KernelArpsForAPeerAndLearnsOurReply) {
  auto tap = open_configured_tap();
  ASSERT_NE(tap, nullptr);
  auto kernel_mac = link_mac("veer0");
  ASSERT_TRUE(kernel_mac);

  // The kernel has a datagram for 10.99.0.2 and no neighbour entry: it asks.
  ASSERT_TRUE(send_udp(kPeerIp, 9999, "veer"));
  auto request =
      wait_for(*tap, [](const Frame& f) { return is_arp(f, 1) && arp_target_ip(f) == kPeerIp; });
  ASSERT_TRUE(request) << "no ARP request for 10.99.0.2 within 3 s";
  EXPECT_EQ(mac_at(*request, 0), MacAddr::broadcast());
  EXPECT_EQ(mac_at(*request, 6), *kernel_mac);
  EXPECT_EQ(arp_sender_ip(*request), kKernelIp);
  EXPECT_EQ(mac_at(*request, kEth + 8), *kernel_mac);

  // We answer; the kernel releases the queued datagram to our MAC.
  ASSERT_EQ(tap->transmit(arp_reply(kPeerMac, kPeerIp, *kernel_mac, kKernelIp)), 0);
  auto datagram =
      wait_for(*tap, [](const Frame& f) { return udp_payload_at(f, kPeerIp, 9999).has_value(); });
  ASSERT_TRUE(datagram) << "queued datagram never sent to the replied MAC";
  EXPECT_EQ(mac_at(*datagram, 0), kPeerMac);
  EXPECT_EQ(mac_at(*datagram, 6), *kernel_mac);
  EXPECT_EQ(be32(*datagram, kEth + 12), kKernelIp.v);
  size_t payload = *udp_payload_at(*datagram, kPeerIp, 9999);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(datagram->data() + payload),
                        datagram->size() - payload),
            "veer");
}

TEST_F(TapDeviceTest, ReceiveBurstStopsAtMax) {
  auto tap = open_configured_tap();
  ASSERT_NE(tap, nullptr);
  const Ipv4Addr subnet_broadcast = Ipv4Addr::of(10, 99, 0, 255);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(send_udp(subnet_broadcast, 9999, "b", true));

  int broadcasts = 0;
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (broadcasts < 3 && std::chrono::steady_clock::now() < deadline) {
    pollfd p{tap->fd(), POLLIN, 0};
    ::poll(&p, 1, 100);
    int n = tap->receive_burst(1, [&](Bytes bytes) {
      Frame f(bytes.begin(), bytes.end());
      if (udp_payload_at(f, subnet_broadcast, 9999)) ++broadcasts;
    });
    ASSERT_GE(n, 0);
    ASSERT_LE(n, 1);
  }
  EXPECT_EQ(broadcasts, 3);
}

TEST_F(TapDeviceTest, ReceiveReturnsZeroAtOnceWhenNothingWaits) {
  // A link that is down gets nothing from the kernel.
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  std::string error;
  auto tap = TapDevice::open("veer0", &error);
  ASSERT_NE(tap, nullptr) << error;
  int calls = 0;
  EXPECT_EQ(tap->receive_burst(16, [&](Bytes) { ++calls; }), 0);
  EXPECT_EQ(calls, 0);
}

TEST_F(TapDeviceTest, TransmitReportsTheKernelsRefusalAsNegativeErrno) {
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  std::string error;
  auto tap = TapDevice::open("veer0", &error);
  ASSERT_NE(tap, nullptr) << error;
  // Shorter than an Ethernet header: tun_get_user() says EINVAL.
  std::byte runt[5]{};
  EXPECT_EQ(tap->transmit(Bytes(runt)), -EINVAL);
}

TEST_F(TapDeviceTest, OffloadsAreTakenWhenAskedAndOffOtherwise) {
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  std::string error;
  {
    auto tap = TapDevice::open("veer0", /*offload=*/true, &error);
    ASSERT_NE(tap, nullptr) << error;
    EXPECT_TRUE(tap->offload()) << tap->offload_refused();
    EXPECT_EQ(tap->offload_refused(), "");
    // A runt is no TCP data: written at once behind a zero virtio_net_hdr,
    // and refused as without offloads.
    std::byte runt[5]{};
    EXPECT_EQ(tap->transmit(Bytes(runt)), -EINVAL);
  }
  auto plain = TapDevice::open("veer0", &error);
  ASSERT_NE(plain, nullptr) << error;
  EXPECT_FALSE(plain->offload());
}

TEST_F(TapDeviceTest, ReportsTheLinkMtuAndName) {
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  ASSERT_EQ(set_link_mtu("veer0", 1400), "");
  std::string error;
  auto tap = TapDevice::open("veer0", &error);
  ASSERT_NE(tap, nullptr) << error;
  EXPECT_EQ(tap->mtu(), 1400);
  EXPECT_EQ(tap->name(), "veer0");
  EXPECT_EQ(tap->pollable_fd(), tap->fd());
}

TEST_F(TapDeviceTest, FdIsNonBlockingAndCloseOnExec) {
  std::string error;
  auto tap = TapDevice::open("veer0", &error);
  ASSERT_NE(tap, nullptr) << error;
  EXPECT_TRUE(::fcntl(tap->fd(), F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(::fcntl(tap->fd(), F_GETFD) & FD_CLOEXEC);
}

TEST_F(TapDeviceTest, WithoutAPersistentTapATransientOneLivesAsLongAsTheDevice) {
  std::string error;
  auto tap = TapDevice::open("veer1", &error);
  ASSERT_NE(tap, nullptr) << error;
  EXPECT_TRUE(link_exists("veer1"));
  tap.reset();
  EXPECT_FALSE(link_exists("veer1"));
}

TEST_F(TapDeviceTest, DestroyingTheDeviceLeavesAPersistentTap) {
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  std::string error;
  auto tap = TapDevice::open("veer0", &error);
  ASSERT_NE(tap, nullptr) << error;
  tap.reset();
  EXPECT_TRUE(link_exists("veer0"));
}

TEST_F(TapDeviceTest, SecondAttachIsRefusedAsBusy) {
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  std::string error;
  auto first = TapDevice::open("veer0", &error);
  ASSERT_NE(first, nullptr) << error;
  auto second = TapDevice::open("veer0", &error);
  EXPECT_EQ(second, nullptr);
  EXPECT_EQ(error, "device veer0 busy: another process has it attached");
}

TEST_F(TapDeviceTest, RefusesALinkThatIsNotATap) {
  std::string error;
  EXPECT_EQ(TapDevice::open("lo", &error), nullptr);
  EXPECT_NE(error.find("TUNSETIFF lo: "), std::string::npos) << error;
  EXPECT_NE(error.find("not a single-queue TAP device"), std::string::npos) << error;
}

TEST_F(TapDeviceTest, RefusesAnEmptyName) {
  std::string error;
  EXPECT_EQ(TapDevice::open("", &error), nullptr);
  EXPECT_NE(error.find("bad interface name"), std::string::npos) << error;
}

}  // namespace
}  // namespace veer::netdev
