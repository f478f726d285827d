// Builds capture files for the plot tests: frames made with core/wire's
// emitters, written with libpcap's own dumper.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/types.h"
#include "core/wire/tcp.h"

namespace veer::test {

using Frame = std::vector<std::byte>;

inline constexpr Endpoint kClient{Ipv4Addr::of(10, 77, 0, 1), 40312};
inline constexpr Endpoint kServer{Ipv4Addr::of(10, 77, 0, 2), 18000};

// An Ethernet/IPv4/TCP frame from `src` to `dst` with `payload_len` bytes of
// data and correct checksums; the ports come from the endpoints.
Frame tcp_frame(Endpoint src, Endpoint dst, wire::TcpHeader h, size_t payload_len = 0);

wire::TcpHeader header(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window);

class PcapWriter {
 public:
  explicit PcapWriter(int link_type = 1);
  ~PcapWriter();
  // A record stamped `usec` microseconds after 1000 s; `wire_len` defaults
  // to the frame's length (more: the snap length cut it).
  void add(uint64_t usec, const Frame& frame, uint32_t wire_len = 0);
  // Closes the file and returns its path.
  const std::string& finish();

 private:
  std::string path_;
  pcap_t* pcap_ = nullptr;
  pcap_dumper_t* dumper_ = nullptr;
};

}  // namespace veer::test
