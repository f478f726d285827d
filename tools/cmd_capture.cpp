// `veer capture -p PID start FILE` / `stop`: starts or stops the pcap capture
// of a running process, by setting its capture knobs over the control
// channel (preload/control_protocol.h), as `veer sysctl -p PID capture=FILE`
// would.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "preload/control_protocol.h"
#include "tools/command.h"
#include "tools/control_client.h"

namespace veer::tools {
namespace {

constexpr std::string_view kName = "capture";

struct Request {
  int pid = 0;
  enum class Action { Status, Start, Stop } action = Action::Status;
  std::string file;
  std::vector<preload::Assignment> assignments;
};

std::optional<int> parse(std::span<char* const> args, Request& r) {
  std::vector<std::string_view> words;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (is_help_flag(arg)) return show_usage(kCaptureCommand);
    if (arg == "-p" || arg == "--pid" || arg == "--snaplen" || arg == "--rotate-mb") {
      if (++i >= args.size()) return usage_error(kName, std::string(arg) + " needs a value");
      std::string_view value = args[i];
      if (arg == "--snaplen") {
        r.assignments.emplace_back("capture_snaplen", std::string(value));
      } else if (arg == "--rotate-mb") {
        r.assignments.emplace_back("capture_rotate_mb", std::string(value));
      } else {
        auto pid = parse_pid(value);
        if (!pid) return usage_error(kName, "'" + std::string(value) + "' is not a PID");
        r.pid = *pid;
      }
    } else if (arg.starts_with("-") && arg.size() > 1) {
      return usage_error(kName, "unknown option '" + std::string(arg) + "'");
    } else {
      words.push_back(arg);
    }
  }
  if (!r.pid) return usage_error(kName, "-p PID is required");
  if (words.empty()) {
    r.action = Request::Action::Status;
  } else if (words[0] == "start" && words.size() == 2 && !words[1].empty()) {
    r.action = Request::Action::Start;
    r.file = words[1];
  } else if (words[0] == "stop" && words.size() == 1) {
    r.action = Request::Action::Stop;
  } else {
    return usage_error(kName, "expected 'start FILE' or 'stop'");
  }
  if (r.action != Request::Action::Start && !r.assignments.empty())
    return usage_error(kName, "--snaplen and --rotate-mb go with start");
  return std::nullopt;
}

int run(std::span<char* const> args) {
  Request r;
  if (auto code = parse(args, r)) return *code;
  preload::ControlRequest control;
  if (r.action != Request::Action::Status) {
    std::string file = r.file;
    if (!file.empty() && file[0] != '/') {
      // The other process has its own working directory: name it from here.
      if (char* cwd = getcwd(nullptr, 0)) {
        file = std::string(cwd) + "/" + file;
        std::free(cwd);
      }
    }
    r.assignments.emplace_back("capture", file);
    config::Config check;
    if (auto refused = preload::apply_at_run_time(check, r.assignments))
      return fail(kName, refused->message, kExitUsage);
    control.verb = preload::ControlRequest::Verb::Set;
    control.assignments = r.assignments;
  }
  std::string error;
  auto reply = control_exchange(r.pid, control, &error);
  if (reply && reply->ok && control.verb == preload::ControlRequest::Verb::Set) {
    // The capture knobs as the process now has them, the ones not given too.
    reply = control_exchange(r.pid, {}, &error);
  }
  if (!reply) return fail(kName, error, kExitFailure);
  if (!reply->ok) {
    return fail(kName, "process " + std::to_string(r.pid) + " refused: " + reply->body,
                kExitFailure);
  }
  std::string_view body = reply->body;
  std::string file, snaplen, rotate;
  while (!body.empty()) {
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
    line = line.substr(0, line.find("  # "));
    auto take = [&](std::string_view key, std::string& out) {
      std::string prefix = std::string(key) + " = ";
      if (line.starts_with(prefix)) out = line.substr(prefix.size());
    };
    take("capture", file);
    take("capture_snaplen", snaplen);
    take("capture_rotate_mb", rotate);
  }
  if (r.action == Request::Action::Stop) {
    std::printf("process %d: capture stopped\n", r.pid);
  } else if (file.empty()) {
    std::printf("process %d: not capturing\n", r.pid);
  } else {
    std::printf("process %d: capturing to %s", r.pid, file.c_str());
    if (!snaplen.empty()) std::printf(" (snaplen %s", snaplen.c_str());
    if (!rotate.empty() && rotate != "0") std::printf(", rotated at %s MiB", rotate.c_str());
    std::printf("%s\n", snaplen.empty() ? "" : ")");
  }
  return kExitOk;
}

}  // namespace

const Command kCaptureCommand = {
    .name = kName,
    .summary = "start or stop the pcap capture of a process running veer",
    .usage =
        "usage: veer capture -p PID start FILE [--snaplen N] [--rotate-mb N]\n"
        "       veer capture -p PID stop\n"
        "       veer capture -p PID\n"
        "\n"
        "Starts writing every Ethernet frame the process's stack sends and receives\n"
        "to FILE in pcap format (tcpdump -r, tshark -r), stops it, or says what it\n"
        "captures. The same as setting the knobs capture, capture_snaplen and\n"
        "capture_rotate_mb with `veer sysctl -p PID`; a program can also start\n"
        "with a capture: `veer run -s capture=FILE` or VEER_CAPTURE=FILE.\n"
        "\n"
        "Options:\n"
        "  -p, --pid PID    the process (required)\n"
        "  --snaplen N      bytes kept of each frame (14..262144, default 262144)\n"
        "  --rotate-mb N    at N MiB, FILE becomes FILE.1 (FILE.1 becomes FILE.2 ...)\n"
        "                   and a new FILE starts; 0 (default): never\n"
        "\n"
        "A capture started again to another file closes the first. The file is\n"
        "flushed every 20 ms while frames flow, and closed at stop or exit.\n"
        "Exit status: 0; 1 when the process cannot be asked or cannot open FILE;\n"
        "2 for a bad command line or value.\n",
    .run = run,
};

}  // namespace veer::tools
