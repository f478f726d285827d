#include "preload/engine.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/tcp/connection.h"
#include "netdev/tap_device.h"
#include "netdev/xdp_device.h"
#include "preload/config_load.h"
#include "preload/log.h"
#include "preload/real.h"

namespace veer::preload {
namespace {

int fail(int err) {
  errno = err;
  return -1;
}

// Makes visible, once per kind, what veer could not do the way Linux would.
void report(const Unsupported& u) {
  if (!u) return;
  if (u.message) {
    log_once(u.key, "%s", u.message);
    return;
  }
  const char* call = u.get ? "getsockopt" : "setsockopt";
  char key[48];
  std::snprintf(key, sizeof key, "%s-%d-%d", call, u.level, u.name);
  log_once(key, "%s(level %d, option %d) is not supported by veer yet: ENOPROTOOPT", call, u.level,
           u.name);
}

// What libc returns for a finished call: the value, or -1 with errno.
long finish(const CallResult& r) {
  report(r.unsupported);
  if (r.err) return fail(r.err);
  return r.ret;
}

// TCP_DEFER_ACCEPT is kept as a number of SYN-ACK retransmissions and read
// back as the seconds they span (secs_to_retrans()/retrans_to_secs(), with
// TCP_TIMEOUT_INIT 1 s and TCP_RTO_MAX 120 s).
int defer_accept_rounded(int secs) {
  if (secs <= 0) return 0;
  // secs_to_retrans(): rounds until the cumulated timeouts reach secs.
  int retrans = 1;
  for (int timeout = 1, period = 1; secs > period && retrans < 255; ++retrans) {
    timeout = std::min(timeout * 2, 120);
    period += timeout;
  }
  // retrans_to_secs(): the time those rounds span.
  int timeout = 1, period = 1;
  while (--retrans) {
    timeout = std::min(timeout * 2, 120);
    period += timeout;
  }
  return period;
}

// SO_RCVTIMEO/SO_SNDTIMEO as sock_set_timeout() reads them.
int read_timeout(const void* val, socklen_t len, Time& out) {
  if (!val || len < static_cast<socklen_t>(sizeof(timeval))) return EINVAL;
  timeval tv;
  std::memcpy(&tv, val, sizeof tv);
  if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return EDOM;
  if (tv.tv_sec < 0) {
    out = Time(1);  // sock_set_timeout(): a negative time means "don't wait"
    return 0;
  }
  out = std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
  return 0;
}

int write_timeout(Time t, void* val, socklen_t* len) {
  if (!val || !len) return EFAULT;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t).count();
  timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  socklen_t n = std::min<socklen_t>(*len, sizeof tv);
  std::memcpy(val, &tv, n);
  *len = n;
  return 0;
}

constexpr std::array<std::pair<int, int>, 5> kKeptOptions = {{{SOL_SOCKET, SO_REUSEPORT},
                                                              {SOL_SOCKET, SO_RCVLOWAT},
                                                              {IPPROTO_TCP, TCP_QUICKACK},
                                                              {IPPROTO_TCP, TCP_DEFER_ACCEPT},
                                                              {IPPROTO_IP, IP_TOS}}};

int kept_default(int level, int name) {
  if (level == SOL_SOCKET && name == SO_RCVLOWAT) return 1;
  if (level == IPPROTO_TCP && name == TCP_QUICKACK) return 1;
  return 0;
}

// Stores one of the kept options the way Linux normalises it; false if
// (level, name) is not one of them.
bool keep_option(FdEntry& e, int level, int name, int v, const char** note) {
  auto is = [&](int l, int n) { return level == l && name == n; };
  if (is(SOL_SOCKET, SO_REUSEPORT)) {
    v = v != 0;
    *note = "SO_REUSEPORT is recorded, but veer does not yet let several listeners share a port";
  } else if (is(SOL_SOCKET, SO_RCVLOWAT)) {
    if (v < 0) v = INT_MAX;  // sk_setsockopt(): negative means "as much as fits"
    if (v == 0) v = 1;
    *note = v == 1 ? nullptr : "SO_RCVLOWAT is recorded, but reads and poll do not wait for it yet";
  } else if (is(IPPROTO_TCP, TCP_QUICKACK)) {
    v = v != 0;
    *note = nullptr;  // a hint: veer's delayed ACKs already quick-ACK at the start
  } else if (is(IPPROTO_TCP, TCP_DEFER_ACCEPT)) {
    v = defer_accept_rounded(v);
    *note = v ? "TCP_DEFER_ACCEPT is recorded, but accept() does not wait for data yet" : nullptr;
  } else if (is(IPPROTO_IP, IP_TOS)) {
    v &= ~3;  // do_ip_setsockopt(): TCP keeps the ECN bits its own
    *note = v ? "IP_TOS is recorded, but veer's packets do not carry it yet" : nullptr;
  } else {
    return false;
  }
  e.kept[{level, name}] = v;
  return true;
}

}  // namespace

// Frames from the stack go straight to the device, from whichever thread
// holds the engine lock.
struct Engine::DeviceSink : core::FrameSink {
  netdev::Device* device = nullptr;
  Engine* engine = nullptr;
  void transmit(Bytes frame) override {
    if (engine->capture_) engine->capture_frame_locked(frame);
    int r = device->transmit(frame);
    if (r < 0 && r != -EAGAIN) {
      log_once("device-transmit", "sending a frame on %s failed: %s (further failures not logged)",
               device->name().c_str(), std::strerror(-r));
    }
  }
};

// VEER_LOG=debug: each state change of each connection, with its 4-tuple.
struct Engine::StateLog : core::TcpStateObserver {
  void state_changed(const core::FourTuple& t, core::TcpState from, core::TcpState to) override {
    std::string local = t.local.to_string(), remote = t.remote.to_string();
    std::string_view a = core::kernel_state_name(from), b = core::kernel_state_name(to);
    log_write(LogLevel::Debug, "tcp %s > %s %.*s -> %.*s", local.c_str(), remote.c_str(),
              static_cast<int>(a.size()), a.data(), static_cast<int>(b.size()), b.data());
  }
};

Engine& Engine::get() {
  // Never destroyed: exit handlers and other threads may still use it.
  static Engine* engine = new Engine();
  return *engine;
}

Engine::Engine() {
  // fork(): the lock is taken across it, and the child shares the stack
  // (engine_fork.cpp).
  pthread_atfork([] { Engine::get().fork_prepare(); }, [] { Engine::get().fork_parent(); },
                 [] { Engine::get().fork_child(); });
  std::vector<std::string> sources;
  if (auto err = load_config(config_, &sources)) {
    std::string msg = "veer: " + err->message + "\n";
    (void)real::write(2, msg.data(), msg.size());
    _exit(2);
  }
  if (const std::string& file = config_.get_text("log_file"); !file.empty()) {
    log_fd_ = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (log_fd_ < 0) log_fd_ = 2;
  }
  log_configure(log_level_from(config_.get_text("log")), log_fd_);
  init_arena();
  if (log_enabled(LogLevel::Info)) {
    std::string from = "defaults";
    for (const auto& s : sources) from += ", " + s;
    std::string changed;
    for (const auto& s : config_.non_default_summary()) changed += " " + s;
    log_write(LogLevel::Info, "config from %s; non-default:%s", from.c_str(),
              changed.empty() ? " none" : changed.c_str());
  }
  stack_config_ = config_.stack_config();
  if (FILE* f = std::fopen("/proc/self/comm", "re")) {
    char comm[64] = {};
    if (std::fgets(comm, sizeof comm, f)) program_.assign(comm, strcspn(comm, "\n"));
    std::fclose(f);
  }
  routes_ = config_.routes();
  if (!routes_.empty() && !stack_config_.gateway)
    log_write(LogLevel::Warn, "routes are set but gateway is none: they are ignored");
  if (getrandom(stack_config_.secret.data(), stack_config_.secret.size(), 0) !=
      static_cast<ssize_t>(stack_config_.secret.size())) {
    // Unpredictable ISNs matter (RFC 6528); fall back to the clock and pid.
    uint64_t t = static_cast<uint64_t>(now().count()) ^ (uint64_t(getpid()) << 32);
    std::memcpy(stack_config_.secret.data(), &t, sizeof t);
  }
}

Time Engine::now() const {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

FdEntry* Engine::find(int fd) {
  auto it = fds_.find(fd);
  return it == fds_.end() ? nullptr : it->second.get();
}

FdRef Engine::ref(int fd) {
  auto it = fds_.find(fd);
  return it == fds_.end() ? nullptr : it->second;
}

void Engine::set_track(int fd, Track t) {
  if (fd >= 0 && fd < kMaxFds) tracked_[fd].store(t, std::memory_order_release);
}

bool Engine::serves(Ipv4Addr addr) const {
  // Veer serves its own subnet and the networks the `routes` knob sends
  // through its gateway; loopback and everything else stay with the kernel.
  if (addr.is_loopback()) return false;
  if (stack_config_.address.contains(addr)) return true;
  if (!stack_config_.gateway) return false;
  return std::any_of(routes_.begin(), routes_.end(),
                     [&](const Ipv4Prefix& p) { return p.contains(addr); });
}

void Engine::on_tcp_socket(int fd, bool nonblock) {
  if (fd >= kMaxFds) {
    log_once("fd-too-high", "fd %d is beyond the %d fds veer tracks: it stays a kernel socket", fd,
             kMaxFds);
    return;
  }
  std::lock_guard<EngineMutex> lock(mu_);
  auto entry = std::make_shared<FdEntry>();
  entry->nonblock = nonblock;
  entry->fd_refs = 1;
  fds_[fd] = std::move(entry);
  set_track(fd, kPending);
}

// Without a device no socket can reach veer's network: every call that needs
// it fails with ENETDOWN, and the log says why, once.
std::unique_ptr<netdev::Device> Engine::open_device_locked() {
  std::string name = config_.device_name();
  std::string err;
  if (config_.device_is_xdp()) {
    netdev::XdpOptions options;
    options.ifname = name;
    options.queue = static_cast<uint32_t>(config_.device_queue());
    options.frames = static_cast<uint32_t>(config_.get_int("xdp_frames"));
    options.ring_size = static_cast<uint32_t>(config_.get_int("xdp_ring_size"));
    options.multi_buffer = config_.get_int("xdp_multi_buffer") != 0;
    options.address = stack_config_.address.addr;
    auto xdp = netdev::XdpDevice::open(options, &err);
    if (!xdp) {
      log_write(LogLevel::Error, "cannot use AF_XDP on %s queue %u: %s", name.c_str(),
                options.queue, err.c_str());
      return nullptr;
    }
    if (!xdp->single_buffer_reason().empty())
      log_write(LogLevel::Warn, "AF_XDP on %s without multi-buffer (MTU capped at %u): %s",
                name.c_str(), netdev::kMaxXdpMtu, xdp->single_buffer_reason().c_str());
    VEER_LOG(Info, "AF_XDP on %s queue %u, %s mode, copy, %s, MTU cap %u", name.c_str(),
             options.queue, xdp->mode_name(),
             xdp->multi_buffer() ? "multi-buffer" : "single-buffer", xdp->mtu());
    return xdp;
  }
  bool offload = config_.get_int("tap_offload") != 0;
  bool uring = config_.get_int("tap_io_uring") != 0;
  auto tap = netdev::TapDevice::open(name, offload, uring, &err);
  if (!tap) {
    log_write(LogLevel::Error, "cannot use TAP device %s: %s%s", name.c_str(), err.c_str(),
              err.find("busy") == std::string::npos ? " (does it exist? `veer net up` makes it)"
                                                    : " (one veer process per TAP for now)");
    return nullptr;
  }
  if (offload && !tap->offload())
    log_write(LogLevel::Warn, "TAP offloads on %s refused (%s): running without them", name.c_str(),
              tap->offload_refused().c_str());
  if (uring && !tap->io_uring())
    log_write(LogLevel::Warn, "io_uring on %s refused (%s): one read()/write() per frame",
              name.c_str(), tap->io_uring_refused().c_str());
  return tap;
}

int Engine::start_locked() {
  if (forked_child_) {
    log_once("fork-start",
             "a forked child cannot open veer's device while its parent runs the stack: new veer "
             "sockets here fail with ENETDOWN (sharing across fork is not built yet)");
    return ENETDOWN;
  }
  if (started_) return 0;
  if (start_error_) return start_error_;
  std::unique_ptr<netdev::Device> device = open_device_locked();
  if (!device) {
    start_error_ = ENETDOWN;
    return start_error_;
  }
  stack_config_.mtu = static_cast<uint16_t>(std::min<int>(config_.get_int("mtu"), device->mtu()));
  read_busy_poll_knobs_locked();
  device_ = std::move(device);
  mu_.device = device_.get();
  sink_ = std::make_unique<DeviceSink>();
  sink_->device = device_.get();
  sink_->engine = this;
  if (std::string err; !configure_capture_locked(config_, &err))
    log_write(LogLevel::Error, "capture: %s (the program runs without it)", err.c_str());
  if (arena_ && !claim_slot_locked()) {
    log_write(LogLevel::Error, "no free process slot in veer's shared memory");
    start_error_ = ENETDOWN;
    return start_error_;
  }
  // The stack and its buffers go in the shared arena, where forked children
  // find them.
  stack_ = std::make_unique<core::Stack>(
      stack_config_, *sink_,
      arena_ ? static_cast<std::pmr::memory_resource*>(arena_) : std::pmr::get_default_resource());
  // Installed only when it would print: otherwise transitions cost nothing.
  if (log_enabled(LogLevel::Debug)) {
    state_log_ = std::make_unique<StateLog>();
    stack_->set_state_observer(state_log_.get());
  }
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    start_error_ = errno;
    return start_error_;
  }
  set_track(wake_fd_, kInternal);
  for (int fd : device_->fds()) set_track(fd, kInternal);
  open_control_locked();
  owner_ = true;
  if (arena_) {
    arena_->pump_pid = getpid();
    arena_->pump_slot = slot_;
  }
  start_io_thread_locked();
  started_ = true;
  VEER_LOG(Info, "stack up on %s: %s, MAC %s, MTU %u", device_->name().c_str(),
           stack_config_.address.to_string().c_str(), stack_config_.mac.to_string().c_str(),
           stack_config_.mtu);
  return 0;
}

void Engine::io_loop() {
  // Signals belong to the program's threads, never to ours.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  thread_ready(threads_starting_);
  std::unique_lock<EngineMutex> lk(mu_);
  for (;;) {
    if (parked_) {
      // The process exits and another one runs the stack now.
      lk.unlock();
      for (;;) pause();
    }
    std::optional<Time> deadline = stack_->next_deadline();
    // A changed socket view is published at most every 20 ms: wake for it.
    if (view_dirty_) {
      Time at = view_published_ + kViewInterval;
      if (!deadline || at < *deadline) deadline = at;
    }
    // Sharing the stack: look for processes that died at least this often.
    if (arena_ && arena_->shared) {
      Time at = now() + kReclaimInterval;
      if (!deadline || at < *deadline) deadline = at;
    }
    set_io_sleep_locked(deadline);
    timespec ts{};
    timespec* timeout = nullptr;
    if (deadline) {
      Time wait = std::max(Time::zero(), *deadline - now());
      ts.tv_sec = static_cast<time_t>(wait.count() / 1000000000);
      ts.tv_nsec = static_cast<long>(wait.count() % 1000000000);
      timeout = &ts;
    }
    int control_fd = control_fd_;  // -1 (ignored by ppoll) once closed at exit
    lk.unlock();
    pollfd pfd[3] = {
        {device_->pollable_fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}, {control_fd, POLLIN, 0}};
    int n = real::ppoll(pfd, 3, timeout, nullptr);
    if (n > 0 && (pfd[1].revents & POLLIN)) {
      uint64_t v;
      (void)real::read(wake_fd_, &v, sizeof v);
    }
    lk.lock();
    set_io_sleep_locked(std::nullopt);
    if (parked_) continue;
    if (n > 0 && (pfd[2].revents & POLLIN)) serve_control_locked();
    pump_locked(now());
    reclaim_dead_locked(now());
  }
}

int Engine::pump_locked(Time t) {
  int frames = 0;
  for (int burst = 0; burst < 16; ++burst) {
    int got = device_->receive_burst_info(64, [&](Bytes frame, netdev::RxInfo info) {
      if (capture_) capture_frame_locked(frame);
      stack_->input(frame, t, info.checksum_trusted);
    });
    if (got <= 0) {
      if (got < 0)
        log_once("device-receive", "receiving on %s failed: %s", device_->name().c_str(),
                 std::strerror(-got));
      break;
    }
    frames += got;
  }
  if (frames > 0) ++fed_pumps_;
  stack_->poll(t);
  signal_urgent_locked();
  view_dirty_ = true;
  if (t - view_published_ >= kViewInterval) {
    publish_view_locked(t);
    // Readers of a capture see it whole up to the last 20 ms.
    flush_capture_locked();
  }
  notify_locked();
  return frames;
}

bool Engine::busy_spin_locked(std::unique_lock<EngineMutex>& lk, Time budget) {
  if (budget <= Time::zero() || !started_ || forked_child_) return false;
  Time end = now() + budget;
  uint64_t fed = fed_pumps_;
  for (;;) {
    Time t = now();
    // The I/O thread may have taken the frame while the lock was let go
    // (and notified waiters, which this caller is not yet).
    if (fed_pumps_ != fed) return true;
    if (pump_locked(t) > 0) return true;
    if (t >= end) return false;
    // Let the program's other threads (and the I/O thread) at the lock.
    lk.unlock();
    sched_yield();
    lk.lock();
  }
}

void Engine::signal_urgent_locked() {
  uint64_t marks = stack_->counters().tcp_urgent_marks;
  if (marks == urgent_marks_seen_) return;
  urgent_marks_seen_ = marks;
  for (const auto& [fd, e] : fds_) {
    if (e->kind != FdEntry::Kind::Veer) continue;
    uint32_t m = stack_->urgent_marks(e->sock);
    if (m == e->urgent_marks) continue;  // also a dup already handled
    e->urgent_marks = m;
    // The owner lives on the fd's open file (the eventfd standing in for
    // the socket, shared by its dups), where F_SETOWN put it.
    f_owner_ex owner{};
    if (real::fcntl(fd, F_GETOWN_EX, reinterpret_cast<long>(&owner)) != 0 || owner.pid == 0)
      continue;
    if (owner.type == F_OWNER_TID) {
      tgkill(getpid(), owner.pid, SIGURG);
    } else if (owner.type == F_OWNER_PGRP) {
      killpg(owner.pid, SIGURG);
    } else {
      kill(owner.pid, SIGURG);
    }
  }
}

void Engine::kick_locked() {
  if (!started_ || forked_child_) return;
  if (!owner_.load(std::memory_order_relaxed)) {
    if (arena_) kick_pump_locked();
    return;
  }
  if (!view_dirty_) {
    // A call changed a socket: the I/O thread publishes the view soon.
    view_dirty_ = true;
    uint64_t one = 1;
    (void)real::write(wake_fd_, &one, sizeof one);
    return;
  }
  std::optional<Time> d = stack_->next_deadline();
  std::optional<Time> sleeping = io_sleep_locked();
  if (d && (!sleeping || *d < *sleeping)) {
    set_io_sleep_locked(d);
    uint64_t one = 1;
    (void)real::write(wake_fd_, &one, sizeof one);
  }
}

int Engine::adopt_locked(int fd, FdEntry& e) {
  if (int err = start_locked()) return err;
  // What the kernel socket was told before it became veer's and veer must
  // keep: the timeouts (options veer carries are in e.options).
  for (auto [name, out] : {std::pair{SO_RCVTIMEO, &e.rcv_timeout}, {SO_SNDTIMEO, &e.snd_timeout}}) {
    timeval tv{};
    socklen_t len = sizeof tv;
    if (real::getsockopt(fd, SOL_SOCKET, name, &tv, &len) == 0)
      *out = std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
  }
  for (auto [level, name] : kKeptOptions) {
    int v = 0;
    socklen_t len = sizeof v;
    if (real::getsockopt(fd, level, name, &v, &len) == 0 && v != kept_default(level, name))
      e.kept[{level, name}] = v;
  }
  // O_NONBLOCK as the kernel socket has it, however it was set (fcntl,
  // ioctl FIONBIO, SOCK_NONBLOCK): nginx sets it on its listeners with
  // FIONBIO before bind().
  if (int fl = real::fcntl(fd, F_GETFL, 0); fl >= 0) e.nonblock = (fl & O_NONBLOCK) != 0;
  core::SocketId s = stack_->tcp_socket().value();
  hold_locked(s);
  for (const auto& [opt, value] : e.options) stack_->set_option(s, opt, value);
  if (!e.congestion.empty()) stack_->set_congestion_control(s, e.congestion);
  // Put an eventfd in place of the kernel socket at the same number (and at
  // every dup of it): the numbers stay reserved, and the kernel socket goes.
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) {
    int err = errno;
    release_locked(s);
    stack_->close(s, now());
    return err;
  }
  // F_SETOWN given to the kernel socket moves to its stand-in.
  f_owner_ex owner{};
  if (real::fcntl(fd, F_GETOWN_EX, reinterpret_cast<long>(&owner)) == 0 && owner.pid != 0)
    real::fcntl(efd, F_SETOWN_EX, reinterpret_cast<long>(&owner));
  std::vector<int> numbers;
  for (const auto& [n, r] : fds_)
    if (r.get() == &e) numbers.push_back(n);
  for (int n : numbers) {
    int fd_flags = real::fcntl(n, F_GETFD, 0);
    if (real::dup3(efd, n, (fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
      int err = errno;
      real::close(efd);
      release_locked(s);
      stack_->close(s, now());
      return err;
    }
  }
  real::close(efd);
  e.kind = FdEntry::Kind::Veer;
  e.sock = s;
  for (int n : numbers) {
    set_track(n, kVeer);
    // The kernel dropped the socket's epoll registrations with the socket;
    // the engine serves them from now on.
    for (auto& [epfd, set] : epolls_) {
      auto it = set->pending.find(n);
      if (it == set->pending.end()) continue;
      set->veer[n] = std::move(it->second);
      set->pending.erase(it);
    }
  }
  return 0;
}

void Engine::release_to_kernel_locked(int fd, const char* why) {
  VEER_LOG(Debug, "fd %d goes to the kernel: %s", fd, why);
  FdRef r = ref(fd);
  for (auto it = fds_.begin(); it != fds_.end();) {
    if (it->second != r) {
      ++it;
      continue;
    }
    set_track(it->first, kNone);
    for (auto& [epfd, set] : epolls_) set->pending.erase(it->first);
    it = fds_.erase(it);
  }
}

void Engine::forget_fd_locked(int fd) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return;
  FdRef r = it->second;
  fds_.erase(it);
  set_track(fd, kNone);
  if (--r->fd_refs > 0) return;
  // A forked child closing what it inherited: the parent still has it.
  if (r->kind == FdEntry::Kind::Inherited) return;
  // The last fd: the socket closes, and leaves every epoll set, as the
  // kernel releases a file and its epoll items together.
  for (auto& [epfd, set] : epolls_) {
    std::erase_if(set->veer, [&](const auto& kv) { return kv.second.sock == r; });
    set->pending.erase(fd);
  }
  // Another process still holding the socket keeps it open: only this
  // process's share goes (the kernel's fput() of a file a child also has).
  if (r->kind == FdEntry::Kind::Veer && release_locked(r->sock)) {
    calls().close(r->sock);
    kick_locked();
  }
}

// --- Socket calls --------------------------------------------------------------
//
// Each call below decides between the kernel and veer, and for a veer socket
// runs SocketCalls (preload/socket_calls.h) under the lock, waiting for the
// stack to move while an attempt would block.

SocketCalls Engine::calls() {
  return SocketCalls(*stack_, now());
}

int Engine::refuse_inherited(int fd) {
  log_once("fork-inherited",
           "fd %d is a veer socket inherited across fork(): veer does not share sockets between "
           "processes yet, so only close() works on it here (EOPNOTSUPP)",
           fd);
  return fail(EOPNOTSUPP);
}

namespace {

// When a blocking call with SO_RCVTIMEO/SO_SNDTIMEO must give up.
std::optional<Time> deadline_after(Time now, Time timeout) {
  if (timeout <= Time::zero()) return std::nullopt;
  return now + timeout;
}

}  // namespace

int Engine::bind(int fd, const sockaddr* addr, socklen_t len) {
  std::unique_lock<EngineMutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e) return lk.unlock(), real::bind(fd, addr, len);
  if (e->kind == FdEntry::Kind::Pending) {
    auto ep = to_endpoint(addr, len);
    // A malformed address: let the kernel socket give Linux's own errno.
    if (!ep) return lk.unlock(), real::bind(fd, addr, len);
    if (!ep->addr.is_any() && ep->addr != stack_config_.address.addr) {
      std::string why = "bind to " + ep->to_string() + " is not veer's address";
      release_to_kernel_locked(fd, why.c_str());
      lk.unlock();
      return real::bind(fd, addr, len);
    }
    if (int err = adopt_locked(fd, *e)) return fail(err);
    VEER_LOG(Debug, "fd %d is a veer socket (bind %s)", fd, ep->to_string().c_str());
  }
  if (e->kind == FdEntry::Kind::Inherited) return refuse_inherited(fd);
  return static_cast<int>(finish(calls().bind(e->sock, addr, len)));
}

int Engine::listen(int fd, int backlog) {
  std::unique_lock<EngineMutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e || e->kind == FdEntry::Kind::Pending) {
    // listen() without bind(): Linux picks a port on every address; veer
    // leaves such a socket to the kernel.
    if (e) release_to_kernel_locked(fd, "listen() without bind()");
    lk.unlock();
    return real::listen(fd, backlog);
  }
  if (e->kind == FdEntry::Kind::Inherited) return refuse_inherited(fd);
  return static_cast<int>(finish(calls().listen(e->sock, backlog)));
}

int Engine::accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  std::unique_lock<EngineMutex> lk(mu_);
  FdRef e = ref(fd);
  if (!e || e->kind == FdEntry::Kind::Pending)
    return lk.unlock(), real::accept4(fd, addr, len, flags);
  if (e->kind == FdEntry::Kind::Inherited) return refuse_inherited(fd);
  std::optional<Time> deadline = deadline_after(now(), e->rcv_timeout);
  for (;;) {
    CallResult r = calls().accept4(e->sock, flags, e->nonblock);
    if (r.failed()) return static_cast<int>(finish(r));
    if (r.done()) {
      int nfd = eventfd(0, EFD_NONBLOCK | ((flags & SOCK_CLOEXEC) ? EFD_CLOEXEC : 0));
      if (nfd < 0 || nfd >= kMaxFds) {
        int err = nfd < 0 ? errno : EMFILE;
        if (nfd >= 0) real::close(nfd);
        stack_->close(r.accepted, now());  // never held by anyone
        kick_locked();
        return fail(err);
      }
      auto entry = std::make_shared<FdEntry>();
      entry->kind = FdEntry::Kind::Veer;
      entry->nonblock = (flags & SOCK_NONBLOCK) != 0;
      entry->sock = r.accepted;
      hold_locked(r.accepted);
      entry->urgent_marks = stack_->urgent_marks(r.accepted);  // before any owner
      entry->fd_refs = 1;
      fds_[nfd] = std::move(entry);
      set_track(nfd, kVeer);
      fill_sockaddr(r.peer, addr, len);
      VEER_LOG(Debug, "fd %d accepted %s on fd %d", nfd, r.peer.to_string().c_str(), fd);
      return nfd;
    }
    if (int err = wait_locked(lk, deadline)) return fail(err == ETIMEDOUT ? EAGAIN : err);
    if (ref(fd) != e) return fail(EBADF);
  }
}

int Engine::connect(int fd, const sockaddr* addr, socklen_t len) {
  std::unique_lock<EngineMutex> lk(mu_);
  FdRef e = ref(fd);
  if (!e) return lk.unlock(), real::connect(fd, addr, len);
  if (e->kind == FdEntry::Kind::Pending) {
    auto ep = to_endpoint(addr, len);
    if (!ep) return lk.unlock(), real::connect(fd, addr, len);
    if (!serves(ep->addr)) {
      std::string why = "connect to " + ep->to_string() + " is outside " +
                        stack_config_.address.to_string() +
                        (routes_.empty() ? "" : " and the routes knob");
      release_to_kernel_locked(fd, why.c_str());
      lk.unlock();
      return real::connect(fd, addr, len);
    }
    if (int err = adopt_locked(fd, *e)) return fail(err);
    VEER_LOG(Debug, "fd %d is a veer socket (connect %s%s)", fd, ep->to_string().c_str(),
             stack_config_.address.contains(ep->addr) ? "" : ", through the gateway: routes knob");
  }
  if (e->kind == FdEntry::Kind::Inherited) return refuse_inherited(fd);
  std::optional<Time> deadline = deadline_after(now(), e->snd_timeout);
  CallProgress progress;
  CallResult r = calls().connect(e->sock, addr, len, e->nonblock, progress);
  kick_locked();
  while (r.status == CallStatus::WouldBlock) {
    // Interrupted or timed out, the handshake goes on (inet_wait_for_connect):
    // EINTR, or EINPROGRESS after SO_SNDTIMEO.
    if (int err = wait_locked(lk, deadline)) return fail(err == ETIMEDOUT ? EINPROGRESS : err);
    if (ref(fd) != e) return fail(EBADF);
    r = calls().connect(e->sock, addr, len, e->nonblock, progress);
  }
  return static_cast<int>(finish(r));
}

ssize_t Engine::recv(int fd, void* buf, size_t n, int flags) {
  std::unique_lock<EngineMutex> lk(mu_);
  FdRef e = ref(fd);
  if (!e || e->kind == FdEntry::Kind::Pending) {
    lk.unlock();
    return real::recvfrom(fd, buf, n, flags, nullptr, nullptr);
  }
  if (e->kind == FdEntry::Kind::Inherited) return refuse_inherited(fd);
  bool nonblock = e->nonblock;  // as at the call's start, like the kernel's timeo
  std::optional<Time> deadline = deadline_after(now(), e->rcv_timeout);
  CallProgress progress;
  for (;;) {
    CallResult r = calls().recv(e->sock, buf, n, flags, nonblock, progress);
    if (r.done()) {
      kick_locked();
      return finish(r);
    }
    // tcp_recvmsg(): a timeout or a signal ends the call with what it has.
    int err = wait_locked(lk, deadline);
    if (err == 0 && ref(fd) != e) err = EBADF;
    if (err) {
      kick_locked();
      if (progress.bytes) return static_cast<ssize_t>(progress.bytes);
      return fail(err == ETIMEDOUT ? EAGAIN : err);
    }
  }
}

ssize_t Engine::send(int fd, const void* buf, size_t n, int flags) {
  std::unique_lock<EngineMutex> lk(mu_);
  FdRef e = ref(fd);
  if (!e || e->kind == FdEntry::Kind::Pending) {
    lk.unlock();
    return real::sendto(fd, buf, n, flags, nullptr, 0);
  }
  if (e->kind == FdEntry::Kind::Inherited) return refuse_inherited(fd);
  bool nonblock = e->nonblock;
  std::optional<Time> deadline = deadline_after(now(), e->snd_timeout);
  CallProgress progress;
  CallResult r = calls().send(e->sock, buf, n, flags, nonblock, progress);
  while (r.status == CallStatus::WouldBlock) {
    kick_locked();
    int err = wait_locked(lk, deadline);
    if (err == 0 && ref(fd) != e) err = EBADF;
    if (err) {
      kick_locked();
      if (progress.bytes) return static_cast<ssize_t>(progress.bytes);
      return fail(err == ETIMEDOUT ? EAGAIN : err);
    }
    r = calls().send(e->sock, buf, n, flags, nonblock, progress);
  }
  kick_locked();
  lk.unlock();
  if (r.raise_sigpipe) raise(SIGPIPE);
  return finish(r);
}

// tcp_recv_urg(): an urgent byte read says MSG_OOB; into no room, MSG_TRUNC.
static int oob_msg_flags(int flags, size_t room) {
  if (!(flags & MSG_OOB)) return 0;
  return room ? MSG_OOB : MSG_OOB | MSG_TRUNC;
}

ssize_t Engine::recvmsg(int fd, msghdr* msg, int flags) {
  size_t total = 0;
  for (size_t i = 0; i < msg->msg_iovlen; ++i) total += msg->msg_iov[i].iov_len;
  if (msg->msg_iovlen == 1) {
    ssize_t n = recv(fd, msg->msg_iov[0].iov_base, total, flags);
    if (n >= 0) {
      msg->msg_namelen = msg->msg_controllen = 0;
      msg->msg_flags = oob_msg_flags(flags, total);
    }
    return n;
  }
  std::vector<std::byte> tmp(total);
  ssize_t n = recv(fd, tmp.data(), total, flags);
  if (n < 0) return n;
  size_t off = 0;
  for (size_t i = 0; i < msg->msg_iovlen && off < size_t(n); ++i) {
    size_t k = std::min(msg->msg_iov[i].iov_len, size_t(n) - off);
    std::memcpy(msg->msg_iov[i].iov_base, tmp.data() + off, k);
    off += k;
  }
  msg->msg_namelen = 0;  // a connected TCP socket reports no source address
  msg->msg_controllen = 0;
  msg->msg_flags = oob_msg_flags(flags, total);
  return n;
}

ssize_t Engine::sendmsg(int fd, const msghdr* msg, int flags) {
  if (msg->msg_iovlen == 1)
    return send(fd, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len, flags);
  std::vector<std::byte> tmp;
  for (size_t i = 0; i < msg->msg_iovlen; ++i) {
    const auto* p = static_cast<const std::byte*>(msg->msg_iov[i].iov_base);
    tmp.insert(tmp.end(), p, p + msg->msg_iov[i].iov_len);
  }
  return send(fd, tmp.data(), tmp.size(), flags);
}

int Engine::shutdown(int fd, int how) {
  std::unique_lock<EngineMutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e || e->kind == FdEntry::Kind::Pending) return lk.unlock(), real::shutdown(fd, how);
  if (e->kind == FdEntry::Kind::Inherited) return refuse_inherited(fd);
  CallResult r = calls().shutdown(e->sock, how);
  kick_locked();
  notify_locked();  // readers blocked on this socket see EOF now
  return static_cast<int>(finish(r));
}

int Engine::close(int fd) {
  std::unique_lock<EngineMutex> lk(mu_);
  switch (track_of(fd)) {
    case kInternal:
      // A daemon closing every fd it did not open: veer's own must stay.
      log_once("close-internal",
               "the program closed fd %d, which veer uses itself: left open (reported as "
               "closed)",
               fd);
      return 0;
    case kEpoll:
      drop_epoll_fd_locked(fd);
      break;
    default: {
      // SO_LINGER with a time: closing the last fd waits until the FIN is
      // acknowledged or the time is up (tcp_close(), sk_stream_wait_close()).
      std::optional<Time> deadline;
      std::optional<Endpoint> local, remote;
      if (FdEntry* e = find(fd); e && e->fd_refs == 1 && e->kind == FdEntry::Kind::Veer &&
                                 !forked_child_ && sole_holder_locked(e->sock)) {
        auto linger = stack_->get_option(e->sock, core::SockOpt::Linger);
        int secs = linger ? linger.value() : -1;
        local = stack_->local_endpoint(e->sock);
        remote = stack_->remote_endpoint(e->sock);
        if (secs > 0 && local && remote) deadline = now() + std::chrono::seconds(secs);
      }
      forget_fd_locked(fd);
      notify_locked();  // threads blocked on this fd give up with EBADF
      if (deadline) {
        using S = core::TcpState;
        auto sending = [&] {
          auto st = stack_->connection_state(*local, *remote);
          return st == S::FinWait1 || st == S::Closing || st == S::LastAck;
        };
        // A signal or the time ends the wait; close() still succeeds.
        while (sending() && wait_locked(lk, deadline) == 0) {
        }
      }
      break;
    }
  }
  lk.unlock();
  return real::close(fd);
}

int Engine::getsockname(int fd, sockaddr* addr, socklen_t* len) {
  std::unique_lock<EngineMutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e || e->kind == FdEntry::Kind::Pending) return lk.unlock(), real::getsockname(fd, addr, len);
  if (e->kind == FdEntry::Kind::Inherited) return refuse_inherited(fd);
  return static_cast<int>(finish(calls().getsockname(e->sock, addr, len)));
}

int Engine::getpeername(int fd, sockaddr* addr, socklen_t* len) {
  std::unique_lock<EngineMutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e || e->kind == FdEntry::Kind::Pending) return lk.unlock(), real::getpeername(fd, addr, len);
  if (e->kind == FdEntry::Kind::Inherited) return refuse_inherited(fd);
  return static_cast<int>(finish(calls().getpeername(e->sock, addr, len)));
}

int Engine::setsockopt(int fd, int level, int name, const void* val, socklen_t len) {
  std::unique_lock<EngineMutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e) return lk.unlock(), real::setsockopt(fd, level, name, val, len);
  if (e->kind == FdEntry::Kind::Pending) {
    // Still a kernel socket: the kernel checks and keeps the option, and
    // veer remembers the ones it will carry over.
    int r = real::setsockopt(fd, level, name, val, len);
    std::optional<core::SockOpt> opt = stack_option(level, name);
    if (r == 0 && opt && val && len >= static_cast<socklen_t>(sizeof(int))) {
      int v;
      std::memcpy(&v, val, sizeof v);
      e->options.emplace_back(*opt, v);
    } else if (r == 0 && level == SOL_SOCKET && name == SO_LINGER && val &&
               len >= static_cast<socklen_t>(sizeof(linger))) {
      linger lg;
      std::memcpy(&lg, val, sizeof lg);
      e->options.emplace_back(core::SockOpt::Linger, lg.l_onoff ? std::max(lg.l_linger, 0) : -1);
    } else if (r == 0 && level == IPPROTO_TCP && name == TCP_CONGESTION && val && len > 0) {
      e->congestion.assign(static_cast<const char*>(val),
                           strnlen(static_cast<const char*>(val), static_cast<size_t>(len)));
    }
    return r;
  }
  if (e->kind == FdEntry::Kind::Inherited) return refuse_inherited(fd);
  if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
    // Blocking is the engine's business: the stack never sees these.
    Time t{};
    if (int err = read_timeout(val, len, t)) return fail(err);
    (name == SO_RCVTIMEO ? e->rcv_timeout : e->snd_timeout) = t;
    return 0;
  }
  if (val && len >= static_cast<socklen_t>(sizeof(int))) {
    int v;
    std::memcpy(&v, val, sizeof v);
    const char* note = nullptr;
    if (keep_option(*e, level, name, v, &note)) {
      if (note) log_once(note, "%s", note);
      return 0;
    }
  }
  CallResult r = calls().setsockopt(e->sock, level, name, val, len);
  kick_locked();
  return static_cast<int>(finish(r));
}

int Engine::getsockopt(int fd, int level, int name, void* val, socklen_t* len) {
  std::unique_lock<EngineMutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e || e->kind == FdEntry::Kind::Pending)
    return lk.unlock(), real::getsockopt(fd, level, name, val, len);
  if (e->kind == FdEntry::Kind::Inherited) return refuse_inherited(fd);
  if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
    Time t = name == SO_RCVTIMEO ? e->rcv_timeout : e->snd_timeout;
    if (int err = write_timeout(t, val, len)) return fail(err);
    return 0;
  }
  for (auto [l, n] : kKeptOptions) {
    if (l != level || n != name) continue;
    if (!val || !len) return fail(EFAULT);
    auto it = e->kept.find({level, name});
    int v = it == e->kept.end() ? kept_default(level, name) : it->second;
    socklen_t out = std::min<socklen_t>(*len, sizeof v);
    std::memcpy(val, &v, out);
    *len = out;
    return 0;
  }
  return static_cast<int>(finish(calls().getsockopt(e->sock, level, name, val, len)));
}

int Engine::fcntl(int fd, int cmd, long arg) {
  if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
    if (arg < 0) return fail(EINVAL);
    return dup(fd, static_cast<int>(arg), cmd == F_DUPFD_CLOEXEC);
  }
  std::unique_lock<EngineMutex> lk(mu_);
  FdEntry* e = find(fd);
  if (e && cmd == F_SETFL) e->nonblock = (arg & O_NONBLOCK) != 0;
  if (!e || e->kind == FdEntry::Kind::Pending) return lk.unlock(), real::fcntl(fd, cmd, arg);
  CallResult r = SocketCalls::fcntl(cmd, arg, e->nonblock);
  if (r.status == CallStatus::ForDescriptor) {
    // F_GETFD/F_SETFD and the rest act on the fd itself.
    lk.unlock();
    return real::fcntl(fd, cmd, arg);
  }
  return static_cast<int>(finish(r));
}

void Engine::linger_at_exit() {
  std::unique_lock<EngineMutex> lk(mu_);
  if (!started_ || forked_child_) return;
  // exit() closes every fd, and the kernel then closes each socket whose
  // last fd went (FIN, or RST with unread data or SO_LINGER 0): do the same
  // for the sockets the program left open.
  // A socket another process still holds stays open for it.
  std::vector<FdRef> open;
  for (const auto& [fd, r] : fds_)
    if (r->kind == FdEntry::Kind::Veer && std::find(open.begin(), open.end(), r) == open.end())
      open.push_back(r);
  for (const FdRef& r : open) {
    if (release_locked(r->sock)) calls().close(r->sock);
    r->kind = FdEntry::Kind::Inherited;  // nothing may use it after this
  }
  kick_locked();
  if (others_alive_locked()) {
    // The processes that share the stack carry on: they send what is left.
    remove_view_locked();
    leave_arena_locked();
    close_control_locked();
    capture_.reset();
    track_capture_fd_locked();
    return;
  }
  take_over_locked();  // the last process: its I/O thread sends what is left
  auto until = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(config_.get_int("exit_linger_ms"));
  while (stack_->connections_with_pending_output() > 0) {
    if (cv_.wait_until(lk, until) == std::cv_status::timeout) {
      VEER_LOG(Warn, "exiting with %zu connection(s) still sending",
               stack_->connections_with_pending_output());
      break;
    }
  }
  remove_view_locked();
  close_control_locked();
  capture_.reset();  // flushes and closes the file
  track_capture_fd_locked();
  leave_arena_locked();
  device_->release_at_exit();
}

}  // namespace veer::preload
