#include "core/config/parse.h"

#include "core/config/registry.h"
#include "core/config/suggest.h"
#include "core/config/value.h"

namespace veer::config {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

ConfigError error_at(const Origin& origin, std::string_view what) {
  return ConfigError{origin.location() + ": " + std::string(what)};
}

// One "key=value" entry of a list, with the value's quotes removed.
struct Assignment {
  std::string_view key;
  std::string_view value;
};

// Reads the entry starting at `pos` (not blank) and moves `pos` past it.
// Returns the problem as text on malformed input.
std::optional<std::string> next_assignment(std::string_view list, size_t& pos, Assignment& out) {
  size_t start = pos;
  while (pos < list.size() && list[pos] != '=' && !is_blank(list[pos])) ++pos;
  if (pos == list.size() || list[pos] != '=') {
    return "expected key=value, got '" + std::string(list.substr(start, pos - start)) + "'";
  }
  out.key = list.substr(start, pos - start);
  if (out.key.empty()) return std::string("missing key before '='");
  ++pos;  // '='
  if (pos < list.size() && (list[pos] == '\'' || list[pos] == '"')) {
    char quote = list[pos++];
    size_t close = list.find(quote, pos);
    if (close == std::string_view::npos) {
      return "unterminated quote in the value of " + std::string(out.key);
    }
    out.value = list.substr(pos, close - pos);
    pos = close + 1;
    if (pos < list.size() && !is_blank(list[pos])) {
      return "text after the closing quote in the value of " + std::string(out.key);
    }
    return std::nullopt;
  }
  size_t value_start = pos;
  while (pos < list.size() && !is_blank(list[pos])) ++pos;
  out.value = list.substr(value_start, pos - value_start);
  return std::nullopt;
}

}  // namespace

std::optional<ConfigError> apply_file_text(Config& config, std::string_view text,
                                           std::string_view file_name) {
  int line_number = 0;
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = trim(text.substr(0, newline));
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    ++line_number;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;

    Origin origin = Origin::from_file(file_name, line_number);
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return error_at(origin, "expected 'key = value', got '" + std::string(line) + "'");
    }
    std::string_view key = trim(line.substr(0, eq));
    if (key.empty()) return error_at(origin, "missing key before '='");
    if (auto error = config.set(key, trim(line.substr(eq + 1)), origin)) return error;
  }
  return std::nullopt;
}

std::optional<ConfigError> apply_assignments(Config& config, std::string_view list,
                                             const Origin& origin) {
  size_t pos = 0;
  while (true) {
    while (pos < list.size() && is_blank(list[pos])) ++pos;
    if (pos == list.size()) return std::nullopt;
    Assignment a;
    if (auto problem = next_assignment(list, pos, a)) return error_at(origin, *problem);
    if (auto error = config.set(a.key, a.value, origin)) return error;
  }
}

std::optional<ConfigError> apply_environment(
    Config& config, const std::vector<std::pair<std::string, std::string>>& env) {
  // Unknown variables first: a typo anywhere refuses the whole environment,
  // whatever its position.
  const std::string* sysctl_list = nullptr;
  for (const auto& [name, value] : env) {
    if (!name.starts_with("VEER_")) continue;
    if (name == kSysctlEnv) sysctl_list = &value;  // if repeated, the last one counts
    if (is_reserved_env(name) || find_knob_by_env(name)) continue;
    std::string message = "environment: unknown variable " + name;
    if (auto meant = suggest_env(name)) message += " (did you mean " + *meant + "?)";
    return ConfigError{std::move(message)};
  }
  if (sysctl_list) {
    if (auto error = apply_assignments(config, *sysctl_list, Origin::from_env(kSysctlEnv))) {
      return error;
    }
  }
  for (const auto& [name, value] : env) {
    const Knob* knob = find_knob_by_env(name);
    if (!knob) continue;
    if (auto error = config.set(knob->name, value, Origin::from_env(name))) return error;
  }
  return std::nullopt;
}

}  // namespace veer::config
