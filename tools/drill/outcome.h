// How a script ran, and how that is reported: one status line per script,
// the details of a failure on indented lines under it, a summary line.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace veer::drill {

struct Outcome {
  enum class Status : uint8_t { Pass, Fail, Unsupported };
  Status status = Status::Pass;
  std::string reason;  // one line: what went wrong or what is missing
  int line = 0;        // the script line it happened at (0: the script as a whole)
  std::string line_text;
  std::string expected;             // FAIL: the expected segment or return value
  std::string actual;               // FAIL: what happened instead
  std::optional<int64_t> at_usecs;  // virtual time of the failure, script-relative

  static Outcome pass() { return Outcome{}; }
  static Outcome fail(std::string reason) {
    Outcome o;
    o.status = Status::Fail;
    o.reason = std::move(reason);
    return o;
  }
  static Outcome unsupported(std::string reason) {
    Outcome o;
    o.status = Status::Unsupported;
    o.reason = std::move(reason);
    return o;
  }
};

const char* status_name(Outcome::Status s);

// "FAIL path: reason" and, for failures, indented lines with the script line,
// expected, actual and the virtual time.
std::string format_outcome(const std::string& path, const Outcome& o);

// "12 passed, 20 failed, 4 unsupported"
std::string format_summary(int passed, int failed, int unsupported);

}  // namespace veer::drill
