#include "core/tcp/congestion/congestion_window.h"

#include <algorithm>

#include "core/tcp/seq.h"  // cwnd_usage_seq

namespace veer::core {

CongestionWindow::CongestionWindow(CongestionControlPtr algorithm)
    : algorithm_(std::move(algorithm)) {}

uint32_t CongestionWindow::init_cwnd() const {
  // No per-route initcwnd in veer: TCP_INIT_CWND.
  return std::min(kTcpInitCwnd, state_.snd_cwnd_clamp);
}

void CongestionWindow::init_transfer(bool syn_retransmitted_twice, const SendProgress& at) {
  // tcp_init_transfer(): Linux cuts to 1 only after more than one SYN or
  // SYN-ACK retransmission (tp->total_retrans > 1 && tp->undo_marker),
  // given the 1 s initial RTO of RFC 6298.
  state_.snd_cwnd = syn_retransmitted_twice ? 1 : init_cwnd();
  state_.snd_cwnd_stamp = at.now;
  // tcp_finish_connect() and the SYN_RECV -> ESTABLISHED step stamp
  // lsndtime so the first data segment does not count as a restart after idle.
  state_.lsndtime = at.now;
  // tcp_init_congestion_control()
  state_.prior_ssthresh = 0;
  algorithm_->init(state_, at);
}

void CongestionWindow::set_algorithm(CongestionControlPtr algorithm, bool initialize,
                                     const SendProgress& at) {
  algorithm_ = std::move(algorithm);
  if (initialize) {
    state_.prior_ssthresh = 0;
    algorithm_->init(state_, at);
  }
}

void CongestionWindow::set_ca_state(CaState state, const SendProgress& at) {
  algorithm_->set_state(state_, state, at);
  state_.ca_state = state;
}

void CongestionWindow::pkts_acked(const AckSample& sample) {
  algorithm_->pkts_acked(state_, sample);
}

void CongestionWindow::cong_control(const CongestionAck& ack) {
  if (state_.in_cwnd_reduction()) {
    prr_.on_ack(state_, ack.acked_sacked, ack.newly_lost, ack.snd_una_advanced, ack.in_flight);
  } else if (ack.may_raise_cwnd) {
    // tcp_cong_avoid()
    algorithm_->cong_avoid(state_, ack.acked_sacked, ack.now);
    state_.snd_cwnd_stamp = ack.now;
  }
}

void CongestionWindow::init_cwnd_reduction() {
  state_.snd_cwnd_cnt = 0;
  state_.prior_cwnd = state_.snd_cwnd;
  prr_.start();
  state_.snd_ssthresh = algorithm_->ssthresh(state_);
}

void CongestionWindow::end_cwnd_reduction(Time now) {
  if (state_.snd_ssthresh < kTcpInfiniteSsthresh) {
    state_.snd_cwnd = state_.snd_ssthresh;
    state_.snd_cwnd_stamp = now;
  }
  algorithm_->cwnd_event(state_, CaEvent::CompleteCwr, now);
}

void CongestionWindow::undo_cwnd_reduction(Time now) {
  if (state_.prior_ssthresh) {
    state_.snd_cwnd = algorithm_->undo_cwnd(state_);
    if (state_.prior_ssthresh > state_.snd_ssthresh) state_.snd_ssthresh = state_.prior_ssthresh;
  }
  state_.snd_cwnd_stamp = now;
}

void CongestionWindow::enter_loss(bool reduce_ssthresh, uint32_t cwnd, const SendProgress& at) {
  if (reduce_ssthresh) {
    state_.prior_ssthresh = state_.current_ssthresh();
    state_.prior_cwnd = state_.snd_cwnd;
    state_.snd_ssthresh = algorithm_->ssthresh(state_);
    algorithm_->cwnd_event(state_, CaEvent::Loss, at.now);
  }
  state_.snd_cwnd = cwnd;
  state_.snd_cwnd_cnt = 0;
  state_.snd_cwnd_stamp = at.now;
  // Linux sets Loss on every RTO, repeated ones included.
  set_ca_state(CaState::Loss, at);
}

void CongestionWindow::on_data_sent(uint32_t in_flight, Time now) {
  if (in_flight == 0) algorithm_->cwnd_event(state_, CaEvent::TxStart, now);
  state_.lsndtime = now;
}

void CongestionWindow::on_transmit(uint32_t segments) {
  if (state_.in_cwnd_reduction()) prr_.on_sent(segments);
}

void CongestionWindow::validate(const CwndUsage& usage) {
  bool limited = usage.cwnd_limited || usage.in_flight >= state_.snd_cwnd;
  if (usage.sent == 0 && !limited) return;

  // Remember, per window of data, the strongest sign of cwnd use: cwnd was
  // the limit, or else the largest flight.
  if (!seq_lt(usage.snd_una, state_.cwnd_usage_seq) || limited ||
      (!state_.is_cwnd_limited && usage.packets_out > state_.max_packets_out)) {
    state_.is_cwnd_limited = limited;
    state_.max_packets_out = usage.packets_out;
    state_.cwnd_usage_seq = usage.snd_nxt;
  }

  if (state_.cwnd_limited()) {
    state_.snd_cwnd_used = 0;  // the network is fed fully
    state_.snd_cwnd_stamp = usage.now;
    return;
  }
  // The network starves: remember how much was used, and after an RTO of
  // this (tcp_cwnd_application_limited) decay cwnd halfway to it. Not in
  // recovery, and not when the program was held back by its send buffer.
  state_.snd_cwnd_used = std::max(state_.snd_cwnd_used, usage.packets_out);
  if (usage.slow_start_after_idle && usage.now - state_.snd_cwnd_stamp >= usage.rto) {
    if (state_.ca_state == CaState::Open && !usage.sndbuf_limited) {
      uint32_t win_used = std::max(state_.snd_cwnd_used, init_cwnd());
      if (win_used < state_.snd_cwnd) {
        state_.snd_ssthresh = state_.current_ssthresh();
        state_.snd_cwnd = (state_.snd_cwnd + win_used) >> 1;
      }
      state_.snd_cwnd_used = 0;
    }
    state_.snd_cwnd_stamp = usage.now;
  }
}

void CongestionWindow::restart_after_idle(Time now, Time rto, uint32_t packets_out,
                                          bool slow_start_after_idle) {
  if (!slow_start_after_idle || packets_out != 0) return;
  Time delta = now - state_.lsndtime;
  if (delta <= rto) return;

  uint32_t restart_cwnd = init_cwnd();
  uint32_t cwnd = state_.snd_cwnd;
  algorithm_->cwnd_event(state_, CaEvent::CwndRestart, now);
  state_.snd_ssthresh = state_.current_ssthresh();
  restart_cwnd = std::min(restart_cwnd, cwnd);
  while ((delta -= rto) > Time::zero() && cwnd > restart_cwnd) cwnd >>= 1;
  state_.snd_cwnd = std::max(cwnd, restart_cwnd);
  state_.snd_cwnd_stamp = now;
  state_.snd_cwnd_used = 0;
}

}  // namespace veer::core
