#include "tests/unit/core/harness.h"

#include <algorithm>

namespace veer::test {

StackConfig make_config(MacAddr mac, Ipv4Addr ip) {
  StackConfig c;
  c.mac = mac;
  c.address = Ipv4Prefix{ip, 24};
  c.mtu = 1500;
  c.secret = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, static_cast<uint8_t>(ip.v)};
  return c;
}

std::optional<SeenSegment> decode_tcp(const Frame& frame) {
  auto eth = wire::parse_ethernet(frame);
  if (!eth || eth->header.ether_type != wire::kEtherTypeIpv4) return std::nullopt;
  wire::Ipv4Error ie{};
  auto ip = wire::parse_ipv4(eth->payload, &ie);
  if (!ip || ip->header.protocol != wire::kProtoTcp) return std::nullopt;
  wire::TcpError te{};
  auto seg = wire::parse_tcp(ip->payload, ip->header.src, ip->header.dst, &te);
  if (!seg) return std::nullopt;
  return SeenSegment{ip->header, seg->header, {seg->payload.begin(), seg->payload.end()}};
}

Frame build_tcp_frame(MacAddr src_mac, MacAddr dst_mac, Ipv4Addr src, Ipv4Addr dst,
                      const wire::TcpHeader& h, Bytes payload) {
  size_t tcp_len = wire::kTcpMinHeaderLen + wire::tcp_options_length(h.options) + payload.size();
  Frame f(wire::kEthHeaderLen + wire::kIpv4MinHeaderLen + tcp_len);
  wire::emit_ethernet({dst_mac, src_mac, wire::kEtherTypeIpv4}, f);
  wire::Ipv4Header ih;
  ih.protocol = wire::kProtoTcp;
  ih.src = src;
  ih.dst = dst;
  wire::emit_ipv4(ih, tcp_len, MutableBytes(f).subspan(wire::kEthHeaderLen));
  wire::emit_tcp(h, payload, src, dst,
                 MutableBytes(f).subspan(wire::kEthHeaderLen + wire::kIpv4MinHeaderLen));
  return f;
}

Frame build_arp_frame(MacAddr src_mac, MacAddr dst_mac, const wire::ArpPacket& p) {
  Frame f(wire::kEthHeaderLen + wire::kArpLen);
  wire::emit_ethernet({dst_mac, src_mac, wire::kEtherTypeArp}, f);
  wire::emit_arp(p, MutableBytes(f).subspan(wire::kEthHeaderLen));
  return f;
}

PeerHarness::PeerHarness(StackConfig config) : stack_(std::make_unique<Stack>(config, sink_)) {}

void PeerHarness::advance_to(Time t) {
  while (true) {
    auto d = stack_->next_deadline();
    if (!d || *d > t) break;
    now_ = std::max(now_, *d);
    stack_->poll(now_);
    handle_arp();
  }
  now_ = std::max(now_, t);
  stack_->poll(now_);
  handle_arp();
}

void PeerHarness::inject_frame(const Frame& f, bool checksum_trusted) {
  stack_->input(f, now_, checksum_trusted);
  handle_arp();
}

void PeerHarness::inject(const wire::TcpHeader& h, Bytes payload) {
  inject_frame(build_tcp_frame(kMacB, kMacA, kIpB, kIpA, h, payload));
}

void PeerHarness::handle_arp() {
  if (!answer_arp) return;
  // Answer ARP requests for the peer's address; they may release queued IP.
  for (bool again = true; again;) {
    again = false;
    for (auto it = sink_.frames.begin(); it != sink_.frames.end(); ++it) {
      auto eth = wire::parse_ethernet(*it);
      if (!eth || eth->header.ether_type != wire::kEtherTypeArp) continue;
      auto arp = wire::parse_arp(eth->payload);
      sink_.frames.erase(it);
      if (arp && arp->op == wire::kArpRequest && arp->target_ip == kIpB) {
        wire::ArpPacket reply{wire::kArpReply, kMacB, kIpB, arp->sender_mac, arp->sender_ip};
        stack_->input(build_arp_frame(kMacB, arp->sender_mac, reply), now_);
      }
      again = true;
      break;
    }
  }
}

std::optional<SeenSegment> PeerHarness::next_segment() {
  handle_arp();
  while (!sink_.frames.empty()) {
    Frame f = std::move(sink_.frames.front());
    sink_.frames.pop_front();
    if (auto s = decode_tcp(f)) return s;
  }
  return std::nullopt;
}

SimLink::SimLink(Options o) : opt_(o), rng_(o.seed) {
  side_a_.link = this, side_a_.to_b = true;
  side_b_.link = this, side_b_.to_b = false;
  auto ca = make_config(kMacA, kIpA), cb = make_config(kMacB, kIpB);
  for (auto* c : {&ca, &cb}) {
    c->tcp.congestion_control = {};
    o.congestion_control.copy(c->tcp.congestion_control.data(), 15);
  }
  std::pmr::memory_resource* m = o.memory ? o.memory : std::pmr::get_default_resource();
  a_ = std::make_unique<Stack>(ca, side_a_, m);
  b_ = std::make_unique<Stack>(cb, side_b_, m);
}

void SimLink::send(bool to_b, Bytes frame) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  if (u(rng_) < opt_.loss) return;
  int copies = u(rng_) < opt_.duplicate ? 2 : 1;
  Time depart = now_;
  if (opt_.bandwidth_bps) {
    Time& busy = busy_until_[to_b ? 1 : 0];
    depart = std::max(now_, busy) +
             std::chrono::nanoseconds(frame.size() * 8 * 1000000000ull / opt_.bandwidth_bps);
    busy = depart;
  }
  for (int i = 0; i < copies; ++i) {
    Time at = depart + opt_.delay;
    if (opt_.reorder > 0 && u(rng_) < opt_.reorder) {
      at += std::chrono::nanoseconds(
          static_cast<int64_t>(u(rng_) * static_cast<double>(opt_.reorder_delay.count())));
    }
    queue_.push_back(InFlight{at, to_b, Frame(frame.begin(), frame.end())});
  }
}

void SimLink::step(Time limit) {
  std::optional<Time> next;
  auto consider = [&](std::optional<Time> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  for (const auto& f : queue_) consider(f.at);
  consider(a_->next_deadline());
  consider(b_->next_deadline());
  if (!next || *next > limit) {
    now_ = std::max(now_, limit);
    return;
  }
  now_ = std::max(now_, *next);
  // Deliver every frame due now, in send order.
  auto due = std::stable_partition(queue_.begin(), queue_.end(),
                                   [&](const InFlight& f) { return f.at <= now_; });
  std::vector<InFlight> batch(std::make_move_iterator(queue_.begin()),
                              std::make_move_iterator(due));
  queue_.erase(queue_.begin(), due);
  for (auto& f : batch) {
    (f.to_b ? b_ : a_)->input(f.frame, now_);
    ++delivered_;
  }
  a_->poll(now_);
  b_->poll(now_);
}

void SimLink::run_until(Time t) {
  while (now_ < t) step(t);
  a_->poll(now_);
  b_->poll(now_);
}

}  // namespace veer::test
