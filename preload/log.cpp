#include "preload/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>

#include "preload/real.h"

namespace veer::preload {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::Warn)};
std::atomic<int> g_fd{2};

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::Error:
      return "error";
    case LogLevel::Warn:
      return "warn";
    case LogLevel::Info:
      return "info";
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Trace:
      return "trace";
  }
  return "?";
}

void vwrite(LogLevel level, const char* fmt, va_list ap) {
  char buf[1024];
  int n = std::snprintf(buf, sizeof buf, "veer[%d] %s: ", static_cast<int>(getpid()),
                        level_name(level));
  if (n < 0) return;
  int m = std::vsnprintf(buf + n, sizeof buf - static_cast<size_t>(n) - 1, fmt, ap);
  if (m < 0) return;
  size_t len = std::min(sizeof buf - 2, static_cast<size_t>(n) + static_cast<size_t>(m));
  buf[len++] = '\n';
  (void)real::write(g_fd.load(), buf, len);
}

}  // namespace

void log_configure(LogLevel level, int fd) {
  g_level = static_cast<int>(level);
  g_fd = fd;
}

LogLevel log_level_from(std::string_view name) {
  if (name == "error") return LogLevel::Error;
  if (name == "info") return LogLevel::Info;
  if (name == "debug") return LogLevel::Debug;
  if (name == "trace") return LogLevel::Trace;
  return LogLevel::Warn;
}

bool log_enabled(LogLevel level) {
  return static_cast<int>(level) <= g_level.load();
}

void log_write(LogLevel level, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vwrite(level, fmt, ap);
  va_end(ap);
}

void log_once(const char* key, const char* fmt, ...) {
  static std::mutex mu;
  static std::set<std::string>* seen = new std::set<std::string>;  // never destroyed: used at exit
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!seen->insert(key).second) return;
  }
  if (!log_enabled(LogLevel::Warn)) return;
  va_list ap;
  va_start(ap, fmt);
  vwrite(LogLevel::Warn, fmt, ap);
  va_end(ap);
}

}  // namespace veer::preload
