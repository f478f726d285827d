// The libc socket API as libveer.so exports it. Each call checks whether
// the fd is one of veer's (one atomic load) and otherwise goes straight to
// the real function, so programs pay nearly nothing for kernel fds.
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <optional>
#include <vector>

#include "preload/engine.h"
#include "preload/real.h"

using veer::preload::Engine;
namespace real = veer::preload::real;

namespace {

// Set once the engine exists; before that no fd can be a veer socket.
std::atomic<Engine*> g_engine{nullptr};

Engine& engine() {
  Engine* e = g_engine.load(std::memory_order_acquire);
  if (!e) {
    e = &Engine::get();
    g_engine.store(e, std::memory_order_release);
  }
  return *e;
}

// The engine, when fd is a TCP socket it has (pending or veer's).
Engine* owner(int fd) {
  Engine* e = g_engine.load(std::memory_order_acquire);
  return e && e->tracked(fd) ? e : nullptr;
}

// The engine, when fd means anything to it (also epoll sets and its own fds).
Engine* known(int fd) {
  Engine* e = g_engine.load(std::memory_order_acquire);
  return e && e->track_of(fd) != Engine::kNone ? e : nullptr;
}

bool is_tcp(int domain, int type, int protocol) {
  return domain == AF_INET && (type & 0xf) == SOCK_STREAM &&
         (protocol == 0 || protocol == IPPROTO_TCP);
}

ssize_t scatter_read(Engine* e, int fd, const iovec* iov, int n) {
  msghdr m{};
  m.msg_iov = const_cast<iovec*>(iov);
  m.msg_iovlen = static_cast<size_t>(n);
  return e->recvmsg(fd, &m, 0);
}

// Loads the configuration before main(): a bad value stops the program here.
__attribute__((constructor)) void veer_init() {
  engine();
}

// The kernel would go on delivering what a program wrote before it exited;
// give the in-process stack a bounded moment to do the same.
__attribute__((destructor)) void veer_fini() {
  if (Engine* e = g_engine.load()) e->linger_at_exit();
}

}  // namespace

#define VEER_EXPORT extern "C" __attribute__((visibility("default")))

VEER_EXPORT int socket(int domain, int type, int protocol) {
  int fd = real::socket(domain, type, protocol);
  if (fd >= 0 && is_tcp(domain, type, protocol))
    engine().on_tcp_socket(fd, (type & SOCK_NONBLOCK) != 0);
  return fd;
}

VEER_EXPORT int bind(int fd, const sockaddr* addr, socklen_t len) {
  Engine* e = owner(fd);
  return e ? e->bind(fd, addr, len) : real::bind(fd, addr, len);
}

VEER_EXPORT int listen(int fd, int backlog) {
  Engine* e = owner(fd);
  return e ? e->listen(fd, backlog) : real::listen(fd, backlog);
}

VEER_EXPORT int accept(int fd, sockaddr* addr, socklen_t* len) {
  Engine* e = owner(fd);
  return e ? e->accept4(fd, addr, len, 0) : real::accept4(fd, addr, len, 0);
}

VEER_EXPORT int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  Engine* e = owner(fd);
  return e ? e->accept4(fd, addr, len, flags) : real::accept4(fd, addr, len, flags);
}

VEER_EXPORT int connect(int fd, const sockaddr* addr, socklen_t len) {
  Engine* e = owner(fd);
  return e ? e->connect(fd, addr, len) : real::connect(fd, addr, len);
}

VEER_EXPORT ssize_t read(int fd, void* buf, size_t n) {
  Engine* e = owner(fd);
  return e ? e->recv(fd, buf, n, 0) : real::read(fd, buf, n);
}

VEER_EXPORT ssize_t write(int fd, const void* buf, size_t n) {
  Engine* e = owner(fd);
  return e ? e->send(fd, buf, n, 0) : real::write(fd, buf, n);
}

VEER_EXPORT ssize_t readv(int fd, const iovec* iov, int n) {
  Engine* e = owner(fd);
  return e ? scatter_read(e, fd, iov, n) : real::readv(fd, iov, n);
}

VEER_EXPORT ssize_t writev(int fd, const iovec* iov, int n) {
  Engine* e = owner(fd);
  if (!e) return real::writev(fd, iov, n);
  msghdr m{};
  m.msg_iov = const_cast<iovec*>(iov);
  m.msg_iovlen = static_cast<size_t>(n);
  return e->sendmsg(fd, &m, 0);
}

VEER_EXPORT ssize_t recv(int fd, void* buf, size_t n, int flags) {
  Engine* e = owner(fd);
  return e ? e->recv(fd, buf, n, flags) : real::recvfrom(fd, buf, n, flags, nullptr, nullptr);
}

VEER_EXPORT ssize_t send(int fd, const void* buf, size_t n, int flags) {
  Engine* e = owner(fd);
  return e ? e->send(fd, buf, n, flags) : real::sendto(fd, buf, n, flags, nullptr, 0);
}

VEER_EXPORT ssize_t recvfrom(int fd, void* buf, size_t n, int flags, sockaddr* addr,
                             socklen_t* len) {
  Engine* e = owner(fd);
  if (!e) return real::recvfrom(fd, buf, n, flags, addr, len);
  if (len) *len = 0;  // TCP reports no source address (msg_namelen = 0)
  return e->recv(fd, buf, n, flags);
}

VEER_EXPORT ssize_t sendto(int fd, const void* buf, size_t n, int flags, const sockaddr* addr,
                           socklen_t len) {
  Engine* e = owner(fd);
  // Linux ignores the address on a connected TCP socket.
  return e ? e->send(fd, buf, n, flags) : real::sendto(fd, buf, n, flags, addr, len);
}

VEER_EXPORT ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  Engine* e = owner(fd);
  return e ? e->recvmsg(fd, msg, flags) : real::recvmsg(fd, msg, flags);
}

VEER_EXPORT ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  Engine* e = owner(fd);
  return e ? e->sendmsg(fd, msg, flags) : real::sendmsg(fd, msg, flags);
}

VEER_EXPORT int shutdown(int fd, int how) {
  Engine* e = owner(fd);
  return e ? e->shutdown(fd, how) : real::shutdown(fd, how);
}

VEER_EXPORT int close(int fd) {
  Engine* e = known(fd);
  return e ? e->close(fd) : real::close(fd);
}

VEER_EXPORT int getsockname(int fd, sockaddr* addr, socklen_t* len) {
  Engine* e = owner(fd);
  return e ? e->getsockname(fd, addr, len) : real::getsockname(fd, addr, len);
}

VEER_EXPORT int getpeername(int fd, sockaddr* addr, socklen_t* len) {
  Engine* e = owner(fd);
  return e ? e->getpeername(fd, addr, len) : real::getpeername(fd, addr, len);
}

VEER_EXPORT int setsockopt(int fd, int level, int name, const void* val, socklen_t len) {
  Engine* e = owner(fd);
  return e ? e->setsockopt(fd, level, name, val, len) : real::setsockopt(fd, level, name, val, len);
}

VEER_EXPORT int getsockopt(int fd, int level, int name, void* val, socklen_t* len) {
  Engine* e = owner(fd);
  return e ? e->getsockopt(fd, level, name, val, len) : real::getsockopt(fd, level, name, val, len);
}

namespace {

int forward_fcntl(int fd, int cmd, va_list ap) {
  // Every fcntl argument fits in a long on LP64 (ints and pointers alike).
  long arg = va_arg(ap, long);
  Engine* e = known(fd);
  return e ? e->fcntl(fd, cmd, arg) : real::fcntl(fd, cmd, arg);
}

}  // namespace

VEER_EXPORT int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  int r = forward_fcntl(fd, cmd, ap);
  va_end(ap);
  return r;
}

// glibc 2.28+ also exports fcntl64; programs built with it call that name.
VEER_EXPORT int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  int r = forward_fcntl(fd, cmd, ap);
  va_end(ap);
  return r;
}

// glibc's fortified entry points (_FORTIFY_SOURCE): check the buffer, then
// behave as the plain call.
extern "C" [[noreturn]] void __chk_fail(void);

VEER_EXPORT ssize_t __read_chk(int fd, void* buf, size_t n, size_t buflen) {
  if (n > buflen) __chk_fail();
  return read(fd, buf, n);
}

VEER_EXPORT ssize_t __recv_chk(int fd, void* buf, size_t n, size_t buflen, int flags) {
  if (n > buflen) __chk_fail();
  return recv(fd, buf, n, flags);
}

VEER_EXPORT ssize_t __recvfrom_chk(int fd, void* buf, size_t n, size_t buflen, int flags,
                                   sockaddr* addr, socklen_t* len) {
  if (n > buflen) __chk_fail();
  return recvfrom(fd, buf, n, flags, addr, len);
}

// --- Readiness: poll, select, epoll -----------------------------------------------
//
// Calls that name no veer socket go straight to the kernel; the others are
// answered by the engine, which waits on the kernel fds and on the stack at
// once.

namespace {

std::optional<timespec> ms_to_timespec(int ms) {
  if (ms < 0) return std::nullopt;
  return timespec{ms / 1000, (ms % 1000) * 1000000L};
}

// select() through poll(), with Linux's sets (fs/select.c): readable is
// POLLIN/POLLHUP/POLLERR, writable POLLOUT/POLLERR, exceptional POLLPRI.
int select_via_engine(Engine& e, int n, fd_set* r, fd_set* w, fd_set* x, const timespec* timeout,
                      const sigset_t* mask) {
  std::vector<pollfd> fds;
  for (int fd = 0; fd < n; ++fd) {
    short ev = 0;
    if (r && FD_ISSET(fd, r)) ev |= POLLIN;
    if (w && FD_ISSET(fd, w)) ev |= POLLOUT;
    if (x && FD_ISSET(fd, x)) ev |= POLLPRI;
    if (ev) fds.push_back({fd, ev, 0});
  }
  int rc = e.poll(fds.data(), fds.size(), timeout, mask);
  if (rc < 0) return rc;
  for (const pollfd& p : fds) {
    if (p.revents & POLLNVAL) {
      errno = EBADF;
      return -1;
    }
  }
  int count = 0;
  for (const pollfd& p : fds) {
    auto keep = [&](fd_set* set, short bits, short ready) {
      if (!set || !(p.events & bits)) return;
      if (p.revents & ready) {
        ++count;
      } else {
        FD_CLR(p.fd, set);
      }
    };
    keep(r, POLLIN, POLLIN | POLLHUP | POLLERR);
    keep(w, POLLOUT, POLLOUT | POLLERR);
    keep(x, POLLPRI, POLLPRI);
  }
  return count;
}

bool select_names_veer(Engine* e, int n, const fd_set* r, const fd_set* w, const fd_set* x) {
  if (!e) return false;
  for (int fd = 0; fd < n; ++fd) {
    Engine::Track t = e->track_of(fd);
    if (t != Engine::kVeer && t != Engine::kEpoll) continue;
    if ((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (x && FD_ISSET(fd, x))) return true;
  }
  return false;
}

Engine* poll_owner(const pollfd* fds, nfds_t n) {
  Engine* e = g_engine.load(std::memory_order_acquire);
  return e && e->any_veer(fds, n) ? e : nullptr;
}

}  // namespace

// glibc declares poll()'s array write-only (__attr_access), but the events
// in it are input: GCC then thinks reading them reads uninitialised memory.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
VEER_EXPORT int poll(pollfd* fds, nfds_t n, int timeout) {
  Engine* e = poll_owner(fds, n);
  if (!e) return real::poll(fds, n, timeout);
  auto t = ms_to_timespec(timeout);
  return e->poll(fds, n, t ? &*t : nullptr, nullptr);
}

VEER_EXPORT int ppoll(pollfd* fds, nfds_t n, const timespec* timeout, const sigset_t* mask) {
  Engine* e = poll_owner(fds, n);
  if (!e) return real::ppoll(fds, n, timeout, mask);
  if (timeout && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000L)) {
    errno = EINVAL;
    return -1;
  }
  return e->poll(fds, n, timeout, mask);
}
#pragma GCC diagnostic pop

VEER_EXPORT int __poll_chk(pollfd* fds, nfds_t n, int timeout, size_t fdslen) {
  if (fdslen / sizeof(*fds) < n) __chk_fail();
  return poll(fds, n, timeout);
}

VEER_EXPORT int __ppoll_chk(pollfd* fds, nfds_t n, const timespec* timeout, const sigset_t* mask,
                            size_t fdslen) {
  if (fdslen / sizeof(*fds) < n) __chk_fail();
  return ppoll(fds, n, timeout, mask);
}

VEER_EXPORT int select(int n, fd_set* r, fd_set* w, fd_set* x, timeval* timeout) {
  Engine* e = g_engine.load(std::memory_order_acquire);
  if (!select_names_veer(e, n, r, w, x)) return real::select(n, r, w, x, timeout);
  if (timeout && (timeout->tv_sec < 0 || timeout->tv_usec < 0)) {
    errno = EINVAL;
    return -1;
  }
  std::optional<timespec> t;
  timespec start{};
  if (timeout) {
    t = timespec{timeout->tv_sec + timeout->tv_usec / 1000000, (timeout->tv_usec % 1000000) * 1000};
    clock_gettime(CLOCK_MONOTONIC, &start);
  }
  int rc = select_via_engine(*e, n, r, w, x, t ? &*t : nullptr, nullptr);
  if (timeout) {
    // Linux's select() leaves the time not slept in *timeout.
    timespec end{};
    clock_gettime(CLOCK_MONOTONIC, &end);
    int64_t slept = (end.tv_sec - start.tv_sec) * 1000000 + (end.tv_nsec - start.tv_nsec) / 1000;
    int64_t left = std::max<int64_t>(0, int64_t(t->tv_sec) * 1000000 + t->tv_nsec / 1000 - slept);
    timeout->tv_sec = left / 1000000;
    timeout->tv_usec = left % 1000000;
  }
  return rc;
}

VEER_EXPORT int pselect(int n, fd_set* r, fd_set* w, fd_set* x, const timespec* timeout,
                        const sigset_t* mask) {
  Engine* e = g_engine.load(std::memory_order_acquire);
  if (!select_names_veer(e, n, r, w, x)) return real::pselect(n, r, w, x, timeout, mask);
  return select_via_engine(*e, n, r, w, x, timeout, mask);
}

VEER_EXPORT int epoll_ctl(int epfd, int op, int fd, epoll_event* ev) {
  // Every call: an epoll fd added to another set matters to the engine.
  Engine* e = g_engine.load(std::memory_order_acquire);
  return e ? e->epoll_ctl(epfd, op, fd, ev) : real::epoll_ctl(epfd, op, fd, ev);
}

VEER_EXPORT int epoll_wait(int epfd, epoll_event* evs, int max, int timeout) {
  Engine* e = known(epfd);
  if (!e) return real::epoll_pwait(epfd, evs, max, timeout, nullptr);
  auto t = ms_to_timespec(timeout);
  return e->epoll_wait(epfd, evs, max, t ? &*t : nullptr, nullptr);
}

VEER_EXPORT int epoll_pwait(int epfd, epoll_event* evs, int max, int timeout,
                            const sigset_t* mask) {
  Engine* e = known(epfd);
  if (!e) return real::epoll_pwait(epfd, evs, max, timeout, mask);
  auto t = ms_to_timespec(timeout);
  return e->epoll_wait(epfd, evs, max, t ? &*t : nullptr, mask);
}

VEER_EXPORT int epoll_pwait2(int epfd, epoll_event* evs, int max, const timespec* timeout,
                             const sigset_t* mask) {
  Engine* e = known(epfd);
  if (!e) return real::epoll_pwait2(epfd, evs, max, timeout, mask);
  return e->epoll_wait(epfd, evs, max, timeout, mask);
}

// --- Descriptors ------------------------------------------------------------------

VEER_EXPORT int dup(int fd) {
  Engine* e = known(fd);
  return e ? e->dup(fd, 0, false) : real::dup(fd);
}

VEER_EXPORT int dup2(int fd, int fd2) {
  Engine* e = known(fd) ? known(fd) : known(fd2);
  return e ? e->dup3(fd, fd2, 0, true) : real::dup2(fd, fd2);
}

VEER_EXPORT int dup3(int fd, int fd2, int flags) {
  Engine* e = known(fd) ? known(fd) : known(fd2);
  return e ? e->dup3(fd, fd2, flags, false) : real::dup3(fd, fd2, flags);
}

VEER_EXPORT int close_range(unsigned first, unsigned last, int flags) {
  Engine* e = g_engine.load(std::memory_order_acquire);
  return e ? e->close_range(first, last, flags) : real::close_range(first, last, flags);
}

VEER_EXPORT void closefrom(int lowfd) {
  // glibc's closefrom() calls the close_range syscall directly: go around it.
  Engine* e = g_engine.load(std::memory_order_acquire);
  unsigned first = static_cast<unsigned>(std::max(lowfd, 0));
  if (e)
    e->close_range(first, ~0U, 0);
  else
    real::close_range(first, ~0U, 0);
}

VEER_EXPORT int ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  Engine* e = owner(fd);
  return e ? e->ioctl(fd, request, arg) : real::ioctl(fd, request, arg);
}

VEER_EXPORT ssize_t sendfile(int out, int in, off_t* offset, size_t count) {
  Engine* e = owner(out);
  return e ? e->sendfile(out, in, offset, count) : real::sendfile(out, in, offset, count);
}

VEER_EXPORT ssize_t sendfile64(int out, int in, off_t* offset, size_t count) {
  return sendfile(out, in, offset, count);
}

// splice: emulated when a veer socket is on either side (tee and vmsplice
// need pipes only, so the kernel's answer for a veer socket is Linux's).
VEER_EXPORT ssize_t splice(int in, loff_t* off_in, int out, loff_t* off_out, size_t len,
                           unsigned flags) {
  Engine* e = g_engine.load(std::memory_order_acquire);
  if (e && (e->track_of(in) == Engine::kVeer || e->track_of(out) == Engine::kVeer))
    return e->splice(in, off_in, out, off_out, len, flags);
  return real::splice(in, off_in, out, off_out, len, flags);
}

VEER_EXPORT int recvmmsg(int fd, mmsghdr* msgs, unsigned n, int flags, timespec* timeout) {
  Engine* e = owner(fd);
  if (!e) {
    using Fn = int (*)(int, mmsghdr*, unsigned, int, timespec*);
    static auto fn = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "recvmmsg"));
    return fn(fd, msgs, n, flags, timeout);
  }
  // One recvmsg per message; after the first, never wait (MSG_WAITFORONE is
  // what a stream socket gives anyway once data has come).
  unsigned i = 0;
  for (; i < n; ++i) {
    int f = flags & ~MSG_WAITFORONE;
    if (i > 0) f |= MSG_DONTWAIT;
    ssize_t r = e->recvmsg(fd, &msgs[i].msg_hdr, f);
    if (r < 0) break;
    msgs[i].msg_len = static_cast<unsigned>(r);
    if (r == 0) {
      ++i;
      break;
    }
  }
  return i > 0 ? static_cast<int>(i) : -1;
}

VEER_EXPORT int sendmmsg(int fd, mmsghdr* msgs, unsigned n, int flags) {
  Engine* e = owner(fd);
  if (!e) {
    using Fn = int (*)(int, mmsghdr*, unsigned, int);
    static auto fn = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "sendmmsg"));
    return fn(fd, msgs, n, flags);
  }
  unsigned i = 0;
  for (; i < n; ++i) {
    ssize_t r = e->sendmsg(fd, &msgs[i].msg_hdr, flags);
    if (r < 0) break;
    msgs[i].msg_len = static_cast<unsigned>(r);
  }
  return i > 0 ? static_cast<int>(i) : -1;
}
