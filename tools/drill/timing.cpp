#include "tools/drill/timing.h"

#include "tools/drill/packet_format.h"

namespace veer::drill {

ResolvedTime resolve_time(const EventTime& t, std::optional<int64_t> syscall_end, int64_t now,
                          std::optional<int64_t> anchor) {
  ResolvedTime r;
  r.type = t.type;
  r.usecs = t.usecs;
  r.end_usecs = t.end_usecs;
  r.syscall_end_usecs = syscall_end;
  if (t.type == EventTime::Type::Absolute || t.type == EventTime::Type::AbsoluteRange) return r;
  // adjust_relative_event_times(): consecutive inbound packets anchor on the
  // previous packet's script time, so processing delays do not accumulate;
  // everything else counts from now.
  r.offset_usecs = anchor ? *anchor : now;
  r.usecs += r.offset_usecs;
  if (t.type == EventTime::Type::RelativeRange) r.end_usecs += r.offset_usecs;
  if (t.type == EventTime::Type::Relative && r.syscall_end_usecs)
    *r.syscall_end_usecs += r.offset_usecs;
  return r;
}

std::string check_time(const ResolvedTime& t, int64_t expected, int64_t expected_end,
                       int64_t actual, std::optional<int64_t> last_event, const Tolerance& tol,
                       const std::string& what) {
  if (t.type == EventTime::Type::Any) return "";
  long tolerance = tol.usecs;
  if (last_event) {
    // verify_time(): the percentage of the time since the previous event.
    auto dynamic = static_cast<long>(tol.percent / 100.0 * double(expected - *last_event));
    if (dynamic > tolerance) tolerance = dynamic;
  }
  if (t.type == EventTime::Type::AbsoluteRange || t.type == EventTime::Type::RelativeRange) {
    if (actual >= expected - tolerance && actual <= expected_end + tolerance) return "";
    if (t.type == EventTime::Type::AbsoluteRange) {
      return "timing error: expected " + what + " in time range " + format_usecs(expected) + "~" +
             format_usecs(expected_end) + " sec but happened at " + format_usecs(actual) + " sec";
    }
    return "timing error: expected " + what + " in relative time range +" +
           format_usecs(expected - t.offset_usecs) + "~+" +
           format_usecs(expected_end - t.offset_usecs) + " sec but happened at +" +
           format_usecs(actual - t.offset_usecs) + " sec";
  }
  if (actual >= expected - tolerance && actual <= expected + tolerance) return "";
  return "timing error: expected " + what + " at " + format_usecs(expected) +
         " sec but happened at " + format_usecs(actual) + " sec; tolerance " +
         format_usecs(tolerance) + " sec";
}

}  // namespace veer::drill
