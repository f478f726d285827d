// Proportional Rate Reduction (RFC 6937, updated as RFC 9937) as Linux runs
// it in CWR and Recovery (tcp_input.c: tcp_init_cwnd_reduction,
// tcp_cwnd_reduction). While more than ssthresh is in flight, transmissions
// follow deliveries in the proportion ssthresh/prior_cwnd, spreading the
// reduction over one round trip. Below ssthresh, sending follows deliveries
// (packet conservation, PRR-CRB) and, on an ACK that advances snd_una
// without new losses, one more segment (PRR-SSRB: slow start back up to
// ssthresh). The connection supplies the delivered and lost counts; PRR
// sets snd_cwnd so that in_flight + sndcnt segments may be out.
#pragma once

#include <cstdint>

#include "core/tcp/congestion/congestion_state.h"

namespace veer::core {

class ProportionalRateReduction {
 public:
  // tcp_init_cwnd_reduction(): a reduction starts (prior_cwnd and ssthresh
  // are set by the caller).
  void start() { prr_delivered_ = prr_out_ = 0; }

  // Segments (re)transmitted during the reduction (tcp_write_xmit and
  // tcp_xmit_retransmit_queue count prr_out).
  void on_sent(uint32_t segments) { prr_out_ += segments; }

  // tcp_cwnd_reduction(): on an ACK in CWR or Recovery. `newly_acked_sacked`
  // are the segments this ACK delivered (cumulatively or by SACK),
  // `newly_lost` those it marked lost, `in_flight` tcp_packets_in_flight()
  // after processing it. Sets s.snd_cwnd and returns sndcnt, the segments
  // that may be sent now (0 when nothing was delivered: cwnd untouched).
  uint32_t on_ack(TcpCongestionState& s, uint32_t newly_acked_sacked, uint32_t newly_lost,
                  bool snd_una_advanced, uint32_t in_flight);

  uint32_t delivered() const { return prr_delivered_; }
  uint32_t out() const { return prr_out_; }

 private:
  uint32_t prr_delivered_ = 0;  // segments delivered since the reduction began
  uint32_t prr_out_ = 0;        // segments sent since the reduction began
};

}  // namespace veer::core
