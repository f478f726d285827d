// Algorithms by name, in the caller's memory.
#include "core/tcp/congestion/congestion_factory.h"

#include <gtest/gtest.h>

#include <memory_resource>

#include "core/tcp/congestion/reno.h"

namespace veer::test {
namespace {

// Counts what is allocated from it.
class CountingResource : public std::pmr::memory_resource {
 public:
  size_t in_use = 0;
  size_t allocations = 0;

 private:
  void* do_allocate(size_t bytes, size_t align) override {
    in_use += bytes;
    allocations++;
    return std::pmr::new_delete_resource()->allocate(bytes, align);
  }
  void do_deallocate(void* p, size_t bytes, size_t align) override {
    in_use -= bytes;
    std::pmr::new_delete_resource()->deallocate(p, bytes, align);
  }
  bool do_is_equal(const memory_resource& other) const noexcept override { return this == &other; }
};

TEST(CongestionFactory, CubicIsTheDefault) {
  EXPECT_EQ(core::kDefaultCongestionControl, "cubic");
  auto cc = core::make_congestion_control(core::kDefaultCongestionControl);
  ASSERT_TRUE(cc);
  EXPECT_EQ(cc->name(), "cubic");
}

TEST(CongestionFactory, RenoAndCubicByName) {
  for (std::string_view name : core::kAvailableCongestionControl) {
    auto cc = core::make_congestion_control(name);
    ASSERT_TRUE(cc) << name;
    EXPECT_EQ(cc->name(), name);
    EXPECT_TRUE(core::is_available_congestion_control(name));
  }
}

TEST(CongestionFactory, UnknownNameGivesNothing) {
  EXPECT_FALSE(core::make_congestion_control("bbr"));
  EXPECT_FALSE(core::make_congestion_control(""));
  EXPECT_FALSE(core::make_congestion_control("Cubic"));  // names are case-sensitive
  EXPECT_FALSE(core::is_available_congestion_control("bbr"));
}

TEST(CongestionFactory, MemoryComesFromAndReturnsToTheGivenResource) {
  CountingResource memory;
  {
    auto cubic = core::make_congestion_control("cubic", &memory);
    auto reno = core::make_congestion_control("reno", &memory);
    EXPECT_EQ(memory.allocations, 2u);
    EXPECT_EQ(memory.in_use, sizeof(core::Cubic) + sizeof(core::Reno));
  }
  EXPECT_EQ(memory.in_use, 0u);
}

TEST(CongestionFactory, CubicParamsReachTheAlgorithm) {
  core::CongestionParams params;
  params.cubic.hystart = false;
  params.cubic.initial_ssthresh = 30;
  auto cc = core::make_congestion_control("cubic", std::pmr::get_default_resource(), params);
  core::TcpCongestionState s;
  cc->init(s, {});
  EXPECT_EQ(s.snd_ssthresh, 30u);
}

}  // namespace
}  // namespace veer::test
