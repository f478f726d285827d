// LossRecovery driving a whole transfer over a simulated lossy, reordering
// link, as the connection will: every byte arrives, and after every event the
// scoreboard's counters agree with its tags.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <queue>
#include <set>

#include "tests/unit/recovery/sender.h"

namespace veer::test {
namespace {

constexpr uint32_t kSeg = 1000;

struct Rng {
  uint64_t s;
  uint32_t next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(s >> 33);
  }
  bool chance(uint32_t percent) { return next() % 100 < percent; }
};

// Checks counters against a recount of the tags.
void check(const core::LossRecovery& lr) {
  uint32_t sacked = 0, lost = 0, retrans = 0, n = 0;
  lr.queue().for_each([&](const core::SentSegment& s) {
    ++n;
    if (s.sacked) ++sacked;
    if (s.lost) ++lost;
    if (s.retrans_in_flight) ++retrans;
    EXPECT_FALSE(s.sacked && s.lost);
  });
  ASSERT_EQ(n, lr.queue().packets_out());
  // Without SACK, sacked_out counts duplicate ACKs (Linux's Reno emulation).
  if (lr.settings().sack) {
    ASSERT_EQ(sacked, lr.queue().sacked_out());
  }
  ASSERT_EQ(lost, lr.queue().lost_out());
  ASSERT_EQ(retrans, lr.queue().retrans_out());
  ASSERT_LE(lr.queue().left_out(), n);
}

// A receiver that SACKs like Linux: the block holding the latest segment
// first, then the others; a D-SACK first for a duplicate.
struct Receiver {
  uint32_t rcv_nxt = 1;
  std::set<uint32_t> ooo;  // out-of-order segment starts
  std::vector<wire::SackBlock> on_segment(uint32_t seq, uint32_t* ack) {
    std::vector<wire::SackBlock> blocks;
    bool dup = seq < rcv_nxt || ooo.count(seq) > 0;
    if (dup) blocks.push_back({seq, seq + kSeg});
    if (seq == rcv_nxt) {
      rcv_nxt += kSeg;
      while (ooo.count(rcv_nxt) > 0) {
        ooo.erase(rcv_nxt);
        rcv_nxt += kSeg;
      }
    } else if (seq > rcv_nxt) {
      ooo.insert(seq);
    }
    *ack = rcv_nxt;
    // Ranges of out-of-order data, the one holding `seq` first.
    std::vector<wire::SackBlock> ranges;
    for (uint32_t s : ooo) {
      if (!ranges.empty() && ranges.back().right == s) {
        ranges.back().right = s + kSeg;
      } else {
        ranges.push_back({s, s + kSeg});
      }
    }
    std::stable_partition(ranges.begin(), ranges.end(),
                          [&](const wire::SackBlock& b) { return b.left <= seq && seq < b.right; });
    for (const auto& r : ranges) {
      if (blocks.size() < 3) blocks.push_back(r);
    }
    return blocks;
  }
};

struct Stats {
  int rto = 0;
  int probes = 0;
  int reorder_timeouts = 0;
  int recoveries = 0;
};

struct Event {
  Time at;
  uint64_t order;
  bool to_receiver;
  uint32_t seq;
  uint32_t ack;
  std::vector<wire::SackBlock> sacks;
  bool operator>(const Event& o) const { return at != o.at ? at > o.at : order > o.order; }
};

Stats transfer(core::RecoverySettings settings, uint32_t loss_percent, uint64_t seed) {
  Stats st;
  const uint32_t segments = 400;
  const uint32_t end = 1 + segments * kSeg;
  const uint32_t cwnd = 12;
  Sender s(settings, kSeg);
  Receiver rcv;
  Rng rng{seed};
  std::priority_queue<Event, std::vector<Event>, std::greater<>> net;
  uint64_t order = 0;
  Time now = 200ms;
  int retransmits = 0;

  auto transmit = [&](uint32_t seq) {
    if (rng.chance(loss_percent)) return;
    Time delay = 50ms + std::chrono::milliseconds(rng.next() % 8);  // reorders
    net.push(Event{now + delay, order++, true, seq, 0, {}});
  };
  auto send_new = [&](int budget) {
    bool sent = false;
    while (budget-- > 0 && s.next_seq < end) {
      s.lr.on_send(s.next_seq, s.next_seq + kSeg, now, core::SendKind::New, s.rto);
      transmit(s.next_seq);
      s.next_seq += kSeg;
      sent = true;
    }
    if (sent) s.lr.after_new_data(now, s.rto, s.rtt.srtt());
  };
  auto room = [&]() { return static_cast<int>(cwnd) - static_cast<int>(s.lr.in_flight()); };
  auto retransmit_lost = [&]() {
    for (uint32_t seq : s.retransmit(now, std::max(room(), 0))) transmit(seq);
  };

  send_new(cwnd);
  while (s.lr.queue().snd_una() != end || s.next_seq != end) {
    EXPECT_LT(now, 600s) << "transfer stalled";
    if (now >= 600s) return st;
    std::optional<Time> deadline = s.lr.deadline();
    bool timer_first = deadline && (net.empty() || *deadline <= net.top().at);
    if (timer_first) {
      now = *deadline;
      switch (s.lr.due(now)) {
        case core::XmitTimerKind::Retransmit: {
          ++st.rto;
          s.lr.on_retransmit_timeout(now, retransmits);
          for (uint32_t seq : s.retransmit(now, 1)) transmit(seq);
          ++retransmits;
          s.rto = std::min(2 * s.rto, core::kRtoMax);
          s.lr.arm_rto(now, s.rto);
          break;
        }
        case core::XmitTimerKind::LossProbe: {
          ++st.probes;
          auto probe = s.lr.loss_probe(s.next_seq != end);
          if (probe == core::TailLossProbe::Probe::NewData) {
            s.lr.on_send(s.next_seq, s.next_seq + kSeg, now, core::SendKind::New, s.rto);
            transmit(s.next_seq);
            s.next_seq += kSeg;
            s.lr.on_loss_probe_sent(now, s.rto, false);
          } else if (probe == core::TailLossProbe::Probe::RetransmitLast) {
            const core::SentSegment* last = s.lr.queue().last();
            uint32_t seq = last->seq;
            s.lr.on_send(seq, last->end, now, core::SendKind::Probe, s.rto);
            transmit(seq);
            s.lr.on_loss_probe_sent(now, s.rto, true);
          } else {
            s.lr.on_loss_probe_skipped(now, s.rto);
          }
          break;
        }
        case core::XmitTimerKind::ReorderTimeout: {
          ++st.reorder_timeouts;
          auto o = s.lr.on_reorder_timeout(now, s.rtt.srtt());
          if (o.rexmit == core::Rexmit::Lost) retransmit_lost();
          s.lr.on_reorder_timeout_done(now, s.rto);
          break;
        }
        case core::XmitTimerKind::None:
          ADD_FAILURE() << "deadline without a due timer";
          return st;
      }
      check(s.lr);
      if (::testing::Test::HasFatalFailure()) return st;
      continue;
    }
    Event e = net.top();
    net.pop();
    now = e.at;
    if (e.to_receiver) {
      uint32_t ack = 0;
      auto sacks = rcv.on_segment(e.seq, &ack);
      if (!settings.sack) sacks.clear();
      net.push(Event{now + 50ms, order++, false, 0, ack, sacks});
      continue;
    }
    const bool was_recovering = s.lr.state() == core::CaState::Recovery;
    auto out = s.ack(e.ack, e.sacks, now, s.next_seq != end);
    if (!was_recovering && s.lr.state() == core::CaState::Recovery) ++st.recoveries;
    if (out.reset_retransmits) retransmits = 0;
    if (out.rtt_sampled) s.rto = s.rtt.rto();
    check(s.lr);
    if (out.rexmit == core::Rexmit::New) {
      send_new(std::max(room(), 1));
      if (s.lr.frto_sent_new_data()) retransmit_lost();
    } else if (out.rexmit == core::Rexmit::Lost) {
      retransmit_lost();
    }
    send_new(room());
    check(s.lr);
  }
  EXPECT_EQ(rcv.rcv_nxt, end);
  EXPECT_EQ(s.lr.queue().packets_out(), 0u);
  EXPECT_EQ(s.lr.in_flight(), 0u);
  return st;
}

// With 5% loss and reordering the losses are repaired by RACK without RTOs.
TEST(LossyLink, RackTransferCompletes) {
  Stats total;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    Stats st = transfer({}, 5, seed);
    total.rto += st.rto;
    total.probes += st.probes;
    total.reorder_timeouts += st.reorder_timeouts;
    total.recoveries += st.recoveries;
  }
  RecordProperty("rto", total.rto);
  RecordProperty("probes", total.probes);
  RecordProperty("reorder_timeouts", total.reorder_timeouts);
  RecordProperty("recoveries", total.recoveries);
  // Measured: 26 recoveries, 108 reordering timeouts, no RTO.
  EXPECT_GT(total.recoveries, 8);
  EXPECT_GT(total.reorder_timeouts, 0);
  EXPECT_LE(total.rto, 2);
}

TEST(LossyLink, HeavyLossTransferCompletes) {
  for (uint64_t seed = 1; seed <= 4; ++seed) transfer({}, 20, seed);
}

TEST(LossyLink, DupthreshTransferCompletes) {
  core::RecoverySettings settings;
  settings.recovery = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) transfer(settings, 5, seed);
}

TEST(LossyLink, NewRenoTransferCompletes) {
  core::RecoverySettings settings;
  settings.sack = false;
  for (uint64_t seed = 1; seed <= 4; ++seed) transfer(settings, 5, seed);
}

}  // namespace
}  // namespace veer::test
