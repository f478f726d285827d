#include "core/tcp/reassembly.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory_resource>
#include <optional>
#include <random>
#include <vector>

#include "core/tcp/seq.h"
#include "tests/unit/counting_resource.h"
#include "tests/unit/reassembly/test_data.h"

namespace veer::test {
namespace {

using core::DsackOp;
using core::DuplicateReport;
using core::ReassemblyQueue;
using core::SeqRange;
using Outcome = ReassemblyQueue::Outcome;

constexpr size_t kPlenty = 1 << 20;

// A queue fed with the sender's stream and a reader that collects what it
// releases.
struct Fixture {
  explicit Fixture(size_t limit = kPlenty) : queue(limit, std::pmr::new_delete_resource()) {}

  ReassemblyQueue::Insertion add(uint32_t seq, size_t len, bool fin = false) {
    auto data = stream(seq, len);
    return queue.insert(seq, data, fin);
  }
  ReassemblyQueue::Release pop(uint32_t rcv_nxt) {
    return queue.pop_in_order(rcv_nxt, [this](Bytes b) {
      read.insert(read.end(), b.begin(), b.end());
      return b.size();
    });
  }
  std::vector<SeqRange> ranges() const {
    std::vector<SeqRange> out;
    for (size_t i = 0; i < queue.range_count(); ++i) out.push_back(queue.range(i));
    return out;
  }

  ReassemblyQueue queue;
  std::vector<std::byte> read;
};

TEST(Reassembly, SegmentsArrivingBackwardsAreReleasedInOrderByteForByte) {
  // RCV.NXT is 1000; ten 100-byte segments arrive last first.
  Fixture f;
  for (int i = 9; i >= 0; --i) {
    auto ins = f.add(1100 + 100 * i, 100);
    EXPECT_EQ(ins.outcome, Outcome::Queued);
    EXPECT_EQ(ins.new_bytes, 100u);
    EXPECT_FALSE(ins.duplicate);
  }
  EXPECT_EQ(f.ranges(), (std::vector<SeqRange>{{1100, 2100}}));
  EXPECT_EQ(f.queue.bytes(), 1000u);

  // Nothing is contiguous with 1000 yet.
  auto none = f.pop(1000);
  EXPECT_EQ(none.rcv_nxt, 1000u);
  EXPECT_EQ(none.bytes, 0u);

  // The missing segment came in order (the connection delivered it itself).
  auto rel = f.pop(1100);
  EXPECT_EQ(rel.rcv_nxt, 2100u);
  EXPECT_EQ(rel.bytes, 1000u);
  EXPECT_FALSE(rel.fin);
  EXPECT_FALSE(rel.duplicate);
  EXPECT_EQ(f.read, stream(1100, 1000));
  EXPECT_TRUE(f.queue.empty());
  EXPECT_EQ(f.queue.bytes(), 0u);
}

TEST(Reassembly, ReleasesOnlyUpToTheNextHole) {
  Fixture f;
  f.add(2000, 500);
  f.add(3000, 500);
  auto rel = f.pop(2000);
  EXPECT_EQ(rel.rcv_nxt, 2500u);
  EXPECT_EQ(f.read, stream(2000, 500));
  EXPECT_EQ(f.ranges(), (std::vector<SeqRange>{{3000, 3500}}));
  EXPECT_EQ(f.queue.bytes(), 500u);
}

TEST(Reassembly, ReleaseIntoAByteRing) {
  core::ByteRing ring(4096, std::pmr::new_delete_resource());
  ReassemblyQueue q(kPlenty, std::pmr::new_delete_resource());
  auto d = stream(5000, 1200);
  q.insert(5000, d, false);
  auto rel = q.pop_in_order(5000, ring);
  EXPECT_EQ(rel.rcv_nxt, 6200u);
  std::vector<std::byte> out(ring.size());
  ring.peek(0, out);
  EXPECT_EQ(out, d);
}

TEST(Reassembly, AFullReaderLeavesTheRestQueued) {
  // The receive buffer takes 300 of 1000 bytes; the rest waits for room.
  core::ByteRing ring(300, std::pmr::new_delete_resource());
  ReassemblyQueue q(kPlenty, std::pmr::new_delete_resource());
  auto d = stream(100, 1000);
  q.insert(100, d, true);
  auto first = q.pop_in_order(100, ring);
  EXPECT_EQ(first.rcv_nxt, 400u);
  EXPECT_EQ(first.bytes, 300u);
  EXPECT_FALSE(first.fin);
  EXPECT_EQ(q.bytes(), 700u);
  EXPECT_EQ(q.range(0), (SeqRange{400, 1101}));

  std::vector<std::byte> out(300);
  ring.peek(0, out);
  ring.pop(300);
  EXPECT_EQ(out, stream(100, 300));

  core::ByteRing big(1000, std::pmr::new_delete_resource());
  auto rest = q.pop_in_order(400, big);
  EXPECT_EQ(rest.rcv_nxt, 1100u);
  EXPECT_TRUE(rest.fin);
  std::vector<std::byte> tail(700);
  big.peek(0, tail);
  EXPECT_EQ(tail, stream(400, 700));
  EXPECT_TRUE(q.empty());
}

// Every way a segment can meet a queued run [2000, 3000) (and a second run
// [4000, 5000) where the case needs two). `dup` is what tcp_data_queue_ofo
// would pass to tcp_dsack_set / tcp_dsack_extend.
struct OverlapCase {
  const char* name;
  bool two_runs;
  uint32_t seq;
  uint32_t len;
  Outcome outcome;
  uint32_t new_bytes;
  std::optional<DuplicateReport> dup;
  std::vector<SeqRange> after;
};

void PrintTo(const OverlapCase& c, std::ostream* os) {
  *os << c.name;
}

class Overlap : public testing::TestWithParam<OverlapCase> {};

TEST_P(Overlap, HoldsTheUnionAndReportsWhatLinuxWouldDsack) {
  const OverlapCase& c = GetParam();
  Fixture f;
  f.add(2000, 1000);
  if (c.two_runs) f.add(4000, 1000);
  auto ins = f.add(c.seq, c.len);
  EXPECT_EQ(ins.outcome, c.outcome);
  EXPECT_EQ(ins.new_bytes, c.new_bytes);
  EXPECT_EQ(ins.duplicate, c.dup);
  EXPECT_EQ(f.ranges(), c.after);
  size_t held = 0;
  for (auto r : c.after) held += r.length();
  EXPECT_EQ(f.queue.bytes(), held);

  // Byte-exact whatever the overlap: release from the lowest held byte.
  uint32_t low = c.after.front().left;
  auto rel = f.pop(low);
  EXPECT_EQ(rel.rcv_nxt, c.after.front().right);
  EXPECT_EQ(f.read, stream(low, c.after.front().length()));
}

INSTANTIATE_TEST_SUITE_P(
    EveryKind, Overlap,
    testing::Values(
        // "All the bits are present. Drop." -> tcp_dsack_set(seq, end_seq)
        OverlapCase{"ExactDuplicate",
                    false,
                    2000,
                    1000,
                    Outcome::Duplicate,
                    0,
                    DuplicateReport{{2000, 3000}, DsackOp::Set},
                    {{2000, 3000}}},
        OverlapCase{"Inside",
                    false,
                    2200,
                    300,
                    Outcome::Duplicate,
                    0,
                    DuplicateReport{{2200, 2500}, DsackOp::Set},
                    {{2000, 3000}}},
        OverlapCase{"SameStartShorter",
                    false,
                    2000,
                    400,
                    Outcome::Duplicate,
                    0,
                    DuplicateReport{{2000, 2400}, DsackOp::Set},
                    {{2000, 3000}}},
        OverlapCase{"SameEndLater",
                    false,
                    2600,
                    400,
                    Outcome::Duplicate,
                    0,
                    DuplicateReport{{2600, 3000}, DsackOp::Set},
                    {{2000, 3000}}},
        // Partial overlap: tcp_dsack_set(seq, skb1->end_seq)
        OverlapCase{"HeadInsideTailBeyond",
                    false,
                    2500,
                    1000,
                    Outcome::Queued,
                    500,
                    DuplicateReport{{2500, 3000}, DsackOp::Set},
                    {{2000, 3500}}},
        // Same start, covers it: rb_replace_node + tcp_dsack_extend(skb1)
        OverlapCase{"SameStartLonger",
                    false,
                    2000,
                    1500,
                    Outcome::Queued,
                    500,
                    DuplicateReport{{2000, 3000}, DsackOp::Extend},
                    {{2000, 3500}}},
        // From a hole into the run: merge_right's tcp_dsack_extend(skb1->seq, end_seq)
        OverlapCase{"TailInside",
                    false,
                    1500,
                    1000,
                    Outcome::Queued,
                    500,
                    DuplicateReport{{2000, 2500}, DsackOp::Extend},
                    {{1500, 3000}}},
        OverlapCase{"TailAtEnd",
                    false,
                    1500,
                    1500,
                    Outcome::Queued,
                    500,
                    DuplicateReport{{2000, 3000}, DsackOp::Extend},
                    {{1500, 3000}}},
        OverlapCase{"CoversBothSides",
                    false,
                    1500,
                    2000,
                    Outcome::Queued,
                    1000,
                    DuplicateReport{{2000, 3000}, DsackOp::Extend},
                    {{1500, 3500}}},
        // Touching, not overlapping: no duplicate, one run.
        OverlapCase{
            "AdjacentAfter", false, 3000, 500, Outcome::Queued, 500, std::nullopt, {{2000, 3500}}},
        OverlapCase{
            "AdjacentBefore", false, 1500, 500, Outcome::Queued, 500, std::nullopt, {{1500, 3000}}},
        OverlapCase{"Disjoint",
                    false,
                    3500,
                    200,
                    Outcome::Queued,
                    200,
                    std::nullopt,
                    {{2000, 3000}, {3500, 3700}}},
        // Bridging two runs.
        OverlapCase{"FillsTheHoleExactly",
                    true,
                    3000,
                    1000,
                    Outcome::Queued,
                    1000,
                    std::nullopt,
                    {{2000, 5000}}},
        OverlapCase{"BridgesFromInsideFirst",
                    true,
                    2500,
                    2000,
                    Outcome::Queued,
                    1000,
                    DuplicateReport{{2500, 3000}, DsackOp::Set},
                    {{2000, 5000}}},
        OverlapCase{"BridgesFromHoleOverBoth",
                    true,
                    1500,
                    4000,
                    Outcome::Queued,
                    2000,
                    DuplicateReport{{2000, 3000}, DsackOp::Extend},
                    {{1500, 5500}}},
        OverlapCase{"FromHoleIntoSecond",
                    true,
                    3500,
                    1000,
                    Outcome::Queued,
                    500,
                    DuplicateReport{{4000, 4500}, DsackOp::Extend},
                    {{2000, 3000}, {3500, 5000}}},
        // Starting where a run ends, Linux coalesces onto it and does not look
        // at the run it overlaps further on (tcp_ooo_try_coalesce): no D-SACK.
        OverlapCase{"FromRunEndIntoSecond",
                    true,
                    3000,
                    1500,
                    Outcome::Queued,
                    1000,
                    std::nullopt,
                    {{2000, 5000}}}),
    [](const testing::TestParamInfo<OverlapCase>& info) { return std::string(info.param.name); });

TEST(Reassembly, QueuedBytesWinWhereACopyDiffers) {
  // Linux delivers the earlier skb and skips the overlap of the later one.
  Fixture f;
  f.add(2000, 1000);
  std::vector<std::byte> other(1000, std::byte{0xee});
  f.queue.insert(2500, other, false);
  f.pop(2000);
  auto want = stream(2000, 1000);
  want.insert(want.end(), other.begin() + 500, other.end());
  EXPECT_EQ(f.read, want);
}

TEST(Reassembly, InOrderDataThatCoveredQueuedDataIsReportedOnRelease) {
  // tcp_ofo_queue(): queued [2000, 3000) and [4000, 5000); the in-order
  // segment 1000:2500 moved RCV.NXT to 2500, so [2000, 2500) arrived twice.
  Fixture f;
  f.add(2000, 1000);
  f.add(4000, 1000);
  auto rel = f.pop(2500);
  EXPECT_EQ(rel.duplicate, (DuplicateReport{{2000, 2500}, DsackOp::Extend}));
  EXPECT_EQ(rel.rcv_nxt, 3000u);
  EXPECT_EQ(f.read, stream(2500, 500));

  // A run wholly below RCV.NXT is dropped and reported, up to its end
  // (Linux fixed tcp_ofo_queue in 2025 to stop reporting up to RCV.NXT).
  Fixture g;
  g.add(2000, 1000);
  g.add(4000, 1000);
  auto all = g.pop(3500);
  EXPECT_EQ(all.duplicate, (DuplicateReport{{2000, 3000}, DsackOp::Extend}));
  EXPECT_EQ(all.rcv_nxt, 3500u);
  EXPECT_EQ(all.bytes, 0u);
  EXPECT_EQ(g.ranges(), (std::vector<SeqRange>{{4000, 5000}}));
}

TEST(Reassembly, FinAfterAHoleIsReachedWithTheLastByte) {
  // The peer's last segment 1500:2000 with FIN overtook 1000:1500.
  Fixture f;
  auto ins = f.add(1500, 500, true);
  EXPECT_EQ(ins.outcome, Outcome::Queued);
  EXPECT_EQ(f.queue.fin_seq(), 2000u);
  EXPECT_EQ(f.ranges(), (std::vector<SeqRange>{{1500, 2001}}));  // the FIN takes a number

  // A retransmission of the FIN segment is a duplicate, FIN included.
  auto again = f.add(1500, 500, true);
  EXPECT_EQ(again.outcome, Outcome::Duplicate);
  EXPECT_EQ(again.duplicate, (DuplicateReport{{1500, 2001}, DsackOp::Set}));

  auto early = f.pop(1000);
  EXPECT_FALSE(early.fin);
  auto rel = f.pop(1500);
  EXPECT_TRUE(rel.fin);
  EXPECT_EQ(rel.rcv_nxt, 2000u);  // the connection adds one for the FIN
  EXPECT_EQ(f.read, stream(1500, 500));
  EXPECT_TRUE(f.queue.empty());
  EXPECT_FALSE(f.queue.fin_seq());
}

TEST(Reassembly, BareFinAfterAHole) {
  Fixture f;
  f.add(3000, 0, true);
  f.add(2000, 1000);
  EXPECT_EQ(f.ranges(), (std::vector<SeqRange>{{2000, 3001}}));
  auto rel = f.pop(2000);
  EXPECT_TRUE(rel.fin);
  EXPECT_EQ(rel.rcv_nxt, 3000u);
  EXPECT_EQ(f.read, stream(2000, 1000));
}

TEST(Reassembly, NothingIsHeldBeyondTheFin) {
  Fixture f;
  f.add(2000, 500, true);  // FIN at 2500
  EXPECT_EQ(f.add(2600, 100).outcome, Outcome::Ignored);
  EXPECT_EQ(f.add(2500, 100).outcome, Outcome::Ignored);
  // Data running past the FIN keeps the part before it.
  auto ins = f.add(1800, 900);
  EXPECT_EQ(ins.outcome, Outcome::Queued);
  EXPECT_EQ(ins.new_bytes, 200u);
  EXPECT_EQ(f.ranges(), (std::vector<SeqRange>{{1800, 2501}}));
  // A lower FIN wins: whatever lay beyond it is dropped.
  f.add(1000, 300, true);  // FIN at 1300
  EXPECT_EQ(f.queue.fin_seq(), 1300u);
  EXPECT_EQ(f.ranges(), (std::vector<SeqRange>{{1000, 1301}}));
  EXPECT_EQ(f.queue.bytes(), 300u);
  auto rel = f.pop(1000);
  EXPECT_TRUE(rel.fin);
  EXPECT_EQ(rel.rcv_nxt, 1300u);
}

TEST(Reassembly, EmptySegmentIsIgnored) {
  Fixture f;
  EXPECT_EQ(f.add(2000, 0).outcome, Outcome::Ignored);
  EXPECT_TRUE(f.queue.empty());
}

TEST(Reassembly, SequenceNumbersWrap) {
  Fixture f;
  const uint32_t base = 0xffffff00u;
  f.add(base + 0x180, 0x100);  // 0x80 .. 0x180 after the wrap
  f.add(base + 0x80, 0x100);   // straddles the wrap, touches the first
  EXPECT_EQ(f.ranges(), (std::vector<SeqRange>{{base + 0x80, 0x180}}));
  auto rel = f.pop(base + 0x80);
  EXPECT_EQ(rel.rcv_nxt, 0x180u);
  EXPECT_EQ(f.read, stream(base + 0x80, 0x200));
}

TEST(Reassembly, MemoryBoundPrunesFromTheHighestSequence) {
  // Bound 800 bytes (prunes go in eighths: 100 bytes).
  Fixture f(800);
  f.add(1000, 400);
  f.add(2000, 400);
  EXPECT_EQ(f.queue.bytes(), 800u);

  // 1500:1700 lands below [2000, 2400): the top 200 bytes make room.
  auto ins = f.add(1500, 200);
  EXPECT_EQ(ins.outcome, Outcome::Queued);
  EXPECT_EQ(ins.pruned_bytes, 200u);
  EXPECT_EQ(f.ranges(), (std::vector<SeqRange>{{1000, 1400}, {1500, 1700}, {2000, 2200}}));
  EXPECT_EQ(f.queue.bytes(), 800u);
  EXPECT_EQ(f.queue.stats().prunes, 1u);
  EXPECT_EQ(f.queue.stats().pruned_bytes, 200u);

  // Nothing lies above 3000:3100, so it cannot make room: dropped
  // (tcp_prune_ofo_queue stops where the new segment would land last).
  auto high = f.add(3000, 100);
  EXPECT_EQ(high.outcome, Outcome::NoMemory);
  EXPECT_EQ(high.pruned_bytes, 0u);
  EXPECT_EQ(f.queue.stats().dropped, 1u);
  EXPECT_EQ(f.queue.bytes(), 800u);

  // Duplicates need no room.
  EXPECT_EQ(f.add(1000, 400).outcome, Outcome::Duplicate);

  // Not enough above 1700:2000 even after pruning all of it: the prune stays
  // and the segment is dropped, as when tcp_try_rmem_schedule gives up.
  auto big = f.add(1700, 300);
  EXPECT_EQ(big.outcome, Outcome::NoMemory);
  EXPECT_EQ(big.pruned_bytes, 200u);
  EXPECT_EQ(f.ranges(), (std::vector<SeqRange>{{1000, 1400}, {1500, 1700}}));
  EXPECT_EQ(f.queue.bytes(), 600u);
  EXPECT_EQ(f.queue.stats().dropped, 2u);
  EXPECT_EQ(f.queue.stats().prunes, 2u);
  EXPECT_EQ(f.queue.stats().pruned_bytes, 400u);

  f.pop(1000);
  EXPECT_EQ(f.read, stream(1000, 400));
}

TEST(Reassembly, PruningTakesAQueuedFinFirst) {
  Fixture f(1000);
  f.add(3000, 500, true);
  f.queue.set_limit(500);
  auto ins = f.add(2000, 100);
  EXPECT_EQ(ins.outcome, Outcome::Queued);
  // Prunes go in eighths of the bound (62 bytes): two cover the 100 needed.
  EXPECT_EQ(ins.pruned_bytes, 124u);
  EXPECT_FALSE(f.queue.fin_seq());
  EXPECT_EQ(f.ranges(), (std::vector<SeqRange>{{2000, 2100}, {3000, 3376}}));
}

TEST(Reassembly, RandomArrivalsDeliverTheStreamExactly) {
  // Segments of random size and position, repeated, reordered, across the
  // sequence-number wrap, then a FIN: the queue holds exactly the union of
  // what arrived beyond RCV.NXT, and the reader gets the stream unchanged.
  std::mt19937 rng(20240611);
  for (int round = 0; round < 20; ++round) {
    const uint32_t isn = 0xffffffffu - static_cast<uint32_t>(rng() % 10000);
    const uint32_t total = 5000 + static_cast<uint32_t>(rng() % 3000);
    Fixture f;
    uint32_t rcv_nxt = isn;
    bool fin = false;
    std::vector<bool> held(total + 1, false);  // by offset; the last is the FIN
    while (!fin) {
      uint32_t off = static_cast<uint32_t>(rng() % total);
      if (rng() % 10 == 0) off = rcv_nxt - isn;  // the hole's retransmission
      uint32_t len = std::min<uint32_t>(1 + static_cast<uint32_t>(rng() % 600), total - off);
      bool with_fin = off + len == total;
      uint32_t seq = isn + off;
      uint32_t end = seq + len;
      if (core::seq_le(end + (with_fin ? 1 : 0), rcv_nxt)) continue;  // all old
      if (core::seq_le(seq, rcv_nxt)) {
        // In order (trimmed as the connection would): deliver, then release.
        uint32_t skip = rcv_nxt - seq;
        auto d = stream(rcv_nxt, len - skip);
        f.read.insert(f.read.end(), d.begin(), d.end());
        rcv_nxt = end;
        if (with_fin) {
          f.queue.clear();  // tcp_fin purges the queue
          break;
        }
        auto rel = f.pop(rcv_nxt);
        fin = rel.fin;
        rcv_nxt = rel.rcv_nxt + (fin ? 1 : 0);  // the connection takes the FIN
      } else {
        auto ins = f.add(seq, len, with_fin);
        ASSERT_NE(ins.outcome, Outcome::NoMemory);
        for (uint32_t i = off; i < off + len; ++i) held[i] = true;
        if (with_fin) held[total] = true;
      }
      // The runs are sorted, disjoint, not touching, and hold exactly the
      // arrived sequence space beyond RCV.NXT.
      std::vector<bool> in_runs(total + 1, false);
      size_t bytes = 0;
      for (size_t i = 0; i < f.queue.range_count(); ++i) {
        SeqRange r = f.queue.range(i);
        ASSERT_TRUE(core::seq_lt(r.left, r.right));
        ASSERT_TRUE(core::seq_gt(r.left, rcv_nxt));
        if (i > 0) {
          ASSERT_TRUE(core::seq_lt(f.queue.range(i - 1).right, r.left));
        }
        for (uint32_t s = r.left; s != r.right; ++s) in_runs[s - isn] = true;
        bytes += r.length();
        if (r.right == isn + total + 1) --bytes;  // the FIN holds no byte
      }
      ASSERT_EQ(f.queue.bytes(), bytes);
      for (uint32_t i = rcv_nxt - isn; i <= total; ++i) {
        ASSERT_EQ(in_runs[i], held[i]) << "offset " << i;
      }
    }
    EXPECT_EQ(f.read, stream(isn, total)) << "round " << round;
    EXPECT_TRUE(f.queue.empty());
  }
}

TEST(Reassembly, ClearDropsEverything) {
  Fixture f;
  f.add(2000, 100, true);
  f.queue.clear();
  EXPECT_TRUE(f.queue.empty());
  EXPECT_EQ(f.queue.bytes(), 0u);
  EXPECT_FALSE(f.queue.fin_seq());
}

TEST(Reassembly, AllMemoryComesFromTheGivenResource) {
  CountingResource mem;
  // Any allocation from the default resource would throw.
  std::pmr::memory_resource* old = std::pmr::set_default_resource(std::pmr::null_memory_resource());
  {
    ReassemblyQueue q(kPlenty, &mem);
    for (uint32_t s : {5300u, 3200u, 6000u, 3900u, 4600u, 2500u}) {
      auto d = stream(s, 700);
      q.insert(s, d, false);
    }
    std::vector<std::byte> read;
    q.pop_in_order(2500, [&](Bytes b) {
      read.insert(read.end(), b.begin(), b.end());
      return b.size();
    });
    EXPECT_EQ(read, stream(2500, 4200));
    EXPECT_GT(mem.allocations, 0u);
  }
  std::pmr::set_default_resource(old);
  EXPECT_EQ(mem.in_use, 0u);
}

}  // namespace
}  // namespace veer::test
