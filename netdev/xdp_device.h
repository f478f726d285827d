// An AF_XDP socket as a Device: frames come straight from the driver's
// receive queue into a UMEM shared with the kernel, steered there by veer's
// own XDP program (netdev/bpf/veer_xdp.bpf.c) which takes only the frames for
// veer's IPv4 address and ARP about it; the kernel keeps everything else.
//
// Copy mode only (veth, the interface this is tested on, has no zero-copy).
// Sending is batched: transmit() fills TX descriptors, flush() submits them
// and kicks the kernel. With XDP multi-buffer (the program loaded with frags
// support, the socket bound with XDP_USE_SG) a frame may span several 4 KiB
// UMEM chunks each way, up to kMaxXdpMtuMultiBuffer; where the kernel refuses
// it, one chunk per frame and the MTU capped at kMaxXdpMtu.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/types.h"
#include "netdev/device.h"

struct xsk_socket;
struct xsk_umem;
struct xdp_program;

namespace veer::netdev {

// Native XDP on veth refuses an MTU above ~3500 without multi-buffer, and a
// frame must fit one 4 KiB UMEM chunk after the kernel's headroom.
constexpr uint16_t kMaxXdpMtu = 3498;
// With multi-buffer (XDP_USE_SG), a frame spans up to three chunks.
constexpr uint16_t kMaxXdpMtuMultiBuffer = 9000;

struct XdpOptions {
  std::string ifname;
  uint32_t queue = 0;
  // UMEM chunks (4 KiB each), half for receiving and half for sending; and
  // the size of each of the four rings. Both powers of two.
  uint32_t frames = 4096;
  uint32_t ring_size = 2048;
  // veer's address: the XDP program steers frames for it (and ARP about it).
  Ipv4Addr address;
  // The compiled XDP program; empty: the one built with veer.
  std::string program_path;
  // Try multi-buffer (frames over several chunks, MTU up to
  // kMaxXdpMtuMultiBuffer); falls back to single-buffer when refused.
  bool multi_buffer = true;
};

class XdpDevice final : public Device {
 public:
  // Loads and attaches the XDP program (native mode, generic if the driver
  // has none), creates the UMEM and the socket bound to `queue`, and puts the
  // socket into the program's map. Returns nullptr with `*error` naming the
  // fix when any step fails; nothing is left attached then.
  static std::unique_ptr<XdpDevice> open(const XdpOptions& options, std::string* error);

  ~XdpDevice() override;
  XdpDevice(const XdpDevice&) = delete;
  XdpDevice& operator=(const XdpDevice&) = delete;

  // Peeks up to `max` descriptors in one go, hands each single-chunk frame
  // out in place (a multi-buffer chain gathered into one buffer first, even
  // across calls; a chain too long is counted and dropped), releases them
  // together and gives the chunks straight back to the fill ring. Returns
  // the frames handed out.
  int receive_burst(size_t max, const std::function<void(Bytes)>& on_frame) override;
  // Copies the frame into a free send chunk and queues its descriptor; the
  // kernel sees it at flush() (or when the TX ring or the send chunks run
  // out, which flushes first). -EAGAIN when every send chunk is in flight.
  int transmit(Bytes frame) override;
  // Submits the queued descriptors and kicks the kernel (copy mode sends
  // from sendto(), 32 frames per call), then takes back the sent chunks.
  void flush() override;
  DeviceCounters counters() const override { return counters_; }
  int pollable_fd() const override { return fd_; }
  uint16_t mtu() const override { return mtu_; }
  std::string name() const override { return name_; }
  void release_at_exit() override { detach_program(); }
  // Detaches the XDP program (the kernel would keep it after the process
  // is gone, and with it the stolen frames); the socket stays open until
  // the process exits. Safe to call more than once.
  void detach_program();

  // "native" or "generic": how the program ended up attached.
  const char* mode_name() const;
  // Whether frames may span several chunks (XDP_USE_SG).
  bool multi_buffer() const { return multi_buffer_; }
  // Why multi-buffer was asked for but refused (empty otherwise).
  const std::string& single_buffer_reason() const { return single_buffer_reason_; }

 private:
  struct Rings;
  XdpDevice();
  // Takes back the send chunks whose frames the kernel has sent.
  void reclaim_completions();
  // Submits the descriptors transmit() queued and kicks until the kernel has
  // taken them all.
  void kick_tx();
  // Reserves `n` TX ring slots (and makes sure `n` send chunks are free),
  // kicking once when either runs out.
  bool reserve_tx(uint32_t n, uint32_t* idx);

  std::string name_;
  int ifindex_ = 0;
  int fd_ = -1;
  uint16_t mtu_ = 0;
  int attach_mode_ = 0;  // enum xdp_attach_mode
  uint32_t frame_size_ = 0;
  uint32_t rx_frames_ = 0;
  void* umem_area_ = nullptr;
  size_t umem_bytes_ = 0;
  xdp_program* program_ = nullptr;
  xsk_umem* umem_ = nullptr;
  xsk_socket* xsk_ = nullptr;
  std::unique_ptr<Rings> rings_;
  // Send chunks (UMEM offsets) not in the TX or completion ring.
  std::vector<uint64_t> free_tx_;
  // Descriptors filled in the TX ring but not yet submitted.
  uint32_t pending_tx_ = 0;
  uint32_t max_kicks_ = 0;
  DeviceCounters counters_;
  bool multi_buffer_ = false;
  std::string single_buffer_reason_;
  // A received frame spread over several descriptors, gathered here (sized
  // once at open); the chain may span receive_burst() calls.
  std::vector<std::byte> gather_;
  size_t chain_len_ = 0;
  bool in_chain_ = false;
  bool chain_bad_ = false;  // too long: dropped at its last descriptor
};

}  // namespace veer::netdev
