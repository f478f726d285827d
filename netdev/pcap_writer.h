// Writes Ethernet frames to a pcap file (through libpcap, so tcpdump -r and
// tshark -r read it), with a snap length and rotation by size:
//
//   FILE          the frames of now
//   FILE.1        the file before, FILE.2 the one before that, ...
//
// When FILE reaches the rotation size it is closed and renamed FILE.1 (an
// older FILE.1 becomes FILE.2, and so on, as logrotate numbers), and a new
// FILE starts with its own pcap header. Nothing is deleted.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/types.h"

struct pcap;
struct pcap_dumper;

namespace veer::netdev {

class PcapWriter {
 public:
  struct Options {
    std::string path;
    int snaplen = 262144;
    uint64_t rotate_bytes = 0;  // 0: never
  };
  // Creates (truncates) `path`; nullptr with `*error` when it cannot.
  static std::unique_ptr<PcapWriter> open(const Options& options, std::string* error);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // One frame as seen on the wire at `unix_ns` (nanoseconds since the epoch).
  // A write error stops the capture; error() says why.
  void write(Bytes frame, int64_t unix_ns);
  // Hands what is buffered to the kernel, so a reader sees every frame
  // written so far.
  void flush();

  // Closes this copy of the file without writing what is buffered: a forked
  // child's copy of the writer must not write the parent's frames again
  // (exit() would flush every stdio stream).
  void abandon();

  const std::string& error() const { return error_; }
  // The fd of the open file (the engine keeps the program from closing it),
  // or -1.
  int fd() const;
  const Options& options() const { return options_; }
  uint64_t frames() const { return frames_; }

 private:
  explicit PcapWriter(Options options) : options_(std::move(options)) {}
  bool open_file(std::string* error);
  void close_file();
  bool rotate();

  Options options_;
  pcap* dead_ = nullptr;
  pcap_dumper* dumper_ = nullptr;
  std::string error_;
  uint64_t frames_ = 0;
};

}  // namespace veer::netdev
