// The preload's log: levels from the `log` knob (VEER_LOG), written with the
// real write() so logging never re-enters the interposer.
#pragma once

#include <string_view>

namespace veer::preload {

enum class LogLevel { Error = 0, Warn = 1, Info = 2, Debug = 3, Trace = 4 };

void log_configure(LogLevel level, int fd);
LogLevel log_level_from(std::string_view name);
bool log_enabled(LogLevel level);
void log_write(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
// Logs a warning the first time `key` is seen in this process (unsupported
// calls and options: once each, never a flood).
void log_once(const char* key, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace veer::preload

#define VEER_LOG(level, ...)                                                     \
  do {                                                                           \
    if (::veer::preload::log_enabled(::veer::preload::LogLevel::level))          \
      ::veer::preload::log_write(::veer::preload::LogLevel::level, __VA_ARGS__); \
  } while (0)
