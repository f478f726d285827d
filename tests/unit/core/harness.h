// Test harnesses for core/ in virtual time: a hand-driven peer that speaks
// raw frames to one stack, and a simulated link between two stacks.
#pragma once

#include <deque>
#include <memory>
#include <memory_resource>
#include <random>
#include <string>
#include <vector>

#include "core/stack.h"
#include "core/wire/arp.h"
#include "core/wire/ethernet.h"
#include "core/wire/ipv4.h"
#include "core/wire/tcp.h"

namespace veer::test {

using core::SocketId;
using core::Stack;
using core::StackConfig;
using Frame = std::vector<std::byte>;

inline constexpr MacAddr kMacA{{0x02, 0x00, 0x0a, 0x4d, 0x00, 0x02}};
inline constexpr MacAddr kMacB{{0x02, 0x00, 0x0a, 0x4d, 0x00, 0x01}};
inline constexpr Ipv4Addr kIpA = Ipv4Addr::of(10, 77, 0, 2);
inline constexpr Ipv4Addr kIpB = Ipv4Addr::of(10, 77, 0, 1);

StackConfig make_config(MacAddr mac, Ipv4Addr ip);

struct CapturingSink : core::FrameSink {
  std::deque<Frame> frames;
  void transmit(Bytes frame) override { frames.emplace_back(frame.begin(), frame.end()); }
};

// What a captured frame carried, decoded for assertions.
struct SeenSegment {
  wire::Ipv4Header ip;
  wire::TcpHeader tcp;
  std::vector<std::byte> payload;
  bool has(uint8_t f) const { return tcp.has(f); }
};

std::optional<SeenSegment> decode_tcp(const Frame& frame);
Frame build_tcp_frame(MacAddr src_mac, MacAddr dst_mac, Ipv4Addr src, Ipv4Addr dst,
                      const wire::TcpHeader& h, Bytes payload);
Frame build_arp_frame(MacAddr src_mac, MacAddr dst_mac, const wire::ArpPacket& p);

// One stack (veer at kIpA) and a scripted peer (kIpB) that the test drives
// segment by segment; the peer answers ARP by itself.
class PeerHarness {
 public:
  explicit PeerHarness(StackConfig config = make_config(kMacA, kIpA));
  Stack& stack() { return *stack_; }
  Time now() const { return now_; }

  // Advances virtual time to `t`, firing the stack's timers on the way.
  void advance_to(Time t);
  void advance(Time d) { advance_to(now_ + d); }
  // Injects a segment from the peer.
  void inject(const wire::TcpHeader& h, Bytes payload = {});
  // `checksum_trusted` as a device with checksum offload says it.
  void inject_frame(const Frame& f, bool checksum_trusted = false);
  // Next TCP segment the stack sent (ARP is answered and skipped), if any.
  std::optional<SeenSegment> next_segment();
  // All frames sent so far, unparsed (for ARP/ICMP tests).
  std::deque<Frame>& raw_frames() { return sink_.frames; }
  bool answer_arp = true;

 private:
  void handle_arp();
  CapturingSink sink_;
  std::unique_ptr<Stack> stack_;
  Time now_{};
};

// Two stacks joined by a simulated link with delay, seeded loss and
// duplication; a discrete-event loop delivers frames and fires timers.
class SimLink {
 public:
  struct Options {
    Time delay = std::chrono::milliseconds(1);
    double loss = 0.0;
    double duplicate = 0.0;
    // A frame is held back by up to `reorder_delay` extra with this
    // probability, so later frames overtake it.
    double reorder = 0.0;
    Time reorder_delay = std::chrono::milliseconds(2);
    // Bits per second each way, 0 for no limit: frames queue behind each
    // other for their serialisation time, like on a bottleneck link.
    uint64_t bandwidth_bps = 0;
    uint32_t seed = 1;
    std::string congestion_control = "cubic";
    // Where the stacks allocate (the default resource when null).
    std::pmr::memory_resource* memory = nullptr;
  };
  explicit SimLink(Options o);
  SimLink() : SimLink(Options{}) {}
  Stack& a() { return *a_; }
  Stack& b() { return *b_; }
  Time now() const { return now_; }
  // Runs events until `t` (inclusive).
  void run_until(Time t);
  void run_for(Time d) { run_until(now_ + d); }
  // Runs until `done()` is true or `limit` virtual time passed; returns done().
  template <typename F>
  bool run_until_true(F done, Time limit = std::chrono::seconds(600)) {
    Time end = now_ + limit;
    for (;;) {
      if (done()) return true;  // called once per step: it may have side effects
      if (now_ >= end) return false;
      step(end);
    }
  }
  size_t frames_delivered() const { return delivered_; }

 private:
  struct Side : core::FrameSink {
    SimLink* link;
    bool to_b;
    void transmit(Bytes frame) override { link->send(to_b, frame); }
  };
  struct InFlight {
    Time at;
    bool to_b;
    Frame frame;
  };
  void send(bool to_b, Bytes frame);
  void step(Time limit);
  Options opt_;
  std::mt19937 rng_;
  Side side_a_, side_b_;
  std::unique_ptr<Stack> a_, b_;
  std::vector<InFlight> queue_;
  Time now_{};
  size_t delivered_ = 0;
  Time busy_until_[2] = {};
};

// A TCP header as a scripted peer on `peer_port` sends it to `port`.
inline wire::TcpHeader peer_header(uint16_t peer_port, uint16_t port, uint8_t flags, uint32_t seq,
                                   uint32_t ack, uint16_t window) {
  wire::TcpHeader h;
  h.src_port = peer_port, h.dst_port = port, h.flags = flags, h.seq = seq, h.ack = ack;
  h.window = window;
  return h;
}

// The first n bytes of a shared 1 MiB zero buffer, to send.
inline Bytes zeros(size_t n) {
  static const std::vector<std::byte> buf(1 << 20);
  return Bytes(buf.data(), n);
}

}  // namespace veer::test
