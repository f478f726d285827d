#include "core/config/knob_table.h"

#include <string_view>

#include "core/config/registry.h"

namespace veer::config {
namespace {

// A '|' would end the cell, even inside a code span (GitHub Markdown).
std::string cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string code(std::string_view text) {
  return "`" + cell(text) + "`";
}

}  // namespace

std::string knob_table_markdown() {
  std::string table = "| name | default | range | meaning |\n|---|---|---|---|\n";
  for (const Knob& k : knobs()) {
    std::string value = k.default_value.empty() ? "(empty)" : code(k.default_value);
    std::string meaning = cell(k.help) + " (" + code(env_name(k)) + ")";
    table += "| " + code(k.name) + " | " + value + " | " + cell(accepted_text(k)) + " | " +
             meaning + " |\n";
  }
  return table;
}

}  // namespace veer::config
