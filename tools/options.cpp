#include "tools/options.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "core/config/registry.h"
#include "tools/preload_env.h"

namespace veer::tools {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool has_blank(std::string_view text) {
  for (char c : text) {
    if (is_blank(c)) return true;
  }
  return false;
}

// The value of an option written as "--long VALUE", "--long=VALUE", "-s VALUE"
// or "-sVALUE", with `i` moved past it. nullopt when args[i] is not this
// option; `*missing` when it is but no value follows.
std::optional<std::string> option_value(std::span<char* const> args, size_t& i,
                                        std::string_view short_name, std::string_view long_name,
                                        bool* missing) {
  std::string_view arg = args[i];
  std::string_view inline_value;
  if (arg == long_name || (!short_name.empty() && arg == short_name)) {
    if (i + 1 >= args.size()) {
      *missing = true;
      return std::nullopt;
    }
    i += 2;
    return std::string(args[i - 1]);
  }
  if (arg.starts_with(long_name) && arg.size() > long_name.size() && arg[long_name.size()] == '=') {
    inline_value = arg.substr(long_name.size() + 1);
  } else if (!short_name.empty() && arg.starts_with(short_name) && arg.size() > short_name.size()) {
    inline_value = arg.substr(short_name.size());
  } else {
    return std::nullopt;
  }
  i += 1;
  return std::string(inline_value);
}

}  // namespace

Taken take_config_option(std::span<char* const> args, size_t& i, ConfigOptions& out,
                         std::string* error) {
  bool missing = false;
  if (auto file = option_value(args, i, "", "--config", &missing)) {
    if (file->empty()) {
      *error = "--config needs a file name";
      return Taken::Error;
    }
    // VEER_CONFIG is inherited by the program's children, which may run in
    // another directory.
    std::error_code ec;
    std::filesystem::path absolute = std::filesystem::absolute(*file, ec);
    if (ec) {
      *error = "--config " + *file + ": " + ec.message();
      return Taken::Error;
    }
    out.config_file = absolute.string();
    return Taken::Yes;
  }
  if (missing) {
    *error = "--config needs a file name";
    return Taken::Error;
  }

  std::optional<std::string> assignment = option_value(args, i, "-s", "--set", &missing);
  if (missing) {
    *error = std::string(args[i]) + " needs KEY=VALUE";
    return Taken::Error;
  }
  if (!assignment) return Taken::No;
  std::optional<std::string> entry = sysctl_entry(*assignment, error);
  if (!entry) return Taken::Error;
  out.entries.push_back(std::move(*entry));
  return Taken::Yes;
}

std::optional<std::string> sysctl_entry(std::string_view assignment, std::string* error) {
  size_t eq = assignment.find('=');
  std::string_view key = assignment.substr(0, eq);
  if (eq == std::string_view::npos || key.empty() || has_blank(key)) {
    *error = "-s expects KEY=VALUE, got '" + std::string(assignment) + "'";
    return std::nullopt;
  }
  std::string_view value = assignment.substr(eq + 1);
  bool needs_quotes = has_blank(value) || value.starts_with('\'') || value.starts_with('"');
  if (!needs_quotes) return std::string(assignment);
  // The list parser ends a quoted value at the first matching quote.
  char quote = value.find('\'') == std::string_view::npos ? '\'' : '"';
  if (value.find(quote) != std::string_view::npos) {
    *error = "-s " + std::string(assignment) +
             ": a value with blanks cannot hold both kinds of quote; use a --config file";
    return std::nullopt;
  }
  return std::string(key) + "=" + quote + std::string(value) + quote;
}

std::string joined_sysctl(std::string_view existing, const std::vector<std::string>& entries) {
  std::string list(existing);
  for (const std::string& entry : entries) {
    if (!list.empty()) list += ' ';
    list += entry;
  }
  return list;
}

void export_config_options(const ConfigOptions& options) {
  std::string config_env(config::kConfigFileEnv);
  std::string sysctl_env(config::kSysctlEnv);
  if (!options.config_file.empty()) {
    ::setenv(config_env.c_str(), options.config_file.c_str(), /*overwrite=*/1);
  }
  if (!options.entries.empty()) {
    const char* existing = std::getenv(sysctl_env.c_str());
    std::string list = joined_sysctl(existing ? existing : "", options.entries);
    ::setenv(sysctl_env.c_str(), list.c_str(), /*overwrite=*/1);
  }
  // Not a knob: the loader, here and in libveer.so, would refuse it as a
  // misspelt VEER_* variable. Only `veer run` reads it, before this point.
  ::unsetenv(kLibraryEnv);
}

std::optional<config::ConfigError> load_with_options(const ConfigOptions& options,
                                                     config::Config& out,
                                                     std::vector<std::string>* sources,
                                                     const char* system_file) {
  export_config_options(options);
  return preload::load_config(out, sources, system_file);
}

}  // namespace veer::tools
