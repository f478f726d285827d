#include "core/tcp/congestion/hystart.h"

#include <algorithm>

#include "core/tcp/seq.h"

namespace veer::core {

void HyStart::reset_round(uint32_t now_us, uint32_t snd_nxt) {
  round_start_ = last_ack_ = now_us;
  end_seq_ = snd_nxt;
  curr_rtt_ = ~0u;
  sample_cnt_ = 0;
}

uint32_t HyStart::update(uint32_t detect, uint32_t ack_delta_us, uint32_t delay_us,
                         uint32_t delay_min_us, uint32_t ack_delay_us, bool pacing, uint32_t now_us,
                         uint32_t snd_una, uint32_t snd_nxt) {
  uint32_t fired = 0;
  if (seq_gt(snd_una, end_seq_)) reset_round(now_us, snd_nxt);

  if (detect & kHystartAckTrain) {
    // ACKs closer than ack_delta_us apart belong to one train.
    if (int32_t(now_us - last_ack_) <= int32_t(ack_delta_us)) {
      last_ack_ = now_us;
      uint32_t threshold = delay_min_us + ack_delay_us;
      // Without pacing a round's ACKs come back within half an RTT of its
      // start unless the pipe is full; pacing may spread them over an RTT.
      if (!pacing) threshold >>= 1;
      // Linux compares the s32 difference with an unsigned threshold.
      if (uint32_t(now_us - round_start_) > threshold) {
        found_ = true;
        fired |= kHystartAckTrain;
      }
    }
  }

  if (detect & kHystartDelay) {
    if (curr_rtt_ > delay_us) curr_rtt_ = delay_us;
    if (sample_cnt_ < kMinSamples) {
      sample_cnt_++;
    } else if (curr_rtt_ > delay_min_us + std::clamp(delay_min_us >> 3, kDelayMinUs, kDelayMaxUs)) {
      found_ = true;
      fired |= kHystartDelay;
    }
  }
  return fired;
}

uint32_t hystart_ack_delay_us(uint64_t pacing_rate, uint32_t gso_max_size) {
  if (pacing_rate == 0) return 0;
  return uint32_t(std::min<uint64_t>(1000, uint64_t(gso_max_size) * 4 * 1000000 / pacing_rate));
}

}  // namespace veer::core
