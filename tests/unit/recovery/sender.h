// A sender reduced to its loss recovery, driven the way the connection
// drives LossRecovery: the packetdrill scripts' handshake (SYN-ACK at 100 ms,
// its ACK at 200 ms, so SRTT = min_rtt = 100 ms and RTO = 300 ms), then data
// from sequence number 1.
#pragma once

#include <chrono>
#include <vector>

#include "core/tcp/recovery/loss_recovery.h"

namespace veer::test {

using namespace std::chrono_literals;

struct Sender {
  core::LossRecovery lr;
  core::RtoEstimator rtt;
  Time rto;
  uint32_t mss;
  uint32_t next_seq = 1;

  explicit Sender(const core::RecoverySettings& s = {}, uint32_t mss_ = 1460) : lr(s), mss(mss_) {
    lr.reset(1);
    rtt.sample(100ms);
    rto = rtt.rto();
    lr.on_handshake_rtt(200ms, 100ms);
  }

  // `n` full segments at `now`, then the TLP arming at the end of the burst.
  void write(int n, Time now) {
    for (int i = 0; i < n; ++i) {
      lr.on_send(next_seq, next_seq + mss, now, core::SendKind::New, rto);
      next_seq += mss;
    }
    lr.after_new_data(now, rto, rtt.srtt());
  }

  core::AckOutcome ack(uint32_t a, std::vector<wire::SackBlock> sacks, Time now,
                       bool can_send_new_data = false) {
    core::AckInput in;
    in.ack = a;
    in.sacks = sacks;
    in.now = now;
    in.rto = rto;
    in.mss = mss;
    in.max_window = 257 << 7;
    in.can_send_new_data = can_send_new_data;
    core::AckOutcome out = lr.on_ack(in, rtt);
    if (out.rtt_sampled) rto = rtt.rto();
    return out;
  }

  // tcp_xmit_retransmit_queue() with room for `budget` segments.
  std::vector<uint32_t> retransmit(Time now, int budget) {
    std::vector<uint32_t> sent;
    for (; budget > 0; --budget) {
      const core::SentSegment* s = lr.next_retransmit();
      if (s == nullptr) break;
      uint32_t seq = s->seq;
      uint32_t end = s->end;
      lr.on_send(seq, end, now, core::SendKind::Retransmit, rto);
      sent.push_back(seq);
    }
    return sent;
  }
};

}  // namespace veer::test
