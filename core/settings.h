// Everything that configures a Stack. Filled from the knob registry
// (core/config) by the owner; core/ itself reads no files and no environment.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "core/types.h"

namespace veer::core {

// TCP behaviour. Names, defaults and meaning mirror Linux's sysctls
// (net.ipv4.tcp_*); the registry in core/config/registry.cpp is the one place
// that lists their ranges.
struct TcpSettings {
  int syn_retries = 6;           // net.ipv4.tcp_syn_retries
  int syn_linear_timeouts = 4;   // net.ipv4.tcp_syn_linear_timeouts (Linux 6.5+)
  int synack_retries = 5;        // net.ipv4.tcp_synack_retries
  int retries2 = 15;             // net.ipv4.tcp_retries2
  int orphan_retries = 0;        // net.ipv4.tcp_orphan_retries (0: 8 while alive)
  int fin_timeout_s = 60;        // net.ipv4.tcp_fin_timeout
  int keepalive_time_s = 7200;   // net.ipv4.tcp_keepalive_time
  int keepalive_intvl_s = 75;    // net.ipv4.tcp_keepalive_intvl
  int keepalive_probes = 9;      // net.ipv4.tcp_keepalive_probes
  int tw_reuse = 2;              // net.ipv4.tcp_tw_reuse
  int tw_reuse_delay_ms = 1000;  // net.ipv4.tcp_tw_reuse_delay
  uint16_t port_low = 32768;     // net.ipv4.ip_local_port_range
  uint16_t port_high = 60999;
  int somaxconn = 4096;         // net.core.somaxconn
  int max_syn_backlog = 1024;   // net.ipv4.tcp_max_syn_backlog
  int syncookies = 1;           // net.ipv4.tcp_syncookies: 0 off, 1 on overflow, 2 always
  int rmem_default = 131072;    // net.ipv4.tcp_rmem (default)
  int rmem_max = 6291456;       // net.ipv4.tcp_rmem (max)
  int core_rmem_max = 4194304;  // net.core.rmem_max
  bool window_scaling = true;   // net.ipv4.tcp_window_scaling
  int timestamps = 1;           // net.ipv4.tcp_timestamps: 0 off, 1 with offset, 2 without
  bool sack = true;             // net.ipv4.tcp_sack
  // net.ipv4.tcp_congestion_control: "cubic" or "reno" (fixed size: the
  // settings may live in a process-shared arena).
  std::array<char, 16> congestion_control{'c', 'u', 'b', 'i', 'c'};
  int recovery = 1;                     // net.ipv4.tcp_recovery (1: RACK-TLP)
  int early_retrans = 3;                // net.ipv4.tcp_early_retrans (3: TLP)
  bool slow_start_after_idle = true;    // net.ipv4.tcp_slow_start_after_idle
  int wmem_default = 16384;             // net.ipv4.tcp_wmem (default)
  int wmem_max = 4194304;               // net.ipv4.tcp_wmem (max)
  bool moderate_rcvbuf = true;          // net.ipv4.tcp_moderate_rcvbuf
  int core_wmem_max = 4194304;          // net.core.wmem_max
  int adv_win_scale = 1;                // net.ipv4.tcp_adv_win_scale
  uint32_t notsent_lowat = UINT32_MAX;  // net.ipv4.tcp_notsent_lowat
  int min_tso_segs = 2;                 // net.ipv4.tcp_min_tso_segs
  uint32_t gso_max_segs = 65535;        // the link's gso_max_segs (ip link ... gso_max_segs)
  int max_tcp_header = 320;             // MAX_TCP_HEADER of the Linux build modelled
  int rto_min_us = 200000;              // net.ipv4.tcp_rto_min_us (Linux 6.11+)
  int rto_max_ms = 120000;              // net.ipv4.tcp_rto_max_ms (Linux 6.15+)
  bool abort_on_overflow = false;       // net.ipv4.tcp_abort_on_overflow
  bool rfc1337 = false;                 // net.ipv4.tcp_rfc1337
  bool stdurg = false;                  // net.ipv4.tcp_stdurg
};

struct StackConfig {
  MacAddr mac;
  Ipv4Prefix address;               // our address and subnet
  std::optional<Ipv4Addr> gateway;  // next hop for destinations off the subnet
  uint16_t mtu = 1500;
  TcpSettings tcp;
  // Secret for ISNs (RFC 6528) and ephemeral port selection (RFC 6056). The
  // owner fills it from a real random source; tests fix it.
  std::array<uint8_t, 16> secret{};
  // ARP: how long a resolved entry stays valid, and the request schedule.
  Time arp_entry_lifetime = std::chrono::seconds(60);  // Linux base_reachable_time
  Time arp_retry_interval = std::chrono::seconds(1);   // Linux retrans_time
  int arp_max_requests = 3;                            // Linux mcast_solicit
};

}  // namespace veer::core
