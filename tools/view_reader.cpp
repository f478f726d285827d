#include "tools/view_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "preload/control_protocol.h"

namespace veer::tools {

int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

bool process_alive(int pid) {
  if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM)) return false;
  // A zombie still answers kill(0) until its parent reaps it (which may be
  // late: a killed program's new parent may be a slow init), but its engine
  // is gone: its view is stale.
  std::string stat;
  if (FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "re")) {
    char buf[512];
    size_t n = std::fread(buf, 1, sizeof buf, f);
    stat.assign(buf, n);
    std::fclose(f);
  }
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return true;
  char state = stat[paren + 2];
  return state != 'Z' && state != 'X';
}

int view_pid(std::string_view name) {
  if (!name.starts_with(preload::kViewPrefix)) return -1;
  std::string_view digits = name.substr(std::strlen(preload::kViewPrefix));
  if (digits.empty() || digits.size() > 9 || digits[0] == '0') return -1;
  int pid = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
    pid = pid * 10 + (c - '0');
  }
  return pid;
}

ViewRead read_view(const std::string& path, View& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return ViewRead::Unreadable;
  struct stat st {};
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
      static_cast<size_t>(st.st_size) < sizeof(out.header.magic) ||
      (geteuid() != 0 && st.st_uid != geteuid())) {
    ::close(fd);
    return ViewRead::Unreadable;
  }
  size_t bytes = static_cast<size_t>(st.st_size);
  void* p = mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return ViewRead::Unreadable;
  const auto* h = static_cast<const preload::ViewHeader*>(p);
  ViewRead result = ViewRead::KeptChanging;
  if (std::memcmp(h->magic, preload::kViewMagic, sizeof h->magic) != 0) {
    // Another version's layout may differ anywhere past the magic.
    result = std::memcmp(h->magic, preload::kViewMagicFamily, sizeof preload::kViewMagicFamily) == 0
                 ? ViewRead::OtherVersion
                 : ViewRead::Unreadable;
  } else if (bytes < sizeof(preload::ViewHeader)) {
    result = ViewRead::Unreadable;
  } else {
    std::atomic_ref<const uint64_t> seq(h->seq);
    for (int attempt = 0; attempt < 1000; ++attempt) {
      uint64_t s0 = seq.load(std::memory_order_acquire);
      if (s0 & 1) continue;
      std::memcpy(&out.header, h, sizeof out.header);
      uint32_t n = std::min<uint32_t>(out.header.count, out.header.capacity);
      if (sizeof(preload::ViewHeader) + size_t(n) * sizeof(preload::ViewSocket) > bytes) {
        result = ViewRead::Unreadable;
        break;
      }
      out.sockets.resize(n);
      if (n > 0)
        std::memcpy(out.sockets.data(),
                    reinterpret_cast<const char*>(h) + sizeof(preload::ViewHeader),
                    n * sizeof(preload::ViewSocket));
      preload::view_read_fence();
      if (seq.load(std::memory_order_relaxed) == s0) {
        result = ViewRead::Ok;
        break;
      }
    }
  }
  munmap(p, bytes);
  if (result == ViewRead::Ok && out.header.counter_count != core::kCounterCount)
    result = ViewRead::Unreadable;
  return result;
}

std::vector<View> collect_views(std::vector<std::string>* notes, int only_pid) {
  std::vector<View> views;
  DIR* dir = opendir("/dev/shm");
  if (!dir) return views;
  while (dirent* d = readdir(dir)) {
    std::string_view name = d->d_name;
    if (!name.starts_with(preload::kViewPrefix)) continue;
    std::string path = "/dev/shm/" + std::string(name);
    bool control = name.ends_with(preload::kControlSuffix);
    int pid =
        view_pid(control ? name.substr(0, name.size() - preload::kControlSuffix.size()) : name);
    if (pid <= 0) continue;
    if (only_pid > 0 && pid != only_pid) continue;
    if (!process_alive(pid)) {
      // The process died without removing its files (killed): clean up.
      ::unlink(path.c_str());
      continue;
    }
    if (control) continue;
    View v;
    switch (read_view(path, v)) {
      case ViewRead::Ok:
        if (v.header.pid == pid) views.push_back(std::move(v));
        break;
      case ViewRead::OtherVersion:
        if (notes)
          notes->push_back(path + " (pid " + std::to_string(pid) +
                           ") is from another veer version; skipped");
        break;
      case ViewRead::Unreadable:
      case ViewRead::KeptChanging:
        break;
    }
  }
  closedir(dir);
  std::sort(views.begin(), views.end(),
            [](const View& a, const View& b) { return a.header.pid < b.header.pid; });
  return views;
}

}  // namespace veer::tools
