#include "tools/drill/packet_format.h"

#include <cinttypes>
#include <cstdio>

#include "core/wire/tcp.h"

namespace veer::drill {
namespace {

std::string seq_text(uint32_t seq, uint32_t payload) {
  return std::to_string(seq) + ":" + std::to_string(seq + payload) + "(" + std::to_string(payload) +
         ")";
}

}  // namespace

std::string format_flags(uint8_t f) {
  using namespace wire::tcpflag;
  // packetdrill's order (packet_to_string.c).
  std::string s;
  if (f & kFin) s += 'F';
  if (f & kSyn) s += 'S';
  if (f & kRst) s += 'R';
  if (f & kPsh) s += 'P';
  if (f & kAck) s += '.';
  if (f & kUrg) s += 'U';
  if (f & kEce) s += 'E';
  if (f & kCwr) s += 'W';
  return s.empty() ? "-" : s;
}

std::string format_options(const std::vector<TcpOptionSpec>& options) {
  using K = TcpOptionSpec::Kind;
  std::string s = "<";
  for (size_t i = 0; i < options.size(); ++i) {
    const TcpOptionSpec& o = options[i];
    if (i) s += ',';
    switch (o.kind) {
      case K::Eol:
        s += "eol";
        break;
      case K::Nop:
        s += "nop";
        break;
      case K::Mss:
        s += "mss " + std::to_string(o.value);
        break;
      case K::WindowScale:
        s += "wscale " + std::to_string(o.value);
        break;
      case K::SackPermitted:
        s += "sackOK";
        break;
      case K::Sack:
        s += "sack";
        for (auto [l, r] : o.blocks) s += " " + std::to_string(l) + ":" + std::to_string(r);
        break;
      case K::Timestamp:
        s += "TS val " + std::to_string(o.value) + " ecr " + std::to_string(o.ecr);
        break;
      case K::Other:
        s += "option " + std::to_string(o.value) + " len " + std::to_string(o.raw.size() + 2);
        break;
    }
  }
  return s + ">";
}

std::string format_packet(const PacketSpec& p) {
  std::string s = format_flags(p.flags) + " " + seq_text(p.seq, p.payload);
  if (p.flags & wire::tcpflag::kAck || p.ack) s += " ack " + std::to_string(p.ack);
  if (p.window) s += " win " + std::to_string(*p.window);
  if (p.urg) s += " urg " + std::to_string(p.urg);
  if (!p.options) {
    s += " <...>";
  } else if (!p.options->empty()) {
    s += " " + format_options(*p.options);
  }
  return s;
}

std::string format_segment(const Segment& seg) {
  std::string s = format_flags(seg.flags) + " " + seq_text(seg.seq, seg.payload);
  if (seg.has(wire::tcpflag::kAck) || seg.ack) s += " ack " + std::to_string(seg.ack);
  s += " win " + std::to_string(seg.window);
  if (seg.urg) s += " urg " + std::to_string(seg.urg);
  if (!seg.options.empty()) s += " " + format_options(seg.options);
  if (!seg.payload_zero) s += " (payload not all zeros)";
  return s;
}

std::string format_usecs(int64_t usecs) {
  char buf[40];
  const char* sign = usecs < 0 ? "-" : "";
  int64_t a = usecs < 0 ? -usecs : usecs;
  std::snprintf(buf, sizeof buf, "%s%" PRId64 ".%06" PRId64, sign, a / 1000000, a % 1000000);
  return buf;
}

}  // namespace veer::drill
