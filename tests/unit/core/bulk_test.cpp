// Bulk transfers between two stacks over a simulated link: the bytes arrive
// identical whatever the link does, and the goodput is reported (in virtual
// time) for the [tcp] issue's table.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "tests/unit/core/harness.h"

namespace veer::test {
namespace {

using namespace std::chrono_literals;

struct BulkCase {
  const char* name;
  double loss;
  Time one_way_delay;  // RTT is twice this
  uint64_t bandwidth_bps;
  const char* congestion_control;
};

std::ostream& operator<<(std::ostream& os, const BulkCase& c) {
  return os << c.name;
}

class BulkTransfer : public ::testing::TestWithParam<BulkCase> {};

constexpr size_t kBulkBytes = 100u << 20;  // 100 MiB, as the issue asks

// A position-dependent pattern, made once: every byte is checked on arrival.
const std::vector<std::byte>& pattern() {
  static const std::vector<std::byte> p = [] {
    std::vector<std::byte> v(kBulkBytes);
    uint32_t x = 1;
    for (auto& b : v) {
      x = x * 1664525u + 1013904223u;
      b = std::byte(x >> 24);
    }
    return v;
  }();
  return p;
}

TEST_P(BulkTransfer, ArrivesIdenticalAndGoodputIsReported) {
  const BulkCase& c = GetParam();
  SimLink::Options o;
  o.delay = c.one_way_delay;
  o.loss = c.loss;
  // Loss comes with duplication and reordering of a tenth as many frames.
  o.duplicate = c.loss / 10;
  o.reorder = c.loss > 0 ? 0.01 : 0.0;
  o.reorder_delay = c.one_way_delay / 2 + 1ms;
  o.bandwidth_bps = c.bandwidth_bps;
  o.congestion_control = c.congestion_control;
  o.seed = 42;
  SimLink link(o);
  Stack& a = link.a();
  Stack& b = link.b();
  auto l = b.tcp_socket().value();
  ASSERT_EQ(b.bind(l, {Ipv4Addr{}, 5001}), 0);
  ASSERT_EQ(b.listen(l, 1), 0);
  auto cs = a.tcp_socket().value();
  a.connect(cs, {kIpB, 5001}, link.now());
  SocketId srv{};
  ASSERT_TRUE(link.run_until_true([&] {
    auto r = b.accept(l, nullptr);
    if (r.ok()) srv = r.value();
    return r.ok();
  }));
  Time start = link.now();
  const std::vector<std::byte>& data = pattern();
  std::vector<std::byte> buf(256 * 1024);
  size_t sent = 0, received = 0;
  bool mismatch = false;
  bool done = link.run_until_true(
      [&] {
        if (sent < kBulkBytes) {
          auto r = a.send(cs, Bytes(data).subspan(sent), link.now());
          if (r.ok()) sent += r.value();
        }
        for (;;) {
          auto r = b.recv(srv, buf, link.now());
          if (!r.ok() || r.value() == 0) break;
          mismatch |= std::memcmp(buf.data(), data.data() + received, r.value()) != 0;
          received += r.value();
        }
        return received >= kBulkBytes || mismatch;
      },
      7200s);
  ASSERT_TRUE(done) << "stalled at " << received << " bytes";
  EXPECT_FALSE(mismatch) << "corrupted near byte " << received;
  EXPECT_EQ(received, kBulkBytes);
  double seconds = std::chrono::duration<double>(link.now() - start).count();
  double mbit = static_cast<double>(received) * 8 / seconds / 1e6;
  std::printf("[ goodput  ] %-28s %8.2f Mbit/s  (%.2f s virtual, %lu retransmitted)\n", c.name,
              mbit, seconds, static_cast<unsigned long>(a.counters().tcp_retrans_segments));
  RecordProperty("goodput_mbit_s", std::to_string(mbit));
}

INSTANTIATE_TEST_SUITE_P(
    Links, BulkTransfer,
    ::testing::Values(BulkCase{"cubic_0loss_1ms", 0.0, 500us, 0, "cubic"},
                      BulkCase{"cubic_1loss_1ms", 0.01, 500us, 0, "cubic"},
                      BulkCase{"cubic_5loss_1ms", 0.05, 500us, 0, "cubic"},
                      BulkCase{"cubic_0loss_100ms", 0.0, 50ms, 0, "cubic"},
                      BulkCase{"cubic_1loss_100ms", 0.01, 50ms, 0, "cubic"},
                      BulkCase{"cubic_5loss_100ms", 0.05, 50ms, 0, "cubic"},
                      BulkCase{"cubic_1loss_10ms_100mbit", 0.01, 5ms, 100000000, "cubic"},
                      BulkCase{"reno_0loss_1ms", 0.0, 500us, 0, "reno"},
                      BulkCase{"reno_1loss_1ms", 0.01, 500us, 0, "reno"},
                      BulkCase{"reno_5loss_1ms", 0.05, 500us, 0, "reno"},
                      BulkCase{"reno_0loss_100ms", 0.0, 50ms, 0, "reno"},
                      BulkCase{"reno_1loss_100ms", 0.01, 50ms, 0, "reno"},
                      BulkCase{"reno_5loss_100ms", 0.05, 50ms, 0, "reno"},
                      BulkCase{"reno_1loss_10ms_100mbit", 0.01, 5ms, 100000000, "reno"}),
    [](const ::testing::TestParamInfo<BulkCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace veer::test
