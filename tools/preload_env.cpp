#include "tools/preload_env.h"

#include <filesystem>
#include <initializer_list>
#include <vector>

namespace veer::tools {
namespace {

// The sanitizer flag parser splits on all of these.
bool is_asan_separator(char c) {
  return c == ':' || c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// The flag names set in an ASAN_OPTIONS value.
std::vector<std::string_view> asan_option_names(std::string_view options) {
  std::vector<std::string_view> names;
  size_t pos = 0;
  while (pos < options.size()) {
    while (pos < options.size() && is_asan_separator(options[pos])) ++pos;
    size_t start = pos;
    while (pos < options.size() && !is_asan_separator(options[pos])) ++pos;
    std::string_view flag = options.substr(start, pos - start);
    if (!flag.empty()) names.push_back(flag.substr(0, flag.find('=')));
  }
  return names;
}

}  // namespace

std::string library_path(std::string_view override_path, std::string_view exe_path,
                         std::string_view cwd) {
  namespace fs = std::filesystem;
  if (!override_path.empty()) {
    // LD_PRELOAD is inherited by the program's children, whose loader
    // resolves a relative entry against their own working directory.
    fs::path path(override_path);
    if (path.is_relative()) path = fs::path(cwd) / path;
    return path.lexically_normal().string();
  }
  // /proc/self/exe is already free of symbolic links, so ".." is lexical.
  fs::path dir = fs::path(exe_path).parent_path();
  return (dir / ".." / "lib" / "libveer.so").lexically_normal().string();
}

std::string compose_ld_preload(std::string_view sanitizer_runtimes, std::string_view library,
                               std::string_view existing, RuntimeOrder order) {
  std::string list;
  bool first = order == RuntimeOrder::First;
  if (!sanitizer_runtimes.empty() && first) list = std::string(sanitizer_runtimes) + ":";
  list += library;
  if (!sanitizer_runtimes.empty() && !first) list += ":" + std::string(sanitizer_runtimes);
  if (!existing.empty()) list += ":" + std::string(existing);
  return list;
}

namespace {

// `existing` sanitizer options with each of `flags` appended unless its name
// is already set.
std::string merge_options(std::string_view existing,
                          std::initializer_list<std::string_view> flags) {
  std::vector<std::string_view> names = asan_option_names(existing);
  auto has = [&](std::string_view name) {
    for (std::string_view n : names) {
      if (n == name) return true;
    }
    return false;
  };
  std::string merged(existing);
  for (std::string_view flag : flags) {
    if (has(flag.substr(0, flag.find('=')))) continue;
    if (!merged.empty() && !is_asan_separator(merged.back())) merged += ':';
    merged += flag;
  }
  return merged;
}

}  // namespace

std::string merge_asan_options(std::string_view existing) {
  return merge_options(existing, {"detect_leaks=0", "verify_asan_link_order=0"});
}

std::string merge_tsan_options(std::string_view existing) {
  return merge_options(existing, {"die_after_fork=0"});
}

}  // namespace veer::tools
