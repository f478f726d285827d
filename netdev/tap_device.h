// A TAP interface as a Device: the kernel sees an Ethernet link, the stack is
// the host at the other end of its wire.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "netdev/device.h"

namespace veer::netdev {

class TapDevice final : public Device {
 public:
  // Attaches to the TAP `ifname` (normally a persistent one made by
  // create_persistent_tap; if none exists the kernel makes a transient one
  // that vanishes with this object). Returns nullptr with `*error` naming the
  // fix when the device cannot be opened.
  static std::unique_ptr<TapDevice> open(const std::string& ifname, std::string* error);

  ~TapDevice() override;
  TapDevice(const TapDevice&) = delete;
  TapDevice& operator=(const TapDevice&) = delete;

  int receive_burst(size_t max, const std::function<void(Bytes)>& on_frame) override;
  // One write() per frame for now. A batched transmit (io_uring) will sit
  // beside this, sharing fd_; nothing else here needs to change for it.
  int transmit(Bytes frame) override;
  int pollable_fd() const override { return fd_; }
  uint16_t mtu() const override { return mtu_; }
  std::string name() const override { return name_; }

  int fd() const { return fd_; }

 private:
  TapDevice(int fd, std::string name, uint16_t mtu);

  int fd_;
  std::string name_;
  uint16_t mtu_;
  // Reused for every read so receiving allocates nothing per frame.
  std::vector<std::byte> rx_buffer_;
};

}  // namespace veer::netdev
