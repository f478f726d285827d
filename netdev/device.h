// How frames get in and out of the process. One interface for TAP, AF_XDP
// and the in-memory pair used by tests.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "core/types.h"

namespace veer::netdev {

class Device {
 public:
  virtual ~Device() = default;
  // Receives up to `max` frames without blocking, calling `on_frame` for
  // each. Returns the number received (0 when none is waiting). The bytes are
  // valid only during the callback. On a device error returns -errno.
  virtual int receive_burst(size_t max, const std::function<void(Bytes)>& on_frame) = 0;
  // Sends one complete Ethernet frame. Returns 0 or -errno (a full queue is
  // -EAGAIN; callers count it as a drop, TCP retransmits).
  virtual int transmit(Bytes frame) = 0;
  // A file descriptor that polls readable when frames are waiting, or -1.
  virtual int pollable_fd() const = 0;
  virtual uint16_t mtu() const = 0;
  virtual std::string name() const = 0;
  // At process exit: undoes what the kernel would keep after the process is
  // gone (an attached XDP program). The device may still be polled after.
  virtual void release_at_exit() {}
};

}  // namespace veer::netdev
