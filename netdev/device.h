// How frames get in and out of the process. One interface for TAP, AF_XDP
// and the in-memory pair used by tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/types.h"

namespace veer::netdev {

// What the device knows about a received frame beyond its bytes.
struct RxInfo {
  // The TCP checksum was verified, or the frame never left this host and
  // carries a partial one (virtio_net_hdr DATA_VALID or NEEDS_CSUM): core
  // must not check it.
  bool checksum_trusted = false;
};

struct DeviceCounters {
  uint64_t tx_gso_frames = 0;       // TSO super-frames written
  uint64_t tx_gso_segments = 0;     // the segments they carried
  uint64_t rx_gso_frames = 0;       // GSO/GRO frames received whole
  uint64_t tx_batch_errors = 0;     // batches flush() failed to write (not EAGAIN)
  uint64_t tx_kicks = 0;            // AF_XDP: sendto() calls that made the kernel send
  uint64_t tx_multibuf_frames = 0;  // AF_XDP: frames sent over several chunks
  uint64_t rx_multibuf_frames = 0;  // AF_XDP: frames received over several chunks
  uint64_t rx_bad_chains = 0;       // AF_XDP: multi-buffer chains dropped (too long)
};

class Device {
 public:
  virtual ~Device() = default;
  // Receives up to `max` frames without blocking, calling `on_frame` for
  // each. Returns the number received (0 when none is waiting). The bytes are
  // valid only during the callback. On a device error returns -errno.
  virtual int receive_burst(size_t max, const std::function<void(Bytes)>& on_frame) = 0;
  // The same, with what the device knows about each frame.
  virtual int receive_burst_info(size_t max, const std::function<void(Bytes, RxInfo)>& on_frame) {
    return receive_burst(max, std::function<void(Bytes)>([&](Bytes f) { on_frame(f, RxInfo{}); }));
  }
  // Sends one complete Ethernet frame. Returns 0 or -errno (a full queue is
  // -EAGAIN; callers count it as a drop, TCP retransmits).
  // A device may hold frames back to send them together (TSO batching)
  // until flush(), which the owner calls whenever it stops transmitting.
  virtual int transmit(Bytes frame) = 0;
  virtual void flush() {}
  virtual DeviceCounters counters() const { return {}; }
  // A file descriptor that polls readable when frames are waiting, or -1.
  virtual int pollable_fd() const = 0;
  // Every file descriptor the device keeps open (the owner keeps the program
  // from closing them). Their numbers stay the same for the device's life,
  // in forked children too.
  virtual std::vector<int> fds() const {
    int fd = pollable_fd();
    return fd >= 0 ? std::vector<int>{fd} : std::vector<int>{};
  }
  virtual uint16_t mtu() const = 0;
  virtual std::string name() const = 0;
  // At process exit: undoes what the kernel would keep after the process is
  // gone (an attached XDP program). The device may still be polled after.
  virtual void release_at_exit() {}
  // This process stops receiving (another one runs the stack now): reads it
  // keeps queued in the kernel (io_uring) are cancelled, so that the frames
  // they would take go to the process that polls next. Receiving again
  // queues them again.
  virtual void stop_receiving() {}
};

}  // namespace veer::netdev
