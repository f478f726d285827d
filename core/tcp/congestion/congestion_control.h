// A congestion-control algorithm behind an interface, after Linux's struct
// tcp_congestion_ops: the connection calls the same hooks at the same points
// as tcp_input.c/tcp_output.c do (see CongestionWindow for that glue). Each
// algorithm keeps its per-connection state inside its object (Linux's
// icsk_ca_priv) and works on the connection's TcpCongestionState in segments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string_view>
#include <utility>

#include "core/tcp/congestion/congestion_state.h"
#include "core/types.h"

namespace veer::core {

// Where the sender stands when a hook runs: what Linux hooks read from
// tcp_sock directly (tcp_mstamp/tcp_jiffies32, snd_una, snd_nxt).
struct SendProgress {
  Time now{};
  uint32_t snd_una = 0;
  uint32_t snd_nxt = 0;
};

// One ACK's worth of delivery, for pkts_acked (Linux struct ack_sample plus
// the socket fields CUBIC's HyStart reads).
struct AckSample {
  SendProgress at;
  uint32_t pkts_acked = 0;    // segments newly cumulatively acked
  std::optional<Time> rtt;    // RTT of the last (S)ACKed segment; none under Karn's rule
  uint64_t pacing_rate = 0;   // sk_pacing_rate in bytes/s, 0 while veer does not pace
  uint32_t gso_max_size = 0;  // sk_gso_max_size in bytes
  bool pacing = false;        // sk_pacing_status != SK_PACING_NONE
};

class CongestionControl {
 public:
  virtual ~CongestionControl() = default;

  // .name: what TCP_CONGESTION and tcp_congestion_control read and write.
  virtual std::string_view name() const = 0;

  // .init: the connection is established (tcp_init_congestion_control), or
  // the algorithm was switched on a synchronized connection.
  virtual void init(TcpCongestionState& s, const SendProgress& at) = 0;

  // .ssthresh: the slow-start threshold after a loss (entering Recovery, CWR
  // or Loss), computed from the current snd_cwnd.
  virtual uint32_t ssthresh(const TcpCongestionState& s) = 0;

  // .cong_avoid: grow snd_cwnd for `acked` newly delivered segments, outside
  // cwnd reductions.
  virtual void cong_avoid(TcpCongestionState& s, uint32_t acked, Time now) = 0;

  // .undo_cwnd: the cwnd to restore when a reduction proves spurious.
  virtual uint32_t undo_cwnd(const TcpCongestionState& s) = 0;

  // .set_state: called before s.ca_state changes to new_state.
  virtual void set_state(TcpCongestionState& s, CaState new_state, const SendProgress& at) {
    (void)s, (void)new_state, (void)at;
  }

  // .cwnd_event
  virtual void cwnd_event(TcpCongestionState& s, CaEvent event, Time now) {
    (void)s, (void)event, (void)now;
  }

  // .pkts_acked: every ACK that tcp_clean_rtx_queue processes, before the
  // loss-recovery state machine and cong_avoid run.
  virtual void pkts_acked(TcpCongestionState& s, const AckSample& sample) { (void)s, (void)sample; }
};

// Destroys an algorithm and returns its memory to the resource it came from.
class CongestionControlDeleter {
 public:
  CongestionControlDeleter() = default;
  CongestionControlDeleter(std::pmr::memory_resource* memory, size_t size, size_t align)
      : memory_(memory), size_(size), align_(align) {}
  void operator()(CongestionControl* cc) const;

 private:
  std::pmr::memory_resource* memory_ = nullptr;
  size_t size_ = 0;
  size_t align_ = 0;
};

using CongestionControlPtr = std::unique_ptr<CongestionControl, CongestionControlDeleter>;

// Builds a T (a CongestionControl) in memory from `memory`.
template <typename T, typename... Args>
CongestionControlPtr make_congestion_control_in(std::pmr::memory_resource* memory, Args&&... args) {
  std::pmr::polymorphic_allocator<T> alloc(memory);
  T* object = alloc.template new_object<T>(std::forward<Args>(args)...);
  return CongestionControlPtr(object, CongestionControlDeleter(memory, sizeof(T), alignof(T)));
}

}  // namespace veer::core
