// What each libc socket call means on a veer socket: argument checks,
// sockaddr conversion, flags (MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT,
// MSG_NOSIGNAL), socket options, EINPROGRESS and the second connect(), the
// SIGPIPE decision. One attempt at a time, on a stack and a `now` the caller
// hands in: no locks, no threads, no clock, no fds.
//
// Two owners drive it. The preload engine holds its lock, makes an attempt,
// and on WouldBlock waits on its condition variable for the I/O thread to
// move the stack before the next attempt. The packetdrill runner
// (tools/drill) does the same in virtual time: it retries after each frame
// it injects and each timer it fires. Both get Linux's blocking,
// non-blocking and errno semantics from this one place.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>

#include "core/stack.h"

namespace veer::preload {

enum class CallStatus : uint8_t {
  Done,        // the call returns now: `ret`, or -1 with `err`
  WouldBlock,  // a blocking call must wait for the stack to move, then try again
  // fcntl commands that act on the descriptor itself (F_GETFD, F_SETFD …),
  // not on the veer socket behind it: the owner applies them to its fd.
  ForDescriptor,
};

// Something Linux does that veer does not (yet). The call still returns what
// `ret`/`err` say; the owner makes it visible: the engine logs it once per
// key, the runner reports the script as unsupported.
struct Unsupported {
  const char* key = nullptr;      // stable id, e.g. "recv-oob"; null: nothing unsupported
  const char* message = nullptr;  // one line for the log; null for socket options
  // Socket options: which one, and whether it was read or written.
  int level = 0;
  int name = 0;
  bool get = false;
  explicit operator bool() const { return key != nullptr; }
};

struct CallResult {
  CallStatus status = CallStatus::Done;
  long ret = 0;  // the call's return value when err == 0, else -1
  int err = 0;   // errno when the call failed
  // sk_stream_error(): EPIPE without MSG_NOSIGNAL; the owner raises SIGPIPE
  // (after dropping any lock, since a handler may call back into it).
  bool raise_sigpipe = false;
  Unsupported unsupported;
  core::SocketId accepted{};  // accept4: the new connection's socket
  Endpoint peer{};            // accept4: where it comes from

  bool done() const { return status == CallStatus::Done; }
  bool failed() const { return status == CallStatus::Done && err != 0; }
};

// What a blocking call has achieved across attempts. Start each call with a
// fresh one and pass the same one to every retry of that call.
struct CallProgress {
  size_t bytes = 0;      // send/recv: bytes moved so far
  bool started = false;  // connect: this call started the handshake; waiting for its end
  bool waiting = false;  // send: the buffer was full; waiting for it to be writable
};

class SocketCalls {
 public:
  SocketCalls(core::Stack& stack, Time now) : stack_(stack), now_(now) {}

  CallResult bind(core::SocketId s, const sockaddr* addr, socklen_t len);
  CallResult listen(core::SocketId s, int backlog);
  // On success `accepted` and `peer` say what was accepted; the owner gives it
  // a descriptor and then fills the caller's address (fill_sockaddr).
  CallResult accept4(core::SocketId s, int flags, bool nonblock);
  CallResult connect(core::SocketId s, const sockaddr* addr, socklen_t len, bool nonblock,
                     CallProgress& progress);
  CallResult recv(core::SocketId s, void* buf, size_t n, int flags, bool nonblock,
                  CallProgress& progress);
  CallResult send(core::SocketId s, const void* buf, size_t n, int flags, bool nonblock,
                  CallProgress& progress);
  CallResult shutdown(core::SocketId s, int how);
  CallResult close(core::SocketId s);
  CallResult getsockname(core::SocketId s, sockaddr* addr, socklen_t* len);
  CallResult getpeername(core::SocketId s, sockaddr* addr, socklen_t* len);
  CallResult setsockopt(core::SocketId s, int level, int name, const void* val, socklen_t len);
  CallResult getsockopt(core::SocketId s, int level, int name, void* val, socklen_t* len);
  // FIONREAD/SIOCINQ and SIOCOUTQ: bytes queued to read / not yet acknowledged.
  CallResult ioctl(core::SocketId s, unsigned long request, int* out);
  // poll()'s revents for one veer socket (tcp_poll()): the requested events
  // that are ready, plus POLLERR and POLLHUP, which are always reported.
  short poll_revents(core::SocketId s, short events) const;

  // The open file's status flags: F_GETFL reports O_RDWR and O_NONBLOCK,
  // F_SETFL sets `nonblock`. Other commands are ForDescriptor.
  static CallResult fcntl(int cmd, long arg, bool& nonblock);

 private:
  core::Stack& stack_;
  Time now_;
};

// sockaddr_in to an endpoint; nullopt when it is not a complete AF_INET address.
std::optional<Endpoint> to_endpoint(const sockaddr* addr, socklen_t len);
// Fills a caller's sockaddr the way the kernel does (move_addr_to_user):
// truncated to the caller's length, which is then set to the full length.
void fill_sockaddr(Endpoint e, sockaddr* out, socklen_t* len);
// The stack option behind a (level, name) pair veer carries, if any.
std::optional<core::SockOpt> stack_option(int level, int name);

}  // namespace veer::preload
