#include "tools/drill/symbols.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <iterator>

namespace veer::drill {
namespace {

struct Symbol {
  const char* name;
  long long value;
};

#define SYM(x) \
  { #x, static_cast < long long>(x) }

// Everything the public scripts use, and the neighbours a script of ours is
// likely to reach for.
constexpr Symbol kSymbols[] = {
    // Sockets.
    SYM(AF_INET),
    SYM(AF_INET6),
    SYM(AF_UNSPEC),
    SYM(PF_INET),
    SYM(SOCK_STREAM),
    SYM(SOCK_DGRAM),
    SYM(SOCK_NONBLOCK),
    SYM(SOCK_CLOEXEC),
    SYM(IPPROTO_TCP),
    SYM(IPPROTO_IP),
    SYM(IPPROTO_UDP),
    SYM(SOL_SOCKET),
    SYM(SOL_TCP),
    SYM(SOL_IP),
    // SOL_SOCKET options.
    SYM(SO_REUSEADDR),
    SYM(SO_REUSEPORT),
    SYM(SO_KEEPALIVE),
    SYM(SO_LINGER),
    SYM(SO_SNDBUF),
    SYM(SO_RCVBUF),
    SYM(SO_SNDLOWAT),
    SYM(SO_RCVLOWAT),
    SYM(SO_SNDTIMEO),
    SYM(SO_RCVTIMEO),
    SYM(SO_ERROR),
    SYM(SO_TYPE),
    SYM(SO_DOMAIN),
    SYM(SO_PROTOCOL),
    SYM(SO_ACCEPTCONN),
    SYM(SO_OOBINLINE),
    SYM(SO_PRIORITY),
    SYM(SO_MARK),
    SYM(SO_TIMESTAMP),
    SYM(SO_ZEROCOPY),
    SYM(SO_MAX_PACING_RATE),
    SYM(SO_BINDTODEVICE),
    // SOL_TCP options.
    SYM(TCP_NODELAY),
    SYM(TCP_MAXSEG),
    SYM(TCP_CORK),
    SYM(TCP_KEEPIDLE),
    SYM(TCP_KEEPINTVL),
    SYM(TCP_KEEPCNT),
    SYM(TCP_SYNCNT),
    SYM(TCP_LINGER2),
    SYM(TCP_DEFER_ACCEPT),
    SYM(TCP_WINDOW_CLAMP),
    SYM(TCP_INFO),
    SYM(TCP_QUICKACK),
    SYM(TCP_CONGESTION),
    SYM(TCP_USER_TIMEOUT),
    SYM(TCP_NOTSENT_LOWAT),
    SYM(TCP_FASTOPEN),
    SYM(TCP_FASTOPEN_CONNECT),
    SYM(TCP_MD5SIG),
    SYM(TCP_THIN_LINEAR_TIMEOUTS),
    SYM(TCP_SAVE_SYN),
    SYM(TCP_SAVED_SYN),
    SYM(TCP_REPAIR),
    SYM(TCP_TIMESTAMP),
    // fcntl.
    SYM(F_GETFL),
    SYM(F_SETFL),
    SYM(F_GETFD),
    SYM(F_SETFD),
    SYM(F_DUPFD),
    SYM(F_DUPFD_CLOEXEC),
    SYM(FD_CLOEXEC),
    SYM(O_RDONLY),
    SYM(O_WRONLY),
    SYM(O_RDWR),
    SYM(O_NONBLOCK),
    SYM(O_NDELAY),
    SYM(O_CLOEXEC),
    // send/recv flags.
    SYM(MSG_OOB),
    SYM(MSG_PEEK),
    SYM(MSG_DONTWAIT),
    SYM(MSG_WAITALL),
    SYM(MSG_NOSIGNAL),
    SYM(MSG_MORE),
    SYM(MSG_TRUNC),
    SYM(MSG_ERRQUEUE),
    SYM(MSG_EOR),
    SYM(MSG_ZEROCOPY),
    SYM(MSG_FASTOPEN),
    // shutdown.
    SYM(SHUT_RD),
    SYM(SHUT_WR),
    SYM(SHUT_RDWR),
    // poll.
    SYM(POLLIN),
    SYM(POLLPRI),
    SYM(POLLOUT),
    SYM(POLLERR),
    SYM(POLLHUP),
    SYM(POLLNVAL),
    SYM(POLLRDNORM),
    SYM(POLLRDBAND),
    SYM(POLLWRNORM),
    SYM(POLLWRBAND),
    SYM(POLLRDHUP),
    // ioctl.
    SYM(SIOCINQ),
    SYM(SIOCOUTQ),
    SYM(SIOCATMARK),
    SYM(FIONREAD),
    SYM(FIONBIO),
    SYM(TIOCOUTQ),
    SYM(SIOCOUTQNSD),
};

constexpr Symbol kErrnos[] = {
    SYM(EPERM),           SYM(ENOENT),       SYM(EINTR),        SYM(EIO),
    SYM(EBADF),           SYM(EAGAIN),       SYM(EWOULDBLOCK),  SYM(ENOMEM),
    SYM(EACCES),          SYM(EFAULT),       SYM(EBUSY),        SYM(EEXIST),
    SYM(EINVAL),          SYM(ENFILE),       SYM(EMFILE),       SYM(ENOTTY),
    SYM(ENOSPC),          SYM(EPIPE),        SYM(ENOSYS),       SYM(ENOTSOCK),
    SYM(EDESTADDRREQ),    SYM(EMSGSIZE),     SYM(EPROTOTYPE),   SYM(ENOPROTOOPT),
    SYM(EPROTONOSUPPORT), SYM(EOPNOTSUPP),   SYM(EAFNOSUPPORT), SYM(EADDRINUSE),
    SYM(EADDRNOTAVAIL),   SYM(ENETDOWN),     SYM(ENETUNREACH),  SYM(ENETRESET),
    SYM(ECONNABORTED),    SYM(ECONNRESET),   SYM(ENOBUFS),      SYM(EISCONN),
    SYM(ENOTCONN),        SYM(ESHUTDOWN),    SYM(ETIMEDOUT),    SYM(ECONNREFUSED),
    SYM(EHOSTDOWN),       SYM(EHOSTUNREACH), SYM(EALREADY),     SYM(EINPROGRESS),
};

#undef SYM

}  // namespace

std::optional<long long> symbol_value(std::string_view name) {
  for (const Symbol& s : kSymbols)
    if (name == s.name) return s.value;
  for (const Symbol& s : kErrnos)
    if (name == s.name) return s.value;
  return std::nullopt;
}

std::optional<int> errno_value(std::string_view name) {
  for (const Symbol& s : kErrnos)
    if (name == s.name) return static_cast<int>(s.value);
  return std::nullopt;
}

std::string errno_name(int err) {
  for (const Symbol& s : kErrnos)
    if (s.value == err && std::string_view(s.name) != "EWOULDBLOCK") return s.name;
  return "errno " + std::to_string(err);
}

std::string sockopt_name(int level, int name) {
  std::string_view prefix = level == SOL_SOCKET ? "SO_" : level == IPPROTO_TCP ? "TCP_" : "";
  if (!prefix.empty()) {
    for (const Symbol& s : kSymbols) {
      if (s.value == name && std::string_view(s.name).substr(0, prefix.size()) == prefix)
        return s.name;
    }
  }
  return "level " + std::to_string(level) + " option " + std::to_string(name);
}

}  // namespace veer::drill
