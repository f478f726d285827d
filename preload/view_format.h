// The view each engine publishes for `veer ss` and `veer netstat`: a file in
// /dev/shm (POSIX shared memory) named veer.<pid>, readable by its owner
// only, holding a header (with the stack's counters) and one record per
// socket. The engine rewrites it under a
// sequence counter (odd while writing), so a reader copies it and retries
// until it saw the same even count before and after.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/counters.h"

namespace veer::preload {

// The reader's side of the sequence counter: keeps the copy's loads before
// the second look at the counter. ThreadSanitizer does not support
// atomic_thread_fence; under it a compiler barrier stands in (x86 does not
// reorder loads with loads).
inline void view_read_fence() {
#if defined(__SANITIZE_THREAD__)
  asm volatile("" ::: "memory");
#else
  std::atomic_thread_fence(std::memory_order_acquire);
#endif
}

// The layout's version is in the magic: a reader skips a view whose magic
// differs (another veer version), saying so. 02: the counters. 03: the
// receive side of tcp_info.
inline constexpr char kViewMagic[8] = {'v', 'e', 'e', 'r', 's', 's', '0', '3'};
inline constexpr char kViewMagicFamily[6] = {'v', 'e', 'e', 'r', 's', 's'};
inline constexpr const char* kViewPrefix = "veer.";  // + pid, under /dev/shm

struct ViewSocket {
  uint8_t state;         // Linux's TCP state numbering (TcpState)
  uint8_t timer;         // TcpTimerView::Kind
  uint8_t orphan;        // closed by the program, still alive in the stack
  uint8_t options;       // TCPI_OPT_* bits
  uint32_t local_addr;   // host byte order
  uint32_t remote_addr;  // host byte order
  uint16_t local_port;   // host byte order
  uint16_t remote_port;  // host byte order
  uint32_t recv_q;
  uint32_t send_q;
  int32_t fd;           // the lowest fd naming it, or -1
  int32_t timer_count;  // retransmits or probes
  int64_t timer_ms;     // time left on the timer, at `published_ns`
  // tcp_info, for `veer ss -i` (connections only).
  uint32_t rtt_us;
  uint32_t rttvar_us;
  uint32_t rto_us;
  uint32_t snd_mss;
  uint32_t rcv_mss;
  uint32_t snd_cwnd;
  uint32_t snd_ssthresh;
  uint32_t retrans;
  uint32_t total_retrans;
  uint8_t snd_wscale;
  uint8_t rcv_wscale;
  uint8_t has_info;
  uint8_t pad;
  uint64_t bytes_acked;
  uint64_t bytes_received;
  uint32_t rcv_rtt_us;  // the receiver's RTT estimate (tcpi_rcv_rtt)
  uint32_t rcv_space;
  uint32_t rcv_ssthresh;
  uint32_t snd_wnd;
};

struct ViewHeader {
  char magic[8];
  uint64_t seq;          // odd while the engine writes
  int64_t published_ns;  // CLOCK_MONOTONIC
  int32_t pid;
  uint32_t count;     // records that follow
  uint32_t capacity;  // records the file has room for
  uint32_t pad;
  char program[64];  // the program's name (comm)
  char address[32];  // veer's address/prefix, for the header line
  // core::Counters, in core::kCounterInfo's order, as at `published_ns`.
  uint32_t counter_count;
  uint32_t pad2;
  uint64_t counters[core::kCounterCount];
};

}  // namespace veer::preload
