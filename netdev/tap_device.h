// A TAP interface as a Device: the kernel sees an Ethernet link, the stack is
// the host at the other end of its wire.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "netdev/device.h"
#include "netdev/gso_coalesce.h"

namespace veer::netdev {

class TapDevice final : public Device {
 public:
  // Attaches to the TAP `ifname` (normally a persistent one made by
  // create_persistent_tap; if none exists the kernel makes a transient one
  // that vanishes with this object). Returns nullptr with `*error` naming the
  // fix when the device cannot be opened.
  // With `offload`, the queue carries a virtio_net_hdr on every frame
  // (IFF_VNET_HDR) and TUNSETOFFLOAD lets the kernel hand over GSO frames up
  // to 64 KB with partial checksums; transmit() then batches consecutive
  // segments of one flow into TSO frames until flush(). When the kernel
  // refuses, the device runs without offloads and offload() says so.
  static std::unique_ptr<TapDevice> open(const std::string& ifname, std::string* error);
  static std::unique_ptr<TapDevice> open(const std::string& ifname, bool offload,
                                         std::string* error);
  // With `io_uring`, frames go through io_uring instead of one read() or
  // write() each: reads stay queued on the TAP into reused buffers and are
  // reaped in bursts, writes are queued until flush() submits them all at
  // once. When the kernel refuses io_uring (ENOSYS, EPERM, memlock limit) the
  // device runs with read()/write() and io_uring_refused() says why.
  static std::unique_ptr<TapDevice> open(const std::string& ifname, bool offload, bool io_uring,
                                         std::string* error);

  ~TapDevice() override;
  TapDevice(const TapDevice&) = delete;
  TapDevice& operator=(const TapDevice&) = delete;

  int receive_burst(size_t max, const std::function<void(Bytes)>& on_frame) override;
  int receive_burst_info(size_t max, const std::function<void(Bytes, RxInfo)>& on_frame) override;
  // One write() per frame (or per TSO batch with offloads), or with io_uring
  // one queued write each, all submitted by flush().
  int transmit(Bytes frame) override;
  void flush() override;
  // tx_batch_errors includes the queued writes that failed.
  DeviceCounters counters() const override;
  // With io_uring running in this process: the ring whose completions are
  // the received frames. Otherwise the TAP itself.
  int pollable_fd() const override;
  void stop_receiving() override;
  std::vector<int> fds() const override;
  uint16_t mtu() const override { return mtu_; }
  std::string name() const override { return name_; }

  int fd() const { return fd_; }
  bool offload() const { return offload_; }
  // Why offloads were asked for and refused (empty when not).
  const std::string& offload_refused() const { return offload_refused_; }
  // Whether frames go through io_uring (in the process that opened it).
  bool io_uring() const;
  // Why io_uring was asked for and refused (empty when not).
  const std::string& io_uring_refused() const { return io_uring_refused_; }

 private:
  class Ring;  // the io_uring state (tap_device.cpp)

  TapDevice(int fd, std::string name, uint16_t mtu, bool offload);
  int write_frame(Bytes frame);
  // The frame a read returned, minus its virtio_net_hdr, to `on_frame`
  // (false when it was too short to hand on).
  bool deliver(Bytes raw, const std::function<void(Bytes, RxInfo)>& on_frame);
  // The io_uring state when it works in this process, after making it anew
  // in a forked child (nullptr: read()/write()).
  Ring* ring();
  // The ring when the calling thread is the one that receives (the I/O
  // thread) or has sent many frames already: the kernel gives each thread
  // that uses a ring a context of its own, made at its first submit and torn
  // down when it exits, which a program's short-lived threads (one per
  // connection) would pay for every time. Their first frames are write()s.
  Ring* tx_ring();

  int fd_;
  std::string name_;
  uint16_t mtu_;
  // Reused for every read so receiving allocates nothing per frame.
  std::vector<std::byte> rx_buffer_;
  bool offload_;
  std::string offload_refused_;
  GsoBatch batch_;
  std::vector<std::byte> tx_plain_;  // a zero virtio_net_hdr and one frame
  DeviceCounters counters_;
  std::unique_ptr<Ring> ring_;
  const void* rx_thread_ = nullptr;  // a mark in the receiving thread's TLS
  std::string io_uring_refused_;
};

}  // namespace veer::netdev
