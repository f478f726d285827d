// --config FILE and -s key=value: the options through which every command
// that reads the configuration can change it.
//
// They act through the environment, as VEER_CONFIG and VEER_SYSCTL, so that
// `veer sysctl` and `veer net up` see exactly the configuration a program
// started by `veer run` with the same options gets: there is one loader
// (preload/config_load.h), and these options only feed it.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"
#include "preload/config_load.h"

namespace veer::tools {

struct ConfigOptions {
  std::string config_file;           // absolute; empty when --config was not given
  std::vector<std::string> entries;  // VEER_SYSCTL entries, quoted where needed
};

enum class Taken { No, Yes, Error };

// Offers args[i] to the shared options. On Yes, `i` has moved past the option
// and its value; on Error, `*error` says what is wrong with the command line.
// Accepts --config FILE, --config=FILE, -s KV, -sKV, --set KV, --set=KV.
Taken take_config_option(std::span<char* const> args, size_t& i, ConfigOptions& out,
                         std::string* error);

// KEY=VALUE as one entry of a VEER_SYSCTL list (core/config/parse.h): the
// value is quoted when it holds blanks or starts with a quote, since blanks
// separate entries. nullopt, with `*error` set, for text no entry can carry.
std::optional<std::string> sysctl_entry(std::string_view assignment, std::string* error);

// `existing` (a VEER_SYSCTL already in the environment) followed by `entries`,
// space-separated: later entries win, so ours override the inherited ones.
std::string joined_sysctl(std::string_view existing, const std::vector<std::string>& entries);

// Puts the options into this process's environment (VEER_CONFIG, VEER_SYSCTL)
// and removes the tool's own VEER_LIBRARY, which is not a knob; a program
// exec'd afterwards inherits the result.
void export_config_options(const ConfigOptions& options);

// export_config_options, then load_config: the configuration a program run
// under `veer run` with the same options and environment would get.
std::optional<config::ConfigError> load_with_options(
    const ConfigOptions& options, config::Config& out, std::vector<std::string>* sources = nullptr,
    const char* system_file = preload::kSystemConfigFile);

}  // namespace veer::tools
