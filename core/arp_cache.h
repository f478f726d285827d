// The neighbour table: IPv4 → MAC with expiry, and packets waiting for a
// resolution (RFC 826; timing after Linux's neighbour defaults).
#pragma once

#include <functional>
#include <memory_resource>
#include <unordered_map>
#include <vector>

#include "core/counters.h"
#include "core/settings.h"

namespace veer::core {

class ArpCache {
 public:
  ArpCache(const StackConfig& config, Counters& counters, std::pmr::memory_resource* memory);

  std::optional<MacAddr> lookup(Ipv4Addr ip, Time now) const;
  // Records a mapping (from a reply, or from a request addressed to us as
  // RFC 826 recommends). Packets that waited for it are handed to `send`.
  void learn(Ipv4Addr ip, MacAddr mac, Time now,
             const std::function<void(MacAddr, Bytes ip_packet)>& send);
  // Queues an IP packet for `ip` until it resolves. Returns true when a
  // request should go out now (the first packet for an unresolved address).
  bool enqueue(Ipv4Addr ip, Bytes ip_packet, Time now);
  // Re-sends requests that are due and gives up on addresses that did not
  // answer after the configured number of requests (their packets dropped).
  // `unreachable` gets each packet dropped because its address never
  // answered (Linux turns these into local ICMP host-unreachable errors).
  void poll(Time now, const std::function<void(Ipv4Addr)>& send_request,
            const std::function<void(Bytes ip_packet)>& unreachable = {});
  std::optional<Time> next_deadline() const;
  size_t size() const { return entries_.size(); }

  // At most this many packets wait per address (Linux: unres_qlen).
  static constexpr size_t kMaxPending = 16;

 private:
  struct Entry {
    explicit Entry(std::pmr::memory_resource* m) : pending(m) {}
    bool resolved = false;
    MacAddr mac;
    Time expires{};       // resolved: when the mapping goes stale
    Time next_request{};  // unresolved: when to ask again
    int requests_sent = 0;
    std::pmr::vector<std::pmr::vector<std::byte>> pending;
  };
  const StackConfig& config_;
  Counters& counters_;
  std::pmr::memory_resource* memory_;
  std::pmr::unordered_map<uint32_t, Entry> entries_;
};

}  // namespace veer::core
