// A pcap file's TCP segments, decoded for analysis: what `veer plot` reads.
//
// libpcap reads the file (pcap or pcapng); core/wire decodes the frames.
// Frames that are not IPv4/TCP are counted and passed over; frames that are
// broken are counted as malformed and skipped, never trusted.
#pragma once

#include <pcap/dlt.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"
#include "core/wire/tcp.h"

namespace veer::plot {

struct CapturedSegment {
  double time = 0;  // seconds since the epoch, as the capture stamped it
  Ipv4Addr src;
  Ipv4Addr dst;
  wire::TcpHeader tcp;       // options included (MSS, window scale, SACK)
  uint32_t payload_len = 0;  // from the IPv4 total length, also when the capture cut it short
};

struct CaptureStats {
  uint64_t frames = 0;        // every record in the file
  uint64_t tcp = 0;           // IPv4/TCP segments decoded
  uint64_t other = 0;         // not IPv4/TCP (ARP, ICMP, IPv6, UDP …), or a later fragment
  uint64_t malformed = 0;     // broken headers, lengths, options: skipped
  uint64_t snap_cut = 0;      // cut by the snap length but with whole headers: kept
  uint64_t bad_checksum = 0;  // kept: checksum offload leaves partial sums in captures
};

struct Capture {
  std::vector<CapturedSegment> segments;
  CaptureStats stats;
};

// Link types read (libpcap's DLT_ numbers, as pcap_datalink() reports them).
inline constexpr int kLinkEthernet = DLT_EN10MB;
inline constexpr int kLinkRaw = DLT_RAW;             // the IP packet alone
inline constexpr int kLinkLinuxSll = DLT_LINUX_SLL;  // tcpdump -i any
inline constexpr int kLinkIpv4 = DLT_IPV4;

// Decodes one record: `data` as captured, `wire_len` its length on the wire.
// Appends a segment to `out` or counts why not.
void decode_frame(int link_type, Bytes data, uint32_t wire_len, double time, Capture* out);

// Reads a capture file. nullopt with *error set when the file cannot be
// opened or its link type is not one of the above.
std::optional<Capture> read_capture(const std::string& path, std::string* error);

}  // namespace veer::plot
