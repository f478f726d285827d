// A TCP segment as the runner handles it: the header fields and the options
// in wire order (NOPs included, which is what scripts compare), the payload's
// length and whether it was all zeros (what packetdrill writes and expects).
// Frames to and from the stack under test are built and decoded here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/types.h"
#include "tools/drill/ast.h"

namespace veer::drill {

struct Segment {
  Endpoint src;
  Endpoint dst;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;
  uint16_t urg = 0;
  std::vector<TcpOptionSpec> options;
  size_t options_len = 0;  // bytes the options take in the header (data offset - 20)
  uint32_t payload = 0;
  bool payload_zero = true;  // every payload byte is 0
  Time at{};                 // when the stack sent it (outbound)

  bool has(uint8_t flag) const { return (flags & flag) != 0; }
  const TcpOptionSpec* option(TcpOptionSpec::Kind k) const;
  TcpOptionSpec* option(TcpOptionSpec::Kind k);
};

// Bytes the options take on the wire (no padding added).
size_t options_wire_length(const std::vector<TcpOptionSpec>& options);

// An Ethernet + IPv4 + TCP frame with correct checksums and a zero payload
// of seg.payload bytes. The options are written as listed; their length
// must be a multiple of 4 (packetdrill refuses anything else).
std::vector<std::byte> build_tcp_frame(const Segment& seg, MacAddr src_mac, MacAddr dst_mac);

// A frame the stack sent: nullopt when it is not IPv4/TCP. Bad IP or TCP
// checksums and malformed options are errors (*error says which).
std::optional<Segment> decode_tcp_frame(Bytes frame, std::string* error);

}  // namespace veer::drill
