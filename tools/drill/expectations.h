// The conformance suite's list of scripts that do not pass yet, one line
// each: `path STATUS reason` (STATUS is FAIL or UNSUPPORTED; # starts a
// comment). A script not listed must pass. The list only shrinks: a listed
// script that passes is an error until its line is removed.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "tools/drill/outcome.h"

namespace veer::drill {

struct Expectation {
  Outcome::Status status = Outcome::Status::Fail;
  std::string reason;
  int line = 0;
};

using Expectations = std::map<std::string, Expectation>;

// Parses the file's text. On a malformed line returns nullopt and fills *error.
std::optional<Expectations> parse_expectations(const std::string& text, std::string* error);

struct Verdict {
  bool ok = false;
  std::string message;  // one line: why the outcome is or is not what the list says
};

// Judges `outcome` of the script listed as `key`, against `list` (named
// `file` in messages).
Verdict judge(const std::string& key, const Outcome& outcome, const Expectations& list,
              const std::string& file);

}  // namespace veer::drill
