#include "preload/socket_calls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cstring>

#include "preload/tcp_info_fill.h"

namespace veer::preload {
namespace {

// TCP_RTO_MAX_MS (Linux 6.15, include/uapi/linux/tcp.h): newer than
// Debian 12's headers.
constexpr int kTcpRtoMaxMs = 44;

CallResult done(long ret) {
  CallResult r;
  r.ret = ret;
  return r;
}

CallResult fail(int err) {
  CallResult r;
  r.ret = -1;
  r.err = err;
  return r;
}

CallResult would_block() {
  CallResult r;
  r.status = CallStatus::WouldBlock;
  return r;
}

CallResult with(CallResult r, Unsupported u) {
  r.unsupported = u;
  return r;
}

Unsupported unsupported_option(int level, int name, bool get) {
  return Unsupported{
      .key = "sockopt", .message = nullptr, .level = level, .name = name, .get = get};
}

// getsockopt's int result, as the kernel writes it.
CallResult put_int(int value, void* val, socklen_t* len) {
  if (!val || !len) return fail(EFAULT);
  if (static_cast<int>(*len) < 0) return fail(EINVAL);
  socklen_t n = std::min<socklen_t>(*len, sizeof(int));
  std::memcpy(val, &value, n);
  *len = n;
  return done(0);
}

// bind() and connect() with an address veer cannot use.
int bad_address_errno(const sockaddr* addr, socklen_t len) {
  return addr && len >= sizeof(sa_family_t) ? EAFNOSUPPORT : EINVAL;
}

}  // namespace

std::optional<Endpoint> to_endpoint(const sockaddr* a, socklen_t len) {
  if (!a || len < static_cast<socklen_t>(sizeof(sockaddr_in))) return std::nullopt;
  sockaddr_in in;
  std::memcpy(&in, a, sizeof in);
  if (in.sin_family != AF_INET) return std::nullopt;
  return Endpoint{Ipv4Addr(ntohl(in.sin_addr.s_addr)), ntohs(in.sin_port)};
}

void fill_sockaddr(Endpoint e, sockaddr* out, socklen_t* len) {
  if (!out || !len) return;
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(e.port);
  in.sin_addr.s_addr = htonl(e.addr.v);
  std::memcpy(out, &in, std::min<size_t>(*len, sizeof in));
  *len = sizeof in;
}

std::optional<core::SockOpt> stack_option(int level, int name) {
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_REUSEADDR:
        return core::SockOpt::ReuseAddr;
      case SO_KEEPALIVE:
        return core::SockOpt::KeepAlive;
      case SO_SNDBUF:
        return core::SockOpt::SndBuf;
      case SO_RCVBUF:
        return core::SockOpt::RcvBuf;
      case SO_OOBINLINE:
        return core::SockOpt::OobInline;
      default:
        break;
    }
  }
  if (level == IPPROTO_TCP) {
    switch (name) {
      case TCP_NODELAY:
        return core::SockOpt::NoDelay;
      case TCP_KEEPIDLE:
        return core::SockOpt::KeepIdle;
      case TCP_KEEPINTVL:
        return core::SockOpt::KeepIntvl;
      case TCP_KEEPCNT:
        return core::SockOpt::KeepCnt;
      case TCP_USER_TIMEOUT:
        return core::SockOpt::UserTimeoutMs;
      case TCP_MAXSEG:
        return core::SockOpt::MaxSeg;
      case TCP_CORK:
        return core::SockOpt::Cork;
      case TCP_NOTSENT_LOWAT:
        return core::SockOpt::NotSentLowat;
      case kTcpRtoMaxMs:
        return core::SockOpt::RtoMaxMs;
      default:
        break;
    }
  }
  return std::nullopt;
}

CallResult SocketCalls::bind(core::SocketId s, const sockaddr* addr, socklen_t len) {
  auto ep = to_endpoint(addr, len);
  if (!ep) return fail(bad_address_errno(addr, len));
  if (int err = stack_.bind(s, *ep)) return fail(err);
  return done(0);
}

CallResult SocketCalls::listen(core::SocketId s, int backlog) {
  if (int err = stack_.listen(s, backlog)) return fail(err);
  return done(0);
}

CallResult SocketCalls::accept4(core::SocketId s, int flags, bool nonblock) {
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return fail(EINVAL);
  Endpoint peer;
  auto r = stack_.accept(s, &peer);
  if (r.ok()) {
    CallResult out = done(0);
    out.accepted = r.value();
    out.peer = peer;
    return out;
  }
  if (r.err() != EAGAIN) return fail(r.err());
  return nonblock ? fail(EAGAIN) : would_block();
}

CallResult SocketCalls::connect(core::SocketId s, const sockaddr* addr, socklen_t len,
                                bool nonblock, CallProgress& progress) {
  auto ep = to_endpoint(addr, len);
  if (!progress.started) {
    if (!ep) return fail(bad_address_errno(addr, len));
    int r = stack_.connect(s, *ep, now_);
    if (r != EINPROGRESS || nonblock) return r ? fail(r) : done(0);
    progress.started = true;
  }
  // A blocking connect waits for the handshake to end, then asks again: 0 or
  // why it failed (__inet_stream_connect()).
  auto st = stack_.state(s);
  if (st && (*st == core::TcpState::SynSent || *st == core::TcpState::SynReceived))
    return would_block();
  int r = stack_.connect(s, *ep, now_);
  return r ? fail(r) : done(0);
}

CallResult SocketCalls::recv(core::SocketId s, void* buf, size_t n, int flags, bool nonblock,
                             CallProgress& progress) {
  if (flags & MSG_OOB) {
    // tcp_recv_urg(): the urgent byte or an error, never a wait.
    auto r = stack_.recv_urgent(s, MutableBytes(static_cast<std::byte*>(buf), n),
                                (flags & MSG_PEEK) != 0);
    return r.ok() ? done(static_cast<long>(r.value())) : fail(r.err());
  }
  if (flags & MSG_ERRQUEUE) return fail(EAGAIN);  // nothing is ever queued there
  if (n == 0) return done(0);
  bool peek = flags & MSG_PEEK;
  bool waitall = (flags & MSG_WAITALL) && !peek;
  bool dontwait = nonblock || (flags & MSG_DONTWAIT);
  auto* out = static_cast<std::byte*>(buf);
  size_t& got = progress.bytes;
  for (;;) {
    auto r = stack_.recv(s, MutableBytes(out + got, n - got), now_, peek);
    if (r.ok()) {
      got += r.value();
      if (r.value() == 0 || !waitall || got == n) break;
      // MSG_WAITALL with more to come: keep reading, or wait below.
      if (dontwait) break;
      continue;
    }
    if (r.err() != EAGAIN) {
      if (got) break;
      return fail(r.err());
    }
    if (dontwait) {
      if (got) break;
      return fail(EAGAIN);
    }
    return would_block();
  }
  return done(static_cast<long>(got));
}

CallResult SocketCalls::send(core::SocketId s, const void* buf, size_t n, int flags, bool nonblock,
                             CallProgress& progress) {
  const bool oob = flags & MSG_OOB;
  bool dontwait = nonblock || (flags & MSG_DONTWAIT);
  bool more = flags & MSG_MORE;
  const auto* in = static_cast<const std::byte*>(buf);
  size_t& sent = progress.bytes;
  // A writer waiting for room (sk_stream_wait_memory()) is woken only once
  // the socket is writable again (sk_stream_write_space()), not as soon as
  // a byte fits.
  constexpr uint32_t kWake = core::ready::kOut | core::ready::kErr | core::ready::kHup;
  if (progress.waiting && !(stack_.readiness(s) & kWake)) return would_block();
  int err = 0;
  do {
    // MSG_OOB marks the last byte of what each pass takes (tcp_push() marks
    // SND.UP at the write's end every time it pushes).
    auto r = stack_.send(s, Bytes(in + sent, n - sent), now_, more, oob);
    if (r.ok()) {
      sent += r.value();
      continue;
    }
    if (r.err() != EAGAIN) {
      err = r.err();
      break;
    }
    if (dontwait) break;
    progress.waiting = true;
    return would_block();
  } while (sent < n);
  if (sent > 0 || n == 0) return done(static_cast<long>(sent));
  if (err == 0) return fail(EAGAIN);
  CallResult r = fail(err);
  r.raise_sigpipe = err == EPIPE && !(flags & MSG_NOSIGNAL);
  return r;
}

CallResult SocketCalls::shutdown(core::SocketId s, int how) {
  core::Shut what;
  switch (how) {
    case SHUT_RD:
      what = core::Shut::Read;
      break;
    case SHUT_WR:
      what = core::Shut::Write;
      break;
    case SHUT_RDWR:
      what = core::Shut::Both;
      break;
    default:
      return fail(EINVAL);
  }
  if (int err = stack_.shutdown(s, what, now_)) return fail(err);
  return done(0);
}

CallResult SocketCalls::close(core::SocketId s) {
  if (int err = stack_.close(s, now_)) return fail(err);
  return done(0);
}

CallResult SocketCalls::getsockname(core::SocketId s, sockaddr* addr, socklen_t* len) {
  if (!addr || !len) return fail(EFAULT);
  fill_sockaddr(stack_.local_endpoint(s).value_or(Endpoint{}), addr, len);
  return done(0);
}

CallResult SocketCalls::getpeername(core::SocketId s, sockaddr* addr, socklen_t* len) {
  auto peer = stack_.remote_endpoint(s);
  if (!peer) return fail(ENOTCONN);
  if (!addr || !len) return fail(EFAULT);
  fill_sockaddr(*peer, addr, len);
  return done(0);
}

CallResult SocketCalls::setsockopt(core::SocketId s, int level, int name, const void* val,
                                   socklen_t len) {
  if (auto opt = stack_option(level, name)) {
    if (!val || len < static_cast<socklen_t>(sizeof(int))) return fail(EINVAL);
    int v;
    std::memcpy(&v, val, sizeof v);
    if (int err = stack_.set_option(s, *opt, v)) return fail(err);
    return done(0);
  }
  if (level == SOL_SOCKET && name == SO_LINGER) {
    // sock_setsockopt(): a struct linger; l_onoff 0 turns it off.
    if (!val || len < static_cast<socklen_t>(sizeof(linger))) return fail(EINVAL);
    linger lg;
    std::memcpy(&lg, val, sizeof lg);
    // A time > 0 makes close() wait for the FIN to be acknowledged: the
    // owner does that waiting (the engine; the runner never blocks in close).
    int secs = lg.l_onoff ? std::max(lg.l_linger, 0) : -1;
    if (int err = stack_.set_option(s, core::SockOpt::Linger, secs)) return fail(err);
    return done(0);
  }
  if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
    // do_tcp_setsockopt(): the name, not necessarily NUL-terminated.
    if (!val || len <= 0) return fail(EINVAL);
    char name_buf[16] = {};
    std::memcpy(name_buf, val, std::min<size_t>(static_cast<size_t>(len), sizeof name_buf - 1));
    if (int err = stack_.set_congestion_control(s, name_buf)) return fail(err);
    return done(0);
  }
  return with(fail(ENOPROTOOPT), unsupported_option(level, name, false));
}

CallResult SocketCalls::getsockopt(core::SocketId s, int level, int name, void* val,
                                   socklen_t* len) {
  auto get = [&](core::SockOpt o) { return put_int(stack_.get_option(s, o).value(), val, len); };
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_ERROR:
        return put_int(stack_.take_error(s), val, len);
      case SO_TYPE:
        return put_int(SOCK_STREAM, val, len);
      case SO_DOMAIN:
        return put_int(AF_INET, val, len);
      case SO_PROTOCOL:
        return put_int(IPPROTO_TCP, val, len);
      case SO_ACCEPTCONN:
        return put_int(stack_.state(s) == core::TcpState::Listen ? 1 : 0, val, len);
      case SO_REUSEADDR:
        return get(core::SockOpt::ReuseAddr);
      case SO_KEEPALIVE:
        return get(core::SockOpt::KeepAlive);
      case SO_SNDBUF:
        return get(core::SockOpt::SndBuf);
      case SO_RCVBUF:
        return get(core::SockOpt::RcvBuf);
      case SO_OOBINLINE:
        return get(core::SockOpt::OobInline);
      default:
        break;
    }
    if (name == SO_LINGER) {
      if (!val || !len) return fail(EFAULT);
      int secs = stack_.get_option(s, core::SockOpt::Linger).value();
      linger lg{secs >= 0 ? 1 : 0, secs >= 0 ? secs : 0};
      socklen_t n = std::min<socklen_t>(*len, sizeof lg);
      std::memcpy(val, &lg, n);
      *len = n;
      return done(0);
    }
  } else if (level == IPPROTO_TCP) {
    if (auto opt = stack_option(level, name)) return get(*opt);
    if (name == TCP_CONGESTION) {
      if (!val || !len) return fail(EFAULT);
      char name_buf[16] = {};
      std::string_view cc = stack_.congestion_control(s);
      cc.copy(name_buf, sizeof name_buf - 1);
      socklen_t n = std::min<socklen_t>(*len, sizeof name_buf);
      std::memcpy(val, name_buf, n);
      *len = n;
      return done(0);
    }
    if (name == TCP_INFO) {
      if (!val || !len) return fail(EFAULT);
      auto info = stack_.tcp_info(s, now_);
      if (!info) return fail(EBADF);
      *len = fill_tcp_info(*info, val, *len);
      return done(0);
    }
  }
  return with(fail(ENOPROTOOPT), unsupported_option(level, name, true));
}

CallResult SocketCalls::ioctl(core::SocketId s, unsigned long request, int* out) {
  if (!out) return fail(EFAULT);
  // tcp_ioctl(): a listener has no queues to measure.
  if ((request == SIOCINQ || request == SIOCOUTQ) && stack_.state(s) == core::TcpState::Listen)
    return fail(EINVAL);
  switch (request) {
    case SIOCINQ:  // == FIONREAD
      *out = static_cast<int>(stack_.bytes_readable(s));
      return done(0);
    case SIOCOUTQ:  // == TIOCOUTQ
      *out = static_cast<int>(stack_.bytes_unacked(s));
      return done(0);
    case SIOCATMARK:  // is the next byte to read the urgent one?
      *out = stack_.at_urgent_mark(s) ? 1 : 0;
      return done(0);
    default:
      return with(fail(ENOTTY), {.key = "ioctl",
                                 .message = "an ioctl on a veer socket that veer does not "
                                            "support yet: ENOTTY"});
  }
}

short SocketCalls::poll_revents(core::SocketId s, short events) const {
  uint32_t ready = stack_.readiness(s);
  uint32_t wanted = static_cast<uint16_t>(events) | POLLERR | POLLHUP;
  return static_cast<short>(ready & wanted);
}

CallResult SocketCalls::fcntl(int cmd, long arg, bool& nonblock) {
  switch (cmd) {
    case F_GETFL:
      return done(O_RDWR | (nonblock ? O_NONBLOCK : 0));
    case F_SETFL:
      nonblock = (arg & O_NONBLOCK) != 0;
      return done(0);
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      return with(
          fail(EINVAL),
          {.key = "dup", .message = "duplicating a veer socket is not supported yet: EINVAL"});
    default: {
      CallResult r;
      r.status = CallStatus::ForDescriptor;
      return r;
    }
  }
}

}  // namespace veer::preload
