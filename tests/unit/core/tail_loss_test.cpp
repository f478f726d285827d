// Two holes near the end of a transfer whose fast retransmissions are lost
// too: after the RTO repairs the first, the second (marked lost when the RTO
// fired, tcp_timeout_mark_lost()) is retransmitted on the next ACK
// (tcp_process_loss(): no new data to send, so F-RTO gives way to
// REXMIT_LOST), not after a second RTO.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/tcp/recovery/recovery_types.h"
#include "tests/unit/core/harness.h"

namespace veer::test {
namespace {

using namespace std::chrono_literals;
using namespace wire::tcpflag;

constexpr uint16_t kPort = 18000;
constexpr uint16_t kPeerPort = 40000;
constexpr uint32_t kPeerIsn = 1000;
constexpr uint32_t kMss = 1000;

// A listener on kPort, and the peer's SYN with SACK and window scaling;
// returns our ISS from the SYN-ACK.
uint32_t syn_to_sack_listener(PeerHarness& h, SocketId l, bool timestamps = false) {
  h.stack().bind(l, {Ipv4Addr{}, kPort});
  h.stack().listen(l, 5);
  auto syn = peer_header(kPeerPort, kPort, kSyn, kPeerIsn, 0, 65535);
  syn.options.mss = kMss;
  syn.options.sack_permitted = true;
  syn.options.window_scale = 7;
  if (timestamps) syn.options.timestamp = wire::TcpOptions::Timestamp{1, 0};
  h.inject(syn);
  return h.next_segment()->tcp.seq;
}

TEST(TailLoss, TheSecondHoleIsRetransmittedOnTheAckAfterTheRto) {
  PeerHarness h;
  auto l = h.stack().tcp_socket().value();
  uint32_t iss = syn_to_sack_listener(h, l);
  h.advance(10ms);
  auto ack_from_peer = [&](uint32_t ack, std::vector<wire::SackBlock> sacks) {
    auto a = peer_header(kPeerPort, kPort, kAck, kPeerIsn + 1, ack, 2000);
    for (size_t i = 0; i < sacks.size(); ++i) a.options.sack[i] = sacks[i];
    a.options.sack_count = static_cast<uint8_t>(sacks.size());
    h.inject(a);
  };
  ack_from_peer(iss + 1, {});
  auto conn = h.stack().accept(l, nullptr).value();
  // Ten segments and a FIN; the peer gets all but segments 2 and 9.
  ASSERT_EQ(h.stack().send(conn, zeros(10 * kMss), h.now()).value(), 10 * kMss);
  ASSERT_EQ(h.stack().close(conn, h.now()), 0);
  uint32_t base = iss + 1;
  auto seg_start = [&](int i) { return base + static_cast<uint32_t>(i - 1) * kMss; };
  while (h.next_segment()) {
  }
  h.advance(10ms);
  uint32_t fin_end = seg_start(11) + 1;
  ack_from_peer(seg_start(2), {{seg_start(3), seg_start(9)}, {seg_start(10), fin_end}});
  // RACK marks both lost after the reordering window; their retransmissions
  // are lost as well (the peer never sees them).
  std::vector<uint32_t> retransmitted;
  for (int i = 0; i < 100; ++i) {
    h.advance(1ms);
    while (auto s = h.next_segment())
      if (!s->payload.empty()) retransmitted.push_back(s->tcp.seq);
  }
  ASSERT_EQ(retransmitted, (std::vector<uint32_t>{seg_start(2), seg_start(9)}));
  // The RTO retransmits the head; the peer ACKs through segment 8.
  std::optional<SeenSegment> rto;
  Time t0 = h.now();
  while (!rto && h.now() - t0 < 5s) {
    h.advance(1ms);
    rto = h.next_segment();
  }
  ASSERT_TRUE(rto);
  EXPECT_EQ(rto->tcp.seq, seg_start(2));
  h.advance(10ms);
  ack_from_peer(seg_start(9), {{seg_start(10), fin_end}});
  auto next = h.next_segment();
  ASSERT_TRUE(next) << "segment 9 waits for another RTO";
  EXPECT_EQ(next->tcp.seq, seg_start(9));
  EXPECT_EQ(next->payload.size(), kMss);
}

// A scripted receiver that loses the first transmission of some segments and
// answers every segment with Linux's ACK: cumulative, then up to three SACK
// blocks, the one just changed first.
struct LossyReceiver {
  PeerHarness& h;
  uint32_t isn_rel_base;                            // our byte 0 (iss + 1)
  std::set<uint32_t> drop_once;                     // segment starts lost the first time
  std::vector<std::pair<uint32_t, uint32_t>> have;  // received ranges, relative
  uint32_t rcv_nxt = 0;
  bool fin_at_end = false;
  uint32_t fin_rel = 0;
  // RFC 7323 §4.3: with timestamps, echo the TSval of the latest segment
  // that arrived in order (Linux's ts_recent).
  bool timestamps = false;
  uint32_t ts_recent = 0;

  void add(uint32_t b, uint32_t e) {
    have.emplace_back(b, e);
    std::sort(have.begin(), have.end());
    std::vector<std::pair<uint32_t, uint32_t>> merged;
    for (auto r : have) {
      if (!merged.empty() && r.first <= merged.back().second)
        merged.back().second = std::max(merged.back().second, r.second);
      else
        merged.push_back(r);
    }
    have = merged;
    while (!have.empty() && have.front().first <= rcv_nxt) {
      rcv_nxt = std::max(rcv_nxt, have.front().second);
      have.erase(have.begin());
    }
  }
  // Feeds one segment from the stack; returns false if it was dropped.
  bool on_segment(const SeenSegment& s, uint16_t peer_port, uint16_t port, uint32_t peer_seq) {
    uint32_t b = s.tcp.seq - isn_rel_base;
    uint32_t e = b + static_cast<uint32_t>(s.payload.size()) + (s.has(kFin) ? 1 : 0);
    if (b == e) return true;
    if (drop_once.erase(b)) return false;
    std::pair<uint32_t, uint32_t> latest{b, e};
    if (s.tcp.options.timestamp && b <= rcv_nxt) ts_recent = s.tcp.options.timestamp->value;
    add(b, e);
    auto a = peer_header(peer_port, port, kAck, peer_seq, isn_rel_base + rcv_nxt, 4000);
    if (timestamps) a.options.timestamp = wire::TcpOptions::Timestamp{2, ts_recent};
    uint8_t n = 0;
    // The block holding the latest segment first, then the others.
    for (auto r : have)
      if (r.first <= latest.first && latest.second <= r.second)
        a.options.sack[n++] = {isn_rel_base + r.first, isn_rel_base + r.second};
    for (auto it = have.rbegin(); it != have.rend() && n < 3; ++it) {
      wire::SackBlock blk{isn_rel_base + it->first, isn_rel_base + it->second};
      if (n > 0 && a.options.sack[0] == blk) continue;
      a.options.sack[n++] = blk;
    }
    a.options.sack_count = n;
    h.inject(a);
    return true;
  }
};

void holes_repaired(Time close_after, uint32_t segs = 60,
                    std::vector<uint32_t> holes = {7, 23, 41, 57}, bool same_instant = false,
                    int recovery = core::kRackLossDetection, bool timestamps = false) {
  // The picture the README's time-sequence graph showed: holes in a burst
  // (one near the end, before a separate FIN) whose later data is SACKed;
  // RACK must retransmit each once the reordering window passes.
  StackConfig cfg = make_config(kMacA, kIpA);
  cfg.tcp.recovery = recovery;
  PeerHarness h(cfg);
  auto l = h.stack().tcp_socket().value();
  uint32_t iss = syn_to_sack_listener(h, l, timestamps);
  h.advance(1ms);
  auto ack = peer_header(kPeerPort, kPort, kAck, kPeerIsn + 1, iss + 1, 4000);
  if (timestamps) ack.options.timestamp = wire::TcpOptions::Timestamp{2, 0};
  h.inject(ack);
  auto conn = h.stack().accept(l, nullptr).value();
  LossyReceiver rx{h, iss + 1, {}, {}, 0};
  rx.timestamps = timestamps;
  const uint32_t kSegs = segs;
  // Segments carry kMss bytes, 12 fewer with the timestamp option.
  const uint32_t seg = timestamps ? kMss - 12 : kMss;
  for (uint32_t i : holes) rx.drop_once.insert(i * seg);
  size_t sent = 0;
  const uint32_t total = kSegs * seg;
  Time t0 = h.now();
  bool closed = false;
  std::vector<Time> retransmit_times;
  std::vector<uint32_t> retransmitted;  // segment numbers
  std::set<uint32_t> seen;
  while (h.now() - t0 < 1s && rx.rcv_nxt < total + 1) {
    if (sent < total) {
      auto r = h.stack().send(conn, zeros(std::min<size_t>(total - sent, 8 * seg)), h.now());
      if (r.ok()) sent += r.value();
    } else if (!closed && h.now() - t0 >= close_after) {
      EXPECT_EQ(h.stack().close(conn, h.now()), 0);
      closed = true;
    }
    // What left in this tick reaches the peer, which answers in the next
    // one; or, with `same_instant`, at once.
    // With `same_instant` the answers come back at once, as when the
    // engine reads a burst of ACKs and sends in one pass with one clock
    // reading.
    for (int round = 0; round < (same_instant ? 50 : 1); ++round) {
      std::vector<SeenSegment> flight;
      while (auto s = h.next_segment()) {
        uint32_t b = s->tcp.seq - (iss + 1);
        if (!s->payload.empty() && !seen.insert(b).second) {
          retransmit_times.push_back(h.now() - t0);
          retransmitted.push_back(b / seg);
        }
        flight.push_back(*s);
      }
      if (!same_instant) h.advance(100us);
      if (flight.empty()) break;
      for (const SeenSegment& s : flight) rx.on_segment(s, kPeerPort, kPort, kPeerIsn + 1);
    }
    if (same_instant) h.advance(100us);
  }
  EXPECT_EQ(rx.rcv_nxt, total + 1) << "everything and the FIN arrived";
  EXPECT_LT(h.now() - t0, 150ms) << "no retransmission waited for an RTO (200 ms)";
  EXPECT_EQ(retransmitted, holes) << "each hole once";
}

TEST(TailLoss, HolesAmidSackedDataAreRepairedWithoutWaitingForTheRto) {
  holes_repaired(0ms);
}

TEST(TailLoss, TwoEarlyHolesInAShortTransferAreRetransmittedOnce) {
  // veer compare's 11-bulk-loss: 30 segments, the 3rd and 5th lost once.
  holes_repaired(0ms, 30, {2, 4});
}

TEST(TailLoss, HolesAreRepairedWhenTheFinLeavesOnItsOwnLater) {
  // tcp-write-server's pattern: the last write, the holes SACKed around,
  // then close() sends a bare FIN.
  holes_repaired(3ms);
}

TEST(TailLoss, HolesAreRepairedWhenAcksAndSendsShareOneClockReading) {
  // plot_and_transitions' capture: 1 MiB, three holes, the last in the
  // segment before the one that carries the FIN; the engine handles ACKs
  // and sends in one pass, at one clock reading.
  holes_repaired(0ms, 724, {529, 626, 723}, true);
  holes_repaired(0ms, 724, {49, 145, 241, 338, 434, 529, 626, 723}, true);
  holes_repaired(0ms, 60, {7, 23, 41, 57}, true);
  // With the reordering window always open (as after reordering was seen),
  // the reordering timer finds the holes.
  holes_repaired(0ms, 724, {529, 626, 723}, true,
                 core::kRackLossDetection | core::kRackNoDupthresh);
  holes_repaired(0ms, 724, {49, 145, 241, 338, 434, 529, 626, 723}, true,
                 core::kRackLossDetection | core::kRackNoDupthresh);
  holes_repaired(0ms, 60, {7, 23, 41, 57}, false,
                 core::kRackLossDetection | core::kRackNoDupthresh);
}

TEST(TailLoss, AnAckOfARetransmissionFromTheSameMillisecondDoesNotUndoTheRecovery) {
  // Segment 2 is found lost and retransmitted in the millisecond the
  // originals left in, so it carries their TSval. The ACK that covers it
  // echoes that TSval: no proof that the original arrived, since Linux
  // compares the echo with retrans_stamp in timestamp ticks
  // (tcp_packet_delayed()). The recovery stays (Linux's tcp_try_undo_partial()
  // does not undo it); veer used to undo it and unmark the other losses, and
  // in plot_and_transitions the next hole then waited for the RTO.
  PeerHarness h;
  auto l = h.stack().tcp_socket().value();
  uint32_t iss = syn_to_sack_listener(h, l, true);
  h.advance(1ms);
  auto ack_from_peer = [&](uint32_t ack, std::vector<wire::SackBlock> sacks, uint32_t echo) {
    auto a = peer_header(kPeerPort, kPort, kAck, kPeerIsn + 1, ack, 2000);
    a.options.timestamp = wire::TcpOptions::Timestamp{2, echo};
    for (size_t i = 0; i < sacks.size(); ++i) a.options.sack[i] = sacks[i];
    a.options.sack_count = static_cast<uint8_t>(sacks.size());
    h.inject(a);
  };
  ack_from_peer(iss + 1, {}, 0);
  auto conn = h.stack().accept(l, nullptr).value();
  const uint32_t seg = kMss - 12;  // the timestamp option takes 12 bytes
  ASSERT_EQ(h.stack().send(conn, zeros(10 * seg), h.now()).value(), 10 * seg);
  uint32_t tsval = 0;
  while (auto s = h.next_segment()) tsval = s->tcp.options.timestamp->value;
  auto start = [&](int i) { return iss + 1 + static_cast<uint32_t>(i - 1) * seg; };
  // 200 us later: segment 2 missing, 3 to 7 SACKed.
  h.advance(200us);
  ack_from_peer(start(2), {{start(3), start(8)}}, tsval);
  auto first = h.next_segment();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->tcp.seq, start(2));
  ASSERT_EQ(first->tcp.options.timestamp->value, tsval) << "the same millisecond";
  while (h.next_segment()) {
  }
  auto info = h.stack().tcp_info(conn, h.now());
  ASSERT_TRUE(info);
  ASSERT_EQ(info->ca_state, 3) << "Recovery";
  // Its ACK, 200 us later, echoes that TSval and covers 2 to 7.
  h.advance(200us);
  ack_from_peer(start(8), {}, tsval);
  info = h.stack().tcp_info(conn, h.now());
  ASSERT_TRUE(info);
  EXPECT_EQ(info->ca_state, 3) << "the recovery was undone";
}

TEST(TailLoss, HolesAreRepairedWithTimestamps) {
  // The same transfers with timestamps on, the peer echoing the TSval of
  // the latest in-order segment: retransmissions share their originals'
  // millisecond here, so undo decisions see echoes from that millisecond.
  holes_repaired(0ms, 60, {7, 23, 41, 57}, false, core::kRackLossDetection, true);
  holes_repaired(0ms, 724, {49, 145, 241, 338, 434, 529, 626, 723}, true, core::kRackLossDetection,
                 true);
}

}  // namespace
}  // namespace veer::test
