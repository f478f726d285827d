// CUBIC (RFC 9438) exactly as Linux's tcp_cubic.c computes it, the default
// algorithm ("cubic"): the window follows W(t) = C*(t-K)^3 + Wmax after a
// loss (C = 0.4, beta = 717/1024), never slower than the Reno-friendly
// estimate, with fast convergence, the once-per-jiffy update, the idle-time
// epoch shift and HyStart. Integer arithmetic, units and rounding are
// Linux's, so the windows match Linux segment for segment:
//  - the epoch clock (epoch_start, last_time) counts jiffies of CONFIG_HZ
//    (CubicParams::hz; this machine's kernel and Linux's Kconfig default:
//    250), time t in units of 1/1024 s (BICTCP_HZ);
//  - delay_min and HyStart use microseconds (tcp_mstamp), as current Linux;
//  - the curve assumes the 100 ms RTT Linux folds into cube_factor.
// Not mirrored: the 2024 patch series on bictcp_update (Reno-friendly
// increment after cwnd_prior, Reno cwnd "one RTT ahead") which was reviewed
// on netdev but is not in mainline tcp_cubic.c.
#pragma once

#include <cstdint>
#include <optional>

#include "core/tcp/congestion/congestion_control.h"
#include "core/tcp/congestion/hystart.h"

namespace veer::core {

// tcp_cubic.ko's module parameters (/sys/module/tcp_cubic/parameters), with
// Linux's defaults.
struct CubicParams {
  bool fast_convergence = true;
  uint32_t beta = 717;            // multiplicative decrease, /1024
  uint32_t initial_ssthresh = 0;  // used only with hystart off
  uint32_t bic_scale = 41;        // C = bic_scale/1024*10 = 0.4
  bool tcp_friendliness = true;
  bool hystart = true;
  uint32_t hystart_detect = kHystartAckTrain | kHystartDelay;
  uint32_t hystart_low_window = 16;
  uint32_t hystart_ack_delta_us = 2000;
  uint32_t hz = 250;  // CONFIG_HZ: length of a jiffy
};

inline constexpr uint32_t kBictcpBetaScale = 1024;  // BICTCP_BETA_SCALE
inline constexpr uint32_t kBictcpHz = 10;           // BICTCP_HZ: t in 1/1024 s

// cubic_root(): Linux's table lookup plus one Newton-Raphson step (average
// error 0.195%); the exact integer results matter because K comes from it.
uint32_t cubic_root(uint64_t a);

class Cubic final : public CongestionControl {
 public:
  static constexpr std::string_view kName = "cubic";

  explicit Cubic(const CubicParams& params = {});

  std::string_view name() const override { return kName; }
  void init(TcpCongestionState& s, const SendProgress& at) override;
  uint32_t ssthresh(const TcpCongestionState& s) override;
  void cong_avoid(TcpCongestionState& s, uint32_t acked, Time now) override;
  uint32_t undo_cwnd(const TcpCongestionState& s) override;
  void set_state(TcpCongestionState& s, CaState new_state, const SendProgress& at) override;
  void cwnd_event(TcpCongestionState& s, CaEvent event, Time now) override;
  void pkts_acked(TcpCongestionState& s, const AckSample& sample) override;

  // struct bictcp, for tests and introspection.
  struct View {
    uint32_t cnt;            // increase cwnd by 1 after this many segments
    uint32_t last_max_cwnd;  // Wmax
    uint32_t last_cwnd;
    uint32_t last_time;                   // jiffies
    uint32_t bic_origin_point;            // the plateau of the curve
    uint32_t bic_K;                       // time to the plateau, 1/1024 s
    uint32_t delay_min;                   // us
    std::optional<uint32_t> epoch_start;  // jiffies
    uint32_t ack_cnt;
    uint32_t tcp_cwnd;  // Reno-friendly estimate
    bool hystart_found;
  };
  View view() const;

  // The precomputed constants (cubictcp_register).
  uint32_t beta_scale() const { return beta_scale_; }
  uint32_t cube_rtt_scale() const { return cube_rtt_scale_; }
  uint64_t cube_factor() const { return cube_factor_; }

  // tcp_jiffies32 and usecs_to_jiffies() for this object's HZ.
  uint32_t jiffies(Time t) const;
  uint32_t usecs_to_jiffies(uint32_t us) const;

 private:
  void reset();                                                // bictcp_reset
  void update(uint32_t cwnd, uint32_t acked, uint32_t now_j);  // bictcp_update

  CubicParams params_;
  uint32_t beta_scale_;
  uint32_t cube_rtt_scale_;
  uint64_t cube_factor_;

  uint32_t cnt_ = 0;
  uint32_t last_max_cwnd_ = 0;
  uint32_t last_cwnd_ = 0;
  uint32_t last_time_ = 0;
  uint32_t bic_origin_point_ = 0;
  uint32_t bic_K_ = 0;
  uint32_t delay_min_ = 0;
  // Linux marks "no epoch" with epoch_start == 0; an explicit empty value
  // keeps a virtual clock that starts at zero from hitting that marker.
  std::optional<uint32_t> epoch_start_;
  uint32_t ack_cnt_ = 0;
  uint32_t tcp_cwnd_ = 0;
  HyStart hystart_;
};

}  // namespace veer::core
