// The engine's waiting and its fd-level calls: blocking with signals and
// timeouts, readiness for poll/select/epoll with veer sockets and kernel fds
// in one call, dup/close_range, ioctl and sendfile.
//
// Waiting: each thread that blocks registers an eventfd of its own; whenever
// the stack moves (the I/O thread ran, a socket was shut down or closed, an
// epoll set changed) every registered eventfd is written. A blocking socket
// call waits in read() on it, so a signal interrupts it exactly as the
// kernel's would (EINTR, or a transparent restart under SA_RESTART); a
// waiting poll/epoll adds the eventfd to the kernel fds it waits on.
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sockios.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include "preload/engine.h"
#include "preload/log.h"
#include "preload/real.h"

namespace veer::preload {
namespace {

int fail(int err) {
  errno = err;
  return -1;
}

// This thread's wakeup eventfd, made on its first wait, closed when it ends.
struct ThreadWaiter {
  int fd = -1;
  ~ThreadWaiter() {
    if (fd < 0) return;
    Engine::get().internal_fd_closed(fd);
    real::close(fd);
  }
};
thread_local ThreadWaiter t_waiter;

timespec to_timespec(Time t) {
  if (t < Time::zero()) t = Time::zero();
  return {static_cast<time_t>(t.count() / 1000000000), static_cast<long>(t.count() % 1000000000)};
}

// When a wait with this timeout (null: none) ends, on the engine's clock.
std::optional<Time> deadline_after(Time now, const timespec* timeout) {
  if (!timeout) return std::nullopt;
  return now + std::chrono::seconds(timeout->tv_sec) + std::chrono::nanoseconds(timeout->tv_nsec);
}

void drain(int efd) {
  uint64_t v;
  (void)real::read(efd, &v, sizeof v);
}

}  // namespace

// --- Waiting -------------------------------------------------------------------

int Engine::add_waiter_locked() {
  if (t_waiter.fd < 0) {
    int fd = eventfd(0, EFD_CLOEXEC);
    if (fd < 0) return -1;
    t_waiter.fd = fd;
    set_track(fd, kInternal);
  }
  std::lock_guard<std::mutex> w(waiters_mu_);
  waiters_.push_back(t_waiter.fd);
  if (arena_ && slot_ >= 0) arena_->slots[slot_].waiting = static_cast<uint32_t>(waiters_.size());
  return t_waiter.fd;
}

void Engine::remove_waiter_locked(int efd) {
  std::lock_guard<std::mutex> w(waiters_mu_);
  auto it = std::find(waiters_.begin(), waiters_.end(), efd);
  if (it != waiters_.end()) waiters_.erase(it);
  if (arena_ && slot_ >= 0) arena_->slots[slot_].waiting = static_cast<uint32_t>(waiters_.size());
}

void Engine::forget_thread_waiter() {
  if (t_waiter.fd < 0) return;
  Engine::get().internal_fd_closed(t_waiter.fd);
  real::close(t_waiter.fd);
  t_waiter.fd = -1;
}

void Engine::notify_local_locked() {
  uint64_t one = 1;
  {
    std::lock_guard<std::mutex> w(waiters_mu_);
    for (int efd : waiters_) (void)real::write(efd, &one, sizeof one);
  }
  cv_.notify_all();
}

int Engine::wait_locked(std::unique_lock<EngineMutex>& lk, std::optional<Time> deadline) {
  // net.core.busy_read: look at the device ourselves for a while first; the
  // caller checks its socket again after anything arrived.
  if (busy_read_ > Time::zero()) {
    Time budget = busy_read_;
    if (deadline) budget = std::min(budget, *deadline - now());
    if (busy_spin_locked(lk, budget)) return 0;
  }
  int efd = add_waiter_locked();
  if (efd < 0) return errno;
  lk.unlock();
  int err = 0;
  if (!deadline) {
    // A plain blocking read: the kernel restarts it after an SA_RESTART
    // handler and fails it with EINTR otherwise, as it would the socket call.
    uint64_t v;
    if (real::read(efd, &v, sizeof v) < 0) err = errno;
  } else if (Time left = *deadline - now(); left <= Time::zero()) {
    err = ETIMEDOUT;
  } else {
    // With a timeout Linux never restarts the call: EINTR whatever the
    // handler's flags (signal(7)), which is also what ppoll does.
    timespec ts = to_timespec(left);
    pollfd p{efd, POLLIN, 0};
    int r = real::ppoll(&p, 1, &ts, nullptr);
    if (r < 0)
      err = errno;
    else if (r == 0)
      err = ETIMEDOUT;
    else
      drain(efd);
  }
  lk.lock();
  remove_waiter_locked(efd);
  return err;
}

// --- Readiness -----------------------------------------------------------------

uint32_t Engine::poll_mask_locked(const FdEntry& e) const {
  if (e.kind == FdEntry::Kind::Inherited) return POLLERR | POLLHUP;  // unusable here
  if (e.kind != FdEntry::Kind::Veer) return 0;
  uint32_t m = stack_->readiness(e.sock);
  // tcp_poll() sets the NORM bits with the plain ones.
  if (m & POLLIN) m |= POLLRDNORM;
  if (m & POLLOUT) m |= POLLWRNORM;
  return m;
}

bool Engine::any_veer(const pollfd* fds, nfds_t n) const {
  for (nfds_t i = 0; i < n; ++i) {
    Track t = track_of(fds[i].fd);
    if (t == kVeer || t == kEpoll) return true;
  }
  return false;
}

bool Engine::interest_fires(const EpollInterest& in, uint32_t mask, uint64_t events) {
  if (!in.armed || !mask) return false;
  if (!(in.events & EPOLLET)) return true;
  // Edge-triggered: a bit is new or the socket saw an event since the last
  // report (Linux wakes on every sk_data_ready).
  return !in.reported || (mask & ~in.last_mask) || events != in.last_events;
}

bool Engine::take_report(EpollInterest& in, uint32_t mask, uint64_t events) {
  bool fires = interest_fires(in, mask, events);
  if (in.events & EPOLLET) {
    in.last_mask = mask;
    if (fires) {
      in.reported = true;
      in.last_events = events;
    }
  }
  return fires;
}

namespace {
// The kernel's depth limit for nested epoll sets (EP_MAX_NESTS) with some
// room: the kernel refuses deeper nesting and loops, so this only guards
// the recursion.
constexpr int kMaxEpollDepth = 8;
// What an epoll fd reports when its set has something (ep_eventpoll_poll).
constexpr uint32_t kEpollReadable = EPOLLIN | EPOLLRDNORM;
}  // namespace

uint64_t Engine::socket_events_locked(const FdEntry& e) const {
  return e.kind == FdEntry::Kind::Veer ? stack_->event_count(e.sock) : 0;
}

bool Engine::epoll_veer_ready_locked(const EpollSet& set, int depth) const {
  if (depth > kMaxEpollDepth) return false;
  for (const auto& [fd, in] : set.veer) {
    uint32_t m = poll_mask_locked(*in.sock) & (in.events | EPOLLERR | EPOLLHUP);
    uint64_t ev = (in.events & EPOLLET) ? socket_events_locked(*in.sock) : 0;
    if (interest_fires(in, m, ev)) return true;
  }
  for (const auto& [fd, in] : set.nested) {
    if (!in.armed) continue;
    uint32_t m = epoll_veer_ready_locked(*in.inner, depth + 1) ? kEpollReadable : 0;
    m &= in.events | EPOLLERR | EPOLLHUP;
    uint64_t ev = (in.events & EPOLLET) ? epoll_event_count_locked(*in.inner, depth + 1) : 0;
    if (interest_fires(in, m, ev)) return true;
  }
  return false;
}

bool Engine::epoll_holds_veer_locked(const EpollSet& set, int depth) const {
  if (!set.veer.empty()) return true;
  if (depth > kMaxEpollDepth) return false;
  for (const auto& [fd, in] : set.nested)
    if (epoll_holds_veer_locked(*in.inner, depth + 1)) return true;
  return false;
}

uint64_t Engine::epoll_event_count_locked(const EpollSet& set, int depth) const {
  if (depth > kMaxEpollDepth) return 0;
  uint64_t n = 0;
  for (const auto& [fd, in] : set.veer) n += socket_events_locked(*in.sock);
  for (const auto& [fd, in] : set.nested) n += epoll_event_count_locked(*in.inner, depth + 1);
  return n;
}

int Engine::poll(pollfd* fds, nfds_t n, const timespec* timeout, const sigset_t* mask) {
  std::optional<Time> deadline = deadline_after(now(), timeout);
  // The kernel's part: veer sockets masked out (a negative fd is ignored),
  // plus this thread's wakeup eventfd at the end. An epoll fd the engine
  // keeps a set for stays in it (the kernel knows its kernel fds); the
  // engine adds its veer sockets' readiness.
  std::vector<pollfd> kernel(fds, fds + n);
  std::vector<bool> veer(n, false);
  std::vector<bool> epoll(n, false);
  for (nfds_t i = 0; i < n; ++i) {
    Track t = track_of(fds[i].fd);
    if (t == kVeer) {
      veer[i] = true;
      kernel[i].fd = -1;
    } else if (t == kEpoll) {
      epoll[i] = true;
    }
  }
  std::vector<short> engine_bits(n, 0);  // the engine's part of an epoll fd's revents
  kernel.push_back({-1, POLLIN, 0});
  bool spun = false;
  for (;;) {
    int ready = 0;
    int efd = -1;
    std::unique_lock<EngineMutex> lk(mu_);
    bool epoll_ready = false;
    for (nfds_t i = 0; i < n; ++i) {
      if (epoll[i]) {
        auto it = epolls_.find(fds[i].fd);
        bool has = it != epolls_.end() && epoll_veer_ready_locked(*it->second);
        engine_bits[i] =
            static_cast<short>(has ? kEpollReadable & static_cast<uint16_t>(fds[i].events) : 0);
        if (engine_bits[i]) epoll_ready = true;
      }
      if (!veer[i]) continue;
      FdEntry* e = find(fds[i].fd);
      uint32_t wanted = static_cast<uint16_t>(fds[i].events) | POLLERR | POLLHUP;
      fds[i].revents = e ? static_cast<short>(poll_mask_locked(*e) & wanted) : POLLNVAL;
      if (fds[i].revents) ++ready;
    }
    bool expired = deadline && now() >= *deadline;
    bool block = ready == 0 && !epoll_ready && !expired;
    // net.core.busy_poll: spin on the device once per call before sleeping.
    if (block && busy_poll_ > Time::zero() && !spun) {
      spun = true;
      if (busy_spin_locked(lk, busy_poll_)) continue;
    }
    if (block && (efd = add_waiter_locked()) < 0) return fail(errno);
    lk.unlock();
    kernel[n].fd = efd;
    kernel[n].revents = 0;
    timespec zero{0, 0}, left{};
    const timespec* t = &zero;
    if (block && deadline) t = &(left = to_timespec(*deadline - now()));
    if (block && !deadline) t = nullptr;
    int r = real::ppoll(kernel.data(), n + 1, t, mask);
    int err = errno;
    if (efd >= 0) {
      lk.lock();
      remove_waiter_locked(efd);
      lk.unlock();
      if (r > 0 && kernel[n].revents) drain(efd);
    }
    if (r < 0) return fail(err);
    for (nfds_t i = 0; i < n; ++i) {
      if (veer[i]) continue;
      fds[i].revents = static_cast<short>(kernel[i].revents | engine_bits[i]);
      if (fds[i].revents) ++ready;
    }
    if (ready > 0 || !block) return ready;
    if (deadline && now() >= *deadline) return 0;
    // Woken because the stack moved: look at the veer sockets again.
  }
}

int Engine::collect_epoll_locked(EpollSet& set, int epfd, epoll_event* evs, int max) {
  int k = 0;
  // Start after the fd reported last, so that a busy socket cannot keep the
  // others out of a small events array.
  auto start = set.veer.lower_bound(set.cursor);
  size_t count = set.veer.size();
  auto it = start == set.veer.end() ? set.veer.begin() : start;
  for (size_t i = 0; i < count && k < max; ++i) {
    EpollInterest& in = it->second;
    int fd = it->first;
    if (++it == set.veer.end()) it = set.veer.begin();
    if (!in.armed) continue;
    uint32_t m = poll_mask_locked(*in.sock) & (in.events | EPOLLERR | EPOLLHUP);
    uint64_t ev = (in.events & EPOLLET) ? socket_events_locked(*in.sock) : 0;
    if (!take_report(in, m, ev)) continue;
    evs[k].events = m;
    evs[k].data = in.data;
    ++k;
    if (in.events & EPOLLONESHOT) in.armed = false;
    set.cursor = fd + 1;
  }
  // Nested epoll sets whose veer sockets have something: readable. (Their
  // kernel fds are the kernel's business; epoll_wait merges the two.)
  for (auto& [fd, in] : set.nested) {
    if (k >= max) break;
    if (!in.armed) continue;
    uint32_t m = epoll_veer_ready_locked(*in.inner, 1) ? kEpollReadable : 0;
    m &= in.events | EPOLLERR | EPOLLHUP;
    uint64_t ev = (in.events & EPOLLET) ? epoll_event_count_locked(*in.inner, 1) : 0;
    if (!take_report(in, m, ev)) continue;
    evs[k].events = m;
    evs[k].data = in.data;
    ++k;
    if (in.events & EPOLLONESHOT) {
      // Disarmed for the kernel too, which would report the inner set's
      // kernel fds otherwise; EPOLL_CTL_MOD re-arms both.
      in.armed = false;
      epoll_event off{0, in.data};
      (void)real::epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &off);
    }
  }
  return k;
}

namespace {
// The kernel reported nested epoll fds too (their kernel fds are ready),
// evs[k, k + r): an inner set the engine already reported in evs[0, k) is
// reported once, with both its masks; a one-shot inner set the kernel
// reported is disarmed for the engine as well. The kernel's events name no
// fd: they are matched by their data. Returns how many kernel events stay.
int merge_nested(EpollSet& set, epoll_event* evs, int k, int r) {
  int out = k;
  for (int i = k; i < k + r; ++i) {
    epoll_event e = evs[i];
    bool merged = false;
    for (auto& [fd, in] : set.nested) {
      if (in.data.u64 != e.data.u64) continue;
      for (int j = 0; j < k && !merged; ++j) {
        if (evs[j].data.u64 != e.data.u64) continue;
        evs[j].events |= e.events;
        merged = true;
      }
      if (in.events & EPOLLONESHOT) in.armed = false;
      break;
    }
    if (!merged) evs[out++] = e;
  }
  return out - k;
}
}  // namespace

int Engine::epoll_ctl(int epfd, int op, int fd, epoll_event* ev) {
  Track t = track_of(fd);
  if (t == kEpoll) return epoll_ctl_nested(epfd, op, fd, ev);
  if (t != kVeer && t != kPending) {
    // A kernel fd: the kernel's business, unless it is an epoll fd put in
    // another set, whose veer sockets (now or later) the outer set reports.
    int r = real::epoll_ctl(epfd, op, fd, ev);
    if (r < 0 || op != EPOLL_CTL_ADD || t != kNone) return r;
    // Is fd an epoll fd? Asking it to drop epfd answers: ENOENT for an epoll
    // fd (epfd cannot be in it: the kernel just refused no loop), EINVAL
    // for anything else.
    int saved = errno;
    epoll_event dummy{};
    bool is_epoll = real::epoll_ctl(fd, EPOLL_CTL_DEL, epfd, &dummy) < 0 && errno == ENOENT;
    errno = saved;
    if (!is_epoll) return 0;
    std::lock_guard<EngineMutex> lock(mu_);
    std::shared_ptr<EpollSet>& inner = epolls_[fd];
    if (!inner) inner = std::make_shared<EpollSet>();
    set_track(fd, kEpoll);
    std::shared_ptr<EpollSet> in = inner;
    std::shared_ptr<EpollSet>& outer = epolls_[epfd];
    if (!outer) outer = std::make_shared<EpollSet>();
    set_track(epfd, kEpoll);
    outer->nested[fd] = EpollInterest{ev->events, ev->data, nullptr, std::move(in)};
    notify_local_locked();  // epoll sets are per process
    return 0;
  }
  std::unique_lock<EngineMutex> lk(mu_);
  std::shared_ptr<EpollSet>& slot = epolls_[epfd];
  bool fresh = !slot;
  if (fresh) slot = std::make_shared<EpollSet>();
  auto drop_fresh = [&] {
    if (fresh) epolls_.erase(epfd);
  };
  if (t == kPending) {
    // A kernel socket: the kernel's epoll serves it; remember the interest
    // in case the socket becomes veer's (the kernel forgets it then).
    if (real::epoll_ctl(epfd, op, fd, ev) < 0) {
      int err = errno;
      drop_fresh();
      return fail(err);
    }
    EpollSet& set = *slot;
    if (op == EPOLL_CTL_DEL) {
      set.pending.erase(fd);
    } else {
      EpollInterest& in = set.pending[fd];
      in.events = ev->events;
      in.data = ev->data;
      in.sock = ref(fd);
      in.armed = true;
    }
    set_track(epfd, kEpoll);
    return 0;
  }
  if (fresh) {
    // Is epfd an epoll fd at all? Asking the kernel to drop fd (an eventfd it
    // never saw in any set) answers as Linux would: ENOENT for an epoll fd,
    // EBADF or EINVAL otherwise.
    epoll_event dummy{};
    if (real::epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &dummy) == 0 || errno != ENOENT) {
      int err = errno;
      drop_fresh();
      return fail(err == 0 ? EINVAL : err);
    }
  }
  EpollSet& set = *slot;
  auto found = set.veer.find(fd);
  int err = 0;
  constexpr uint32_t kExclusiveOk =
      EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
  if (epfd == fd) {
    err = EINVAL;
  } else if ((op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && !ev) {
    err = EFAULT;
  } else if (op == EPOLL_CTL_ADD) {
    if (found != set.veer.end())
      err = EEXIST;
    else if ((ev->events & EPOLLEXCLUSIVE) && (ev->events & ~kExclusiveOk))
      err = EINVAL;
    else
      set.veer[fd] = EpollInterest{ev->events, ev->data, ref(fd)};
  } else if (op == EPOLL_CTL_MOD) {
    if (found == set.veer.end())
      err = ENOENT;
    else if ((ev->events & EPOLLEXCLUSIVE) || (found->second.events & EPOLLEXCLUSIVE))
      err = EINVAL;  // ep_ctl(): an exclusive item cannot be modified
    else
      found->second = EpollInterest{ev->events, ev->data, found->second.sock};
  } else if (op == EPOLL_CTL_DEL) {
    if (found == set.veer.end())
      err = ENOENT;
    else
      set.veer.erase(found);
  } else {
    err = EINVAL;
  }
  if (err) {
    if (set.veer.empty() && set.pending.empty()) drop_fresh();
    return fail(err);
  }
  set_track(epfd, kEpoll);
  notify_locked();  // a thread already in epoll_wait on this set looks again
  return 0;
}

int Engine::epoll_ctl_nested(int epfd, int op, int fd, epoll_event* ev) {
  std::unique_lock<EngineMutex> lk(mu_);
  // The kernel checks the call (EINVAL for a set put in itself, ELOOP for a
  // loop or too deep a nesting, EEXIST, ENOENT) and keeps the registration,
  // so that the outer set reports the inner one's kernel fds.
  if (real::epoll_ctl(epfd, op, fd, ev) < 0) {
    int err = errno;
    lk.unlock();
    return fail(err);
  }
  auto inner = epolls_.find(fd);
  if (inner == epolls_.end()) return 0;  // closed meanwhile
  std::shared_ptr<EpollSet> in = inner->second;
  std::shared_ptr<EpollSet>& outer = epolls_[epfd];
  if (!outer) outer = std::make_shared<EpollSet>();
  set_track(epfd, kEpoll);
  if (op == EPOLL_CTL_DEL)
    outer->nested.erase(fd);
  else if (ev && (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD))
    outer->nested[fd] = EpollInterest{ev->events, ev->data, nullptr, std::move(in)};
  // A thread already in epoll_wait on the outer set looks again (epoll sets
  // are per process).
  notify_local_locked();
  return 0;
}

void Engine::drop_epoll_fd_locked(int fd) {
  set_track(fd, kNone);
  auto it = epolls_.find(fd);
  if (it == epolls_.end()) return;
  std::shared_ptr<EpollSet> gone = std::move(it->second);
  epolls_.erase(it);
  for (const auto& [n, s] : epolls_)
    if (s == gone) return;  // a dup still names it
  // The last fd: the kernel releases the file, which leaves every set.
  for (auto& [n, s] : epolls_)
    std::erase_if(s->nested, [&](const auto& kv) { return kv.second.inner == gone; });
}

int Engine::epoll_wait(int epfd, epoll_event* evs, int max, const timespec* timeout,
                       const sigset_t* mask) {
  if (max <= 0 || max > static_cast<int>(INT_MAX / sizeof(epoll_event))) return fail(EINVAL);
  std::optional<Time> deadline = deadline_after(now(), timeout);
  bool spun = false;
  for (;;) {
    std::unique_lock<EngineMutex> lk(mu_);
    auto it = epolls_.find(epfd);
    if (it == epolls_.end() || !epoll_holds_veer_locked(*it->second)) {
      lk.unlock();
      timespec left{};
      if (deadline) left = to_timespec(*deadline - now());
      return real::epoll_pwait2(epfd, evs, max, deadline ? &left : nullptr, mask);
    }
    std::shared_ptr<EpollSet> set = it->second;
    int k = collect_epoll_locked(*set, epfd, evs, max);
    bool nested = !set->nested.empty();
    lk.unlock();
    if (k < max) {
      int r = real::epoll_pwait(epfd, evs + k, max - k, 0, nullptr);
      if (r < 0 && k == 0) return -1;
      if (r > 0 && nested) {
        lk.lock();
        r = merge_nested(*set, evs, k, r);
        lk.unlock();
      }
      if (r > 0) k += r;
    }
    if (k > 0) return k;
    if (deadline && now() >= *deadline) return 0;
    // Nothing yet: sleep until the kernel's set or the stack has news
    // (after spinning on the device, with net.core.busy_poll).
    lk.lock();
    if (busy_poll_ > Time::zero() && !spun) {
      spun = true;
      if (busy_spin_locked(lk, busy_poll_)) continue;
    }
    int efd = add_waiter_locked();
    if (efd < 0) return fail(errno);
    // Anything that moved between the scan above and now already wrote efd.
    lk.unlock();
    pollfd p[2] = {{epfd, POLLIN, 0}, {efd, POLLIN, 0}};
    timespec left{};
    if (deadline) left = to_timespec(*deadline - now());
    int r = real::ppoll(p, 2, deadline ? &left : nullptr, mask);
    int err = errno;
    lk.lock();
    remove_waiter_locked(efd);
    lk.unlock();
    if (r > 0 && p[1].revents) drain(efd);
    if (r < 0) return fail(err);
  }
}

// --- Descriptors -----------------------------------------------------------------

int Engine::dup(int fd, int min_fd, bool cloexec) {
  std::lock_guard<EngineMutex> lock(mu_);
  int nfd = real::fcntl(fd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, min_fd);
  if (nfd < 0) return -1;
  Track t = track_of(fd);
  if (t == kNone || t == kInternal) return nfd;
  if (nfd >= kMaxFds) {
    real::close(nfd);
    log_once("fd-too-high", "fd %d is beyond the %d fds veer tracks", nfd, kMaxFds);
    return fail(EMFILE);
  }
  alias_locked(fd, nfd);
  return nfd;
}

void Engine::alias_locked(int fd, int nfd) {
  Track t = track_of(fd);
  if (t == kEpoll) {
    epolls_[nfd] = epolls_[fd];
  } else if (t == kVeer || t == kPending) {
    FdRef r = ref(fd);
    ++r->fd_refs;
    fds_[nfd] = std::move(r);
  } else {
    return;
  }
  set_track(nfd, t);
}

int Engine::dup3(int fd, int fd2, int flags, bool is_dup2) {
  std::lock_guard<EngineMutex> lock(mu_);
  if (fd == fd2) {
    if (!is_dup2) return fail(EINVAL);
    return real::fcntl(fd, F_GETFD, 0) < 0 ? -1 : fd2;
  }
  if (track_of(fd2) == kInternal) {
    log_once("dup-onto-internal", "dup2() onto fd %d, which veer uses itself: EBUSY", fd2);
    return fail(EBUSY);
  }
  int r = is_dup2 ? real::dup2(fd, fd2) : real::dup3(fd, fd2, flags);
  if (r < 0) return -1;
  // fd2 was closed and now names what fd names.
  if (track_of(fd2) == kEpoll) {
    drop_epoll_fd_locked(fd2);
  } else if (tracked(fd2)) {
    forget_fd_locked(fd2);
    notify_locked();
  }
  set_track(fd2, kNone);
  alias_locked(fd, fd2);
  return r;
}

int Engine::close_range(unsigned first, unsigned last, int flags) {
  if (first > last) return fail(EINVAL);
  if (flags & CLOSE_RANGE_CLOEXEC) return real::close_range(first, last, flags);
  std::lock_guard<EngineMutex> lock(mu_);
  // Close what the program owns; step around the engine's own fds.
  unsigned from = first;
  unsigned top = std::min<unsigned>(last, kMaxFds - 1);
  for (unsigned fd = first; fd <= top; ++fd) {
    switch (track_of(static_cast<int>(fd))) {
      case kInternal:
        if (fd > from && real::close_range(from, fd - 1, flags) < 0) return -1;
        from = fd + 1;
        break;
      case kEpoll:
        drop_epoll_fd_locked(static_cast<int>(fd));
        break;
      case kPending:
      case kVeer:
        forget_fd_locked(static_cast<int>(fd));
        break;
      case kNone:
        break;
    }
  }
  notify_locked();
  if (from > last) return 0;
  return real::close_range(from, last, flags);
}

// --- ioctl and sendfile ----------------------------------------------------------

int Engine::ioctl(int fd, unsigned long request, void* arg) {
  std::unique_lock<EngineMutex> lk(mu_);
  FdEntry* e = find(fd);
  if (e && e->kind == FdEntry::Kind::Pending && request == FIONBIO && arg) {
    int on;
    std::memcpy(&on, arg, sizeof on);
    e->nonblock = on != 0;  // kept for when the socket becomes veer's
  }
  if (!e || e->kind == FdEntry::Kind::Pending) return lk.unlock(), real::ioctl(fd, request, arg);
  switch (request) {
    case FIONBIO: {
      // The open file's O_NONBLOCK, like F_SETFL.
      if (!arg) return fail(EFAULT);
      int on;
      std::memcpy(&on, arg, sizeof on);
      e->nonblock = on != 0;
      return 0;
    }
    case FIOCLEX:
    case FIONCLEX:
      lk.unlock();
      return real::ioctl(fd, request, arg);
    default:
      break;
  }
  if (e->kind == FdEntry::Kind::Inherited) return refuse_inherited(fd);
  int value = 0;
  CallResult r = calls().ioctl(e->sock, request, &value);
  if (r.done() && !r.err && arg) std::memcpy(arg, &value, sizeof value);
  if (r.unsupported) {
    char key[40];
    std::snprintf(key, sizeof key, "ioctl-%lx", request);
    log_once(key, "ioctl(0x%lx) on a veer socket is not supported by veer yet: ENOTTY", request);
  }
  if (r.err) return fail(r.err);
  return static_cast<int>(r.ret);
}

ssize_t Engine::sendfile(int out, int in, off_t* offset, size_t count) {
  // Linux reads the file at *offset (leaving the file position alone) or at
  // the file position (and advances it).
  off_t pos = offset ? *offset : lseek(in, 0, SEEK_CUR);
  bool seekable = pos >= 0;
  if (offset && *offset < 0) return fail(EINVAL);
  if (!seekable) pos = 0;
  std::vector<char> buf(std::min<size_t>(count, 256 * 1024));
  size_t total = 0;
  while (total < count) {
    size_t want = std::min(buf.size(), count - total);
    ssize_t got = seekable ? pread(in, buf.data(), want, pos) : real::read(in, buf.data(), want);
    if (got < 0) {
      if (total) break;
      return -1;
    }
    if (got == 0) break;
    ssize_t sent = send(out, buf.data(), static_cast<size_t>(got), 0);
    if (sent < 0) {
      if (total) break;
      return -1;
    }
    if (!seekable) {
      // Read from a pipe, the bytes exist only here: send them all.
      while (sent >= 0 && sent < got) {
        ssize_t more = send(out, buf.data() + sent, static_cast<size_t>(got - sent), 0);
        if (more < 0) break;
        sent += more;
      }
    }
    total += static_cast<size_t>(sent);
    pos += sent;
    if (sent < got) {
      // A short send: the socket is full (nonblocking) or the call was
      // interrupted. What was read but not sent stays in the file.
      break;
    }
  }
  if (seekable) {
    if (offset)
      *offset = pos;
    else
      lseek(in, pos, SEEK_SET);
  }
  return static_cast<ssize_t>(total);
}

}  // namespace veer::preload
