// The queue and the SACK state together, driven the way a connection drives
// them on each arriving segment (Linux tcp_data_queue) and read out when it
// builds an ACK, checked against Linux packetdrill scripts and RFC 2018's
// examples.
#include <gtest/gtest.h>

#include <memory_resource>
#include <vector>

#include "core/tcp/byte_ring.h"
#include "core/tcp/reassembly.h"
#include "core/tcp/sack_blocks.h"
#include "core/tcp/seq.h"
#include "tests/unit/reassembly/test_data.h"

namespace veer::test {
namespace {

using core::ReassemblyQueue;
using core::seq_le;
using core::seq_lt;
using Blocks = std::vector<wire::SackBlock>;

// The receive half of a connection with SACK permitted, reduced to the data
// path: what TcpConnection should do with these two classes.
class Receiver {
 public:
  Receiver(uint32_t rcv_nxt, size_t ofo_limit, size_t max_blocks = 4)
      : rcv_nxt_(rcv_nxt),
        max_blocks_(max_blocks),
        ring_(64 * 1024, std::pmr::new_delete_resource()),
        ofo_(ofo_limit, std::pmr::new_delete_resource()) {}

  // SEGMENT ARRIVES with `len` bytes of the sender's stream at `seq` (already
  // found acceptable and trimmed to the window).
  void segment(uint32_t seq, uint32_t len, bool fin = false) {
    auto data = stream(seq, len);
    Bytes payload = data;
    const uint32_t end = seq + len + (fin ? 1 : 0);
    if (seq_le(end, rcv_nxt_)) {
      // All old: a retransmission (tcp_data_queue, or tcp_send_dupack).
      sack_.on_duplicate(seq, end, rcv_nxt_);
      return;
    }
    if (seq_lt(seq, rcv_nxt_)) {
      // Partly old: D-SACK the old part, keep the rest.
      sack_.on_duplicate(seq, end, rcv_nxt_);
      payload = payload.subspan(rcv_nxt_ - seq);
      seq = rcv_nxt_;
    }
    if (seq == rcv_nxt_) {
      ring_.push(payload);
      rcv_nxt_ += static_cast<uint32_t>(payload.size());
      if (fin) fin_reached();
      if (!ofo_.empty()) {
        auto rel = ofo_.pop_in_order(rcv_nxt_, ring_);
        if (rel.duplicate) sack_.on_duplicate(*rel.duplicate);
        rcv_nxt_ = rel.rcv_nxt;
        if (rel.fin) fin_reached();
      }
      sack_.on_in_order(rcv_nxt_, ofo_.empty());
      return;
    }
    auto ins = ofo_.insert(seq, payload, fin);
    if (ins.pruned_bytes > 0) sack_.reset();
    if (ins.outcome == ReassemblyQueue::Outcome::NoMemory ||
        ins.outcome == ReassemblyQueue::Outcome::Ignored) {
      return;
    }
    if (ins.duplicate) sack_.on_duplicate(*ins.duplicate);
    sack_.on_out_of_order(seq, end);
  }

  // The ACK that goes out now: its blocks, and the D-SACK is spent.
  Blocks ack() {
    auto b = sack_.blocks(max_blocks_);
    sack_.consume_dsack();
    return to_vector(b);
  }

  uint32_t rcv_nxt() const { return rcv_nxt_; }
  std::vector<std::byte> read() const {
    std::vector<std::byte> out(ring_.size());
    ring_.peek(0, out);
    return out;
  }
  const ReassemblyQueue& ofo() const { return ofo_; }
  bool fin() const { return fin_; }

 private:
  // tcp_fin(): RCV.NXT passes the FIN; the queue is purged and the SACK state
  // forgotten (tcp_sack_reset).
  void fin_reached() {
    rcv_nxt_ += 1;
    fin_ = true;
    ofo_.clear();
    sack_.reset();
  }

  uint32_t rcv_nxt_;
  size_t max_blocks_;
  core::ByteRing ring_;
  ReassemblyQueue ofo_;
  core::SackState sack_;
  bool fin_ = false;
};

constexpr size_t kPlenty = 1 << 20;

TEST(Receiver, LinuxDsackMult) {
  // tools/testing/selftests/net/packetdrill/tcp_dsack_mult.pkt: mss 1000, no
  // timestamps, the peer's ISN 0 so RCV.NXT starts at 1.
  Receiver r(1, kPlenty);

  // First SACK range.
  r.segment(1001, 1000);
  EXPECT_EQ(r.rcv_nxt(), 1u);
  EXPECT_EQ(r.ack(), (Blocks{{1001, 2001}}));

  // SACK coalescing (contiguous sequence).
  r.segment(2001, 1000);
  EXPECT_EQ(r.ack(), (Blocks{{1001, 3001}}));

  // Two ranges for non-contiguous sequences.
  r.segment(4001, 1000);
  EXPECT_EQ(r.ack(), (Blocks{{4001, 5001}, {1001, 3001}}));

  // Three ranges.
  r.segment(7001, 1000);
  EXPECT_EQ(r.ack(), (Blocks{{7001, 8001}, {4001, 5001}, {1001, 3001}}));

  // DSACK (1001:3001) + SACK (7001:8001): 1:6001 also covered 4001:5001,
  // which does not touch the first duplicate and is not reported.
  r.segment(1, 6000);
  EXPECT_EQ(r.rcv_nxt(), 6001u);
  EXPECT_EQ(r.ack(), (Blocks{{1001, 3001}, {7001, 8001}}));

  // DSACK (7001:8001).
  r.segment(6001, 2000);
  EXPECT_EQ(r.rcv_nxt(), 8001u);
  EXPECT_EQ(r.ack(), (Blocks{{7001, 8001}}));

  // DSACK for an older segment.
  r.segment(1, 1000);
  EXPECT_EQ(r.rcv_nxt(), 8001u);
  EXPECT_EQ(r.ack(), (Blocks{{1, 1001}}));

  // Reported once: the next ACK has no blocks.
  EXPECT_EQ(r.ack(), Blocks{});
  EXPECT_EQ(r.read(), stream(1, 8000));
  EXPECT_TRUE(r.ofo().empty());
}

TEST(Receiver, Rfc2018CaseOneFirstFourArriveNoSack) {
  // RFC 2018 §4's examples (given in its §7): left window edge 5000, eight
  // 500-byte segments. The first four arrive, the last four are dropped.
  Receiver r(5000, kPlenty, 3);
  for (uint32_t s = 5000; s < 7000; s += 500) {
    r.segment(s, 500);
    EXPECT_EQ(r.ack(), Blocks{});
  }
  EXPECT_EQ(r.rcv_nxt(), 7000u);
}

TEST(Receiver, Rfc2018CaseTwoFirstDropped) {
  // The first segment is dropped, the other seven arrive: ACK 5000 each time
  // with one block growing from 5500:6000 to 5500:9000.
  Receiver r(5000, kPlenty, 3);
  for (uint32_t s = 5500; s < 9000; s += 500) {
    r.segment(s, 500);
    EXPECT_EQ(r.rcv_nxt(), 5000u);
    EXPECT_EQ(r.ack(), (Blocks{{5500, s + 500}}));
  }
}

TEST(Receiver, Rfc2018CaseThreeEveryOtherDropped) {
  // Segments 2, 4, 6 and 8 are dropped.
  Receiver r(5000, kPlenty, 3);
  r.segment(5000, 500);
  EXPECT_EQ(r.rcv_nxt(), 5500u);
  EXPECT_EQ(r.ack(), Blocks{});
  r.segment(6000, 500);
  EXPECT_EQ(r.ack(), (Blocks{{6000, 6500}}));
  r.segment(7000, 500);
  EXPECT_EQ(r.ack(), (Blocks{{7000, 7500}, {6000, 6500}}));
  r.segment(8000, 500);
  EXPECT_EQ(r.ack(), (Blocks{{8000, 8500}, {7000, 7500}, {6000, 6500}}));

  // The 4th segment (6500) arrives out of order: its block comes first.
  r.segment(6500, 500);
  EXPECT_EQ(r.rcv_nxt(), 5500u);
  EXPECT_EQ(r.ack(), (Blocks{{6000, 7500}, {8000, 8500}}));

  // Then the 2nd (5500): ACK 7500 with the one remaining block.
  r.segment(5500, 500);
  EXPECT_EQ(r.rcv_nxt(), 7500u);
  EXPECT_EQ(r.ack(), (Blocks{{8000, 8500}}));
  EXPECT_EQ(r.read(), stream(5000, 2500));
}

TEST(Receiver, LinuxPruneKeepsWhatLiesBelowTheNewSegment) {
  // The packetdrill script in Linux commit "tcp: refine tcp_prune_ofo_queue()
  // logic": a receive buffer that holds six 100-byte segments out of order.
  Receiver r(1, 600);
  r.segment(200, 100);
  EXPECT_EQ(r.ack(), (Blocks{{200, 300}}));
  r.segment(400, 100);
  EXPECT_EQ(r.ack(), (Blocks{{400, 500}, {200, 300}}));
  r.segment(600, 100);
  EXPECT_EQ(r.ack(), (Blocks{{600, 700}, {400, 500}, {200, 300}}));
  r.segment(800, 100);
  EXPECT_EQ(r.ack(), (Blocks{{800, 900}, {600, 700}, {400, 500}, {200, 300}}));
  r.segment(1000, 100);
  EXPECT_EQ(r.ack(), (Blocks{{1000, 1100}, {800, 900}, {600, 700}, {400, 500}}));
  r.segment(1200, 100);
  EXPECT_EQ(r.ack(), (Blocks{{1200, 1300}, {1000, 1100}, {800, 900}, {600, 700}}));

  // Dropped for lack of room: nothing above it to prune (and no ACK in Linux).
  r.segment(1400, 100);
  EXPECT_EQ(r.ofo().stats().dropped, 1u);
  EXPECT_EQ(r.ofo().stats().prunes, 0u);

  // 200:300 was not pruned, so 1:200 moves RCV.NXT to 300.
  r.segment(1, 199);
  EXPECT_EQ(r.rcv_nxt(), 300u);
  EXPECT_EQ(r.ack(), (Blocks{{1200, 1300}, {1000, 1100}, {800, 900}, {600, 700}}));

  r.segment(300, 100);
  EXPECT_EQ(r.rcv_nxt(), 500u);
  EXPECT_EQ(r.ack(), (Blocks{{1200, 1300}, {1000, 1100}, {800, 900}, {600, 700}}));
  r.segment(500, 100);
  EXPECT_EQ(r.rcv_nxt(), 700u);
  EXPECT_EQ(r.ack(), (Blocks{{1200, 1300}, {1000, 1100}, {800, 900}}));
  r.segment(700, 100);
  EXPECT_EQ(r.rcv_nxt(), 900u);
  EXPECT_EQ(r.ack(), (Blocks{{1200, 1300}, {1000, 1100}}));
  r.segment(900, 100);
  EXPECT_EQ(r.rcv_nxt(), 1100u);
  EXPECT_EQ(r.ack(), (Blocks{{1200, 1300}}));
  // 1200:1300 was kept in the queue.
  r.segment(1100, 100);
  EXPECT_EQ(r.rcv_nxt(), 1300u);
  EXPECT_EQ(r.ack(), Blocks{});
  EXPECT_EQ(r.read(), stream(1, 1299));
}

TEST(Receiver, PruningForgetsTheSackBlocks) {
  // tcp_prune_ofo_queue resets the SACK state once it dropped something;
  // only the segment that caused it is SACKed afterwards.
  Receiver r(1, 800);
  r.segment(1001, 400);
  r.segment(2001, 400);
  EXPECT_EQ(r.ack(), (Blocks{{2001, 2401}, {1001, 1401}}));
  r.segment(1501, 200);
  EXPECT_EQ(r.ofo().stats().prunes, 1u);
  EXPECT_EQ(r.ack(), (Blocks{{1501, 1701}}));
}

TEST(Receiver, DuplicateOfQueuedDataIsDsackedThenSacked) {
  // tcp_data_queue_ofo: "All the bits are present": tcp_dsack_set, then the
  // block holding it moves to the front (add_sack).
  Receiver r(1, kPlenty);
  r.segment(1001, 1000);
  r.segment(3001, 1000);
  EXPECT_EQ(r.ack(), (Blocks{{3001, 4001}, {1001, 2001}}));
  r.segment(1001, 1000);
  EXPECT_EQ(r.ack(), (Blocks{{1001, 2001}, {1001, 2001}, {3001, 4001}}));
  EXPECT_EQ(r.ack(), (Blocks{{1001, 2001}, {3001, 4001}}));
}

TEST(Receiver, FinAfterAHole) {
  // The last segment and FIN overtake the one before them.
  Receiver r(1, kPlenty);
  r.segment(1001, 500, true);
  EXPECT_EQ(r.ack(), (Blocks{{1001, 1502}}));  // the FIN is SACKed too
  EXPECT_FALSE(r.fin());
  r.segment(1, 1000);
  EXPECT_TRUE(r.fin());
  EXPECT_EQ(r.rcv_nxt(), 1502u);
  EXPECT_EQ(r.ack(), Blocks{});
  EXPECT_EQ(r.read(), stream(1, 1500));
}

TEST(Receiver, InOrderFinPurgesTheQueue) {
  // Data beyond an in-order FIN is dropped with every SACK block (tcp_fin).
  Receiver r(1, kPlenty);
  r.segment(2001, 100);
  r.segment(1, 1000, true);
  EXPECT_TRUE(r.fin());
  EXPECT_EQ(r.rcv_nxt(), 1002u);
  EXPECT_TRUE(r.ofo().empty());
  EXPECT_EQ(r.ack(), Blocks{});
}

TEST(Receiver, PartlyOldSegmentFillingTheHole) {
  // RCV.NXT 1001; 501:2001 repeats 501:1001 and fills the hole before the
  // queued 2001:3001.
  Receiver r(1001, kPlenty);
  r.segment(2001, 1000);
  r.segment(501, 1500);
  EXPECT_EQ(r.rcv_nxt(), 3001u);
  EXPECT_EQ(r.ack(), (Blocks{{501, 1001}}));
  EXPECT_EQ(r.read(), stream(1001, 2000));
}

}  // namespace
}  // namespace veer::test
