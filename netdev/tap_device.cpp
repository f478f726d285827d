#include "netdev/tap_device.h"

#include <linux/if_tun.h>
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
// With it, a GSO frame (64 KB of IP) follows the virtio_net_hdr.
constexpr size_t kMaxFrame = 65535 + 14 + 4;
constexpr size_t kMaxRead = kVnetHdrLen + kMaxFrame;

// IFF_VNET_HDR alone changes nothing the kernel sends; the header size and
// the offloads we accept make it hand over (and take) 64 KB GSO frames.
bool set_offloads(int fd, std::string* why) {
  int size = static_cast<int>(kVnetHdrLen);
  if (::ioctl(fd, TUNSETVNETHDRSZ, &size) < 0) {
    *why = std::string("TUNSETVNETHDRSZ: ") + std::strerror(errno);
    return false;
  }
  if (::ioctl(fd, TUNSETOFFLOAD, static_cast<unsigned long>(TUN_F_CSUM | TUN_F_TSO4)) < 0) {
    *why = std::string("TUNSETOFFLOAD: ") + std::strerror(errno);
    return false;
  }
  return true;
}

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
  return open(ifname, false, error);
}

std::unique_ptr<TapDevice> TapDevice::open(const std::string& ifname, bool offload,
                                           std::string* error) {
  int fd = open_tap_queue(ifname, offload, error);
  if (fd < 0) return nullptr;
  std::string refused;
  if (offload) {
    if (!set_offloads(fd, &refused)) {
      // Without the offloads the queue still works, but only without the
      // header: reattach plainly.
      ::close(fd);
      offload = false;
      fd = open_tap_queue(ifname, false, error);
      if (fd < 0) return nullptr;
    }
  }
  int mtu = link_mtu(ifname, error);
  if (mtu <= 0 || mtu > 65535) {
    if (mtu > 65535) *error = "MTU of " + ifname + " is " + std::to_string(mtu) + ", above 65535";
    ::close(fd);
    return nullptr;
  }
  wait_until_running(ifname);
  auto tap =
      std::unique_ptr<TapDevice>(new TapDevice(fd, ifname, static_cast<uint16_t>(mtu), offload));
  tap->offload_refused_ = std::move(refused);
  return tap;
}

TapDevice::TapDevice(int fd, std::string name, uint16_t mtu, bool offload)
    : fd_(fd),
      name_(std::move(name)),
      mtu_(mtu),
      rx_buffer_(offload ? kMaxRead : kMaxFrame),
      offload_(offload) {}

TapDevice::~TapDevice() {
  ::close(fd_);
}

int TapDevice::receive_burst(size_t max, const std::function<void(Bytes)>& on_frame) {
  return receive_burst_info(max, [&](Bytes f, RxInfo) { on_frame(f); });
}

int TapDevice::receive_burst_info(size_t max, const std::function<void(Bytes, RxInfo)>& on_frame) {
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
    Bytes frame(rx_buffer_.data(), static_cast<size_t>(n));
    RxInfo info;
    if (offload_) {
      if (frame.size() < kVnetHdrLen) continue;
      VnetHdr h;
      std::memcpy(&h, frame.data(), sizeof h);
      frame = frame.subspan(kVnetHdrLen);
      info.checksum_trusted = (h.flags & (kVnetNeedsCsum | kVnetDataValid)) != 0;
      if (h.gso_type != kVnetGsoNone) ++counters_.rx_gso_frames;
    }
    on_frame(frame, info);
    ++received;
  }
  return static_cast<int>(received);
}

int TapDevice::transmit(Bytes frame) {
  if (!offload_) return write_frame(frame);
  if (batch_.add(frame)) return 0;
  flush();
  if (batch_.add(frame)) return 0;
  // Not TCP data: alone, behind a header that asks for nothing.
  tx_plain_.resize(kVnetHdrLen + frame.size());
  write_plain_vnet_hdr(tx_plain_.data());
  std::memcpy(tx_plain_.data() + kVnetHdrLen, frame.data(), frame.size());
  return write_frame(tx_plain_);
}

void TapDevice::flush() {
  if (batch_.empty()) return;
  size_t segments = batch_.segments();
  Bytes out = batch_.finish();
  int r = write_frame(out);
  if (r == 0 && segments > 1) {
    ++counters_.tx_gso_frames;
    counters_.tx_gso_segments += segments;
  } else if (r < 0 && r != -EAGAIN) {
    // A full queue drops a batch as it would its frames (TCP retransmits);
    // anything else (the kernel refusing the frame) must not go unseen.
    ++counters_.tx_batch_errors;
  }
  batch_.clear();
}

int TapDevice::write_frame(Bytes frame) {
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
