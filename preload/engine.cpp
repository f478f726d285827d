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
#include <cerrno>
#include <cstring>
#include <vector>

#include "netdev/tap_device.h"
#include "preload/config_load.h"
#include "preload/log.h"
#include "preload/real.h"

namespace veer::preload {
namespace {

int fail(int err) {
  errno = err;
  return -1;
}

std::optional<Endpoint> to_endpoint(const sockaddr* a, socklen_t len) {
  if (!a || len < static_cast<socklen_t>(sizeof(sockaddr_in))) return std::nullopt;
  sockaddr_in in;
  std::memcpy(&in, a, sizeof in);
  if (in.sin_family != AF_INET) return std::nullopt;
  return Endpoint{Ipv4Addr(ntohl(in.sin_addr.s_addr)), ntohs(in.sin_port)};
}

// Fills a caller's sockaddr the way the kernel does (move_addr_to_user):
// truncated to the caller's length, which is then set to the full length.
void fill_sockaddr(Endpoint e, sockaddr* out, socklen_t* len) {
  if (!out || !len) return;
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(e.port);
  in.sin_addr.s_addr = htonl(e.addr.v);
  std::memcpy(out, &in, std::min<size_t>(*len, sizeof in));
  *len = sizeof in;
}

// getsockopt's int result, as the kernel writes it.
int put_int(int value, void* val, socklen_t* len) {
  if (!val || !len) return fail(EFAULT);
  if (static_cast<int>(*len) < 0) return fail(EINVAL);
  socklen_t n = std::min<socklen_t>(*len, sizeof(int));
  std::memcpy(val, &value, n);
  *len = n;
  return 0;
}

}  // namespace

// Frames from the stack go straight to the device, from whichever thread
// holds the engine lock.
struct Engine::DeviceSink : core::FrameSink {
  netdev::Device* device = nullptr;
  void transmit(Bytes frame) override {
    int r = device->transmit(frame);
    if (r < 0 && r != -EAGAIN) {
      log_once("device-transmit", "sending a frame on %s failed: %s (further failures not logged)",
               device->name().c_str(), std::strerror(-r));
    }
  }
};

Engine& Engine::get() {
  // Never destroyed: exit handlers and other threads may still use it.
  static Engine* engine = new Engine();
  return *engine;
}

Engine::Engine() {
  std::vector<std::string> sources;
  if (auto err = load_config(config_, &sources)) {
    std::string msg = "veer: " + err->message + "\n";
    (void)real::write(2, msg.data(), msg.size());
    _exit(2);
  }
  int log_fd = 2;
  if (const std::string& file = config_.get_text("log_file"); !file.empty()) {
    log_fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (log_fd < 0) log_fd = 2;
  }
  log_configure(log_level_from(config_.get_text("log")), log_fd);
  if (log_enabled(LogLevel::Info)) {
    std::string from = "defaults";
    for (const auto& s : sources) from += ", " + s;
    std::string changed;
    for (const auto& s : config_.non_default_summary()) changed += " " + s;
    log_write(LogLevel::Info, "config from %s; non-default:%s", from.c_str(),
              changed.empty() ? " none" : changed.c_str());
  }
  stack_config_ = config_.stack_config();
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
  return it == fds_.end() ? nullptr : &it->second;
}

void Engine::track(int fd, bool on) {
  if (fd >= 0 && fd < kMaxFds) tracked_[fd].store(on ? 1 : 0, std::memory_order_release);
}

bool Engine::serves(Ipv4Addr addr) const {
  // Veer serves its own subnet; loopback and everything else stay with the
  // kernel (routing through veer's gateway comes with the [programs] work).
  return !addr.is_loopback() && stack_config_.address.contains(addr);
}

void Engine::on_tcp_socket(int fd, bool nonblock) {
  if (fd >= kMaxFds) {
    log_once("fd-too-high", "fd %d is beyond the %d fds veer tracks: it stays a kernel socket", fd,
             kMaxFds);
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  fds_[fd] = FdEntry{.nonblock = nonblock};
  track(fd, true);
}

int Engine::start_locked() {
  if (started_) return 0;
  if (start_error_) return start_error_;
  std::string name = config_.device_name();
  std::string err;
  auto tap = netdev::TapDevice::open(name, &err);
  if (!tap) {
    // Without a device no socket can reach veer's network: every call that
    // needs it fails with ENETDOWN, and this says why, once.
    log_write(LogLevel::Error, "cannot use TAP device %s: %s%s", name.c_str(), err.c_str(),
              err.find("busy") == std::string::npos ? " (does it exist? `veer net up` makes it)"
                                                    : " (one veer process per TAP for now)");
    start_error_ = ENETDOWN;
    return start_error_;
  }
  stack_config_.mtu = static_cast<uint16_t>(std::min<int>(config_.get_int("mtu"), tap->mtu()));
  device_ = std::move(tap);
  sink_ = std::make_unique<DeviceSink>();
  sink_->device = device_.get();
  stack_ = std::make_unique<core::Stack>(stack_config_, *sink_);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    start_error_ = errno;
    return start_error_;
  }
  io_ = std::thread([this] { io_loop(); });
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
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    std::optional<Time> deadline = stack_->next_deadline();
    io_sleep_until_ = deadline;
    timespec ts{};
    timespec* timeout = nullptr;
    if (deadline) {
      Time wait = std::max(Time::zero(), *deadline - now());
      ts.tv_sec = static_cast<time_t>(wait.count() / 1000000000);
      ts.tv_nsec = static_cast<long>(wait.count() % 1000000000);
      timeout = &ts;
    }
    lk.unlock();
    pollfd pfd[2] = {{device_->pollable_fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int n = real::ppoll(pfd, 2, timeout, nullptr);
    if (n > 0 && (pfd[1].revents & POLLIN)) {
      uint64_t v;
      (void)real::read(wake_fd_, &v, sizeof v);
    }
    lk.lock();
    io_sleep_until_.reset();
    Time t = now();
    for (int burst = 0; burst < 16; ++burst) {
      int got = device_->receive_burst(64, [&](Bytes frame) { stack_->input(frame, t); });
      if (got <= 0) {
        if (got < 0)
          log_once("device-receive", "receiving on %s failed: %s", device_->name().c_str(),
                   std::strerror(-got));
        break;
      }
    }
    stack_->poll(t);
    cv_.notify_all();
  }
}

void Engine::kick_locked() {
  if (!started_) return;
  std::optional<Time> d = stack_->next_deadline();
  if (d && (!io_sleep_until_ || *d < *io_sleep_until_)) {
    io_sleep_until_ = d;
    uint64_t one = 1;
    (void)real::write(wake_fd_, &one, sizeof one);
  }
}

int Engine::adopt_locked(int fd, FdEntry& e) {
  if (int err = start_locked()) return err;
  core::SocketId s = stack_->tcp_socket().value();
  stack_->set_option(s, core::SockOpt::ReuseAddr, e.reuse_addr);
  stack_->set_option(s, core::SockOpt::NoDelay, e.nodelay);
  stack_->set_option(s, core::SockOpt::KeepAlive, e.keepalive);
  // Put an eventfd in place of the kernel socket at the same number: the fd
  // stays reserved, and its readiness can later mirror the veer socket's.
  int fd_flags = real::fcntl(fd, F_GETFD, 0);
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) {
    int err = errno;
    stack_->close(s, now());
    return err;
  }
  if (dup3(efd, fd, (fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
    int err = errno;
    real::close(efd);
    stack_->close(s, now());
    return err;
  }
  real::close(efd);
  e.kind = FdEntry::Kind::Veer;
  e.sock = s;
  return 0;
}

void Engine::release_to_kernel_locked(int fd, const char* why) {
  VEER_LOG(Debug, "fd %d goes to the kernel: %s", fd, why);
  fds_.erase(fd);
  track(fd, false);
}

// --- Socket calls --------------------------------------------------------------

int Engine::bind(int fd, const sockaddr* addr, socklen_t len) {
  std::unique_lock<std::mutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e) return lk.unlock(), real::bind(fd, addr, len);
  auto ep = to_endpoint(addr, len);
  if (e->kind == FdEntry::Kind::Pending) {
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
  if (!ep) return fail(addr && len >= sizeof(sa_family_t) ? EAFNOSUPPORT : EINVAL);
  if (int err = stack_->bind(e->sock, *ep)) return fail(err);
  return 0;
}

int Engine::listen(int fd, int backlog) {
  std::unique_lock<std::mutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e || e->kind == FdEntry::Kind::Pending) {
    // listen() without bind(): Linux picks a port on every address; veer
    // leaves such a socket to the kernel.
    if (e) release_to_kernel_locked(fd, "listen() without bind()");
    lk.unlock();
    return real::listen(fd, backlog);
  }
  if (int err = stack_->listen(e->sock, backlog)) return fail(err);
  return 0;
}

int Engine::accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  std::unique_lock<std::mutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e || e->kind == FdEntry::Kind::Pending)
    return lk.unlock(), real::accept4(fd, addr, len, flags);
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return fail(EINVAL);
  for (;;) {
    Endpoint peer;
    auto r = stack_->accept(e->sock, &peer);
    if (r.ok()) {
      int nfd = eventfd(0, EFD_NONBLOCK | ((flags & SOCK_CLOEXEC) ? EFD_CLOEXEC : 0));
      if (nfd < 0 || nfd >= kMaxFds) {
        int err = nfd < 0 ? errno : EMFILE;
        if (nfd >= 0) real::close(nfd);
        stack_->close(r.value(), now());
        kick_locked();
        return fail(err);
      }
      fds_[nfd] = FdEntry{
          .kind = FdEntry::Kind::Veer, .nonblock = (flags & SOCK_NONBLOCK) != 0, .sock = r.value()};
      track(nfd, true);
      fill_sockaddr(peer, addr, len);
      VEER_LOG(Debug, "fd %d accepted %s on fd %d", nfd, peer.to_string().c_str(), fd);
      return nfd;
    }
    if (r.err() != EAGAIN) return fail(r.err());
    if (e->nonblock) return fail(EAGAIN);
    cv_.wait(lk);
    e = find(fd);
    if (!e) return fail(EBADF);
  }
}

int Engine::connect(int fd, const sockaddr* addr, socklen_t len) {
  std::unique_lock<std::mutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e) return lk.unlock(), real::connect(fd, addr, len);
  auto ep = to_endpoint(addr, len);
  if (e->kind == FdEntry::Kind::Pending) {
    if (!ep) return lk.unlock(), real::connect(fd, addr, len);
    if (!serves(ep->addr)) {
      std::string why =
          "connect to " + ep->to_string() + " is outside " + stack_config_.address.to_string();
      release_to_kernel_locked(fd, why.c_str());
      lk.unlock();
      return real::connect(fd, addr, len);
    }
    if (int err = adopt_locked(fd, *e)) return fail(err);
    VEER_LOG(Debug, "fd %d is a veer socket (connect %s)", fd, ep->to_string().c_str());
  }
  if (!ep) return fail(addr && len >= sizeof(sa_family_t) ? EAFNOSUPPORT : EINVAL);
  int r = stack_->connect(e->sock, *ep, now());
  kick_locked();
  if (r == EINPROGRESS && !e->nonblock) {
    // Block until the handshake ends, then ask again: 0 or why it failed
    // (__inet_stream_connect()).
    for (;;) {
      auto st = stack_->state(e->sock);
      if (!st || (*st != core::TcpState::SynSent && *st != core::TcpState::SynReceived)) break;
      cv_.wait(lk);
      e = find(fd);
      if (!e) return fail(EBADF);
    }
    r = stack_->connect(e->sock, *ep, now());
  }
  return r ? fail(r) : 0;
}

ssize_t Engine::recv(int fd, void* buf, size_t n, int flags) {
  std::unique_lock<std::mutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e || e->kind == FdEntry::Kind::Pending) {
    lk.unlock();
    return real::recvfrom(fd, buf, n, flags, nullptr, nullptr);
  }
  if (flags & MSG_OOB) {
    log_once("recv-oob", "recv(MSG_OOB) on a veer socket: urgent data is not supported yet");
    return fail(EINVAL);
  }
  if (flags & MSG_ERRQUEUE) return fail(EAGAIN);  // nothing is ever queued there
  if (n == 0) return 0;
  bool peek = flags & MSG_PEEK;
  bool waitall = (flags & MSG_WAITALL) && !peek;
  bool dontwait = e->nonblock || (flags & MSG_DONTWAIT);
  auto* out = static_cast<std::byte*>(buf);
  size_t got = 0;
  for (;;) {
    auto r = stack_->recv(e->sock, MutableBytes(out + got, n - got), now(), peek);
    if (r.ok()) {
      got += r.value();
      if (r.value() == 0 || !waitall || got == n) break;
    } else if (r.err() != EAGAIN) {
      if (got) break;
      kick_locked();
      return fail(r.err());
    } else if (dontwait) {
      if (got) break;
      return fail(EAGAIN);
    }
    if (dontwait) break;
    cv_.wait(lk);
    e = find(fd);
    if (!e) return got ? static_cast<ssize_t>(got) : fail(EBADF);
  }
  kick_locked();
  return static_cast<ssize_t>(got);
}

ssize_t Engine::send(int fd, const void* buf, size_t n, int flags) {
  std::unique_lock<std::mutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e || e->kind == FdEntry::Kind::Pending) {
    lk.unlock();
    return real::sendto(fd, buf, n, flags, nullptr, 0);
  }
  if (flags & MSG_OOB) {
    log_once("send-oob", "send(MSG_OOB) on a veer socket: urgent data is not supported yet");
    return fail(EOPNOTSUPP);
  }
  if (flags & MSG_MORE) log_once("send-more", "send(MSG_MORE): veer does not cork yet; sent now");
  bool dontwait = e->nonblock || (flags & MSG_DONTWAIT);
  const auto* in = static_cast<const std::byte*>(buf);
  size_t sent = 0;
  int err = 0;
  do {
    auto r = stack_->send(e->sock, Bytes(in + sent, n - sent), now());
    if (r.ok()) {
      sent += r.value();
      continue;
    }
    if (r.err() != EAGAIN) {
      err = r.err();
      break;
    }
    if (dontwait) break;
    cv_.wait(lk);
    e = find(fd);
    if (!e) {
      err = EBADF;
      break;
    }
  } while (sent < n);
  kick_locked();
  lk.unlock();
  if (sent > 0 || n == 0) return static_cast<ssize_t>(sent);
  if (err == 0) return fail(EAGAIN);
  // sk_stream_error(): EPIPE comes with SIGPIPE unless MSG_NOSIGNAL.
  if (err == EPIPE && !(flags & MSG_NOSIGNAL)) raise(SIGPIPE);
  return fail(err);
}

ssize_t Engine::recvmsg(int fd, msghdr* msg, int flags) {
  size_t total = 0;
  for (size_t i = 0; i < msg->msg_iovlen; ++i) total += msg->msg_iov[i].iov_len;
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
  msg->msg_flags = 0;
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
  std::unique_lock<std::mutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e || e->kind == FdEntry::Kind::Pending) return lk.unlock(), real::shutdown(fd, how);
  core::Shut s;
  switch (how) {
    case SHUT_RD:
      s = core::Shut::Read;
      break;
    case SHUT_WR:
      s = core::Shut::Write;
      break;
    case SHUT_RDWR:
      s = core::Shut::Both;
      break;
    default:
      return fail(EINVAL);
  }
  int err = stack_->shutdown(e->sock, s, now());
  kick_locked();
  cv_.notify_all();  // readers blocked on this socket see EOF now
  return err ? fail(err) : 0;
}

int Engine::close(int fd) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    FdEntry* e = find(fd);
    if (e && e->kind == FdEntry::Kind::Veer) {
      stack_->close(e->sock, now());
      kick_locked();
    }
    fds_.erase(fd);
    track(fd, false);
    cv_.notify_all();  // threads blocked on this fd give up with EBADF
  }
  return real::close(fd);
}

int Engine::getsockname(int fd, sockaddr* addr, socklen_t* len) {
  std::unique_lock<std::mutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e || e->kind == FdEntry::Kind::Pending) return lk.unlock(), real::getsockname(fd, addr, len);
  if (!addr || !len) return fail(EFAULT);
  fill_sockaddr(stack_->local_endpoint(e->sock).value_or(Endpoint{}), addr, len);
  return 0;
}

int Engine::getpeername(int fd, sockaddr* addr, socklen_t* len) {
  std::unique_lock<std::mutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e || e->kind == FdEntry::Kind::Pending) return lk.unlock(), real::getpeername(fd, addr, len);
  auto peer = stack_->remote_endpoint(e->sock);
  if (!peer) return fail(ENOTCONN);
  if (!addr || !len) return fail(EFAULT);
  fill_sockaddr(*peer, addr, len);
  return 0;
}

int Engine::setsockopt(int fd, int level, int name, const void* val, socklen_t len) {
  std::unique_lock<std::mutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e) return lk.unlock(), real::setsockopt(fd, level, name, val, len);
  std::optional<core::SockOpt> opt;
  if (level == SOL_SOCKET && name == SO_REUSEADDR) opt = core::SockOpt::ReuseAddr;
  if (level == SOL_SOCKET && name == SO_KEEPALIVE) opt = core::SockOpt::KeepAlive;
  if (level == IPPROTO_TCP && name == TCP_NODELAY) opt = core::SockOpt::NoDelay;
  if (e->kind == FdEntry::Kind::Pending) {
    // Still a kernel socket: the kernel checks and keeps the option, and
    // veer remembers the ones it will carry over.
    int r = real::setsockopt(fd, level, name, val, len);
    if (r == 0 && opt && val && len >= static_cast<socklen_t>(sizeof(int))) {
      int v;
      std::memcpy(&v, val, sizeof v);
      if (*opt == core::SockOpt::ReuseAddr) e->reuse_addr = v != 0;
      if (*opt == core::SockOpt::KeepAlive) e->keepalive = v != 0;
      if (*opt == core::SockOpt::NoDelay) e->nodelay = v != 0;
    }
    return r;
  }
  if (opt) {
    if (!val || len < static_cast<socklen_t>(sizeof(int))) return fail(EINVAL);
    int v;
    std::memcpy(&v, val, sizeof v);
    int err = stack_->set_option(e->sock, *opt, v);
    kick_locked();
    return err ? fail(err) : 0;
  }
  if (level == SOL_SOCKET && (name == SO_SNDBUF || name == SO_RCVBUF)) {
    // Linux accepts any size and clamps it; veer's buffers are fixed until
    // the [tcp] work, so accept the call like Linux and say so once.
    log_once("sockbuf", "SO_SNDBUF/SO_RCVBUF are accepted but not honoured by veer yet");
    return 0;
  }
  char key[48];
  std::snprintf(key, sizeof key, "setsockopt-%d-%d", level, name);
  log_once(key, "setsockopt(level %d, option %d) is not supported by veer yet: ENOPROTOOPT", level,
           name);
  return fail(ENOPROTOOPT);
}

int Engine::getsockopt(int fd, int level, int name, void* val, socklen_t* len) {
  std::unique_lock<std::mutex> lk(mu_);
  FdEntry* e = find(fd);
  if (!e || e->kind == FdEntry::Kind::Pending)
    return lk.unlock(), real::getsockopt(fd, level, name, val, len);
  auto get = [&](core::SockOpt o) {
    return put_int(stack_->get_option(e->sock, o).value(), val, len);
  };
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_ERROR:
        return put_int(stack_->take_error(e->sock), val, len);
      case SO_TYPE:
        return put_int(SOCK_STREAM, val, len);
      case SO_DOMAIN:
        return put_int(AF_INET, val, len);
      case SO_PROTOCOL:
        return put_int(IPPROTO_TCP, val, len);
      case SO_ACCEPTCONN:
        return put_int(stack_->state(e->sock) == core::TcpState::Listen ? 1 : 0, val, len);
      case SO_REUSEADDR:
        return get(core::SockOpt::ReuseAddr);
      case SO_KEEPALIVE:
        return get(core::SockOpt::KeepAlive);
      case SO_SNDBUF:
        return put_int(stack_config_.tcp.wmem_default, val, len);
      case SO_RCVBUF:
        return put_int(stack_config_.tcp.rmem_default, val, len);
      default:
        break;
    }
  } else if (level == IPPROTO_TCP && name == TCP_NODELAY) {
    return get(core::SockOpt::NoDelay);
  }
  char key[48];
  std::snprintf(key, sizeof key, "getsockopt-%d-%d", level, name);
  log_once(key, "getsockopt(level %d, option %d) is not supported by veer yet: ENOPROTOOPT", level,
           name);
  return fail(ENOPROTOOPT);
}

int Engine::fcntl(int fd, int cmd, long arg) {
  std::unique_lock<std::mutex> lk(mu_);
  FdEntry* e = find(fd);
  if (e && cmd == F_SETFL) e->nonblock = (arg & O_NONBLOCK) != 0;
  if (!e || e->kind == FdEntry::Kind::Pending) return lk.unlock(), real::fcntl(fd, cmd, arg);
  switch (cmd) {
    case F_GETFL:
      return O_RDWR | (e->nonblock ? O_NONBLOCK : 0);
    case F_SETFL:
      return 0;
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      log_once("dup", "duplicating a veer socket is not supported yet: EINVAL");
      return fail(EINVAL);
    default:
      // F_GETFD/F_SETFD and the rest act on the fd itself.
      lk.unlock();
      return real::fcntl(fd, cmd, arg);
  }
}

void Engine::linger_at_exit() {
  std::unique_lock<std::mutex> lk(mu_);
  if (!started_) return;
  auto until = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(config_.get_int("exit_linger_ms"));
  while (stack_->connections_with_pending_output() > 0) {
    if (cv_.wait_until(lk, until) == std::cv_status::timeout) {
      VEER_LOG(Warn, "exiting with %zu connection(s) still sending",
               stack_->connections_with_pending_output());
      break;
    }
  }
}

}  // namespace veer::preload
