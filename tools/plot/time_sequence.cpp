#include "tools/plot/time_sequence.h"

#include <algorithm>
#include <map>
#include <utility>

namespace veer::plot {
namespace {

using namespace wire::tcpflag;

Endpoint source(const CapturedSegment& s) {
  return {s.src, s.tcp.src_port};
}
Endpoint destination(const CapturedSegment& s) {
  return {s.dst, s.tcp.dst_port};
}

bool pure_syn(const wire::TcpHeader& h) {
  return h.has(kSyn) && !h.has(kAck);
}

// The same key for both directions of a 4-tuple.
using TupleKey = std::pair<std::pair<uint32_t, uint16_t>, std::pair<uint32_t, uint16_t>>;
TupleKey key_of(const CapturedSegment& s) {
  auto a = std::make_pair(s.src.v, s.tcp.src_port);
  auto b = std::make_pair(s.dst.v, s.tcp.dst_port);
  return a < b ? TupleKey{a, b} : TupleKey{b, a};
}

// 32-bit sequence numbers to 64-bit offsets from a base, across wraps: each
// value is placed within 2^31 of the last sequence number or ACK placed.
// SACK blocks are only placed (at()), so a wild one cannot move the
// reference the rest depends on.
class Unwrapper {
 public:
  explicit Unwrapper(uint32_t base) : last_raw_(base) {}
  int64_t at(uint32_t seq) const { return last_rel_ + static_cast<int32_t>(seq - last_raw_); }
  int64_t operator()(uint32_t seq) {
    last_rel_ = at(seq);
    last_raw_ = seq;
    return last_rel_;
  }

 private:
  uint32_t last_raw_;
  int64_t last_rel_ = 0;
};

}  // namespace

std::vector<Connection> find_connections(const Capture& capture) {
  std::vector<Connection> out;
  // The open connection of each 4-tuple, and the ISN of its client's SYN.
  struct Open {
    size_t index;
    std::optional<uint32_t> client_isn;
  };
  std::map<TupleKey, Open> open;
  for (size_t i = 0; i < capture.segments.size(); ++i) {
    const CapturedSegment& s = capture.segments[i];
    TupleKey key = key_of(s);
    auto it = open.find(key);
    // The client's SYN with a new ISN opens a new connection on the same
    // 4-tuple (port reuse after TIME_WAIT); the same SYN again is a
    // retransmission, and the other side's SYN a simultaneous open.
    bool fresh = it == open.end();
    if (!fresh && pure_syn(s.tcp) && out[it->second.index].client == source(s))
      fresh = it->second.client_isn != s.tcp.seq;
    if (fresh) {
      Connection c;
      c.number = static_cast<int>(out.size()) + 1;
      // Without a SYN, a SYN-ACK still tells who the server is.
      bool from_server = s.tcp.has(kSyn) && s.tcp.has(kAck);
      c.client = from_server ? destination(s) : source(s);
      c.server = from_server ? source(s) : destination(s);
      c.first_time = s.time;
      out.push_back(std::move(c));
      Open o{out.size() - 1, std::nullopt};
      if (pure_syn(s.tcp)) o.client_isn = s.tcp.seq;
      it = open.insert_or_assign(key, o).first;
    }
    Connection& c = out[it->second.index];
    c.members.push_back(i);
    c.last_time = s.time;
    ++c.segments;
    (source(s) == c.client ? c.bytes_to_server : c.bytes_to_client) += s.payload_len;
  }
  return out;
}

std::optional<Choice> choose_connection(const std::vector<Connection>& connections,
                                        const Selection& selection, std::string* error) {
  if (connections.empty()) {
    *error = "the capture holds no TCP connection";
    return std::nullopt;
  }
  std::optional<size_t> pick;
  if (selection.number) {
    int n = *selection.number;
    if (n < 1 || static_cast<size_t>(n) > connections.size()) {
      *error = "no connection " + std::to_string(n) + ": the capture holds " +
               std::to_string(connections.size()) + " (1.." + std::to_string(connections.size()) +
               ", see --list)";
      return std::nullopt;
    }
    pick = static_cast<size_t>(n - 1);
  } else {
    uint64_t most = 0;
    for (size_t i = 0; i < connections.size(); ++i) {
      const Connection& c = connections[i];
      if (selection.port && c.client.port != *selection.port && c.server.port != *selection.port)
        continue;
      uint64_t bytes = c.bytes_to_server + c.bytes_to_client;
      if (!pick || bytes > most) pick = i, most = bytes;
    }
    if (!pick) {
      *error = "no connection uses port " + std::to_string(*selection.port) + " (see --list)";
      return std::nullopt;
    }
  }
  const Connection& c = connections[*pick];
  bool from_client = c.bytes_to_server >= c.bytes_to_client;
  return Choice{*pick, selection.reverse ? !from_client : from_client};
}

TimeSequence time_sequence(const Capture& capture, const Connection& connection, bool from_client) {
  TimeSequence ts;
  ts.sender = from_client ? connection.client : connection.server;
  ts.receiver = from_client ? connection.server : connection.client;
  ts.duration = connection.last_time - connection.first_time;
  auto sent_by_sender = [&](const CapturedSegment& s) { return source(s) == ts.sender; };

  // The base: the sender's ISN, else its first sequence number, else (a
  // capture of one direction only) the first thing the receiver ACKed.
  std::optional<uint32_t> base;
  bool sender_syn = false, receiver_syn = false;
  for (size_t i : connection.members) {
    const CapturedSegment& s = capture.segments[i];
    if (sent_by_sender(s)) {
      if (s.tcp.has(kSyn) && !sender_syn) {
        sender_syn = true;
        base = s.tcp.seq;
        ts.sender_wscale = s.tcp.options.window_scale;
      } else if (!base) {
        base = s.tcp.seq;
      }
    } else if (s.tcp.has(kSyn) && !receiver_syn) {
      receiver_syn = true;
      ts.receiver_wscale = s.tcp.options.window_scale;
    }
  }
  if (!base) {
    for (size_t i : connection.members) {
      const CapturedSegment& s = capture.segments[i];
      if (s.tcp.has(kAck)) {
        base = s.tcp.ack;
        break;
      }
    }
  }
  ts.handshake_seen = sender_syn && receiver_syn;
  // RFC 7323 §2.2: scaling is on only when both SYNs carried the option.
  if (ts.sender_wscale && ts.receiver_wscale)
    ts.window_shift = std::min<uint8_t>(*ts.receiver_wscale, 14);
  if (!base) return ts;

  Unwrapper rel(*base);
  int64_t highest = 0;  // the end of everything sent so far
  bool sent_syn = false, sent_fin = false, got_syn = false, got_fin = false;
  for (size_t i : connection.members) {
    const CapturedSegment& s = capture.segments[i];
    const wire::TcpHeader& h = s.tcp;
    double t = s.time - connection.first_time;
    if (sent_by_sender(s)) {
      int64_t seq = rel(h.seq);
      if (h.has(kSyn)) {
        ts.flags.push_back({t, seq, kSyn, true, sent_syn});
        sent_syn = true;
        highest = std::max(highest, seq + 1);
        ++seq;  // the data of a SYN (rare) follows it
      }
      if (h.has(kRst)) ts.flags.push_back({t, seq, kRst, true, false});
      if (s.payload_len > 0) {
        SeqRange r{t, seq, seq + s.payload_len};
        if (r.begin < highest) {
          ts.retransmitted.push_back(r);
        } else {
          ts.sent.push_back(r);
        }
        if (r.end > highest) ts.unique_bytes += uint64_t(r.end - std::max(r.begin, highest));
        highest = std::max(highest, r.end);
      }
      if (h.has(kFin)) {
        int64_t at = seq + s.payload_len;
        ts.flags.push_back({t, at, kFin, true, sent_fin});
        sent_fin = true;
        highest = std::max(highest, at + 1);
      }
      continue;
    }
    // The receiver: its ACK, window and SACK blocks in the sender's space.
    int64_t ack = h.has(kAck) ? rel(h.ack) : 0;
    if (h.has(kSyn)) {
      ts.flags.push_back({t, ack, kSyn, false, got_syn});
      got_syn = true;
    }
    if (h.has(kFin)) {
      ts.flags.push_back({t, ack, kFin, false, got_fin});
      got_fin = true;
    }
    if (h.has(kRst)) {
      // An RST's ACK and window say nothing about the receiver's state.
      ts.flags.push_back({t, ack, kRst, false, false});
      continue;
    }
    if (!h.has(kAck)) continue;
    ts.acks.push_back({t, ack});
    // RFC 7323 §2.2: a SYN's window is never scaled.
    uint64_t window = h.has(kSyn) ? h.window : uint64_t(h.window) << ts.window_shift;
    ts.window.push_back({t, ack + static_cast<int64_t>(window)});
    for (size_t k = 0; k < h.options.sack_count; ++k) {
      const wire::SackBlock& b = h.options.sack[k];
      ts.sacks.push_back({t, rel.at(b.left), rel.at(b.right)});
    }
  }
  return ts;
}

}  // namespace veer::plot
