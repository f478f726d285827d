// `veer ss`: the sockets of every process running veer, like `ss -tan`, read
// from the views the engines publish in /dev/shm (preload/view_format.h).
// A view whose process is gone is removed.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tools/command.h"
#include "tools/ss_format.h"

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

struct View {
  preload::ViewHeader header{};
  std::vector<preload::ViewSocket> sockets;
};

int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

bool alive(int pid) {
  return kill(pid, 0) == 0 || errno == EPERM;
}

// Copies one view under its sequence counter; false if it is not a view,
// not ours to read, or kept changing.
bool read_view(const std::string& path, View& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  if (fstat(fd, &st) < 0 || static_cast<size_t>(st.st_size) < sizeof(preload::ViewHeader) ||
      (geteuid() != 0 && st.st_uid != geteuid())) {
    ::close(fd);
    return false;
  }
  size_t bytes = static_cast<size_t>(st.st_size);
  void* p = mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return false;
  const auto* h = static_cast<const preload::ViewHeader*>(p);
  bool ok = false;
  if (std::memcmp(h->magic, preload::kViewMagic, sizeof h->magic) == 0) {
    std::atomic_ref<const uint64_t> seq(h->seq);
    for (int attempt = 0; attempt < 1000 && !ok; ++attempt) {
      uint64_t s0 = seq.load(std::memory_order_acquire);
      if (s0 & 1) continue;
      std::memcpy(&out.header, h, sizeof out.header);
      uint32_t n = std::min<uint32_t>(out.header.count, out.header.capacity);
      if (sizeof(preload::ViewHeader) + size_t(n) * sizeof(preload::ViewSocket) > bytes) break;
      out.sockets.resize(n);
      if (n > 0)
        std::memcpy(out.sockets.data(),
                    reinterpret_cast<const char*>(h) + sizeof(preload::ViewHeader),
                    n * sizeof(preload::ViewSocket));
      preload::view_read_fence();
      ok = seq.load(std::memory_order_relaxed) == s0;
    }
  }
  munmap(p, bytes);
  return ok;
}

std::vector<View> collect_views() {
  std::vector<View> views;
  DIR* dir = opendir("/dev/shm");
  if (!dir) return views;
  while (dirent* d = readdir(dir)) {
    std::string_view name = d->d_name;
    if (!name.starts_with(preload::kViewPrefix)) continue;
    int pid = std::atoi(std::string(name.substr(std::strlen(preload::kViewPrefix))).c_str());
    std::string path = "/dev/shm/" + std::string(name);
    if (pid <= 0) continue;
    if (!alive(pid)) {
      // The process died without removing its view (killed): clean up.
      ::unlink(path.c_str());
      continue;
    }
    View v;
    if (read_view(path, v) && v.header.pid == pid) views.push_back(std::move(v));
  }
  closedir(dir);
  return views;
}

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
  std::vector<View> views = collect_views();
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
