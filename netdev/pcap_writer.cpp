#include "netdev/pcap_writer.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio_ext.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace veer::netdev {

std::unique_ptr<PcapWriter> PcapWriter::open(const Options& options, std::string* error) {
  std::unique_ptr<PcapWriter> w(new PcapWriter(options));
  // Microsecond timestamps: the classic format every reader knows.
  w->dead_ = pcap_open_dead(DLT_EN10MB, options.snaplen);
  if (!w->dead_) {
    *error = "pcap_open_dead failed";
    return nullptr;
  }
  if (!w->open_file(error)) return nullptr;
  return w;
}

PcapWriter::~PcapWriter() {
  close_file();
  if (dead_) pcap_close(dead_);
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
  dumper_ = pcap_dump_fopen(dead_, f);
  if (!dumper_) {
    *error = options_.path + ": " + pcap_geterr(dead_);
    std::fclose(f);
    return false;
  }
  return true;
}

void PcapWriter::close_file() {
  if (!dumper_) return;
  pcap_dump_close(dumper_);
  dumper_ = nullptr;
}

void PcapWriter::abandon() {
  if (!dumper_) return;
  __fpurge(pcap_dump_file(dumper_));
  close_file();
}

int PcapWriter::fd() const {
  return dumper_ ? fileno(pcap_dump_file(dumper_)) : -1;
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
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, reinterpret_cast<const u_char*>(frame.data()));
  ++frames_;
  if (std::ferror(pcap_dump_file(dumper_))) {
    error_ = options_.path + ": write failed";
    close_file();
    return;
  }
  if (options_.rotate_bytes &&
      static_cast<uint64_t>(pcap_dump_ftell64(dumper_)) >= options_.rotate_bytes)
    rotate();
}

void PcapWriter::flush() {
  if (dumper_ && pcap_dump_flush(dumper_) != 0) {
    error_ = options_.path + ": write failed";
    close_file();
  }
}

}  // namespace veer::netdev
