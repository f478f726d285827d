#include "tools/drill/expectations.h"

#include <sstream>

namespace veer::drill {

std::optional<Expectations> parse_expectations(const std::string& text, std::string* error) {
  Expectations list;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string key, status;
    if (!(words >> key)) continue;
    auto bad = [&](const std::string& why) {
      *error = "line " + std::to_string(n) + ": " + why;
      return std::nullopt;
    };
    if (!(words >> status)) return bad("expected `path STATUS reason`");
    Expectation e;
    e.line = n;
    if (status == "FAIL") {
      e.status = Outcome::Status::Fail;
    } else if (status == "UNSUPPORTED") {
      e.status = Outcome::Status::Unsupported;
    } else {
      return bad("STATUS must be FAIL or UNSUPPORTED, not " + status);
    }
    std::getline(words >> std::ws, e.reason);
    e.reason.erase(e.reason.find_last_not_of(" \t\r") + 1);
    if (e.reason.empty()) return bad("a listed script needs a reason");
    if (!list.emplace(key, e).second) return bad(key + " is listed twice");
  }
  return list;
}

Verdict judge(const std::string& key, const Outcome& outcome, const Expectations& list,
              const std::string& file) {
  auto it = list.find(key);
  const char* got = status_name(outcome.status);
  if (it == list.end()) {
    if (outcome.status == Outcome::Status::Pass) return {true, "passes"};
    return {false, std::string(got) + ", but " + file + " does not list it: fix the regression, " +
                       "or list it with the missing feature as the reason"};
  }
  const Expectation& e = it->second;
  if (outcome.status == Outcome::Status::Pass) {
    return {false, "now passes: remove it from " + file + " (line " + std::to_string(e.line) + ")"};
  }
  if (outcome.status != e.status) {
    return {false, std::string(got) + ", but " + file + " line " + std::to_string(e.line) +
                       " expects " + status_name(e.status) + " (" + e.reason +
                       "): update the line"};
  }
  return {true, std::string("expected ") + got + " as listed in " + file + ": " + e.reason};
}

}  // namespace veer::drill
