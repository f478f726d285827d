// Kept apart from the other preload files: <linux/tcp.h> and glibc's
// <netinet/tcp.h> both define struct tcp_info and cannot meet.
#include "preload/tcp_info_fill.h"

#include <linux/tcp.h>

#include <algorithm>
#include <cstring>

namespace veer::preload {

socklen_t fill_tcp_info(const core::TcpInfo& i, void* out, socklen_t len) {
  struct tcp_info t;
  std::memset(&t, 0, sizeof t);
  t.tcpi_state = i.state;
  t.tcpi_ca_state = i.ca_state;
  t.tcpi_retransmits = i.retransmits;
  t.tcpi_probes = i.probes;
  t.tcpi_backoff = i.backoff;
  t.tcpi_options = i.options;
  t.tcpi_snd_wscale = i.snd_wscale & 0xf;
  t.tcpi_rcv_wscale = i.rcv_wscale & 0xf;
  t.tcpi_rto = i.rto_us;
  t.tcpi_ato = i.ato_us;
  t.tcpi_snd_mss = i.snd_mss;
  t.tcpi_rcv_mss = i.rcv_mss;
  t.tcpi_unacked = i.unacked;
  t.tcpi_sacked = i.sacked;
  t.tcpi_lost = i.lost;
  t.tcpi_retrans = i.retrans;
  t.tcpi_last_data_sent = i.last_data_sent_ms;
  t.tcpi_last_data_recv = i.last_data_recv_ms;
  t.tcpi_last_ack_recv = i.last_ack_recv_ms;
  t.tcpi_pmtu = i.pmtu;
  t.tcpi_rcv_ssthresh = i.rcv_ssthresh;
  t.tcpi_rtt = i.rtt_us;
  t.tcpi_rttvar = i.rttvar_us;
  t.tcpi_snd_ssthresh = i.snd_ssthresh;
  t.tcpi_snd_cwnd = i.snd_cwnd;
  t.tcpi_advmss = i.advmss;
  t.tcpi_reordering = i.reordering;
  t.tcpi_rcv_space = i.rcv_space;
  t.tcpi_rcv_rtt = i.rcv_rtt_us;
  t.tcpi_total_retrans = i.total_retrans;
  t.tcpi_bytes_acked = i.bytes_acked;
  t.tcpi_bytes_received = i.bytes_received;
  t.tcpi_segs_out = i.segs_out;
  t.tcpi_segs_in = i.segs_in;
  t.tcpi_min_rtt = i.min_rtt_us;
  t.tcpi_snd_wnd = i.snd_wnd;
  socklen_t n = std::min<socklen_t>(len, sizeof t);
  std::memcpy(out, &t, n);
  return n;
}

}  // namespace veer::preload
