// `veer netstat -s`: the stack's counters of every process running veer, in
// the kernel's `netstat -s` wording, per process and summed, read from the
// views the engines publish in /dev/shm (preload/view_format.h).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tools/command.h"
#include "tools/control_client.h"
#include "tools/netstat_format.h"
#include "tools/view_reader.h"

namespace veer::tools {
namespace {

constexpr std::string_view kName = "netstat";

struct Request {
  bool statistics = false;
  bool json = false;
  int pid = 0;
};

std::optional<int> parse(std::span<char* const> args, Request& r) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (is_help_flag(arg)) return show_usage(kNetstatCommand);
    if (arg == "-s" || arg == "--statistics") {
      r.statistics = true;
    } else if (arg == "--json") {
      r.json = true;
    } else if (arg == "-p" || arg == "--pid") {
      if (++i >= args.size()) return usage_error(kName, "-p needs a PID");
      auto pid = parse_pid(args[i]);
      if (!pid) return usage_error(kName, "'" + std::string(args[i]) + "' is not a PID");
      r.pid = *pid;
    } else {
      return usage_error(kName, "unexpected '" + std::string(arg) + "'");
    }
  }
  if (!r.statistics) {
    return usage_error(kName, "only -s (the counters) is supported; `veer ss` lists the sockets");
  }
  return std::nullopt;
}

int run(std::span<char* const> args) {
  Request r;
  if (auto code = parse(args, r)) return *code;
  std::vector<std::string> notes;
  std::vector<View> views = collect_views(&notes, r.pid);
  for (const std::string& note : notes) std::fprintf(stderr, "veer netstat: %s\n", note.c_str());
  if (r.pid && views.empty()) {
    return fail(kName,
                "no view of process " + std::to_string(r.pid) +
                    (process_alive(r.pid) ? " (it has not started a veer stack, or is not yours)"
                                          : " (no such process)"),
                kExitFailure);
  }
  std::vector<NetstatProcess> processes;
  for (const View& v : views) {
    NetstatProcess p;
    p.program.assign(v.header.program, strnlen(v.header.program, sizeof v.header.program));
    p.pid = v.header.pid;
    std::copy(std::begin(v.header.counters), std::end(v.header.counters), p.counters.begin());
    processes.push_back(std::move(p));
  }
  std::string out = r.json ? netstat_report_json(processes) : netstat_report_text(processes);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace

const Command kNetstatCommand = {
    .name = kName,
    .summary = "show the stack's counters of every process running veer, like netstat -s",
    .usage =
        "usage: veer netstat -s [-p PID] [--json]\n"
        "\n"
        "Prints the counters of each process running veer (that this user may read)\n"
        "in the kernel's `netstat -s` wording and groups (Ip:, Icmp:, Tcp:, TcpExt:,\n"
        "then veer's Arp: and Link:), and their sum when there are several. They\n"
        "come from the view each engine publishes in /dev/shm, at most 20 ms old.\n"
        "\n"
        "Options:\n"
        "  -s, --statistics   the counters (required: the socket table is `veer ss`)\n"
        "  -p, --pid PID      only this process\n"
        "  --json             one JSON object: {\"processes\":[...],\"total\":{...}}\n"
        "\n"
        "A view whose process is gone is removed. Exit status: 0; 1 when -p names\n"
        "no process running veer; 2 for a bad command line.\n",
    .run = run,
};

}  // namespace veer::tools
