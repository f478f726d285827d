#include "tools/plot/capture.h"

#include <pcap/pcap.h>

#include <cstring>

#include "core/wire/bytes.h"
#include "core/wire/checksum.h"
#include "core/wire/ethernet.h"
#include "core/wire/ipv4.h"

namespace veer::plot {
namespace {

constexpr uint16_t kEtherTypeVlan = 0x8100;
constexpr size_t kSllHeaderLen = 16;
// The largest IPv4 packet; a record claiming more on the wire is not one
// (GSO super-frames are still at most this).
constexpr uint32_t kMaxIpv4Len = 65535;

enum class Outcome { Tcp, Other, Malformed };

// Where the IPv4 packet starts inside a link-layer frame; nullopt with
// *outcome saying why when the frame holds none.
std::optional<size_t> network_offset(int link_type, Bytes data, Outcome* outcome) {
  switch (link_type) {
    case kLinkEthernet: {
      auto eth = wire::parse_ethernet(data);
      if (!eth) break;
      size_t off = wire::kEthHeaderLen;
      uint16_t type = eth->header.ether_type;
      if (type == kEtherTypeVlan) {
        if (data.size() < off + 4) break;
        type = wire::load16(data.data() + off + 2);
        off += 4;
      }
      if (type != wire::kEtherTypeIpv4) {
        *outcome = Outcome::Other;
        return std::nullopt;
      }
      return off;
    }
    case kLinkLinuxSll:
      if (data.size() < kSllHeaderLen) break;
      if (wire::load16(data.data() + 14) != wire::kEtherTypeIpv4) {
        *outcome = Outcome::Other;
        return std::nullopt;
      }
      return kSllHeaderLen;
    case kLinkRaw:
    case kLinkIpv4:
      if (data.empty()) break;
      if ((uint8_t(data[0]) >> 4) != 4) {
        *outcome = Outcome::Other;
        return std::nullopt;
      }
      return 0;
    default:
      break;
  }
  *outcome = Outcome::Malformed;
  return std::nullopt;
}

// Decodes the IPv4/TCP packet in `ip`, of which only the first `captured`
// bytes came from the wire (the rest is zero padding when the snap length
// cut it). The headers themselves must be whole.
Outcome decode_ipv4_tcp(Bytes ip, size_t captured, double time, Capture* out) {
  wire::Ipv4Error ip_err{};
  auto packet = wire::parse_ipv4(ip, &ip_err);
  if (!packet) return Outcome::Malformed;
  const wire::Ipv4Header& ih = packet->header;
  if (ih.protocol != wire::kProtoTcp || ih.is_fragment()) return Outcome::Other;
  wire::TcpError tcp_err{};
  auto seg = wire::decode_tcp(packet->payload, &tcp_err);
  if (!seg) return Outcome::Malformed;
  size_t headers =
      size_t(packet->payload.data() - ip.data()) + (packet->payload.size() - seg->payload.size());
  if (headers > captured) return Outcome::Malformed;
  bool whole = captured >= size_t(packet->payload.data() - ip.data()) + packet->payload.size();
  if (whole) {
    uint32_t sum = wire::pseudo_header_sum(ih.src, ih.dst, wire::kProtoTcp,
                                           static_cast<uint16_t>(packet->payload.size()));
    if (wire::checksum_finish(wire::checksum_add(sum, packet->payload)) != 0)
      ++out->stats.bad_checksum;
  } else {
    ++out->stats.snap_cut;
  }
  out->segments.push_back(CapturedSegment{.time = time,
                                          .src = ih.src,
                                          .dst = ih.dst,
                                          .tcp = seg->header,
                                          .payload_len = uint32_t(seg->payload.size())});
  return Outcome::Tcp;
}

}  // namespace

void decode_frame(int link_type, Bytes data, uint32_t wire_len, double time, Capture* out) {
  ++out->stats.frames;
  Outcome outcome = Outcome::Malformed;
  if (auto off = network_offset(link_type, data, &outcome)) {
    Bytes ip = data.subspan(*off);
    if (wire_len > data.size() && wire_len - *off <= kMaxIpv4Len) {
      // Cut by the snap length: the IPv4 total length still tells the
      // segment's size, so decode over a zero-padded copy of full length.
      std::vector<std::byte> padded(wire_len - *off);
      std::memcpy(padded.data(), ip.data(), ip.size());
      outcome = decode_ipv4_tcp(Bytes(padded), ip.size(), time, out);
    } else {
      outcome = decode_ipv4_tcp(ip, ip.size(), time, out);
    }
  }
  switch (outcome) {
    case Outcome::Tcp:
      ++out->stats.tcp;
      break;
    case Outcome::Other:
      ++out->stats.other;
      break;
    case Outcome::Malformed:
      ++out->stats.malformed;
      break;
  }
}

std::optional<Capture> read_capture(const std::string& path, std::string* error) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(path.c_str(), errbuf);
  if (!p) {
    *error = errbuf;
    return std::nullopt;
  }
  int link = pcap_datalink(p);
  if (link != kLinkEthernet && link != kLinkRaw && link != kLinkLinuxSll && link != kLinkIpv4) {
    const char* name = pcap_datalink_val_to_name(link);
    *error = "link type " + std::string(name ? name : std::to_string(link)) +
             " is not supported (Ethernet, raw IP and Linux cooked captures are)";
    pcap_close(p);
    return std::nullopt;
  }
  Capture capture;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  int r;
  // A nanosecond file (pcapng, tcpdump --nano) keeps nanoseconds in tv_usec.
  double subsecond = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO ? 1e-9 : 1e-6;
  while ((r = pcap_next_ex(p, &hdr, &data)) == 1) {
    double t = double(hdr->ts.tv_sec) + double(hdr->ts.tv_usec) * subsecond;
    decode_frame(link, Bytes(reinterpret_cast<const std::byte*>(data), hdr->caplen), hdr->len, t,
                 &capture);
  }
  if (r == PCAP_ERROR) {
    // A file cut short mid-record (a capture still being written, a copy
    // interrupted): what was read stays usable, and the loss is counted.
    ++capture.stats.malformed;
  }
  pcap_close(p);
  return capture;
}

}  // namespace veer::plot
