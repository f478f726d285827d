// Coalescing the MSS-sized TCP frames core emits into one TSO super-frame
// for a TAP opened with IFF_VNET_HDR: the kernel (tun_get_user() and the GSO
// layer) cuts it back into the same segments, with their checksums, far
// cheaper than one write() each. Pure: no I/O, tested on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/types.h"

namespace veer::netdev {

// struct virtio_net_hdr (without num_buffers), as TUNSETVNETHDRSZ 10
// expects, in host byte order (a TAP's default). <linux/virtio_net.h> does
// not compile as C++ (a field named `class`), hence our own copy.
struct VnetHdr {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
};
inline constexpr size_t kVnetHdrLen = 10;
static_assert(sizeof(VnetHdr) == kVnetHdrLen);
inline constexpr uint8_t kVnetNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr uint8_t kVnetDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID
inline constexpr uint8_t kVnetGsoNone = 0;    // VIRTIO_NET_HDR_GSO_NONE
inline constexpr uint8_t kVnetGsoTcpv4 = 1;   // VIRTIO_NET_HDR_GSO_TCPV4
// The IPv4 total length field bounds one super-frame.
inline constexpr size_t kGsoMaxIpLen = 65535;
inline constexpr size_t kGsoMaxSegments = 64;

class GsoBatch {
 public:
  GsoBatch();
  // Takes `frame` into the batch when it continues it (or starts a batch, if
  // empty and `frame` could start one). False: the caller finishes the batch
  // and tries again, or writes the frame alone.
  bool add(Bytes frame);
  bool empty() const { return segments_ == 0; }
  size_t segments() const { return segments_; }
  // The virtio_net_hdr and the frame to write: one GSO frame (NEEDS_CSUM,
  // TCPV4, the TCP checksum field holding the pseudo-header sum) for two or
  // more segments, the first frame unchanged behind a zero header for one.
  // Valid until the next add() or clear().
  Bytes finish();
  void clear();

 private:
  std::vector<std::byte> buf_;  // virtio_net_hdr, then the frame
  size_t segments_ = 0;
  size_t ip_offset_ = 0;
  size_t tcp_offset_ = 0;
  size_t headers_len_ = 0;  // Ethernet + IPv4 + TCP
  size_t segment_size_ = 0;
  size_t last_size_ = 0;
  uint32_t next_seq_ = 0;
  bool ended_ = false;  // the last frame had PSH or was short
};

// A zero virtio_net_hdr ahead of `frame`, for frames written as they are.
void write_plain_vnet_hdr(std::byte* out);

}  // namespace veer::netdev
