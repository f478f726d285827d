// The libc functions the interposer wraps, resolved with dlsym(RTLD_NEXT)
// once, so veer can always reach the kernel's own implementation.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

namespace veer::preload::real {

int socket(int domain, int type, int protocol);
int bind(int fd, const sockaddr* addr, socklen_t len);
int listen(int fd, int backlog);
int accept4(int fd, sockaddr* addr, socklen_t* len, int flags);
int connect(int fd, const sockaddr* addr, socklen_t len);
ssize_t read(int fd, void* buf, size_t n);
ssize_t write(int fd, const void* buf, size_t n);
ssize_t readv(int fd, const iovec* iov, int n);
ssize_t writev(int fd, const iovec* iov, int n);
ssize_t recvfrom(int fd, void* buf, size_t n, int flags, sockaddr* addr, socklen_t* len);
ssize_t sendto(int fd, const void* buf, size_t n, int flags, const sockaddr* addr, socklen_t len);
ssize_t recvmsg(int fd, msghdr* msg, int flags);
ssize_t sendmsg(int fd, const msghdr* msg, int flags);
int shutdown(int fd, int how);
int close(int fd);
int getsockname(int fd, sockaddr* addr, socklen_t* len);
int getpeername(int fd, sockaddr* addr, socklen_t* len);
int setsockopt(int fd, int level, int name, const void* val, socklen_t len);
int getsockopt(int fd, int level, int name, void* val, socklen_t* len);
int fcntl(int fd, int cmd, long arg);
int poll(pollfd* fds, nfds_t n, int timeout);
int ppoll(pollfd* fds, nfds_t n, const timespec* timeout, const sigset_t* mask);
int select(int n, fd_set* r, fd_set* w, fd_set* x, timeval* timeout);
int pselect(int n, fd_set* r, fd_set* w, fd_set* x, const timespec* timeout, const sigset_t* mask);
int epoll_ctl(int epfd, int op, int fd, epoll_event* ev);
int epoll_pwait(int epfd, epoll_event* evs, int max, int timeout, const sigset_t* mask);
int epoll_pwait2(int epfd, epoll_event* evs, int max, const timespec* timeout,
                 const sigset_t* mask);
int dup(int fd);
int dup2(int fd, int fd2);
int dup3(int fd, int fd2, int flags);
int ioctl(int fd, unsigned long request, void* arg);
int close_range(unsigned first, unsigned last, int flags);
ssize_t sendfile(int out, int in, off_t* offset, size_t count);
ssize_t splice(int in, loff_t* off_in, int out, loff_t* off_out, size_t len, unsigned flags);

}  // namespace veer::preload::real
