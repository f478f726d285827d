// When events must happen (packetdrill's run.c): relative times count from
// the previous event, or, between two inbound packets, from the previous
// packet's script time; an event is on time within --tolerance_usecs, or
// --tolerance_percent of the time since the previous event if that is more.
// All times here are script microseconds from the script's start.
#pragma once

#include <optional>
#include <string>

#include "tools/drill/ast.h"

namespace veer::drill {

// An event's times once relative and wildcard times are resolved.
struct ResolvedTime {
  EventTime::Type type = EventTime::Type::Absolute;
  int64_t usecs = 0;
  int64_t end_usecs = 0;                     // ranges
  int64_t offset_usecs = 0;                  // what relative times were added to
  std::optional<int64_t> syscall_end_usecs;  // blocking calls: when they should return
  bool range() const {
    return type == EventTime::Type::AbsoluteRange || type == EventTime::Type::RelativeRange;
  }
};

struct Tolerance {
  long usecs = 4000;
  double percent = 12.5;
};

// `now`: script time when the event is reached; `anchor`: the previous
// event's script time when both it and this event are inbound packets.
ResolvedTime resolve_time(const EventTime& t, std::optional<int64_t> syscall_end, int64_t now,
                          std::optional<int64_t> anchor);

// An empty string when `actual` is on time for `t`; else packetdrill's
// "timing error" text. `last_event`: the previous event's script time, which
// scales the percentage tolerance.
std::string check_time(const ResolvedTime& t, int64_t expected, int64_t expected_end,
                       int64_t actual, std::optional<int64_t> last_event, const Tolerance& tol,
                       const std::string& what);

}  // namespace veer::drill
