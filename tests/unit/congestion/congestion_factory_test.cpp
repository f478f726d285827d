// Algorithms by name, in the caller's memory.
#include "core/tcp/congestion/congestion_factory.h"

#include <gtest/gtest.h>

#include <memory_resource>

#include "core/tcp/congestion/reno.h"
#include "tests/unit/counting_resource.h"

namespace veer::test {
namespace {

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
