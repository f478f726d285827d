// `veer ss`: the sockets of every process running veer, like `ss -tan`, read
// from the views the engines publish in /dev/shm (preload/view_format.h).
// A view whose process is gone is removed.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tools/command.h"
#include "tools/ss_format.h"
#include "tools/view_reader.h"

namespace veer::tools {
namespace {

constexpr std::string_view kName = "ss";

struct Request {
  SsOptions options;
  uint32_t states = 0;  // 0: the default set (or -a / -l)
  bool all = false;
  bool listening = false;
  bool json = false;
};

std::optional<int> parse(std::span<char* const> args, Request& r) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (is_help_flag(arg)) return show_usage(kSsCommand);
    if (arg == "state") {
      if (++i >= args.size()) return usage_error(kName, "state needs a name (e.g. time-wait)");
      auto bits = ss_state_filter(args[i]);
      if (!bits) return usage_error(kName, "unknown state '" + std::string(args[i]) + "'");
      r.states |= *bits;
    } else if (arg == "--json") {
      r.json = true;
    } else if (arg.size() >= 2 && arg[0] == '-' && arg[1] != '-') {
      for (char c : arg.substr(1)) {
        switch (c) {
          case 't':
          case 'n':
            break;  // TCP is all veer has; addresses are always numeric
          case 'a':
            r.all = true;
            break;
          case 'l':
            r.listening = true;
            break;
          case 'o':
            r.options.timers = true;
            break;
          case 'i':
            r.options.info = true;
            break;
          case 'p':
            r.options.process = true;
            break;
          default:
            return usage_error(kName, "unknown option -" + std::string(1, c));
        }
      }
    } else {
      return usage_error(kName, "unexpected '" + std::string(arg) + "'");
    }
  }
  if (!r.states) {
    r.states = r.all         ? *ss_state_filter("all")
               : r.listening ? ss_listening_states()
                             : ss_default_states();
  }
  return std::nullopt;
}

int run(std::span<char* const> args) {
  Request r;
  if (auto code = parse(args, r)) return *code;
  std::vector<std::string> notes;
  std::vector<View> views = collect_views(&notes);
  for (const std::string& note : notes) std::fprintf(stderr, "veer ss: %s\n", note.c_str());
  int64_t now = monotonic_ns();
  if (r.json)
    std::printf("[");
  else
    std::printf("%s\n", ss_header(r.options).c_str());
  bool first = true;
  for (const View& v : views) {
    int64_t elapsed_ms = (now - v.header.published_ns) / 1000000;
    SsProcess proc{
        std::string_view(v.header.program, strnlen(v.header.program, sizeof v.header.program)),
        v.header.pid};
    for (const preload::ViewSocket& s : v.sockets) {
      if (s.state >= 32 || !(r.states & (1u << s.state))) continue;
      if (r.json) {
        std::printf("%s\n  %s", first ? "" : ",", ss_json(s, proc, elapsed_ms).c_str());
      } else {
        std::printf("%s\n", ss_line(s, proc, r.options, elapsed_ms).c_str());
      }
      first = false;
    }
  }
  if (r.json) std::printf("%s]\n", first ? "" : "\n");
  return kExitOk;
}

}  // namespace

const Command kSsCommand = {
    .name = kName,
    .summary = "list the sockets of every process running veer, like ss -tan",
    .usage =
        "usage: veer ss [-a | -l] [-tnopi] [--json] [state STATE]...\n"
        "\n"
        "Lists the TCP sockets of every process running veer (that this user may\n"
        "read), from the view each one publishes in /dev/shm, as `ss -tan` does for\n"
        "the kernel. Sockets the program closed that still live (FIN-WAIT, TIME-WAIT)\n"
        "are listed too, without a process.\n"
        "\n"
        "Options:\n"
        "  (none)   connections: all states but LISTEN, TIME-WAIT and SYN-RECV\n"
        "  -a       all sockets\n"
        "  -l       listening sockets only\n"
        "  -o       timers: timer:(on|persist|keepalive|timewait,TIME,COUNT)\n"
        "  -i       TCP details: ts sack wscale rto rtt mss cwnd ssthresh bytes retrans\n"
        "  -p       the process: users:((\"NAME\",pid=PID,fd=FD))\n"
        "  -t -n    accepted for ss compatibility (veer has TCP only; always numeric)\n"
        "  --json   one JSON array of objects instead of the table\n"
        "  state S  only sockets in state S (repeatable): established, syn-sent,\n"
        "           syn-recv, fin-wait-1, fin-wait-2, time-wait, close-wait,\n"
        "           last-ack, listening, closing, closed, all, connected, synchronized\n"
        "\n"
        "A view older than the process it names is stale and removed. Each engine\n"
        "rewrites its view at most every 20 ms while something changes.\n",
    .run = run,
};

}  // namespace veer::tools
