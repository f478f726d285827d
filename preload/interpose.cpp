// The libc socket API as libveer.so exports it. Each call checks whether
// the fd is one of veer's (one atomic load) and otherwise goes straight to
// the real function, so programs pay nearly nothing for kernel fds.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>

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

Engine* owner(int fd) {
  Engine* e = g_engine.load(std::memory_order_acquire);
  return e && e->tracked(fd) ? e : nullptr;
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
  Engine* e = owner(fd);
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
  Engine* e = owner(fd);
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
