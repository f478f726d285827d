#include "netdev/pcap_writer.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio_ext.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <type_traits>

namespace {

// libpcap is opened when the first capture starts, not linked: every program
// under veer would otherwise load it with its dependencies (libdbus,
// libsystemd, libgcrypt), whose constructors alone hang gettext-using
// programs such as sed and cat under a preloaded sanitizer runtime, and cost
// every program start something for a feature most runs never use.
struct PcapApi {
  decltype(&::pcap_open_dead) open_dead = nullptr;
  decltype(&::pcap_close) close = nullptr;
  decltype(&::pcap_dump_fopen) dump_fopen = nullptr;
  decltype(&::pcap_geterr) geterr = nullptr;
  decltype(&::pcap_dump_close) dump_close = nullptr;
  decltype(&::pcap_dump_file) dump_file = nullptr;
  decltype(&::pcap_dump) dump = nullptr;
  decltype(&::pcap_dump_ftell64) dump_ftell64 = nullptr;
  decltype(&::pcap_dump_flush) dump_flush = nullptr;
  std::string error;
};

const PcapApi& pcap_api() {
  static const PcapApi api = [] {
    PcapApi a;
    void* h = dlopen("libpcap.so.0.8", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* why = dlerror();
      a.error = std::string("cannot load libpcap (libpcap0.8): ") + (why ? why : "?");
      return a;
    }
    auto sym = [&](auto& f, const char* name) {
      f = reinterpret_cast<std::remove_reference_t<decltype(f)>>(dlsym(h, name));
      if (!f && a.error.empty()) a.error = std::string("libpcap lacks ") + name;
    };
    sym(a.open_dead, "pcap_open_dead");
    sym(a.close, "pcap_close");
    sym(a.dump_fopen, "pcap_dump_fopen");
    sym(a.geterr, "pcap_geterr");
    sym(a.dump_close, "pcap_dump_close");
    sym(a.dump_file, "pcap_dump_file");
    sym(a.dump, "pcap_dump");
    sym(a.dump_ftell64, "pcap_dump_ftell64");
    sym(a.dump_flush, "pcap_dump_flush");
    return a;
  }();
  return api;
}

}  // namespace

namespace veer::netdev {

std::unique_ptr<PcapWriter> PcapWriter::open(const Options& options, std::string* error) {
  if (!pcap_api().error.empty()) {
    *error = pcap_api().error;
    return nullptr;
  }
  std::unique_ptr<PcapWriter> w(new PcapWriter(options));
  // Microsecond timestamps: the classic format every reader knows.
  w->dead_ = pcap_api().open_dead(DLT_EN10MB, options.snaplen);
  if (!w->dead_) {
    *error = "pcap_open_dead failed";
    return nullptr;
  }
  if (!w->open_file(error)) return nullptr;
  return w;
}

PcapWriter::~PcapWriter() {
  close_file();
  if (dead_) pcap_api().close(dead_);
}

bool PcapWriter::open_file(std::string* error) {
  // Our own open(): close-on-exec, so a program that execs does not carry
  // the capture into the new image (pcap_dump_open's fopen would).
  int fd = ::open(options_.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = options_.path + ": " + std::strerror(errno);
    return false;
  }
  FILE* f = fdopen(fd, "wb");
  if (!f) {
    *error = options_.path + ": " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  dumper_ = pcap_api().dump_fopen(dead_, f);
  if (!dumper_) {
    *error = options_.path + ": " + pcap_api().geterr(dead_);
    std::fclose(f);
    return false;
  }
  return true;
}

void PcapWriter::close_file() {
  if (!dumper_) return;
  pcap_api().dump_close(dumper_);
  dumper_ = nullptr;
}

void PcapWriter::abandon() {
  if (!dumper_) return;
  __fpurge(pcap_api().dump_file(dumper_));
  close_file();
}

int PcapWriter::fd() const {
  return dumper_ ? fileno(pcap_api().dump_file(dumper_)) : -1;
}

bool PcapWriter::rotate() {
  close_file();
  const std::string& base = options_.path;
  // Shift FILE.n to FILE.n+1 from the highest number down, then FILE to
  // FILE.1.
  int top = 0;
  struct stat st {};
  while (::stat((base + "." + std::to_string(top + 1)).c_str(), &st) == 0) ++top;
  for (int n = top; n >= 1; --n) {
    std::string from = base + "." + std::to_string(n);
    std::string to = base + "." + std::to_string(n + 1);
    if (std::rename(from.c_str(), to.c_str()) != 0) break;
  }
  if (std::rename(base.c_str(), (base + ".1").c_str()) != 0) {
    error_ = "rotating " + base + ": " + std::strerror(errno);
    return false;
  }
  return open_file(&error_);
}

void PcapWriter::write(Bytes frame, int64_t unix_ns) {
  if (!dumper_) return;
  pcap_pkthdr h{};
  h.ts.tv_sec = static_cast<time_t>(unix_ns / 1000000000);
  h.ts.tv_usec = static_cast<suseconds_t>((unix_ns % 1000000000) / 1000);
  h.len = static_cast<bpf_u_int32>(frame.size());
  h.caplen = static_cast<bpf_u_int32>(std::min<size_t>(frame.size(), size_t(options_.snaplen)));
  pcap_api().dump(reinterpret_cast<u_char*>(dumper_), &h,
                  reinterpret_cast<const u_char*>(frame.data()));
  ++frames_;
  if (std::ferror(pcap_api().dump_file(dumper_))) {
    error_ = options_.path + ": write failed";
    close_file();
    return;
  }
  if (options_.rotate_bytes &&
      static_cast<uint64_t>(pcap_api().dump_ftell64(dumper_)) >= options_.rotate_bytes)
    rotate();
}

void PcapWriter::flush() {
  if (dumper_ && pcap_api().dump_flush(dumper_) != 0) {
    error_ = options_.path + ": write failed";
    close_file();
  }
}

}  // namespace veer::netdev
