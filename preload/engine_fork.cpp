// Sockets shared across fork(), as on Linux (../shared/DESIGN.md, "Processes
// share sockets"): nginx workers accept on their master's listener, socat and
// inetd-style servers hand each connection to a child and close their copy.
//
// The lock, the stack and its buffers live in the shared arena
// (preload/shared_arena.h), mapped when the engine is made, so a child forked
// after the stack started finds them at the same addresses. fork() is seen
// through pthread_atfork (glibc's daemon() calls fork without going through
// a `fork` symbol): the prepare handler takes the lock and reserves a slot
// for the child, with a hold on every socket the parent holds; the child
// takes the slot. Whichever process holds the lock moves the stack. One
// process, the pump, runs the I/O thread (device, timers, the socket view);
// the others' waiting threads are woken through a futex per process and a
// relay thread, which also takes over the pump when its process is gone.
// Only the pump's I/O thread and the program's own calls touch the stack,
// so a child that execs or exits right after fork() cannot leave it half
// changed.
#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "preload/engine.h"
#include "preload/log.h"
#include "preload/real.h"

namespace veer::preload {
namespace {

uint64_t key_of(core::SocketId s) {
  return (uint64_t(s.index) << 32) | s.generation;
}

core::SocketId socket_of(uint64_t key) {
  return core::SocketId{static_cast<uint32_t>(key >> 32), static_cast<uint32_t>(key)};
}

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

// A fork whose child never took its slot (fork failed, or the child died
// at once) gives the slot back after this long.
constexpr uint64_t kUnclaimedSlotNs = 10ull * 1000000000u;

void block_signals() {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
}

}  // namespace

void EngineMutex::lock() {
  if (pthread_mutex_lock(m_) == EOWNERDEAD) owner_died();
}

bool EngineMutex::try_lock() {
  int r = pthread_mutex_trylock(m_);
  if (r == EOWNERDEAD) {
    owner_died();
    r = 0;
  }
  return r == 0;
}

void EngineMutex::owner_died() {
  pthread_mutex_consistent(m_);
  log_once("lock-owner-died",
           "a process sharing veer's stack died while holding its lock: the stack goes on as "
           "that process left it");
}

void Engine::init_arena() {
  size_t bytes = size_t(config_.get_int("shared_arena_mb")) << 20;
  std::string err;
  arena_ = SharedArena::create(bytes, &err);
  if (arena_) {
    mu_.use(arena_->mutex());
    return;
  }
  log_write(LogLevel::Warn, "%s: forked children cannot use inherited veer sockets", err.c_str());
  mu_.use(&private_mutex_);
}

bool Engine::claim_slot_locked() {
  if (!arena_) return false;
  for (int i = 0; i < SharedArena::kMaxProcesses; ++i) {
    ProcessSlot& s = arena_->slots[i];
    if (s.pid != 0) continue;
    bool zombie;
    s.pid = getpid();
    s.start_time = process_start_time(getpid(), &zombie);
    s.waiting = 0;
    slot_ = i;
    slot_pid_ = getpid();
    return true;
  }
  return false;
}

void Engine::thread_ready(std::atomic<int>& starting) {
  // Resolve now what the thread calls later without the lock.
  (void)real::read(-1, nullptr, 0);
  (void)real::write(-1, nullptr, 0);
  timespec zero{};
  (void)real::ppoll(nullptr, 0, &zero, nullptr);
  starting.fetch_sub(1, std::memory_order_release);
}

void Engine::fork_prepare() {
  mu_.lock();
  // Our threads allocate nothing once started, but their start-up does
  // (briefly: give up after 2 s rather than never fork).
  for (uint64_t until = monotonic_ns() + 2000000000ull;
       threads_starting_.load(std::memory_order_acquire) > 0 && monotonic_ns() < until;)
    sched_yield();
  waiters_mu_.lock();  // the relay thread takes it without the engine lock
  child_slot_ = -1;
  if (!started_ || !arena_ || slot_ < 0 || config_.device_is_xdp()) return;
  for (int i = 0; i < SharedArena::kMaxProcesses; ++i) {
    ProcessSlot& s = arena_->slots[i];
    if (s.pid != 0) continue;
    s.pid = -getpid();
    s.reserved_at_ns = monotonic_ns();
    s.waiting = 0;
    arena_->copy_holds(slot_, i);
    arena_->shared = true;
    child_slot_ = i;
    return;
  }
  log_once("fork-slots",
           "%d processes share veer's stack already: a child forked now can only close the veer "
           "sockets it inherits",
           SharedArena::kMaxProcesses);
}

void Engine::fork_parent() {
  waiters_mu_.unlock();
  if (child_slot_ >= 0) start_relay_locked();
  child_slot_ = -1;
  mu_.unlock();
}

void Engine::fork_child() {
  // The lock is still the parent's: its prepare handler took it, its parent
  // handler releases it. Nothing here may touch the lock before that.
  new (&waiters_mu_) std::mutex();  // the parent's thread holds the copy
  waiters_.clear();                 // their threads did not come along
  io_sleep_until_.reset();
  relay_started_ = false;
  bool was_pump = owner_.exchange(false);
  if (!arena_) {
    pthread_mutex_init(&private_mutex_, nullptr);  // held by a thread not here
    if (started_) become_inherited_child();
    return;
  }
  if (!started_) {
    // No stack yet: this child is an engine of its own, with its own arena
    // (its parent may start a stack later, on its own).
    SharedArena* parents = arena_;
    arena_ = nullptr;
    init_arena();
    SharedArena::unmap(parents);
    return;
  }
  if (child_slot_ < 0) {
    become_inherited_child();
    return;
  }
  std::lock_guard<EngineMutex> lock(mu_);  // once the parent let it go
  slot_ = child_slot_;
  slot_pid_ = getpid();
  child_slot_ = -1;
  ProcessSlot& s = arena_->slots[slot_];
  bool zombie;
  s.pid = getpid();
  s.start_time = process_start_time(getpid(), &zombie);
  s.waiting = 0;
  // The parent's eventfds are the parent's: a wakeup read here would be
  // lost to it. This process makes its own when it needs them.
  forget_thread_waiter();
  if (was_pump && wake_fd_ >= 0) {
    set_track(wake_fd_, kNone);
    real::close(wake_fd_);
    wake_fd_ = -1;
  }
  // The capture, the control socket and the socket view stay the parent's.
  leave_parents_channels_locked();
  if (view_) {
    munmap(view_, view_bytes_);
    view_ = nullptr;
    view_bytes_ = 0;
  }
  view_dirty_ = false;
  start_relay_locked();
}

void Engine::become_inherited_child() {
  forked_child_ = true;
  for (auto& [fd, r] : fds_)
    if (r->kind == FdEntry::Kind::Veer) r->kind = FdEntry::Kind::Inherited;
  leave_parents_channels_locked();
}

void Engine::leave_parents_channels_locked() {
  // The capture and the control socket stay the parent's: the child neither
  // writes the parent's buffered frames again nor answers its requests.
  if (capture_) {
    capture_->abandon();
    capture_.reset();
    track_capture_fd_locked();
  }
  if (control_fd_ >= 0) {
    set_track(control_fd_, kNone);
    real::close(control_fd_);
    control_fd_ = -1;
  }
}

// Our threads start through pthread_create with no allocation: in a process
// forked from a multi-threaded one, a sanitizer's allocator may be locked
// for good by a thread that did not come along.
static void start_detached(void* (*run)(void*), void* arg, std::atomic<int>& starting) {
  starting.fetch_add(1, std::memory_order_acq_rel);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t t;
  int r = pthread_create(&t, &attr, run, arg);
  pthread_attr_destroy(&attr);
  if (r != 0) {
    starting.fetch_sub(1, std::memory_order_release);
    log_write(LogLevel::Error, "cannot start a thread of veer's engine: %s", std::strerror(r));
  }
}

void* Engine::io_thread_main(void*) {
  Engine::get().io_loop();
  return nullptr;
}

void* Engine::relay_thread_main(void* slot) {
  Engine::get().relay_loop(static_cast<int>(reinterpret_cast<uintptr_t>(slot)));
  return nullptr;
}

void Engine::start_io_thread_locked() {
  // Never joined: it runs as long as this process is the pump.
  start_detached(&Engine::io_thread_main, nullptr, threads_starting_);
}

void Engine::start_relay_locked() {
  if (relay_started_) return;
  relay_started_ = true;
  // The slot is passed, not read: slot_ changes under the lock (at exit).
  start_detached(&Engine::relay_thread_main, reinterpret_cast<void*>(uintptr_t(slot_)),
                 threads_starting_);
}

void Engine::relay_loop(int slot) {
  block_signals();
  thread_ready(threads_starting_);
  std::atomic<uint32_t>& word = arena_->slots[slot].wake_seq;
  uint32_t seen = word.load(std::memory_order_acquire);
  auto last_look = std::chrono::steady_clock::now();
  for (;;) {
    // Not the pump: look after the pump at least every kReclaimInterval.
    bool pump = owner_.load(std::memory_order_acquire);
    futex_wait_shared(&word, seen, pump ? -1 : kReclaimInterval.count());
    uint32_t now_seq = word.load(std::memory_order_acquire);
    if (now_seq != seen) {
      seen = now_seq;
      {
        std::lock_guard<std::mutex> w(waiters_mu_);
        uint64_t one = 1;
        for (int efd : waiters_) (void)real::write(efd, &one, sizeof one);
      }
      if (pump) {
        uint64_t one = 1;
        (void)real::write(wake_fd_, &one, sizeof one);  // a deadline moved earlier
      }
    }
    // Is the pump still there? Every kReclaimInterval, and at once when it
    // said it leaves.
    auto t = std::chrono::steady_clock::now();
    if (!pump && (t - last_look >= kReclaimInterval || arena_->pump_pid.load() == 0)) {
      last_look = t;
      std::lock_guard<EngineMutex> lock(mu_);
      take_over_locked();
    }
  }
}

bool Engine::slot_alive_locked(int i) const {
  const ProcessSlot& s = arena_->slots[i];
  if (s.pid == 0) return false;
  if (s.pid < 0) return monotonic_ns() - s.reserved_at_ns <= kUnclaimedSlotNs;
  bool zombie;
  uint64_t start = process_start_time(s.pid, &zombie);
  return !zombie && start == s.start_time && process_maps(s.pid, arena_);
}

void Engine::take_over_locked() {
  if (owner_.load() || !arena_ || slot_ < 0 || !started_) return;
  int pump = arena_->pump_pid.load();
  if (pump > 0 && arena_->pump_slot >= 0 && arena_->slots[arena_->pump_slot].pid == pump &&
      slot_alive_locked(arena_->pump_slot))
    return;
  if (wake_fd_ < 0) {
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) return;  // the next look tries again
    set_track(wake_fd_, kInternal);
  }
  arena_->pump_pid = getpid();
  arena_->pump_slot = slot_;
  set_io_sleep_locked(std::nullopt);
  view_dirty_ = true;
  next_reclaim_ = Time::zero();
  owner_.store(true, std::memory_order_release);
  start_io_thread_locked();
  VEER_LOG(Info, "process %d now runs veer's stack (device, timers), after process %d", getpid(),
           pump);
}

void Engine::wake_slot_locked(int i) {
  ProcessSlot& s = arena_->slots[i];
  s.wake_seq.fetch_add(1, std::memory_order_release);
  futex_wake_shared(&s.wake_seq);
}

void Engine::notify_locked() {
  notify_local_locked();
  if (!arena_ || !arena_->shared) return;
  for (int i = 0; i < SharedArena::kMaxProcesses; ++i) {
    ProcessSlot& s = arena_->slots[i];
    if (i == slot_ || s.pid <= 0 || s.waiting.load(std::memory_order_relaxed) == 0) continue;
    wake_slot_locked(i);
  }
}

void Engine::kick_pump_locked() {
  std::optional<Time> d = stack_->next_deadline();
  std::optional<Time> sleeping = io_sleep_locked();
  if (!d || (sleeping && *sleeping <= *d)) return;
  set_io_sleep_locked(d);
  if (arena_->pump_slot >= 0 && arena_->pump_pid > 0) wake_slot_locked(arena_->pump_slot);
}

std::optional<Time> Engine::io_sleep_locked() const {
  if (!arena_) return io_sleep_until_;
  if (arena_->io_sleep_until_ns < 0) return std::nullopt;
  return Time(arena_->io_sleep_until_ns);
}

void Engine::set_io_sleep_locked(std::optional<Time> t) {
  if (!arena_) {
    io_sleep_until_ = t;
    return;
  }
  arena_->io_sleep_until_ns = t ? t->count() : -1;
}

void Engine::hold_locked(core::SocketId s) {
  if (arena_ && slot_ >= 0) arena_->hold(key_of(s), slot_);
}

bool Engine::release_locked(core::SocketId s) {
  if (!arena_ || slot_ < 0) return true;
  return arena_->release(key_of(s), slot_);
}

bool Engine::sole_holder_locked(core::SocketId s) const {
  return !arena_ || slot_ < 0 || arena_->holders(key_of(s)) == (uint64_t(1) << slot_);
}

bool Engine::others_alive_locked() const {
  if (!arena_ || !arena_->shared) return false;
  for (int i = 0; i < SharedArena::kMaxProcesses; ++i)
    if (i != slot_ && slot_alive_locked(i)) return true;
  return false;
}

void Engine::reclaim_dead_locked(Time t) {
  if (!arena_ || !arena_->shared || t < next_reclaim_) return;
  next_reclaim_ = t + kReclaimInterval;
  for (int i = 0; i < SharedArena::kMaxProcesses; ++i) {
    ProcessSlot& s = arena_->slots[i];
    if (i == slot_ || s.pid == 0 || slot_alive_locked(i)) continue;
    int pid = s.pid;
    std::vector<uint64_t> last = arena_->release_all(i);
    for (uint64_t key : last) calls().close(socket_of(key));
    if (pid > 0) {
      VEER_LOG(Info,
               "process %d, which shared veer's stack, is gone: %zu socket(s) only it held are "
               "closed",
               pid, last.size());
    }
    s.waiting = 0;
    s.pid = 0;
    if (!last.empty()) kick_locked();
  }
}

void Engine::leave_arena_locked() {
  if (!arena_ || slot_ < 0) return;
  arena_->release_all(slot_);  // what is still held is closed by the caller
  ProcessSlot& s = arena_->slots[slot_];
  s.waiting = 0;
  s.pid = 0;
  if (owner_.exchange(false)) {
    // The I/O thread stops touching the stack; another process's relay
    // thread takes over at once, and receives what this one would have.
    parked_ = true;
    if (device_) device_->stop_receiving();
    arena_->pump_pid = 0;
    for (int i = 0; i < SharedArena::kMaxProcesses; ++i)
      if (i != slot_ && arena_->slots[i].pid > 0) wake_slot_locked(i);
  }
  slot_ = -1;
}

void Engine::before_exec() {
  std::lock_guard<EngineMutex> lock(mu_);
  // A vfork() child runs in its parent's memory: it must change nothing.
  if (!started_ || forked_child_ || slot_ < 0 || slot_pid_ != getpid()) return;
  std::vector<FdRef> open;
  for (const auto& [fd, r] : fds_)
    if (r->kind == FdEntry::Kind::Veer && std::find(open.begin(), open.end(), r) == open.end())
      open.push_back(r);
  size_t closed = 0;
  for (const FdRef& r : open) {
    if (release_locked(r->sock)) {
      calls().close(r->sock);
      ++closed;
    }
    r->kind = FdEntry::Kind::Inherited;  // the new image cannot use it
  }
  VEER_LOG(Debug,
           "exec: %zu veer socket(s) let go, %zu of them closed (no other process held them)",
           open.size(), closed);
  leave_arena_locked();
}

void Engine::after_failed_exec() {
  std::lock_guard<EngineMutex> lock(mu_);
  if (!started_ || forked_child_ || slot_ >= 0 || !arena_) return;
  if (!claim_slot_locked()) return;
  parked_ = false;  // a parked I/O thread stays parked; take_over starts another
  take_over_locked();
}

}  // namespace veer::preload
