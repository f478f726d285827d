// Counters for everything the stack does that a user may want to see,
// especially what it drops. Named after the kernel's `netstat -s` lines.
#pragma once

#include <cstdint>

namespace veer::core {

#define VEER_COUNTERS(X)                                                      \
  X(eth_rx_frames, "frames received")                                         \
  X(eth_tx_frames, "frames sent")                                             \
  X(eth_rx_truncated, "truncated frames dropped")                             \
  X(eth_rx_not_for_us, "frames for another MAC dropped")                      \
  X(eth_rx_unknown_type, "frames with an unknown ethertype dropped")          \
  X(arp_rx_malformed, "malformed ARP packets dropped")                        \
  X(arp_requests_answered, "ARP requests answered")                           \
  X(arp_requests_sent, "ARP requests sent")                                   \
  X(arp_resolution_failed, "ARP resolutions failed")                          \
  X(arp_queue_dropped, "packets dropped waiting for ARP")                     \
  X(ip_rx_packets, "total IP packets received")                               \
  X(ip_rx_header_errors, "IP packets with invalid headers")                   \
  X(ip_rx_bad_checksum, "IP packets with bad checksums")                      \
  X(ip_rx_not_for_us, "IP packets for another address dropped")               \
  X(ip_rx_fragments_dropped, "IP fragments dropped (reassembly unsupported)") \
  X(ip_rx_unknown_protocol, "IP packets with unknown protocol")               \
  X(ip_tx_packets, "IP requests sent out")                                    \
  X(ip_tx_no_route, "outgoing packets dropped (no route)")                    \
  X(icmp_rx, "ICMP messages received")                                        \
  X(icmp_rx_bad, "ICMP messages failed (bad checksum or length)")             \
  X(icmp_echo_replies_sent, "ICMP echo replies sent")                         \
  X(icmp_dest_unreachable, "ICMP destination unreachable received")           \
  X(icmp_out_of_window, "ICMP errors for no segment in flight (ignored)")     \
  X(tcp_rx_segments, "TCP segments received")                                 \
  X(tcp_tx_segments, "TCP segments sent out")                                 \
  X(tcp_rx_bad_checksum, "TCP segments with bad checksums")                   \
  X(tcp_rx_malformed, "TCP segments with bad header or options")              \
  X(tcp_retrans_segments, "TCP segments retransmitted")                       \
  X(tcp_rst_sent, "TCP resets sent")                                          \
  X(tcp_rst_received, "TCP resets received")                                  \
  X(tcp_no_socket, "TCP segments to no socket (answered with RST)")           \
  X(tcp_out_of_window, "TCP segments out of window")                          \
  X(tcp_active_opens, "active connection openings")                           \
  X(tcp_passive_opens, "passive connection openings")                         \
  X(tcp_attempt_fails, "failed connection attempts")                          \
  X(tcp_estab_resets, "connection resets received in established states")     \
  X(tcp_timeouts, "TCP connections aborted by timeout")                       \
  X(tcp_listen_overflows, "times the listen queue of a socket overflowed")    \
  X(tcp_urgent_marks, "urgent pointers received")                             \
  X(tcp_embryonic_resets, "resets received for embryonic SYN_RECV sockets")   \
  X(tcp_req_queue_full_drops, "SYNs dropped: SYN queue full, no SYN cookies") \
  X(tcp_syncookies_sent, "SYN cookies sent")                                  \
  X(tcp_syncookies_recv, "SYN cookies received")                              \
  X(tcp_syncookies_failed, "invalid SYN cookies received")                    \
  X(tcp_ooo_queued, "packets queued to the out-of-order queue")               \
  X(tcp_ooo_dropped, "out-of-order packets dropped for lack of memory")       \
  X(tcp_rcvq_dropped, "packets dropped for a full receive buffer")            \
  X(tcp_zero_window_dropped, "segments dropped for a closed receive window")  \
  X(tcp_ports_exhausted, "connects that found no free local port")

struct Counters {
#define VEER_COUNTER_FIELD(name, text) uint64_t name = 0;
  VEER_COUNTERS(VEER_COUNTER_FIELD)
#undef VEER_COUNTER_FIELD
};

}  // namespace veer::core
