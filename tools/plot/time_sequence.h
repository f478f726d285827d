// The analysis behind `veer plot`: a capture's TCP connections, and for one
// direction of one connection the series of a time-sequence graph (the
// tcptrace/Stevens picture): data sent and sent again, the receiver's ACK,
// its window and its SACK blocks, and the SYN/FIN/RST of both sides.
//
// Sequence numbers are relative to the sender's ISN (its SYN is 0, the first
// data byte 1, as tcpdump and Wireshark count) and unwrapped to 64 bits;
// times are seconds since the connection's first segment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/plot/capture.h"

namespace veer::plot {

// Both directions of one 4-tuple, from a SYN to the next new SYN.
struct Connection {
  int number = 0;   // 1, 2, … in order of first appearance
  Endpoint client;  // sent the first SYN (or, without one, the first segment)
  Endpoint server;
  double first_time = 0;  // capture times of its first and last segments
  double last_time = 0;
  uint64_t segments = 0;
  uint64_t bytes_to_server = 0;  // payload, retransmissions included
  uint64_t bytes_to_client = 0;
  std::vector<size_t> members;  // indexes into Capture::segments, in file order
};

std::vector<Connection> find_connections(const Capture& capture);

// What the command line asked for; the default is the connection with the
// most data, in the direction that carried more of it.
struct Selection {
  std::optional<int> number;     // --conn N
  std::optional<uint16_t> port;  // --port P: either end's port
  bool reverse = false;          // --reverse: the other direction
};

struct Choice {
  size_t index = 0;  // into the connections
  bool from_client = true;
};

// nullopt with *error set when nothing matches.
std::optional<Choice> choose_connection(const std::vector<Connection>& connections,
                                        const Selection& selection, std::string* error);

struct SeqRange {
  double time = 0;
  int64_t begin = 0;  // [begin, end)
  int64_t end = 0;
  bool operator==(const SeqRange&) const = default;
};

struct SeqPoint {
  double time = 0;
  int64_t seq = 0;
  bool operator==(const SeqPoint&) const = default;
};

struct FlagMark {
  double time = 0;
  int64_t seq = 0;   // the sender's: its own seq; the receiver's: its ACK
  uint8_t flag = 0;  // one of wire::tcpflag::kSyn, kFin, kRst
  bool from_sender = true;
  bool repeated = false;  // a SYN or FIN sent again
  bool operator==(const FlagMark&) const = default;
};

struct TimeSequence {
  Endpoint sender;
  Endpoint receiver;
  std::vector<SeqRange> sent;           // data segments sent the first time
  std::vector<SeqRange> retransmitted;  // data segments whose range was sent before
  std::vector<SeqPoint> acks;           // the receiver's cumulative ACK
  std::vector<SeqPoint> window;         // that ACK plus the receiver's (scaled) window
  std::vector<SeqRange> sacks;          // the receiver's SACK blocks (D-SACK included)
  std::vector<FlagMark> flags;
  std::optional<uint8_t> sender_wscale;  // window scale options of the SYNs
  std::optional<uint8_t> receiver_wscale;
  bool handshake_seen = false;  // both SYNs are in the capture
  uint8_t window_shift = 0;     // applied to the receiver's non-SYN windows
  double duration = 0;          // seconds from the connection's first to last segment
  uint64_t unique_bytes = 0;    // highest data byte sent, relative
};

TimeSequence time_sequence(const Capture& capture, const Connection& connection, bool from_client);

}  // namespace veer::plot
