// When events are due and how late they may be.
#include "tools/drill/timing.h"

#include <gtest/gtest.h>

namespace veer::drill {
namespace {

using T = EventTime::Type;

EventTime at(T type, int64_t us, int64_t end = 0) {
  EventTime t;
  t.type = type;
  t.usecs = us;
  t.end_usecs = end;
  return t;
}

TEST(DrillTiming, RelativeTimesCountFromNow) {
  ResolvedTime r = resolve_time(at(T::Relative, 100000), std::nullopt, 250000, std::nullopt);
  EXPECT_EQ(r.usecs, 350000);
  EXPECT_EQ(r.offset_usecs, 250000);
}

TEST(DrillTiming, ConsecutiveInboundPacketsAnchorOnTheScript) {
  // The previous inbound packet was due at 0.2 s; processing took the clock
  // to 0.203 s; the next one is still due 0.1 s after 0.2 s.
  ResolvedTime r = resolve_time(at(T::Relative, 100000), std::nullopt, 203000, 200000);
  EXPECT_EQ(r.usecs, 300000);
}

TEST(DrillTiming, AbsoluteTimesStay) {
  ResolvedTime r = resolve_time(at(T::Absolute, 1000000), 2000000, 500000, std::nullopt);
  EXPECT_EQ(r.usecs, 1000000);
  EXPECT_EQ(r.syscall_end_usecs, 2000000);
}

TEST(DrillTiming, RangesAndBlockingEndsMoveWithRelativeStarts) {
  ResolvedTime r =
      resolve_time(at(T::RelativeRange, 300000, 310000), std::nullopt, 1000000, std::nullopt);
  EXPECT_EQ(r.usecs, 1300000);
  EXPECT_EQ(r.end_usecs, 1310000);
  ResolvedTime b = resolve_time(at(T::Relative, 0), 200000, 100000, std::nullopt);
  EXPECT_EQ(b.syscall_end_usecs, 300000);  // +0...0.200 at 0.1 s returns at 0.3 s
}

TEST(DrillTiming, FixedTolerance) {
  Tolerance tol{4000, 0};
  ResolvedTime r = resolve_time(at(T::Absolute, 1000000), std::nullopt, 0, std::nullopt);
  EXPECT_EQ(check_time(r, r.usecs, 0, 1004000, 0, tol, "x"), "");
  EXPECT_EQ(check_time(r, r.usecs, 0, 996000, 0, tol, "x"), "");
  EXPECT_EQ(check_time(r, r.usecs, 0, 1004001, 0, tol, "x"),
            "timing error: expected x at 1.000000 sec but happened at 1.004001 sec; tolerance "
            "0.004000 sec");
}

TEST(DrillTiming, PercentOfTheTimeSinceTheLastEvent) {
  Tolerance tol{4000, 12.5};
  ResolvedTime r = resolve_time(at(T::Absolute, 3000000), std::nullopt, 0, std::nullopt);
  // 12.5 % of the 2 s since the previous event at 1 s: 250 ms.
  EXPECT_EQ(check_time(r, r.usecs, 0, 3250000, 1000000, tol, "x"), "");
  EXPECT_NE(check_time(r, r.usecs, 0, 3250001, 1000000, tol, "x"), "");
  EXPECT_NE(check_time(r, r.usecs, 0, 3250000, std::nullopt, tol, "x"), "");
}

TEST(DrillTiming, RangesAndWildcards) {
  Tolerance tol{4000, 0};
  ResolvedTime r =
      resolve_time(at(T::RelativeRange, 300000, 310000), std::nullopt, 0, std::nullopt);
  EXPECT_EQ(check_time(r, r.usecs, r.end_usecs, 312000, 0, tol, "x"), "");
  EXPECT_NE(check_time(r, r.usecs, r.end_usecs, 315000, 0, tol, "x").find("relative time range"),
            std::string::npos);
  ResolvedTime any = resolve_time(at(T::Any, 0), std::nullopt, 0, std::nullopt);
  EXPECT_EQ(check_time(any, any.usecs, 0, 99000000, 0, tol, "x"), "");
}

}  // namespace
}  // namespace veer::drill
