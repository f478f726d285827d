// The registry rendered for people: the README embeds this table, so the
// documentation cannot drift from the code.
#pragma once

#include <string>

namespace veer::config {

// A Markdown table, one row per knob in registry order:
//   | name | default | range | meaning |
// The meaning column ends with the knob's environment variable.
std::string knob_table_markdown();

}  // namespace veer::config
