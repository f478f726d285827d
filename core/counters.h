// Counters for everything the stack does that a user may want to see,
// especially what it drops. Named after the kernel's `netstat -s` lines, and
// grouped as netstat -s groups the kernel's (Ip:, Icmp:, Tcp:, TcpExt:; Tcp:
// holds what RFC 1213's MIB counts, TcpExt: what Linux adds), with Link: and
// Arp: for what the kernel does not report there.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace veer::core {

#define VEER_COUNTERS(X)                                                              \
  X(Link, eth_rx_frames, "frames received")                                           \
  X(Link, eth_tx_frames, "frames sent")                                               \
  X(Link, eth_rx_truncated, "truncated frames dropped")                               \
  X(Link, eth_rx_not_for_us, "frames for another MAC dropped")                        \
  X(Link, eth_rx_unknown_type, "frames with an unknown ethertype dropped")            \
  X(Link, dev_tx_gso_frames, "TSO frames the device sent (several segments each)")    \
  X(Link, dev_tx_gso_segments, "segments sent inside TSO frames")                     \
  X(Link, dev_rx_gso_frames, "GSO frames the device received whole")                  \
  X(Link, dev_tx_batch_errors, "TSO batches the device failed to write")              \
  X(Link, dev_tx_kicks, "AF_XDP send kicks (sendto calls)")                           \
  X(Link, dev_tx_multibuf_frames, "AF_XDP frames sent over several chunks")           \
  X(Link, dev_rx_multibuf_frames, "AF_XDP frames received over several chunks")       \
  X(Link, dev_rx_bad_chains, "AF_XDP multi-buffer frames dropped (too long)")         \
  X(Arp, arp_rx_malformed, "malformed ARP packets dropped")                           \
  X(Arp, arp_requests_answered, "ARP requests answered")                              \
  X(Arp, arp_requests_sent, "ARP requests sent")                                      \
  X(Arp, arp_resolution_failed, "ARP resolutions failed")                             \
  X(Arp, arp_queue_dropped, "packets dropped waiting for ARP")                        \
  X(Ip, ip_rx_packets, "total IP packets received")                                   \
  X(Ip, ip_rx_header_errors, "IP packets with invalid headers")                       \
  X(Ip, ip_rx_bad_checksum, "IP packets with bad checksums")                          \
  X(Ip, ip_rx_not_for_us, "IP packets for another address dropped")                   \
  X(Ip, ip_rx_fragments_dropped, "IP fragments dropped (reassembly unsupported)")     \
  X(Ip, ip_rx_unknown_protocol, "IP packets with unknown protocol")                   \
  X(Ip, ip_tx_packets, "IP requests sent out")                                        \
  X(Ip, ip_tx_no_route, "outgoing packets dropped (no route)")                        \
  X(Icmp, icmp_rx, "ICMP messages received")                                          \
  X(Icmp, icmp_rx_bad, "ICMP messages failed (bad checksum or length)")               \
  X(Icmp, icmp_echo_replies_sent, "ICMP echo replies sent")                           \
  X(Icmp, icmp_dest_unreachable, "ICMP destination unreachable received")             \
  X(TcpExt, icmp_out_of_window, "ICMP errors for no segment in flight (ignored)")     \
  X(Tcp, tcp_rx_segments, "TCP segments received")                                    \
  X(Tcp, tcp_tx_segments, "TCP segments sent out")                                    \
  X(Tcp, tcp_rx_bad_checksum, "TCP segments with bad checksums")                      \
  X(Tcp, tcp_rx_malformed, "TCP segments with bad header or options")                 \
  X(Tcp, tcp_retrans_segments, "TCP segments retransmitted")                          \
  X(Tcp, tcp_rst_sent, "TCP resets sent")                                             \
  X(TcpExt, tcp_rst_received, "TCP resets received")                                  \
  X(TcpExt, tcp_no_socket, "TCP segments to no socket (answered with RST)")           \
  X(TcpExt, tcp_out_of_window, "TCP segments out of window")                          \
  X(Tcp, tcp_active_opens, "active connection openings")                              \
  X(Tcp, tcp_passive_opens, "passive connection openings")                            \
  X(Tcp, tcp_attempt_fails, "failed connection attempts")                             \
  X(Tcp, tcp_estab_resets, "connection resets received in established states")        \
  X(TcpExt, tcp_timeouts, "TCP connections aborted by timeout")                       \
  X(TcpExt, tcp_listen_overflows, "times the listen queue of a socket overflowed")    \
  X(TcpExt, tcp_embryonic_resets, "resets received for embryonic SYN_RECV sockets")   \
  X(TcpExt, tcp_urgent_marks, "urgent pointers received")                             \
  X(TcpExt, tcp_req_queue_full_drops, "SYNs dropped: SYN queue full, no SYN cookies") \
  X(TcpExt, tcp_syncookies_sent, "SYN cookies sent")                                  \
  X(TcpExt, tcp_syncookies_recv, "SYN cookies received")                              \
  X(TcpExt, tcp_syncookies_failed, "invalid SYN cookies received")                    \
  X(TcpExt, tcp_ooo_queued, "packets queued to the out-of-order queue")               \
  X(TcpExt, tcp_ooo_dropped, "out-of-order packets dropped for lack of memory")       \
  X(TcpExt, tcp_rcvq_dropped, "packets dropped for a full receive buffer")            \
  X(TcpExt, tcp_zero_window_dropped, "segments dropped for a closed receive window")  \
  X(TcpExt, tcp_ports_exhausted, "connects that found no free local port")

struct Counters {
#define VEER_COUNTER_FIELD(group, name, text) uint64_t name = 0;
  VEER_COUNTERS(VEER_COUNTER_FIELD)
#undef VEER_COUNTER_FIELD
};

// One counter's group, identifier and line, in the order of Counters.
struct CounterInfo {
  std::string_view group;  // "Ip", "Tcp", "TcpExt" ...
  std::string_view name;   // the field: "tcp_active_opens"
  std::string_view text;   // the netstat -s wording: "active connection openings"
};

inline constexpr std::array kCounterInfo = {
#define VEER_COUNTER_INFO(group, name, text) CounterInfo{#group, #name, text},
    VEER_COUNTERS(VEER_COUNTER_INFO)
#undef VEER_COUNTER_INFO
};
inline constexpr size_t kCounterCount = kCounterInfo.size();

// Counters is nothing but its uint64_t fields, in kCounterInfo's order, so
// it can be read as an array (the socket view publishes it so).
static_assert(sizeof(Counters) == kCounterCount * sizeof(uint64_t));

inline std::array<uint64_t, kCounterCount> counter_values(const Counters& c) {
  return {
#define VEER_COUNTER_VALUE(group, name, text) c.name,
      VEER_COUNTERS(VEER_COUNTER_VALUE)
#undef VEER_COUNTER_VALUE
  };
}

}  // namespace veer::core
