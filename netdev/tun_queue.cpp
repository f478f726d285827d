#include "netdev/tun_queue.h"

#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "netdev/link.h"

namespace veer::netdev {
namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

// The kernel's tun_set_iff() reports every refusal through a bare errno; turn
// the ones an operator meets into the fix.
std::string tunsetiff_error(const std::string& ifname, int err) {
  switch (err) {
    case EBUSY:
      return "device " + ifname + " busy: another process has it attached";
    case EPERM:
      return "TUNSETIFF " + ifname + ": " + errno_text(err) +
             " (needs CAP_NET_ADMIN, or a persistent TAP owned by this user)";
    case EINVAL:
      return "TUNSETIFF " + ifname + ": " + errno_text(err) + " (" + ifname +
             " exists but is not a single-queue TAP device)";
    default:
      return "TUNSETIFF " + ifname + ": " + errno_text(err);
  }
}

}  // namespace

int open_tap_queue(const std::string& ifname, std::string* error) {
  return open_tap_queue(ifname, false, error);
}

int open_tap_queue(const std::string& ifname, bool vnet_hdr, std::string* error) {
  // An empty name would make the kernel pick "tap%d", which no caller could
  // find again.
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) {
    *error = "bad interface name \"" + ifname + "\": must be 1 to " + std::to_string(IFNAMSIZ - 1) +
             " characters";
    return -EINVAL;
  }
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string hint;
    if (err == ENOENT || err == ENODEV || err == ENXIO) hint = " (is the tun module loaded?)";
    if (err == EACCES || err == EPERM) hint = " (needs root or read-write access to it)";
    *error = "cannot open /dev/net/tun: " + errno_text(err) + hint;
    return -err;
  }
  struct ifreq ifr {};
  // IFF_NO_PI: frames come and go bare, without the 4-byte packet-info header.
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (vnet_hdr) ifr.ifr_flags |= IFF_VNET_HDR;
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    ::close(fd);
    *error = tunsetiff_error(ifname, err);
    return -err;
  }
  return fd;
}

bool is_tap_link(const std::string& ifname) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) return false;
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return false;
  struct ethtool_drvinfo info {};
  info.cmd = ETHTOOL_GDRVINFO;
  struct ifreq ifr {};
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  ifr.ifr_data = reinterpret_cast<char*>(&info);
  int rc = ::ioctl(sock, SIOCETHTOOL, &ifr);
  ::close(sock);
  if (rc < 0) return false;
  // tun_get_drvinfo() names the driver "tun" and puts the mode in bus_info.
  return std::strcmp(info.driver, "tun") == 0 && std::strcmp(info.bus_info, "tap") == 0;
}

}  // namespace veer::netdev
