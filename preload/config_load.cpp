#include "preload/config_load.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

#include "core/config/parse.h"
#include "core/config/registry.h"

extern char** environ;

namespace veer::preload {
namespace {

using config::ConfigError;

// A configuration file is a few lines; anything this big is a mistake such as
// VEER_CONFIG=/dev/zero, and must not hang start-up.
constexpr size_t kMaxFileBytes = 1 << 20;

// Raw system calls: this runs inside the preload library, whose own read()
// and close() wrappers may not be ready yet in its constructor.
int read_whole_file(const char* path, std::string& out) {
  long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = 0;
  char buf[4096];
  while (true) {
    long n = syscall(SYS_read, fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      break;
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > kMaxFileBytes) {
      err = EFBIG;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  syscall(SYS_close, fd);
  return err;
}

std::string describe_errno(int err) {
  char buf[128];
  // The GNU strerror_r: returns a pointer to the message, thread-safe.
  return strerror_r(err, buf, sizeof buf);
}

// Applies one file. A missing file is skipped when `optional`.
std::optional<ConfigError> apply_file(config::Config& out, const char* path, bool optional,
                                      std::string_view named_by,
                                      std::vector<std::string>* sources_read) {
  std::string text;
  int err = read_whole_file(path, text);
  if (err == ENOENT && optional) return std::nullopt;
  if (err != 0) {
    std::string message =
        std::string(named_by) + "cannot read " + path + ": " + describe_errno(err);
    return ConfigError{std::move(message)};
  }
  if (sources_read) sources_read->emplace_back(path);
  return config::apply_file_text(out, text, path);
}

// The VEER_* part of the environment; the rest is not ours to look at.
std::vector<std::pair<std::string, std::string>> veer_environment() {
  std::vector<std::pair<std::string, std::string>> env;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view var(*entry);
    if (!var.starts_with("VEER_")) continue;
    size_t eq = var.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace_back(std::string(var.substr(0, eq)), std::string(var.substr(eq + 1)));
  }
  return env;
}

}  // namespace

std::optional<ConfigError> load_config(config::Config& out, std::vector<std::string>* sources_read,
                                       const char* system_file) {
  if (auto error = apply_file(out, system_file, /*optional=*/true, "", sources_read)) {
    return error;
  }

  auto env = veer_environment();
  // The first VEER_CONFIG, as getenv() would pick.
  for (const auto& [name, value] : env) {
    if (name != config::kConfigFileEnv) continue;
    if (value.empty()) break;
    std::string named_by = "environment " + name + "=" + value + ": ";
    if (auto error = apply_file(out, value.c_str(), /*optional=*/false, named_by, sources_read)) {
      return error;
    }
    break;
  }

  if (auto error = config::apply_environment(out, env)) return error;
  if (sources_read) {
    // In the order apply_environment used them.
    for (const auto& [name, value] : env) {
      if (name == config::kSysctlEnv) sources_read->push_back("env " + name);
    }
    for (const auto& [name, value] : env) {
      if (config::find_knob_by_env(name)) sources_read->push_back("env " + name);
    }
  }
  return out.check_consistency();
}

}  // namespace veer::preload
