// `veer sysctl`: the configuration a program under `veer run` would get,
// printed the way sysctl(8) prints the kernel's, so the two compare line by
// line.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "core/config/knob_table.h"
#include "core/config/registry.h"
#include "core/config/suggest.h"
#include "tools/command.h"
#include "tools/options.h"

namespace veer::tools {
namespace {

constexpr std::string_view kName = "sysctl";

struct Request {
  ConfigOptions options;
  bool all = false;
  bool values_only = false;
  bool with_origin = false;
  bool markdown = false;
  std::vector<std::string> keys;
};

// Single-letter flags may be bundled as in sysctl(8): -an.
bool take_short_flags(std::string_view arg, Request& request) {
  if (arg.size() < 2 || arg[0] != '-' || arg[1] == '-') return false;
  for (char c : arg.substr(1)) {
    if (c != 'a' && c != 'n') return false;
  }
  for (char c : arg.substr(1)) {
    if (c == 'a') request.all = true;
    if (c == 'n') request.values_only = true;
  }
  return true;
}

// Fills `request`; returns an exit code when the command should stop here
// (help was asked for, or the command line is wrong).
std::optional<int> parse(std::span<char* const> args, Request& request) {
  for (size_t i = 0; i < args.size();) {
    std::string_view arg = args[i];
    if (is_help_flag(arg)) return show_usage(kSysctlCommand);
    std::string error;
    Taken taken = take_config_option(args, i, request.options, &error);
    if (taken == Taken::Error) return usage_error(kName, error);
    if (taken == Taken::Yes) continue;
    ++i;
    if (arg == "--all") {
      request.all = true;
    } else if (arg == "--values") {
      request.values_only = true;
    } else if (arg == "--origin") {
      request.with_origin = true;
    } else if (arg == "--markdown") {
      request.markdown = true;
    } else if (take_short_flags(arg, request)) {
    } else if (arg.starts_with('-')) {
      return usage_error(kName, "unknown option '" + std::string(arg) + "'");
    } else if (arg.find('=') != std::string_view::npos) {
      // sysctl(8) would write; veer's settings live in files and the
      // environment, and only for the programs started with them.
      return usage_error(kName, "cannot set '" + std::string(arg) + "' here; use 'veer run -s " +
                                    std::string(arg) + "' or a --config file");
    } else {
      request.keys.emplace_back(arg);
    }
  }
  if (request.markdown && (request.all || !request.keys.empty())) {
    return usage_error(kName, "--markdown prints the whole table; it takes no -a or KEY");
  }
  if (request.all && !request.keys.empty()) {
    return usage_error(kName, "give either -a or KEY..., not both");
  }
  if (!request.markdown && !request.all && request.keys.empty()) {
    return usage_error(kName, "give KEY... or -a");
  }
  return std::nullopt;
}

void print_knob(const config::Config& config, std::string_view name, const Request& request) {
  std::string line;
  if (!request.values_only) line = std::string(name) + " = ";
  line += config.get_text(name);
  if (request.with_origin) line += "  # " + config.origin(name).describe();
  std::printf("%s\n", line.c_str());
}

int run(std::span<char* const> args) {
  Request request;
  if (std::optional<int> code = parse(args, request)) return *code;
  if (request.markdown) {
    std::fputs(config::knob_table_markdown().c_str(), stdout);
    return kExitOk;
  }

  // Every key is checked before anything is printed, so a script never reads
  // a partial answer as a whole one.
  for (const std::string& key : request.keys) {
    if (config::find_knob(key)) continue;
    std::string message = "unknown key '" + key + "'";
    if (auto meant = config::suggest_key(key)) message += " (did you mean '" + *meant + "'?)";
    return fail(kName, message, kExitUsage);
  }

  config::Config config;
  if (auto refused = load_with_options(request.options, config)) {
    return fail(kName, refused->message, kExitUsage);
  }
  if (request.all) {
    for (const config::Knob& knob : config::knobs()) print_knob(config, knob.name, request);
  } else {
    for (const std::string& key : request.keys) print_knob(config, key, request);
  }
  return kExitOk;
}

}  // namespace

const Command kSysctlCommand = {
    .name = kName,
    .summary = "show the knobs a program under veer would run with",
    .usage =
        "usage: veer sysctl [--config FILE] [-s KEY=VALUE]... [-n] [--origin] KEY...\n"
        "       veer sysctl [--config FILE] [-s KEY=VALUE]... [-n] [--origin] -a\n"
        "       veer sysctl --markdown\n"
        "\n"
        "Prints knobs as 'name = value', like sysctl(8), after reading\n"
        "/etc/veer.conf, VEER_CONFIG, the VEER_* variables and the options below,\n"
        "exactly as `veer run` with the same options would.\n"
        "\n"
        "Options:\n"
        "  -a, --all          every knob, in registry order\n"
        "  -n, --values       print values only\n"
        "  --origin           append where each value came from (# default,\n"
        "                     # file /etc/veer.conf:3, # env VEER_SYSCTL)\n"
        "  --markdown         the table of all knobs, defaults and ranges, in Markdown\n"
        "  --config FILE      read FILE after /etc/veer.conf\n"
        "  -s, --set KEY=VAL  set one knob (may be repeated)\n"
        "\n"
        "Exit status: 0, or 2 for a bad command line, an unknown KEY or a refused\n"
        "configuration.\n",
    .run = run,
};

}  // namespace veer::tools
