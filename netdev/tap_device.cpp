#include "netdev/tap_device.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "netdev/link.h"
#include "netdev/tun_queue.h"

namespace veer::netdev {
namespace {

// Without IFF_VNET_HDR the kernel hands over no GSO super-frames, so the
// largest frame is the largest MTU a TAP accepts (65535) plus an Ethernet
// header carrying a VLAN tag.
constexpr size_t kMaxFrame = 65535 + 14 + 4;

// Attaching to a TAP turns its carrier on, but the kernel starts sending on
// it only when its link watcher has run (dev_activate(), up to a second
// later): until then, the kernel's answers to our first frames (the ARP reply
// to the first connect) are dropped and veer would wait a whole ARP retry.
// The watcher also sets the operational state, which IFF_RUNNING reports:
// wait for that, briefly, when the link is up at all.
void wait_until_running(const std::string& ifname) {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return;
  for (int i = 0; i < 400; ++i) {
    struct ifreq ifr {};
    std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
    if (::ioctl(sock, SIOCGIFFLAGS, &ifr) < 0 || !(ifr.ifr_flags & IFF_UP) ||
        (ifr.ifr_flags & IFF_RUNNING))
      break;
    usleep(5000);
  }
  ::close(sock);
}

}  // namespace

std::unique_ptr<TapDevice> TapDevice::open(const std::string& ifname, std::string* error) {
  int fd = open_tap_queue(ifname, error);
  if (fd < 0) return nullptr;
  int mtu = link_mtu(ifname, error);
  if (mtu <= 0 || mtu > 65535) {
    if (mtu > 65535) *error = "MTU of " + ifname + " is " + std::to_string(mtu) + ", above 65535";
    ::close(fd);
    return nullptr;
  }
  wait_until_running(ifname);
  return std::unique_ptr<TapDevice>(new TapDevice(fd, ifname, static_cast<uint16_t>(mtu)));
}

TapDevice::TapDevice(int fd, std::string name, uint16_t mtu)
    : fd_(fd), name_(std::move(name)), mtu_(mtu), rx_buffer_(kMaxFrame) {}

TapDevice::~TapDevice() {
  ::close(fd_);
}

int TapDevice::receive_burst(size_t max, const std::function<void(Bytes)>& on_frame) {
  size_t received = 0;
  while (received < max) {
    ssize_t n = ::read(fd_, rx_buffer_.data(), rx_buffer_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      // Frames already handed out count; the error will show again next call.
      if (received > 0) break;
      return -errno;
    }
    // A tun read never returns 0 for a live device; treat it as empty anyway.
    if (n == 0) break;
    on_frame(Bytes(rx_buffer_.data(), static_cast<size_t>(n)));
    ++received;
  }
  return static_cast<int>(received);
}

int TapDevice::transmit(Bytes frame) {
  while (true) {
    // tun_get_user() takes the whole frame or none of it, so there is no
    // short write to finish.
    ssize_t n = ::write(fd_, frame.data(), frame.size());
    if (n >= 0) return 0;
    if (errno == EINTR) continue;
    return -errno;
  }
}

}  // namespace veer::netdev
