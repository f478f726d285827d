#include "tools/drill/syscalls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>

#include <cstring>

#include "tools/drill/expr_eval.h"
#include "tools/drill/symbols.h"

namespace veer::drill {
namespace {

using preload::CallResult;
using preload::CallStatus;
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

std::string result_text(long ret, int err) {
  if (ret == -1 && err) return "-1 " + errno_name(err) + " (" + std::strerror(err) + ")";
  return std::to_string(ret);
}

}  // namespace

void SyscallRunner::attach(StackHost* host) {
  host_ = host;
  fds_.clear();
  call_.reset();
}

std::optional<Time> SyscallRunner::deadline() const {
  return call_ ? call_->deadline : std::nullopt;
}

std::optional<core::SocketId> SyscallRunner::socket_of(const Flow* flow) const {
  if (!flow) return std::nullopt;
  for (const auto& [fd, f] : fds_) {
    if (f.flow == flow) return f.sock;
  }
  return std::nullopt;
}

CallStep SyscallRunner::fd_arg(const std::vector<Expr>& args, size_t i, Call& c) {
  long long fd = 0;
  std::string why;
  if (i >= args.size() || !eval_int(args[i], &fd, &why))
    return error("bad file descriptor argument");
  if (!fds_.count(static_cast<int>(fd)))
    return error("no socket with script fd " + std::to_string(fd));
  c.fd = static_cast<int>(fd);
  return ok();
}

CallStep SyscallRunner::start(const SyscallSpec& spec) {
  Call c;
  c.spec = &spec;
  CallStep s = prepare(spec, c);
  if (s.kind != Kind::Passed) return s;
  call_ = std::move(c);
  return retry();
}

CallStep SyscallRunner::retry() {
  CallStep s = attempt(*call_);
  if (s.kind != Kind::Blocked) call_.reset();
  return s;
}

CallStep SyscallRunner::attempt(Call& c) {
  Fd* f = c.fd >= 0 ? &fds_.at(c.fd) : nullptr;
  CallResult r;
  switch (c.op) {
    case Op::Socket: {
      auto s = host_->stack().tcp_socket();
      if (!s.ok()) {
        r.ret = -1;
        r.err = s.err();
        break;
      }
      long long want = 0;
      std::string why;
      if (!eval_int(c.spec->result, &want, &why) || want < 0)
        return CallStep{Kind::Mismatch, "socket() succeeded", "= " + std::to_string(want),
                        "a socket"};
      Flow* flow = flows_.add();
      fds_[static_cast<int>(want)] = Fd{s.value(), (c.flags & SOCK_NONBLOCK) != 0, flow};
      return ok();
    }
    case Op::Bind:
      r = calls().bind(f->sock, reinterpret_cast<const sockaddr*>(&c.addr), c.addrlen);
      break;
    case Op::Listen:
      r = calls().listen(f->sock, static_cast<int>(c.arg));
      if (!r.err && f->flow) f->flow->state = Flow::State::PassiveListening;
      break;
    case Op::Accept:
      r = calls().accept4(f->sock, static_cast<int>(c.flags), f->nonblock);
      if (r.done() && !r.err) {
        long long want = 0;
        std::string why;
        if (!eval_int(c.spec->result, &want, &why) || want < 0) {
          return CallStep{Kind::Mismatch, "accept() succeeded", "= " + std::to_string(want),
                          "a connection from " + r.peer.to_string()};
        }
        // The accepted connection may be a side flow's (FlowTable).
        Flow* flow = flows_.find(opt_.bind_port, r.peer.port);
        fds_[static_cast<int>(want)] =
            Fd{r.accepted, (c.flags & SOCK_NONBLOCK) != 0, flow ? flow : flows_.under_test()};
        return ok();
      }
      break;
    case Op::Connect:
      if (!c.progress.started && f->flow && f->flow->state == Flow::State::Init) {
        // run_syscall_connect(): the flow's peer is where we connect to.
        f->flow->state = Flow::State::ActiveConnecting;
        f->flow->live_remote = {Ipv4Addr(ntohl(c.addr.sin_addr.s_addr)), ntohs(c.addr.sin_port)};
      }
      r = calls().connect(f->sock, reinterpret_cast<const sockaddr*>(&c.addr), c.addrlen,
                          f->nonblock, c.progress);
      break;
    case Op::Recv:
      r = calls().recv(f->sock, c.buf.data(), c.buf.size(), static_cast<int>(c.flags), f->nonblock,
                       c.progress);
      break;
    case Op::Send:
      // SIGPIPE is not raised: packetdrill ignores it, and so does the runner.
      r = calls().send(f->sock, c.buf.data(), c.buf.size(), static_cast<int>(c.flags), f->nonblock,
                       c.progress);
      break;
    case Op::Close:
      r = calls().close(f->sock);
      fds_.erase(c.fd);
      break;
    case Op::Shutdown:
      r = calls().shutdown(f->sock, static_cast<int>(c.arg));
      break;
    case Op::Fcntl:
      r = preload::SocketCalls::fcntl(static_cast<int>(c.arg), c.flags, f->nonblock);
      if (r.status == CallStatus::ForDescriptor)
        return unsupported("fcntl() command " + std::to_string(c.arg) + " on a socket");
      break;
    case Op::Ioctl: {
      int out = 0;
      r = calls().ioctl(f->sock, static_cast<unsigned long>(c.arg), &out);
      if (!r.err && !r.unsupported && c.expected_value && out != *c.expected_value) {
        return CallStep{Kind::Mismatch, "ioctl() value",
                        "[" + std::to_string(*c.expected_value) + "]",
                        "[" + std::to_string(out) + "]"};
      }
      break;
    }
    case Op::GetSockOpt: {
      socklen_t len = static_cast<socklen_t>(c.expected_len.value_or(4));
      r = calls().getsockopt(f->sock, static_cast<int>(c.arg), static_cast<int>(c.name),
                             c.buf.data(), &len);
      if (r.done() && !r.err && !r.unsupported) {
        int got = 0;
        std::memcpy(&got, c.buf.data(), std::min<size_t>(len, sizeof got));
        std::string name = sockopt_name(static_cast<int>(c.arg), static_cast<int>(c.name));
        if (c.expected_value && got != *c.expected_value)
          return CallStep{Kind::Mismatch, "getsockopt(" + name + ") value",
                          "[" + std::to_string(*c.expected_value) + "]",
                          "[" + std::to_string(got) + "]"};
        if (c.expected_len && static_cast<long long>(len) != *c.expected_len)
          return CallStep{Kind::Mismatch, "getsockopt(" + name + ") length",
                          "[" + std::to_string(*c.expected_len) + "]",
                          "[" + std::to_string(len) + "]"};
      }
      break;
    }
    case Op::SetSockOpt:
      r = calls().setsockopt(f->sock, static_cast<int>(c.arg), static_cast<int>(c.name),
                             c.buf.data(), static_cast<socklen_t>(c.buf.size()));
      break;
    case Op::Poll: {
      int ready = 0;
      std::vector<short> got;
      for (const PollItem& p : c.polls) {
        short rev = calls().poll_revents(fds_.at(p.fd).sock, p.events);
        got.push_back(rev);
        if (rev) ++ready;
      }
      bool timed_out = c.deadline && host_->now() >= *c.deadline;
      if (!ready && c.arg != 0 && !timed_out) return CallStep{Kind::Blocked, "", "", ""};
      for (size_t i = 0; i < c.polls.size(); ++i) {
        if (got[i] != c.polls[i].revents) {
          return CallStep{Kind::Mismatch, "poll() revents of fd " + std::to_string(c.polls[i].fd),
                          std::to_string(c.polls[i].revents), std::to_string(got[i])};
        }
      }
      r.ret = ready;
      break;
    }
    case Op::GetSockName:
    case Op::GetPeerName: {
      sockaddr_in sa{};
      socklen_t len = sizeof sa;
      auto* p = reinterpret_cast<sockaddr*>(&sa);
      r = c.op == Op::GetSockName ? calls().getsockname(f->sock, p, &len)
                                  : calls().getpeername(f->sock, p, &len);
      break;
    }
  }
  host_->settle();
  if (r.status == CallStatus::WouldBlock) return CallStep{Kind::Blocked, "", "", ""};
  return check(c, r);
}

CallStep SyscallRunner::check(const Call& c, const CallResult& r) {
  const SyscallSpec& spec = *c.spec;
  if (r.unsupported) {
    if (!r.unsupported.message) {
      return unsupported(std::string(r.unsupported.get ? "getsockopt" : "setsockopt") + "(" +
                         sockopt_name(r.unsupported.level, r.unsupported.name) +
                         ") is not supported by veer yet");
    }
    return unsupported(r.unsupported.message);
  }
  long long want = 0;
  std::string why;
  if (!eval_int(spec.result, &want, &why)) return error("the expected result: " + why);
  std::string expected = std::to_string(want);
  int want_errno = 0;
  if (!spec.errno_name.empty()) {
    auto e = errno_value(spec.errno_name);
    if (!e) return error("unknown errno " + spec.errno_name);
    want_errno = *e;
    expected += " " + spec.errno_name;
  }
  std::string actual = result_text(r.ret, r.err);
  bool match = r.ret == want && (r.ret != -1 || want_errno == 0 || r.err == want_errno);
  if (r.ret == -1 && want != -1) match = false;
  if (!match)
    return CallStep{Kind::Mismatch, spec.name + "() result", "= " + expected, "= " + actual};
  return ok();
}

}  // namespace veer::drill
