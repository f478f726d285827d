// `veer sysctl`: the configuration a program under `veer run` would get,
// printed the way sysctl(8) prints the kernel's, so the two compare line by
// line.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "core/config/knob_table.h"
#include "core/config/registry.h"
#include "core/config/suggest.h"
#include "preload/control_protocol.h"
#include "tools/command.h"
#include "tools/control_client.h"
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
  int pid = 0;  // -p: a running process's values
  std::vector<std::string> keys;
  std::vector<preload::Assignment> assignments;  // -p PID KEY=VALUE
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
    } else if (arg == "-p" || arg == "--pid") {
      if (i >= args.size()) return usage_error(kName, "-p needs a PID");
      auto pid = parse_pid(args[i]);
      if (!pid) return usage_error(kName, "'" + std::string(args[i]) + "' is not a PID");
      request.pid = *pid;
      ++i;
    } else if (take_short_flags(arg, request)) {
    } else if (arg.starts_with('-')) {
      return usage_error(kName, "unknown option '" + std::string(arg) + "'");
    } else if (arg.find('=') != std::string_view::npos) {
      std::string error;
      auto assignment = preload::split_assignment(arg, &error);
      if (!assignment) return usage_error(kName, error);
      request.assignments.push_back(std::move(*assignment));
    } else {
      request.keys.emplace_back(arg);
    }
  }
  if (!request.assignments.empty() && !request.pid) {
    // sysctl(8) would write; veer's settings live in files and the
    // environment, and only for the programs started with them; a running
    // process is changed with -p.
    std::string a = request.assignments[0].first + "=" + request.assignments[0].second;
    return usage_error(kName, "cannot set '" + a + "' here; use 'veer run -s " + a +
                                  "', a --config file, or -p PID for a running process");
  }
  if (!request.assignments.empty() && (request.all || !request.keys.empty())) {
    return usage_error(kName, "give either KEY=VALUE... or KEY.../-a, not both");
  }
  if (request.pid && (request.markdown || !request.options.config_file.empty() ||
                      !request.options.entries.empty())) {
    return usage_error(kName, "-p reads a running process; it takes no --markdown, --config or -s");
  }
  if (request.pid && request.keys.empty() && request.assignments.empty()) request.all = true;
  if (request.markdown && (request.all || !request.keys.empty())) {
    return usage_error(kName, "--markdown prints the whole table; it takes no -a or KEY");
  }
  if (request.all && !request.keys.empty()) {
    return usage_error(kName, "give either -a or KEY..., not both");
  }
  if (!request.markdown && !request.all && request.keys.empty() && request.assignments.empty()) {
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

// "name = value  # origin" from the engine, printed as the options ask.
void print_engine_line(std::string_view line, const Request& request) {
  size_t hash = line.find("  # ");
  std::string_view knob = line.substr(0, hash);
  size_t eq = knob.find(" = ");
  if (eq == std::string_view::npos) return;
  std::string out(request.values_only ? knob.substr(eq + 3) : knob);
  if (request.with_origin && hash != std::string_view::npos) out += line.substr(hash);
  std::printf("%s\n", out.c_str());
}

// A relative capture file would be resolved in the other process's working
// directory: name it from here.
void absolute_paths(std::vector<preload::Assignment>& assignments) {
  for (auto& [key, value] : assignments) {
    if (key != "capture" || value.empty() || value[0] == '/') continue;
    if (char* cwd = getcwd(nullptr, 0)) {
      value = std::string(cwd) + "/" + value;
      std::free(cwd);
    }
  }
}

// -p PID: show or change the knobs of a running process.
int run_on_process(Request& request) {
  preload::ControlRequest control;
  if (!request.assignments.empty()) {
    // The registry's own checks, before anything is sent: the engine makes
    // them again on its configuration, and changes nothing on an error.
    config::Config check;
    if (auto refused = preload::apply_at_run_time(check, request.assignments))
      return fail(kName, refused->message, kExitUsage);
    absolute_paths(request.assignments);
    control.verb = preload::ControlRequest::Verb::Set;
    control.assignments = request.assignments;
  }
  for (const std::string& key : request.keys) {
    if (config::find_knob(key)) continue;
    std::string message = "unknown key '" + key + "'";
    if (auto meant = config::suggest_key(key)) message += " (did you mean '" + *meant + "'?)";
    return fail(kName, message, kExitUsage);
  }
  std::string error;
  auto reply = control_exchange(request.pid, control, &error);
  if (!reply) return fail(kName, error, kExitFailure);
  if (!reply->ok) {
    return fail(kName, "process " + std::to_string(request.pid) + " refused: " + reply->body,
                kExitUsage);
  }
  std::string_view body = reply->body;
  while (!body.empty()) {
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
    std::string_view name = line.substr(0, line.find(" = "));
    bool wanted = request.keys.empty() ||
                  std::find(request.keys.begin(), request.keys.end(), name) != request.keys.end();
    if (wanted) print_engine_line(line, request);
  }
  return kExitOk;
}

int run(std::span<char* const> args) {
  Request request;
  if (std::optional<int> code = parse(args, request)) return *code;
  if (request.pid) return run_on_process(request);
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
    .summary = "show the knobs a program under veer would run with; change a running one's",
    .usage =
        "usage: veer sysctl [--config FILE] [-s KEY=VALUE]... [-n] [--origin] KEY...\n"
        "       veer sysctl [--config FILE] [-s KEY=VALUE]... [-n] [--origin] -a\n"
        "       veer sysctl --markdown\n"
        "       veer sysctl -p PID [-n] [--origin] [-a | KEY...]\n"
        "       veer sysctl -p PID KEY=VALUE...\n"
        "\n"
        "Prints knobs as 'name = value', like sysctl(8), after reading\n"
        "/etc/veer.conf, VEER_CONFIG, the VEER_* variables and the options below,\n"
        "exactly as `veer run` with the same options would.\n"
        "\n"
        "With -p PID it asks the running process PID instead: its effective values\n"
        "(origin `runtime` for those changed while it runs), or, given KEY=VALUE,\n"
        "changes them as `sysctl -w` changes the kernel's: the TCP knobs for new\n"
        "connections (established ones keep theirs), log, exit_linger_ms and the\n"
        "capture knobs at once. All values are checked first; on any error nothing\n"
        "changes. The address, device, MTU and the other knobs fixed when the stack\n"
        "starts are refused. A process can be asked once its first veer socket has\n"
        "started the stack.\n"
        "\n"
        "Options:\n"
        "  -a, --all          every knob, in registry order\n"
        "  -n, --values       print values only\n"
        "  --origin           append where each value came from (# default,\n"
        "                     # file /etc/veer.conf:3, # env VEER_SYSCTL)\n"
        "  --markdown         the table of all knobs, defaults and ranges, in Markdown\n"
        "  --config FILE      read FILE after /etc/veer.conf\n"
        "  -s, --set KEY=VAL  set one knob (may be repeated)\n"
        "  -p, --pid PID      a running process's knobs (see above)\n"
        "\n"
        "Exit status: 0; 1 when the process cannot be asked; 2 for a bad command\n"
        "line, an unknown KEY or a refused configuration or change.\n",
    .run = run,
};

}  // namespace veer::tools
