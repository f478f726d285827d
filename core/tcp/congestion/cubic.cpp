#include "core/tcp/congestion/cubic.h"

#include <algorithm>
#include <array>
#include <bit>

#include "core/tcp/congestion/cwnd_growth.h"
#include "core/tcp/congestion/reno.h"
#include "core/tcp/seq.h"

namespace veer::core {
namespace {

// tcp_mstamp truncated to u32, as bictcp_clock_us() reads it.
uint32_t clock_us(Time t) {
  return uint32_t(std::chrono::duration_cast<std::chrono::microseconds>(t).count());
}

}  // namespace

uint32_t cubic_root(uint64_t a) {
  // cbrt(x) for the top 6 bits of x (tcp_cubic.c's table):
  // v[x] = cbrt(x << 18) - 1, cbrt(x) = (v[x] + 10) >> 6.
  static constexpr std::array<uint8_t, 64> v = {
      0,   54,  54,  54,  118, 118, 118, 118, 123, 129, 134, 138, 143, 147, 151, 156,
      157, 161, 164, 168, 170, 173, 176, 179, 181, 185, 187, 190, 192, 194, 197, 199,
      200, 202, 204, 206, 209, 211, 213, 215, 217, 219, 221, 222, 224, 225, 227, 229,
      231, 232, 234, 236, 237, 239, 240, 242, 244, 245, 246, 248, 250, 251, 252, 254,
  };
  uint32_t b = uint32_t(std::bit_width(a));                // fls64()
  if (b < 7) return (uint32_t(v[uint32_t(a)]) + 35) >> 6;  // a in [0..63]

  b = ((b * 84) >> 8) - 1;
  uint32_t shift = uint32_t(a >> (b * 3));
  uint32_t x = uint32_t((uint32_t(v[shift]) + 10) << b) >> 6;
  // One Newton-Raphson step: x = (2x + a / x^2) / 3, with Linux's x*(x-1)
  // and *341/1024 for the division by three.
  x = 2 * x + uint32_t(a / (uint64_t(x) * uint64_t(x - 1)));
  x = (x * 341) >> 10;
  return x;
}

Cubic::Cubic(const CubicParams& params) : params_(params) {
  // cubictcp_register(): constants for an assumed 100 ms RTT.
  beta_scale_ = 8 * (kBictcpBetaScale + params_.beta) / 3 / (kBictcpBetaScale - params_.beta);
  cube_rtt_scale_ = params_.bic_scale * 10;  // 1024*c/rtt
  // 2^40 / (bic_scale * 10): K = cbrt((Wmax - cwnd) * cube_factor) in 1/1024 s.
  cube_factor_ = (uint64_t{1} << (10 + 3 * kBictcpHz)) / (params_.bic_scale * 10);
}

uint32_t Cubic::jiffies(Time t) const {
  const int64_t ns = t.count();
  const int64_t sec = ns / 1'000'000'000;
  const int64_t rem = ns % 1'000'000'000;
  return uint32_t(uint64_t(sec) * params_.hz + uint64_t(rem) * params_.hz / 1'000'000'000);
}

uint32_t Cubic::usecs_to_jiffies(uint32_t us) const {
  // Linux rounds up.
  return uint32_t((uint64_t(us) * params_.hz + 999'999) / 1'000'000);
}

void Cubic::reset() {
  cnt_ = 0;
  last_max_cwnd_ = 0;
  last_cwnd_ = 0;
  last_time_ = 0;
  bic_origin_point_ = 0;
  bic_K_ = 0;
  delay_min_ = 0;
  epoch_start_.reset();
  ack_cnt_ = 0;
  tcp_cwnd_ = 0;
  hystart_.clear_found();
}

void Cubic::init(TcpCongestionState& s, const SendProgress& at) {
  reset();
  if (params_.hystart) hystart_.reset_round(clock_us(at.now), at.snd_nxt);
  if (!params_.hystart && params_.initial_ssthresh) s.snd_ssthresh = params_.initial_ssthresh;
}

void Cubic::update(uint32_t cwnd, uint32_t acked, uint32_t now_j) {
  ack_cnt_ += acked;  // segments acked in this epoch

  if (last_cwnd_ == cwnd && int32_t(now_j - last_time_) <= int32_t(params_.hz / 32)) return;

  // The curve is evaluated at most once per jiffy; every cwnd reduction
  // ends the epoch, which forces a new evaluation.
  if (!(epoch_start_ && now_j == last_time_)) {
    last_cwnd_ = cwnd;
    last_time_ = now_j;

    if (!epoch_start_) {
      epoch_start_ = now_j;
      ack_cnt_ = acked;
      tcp_cwnd_ = cwnd;  // the Reno-friendly estimate starts here
      if (last_max_cwnd_ <= cwnd) {
        bic_K_ = 0;
        bic_origin_point_ = cwnd;
      } else {
        bic_K_ = cubic_root(cube_factor_ * (last_max_cwnd_ - cwnd));
        bic_origin_point_ = last_max_cwnd_;
      }
    }

    // t: time since the epoch began, plus one minimum RTT (the window the
    // ACKs of this round open is used a round trip later), in 1/1024 s.
    uint64_t t = uint64_t(int64_t(int32_t(now_j - *epoch_start_)));
    t += usecs_to_jiffies(delay_min_);
    t <<= kBictcpHz;
    t /= params_.hz;

    uint64_t offs = t < bic_K_ ? bic_K_ - t : t - bic_K_;
    // C * (t - K)^3 with C = cube_rtt_scale / 2^10 and offs in 1/1024 s.
    uint32_t delta = uint32_t((cube_rtt_scale_ * offs * offs * offs) >> (10 + 3 * kBictcpHz));
    uint32_t bic_target = t < bic_K_ ? bic_origin_point_ - delta : bic_origin_point_ + delta;

    if (bic_target > cwnd) {
      cnt_ = cwnd / (bic_target - cwnd);
    } else {
      cnt_ = 100 * cwnd;  // at or above target: grow very slowly
    }
    // Before the first loss the curve has no Wmax to aim at; grow at least
    // 5% per RTT.
    if (last_max_cwnd_ == 0 && cnt_ > 20) cnt_ = 20;
  }

  // Reno-friendly region (RFC 9438 §4.3): estimate what AIMD with
  // alpha = 3(1-beta)/(1+beta) would have and never grow slower than that.
  if (params_.tcp_friendliness) {
    uint32_t delta = (cwnd * beta_scale_) >> 3;
    while (ack_cnt_ > delta) {
      ack_cnt_ -= delta;
      tcp_cwnd_++;
    }
    if (tcp_cwnd_ > cwnd) {
      uint32_t max_cnt = cwnd / (tcp_cwnd_ - cwnd);
      if (cnt_ > max_cnt) cnt_ = max_cnt;
    }
  }

  // At most one segment per two delivered: 1.5x per RTT.
  cnt_ = std::max(cnt_, 2u);
}

void Cubic::cong_avoid(TcpCongestionState& s, uint32_t acked, Time now) {
  if (!s.cwnd_limited()) return;
  if (s.in_slow_start()) {
    acked = slow_start(s, acked);
    if (acked == 0) return;
  }
  update(s.snd_cwnd, acked, jiffies(now));
  cong_avoid_ai(s, cnt_, acked);
}

uint32_t Cubic::ssthresh(const TcpCongestionState& s) {
  epoch_start_.reset();  // end of epoch

  // Fast convergence: losing again below the last Wmax means a new flow is
  // taking its share; release more by remembering a lower Wmax.
  if (s.snd_cwnd < last_max_cwnd_ && params_.fast_convergence) {
    last_max_cwnd_ = (s.snd_cwnd * (kBictcpBetaScale + params_.beta)) / (2 * kBictcpBetaScale);
  } else {
    last_max_cwnd_ = s.snd_cwnd;
  }
  return std::max((s.snd_cwnd * params_.beta) / kBictcpBetaScale, 2u);
}

uint32_t Cubic::undo_cwnd(const TcpCongestionState& s) {
  return reno_undo_cwnd(s);
}

void Cubic::set_state(TcpCongestionState&, CaState new_state, const SendProgress& at) {
  // An RTO forgets the curve (and Wmax) and restarts HyStart.
  if (new_state == CaState::Loss) {
    reset();
    hystart_.reset_round(clock_us(at.now), at.snd_nxt);
  }
}

void Cubic::cwnd_event(TcpCongestionState& s, CaEvent event, Time now) {
  if (event != CaEvent::TxStart) return;
  // Sending resumes after the application was idle: shift the epoch by the
  // idle time so the window keeps following the curve instead of jumping.
  uint32_t now_j = jiffies(now);
  int32_t delta = int32_t(now_j - jiffies(s.lsndtime));
  if (epoch_start_ && delta > 0) {
    *epoch_start_ += uint32_t(delta);
    if (seq_gt(*epoch_start_, now_j)) epoch_start_ = now_j;
  }
}

void Cubic::pkts_acked(TcpCongestionState& s, const AckSample& sample) {
  if (!sample.rtt) return;  // duplicate ACKs without timestamps carry no RTT

  // Delay samples right after a loss are distorted by the recovery.
  uint32_t now_j = jiffies(sample.at.now);
  if (epoch_start_ && int32_t(now_j - *epoch_start_) < int32_t(params_.hz)) return;

  uint32_t delay = clock_us(*sample.rtt);
  if (delay == 0) delay = 1;
  if (delay_min_ == 0 || delay_min_ > delay) delay_min_ = delay;

  if (!hystart_.found() && s.in_slow_start() && params_.hystart &&
      s.snd_cwnd >= params_.hystart_low_window) {
    uint32_t fired = hystart_.update(
        params_.hystart_detect, params_.hystart_ack_delta_us, delay, delay_min_,
        hystart_ack_delay_us(sample.pacing_rate, sample.gso_max_size), sample.pacing,
        clock_us(sample.at.now), sample.at.snd_una, sample.at.snd_nxt);
    if (fired) s.snd_ssthresh = s.snd_cwnd;
  }
}

Cubic::View Cubic::view() const {
  return View{cnt_,       last_max_cwnd_, last_cwnd_, last_time_, bic_origin_point_, bic_K_,
              delay_min_, epoch_start_,   ack_cnt_,   tcp_cwnd_,  hystart_.found()};
}

}  // namespace veer::core
