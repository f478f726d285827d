// Vocabulary shared by the sender's loss-recovery pieces: Linux's congestion
// state machine states (icsk_ca_state), the kinds of transmission the
// scoreboard distinguishes, and the knobs that steer loss detection.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "core/tcp/rto.h"
#include "core/tcp/seq.h"
#include "core/types.h"

namespace veer::core {

// Linux enum tcp_ca_state, in Linux's order: code compares with < and >=.
enum class CaState : uint8_t {
  Open,      // no dubious events
  Disorder,  // SACKs or dupacks seen, nothing lost yet
  Cwr,       // cwnd reduced by ECN or a repaired TLP loss
  Recovery,  // fast recovery (RFC 6675 / RFC 6582 / RACK)
  Loss,      // after an RTO
};

// What left the host (decides the scoreboard tags, like Linux's callers of
// tcp_transmit_skb):
enum class SendKind : uint8_t {
  New,         // first transmission (tcp_event_new_data_sent)
  Retransmit,  // tcp_retransmit_skb: TCPCB_RETRANS, counted in retrans_out
  Probe,       // a TLP retransmission of the last segment (__tcp_retransmit_skb
               // only): EVER_RETRANS for Karn, but not counted in retrans_out
};

// Linux tcp_skb_sent_after(): whether segment 1 left after segment 2. Linux
// orders by the nanosecond send timestamp and breaks a tie, which only the
// segments of one TSO burst share, by end_seq. veer reads the clock once per
// engine pass, so a retransmission and new data sent in one pass share a
// timestamp in any sequence order: `order`, the connection's transmission
// count, puts them in the order they left, and end_seq still orders the
// halves of an entry split after it was sent (tcp_fragment()).
inline bool sent_after(Time t1, uint64_t order1, uint32_t end1, Time t2, uint64_t order2,
                       uint32_t end2) {
  if (t1 != t2) return t1 > t2;
  if (order1 != order2) return order1 > order2;
  return seq_gt(end1, end2);
}

// Linux tcp_tsopt_ecr_before(): the peer's timestamp echo is older than
// `when`, in the timestamp clock's ticks (milliseconds), as Linux compares it
// with retrans_stamp and an skb's send time. A retransmission sent in the
// same millisecond as its original carries the same TSval, so its echo is
// no proof that the original arrived.
inline bool echo_before(std::optional<Time> echo, Time when) {
  using std::chrono::floor;
  using std::chrono::milliseconds;
  return echo && floor<milliseconds>(*echo) < floor<milliseconds>(when);
}

// net.ipv4.tcp_recovery bits (include/net/tcp.h).
inline constexpr int kRackLossDetection = 0x1;  // RACK-TLP loss detection (default)
inline constexpr int kRackStaticReoWnd = 0x2;   // do not grow reo_wnd on D-SACKs
inline constexpr int kRackNoDupthresh = 0x4;    // RACK ignores the dupthresh shortcut

// The loss-recovery knobs, with Linux's names and defaults.
struct RecoverySettings {
  int recovery = kRackLossDetection;  // net.ipv4.tcp_recovery
  uint32_t reordering = 3;            // net.ipv4.tcp_reordering (TCP_FASTRETRANS_THRESH)
  uint32_t max_reordering = 300;      // net.ipv4.tcp_max_reordering
  int early_retrans = 3;              // net.ipv4.tcp_early_retrans: 3 and 4 enable TLP
  int frto = 2;                       // net.ipv4.tcp_frto: F-RTO (RFC 5682) when non-zero
  Time min_rtt_window = std::chrono::seconds(300);  // net.ipv4.tcp_min_rtt_wlen
  Time rto_min = kRtoMin;                           // net.ipv4.tcp_rto_min_us
  Time rto_max = kRtoMax;                           // net.ipv4.tcp_rto_max_ms, or TCP_RTO_MAX_MS
  bool sack = true;  // the peer negotiated SACK; false: NewReno dupack emulation
};

// Linux TCP_TIMEOUT_MIN_US: the floor added to the RACK reordering timer and
// to the TLP timeout when more than one segment is in flight.
inline constexpr Time kTimeoutMin = std::chrono::microseconds(2000);

}  // namespace veer::core
