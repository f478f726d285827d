#include "tools/drill/stack_host.h"

#include "core/wire/arp.h"
#include "core/wire/ethernet.h"

namespace veer::drill {

struct StackHost::Sink : core::FrameSink {
  StackHost* host = nullptr;
  void transmit(Bytes frame) override {
    auto eth = wire::parse_ethernet(frame);
    if (!eth) return;
    if (eth->header.ether_type == wire::kEtherTypeArp) {
      auto req = wire::parse_arp(eth->payload);
      if (!req || req->op != wire::kArpRequest) return;
      // Everyone is at kPeerMac. The reply cannot go in while the stack is
      // still in this call; settle() injects it right after, at the same time.
      wire::ArpPacket reply{wire::kArpReply, kPeerMac, req->target_ip, req->sender_mac,
                            req->sender_ip};
      std::vector<std::byte> f(wire::kEthHeaderLen + wire::kArpLen);
      wire::emit_ethernet({req->sender_mac, kPeerMac, wire::kEtherTypeArp}, MutableBytes(f));
      wire::emit_arp(reply, MutableBytes(f).subspan(wire::kEthHeaderLen));
      host->arp_replies_.push_back(std::move(f));
      return;
    }
    host->sent_.push_back(
        SentFrame{host->now_, std::vector<std::byte>(frame.begin(), frame.end())});
  }
};

StackHost::StackHost(const core::StackConfig& config) : sink_(std::make_unique<Sink>()) {
  sink_->host = this;
  stack_ = std::make_unique<core::Stack>(config, *sink_);
}

StackHost::~StackHost() = default;

void StackHost::set_now(Time t) {
  if (t > now_) now_ = t;
}

void StackHost::poll_at(Time t) {
  set_now(t);
  stack_->poll(now_);
  settle();
}

void StackHost::inject(const std::vector<std::byte>& frame) {
  stack_->input(Bytes(frame), now_);
  settle();
}

void StackHost::settle() {
  // An ARP reply can release parked packets, which cannot trigger new ARP
  // requests for the same address; a few rounds always suffice.
  for (int round = 0; round < 8 && !arp_replies_.empty(); ++round) {
    auto replies = std::move(arp_replies_);
    arp_replies_.clear();
    for (const auto& r : replies) stack_->input(Bytes(r), now_);
  }
}

}  // namespace veer::drill
