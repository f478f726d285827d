// The per-process engine: owns the stack, the device and the I/O thread, and
// gives the interposer blocking, errno-returning socket calls on top of the
// stack's non-blocking API. What each call means on a veer socket lives in
// SocketCalls (socket_calls.h); the engine adds the fd table, the choice
// between veer and the kernel, the lock, the waiting (with signals and
// SO_RCVTIMEO/SO_SNDTIMEO) and readiness for poll, select and epoll.
//
// Every veer socket is backed by a kernel fd of its own number (an eventfd
// put in place of the kernel socket with dup3), so fd numbers never collide
// with the kernel's, and dup()/close()/exec keep working on them. A TCP
// socket starts as a plain kernel socket ("pending") and becomes veer's when
// bind() or connect() names an address veer serves.
#pragma once

#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <map>
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
#include "netdev/pcap_writer.h"
#include "preload/control_protocol.h"
#include "preload/shared_arena.h"
#include "preload/socket_calls.h"
#include "preload/view_format.h"

namespace veer::preload {

// One open socket, shared by every fd that dup() made of it (the kernel's
// struct file): O_NONBLOCK and the timeouts are per open socket, as on Linux;
// FD_CLOEXEC stays with each fd (the kernel keeps it).
struct FdEntry {
  // Inherited: a veer socket in a forked child, which has no share in the
  // parent's stack (yet): close() works, everything else is EOPNOTSUPP.
  enum class Kind : uint8_t { Pending, Veer, Inherited };
  Kind kind = Kind::Pending;
  bool nonblock = false;
  // Options set while still a kernel socket, replayed on the veer socket.
  // (option, value) in the order the program set them; SO_LINGER as
  // SockOpt::Linger seconds (-1 off), TCP_CONGESTION by name.
  std::vector<std::pair<core::SockOpt, int>> options;
  std::string congestion;
  core::SocketId sock{};
  int fd_refs = 0;  // fds naming this socket; it closes when the last goes
  // Options veer keeps and reports but does not act on yet, by (level, name):
  // SO_REUSEPORT, SO_RCVLOWAT, TCP_QUICKACK, TCP_DEFER_ACCEPT, IP_TOS.
  std::map<std::pair<int, int>, int> kept;
  // SO_RCVTIMEO / SO_SNDTIMEO; zero waits forever.
  Time rcv_timeout{};
  Time snd_timeout{};
  uint32_t urgent_marks = 0;  // urgent pointers already signalled (SIGURG)
};
using FdRef = std::shared_ptr<FdEntry>;

struct EpollSet;

// A veer socket in one epoll set. The kernel's epoll cannot see veer's
// readiness, so the engine keeps these interests itself and merges them
// with the kernel's own events in epoll_wait. Also an epoll fd inside
// another epoll set (nested epoll): the kernel keeps that registration and
// reports the inner set's kernel fds; the engine adds its veer sockets.
struct EpollInterest {
  uint32_t events = 0;
  epoll_data_t data{};
  FdRef sock{};
  std::shared_ptr<EpollSet> inner{};  // nested epoll: the inner set (sock is null)
  bool armed = true;                  // EPOLLONESHOT: off once reported, until EPOLL_CTL_MOD
  // Edge-triggered: what was last reported, so the same readiness is not
  // reported again until the socket saw a new event.
  bool reported = false;
  uint32_t last_mask = 0;
  uint64_t last_events = 0;
};

struct EpollSet {
  std::map<int, EpollInterest> veer;     // veer sockets, by fd
  std::map<int, EpollInterest> pending;  // kernel sockets that may become veer's
  std::map<int, EpollInterest> nested;   // epoll fds inside this one, by fd
  int cursor = 0;                        // fairness: where the next scan starts
};

// The engine lock: a process-shared robust mutex in the shared arena, so
// that every process sharing the stack takes the same lock. Releasing it
// flushes the device: a call that made the stack send (the I/O thread's
// pump, a busy poll, a program's send) leaves no frame held back in a TSO
// batch, whichever thread it ran on.
class EngineMutex {
 public:
  void lock();
  bool try_lock();
  void unlock() {
    if (device) device->flush();
    pthread_mutex_unlock(m_);
  }
  void use(pthread_mutex_t* m) { m_ = m; }
  netdev::Device* device = nullptr;  // set once the device is open

 private:
  // Where a process died holding the lock (EOWNERDEAD): the lock is made
  // consistent again and the stack goes on as that process left it.
  void owner_died();
  pthread_mutex_t* m_ = nullptr;
};

class Engine {
 public:
  // Loads the configuration; exits the process with a clear message when it
  // is invalid (the program must not run half-configured).
  static Engine& get();

  static constexpr int kMaxFds = 1 << 16;
  // What an fd number is to veer, readable without the lock.
  enum Track : uint8_t {
    kNone = 0,
    kPending = 1,   // a TCP kernel socket veer may adopt
    kVeer = 2,      // a veer socket
    kEpoll = 3,     // an epoll fd the engine keeps a set for (veer sockets, nesting)
    kInternal = 4,  // the engine's own fd (device, wakeups): the program must not close it
  };
  Track track_of(int fd) const {
    return fd >= 0 && fd < kMaxFds
               ? static_cast<Track>(tracked_[fd].load(std::memory_order_acquire))
               : kNone;
  }
  // Is this fd a socket veer has (pending or adopted)?
  bool tracked(int fd) const {
    Track t = track_of(fd);
    return t == kPending || t == kVeer;
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
  int ioctl(int fd, unsigned long request, void* arg);
  // From a file to a veer socket (the copy goes through user space).
  ssize_t sendfile(int out, int in, off_t* offset, size_t count);
  // splice() with a veer socket on one side and a pipe on the other, copied
  // through user space (engine_splice.cpp); without a veer socket, the kernel's.
  ssize_t splice(int in, loff_t* off_in, int out, loff_t* off_out, size_t len, unsigned flags);

  // fd semantics: a dup shares the socket; the socket closes with its last fd.
  int dup(int fd, int min_fd, bool cloexec);  // dup() and F_DUPFD(_CLOEXEC)
  int dup3(int fd, int fd2, int flags, bool is_dup2);
  int close_range(unsigned first, unsigned last, int flags);

  // Readiness. `timeout` null waits forever; `mask` as in ppoll/epoll_pwait.
  int poll(pollfd* fds, nfds_t n, const timespec* timeout, const sigset_t* mask);
  int epoll_ctl(int epfd, int op, int fd, epoll_event* ev);
  int epoll_wait(int epfd, epoll_event* evs, int max, const timespec* timeout,
                 const sigset_t* mask);
  // Does this poll set name a veer socket or an epoll fd the engine keeps a
  // set for (so the engine must answer it)?
  bool any_veer(const pollfd* fds, nfds_t n) const;

  // A thread's wakeup eventfd is gone (the thread ended).
  void internal_fd_closed(int fd) { set_track(fd, kNone); }

  // At exit: let unacknowledged data and FINs finish, up to exit_linger_ms.
  void linger_at_exit();
  // exec*() is about to replace the program: the new image cannot use veer
  // sockets (it starts an engine of its own), so this process lets go of
  // its sockets, closing those no other process holds, and of the stack.
  // after_failed_exec() makes the engine usable again for new sockets.
  void before_exec();
  void after_failed_exec();

 private:
  Engine();
  struct DeviceSink;
  std::unique_ptr<netdev::Device> open_device_locked();
  struct StateLog;

  Time now() const;
  // The call semantics on the stack, at the current time (lock held).
  SocketCalls calls();
  FdEntry* find(int fd);
  FdRef ref(int fd);
  void set_track(int fd, Track t);
  // Starts device, stack and I/O thread on first need. 0 or an errno.
  int start_locked();
  // Turns a pending fd into a veer socket. 0 or an errno.
  int adopt_locked(int fd, FdEntry& e);
  // Hands a pending fd back to the kernel for good.
  void release_to_kernel_locked(int fd, const char* why);
  // fd2, a fresh kernel copy of fd, names what fd names for veer too.
  void alias_locked(int fd, int fd2);
  // Drops fd's reference; closes the veer socket with its last fd.
  void forget_fd_locked(int fd);
  // Wakes the I/O thread when the stack's next deadline moved earlier.
  void kick_locked();
  // Wakes every caller waiting for the stack to move.
  void notify_locked();
  // A forked child's copy of this thread's wakeup eventfd is its parent's
  // thread's: closed, so that the child makes its own.
  static void forget_thread_waiter();
  // sk_send_sigurg(): SIGURG to the F_SETOWN owner of each socket that
  // received a new urgent pointer.
  void signal_urgent_locked();
  uint64_t urgent_marks_seen_ = 0;  // the stack's tcp_urgent_marks at the last look
  // Waits (lock released) until the stack moved, `deadline` (engine clock)
  // passed, or a signal came: 0, ETIMEDOUT or EINTR. A signal whose handler
  // has SA_RESTART resumes the wait when no deadline is set, as Linux
  // restarts a blocking socket call without SO_RCVTIMEO/SO_SNDTIMEO.
  int wait_locked(std::unique_lock<EngineMutex>& lk, std::optional<Time> deadline);
  // This thread's wakeup eventfd, registered to be woken by notify_locked();
  // -1 with errno when none can be made.
  int add_waiter_locked();
  void remove_waiter_locked(int efd);
  // Readiness of one epoll set's veer sockets and of the veer sockets in
  // the epoll sets nested in it, written to evs (lock held). `epfd` names
  // the set for the kernel (a reported one-shot inner set is disarmed there).
  int collect_epoll_locked(EpollSet& set, int epfd, epoll_event* evs, int max);
  // Would epoll_wait on this set report a veer socket (directly or through
  // a nested set)? A peek: edge-triggered and one-shot state stay as they
  // are. `depth` guards the recursion (the kernel refuses loops).
  bool epoll_veer_ready_locked(const EpollSet& set, int depth = 0) const;
  // Does the set, or a set nested in it, hold a veer socket? (If not, the
  // kernel answers epoll_wait on it alone.)
  bool epoll_holds_veer_locked(const EpollSet& set, int depth = 0) const;
  // The events the veer sockets of a set (and of its nested sets) saw: an
  // edge-triggered interest in the set reports again when this moves.
  uint64_t epoll_event_count_locked(const EpollSet& set, int depth = 0) const;
  // The stack events a socket saw (0 for one that is not veer's here).
  uint64_t socket_events_locked(const FdEntry& e) const;
  // Should interest `in` report `mask` now (edge-triggered: a new bit or a
  // new event since its last report)? `events`: the stack events it saw.
  static bool interest_fires(const EpollInterest& in, uint32_t mask, uint64_t events);
  // interest_fires(), and an edge-triggered interest remembers what it saw
  // (and what it reported, when it fires).
  static bool take_report(EpollInterest& in, uint32_t mask, uint64_t events);
  // epoll_ctl with an epoll fd as the target: the kernel registers it, the
  // engine remembers it so that the outer set reports the inner's veer sockets.
  int epoll_ctl_nested(int epfd, int op, int fd, epoll_event* ev);
  // fd no longer names an epoll set; the set leaves the sets it was nested
  // in when no fd names it any more.
  void drop_epoll_fd_locked(int fd);
  uint32_t poll_mask_locked(const FdEntry& e) const;
  void io_loop();
  // Reads what the device has, feeds the stack, runs its timers and wakes
  // the waiters: one round of the I/O thread's work, also done by a caller
  // that busy-polls. Returns the frames taken.
  int pump_locked(Time t);
  // Pumps that took frames, by any thread: a spinner that let go of the
  // lock learns from it that another thread fed the stack meanwhile.
  uint64_t fed_pumps_ = 0;
  // net.core.busy_read / busy_poll: spins (pumping the device) until a frame
  // arrives or `budget` passed; true when the stack moved (here or in
  // another thread's pump while the lock was let go).
  bool busy_spin_locked(std::unique_lock<EngineMutex>& lk, Time budget);
  Time busy_read_{};
  Time busy_poll_{};
  void read_busy_poll_knobs_locked() {
    busy_read_ = std::chrono::microseconds(config_.get_int("net.core.busy_read"));
    busy_poll_ = std::chrono::microseconds(config_.get_int("net.core.busy_poll"));
  }
  // The socket view for `veer ss` (engine_view.cpp, preload/view_format.h).
  bool map_view_locked(uint32_t capacity);
  void publish_view_locked(Time now);
  void remove_view_locked();
  // The control channel (engine_control.cpp, preload/control_protocol.h).
  void open_control_locked();
  void serve_control_locked();
  void close_control_locked();
  ControlReply handle_control_locked(const ControlRequest& request);
  // The capture (the `capture*` knobs): (re)starts or stops it as `config`
  // says; false with `*error` when the file cannot be opened (the capture
  // running before stays).
  bool configure_capture_locked(const config::Config& config, std::string* error);
  void capture_frame_locked(Bytes frame);
  void flush_capture_locked();
  void track_capture_fd_locked();
  // --- Sockets shared across fork (engine_fork.cpp) ---
  // The arena holds the lock and the stack; every process forked after the
  // stack started shares them, each with its own slot and a relay thread
  // (which wakes the process's waiting threads when another process moved
  // the stack). One process, the pump, runs the I/O thread; when it is
  // gone, another takes over. A socket closes when its last holder, across
  // processes, closes it; the holds of a dead (or exec'd) process are
  // reclaimed.
  void init_arena();
  void fork_prepare();
  void fork_parent();
  void fork_child();
  // The pre-sharing child: inherited sockets can only be closed (XDP device,
  // no arena, or every process slot taken).
  void become_inherited_child();
  // A forked child: the capture and the control socket stay the parent's.
  void leave_parents_channels_locked();
  bool claim_slot_locked();
  void start_relay_locked();
  void relay_loop(int slot);
  // Becomes the pump if the pump is gone.
  void take_over_locked();
  // Is the process in slot i still there, with the arena mapped?
  bool slot_alive_locked(int i) const;
  // Releases the slots of processes that are gone, closing what only they
  // held; at most every kReclaimInterval.
  void reclaim_dead_locked(Time now);
  void hold_locked(core::SocketId s);
  // Drops this process's hold; true when no process holds the socket now.
  bool release_locked(core::SocketId s);
  // Is this process the only holder of the socket?
  bool sole_holder_locked(core::SocketId s) const;
  // Does any other live process share the stack?
  bool others_alive_locked() const;
  void notify_local_locked();
  // Bumps the futex of slot i, waking its relay thread.
  void wake_slot_locked(int i);
  // A process that is not the pump needs the pump's I/O thread earlier.
  void kick_pump_locked();
  void leave_arena_locked();
  bool publishes_view_locked() const { return owner_.load(std::memory_order_relaxed); }
  std::optional<Time> io_sleep_locked() const;
  void set_io_sleep_locked(std::optional<Time> t);
  void start_io_thread_locked();
  static void* io_thread_main(void*);
  static void* relay_thread_main(void* slot);
  SharedArena* arena_ = nullptr;
  pthread_mutex_t private_mutex_ = PTHREAD_MUTEX_INITIALIZER;  // when there is no arena
  int slot_ = -1;                                              // this process's slot in the arena
  pid_t slot_pid_ = 0;   // who took it: a vfork child runs in this memory too
  int child_slot_ = -1;  // reserved for the child being forked
  bool relay_started_ = false;
  // A thread of ours that is starting may be inside malloc (its runtime's
  // start-up): fork() waits until it is past that, for a child must not
  // inherit an allocator lock held by a thread that does not come along.
  std::atomic<int> threads_starting_{0};
  // Resolves the libc functions our threads use, so that they never call
  // dlsym (which allocates) later on, outside the lock.
  static void thread_ready(std::atomic<int>& starting);
  std::atomic<bool> owner_{false};  // this process runs the I/O thread
  bool parked_ = false;             // the I/O thread stops (the process exits)
  // Guards waiters_ (with or without the engine lock): the relay thread
  // wakes waiters without the engine lock, so that a relay cut off by exit
  // or exec never leaves the shared lock held.
  std::mutex waiters_mu_;
  Time next_reclaim_{};
  static constexpr Time kReclaimInterval = std::chrono::milliseconds(200);

  int refuse_inherited(int fd);
  // splice()'s two directions (engine_splice.cpp); `len` at most one chunk.
  ssize_t splice_socket_to_pipe(int sock, int pipe, size_t len, bool pipe_nonblock);
  ssize_t splice_pipe_to_socket(int pipe, int sock, size_t len, bool pipe_nonblock, bool more);
  // Sends all n bytes, waiting for room whatever O_NONBLOCK says and through
  // signals (bytes taken from a pipe cannot go back); stops at an error.
  ssize_t send_spliced(int fd, const char* buf, size_t n, int flags);
  bool serves(Ipv4Addr addr) const;

  config::Config config_;
  core::StackConfig stack_config_;
  std::vector<Ipv4Prefix> routes_;  // the `routes` knob
  std::atomic<uint8_t> tracked_[kMaxFds] = {};

  EngineMutex mu_;
  std::condition_variable_any cv_;  // linger_at_exit waits here
  std::unordered_map<int, FdRef> fds_;
  std::unordered_map<int, std::shared_ptr<EpollSet>> epolls_;
  std::vector<int> waiters_;  // eventfds of the threads waiting in wait_locked
  bool started_ = false;
  bool forked_child_ = false;
  int start_error_ = 0;
  std::unique_ptr<netdev::Device> device_;
  std::unique_ptr<DeviceSink> sink_;
  std::unique_ptr<StateLog> state_log_;  // declared before stack_: outlives it
  std::unique_ptr<core::Stack> stack_;
  int wake_fd_ = -1;
  std::optional<Time> io_sleep_until_;  // what the I/O thread waits for (no arena)
  // The published socket view.
  static constexpr Time kViewInterval = std::chrono::milliseconds(20);
  void* view_ = nullptr;
  size_t view_bytes_ = 0;
  bool view_broken_ = false;
  bool view_dirty_ = false;  // something changed since the last publication
  Time view_published_{};
  std::vector<ViewSocket> view_records_;
  std::string program_;
  int control_fd_ = -1;
  std::unique_ptr<netdev::PcapWriter> capture_;
  int capture_fd_ = -1;         // the capture file's fd, tracked as internal
  bool capture_dirty_ = false;  // frames written since the last flush
  int log_fd_ = 2;
};

}  // namespace veer::preload
