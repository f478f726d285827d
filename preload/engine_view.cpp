// The engine's view for `veer ss` and `veer netstat` (preload/view_format.h): rewritten
// by the I/O thread at most every 20 ms while something changes, removed at
// exit.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <unordered_map>

#include "preload/engine.h"
#include "preload/log.h"
#include "preload/real.h"
#include "preload/view_format.h"

namespace veer::preload {
namespace {

std::string view_name() {
  return "/" + std::string(kViewPrefix) + std::to_string(getpid());
}

uint64_t key_of(core::SocketId s) {
  return (uint64_t(s.index) << 32) | s.generation;
}

}  // namespace

bool Engine::map_view_locked(uint32_t capacity) {
  std::string name = view_name();
  int fd = shm_open(name.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    log_once("view", "cannot publish the socket view for veer ss (shm_open %s: %s)", name.c_str(),
             std::strerror(errno));
    return false;
  }
  size_t bytes = sizeof(ViewHeader) + size_t(capacity) * sizeof(ViewSocket);
  void* p = MAP_FAILED;
  if (ftruncate(fd, static_cast<off_t>(bytes)) == 0)
    p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  real::close(fd);
  if (p == MAP_FAILED) {
    log_once("view", "cannot publish the socket view for veer ss: %s", std::strerror(errno));
    return false;
  }
  if (view_) munmap(view_, view_bytes_);
  view_ = p;
  view_bytes_ = bytes;
  auto* h = static_cast<ViewHeader*>(view_);
  std::memcpy(h->magic, kViewMagic, sizeof h->magic);
  h->pid = getpid();
  h->capacity = capacity;
  std::snprintf(h->program, sizeof h->program, "%s", program_.c_str());
  std::snprintf(h->address, sizeof h->address, "%s", stack_config_.address.to_string().c_str());
  return true;
}

void Engine::publish_view_locked(Time now) {
  if (view_broken_ || forked_child_ || !started_) return;
  if (!publishes_view_locked()) {
    // Another process sharing the stack publishes it (engine_fork.cpp).
    view_published_ = now;
    view_dirty_ = false;
    return;
  }
  std::unordered_map<uint64_t, int> fd_of;
  for (const auto& [fd, r] : fds_) {
    if (r->kind != FdEntry::Kind::Veer) continue;
    auto [it, fresh] = fd_of.emplace(key_of(r->sock), fd);
    if (!fresh) it->second = std::min(it->second, fd);
  }
  view_records_.clear();
  stack_->for_each_socket(
      [&](const core::Stack::SocketView& v) {
        ViewSocket s{};
        s.state = static_cast<uint8_t>(v.state);
        s.timer = static_cast<uint8_t>(v.timer.kind);
        s.orphan = v.orphan;
        s.local_addr = v.local.addr.v;
        s.remote_addr = v.remote.addr.v;
        s.local_port = v.local.port;
        s.remote_port = v.remote.port;
        s.recv_q = v.recv_q;
        s.send_q = v.send_q;
        s.fd = -1;
        if (v.socket) {
          auto it = fd_of.find(key_of(*v.socket));
          if (it != fd_of.end()) s.fd = it->second;
        }
        s.timer_count = v.timer.count;
        if (v.timer.kind != core::TcpTimerView::Kind::Off)
          s.timer_ms =
              std::chrono::duration_cast<std::chrono::milliseconds>(v.timer.at - now).count();
        if (v.info) {
          const core::TcpInfo& i = *v.info;
          s.has_info = 1;
          s.options = i.options;
          s.rtt_us = i.rtt_us;
          s.rttvar_us = i.rttvar_us;
          s.rto_us = i.rto_us;
          s.snd_mss = i.snd_mss;
          s.rcv_mss = i.rcv_mss;
          s.snd_cwnd = i.snd_cwnd;
          s.snd_ssthresh = i.snd_ssthresh;
          s.retrans = i.retrans;
          s.total_retrans = i.total_retrans;
          s.snd_wscale = i.snd_wscale;
          s.rcv_wscale = i.rcv_wscale;
          s.bytes_acked = i.bytes_acked;
          s.bytes_received = i.bytes_received;
          s.rcv_rtt_us = i.rcv_rtt_us;
          s.rcv_space = i.rcv_space;
          s.rcv_ssthresh = i.rcv_ssthresh;
          s.snd_wnd = i.snd_wnd;
        }
        view_records_.push_back(s);
      },
      now);
  uint32_t n = static_cast<uint32_t>(view_records_.size());
  auto* h = static_cast<ViewHeader*>(view_);
  if (!h || h->capacity < n) {
    if (!map_view_locked(std::max<uint32_t>(64, 2 * n))) {
      view_broken_ = true;
      return;
    }
    h = static_cast<ViewHeader*>(view_);
  }
  // Odd while writing. The increment is a read-modify-write with acquire
  // semantics, so the writes below cannot move before it (a fence would do
  // the same, but ThreadSanitizer does not support fences).
  std::atomic_ref<uint64_t> seq(h->seq);
  seq.fetch_add(1, std::memory_order_acq_rel);
  if (n > 0)
    std::memcpy(reinterpret_cast<char*>(h) + sizeof(ViewHeader), view_records_.data(),
                n * sizeof(ViewSocket));
  h->count = n;
  h->published_ns = now.count();
  h->counter_count = static_cast<uint32_t>(core::kCounterCount);
  // The device's counters (TSO batching) sit among the stack's, which core
  // leaves at zero.
  core::Counters all = stack_->counters();
  netdev::DeviceCounters d = device_ ? device_->counters() : netdev::DeviceCounters{};
  all.dev_tx_gso_frames = d.tx_gso_frames;
  all.dev_tx_gso_segments = d.tx_gso_segments;
  all.dev_rx_gso_frames = d.rx_gso_frames;
  all.dev_tx_batch_errors = d.tx_batch_errors;
  all.dev_tx_kicks = d.tx_kicks;
  all.dev_tx_multibuf_frames = d.tx_multibuf_frames;
  all.dev_rx_multibuf_frames = d.rx_multibuf_frames;
  all.dev_rx_bad_chains = d.rx_bad_chains;
  auto counters = core::counter_values(all);
  std::memcpy(h->counters, counters.data(), sizeof h->counters);
  seq.fetch_add(1, std::memory_order_release);
  view_published_ = now;
  view_dirty_ = false;
}

void Engine::remove_view_locked() {
  if (!view_) return;
  munmap(view_, view_bytes_);
  view_ = nullptr;
  shm_unlink(view_name().c_str());
}

}  // namespace veer::preload
