// The per-process engine: owns the stack, the device and the I/O thread, and
// gives the interposer blocking, errno-returning socket calls on top of the
// stack's non-blocking API. What each call means on a veer socket lives in
// SocketCalls (socket_calls.h); the engine adds the fd table, the choice
// between veer and the kernel, the lock and the waiting.
//
// Every veer socket is backed by a kernel fd of its own number (an eventfd
// put in place of the kernel socket with dup3), so fd numbers never collide
// with the kernel's. A TCP socket starts as a plain kernel socket ("pending")
// and becomes veer's when bind() or connect() names an address veer serves.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/config/config.h"
#include "core/stack.h"
#include "netdev/device.h"
#include "preload/socket_calls.h"

namespace veer::preload {

struct FdEntry {
  enum class Kind : uint8_t { Pending, Veer };
  Kind kind = Kind::Pending;
  bool nonblock = false;
  // Options set while still a kernel socket, replayed on the veer socket.
  // (option, value) in the order the program set them; SO_LINGER as
  // SockOpt::Linger seconds (-1 off), TCP_CONGESTION by name.
  std::vector<std::pair<core::SockOpt, int>> options;
  std::string congestion;
  core::SocketId sock{};
};

class Engine {
 public:
  // Loads the configuration; exits the process with a clear message when it
  // is invalid (the program must not run half-configured).
  static Engine& get();

  static constexpr int kMaxFds = 1 << 16;
  // Lock-free check on every fd-taking call: is this fd one of ours?
  bool tracked(int fd) const {
    return fd >= 0 && fd < kMaxFds && tracked_[fd].load(std::memory_order_acquire);
  }

  // Called after the kernel created a TCP socket: remember it as pending.
  void on_tcp_socket(int fd, bool nonblock);

  // The socket API, each returning what libc would (-1 and errno on error).
  // A pending fd is passed to the kernel unchanged.
  int bind(int fd, const sockaddr* addr, socklen_t len);
  int listen(int fd, int backlog);
  int accept4(int fd, sockaddr* addr, socklen_t* len, int flags);
  int connect(int fd, const sockaddr* addr, socklen_t len);
  ssize_t recv(int fd, void* buf, size_t n, int flags);
  ssize_t send(int fd, const void* buf, size_t n, int flags);
  ssize_t recvmsg(int fd, msghdr* msg, int flags);
  ssize_t sendmsg(int fd, const msghdr* msg, int flags);
  int shutdown(int fd, int how);
  int close(int fd);
  int getsockname(int fd, sockaddr* addr, socklen_t* len);
  int getpeername(int fd, sockaddr* addr, socklen_t* len);
  int setsockopt(int fd, int level, int name, const void* val, socklen_t len);
  int getsockopt(int fd, int level, int name, void* val, socklen_t* len);
  int fcntl(int fd, int cmd, long arg);

  // At exit: let unacknowledged data and FINs finish, up to exit_linger_ms.
  void linger_at_exit();

 private:
  Engine();
  struct DeviceSink;

  Time now() const;
  // The call semantics on the stack, at the current time (lock held).
  SocketCalls calls();
  FdEntry* find(int fd);
  void track(int fd, bool on);
  // Starts device, stack and I/O thread on first need. 0 or an errno.
  int start_locked();
  // Turns a pending fd into a veer socket. 0 or an errno.
  int adopt_locked(int fd, FdEntry& e);
  // Hands a pending fd back to the kernel for good.
  void release_to_kernel_locked(int fd, const char* why);
  // Wakes the I/O thread when the stack's next deadline moved earlier.
  void kick_locked();
  void io_loop();
  bool serves(Ipv4Addr addr) const;

  config::Config config_;
  core::StackConfig stack_config_;
  std::atomic<uint8_t> tracked_[kMaxFds] = {};

  std::mutex mu_;
  std::condition_variable cv_;  // notified whenever the stack moved
  std::unordered_map<int, FdEntry> fds_;
  bool started_ = false;
  int start_error_ = 0;
  std::unique_ptr<netdev::Device> device_;
  std::unique_ptr<DeviceSink> sink_;
  std::unique_ptr<core::Stack> stack_;
  std::thread io_;
  int wake_fd_ = -1;
  std::optional<Time> io_sleep_until_;  // what the I/O thread is waiting for
};

}  // namespace veer::preload
