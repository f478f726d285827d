#include "core/config/config.h"

#include <cstdlib>

#include "core/config/suggest.h"
#include "core/config/value.h"

namespace veer::config {
namespace {

// "key = value" for a file, "VAR=value: key" for a knob's own variable,
// "VEER_SYSCTL: key=value" for an entry of a list variable, "key=value" for
// a change at run time.
std::string where(const Knob& knob, std::string_view key, std::string_view value,
                  const Origin& origin) {
  std::string k(key), v(value);
  switch (origin.kind) {
    case Origin::Kind::File:
      return origin.location() + ": " + k + " = " + v;
    case Origin::Kind::Env:
      if (origin.env_var == env_name(knob)) return origin.location() + "=" + v + ": " + k;
      return origin.location() + ": " + k + "=" + v;
    case Origin::Kind::Runtime:
      return k + "=" + v;  // the request names the process already
    case Origin::Kind::Default:
      break;
  }
  return origin.location() + ": " + k + " = " + v;
}

// Values with spaces, or none at all, are quoted so the summary reads back
// unambiguously.
std::string quoted_if_needed(const std::string& text) {
  if (!text.empty() && text.find(' ') == std::string::npos) return text;
  return "\"" + text + "\"";
}

}  // namespace

Origin Origin::from_file(std::string_view file, int line) {
  Origin o;
  o.kind = Kind::File;
  o.file = std::string(file);
  o.line = line;
  return o;
}

Origin Origin::from_env(std::string_view var) {
  Origin o;
  o.kind = Kind::Env;
  o.env_var = std::string(var);
  return o;
}

Origin Origin::at_run_time() {
  Origin o;
  o.kind = Kind::Runtime;
  return o;
}

std::string Origin::describe() const {
  switch (kind) {
    case Kind::File:
      return "file " + file + ":" + std::to_string(line);
    case Kind::Env:
      return "env " + env_var;
    case Kind::Runtime:
      return "runtime";
    case Kind::Default:
      break;
  }
  return "default";
}

std::string Origin::location() const {
  switch (kind) {
    case Kind::File:
      return file + ":" + std::to_string(line);
    case Kind::Env:
      return "environment " + env_var;
    case Kind::Runtime:
      return "run time";
    case Kind::Default:
      break;
  }
  return "default";
}

Config::Config() {
  entries_.reserve(knobs().size());
  for (const Knob& k : knobs()) entries_.push_back({std::string(k.default_value), Origin{}});
}

std::optional<ConfigError> Config::set(std::string_view key, std::string_view value,
                                       const Origin& origin) {
  const Knob* knob = find_knob(key);
  if (!knob) {
    std::string message = origin.location() + ": unknown key '" + std::string(key) + "'";
    if (auto meant = suggest_key(key)) message += " (did you mean '" + *meant + "'?)";
    return ConfigError{std::move(message)};
  }
  CheckedValue checked = check_value(*knob, value);
  if (checked.problem) {
    return ConfigError{where(*knob, key, trim(value), origin) + ": " + *checked.problem};
  }
  Entry& entry = entries_[static_cast<size_t>(knob - knobs().data())];
  entry.text = std::move(checked.canonical);
  entry.origin = origin;
  return std::nullopt;
}

size_t Config::index_of(std::string_view name) const {
  const Knob* knob = find_knob(name);
  if (!knob) std::abort();  // a knob name misspelt in veer's own code
  return static_cast<size_t>(knob - knobs().data());
}

size_t Config::index_of(std::string_view name, Kind kind) const {
  size_t i = index_of(name);
  if (knobs()[i].kind != kind) std::abort();  // read through the wrong accessor
  return i;
}

int Config::get_int(std::string_view name) const {
  // Stored text is canonical and in range, so it parses and fits an int.
  return static_cast<int>(*parse_int(entries_[index_of(name, Kind::Int)].text));
}

int64_t Config::get_int64(std::string_view name) const {
  return *parse_int(entries_[index_of(name, Kind::Int)].text);
}

std::array<int, 3> Config::get_triple(std::string_view name) const {
  auto words = split_list(entries_[index_of(name, Kind::IntTriple)].text);
  return {static_cast<int>(*parse_int(words[0])), static_cast<int>(*parse_int(words[1])),
          static_cast<int>(*parse_int(words[2]))};
}

std::pair<int, int> Config::get_port_range(std::string_view name) const {
  auto words = split_list(entries_[index_of(name, Kind::PortRange)].text);
  return {static_cast<int>(*parse_int(words[0])), static_cast<int>(*parse_int(words[1]))};
}

const std::string& Config::get_text(std::string_view name) const {
  return entries_[index_of(name)].text;
}

const Origin& Config::origin(std::string_view name) const {
  return entries_[index_of(name)].origin;
}

bool Config::is_default(std::string_view name) const {
  size_t i = index_of(name);
  return entries_[i].text == knobs()[i].default_value;
}

std::vector<std::string> Config::non_default_summary() const {
  std::vector<std::string> lines;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Knob& knob = knobs()[i];
    if (entries_[i].text == knob.default_value) continue;
    lines.push_back(std::string(knob.name) + "=" + quoted_if_needed(entries_[i].text) + " (" +
                    entries_[i].origin.describe() + ")");
  }
  return lines;
}

}  // namespace veer::config
