#include "tools/drill/flow.h"

#include "core/wire/tcp.h"

namespace veer::drill {
namespace {

using wire::tcpflag::kAck;
using wire::tcpflag::kSyn;

}  // namespace

// The offsets below are packetdrill's (socket.h): a SYN carries an absolute
// sequence number, everything else one relative to the ISN; the peer's ISN
// is the script's own, so its numbers go on the wire unchanged.

std::optional<Segment> Flow::to_live(const PacketSpec& p, bool ecr_scaled,
                                     std::string* error) const {
  const bool syn = p.flags & kSyn;
  Segment s;
  s.src = live_remote;
  s.dst = live_local;
  s.flags = p.flags;
  s.window = p.window.value_or(0);
  s.urg = p.urg;
  s.payload = p.payload;
  s.seq = p.seq + (syn ? 0 : remote_isn);
  const uint32_t ack_offset = syn ? live_local_isn - script_local_isn : live_local_isn;
  s.ack = (p.flags & kAck) ? p.ack + ack_offset : p.ack;
  if (p.options) s.options = *p.options;
  for (auto& o : s.options) {
    if (o.kind == TcpOptionSpec::Kind::Sack) {
      for (auto& [l, r] : o.blocks) {
        l += ack_offset;
        r += ack_offset;
      }
    }
    // The peer echoes a TSval the stack sent: the script writes it in script
    // space, the wire needs the live value (map_inbound_packet()).
    if (o.kind == TcpOptionSpec::Kind::Timestamp && (p.flags & kAck)) {
      if (auto it = ts_map_.find(o.ecr); it != ts_map_.end()) {
        o.ecr = it->second;
      } else if (ecr_scaled && found_first_ts_) {
        o.ecr = o.ecr - first_script_ts_ + first_live_ts_;
      } else {
        *error = "unable to infer live TS ecr for script TS ecr " + std::to_string(o.ecr) +
                 "; no matching or preceding outbound TS val";
        return std::nullopt;
      }
    }
  }
  s.options_len = options_wire_length(s.options);
  return s;
}

bool Flow::is_outbound(const Segment& s) const {
  return s.src == live_local && s.dst == live_remote;
}

bool Flow::claim_syn(const Segment& s) {
  if (state != State::ActiveSynSent || !s.has(kSyn) || s.has(kAck)) return false;
  if (s.dst != live_remote) return false;
  live_local = s.src;
  live_local_isn = s.seq;
  return true;
}

void Flow::seq_to_script(Segment& s) const {
  const bool syn = s.has(kSyn);
  s.seq -= syn ? live_local_isn - script_local_isn : live_local_isn;
  const uint32_t ack_offset = syn ? 0 : remote_isn;
  if (s.has(kAck)) s.ack -= ack_offset;
  for (auto& o : s.options) {
    if (o.kind != TcpOptionSpec::Kind::Sack) continue;
    for (auto& [l, r] : o.blocks) {
      l -= ack_offset;
      r -= ack_offset;
    }
  }
}

void Flow::ts_to_script(Segment& s, std::optional<uint32_t> script_tsval) {
  TcpOptionSpec* ts = s.option(TcpOptionSpec::Kind::Timestamp);
  if (!ts || !script_tsval) return;
  ts_map_[*script_tsval] = ts->value;
  if (!found_first_ts_) {
    found_first_ts_ = true;
    first_script_ts_ = *script_tsval;
    first_live_ts_ = ts->value;
  }
  ts->value = first_script_ts_ + (ts->value - first_live_ts_);
}

}  // namespace veer::drill
