#include "tools/drill/outcome.h"

#include "tools/drill/packet_format.h"

namespace veer::drill {

const char* status_name(Outcome::Status s) {
  switch (s) {
    case Outcome::Status::Pass:
      return "PASS";
    case Outcome::Status::Fail:
      return "FAIL";
    case Outcome::Status::Unsupported:
      return "UNSUPPORTED";
  }
  return "?";
}

std::string format_outcome(const std::string& path, const Outcome& o) {
  std::string s = std::string(status_name(o.status)) + " " + path;
  if (o.status == Outcome::Status::Pass) return s + "\n";
  std::string where = o.line ? "line " + std::to_string(o.line) + ": " : "";
  s += " [" + where + o.reason + "]\n";
  if (o.status != Outcome::Status::Fail) return s;
  if (o.line) s += "    line " + std::to_string(o.line) + ": " + o.line_text + "\n";
  if (!o.expected.empty()) s += "    expected: " + o.expected + "\n";
  if (!o.actual.empty()) s += "    actual:   " + o.actual + "\n";
  if (o.at_usecs) s += "    at virtual time " + format_usecs(*o.at_usecs) + " s\n";
  return s;
}

std::string format_summary(int passed, int failed, int unsupported) {
  return std::to_string(passed) + " passed, " + std::to_string(failed) + " failed, " +
         std::to_string(unsupported) + " unsupported";
}

}  // namespace veer::drill
