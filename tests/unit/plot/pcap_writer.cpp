#include "tests/unit/plot/pcap_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>

#include "core/wire/ethernet.h"
#include "core/wire/ipv4.h"

namespace veer::test {

Frame tcp_frame(Endpoint src, Endpoint dst, wire::TcpHeader h, size_t payload_len) {
  h.src_port = src.port;
  h.dst_port = dst.port;
  Frame payload(payload_len, std::byte{'x'});
  size_t tcp_len = wire::kTcpMinHeaderLen + wire::tcp_options_length(h.options) + payload_len;
  Frame f(wire::kEthHeaderLen + wire::kIpv4MinHeaderLen + tcp_len);
  MutableBytes out(f);
  wire::emit_ethernet({.dst = MacAddr{{2, 0, 0, 0, 0, 1}},
                       .src = MacAddr{{2, 0, 0, 0, 0, 2}},
                       .ether_type = wire::kEtherTypeIpv4},
                      out);
  wire::Ipv4Header ih;
  ih.protocol = wire::kProtoTcp;
  ih.src = src.addr;
  ih.dst = dst.addr;
  wire::emit_ipv4(ih, tcp_len, out.subspan(wire::kEthHeaderLen));
  wire::emit_tcp(h, Bytes(payload), src.addr, dst.addr,
                 out.subspan(wire::kEthHeaderLen + wire::kIpv4MinHeaderLen));
  return f;
}

wire::TcpHeader header(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window) {
  wire::TcpHeader h;
  h.flags = flags, h.seq = seq, h.ack = ack, h.window = window;
  return h;
}

PcapWriter::PcapWriter(int link_type) {
  static std::atomic<int> n{0};
  path_ = ::testing::TempDir() + "veer-plot-test-" + std::to_string(getpid()) + "-" +
          std::to_string(n++) + ".pcap";
  pcap_ = pcap_open_dead(link_type, 262144);
  dumper_ = pcap_dump_open(pcap_, path_.c_str());
  EXPECT_NE(dumper_, nullptr) << pcap_geterr(pcap_);
}

PcapWriter::~PcapWriter() {
  finish();
  pcap_close(pcap_);
  ::unlink(path_.c_str());
}

void PcapWriter::add(uint64_t usec, const Frame& frame, uint32_t wire_len) {
  pcap_pkthdr h{};
  h.ts.tv_sec = static_cast<time_t>(1000 + usec / 1000000);
  h.ts.tv_usec = static_cast<suseconds_t>(usec % 1000000);
  h.caplen = static_cast<uint32_t>(frame.size());
  h.len = wire_len ? wire_len : h.caplen;
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, reinterpret_cast<const u_char*>(frame.data()));
}

const std::string& PcapWriter::finish() {
  if (dumper_) pcap_dump_close(dumper_);
  dumper_ = nullptr;
  return path_;
}

}  // namespace veer::test
