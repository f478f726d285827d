// Loading the configuration at start-up: the part of configuration that
// touches the file system and the environment. The parsing and checking
// itself is pure and lives in core/config.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/config/config.h"

namespace veer::preload {

inline constexpr const char* kSystemConfigFile = "/etc/veer.conf";

// Applies, in order, later ones winning:
//   1. `system_file` (/etc/veer.conf) if it exists; missing is fine,
//      unreadable is an error;
//   2. the file named by VEER_CONFIG, if that is set and not empty; it must exist;
//   3. the environment (VEER_SYSCTL, then VEER_<KNOB> variables), from `environ`;
// then checks that the knobs agree with each other. Returns the first error.
// When `sources_read` is not null, appends each source that was applied:
// the file paths, then "env VEER_..." for each variable used.
//
// Safe in a shared-library constructor: files are read with raw
// openat/read/close system calls, so neither stdio nor the preload's own
// wrappers of read() and close() are involved.
std::optional<config::ConfigError> load_config(config::Config& out,
                                               std::vector<std::string>* sources_read,
                                               const char* system_file = kSystemConfigFile);

}  // namespace veer::preload
