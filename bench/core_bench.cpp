// Hot paths of core/: the Internet checksum, and a full-size in-order data
// segment going through Ethernet/IPv4/TCP input into a socket's buffer.
#include <benchmark/benchmark.h>

#include <vector>

#include "core/stack.h"
#include "core/wire/arp.h"
#include "core/wire/checksum.h"
#include "core/wire/ethernet.h"
#include "core/wire/ipv4.h"
#include "core/wire/tcp.h"

namespace {

using namespace veer;

void BM_Checksum(benchmark::State& state) {
  std::vector<std::byte> data(static_cast<size_t>(state.range(0)), std::byte{0x5a});
  for (auto _ : state) benchmark::DoNotOptimize(wire::checksum(data));
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Checksum)->Arg(64)->Arg(1460)->Arg(9000);

// Keeps the last frame the stack sent, so the benchmark can answer it.
struct LastFrameSink : core::FrameSink {
  std::vector<std::byte> last;
  size_t frames = 0;
  void transmit(Bytes f) override {
    last.assign(f.begin(), f.end());
    ++frames;
  }
};

constexpr MacAddr kMac{{0x02, 0, 0x0a, 0x4d, 0, 2}};
constexpr MacAddr kPeerMac{{0x02, 0, 0x0a, 0x4d, 0, 1}};
constexpr Ipv4Addr kIp = Ipv4Addr::of(10, 77, 0, 2);
constexpr Ipv4Addr kPeer = Ipv4Addr::of(10, 77, 0, 1);

std::vector<std::byte> tcp_frame(const wire::TcpHeader& h, size_t payload) {
  std::vector<std::byte> data(payload, std::byte{'d'});
  size_t tcp_len = wire::kTcpMinHeaderLen + wire::tcp_options_length(h.options) + payload;
  std::vector<std::byte> f(14 + 20 + tcp_len);
  wire::emit_ethernet({kMac, kPeerMac, wire::kEtherTypeIpv4}, f);
  wire::Ipv4Header ih;
  ih.protocol = wire::kProtoTcp, ih.src = kPeer, ih.dst = kIp;
  wire::emit_ipv4(ih, tcp_len, MutableBytes(f).subspan(14));
  wire::emit_tcp(h, data, kPeer, kIp, MutableBytes(f).subspan(34));
  return f;
}

std::optional<wire::TcpHeader> sent_tcp(const std::vector<std::byte>& f) {
  auto eth = wire::parse_ethernet(f);
  if (!eth || eth->header.ether_type != wire::kEtherTypeIpv4) return std::nullopt;
  wire::Ipv4Error ie{};
  auto ip = wire::parse_ipv4(eth->payload, &ie);
  if (!ip) return std::nullopt;
  wire::TcpError te{};
  auto seg = wire::parse_tcp(ip->payload, ip->header.src, ip->header.dst, &te);
  return seg ? std::optional(seg->header) : std::nullopt;
}

// One established connection; each iteration delivers the next full-size
// segment (parse, checksum, demux, TCP input, ACK out) and reads it back out,
// as a receiving application would.
void BM_TcpInputInOrderSegment(benchmark::State& state) {
  core::StackConfig cfg;
  cfg.mac = kMac;
  cfg.address = {kIp, 24};
  LastFrameSink sink;
  core::Stack stack(cfg, sink);
  Time now{};
  // The peer announces itself by ARP so the stack's replies leave at once.
  std::vector<std::byte> arp(14 + 28);
  wire::emit_ethernet({kMac, kPeerMac, wire::kEtherTypeArp}, arp);
  wire::emit_arp({wire::kArpRequest, kPeerMac, kPeer, MacAddr{}, kIp},
                 MutableBytes(arp).subspan(14));
  stack.input(arp, now);
  auto l = stack.tcp_socket().value();
  stack.bind(l, {Ipv4Addr{}, 5001});
  stack.listen(l, 8);
  wire::TcpHeader h;
  h.src_port = 40000, h.dst_port = 5001, h.seq = 1000, h.flags = wire::tcpflag::kSyn;
  h.window = 65535;
  h.options.mss = 1460;
  stack.input(tcp_frame(h, 0), now);
  auto synack = sent_tcp(sink.last);
  if (!synack) {
    state.SkipWithError("no SYN-ACK");
    return;
  }
  h.options = {};
  h.flags = wire::tcpflag::kAck;
  h.seq = 1001;
  h.ack = synack->seq + 1;
  stack.input(tcp_frame(h, 0), now);
  auto conn = stack.accept(l, nullptr);
  if (!conn.ok()) {
    state.SkipWithError("handshake failed");
    return;
  }
  h.flags = wire::tcpflag::kAck | wire::tcpflag::kPsh;
  std::vector<std::byte> buf(65536);
  constexpr size_t kMss = 1460;
  for (auto _ : state) {
    state.PauseTiming();
    auto f = tcp_frame(h, kMss);
    state.ResumeTiming();
    stack.input(f, now);
    benchmark::DoNotOptimize(stack.recv(conn.value(), buf, now));
    h.seq += kMss;
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(kMss));
  state.counters["acks_sent"] = static_cast<double>(sink.frames);
}
BENCHMARK(BM_TcpInputInOrderSegment);

}  // namespace
