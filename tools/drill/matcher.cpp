#include "tools/drill/matcher.h"

#include <cstdlib>

#include "core/wire/tcp.h"
#include "tools/drill/packet_format.h"

namespace veer::drill {
namespace {

using namespace wire::tcpflag;

std::string differs(const std::string& what, const std::string& expected,
                    const std::string& actual) {
  return what + ": expected " + expected + ", actual " + actual;
}

std::string differs(const std::string& what, uint64_t expected, uint64_t actual) {
  return differs(what, std::to_string(expected), std::to_string(actual));
}

std::string compare_options(const std::vector<TcpOptionSpec>& script,
                            const std::vector<TcpOptionSpec>& actual,
                            const MatchSettings& settings) {
  using K = TcpOptionSpec::Kind;
  if (script.size() != actual.size()) {
    return differs("options", format_options(script), format_options(actual));
  }
  for (size_t i = 0; i < script.size(); ++i) {
    const TcpOptionSpec& s = script[i];
    const TcpOptionSpec& a = actual[i];
    if (s.kind != a.kind) return differs("options", format_options(script), format_options(actual));
    if (s.kind == K::Timestamp) {
      // TSval is in script space already; only its distance counts, and only
      // when the script says how long a tick is. TSecr is not compared
      // (verify_outbound_tcp_option()).
      if (settings.tcp_ts_tick_usecs) {
        long off = std::labs(static_cast<long>(static_cast<int32_t>(a.value - s.value)));
        if (off * settings.tcp_ts_tick_usecs > settings.tolerance_usecs)
          return differs("TS val (tolerance " + std::to_string(settings.tolerance_usecs) + " us)",
                         s.value, a.value);
      }
      continue;
    }
    if (s != a) return differs("options", format_options(script), format_options(actual));
  }
  return "";
}

}  // namespace

std::string compare_outbound(const PacketSpec& script, const Segment& actual,
                             const MatchSettings& settings) {
  // The fields packetdrill checks, in an order that makes the first
  // difference the telling one (flags before the header length).
  const uint8_t kChecked = kFin | kSyn | kRst | kPsh | kAck | kUrg | kEce | kCwr;
  if ((script.flags & kChecked) != (actual.flags & kChecked))
    return differs("flags", format_flags(script.flags), format_flags(actual.flags));
  if (script.seq != actual.seq) return differs("seq", script.seq, actual.seq);
  if (script.ack != actual.ack) return differs("ack", script.ack, actual.ack);
  if (script.window && *script.window != actual.window)
    return differs("win", *script.window, actual.window);
  if (script.urg != actual.urg) return differs("urg", script.urg, actual.urg);
  if (script.options) {
    size_t script_len = options_wire_length(*script.options);
    if (script_len != actual.options_len) {
      return differs(
          "TCP options",
          format_options(*script.options) + " (" + std::to_string(script_len) + " bytes)",
          format_options(actual.options) + " (" + std::to_string(actual.options_len) + " bytes)");
    }
    std::string o = compare_options(*script.options, actual.options, settings);
    if (!o.empty()) return o;
  }
  if (script.payload != actual.payload)
    return differs("payload length", script.payload, actual.payload);
  if (!actual.payload_zero) return "payload: expected the zero bytes written, found other data";
  return "";
}

std::string check_fragment(const Segment& prev, const Segment& next, uint32_t merged_so_far,
                           uint32_t expected_total) {
  const uint8_t kSame = kSyn | kRst | kAck | kUrg | kEce;
  std::string why;
  if (next.src != prev.src || next.dst != prev.dst) {
    why = "addresses differ";
  } else if ((next.flags & kSame) != (prev.flags & kSame)) {
    why = differs("flags", format_flags(prev.flags), format_flags(next.flags));
  } else if (next.seq != prev.seq + prev.payload) {
    why = differs("seq", prev.seq + prev.payload, next.seq);
  } else if (next.ack != prev.ack) {
    why = differs("ack", prev.ack, next.ack);
  } else if (next.window != prev.window) {
    why = differs("win", prev.window, next.window);
  } else if (next.options_len != prev.options_len) {
    why = differs("options length", prev.options_len, next.options_len);
  } else if (next.urg != prev.urg) {
    why = differs("urg", prev.urg, next.urg);
  } else if (merged_so_far + next.payload < expected_total && next.payload != prev.payload) {
    why = differs("fragment payload", prev.payload, next.payload);
  }
  return why.empty() ? ""
                     : "segment " + format_segment(next) + " cannot continue " +
                           format_segment(prev) + ": " + why;
}

Segment merge_fragments(const std::vector<Segment>& fragments) {
  Segment m = fragments.back();
  m.seq = fragments.front().seq;
  m.flags = static_cast<uint8_t>((m.flags & ~kCwr) | (fragments.front().flags & kCwr));
  m.payload = 0;
  m.payload_zero = true;
  for (const Segment& f : fragments) {
    m.payload += f.payload;
    m.payload_zero = m.payload_zero && f.payload_zero;
  }
  return m;
}

}  // namespace veer::drill
