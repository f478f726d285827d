// Turning a system-call line's arguments into a call the runner can make:
// `...` stands for packetdrill's defaults (the bind and connect addresses,
// a buffer of zeros), constants become Linux's values.
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>

#include <cstring>

#include "tools/drill/expr_eval.h"
#include "tools/drill/symbols.h"
#include "tools/drill/syscalls.h"

namespace veer::drill {
namespace {

using Kind = CallStep::Kind;

CallStep error(std::string what) {
  return CallStep{Kind::Error, std::move(what), "", ""};
}
CallStep unsupported(std::string what) {
  return CallStep{Kind::Unsupported, std::move(what), "", ""};
}
CallStep ok() {
  return CallStep{};
}

}  // namespace

CallStep SyscallRunner::prepare(const SyscallSpec& spec, Call& c) {
  const std::string& n = spec.name;
  const std::vector<Expr>& a = spec.args;
  std::string why;
  long long v = 0;
  auto count = [&](size_t want) {
    return a.size() == want ? ok()
                            : error(n + "() takes " + std::to_string(want) +
                                    " arguments here, not " + std::to_string(a.size()));
  };
  auto integer = [&](size_t i, long* out) {
    if (i >= a.size() || !eval_int(a[i], &v, &why)) return error(n + "(): " + why);
    *out = static_cast<long>(v);
    return ok();
  };
  // A sockaddr argument: `...` means the script's default address.
  auto address = [&](size_t i, Endpoint dflt) {
    Endpoint ep = dflt;
    if (a[i].kind == Expr::Kind::Struct) {
      const Expr* family = a[i].field("sa_family");
      const Expr* port = a[i].field("sin_port");
      const Expr* ip = a[i].field("sin_addr");
      if (!family || family->text != "AF_INET")
        return unsupported(n + "() with a non-IPv4 address");
      long long p = 0;
      if (!port || !eval_int(*port, &p, &why)) return error(n + "(): bad sin_port");
      if (!ip || ip->kind != Expr::Kind::Call || ip->text != "inet_addr" || ip->items.empty() ||
          !Ipv4Addr::parse(ip->items[0].text))
        return error(n + "(): bad sin_addr");
      ep = {*Ipv4Addr::parse(ip->items[0].text), static_cast<uint16_t>(p)};
    } else if (a[i].kind != Expr::Kind::Ellipsis) {
      return error(n + "(): expected ... or a sockaddr");
    }
    c.addr = sockaddr_in{};
    c.addr.sin_family = AF_INET;
    c.addr.sin_port = htons(ep.port);
    c.addr.sin_addr.s_addr = htonl(ep.addr.v);
    c.addrlen = sizeof(sockaddr_in);
    if (a[i + 1].kind != Expr::Kind::Ellipsis) {
      long len = 0;
      CallStep s = integer(i + 1, &len);
      if (s.kind != Kind::Passed) return s;
      c.addrlen = static_cast<socklen_t>(len);
    }
    return ok();
  };
  auto buffer = [&](size_t i) {
    if (a[i].kind != Expr::Kind::Ellipsis)
      return unsupported(n + "() with a buffer other than ...");
    return ok();
  };
  auto length = [&](size_t i) {
    long len = 0;
    CallStep s = integer(i, &len);
    if (s.kind != Kind::Passed) return s;
    if (len < 0) return error(n + "(): negative length");
    c.buf.assign(static_cast<size_t>(len), std::byte{0});
    return ok();
  };
  CallStep s;
#define TRY(x)                          \
  if ((s = (x)).kind != Kind::Passed) { \
    return s;                           \
  }

  if (n == "socket") {
    c.op = Op::Socket;
    TRY(count(3));
    long domain = AF_INET, type = 0, proto = 0;
    if (a[0].kind != Expr::Kind::Ellipsis) TRY(integer(0, &domain));
    TRY(integer(1, &type));
    TRY(integer(2, &proto));
    if (domain != AF_INET) return unsupported("socket() outside AF_INET (veer is IPv4 only)");
    if ((type & 0xf) != SOCK_STREAM || (proto != 0 && proto != IPPROTO_TCP))
      return unsupported("socket() other than TCP");
    c.flags = type;
  } else if (n == "bind" || n == "connect") {
    c.op = n == "bind" ? Op::Bind : Op::Connect;
    TRY(count(3));
    TRY(fd_arg(a, 0, c));
    Endpoint dflt = n == "bind" ? Endpoint{opt_.local_ip, opt_.bind_port}
                                : Endpoint{opt_.remote_ip, opt_.connect_port};
    TRY(address(1, dflt));
  } else if (n == "listen") {
    c.op = Op::Listen;
    TRY(count(2));
    TRY(fd_arg(a, 0, c));
    TRY(integer(1, &c.arg));
  } else if (n == "accept" || n == "accept4") {
    c.op = Op::Accept;
    TRY(count(n == "accept" ? 3 : 4));
    TRY(fd_arg(a, 0, c));
    if (n == "accept4") TRY(integer(3, &c.flags));
  } else if (n == "read" || n == "recv" || n == "recvfrom" || n == "write" || n == "send" ||
             n == "sendto") {
    bool in = n == "read" || n == "recv" || n == "recvfrom";
    c.op = in ? Op::Recv : Op::Send;
    size_t want = (n == "read" || n == "write") ? 3 : (n == "recv" || n == "send") ? 4 : 6;
    TRY(count(want));
    TRY(fd_arg(a, 0, c));
    TRY(buffer(1));
    TRY(length(2));
    if (want > 3) TRY(integer(3, &c.flags));
  } else if (n == "readv" || n == "writev") {
    c.op = n == "readv" ? Op::Recv : Op::Send;
    TRY(count(3));
    TRY(fd_arg(a, 0, c));
    size_t total = 0;
    if (!iov_total(a[1], &total, &why)) return error(n + "(): " + why);
    c.buf.assign(total, std::byte{0});
  } else if (n == "recvmsg" || n == "sendmsg") {
    c.op = n == "recvmsg" ? Op::Recv : Op::Send;
    TRY(count(3));
    TRY(fd_arg(a, 0, c));
    const Expr& m = a[1];
    const Expr* iov = m.field("msg_iov");
    const Expr* control = m.field("msg_control");
    if (m.kind != Expr::Kind::Struct || !iov) return error(n + "(): expected a msghdr");
    if (control && !control->items.empty()) return unsupported(n + "() with control messages");
    size_t total = 0;
    if (!iov_total(*iov, &total, &why)) return error(n + "(): " + why);
    c.buf.assign(total, std::byte{0});
    TRY(integer(2, &c.flags));
  } else if (n == "close") {
    c.op = Op::Close;
    TRY(count(1));
    TRY(fd_arg(a, 0, c));
  } else if (n == "shutdown") {
    c.op = Op::Shutdown;
    TRY(count(2));
    TRY(fd_arg(a, 0, c));
    TRY(integer(1, &c.arg));
  } else if (n == "fcntl") {
    c.op = Op::Fcntl;
    if (a.size() != 2 && a.size() != 3) return error("fcntl() takes 2 or 3 arguments");
    TRY(fd_arg(a, 0, c));
    TRY(integer(1, &c.arg));
    if (a.size() == 3) TRY(integer(2, &c.flags));
  } else if (n == "ioctl") {
    c.op = Op::Ioctl;
    TRY(count(3));
    TRY(fd_arg(a, 0, c));
    TRY(integer(1, &c.arg));
    if (!eval_bracketed(a[2], &v, &why)) return error("ioctl(): " + why);
    c.expected_value = v;
  } else if (n == "getsockopt" || n == "setsockopt") {
    c.op = n == "getsockopt" ? Op::GetSockOpt : Op::SetSockOpt;
    TRY(count(5));
    TRY(fd_arg(a, 0, c));
    TRY(integer(1, &c.arg));
    TRY(integer(2, &c.name));
    const Expr& val = a[3];
    long long len = 0;
    if (val.kind == Expr::Kind::Struct && val.field("onoff")) {
      // struct linger {onoff, linger}
      long long on = 0, secs = 0;
      if (!eval_int(*val.field("onoff"), &on, &why) || !val.field("linger") ||
          !eval_int(*val.field("linger"), &secs, &why))
        return error(n + "(): bad linger");
      int l[2] = {static_cast<int>(on), static_cast<int>(secs)};
      c.buf.resize(sizeof l);
      std::memcpy(c.buf.data(), l, sizeof l);
      c.expected_value = on;
    } else if (val.kind == Expr::Kind::List) {
      if (!eval_bracketed(val, &v, &why)) return error(n + "(): " + why);
      int i = static_cast<int>(v);
      c.buf.resize(sizeof i);
      std::memcpy(c.buf.data(), &i, sizeof i);
      c.expected_value = v;
    } else if (val.kind == Expr::Kind::Int || val.kind == Expr::Kind::Word) {
      if (!eval_int(val, &v, &why)) return error(n + "(): " + why);
      int i = static_cast<int>(v);
      c.buf.resize(sizeof i);
      std::memcpy(c.buf.data(), &i, sizeof i);
      c.expected_value = v;
    } else if (val.kind == Expr::Kind::String) {
      return unsupported(n + "(" + sockopt_name(static_cast<int>(c.arg), static_cast<int>(c.name)) +
                         ") with a string value");
    } else if (val.kind != Expr::Kind::Ellipsis) {
      return error(n + "(): unsupported option value");
    }
    if (c.op == Op::GetSockOpt) {
      if (!eval_bracketed(a[4], &len, &why)) return error("getsockopt(): optlen: " + why);
      c.expected_len = len;
      c.buf.assign(std::max<size_t>(static_cast<size_t>(std::max(len, 0LL)), 16), std::byte{0});
    } else if (!eval_int(a[4], &len, &why)) {
      return error("setsockopt(): optlen: " + why);
    } else {
      c.buf.resize(static_cast<size_t>(std::max(len, 0LL)));
    }
  } else if (n == "poll") {
    c.op = Op::Poll;
    TRY(count(3));
    if (a[0].kind != Expr::Kind::List) return error("poll(): expected a pollfd array");
    for (const Expr& p : a[0].items) {
      long long fd = 0, ev = 0, rev = 0;
      const Expr* f = p.field("fd");
      const Expr* e = p.field("events");
      const Expr* r = p.field("revents");
      if (!f || !e || !eval_int(*f, &fd, &why) || !eval_int(*e, &ev, &why) ||
          (r && !eval_int(*r, &rev, &why)))
        return error("poll(): bad pollfd " + why);
      if (!fds_.count(static_cast<int>(fd)))
        return error("no socket with script fd " + std::to_string(fd));
      c.polls.push_back({static_cast<int>(fd), static_cast<short>(ev), static_cast<short>(rev)});
    }
    long timeout = 0;
    TRY(integer(2, &timeout));
    c.arg = timeout;
    if (timeout > 0) c.deadline = host_->now() + std::chrono::milliseconds(timeout);
  } else if (n == "getsockname" || n == "getpeername") {
    c.op = n == "getsockname" ? Op::GetSockName : Op::GetPeerName;
    TRY(count(3));
    TRY(fd_arg(a, 0, c));
  } else {
    return unsupported("system call " + n + "()");
  }
#undef TRY
  return ok();
}

}  // namespace veer::drill
