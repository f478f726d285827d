// System-call lines, run on the stack through preload/socket_calls.h: the
// same argument checks, blocking rules and errno values a program under
// libveer.so gets. The script's descriptor numbers name the sockets
// (packetdrill maps them to live fds; here they are the table's keys).
//
// A call that would block stays "in flight": the executor retries it after
// every frame it injects and every timer it fires, until it is done.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "preload/socket_calls.h"
#include "tools/drill/ast.h"
#include "tools/drill/flow.h"
#include "tools/drill/run_options.h"
#include "tools/drill/stack_host.h"

namespace veer::drill {

// How an attempt at a call came out.
struct CallStep {
  enum class Kind : uint8_t {
    Passed,       // returned what the script expects
    Mismatch,     // returned something else: `expected` and `actual` say what
    Blocked,      // must wait for the stack to move
    Unsupported,  // veer (or the runner) cannot do what Linux would: `what` says what
    Error,        // the line cannot be run as written (bad fd, bad argument)
  };
  Kind kind = Kind::Passed;
  std::string what;
  std::string expected;
  std::string actual;
};

class SyscallRunner {
 public:
  SyscallRunner(const RunOptions& options, FlowTable& flows) : opt_(options), flows_(flows) {}

  // A new stack (after a sysctl change) starts with no sockets.
  void attach(StackHost* host);
  bool has_sockets() const { return !fds_.empty(); }

  // Evaluates the call's arguments and makes the first attempt.
  CallStep start(const SyscallSpec& spec);
  // Tries the call in flight again.
  CallStep retry();
  bool in_flight() const { return call_.has_value(); }
  // When the call in flight stops waiting by itself (poll()'s timeout).
  std::optional<Time> deadline() const;
  // The socket whose connection `flow` is (the accepted one for a passive
  // open), if the script has a descriptor for it.
  std::optional<core::SocketId> socket_of(const Flow* flow) const;

 private:
  enum class Op : uint8_t {
    Socket,
    Bind,
    Listen,
    Accept,
    Connect,
    Recv,
    Send,
    Close,
    Shutdown,
    Fcntl,
    Ioctl,
    GetSockOpt,
    SetSockOpt,
    Poll,
    GetSockName,
    GetPeerName,
  };
  struct PollItem {
    int fd = -1;
    short events = 0;
    short revents = 0;  // expected
  };
  struct Fd {
    core::SocketId sock;
    bool nonblock = false;
    Flow* flow = nullptr;
  };
  struct Call {
    const SyscallSpec* spec = nullptr;
    Op op = Op::Socket;
    int fd = -1;
    long flags = 0;  // send/recv flags, accept4 flags, socket type, fcntl argument …
    long arg = 0;    // second integer argument (backlog, cmd, level, how, request)
    long name = 0;   // socket option name
    sockaddr_in addr{};
    socklen_t addrlen = 0;
    std::vector<std::byte> buf;
    std::optional<long long> expected_value;  // [N] in getsockopt / ioctl
    std::optional<long long> expected_len;    // [N] optlen in getsockopt
    std::vector<PollItem> polls;
    std::optional<Time> deadline;
    preload::CallProgress progress;
  };

  CallStep prepare(const SyscallSpec& spec, Call& c);
  CallStep attempt(Call& c);
  // Compares a finished call's result with the script's.
  CallStep check(const Call& c, const preload::CallResult& r);
  CallStep fd_arg(const std::vector<Expr>& args, size_t i, Call& c);
  preload::SocketCalls calls() { return preload::SocketCalls(host_->stack(), host_->now()); }

  const RunOptions& opt_;
  FlowTable& flows_;
  StackHost* host_ = nullptr;
  std::map<int, Fd> fds_;
  std::optional<Call> call_;
};

}  // namespace veer::drill
