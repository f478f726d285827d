// Hybrid slow start (HyStart), the slow-start exit CUBIC uses in Linux
// (tcp_cubic.c: bictcp_hystart_reset, hystart_update, hystart_ack_delay).
// It ends slow start before the first loss when either the ACKs of a round
// keep arriving in a train longer than half the minimum RTT (the pipe is
// full) or the round's minimum RTT rises clearly above the path's minimum
// (a queue is building). Times are microseconds in u32, as Linux keeps them.
#pragma once

#include <cstdint>

namespace veer::core {

// hystart_detect bits (tcp_cubic.c HYSTART_ACK_TRAIN, HYSTART_DELAY).
inline constexpr uint32_t kHystartAckTrain = 0x1;
inline constexpr uint32_t kHystartDelay = 0x2;

class HyStart {
 public:
  // HYSTART_MIN_SAMPLES: RTT samples per round before the delay test runs.
  static constexpr uint8_t kMinSamples = 8;
  // HYSTART_DELAY_MIN/MAX: bounds on the delay increase that ends slow start.
  static constexpr uint32_t kDelayMinUs = 4000;
  static constexpr uint32_t kDelayMaxUs = 16000;

  // bictcp_hystart_reset(): a new round begins now and ends when snd_una
  // passes snd_nxt.
  void reset_round(uint32_t now_us, uint32_t snd_nxt);

  bool found() const { return found_; }
  // bictcp_reset() forgets an exit found earlier (on RTO), not the round.
  void clear_found() { found_ = false; }

  // hystart_update(): one RTT sample while in slow start above the low
  // window. Returns the detections (kHystartAckTrain | kHystartDelay) that
  // fired on this sample; on any, the caller sets ssthresh to cwnd.
  // `ack_delay_us` is hystart_ack_delay()'s TSO/GRO cushion, `pacing`
  // whether the socket paces (then the ACK train may run a full RTT).
  uint32_t update(uint32_t detect, uint32_t ack_delta_us, uint32_t delay_us, uint32_t delay_min_us,
                  uint32_t ack_delay_us, bool pacing, uint32_t now_us, uint32_t snd_una,
                  uint32_t snd_nxt);

  uint32_t round_start() const { return round_start_; }
  uint32_t end_seq() const { return end_seq_; }
  uint32_t curr_rtt() const { return curr_rtt_; }
  uint8_t sample_cnt() const { return sample_cnt_; }

 private:
  bool found_ = false;
  uint8_t sample_cnt_ = 0;    // samples in this round
  uint32_t round_start_ = 0;  // when this round began
  uint32_t end_seq_ = 0;      // snd_nxt when this round began
  uint32_t last_ack_ = 0;     // last ACK that was part of the train
  uint32_t curr_rtt_ = ~0u;   // minimum RTT of this round
};

// hystart_ack_delay(): cushion for TSO/GRO aggregation, at most 1 ms; zero
// when the socket has no pacing rate.
uint32_t hystart_ack_delay_us(uint64_t pacing_rate, uint32_t gso_max_size);

}  // namespace veer::core
