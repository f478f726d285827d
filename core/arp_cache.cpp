#include "core/arp_cache.h"

namespace veer::core {

ArpCache::ArpCache(const StackConfig& config, Counters& counters, std::pmr::memory_resource* memory)
    : config_(config), counters_(counters), memory_(memory), entries_(memory) {}

std::optional<MacAddr> ArpCache::lookup(Ipv4Addr ip, Time now) const {
  auto it = entries_.find(ip.v);
  if (it == entries_.end() || !it->second.resolved || it->second.expires <= now)
    return std::nullopt;
  return it->second.mac;
}

void ArpCache::learn(Ipv4Addr ip, MacAddr mac, Time now,
                     const std::function<void(MacAddr, Bytes)>& send) {
  auto [it, inserted] = entries_.try_emplace(ip.v, memory_);
  Entry& e = it->second;
  e.resolved = true;
  e.mac = mac;
  e.expires = now + config_.arp_entry_lifetime;
  e.requests_sent = 0;
  auto pending = std::move(e.pending);
  e.pending = std::pmr::vector<std::pmr::vector<std::byte>>(memory_);
  for (auto& packet : pending) send(mac, packet);
}

bool ArpCache::enqueue(Ipv4Addr ip, Bytes packet, Time now) {
  auto [it, inserted] = entries_.try_emplace(ip.v, memory_);
  Entry& e = it->second;
  bool start = inserted || e.resolved || e.requests_sent == 0;
  if (start) {
    // A new or expired entry: (re)start resolution.
    e.resolved = false;
    e.requests_sent = 1;
    e.next_request = now + config_.arp_retry_interval;
  }
  if (e.pending.size() >= kMaxPending) {
    // Linux drops the oldest queued packet (__neigh_event_send).
    e.pending.erase(e.pending.begin());
    ++counters_.arp_queue_dropped;
  }
  e.pending.emplace_back(packet.begin(), packet.end());  // pmr: allocator propagates
  return start;
}

void ArpCache::poll(Time now, const std::function<void(Ipv4Addr)>& send_request,
                    const std::function<void(Bytes)>& unreachable) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    if (e.resolved) {
      // Drop long-expired mappings so the table does not grow without bound.
      if (e.expires + config_.arp_entry_lifetime <= now) {
        it = entries_.erase(it);
        continue;
      }
    } else if (e.next_request <= now) {
      if (e.requests_sent >= config_.arp_max_requests) {
        ++counters_.arp_resolution_failed;
        counters_.arp_queue_dropped += e.pending.size();
        auto pending = std::move(e.pending);
        it = entries_.erase(it);
        if (unreachable) {
          for (const auto& packet : pending) unreachable(packet);
        }
        continue;
      }
      ++e.requests_sent;
      e.next_request = now + config_.arp_retry_interval;
      send_request(Ipv4Addr(it->first));
    }
    ++it;
  }
}

std::optional<Time> ArpCache::next_deadline() const {
  std::optional<Time> next;
  for (const auto& [ip, e] : entries_) {
    Time t = e.resolved ? e.expires + config_.arp_entry_lifetime : e.next_request;
    if (!next || t < *next) next = t;
  }
  return next;
}

}  // namespace veer::core
