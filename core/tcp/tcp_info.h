// What TCP_INFO reports about a connection, in the units and with the
// meanings of Linux's struct tcp_info (include/uapi/linux/tcp.h); the preload
// layer copies it into the program's struct field by field.
#pragma once

#include <cstdint>

#include "core/types.h"

namespace veer::core {

inline constexpr uint8_t kTcpiOptTimestamps = 1;  // TCPI_OPT_TIMESTAMPS
inline constexpr uint8_t kTcpiOptSack = 2;        // TCPI_OPT_SACK
inline constexpr uint8_t kTcpiOptWscale = 4;      // TCPI_OPT_WSCALE

struct TcpInfo {
  uint8_t state = 0;  // Linux's numbering (TcpState)
  uint8_t ca_state = 0;
  uint8_t retransmits = 0;
  uint8_t probes = 0;
  uint8_t backoff = 0;
  uint8_t options = 0;
  uint8_t snd_wscale = 0;
  uint8_t rcv_wscale = 0;
  uint32_t rto_us = 0;
  uint32_t ato_us = 0;
  uint32_t snd_mss = 0;
  uint32_t rcv_mss = 0;
  uint32_t unacked = 0;  // segments in flight (packets_out)
  uint32_t sacked = 0;
  uint32_t lost = 0;
  uint32_t retrans = 0;
  uint32_t last_data_sent_ms = 0;
  uint32_t last_data_recv_ms = 0;
  uint32_t last_ack_recv_ms = 0;
  uint32_t pmtu = 0;
  uint32_t rcv_ssthresh = 0;
  uint32_t rtt_us = 0;
  uint32_t rttvar_us = 0;
  uint32_t snd_ssthresh = 0;
  uint32_t snd_cwnd = 0;
  uint32_t advmss = 0;
  uint32_t reordering = 0;
  uint32_t rcv_space = 0;
  uint32_t rcv_rtt_us = 0;  // the receiver's RTT estimate (tcpi_rcv_rtt)
  uint32_t total_retrans = 0;
  uint64_t bytes_acked = 0;
  uint64_t bytes_received = 0;
  uint32_t segs_out = 0;
  uint32_t segs_in = 0;
  uint32_t min_rtt_us = 0;
  uint32_t snd_wnd = 0;
  uint32_t rcv_wnd = 0;
};

// The timer `ss -o` would show for a connection (Linux's icsk_pending,
// sk_timer, the TIME_WAIT timer) and its counter (retransmits, probes).
struct TcpTimerView {
  enum class Kind : uint8_t { Off, Retransmit, Persist, Keepalive, TimeWait };
  Kind kind = Kind::Off;
  Time at{};
  int count = 0;
};

}  // namespace veer::core
