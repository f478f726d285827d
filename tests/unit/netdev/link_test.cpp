// Link setup through rtnetlink, checked against what the kernel reports
// through plain ioctls, inside a throwaway network namespace per test.
#include "netdev/link.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "netdev/tap_device.h"
#include "tests/unit/netdev/netns_fixture.h"

namespace veer::netdev {
namespace {

using LinkTest = testing::NetnsTest;

// Asks the kernel about `ifname` with one SIOCGIF* ioctl.
std::optional<ifreq> query(const std::string& ifname, unsigned long request) {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return std::nullopt;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  int rc = ::ioctl(sock, request, &ifr);
  ::close(sock);
  if (rc < 0) return std::nullopt;
  return ifr;
}

bool is_up(const std::string& ifname) {
  auto ifr = query(ifname, SIOCGIFFLAGS);
  return ifr && (ifr->ifr_flags & IFF_UP);
}

Ipv4Prefix prefix(const char* text) {
  return *Ipv4Prefix::parse(text);
}

TEST_F(LinkTest, CreatedTapPersistsAfterItsFdCloses) {
  EXPECT_FALSE(link_exists("veer0"));
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  EXPECT_TRUE(link_exists("veer0"));
}

TEST_F(LinkTest, CreatingAnExistingTapSucceeds) {
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  EXPECT_EQ(create_persistent_tap("veer0"), "");

  // Also while a process holds it attached (TUNSETIFF answers EBUSY then).
  std::string error;
  auto tap = TapDevice::open("veer0", &error);
  ASSERT_NE(tap, nullptr) << error;
  EXPECT_EQ(create_persistent_tap("veer0"), "");
}

TEST_F(LinkTest, CreateRefusesANameTakenByAnotherKindOfLink) {
  std::string error = create_persistent_tap("lo");
  EXPECT_NE(error.find("lo exists but is not a single-queue TAP device"), std::string::npos)
      << error;
}

TEST_F(LinkTest, CreateRefusesANameTooLongForTheKernel) {
  std::string error = create_persistent_tap("a-name-too-long-x");
  EXPECT_NE(error.find("bad interface name"), std::string::npos) << error;
}

TEST_F(LinkTest, DeleteRemovesThePersistentTap) {
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  EXPECT_EQ(delete_link("veer0"), "");
  EXPECT_FALSE(link_exists("veer0"));
}

TEST_F(LinkTest, CallsOnAMissingLinkSaySo) {
  EXPECT_EQ(delete_link("nope0"), "delete_link nope0: no such link");
  EXPECT_EQ(set_link_up("nope0", true), "set_link_up nope0: no such link");
  EXPECT_EQ(set_link_up("nope0", false), "set_link_down nope0: no such link");
  EXPECT_EQ(set_link_mtu("nope0", 1400), "set_link_mtu nope0: no such link");
  EXPECT_EQ(add_address("nope0", prefix("10.99.0.1/24")),
            "add_address 10.99.0.1/24 to nope0: no such link");
  EXPECT_EQ(link_mac("nope0"), std::nullopt);
  EXPECT_FALSE(link_exists("nope0"));
}

TEST_F(LinkTest, SetsTheLinkUpAndDown) {
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  EXPECT_FALSE(is_up("veer0"));
  ASSERT_EQ(set_link_up("veer0", true), "");
  EXPECT_TRUE(is_up("veer0"));
  ASSERT_EQ(set_link_up("veer0", false), "");
  EXPECT_FALSE(is_up("veer0"));
}

TEST_F(LinkTest, SetsTheMtu) {
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  ASSERT_EQ(set_link_mtu("veer0", 1280), "");
  auto ifr = query("veer0", SIOCGIFMTU);
  ASSERT_TRUE(ifr);
  EXPECT_EQ(ifr->ifr_mtu, 1280);
}

TEST_F(LinkTest, RefusedMtuNamesTheCall) {
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  EXPECT_EQ(set_link_mtu("veer0", 0), "set_link_mtu veer0: bad MTU 0");
  // Below the 68 bytes IPv4 needs: the kernel refuses it.
  std::string error = set_link_mtu("veer0", 20);
  EXPECT_EQ(error.rfind("set_link_mtu veer0: ", 0), 0u) << error;
}

TEST_F(LinkTest, AddsAnAddressWithItsSubnetBroadcast) {
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  ASSERT_EQ(set_link_up("veer0", true), "");
  ASSERT_EQ(add_address("veer0", prefix("10.99.0.1/24")), "");

  auto addr = query("veer0", SIOCGIFADDR);
  ASSERT_TRUE(addr);
  auto* sin = reinterpret_cast<sockaddr_in*>(&addr->ifr_addr);
  EXPECT_EQ(ntohl(sin->sin_addr.s_addr), Ipv4Addr::of(10, 99, 0, 1).v);
  auto mask = query("veer0", SIOCGIFNETMASK);
  ASSERT_TRUE(mask);
  sin = reinterpret_cast<sockaddr_in*>(&mask->ifr_netmask);
  EXPECT_EQ(ntohl(sin->sin_addr.s_addr), 0xffffff00u);
  auto brd = query("veer0", SIOCGIFBRDADDR);
  ASSERT_TRUE(brd);
  sin = reinterpret_cast<sockaddr_in*>(&brd->ifr_broadaddr);
  EXPECT_EQ(ntohl(sin->sin_addr.s_addr), Ipv4Addr::of(10, 99, 0, 255).v);

  // The address is local now: a socket can bind to it.
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(sock, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(Ipv4Addr::of(10, 99, 0, 1).v);
  EXPECT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&local), sizeof local), 0)
      << std::strerror(errno);
  ::close(sock);
}

TEST_F(LinkTest, AddingAnAddressTwiceSucceeds) {
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  ASSERT_EQ(add_address("veer0", prefix("10.99.0.1/24")), "");
  EXPECT_EQ(add_address("veer0", prefix("10.99.0.1/24")), "");
}

TEST_F(LinkTest, ReadsTheKernelSideMac) {
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  auto mac = link_mac("veer0");
  ASSERT_TRUE(mac);
  auto hw = query("veer0", SIOCGIFHWADDR);
  ASSERT_TRUE(hw);
  EXPECT_EQ(std::memcmp(mac->b.data(), hw->ifr_hwaddr.sa_data, 6), 0) << mac->to_string();
  EXPECT_FALSE(mac->is_multicast());
}

}  // namespace
}  // namespace veer::netdev
