#include "preload/real.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

namespace veer::preload::real {
namespace {

// Resolves `name` from the next object after libveer.so. Function-local
// statics make the lookup thread-safe and once-only. If the lookup fails,
// nothing sensible can continue: say so with raw syscalls and abort.
template <typename F>
F resolve(const char* name) {
  void* p = dlsym(RTLD_NEXT, name);
  if (!p) {
    static const char msg[] = "veer: cannot resolve a libc function\n";
    syscall(SYS_write, 2, msg, sizeof msg - 1);
    std::abort();
  }
  return reinterpret_cast<F>(p);
}

#define VEER_REAL(name) static auto fn = resolve<decltype(&::name)>(#name)

}  // namespace

int socket(int d, int t, int p) {
  VEER_REAL(socket);
  return fn(d, t, p);
}
int bind(int fd, const sockaddr* a, socklen_t l) {
  VEER_REAL(bind);
  return fn(fd, a, l);
}
int listen(int fd, int b) {
  VEER_REAL(listen);
  return fn(fd, b);
}
int accept4(int fd, sockaddr* a, socklen_t* l, int f) {
  VEER_REAL(accept4);
  return fn(fd, a, l, f);
}
int connect(int fd, const sockaddr* a, socklen_t l) {
  VEER_REAL(connect);
  return fn(fd, a, l);
}
ssize_t read(int fd, void* b, size_t n) {
  VEER_REAL(read);
  return fn(fd, b, n);
}
ssize_t write(int fd, const void* b, size_t n) {
  VEER_REAL(write);
  return fn(fd, b, n);
}
ssize_t readv(int fd, const iovec* v, int n) {
  VEER_REAL(readv);
  return fn(fd, v, n);
}
ssize_t writev(int fd, const iovec* v, int n) {
  VEER_REAL(writev);
  return fn(fd, v, n);
}
ssize_t recvfrom(int fd, void* b, size_t n, int f, sockaddr* a, socklen_t* l) {
  VEER_REAL(recvfrom);
  return fn(fd, b, n, f, a, l);
}
ssize_t sendto(int fd, const void* b, size_t n, int f, const sockaddr* a, socklen_t l) {
  VEER_REAL(sendto);
  return fn(fd, b, n, f, a, l);
}
ssize_t recvmsg(int fd, msghdr* m, int f) {
  VEER_REAL(recvmsg);
  return fn(fd, m, f);
}
ssize_t sendmsg(int fd, const msghdr* m, int f) {
  VEER_REAL(sendmsg);
  return fn(fd, m, f);
}
int shutdown(int fd, int h) {
  VEER_REAL(shutdown);
  return fn(fd, h);
}
int close(int fd) {
  VEER_REAL(close);
  return fn(fd);
}
int getsockname(int fd, sockaddr* a, socklen_t* l) {
  VEER_REAL(getsockname);
  return fn(fd, a, l);
}
int getpeername(int fd, sockaddr* a, socklen_t* l) {
  VEER_REAL(getpeername);
  return fn(fd, a, l);
}
int setsockopt(int fd, int lv, int nm, const void* v, socklen_t l) {
  VEER_REAL(setsockopt);
  return fn(fd, lv, nm, v, l);
}
int getsockopt(int fd, int lv, int nm, void* v, socklen_t* l) {
  VEER_REAL(getsockopt);
  return fn(fd, lv, nm, v, l);
}
int fcntl(int fd, int cmd, long arg) {
  using Fcntl = int (*)(int, int, ...);
  static auto fn = resolve<Fcntl>("fcntl");
  return fn(fd, cmd, arg);
}
int poll(pollfd* fds, nfds_t n, int timeout) {
  VEER_REAL(poll);
  return fn(fds, n, timeout);
}

int ppoll(pollfd* fds, nfds_t n, const timespec* timeout, const sigset_t* mask) {
  VEER_REAL(ppoll);
  return fn(fds, n, timeout, mask);
}

int select(int n, fd_set* r, fd_set* w, fd_set* x, timeval* t) {
  VEER_REAL(select);
  return fn(n, r, w, x, t);
}
int pselect(int n, fd_set* r, fd_set* w, fd_set* x, const timespec* t, const sigset_t* m) {
  VEER_REAL(pselect);
  return fn(n, r, w, x, t, m);
}
int epoll_ctl(int epfd, int op, int fd, epoll_event* ev) {
  VEER_REAL(epoll_ctl);
  return fn(epfd, op, fd, ev);
}
int epoll_pwait(int epfd, epoll_event* evs, int max, int timeout, const sigset_t* mask) {
  VEER_REAL(epoll_pwait);
  return fn(epfd, evs, max, timeout, mask);
}
int epoll_pwait2(int epfd, epoll_event* evs, int max, const timespec* t, const sigset_t* m) {
  VEER_REAL(epoll_pwait2);
  return fn(epfd, evs, max, t, m);
}
int dup(int fd) {
  VEER_REAL(dup);
  return fn(fd);
}
int dup2(int fd, int fd2) {
  VEER_REAL(dup2);
  return fn(fd, fd2);
}
int dup3(int fd, int fd2, int flags) {
  VEER_REAL(dup3);
  return fn(fd, fd2, flags);
}
int ioctl(int fd, unsigned long request, void* arg) {
  using Ioctl = int (*)(int, unsigned long, ...);
  static auto fn = resolve<Ioctl>("ioctl");
  return fn(fd, request, arg);
}
int close_range(unsigned first, unsigned last, int flags) {
  VEER_REAL(close_range);
  return fn(first, last, flags);
}
ssize_t splice(int in, loff_t* off_in, int out, loff_t* off_out, size_t len, unsigned flags) {
  VEER_REAL(splice);
  return fn(in, off_in, out, off_out, len, flags);
}
ssize_t sendfile(int out, int in, off_t* offset, size_t count) {
  VEER_REAL(sendfile);
  return fn(out, in, offset, count);
}

}  // namespace veer::preload::real
