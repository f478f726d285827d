// The stack as a library: frames in, frames out, time passed in.
//
// No syscalls, no threads, no globals, no wall clock. The owner feeds received
// frames to input(), calls poll() when next_deadline() is reached, and
// receives outgoing frames through a FrameSink. Sockets are handles with a
// non-blocking API; blocking is the owner's job (see preload/engine).
#pragma once

#include <functional>
#include <memory>
#include <memory_resource>
#include <string_view>

#include "core/counters.h"
#include "core/settings.h"
#include "core/tcp/tcp_info.h"
#include "core/tcp/tcp_state.h"
#include "core/types.h"

namespace veer::core {

class TcpStateObserver;  // core/tcp/connection.h

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // Called with a complete Ethernet frame (no FCS). The bytes are only valid
  // for the duration of the call.
  virtual void transmit(Bytes frame) = 0;
};

// Opaque handle to a socket of the stack. Stale handles are detected.
struct SocketId {
  uint32_t index = 0;
  uint32_t generation = 0;
  bool operator==(const SocketId&) const = default;
};

// Readiness bits, numerically equal to Linux's POLL* / EPOLL* values so the
// preload layer can pass them through.
namespace ready {
inline constexpr uint32_t kIn = 0x001;      // POLLIN: data, EOF or a connection to accept
inline constexpr uint32_t kPri = 0x002;     // POLLPRI: urgent data
inline constexpr uint32_t kOut = 0x004;     // POLLOUT: room to send / connect done
inline constexpr uint32_t kErr = 0x008;     // POLLERR: a pending error
inline constexpr uint32_t kHup = 0x010;     // POLLHUP: both directions shut down
inline constexpr uint32_t kRdHup = 0x2000;  // POLLRDHUP: peer closed its side
}  // namespace ready

enum class Shut { Read, Write, Both };

// Per-socket options that a program can set (SOL_SOCKET / IPPROTO_TCP).
// Keep{Idle,Intvl} are seconds; Linux's ranges apply (EINVAL outside).
// UserTimeoutMs is TCP_USER_TIMEOUT in milliseconds (0: the knobs decide).
// Linger is SO_LINGER's l_linger in seconds, or -1 for off.
enum class SockOpt {
  ReuseAddr,
  NoDelay,
  KeepAlive,
  KeepIdle,
  KeepIntvl,
  KeepCnt,
  UserTimeoutMs,
  Linger,
  MaxSeg,  // TCP_MAXSEG: 88..32767, or 0 for none
  // SO_SNDBUF/SO_RCVBUF: set with the program's value, which the stack caps
  // at net.core.{w,r}mem_max and doubles as Linux does; read back as the
  // kernel reports it (the doubled value, or what auto-tuning grew).
  SndBuf,
  RcvBuf,
  Cork,          // TCP_CORK
  NotSentLowat,  // TCP_NOTSENT_LOWAT: bytes (as unsigned), 0 for the knob
  RtoMaxMs,      // TCP_RTO_MAX_MS (Linux 6.15+): 1000..120000
  OobInline,     // SO_OOBINLINE
};

class Stack {
 public:
  Stack(const StackConfig& config, FrameSink& sink,
        std::pmr::memory_resource* memory = std::pmr::get_default_resource());
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // --- Frames and time -----------------------------------------------------
  // `checksum_trusted`: the device vouches for the TCP checksum (verified by
  // a NIC, or a local kernel's partial checksum behind a virtio_net_hdr), so
  // it is not checked. A frame may then be a GSO frame up to 64 KB of IP.
  void input(Bytes frame, Time now, bool checksum_trusted = false);
  void poll(Time now);
  // The earliest time poll() has work to do, if any.
  std::optional<Time> next_deadline() const;

  const StackConfig& config() const;
  const Counters& counters() const;
  // Replaces the TCP settings, as `sysctl -w` does for the kernel: new
  // sockets, listeners and connections see them; an established connection
  // keeps the settings it was made with.
  void set_tcp_settings(const TcpSettings& settings);
  // Every connection opened from now on reports its state changes here
  // (nullptr: none, the default). The observer must outlive the stack.
  void set_state_observer(TcpStateObserver* observer);

  // --- Sockets (non-blocking; errors are Linux errno values) ---------------
  Result<SocketId> tcp_socket();
  Errno bind(SocketId s, Endpoint local);
  Errno listen(SocketId s, int backlog);
  // EAGAIN when no connection is ready; fills *peer when non-null.
  Result<SocketId> accept(SocketId s, Endpoint* peer);
  // Starts the handshake: EINPROGRESS on success (completion shows as kOut,
  // failure as kErr with take_error()); EALREADY, EISCONN, ECONNREFUSED as
  // Linux reports them on a repeated call.
  Errno connect(SocketId s, Endpoint remote, Time now);
  // Takes what the send buffer allows: a partial count, or EAGAIN when
  // nothing fits. `more` is MSG_MORE (this call's data is corked); `oob` is
  // MSG_OOB (its last byte is urgent).
  Result<size_t> send(SocketId s, Bytes data, Time now, bool more = false, bool oob = false);
  // 0 means end of stream. EAGAIN when nothing is ready. Stops at the urgent
  // mark and skips the urgent byte unless SO_OOBINLINE.
  Result<size_t> recv(SocketId s, MutableBytes buf, Time now, bool peek = false);
  // recv(MSG_OOB): the urgent byte. EINVAL when there is none to read (or
  // SO_OOBINLINE), EAGAIN when its pointer came but not the byte.
  Result<size_t> recv_urgent(SocketId s, MutableBytes buf, bool peek = false);
  // SIOCATMARK: the next byte to read is the urgent byte.
  bool at_urgent_mark(SocketId s) const;
  // Urgent pointers the connection received so far (a new one is a SIGURG
  // for the socket's owner).
  uint32_t urgent_marks(SocketId s) const;
  Errno shutdown(SocketId s, Shut how, Time now);
  // Releases the handle. The connection goes on (FIN, TIME_WAIT …) as on Linux.
  Errno close(SocketId s, Time now);

  uint32_t readiness(SocketId s) const;
  // Grows with every event that can change a socket's readiness: a segment
  // received (data, ACK, FIN) or a connection queued for accept. Edge-
  // triggered waits report a ready socket again only when this moved, as
  // Linux's wakeups on each sk_data_ready/sk_write_space do.
  uint64_t event_count(SocketId s) const;
  // The state of the connection between these endpoints, also after its
  // socket was closed (FIN_WAIT, TIME_WAIT …); nullopt once it is gone.
  std::optional<TcpState> connection_state(Endpoint local, Endpoint remote) const;

  // One line of `veer ss`: a listener, a connection with its socket, or one
  // the program closed that lives on (FIN_WAIT, TIME_WAIT, orphans).
  struct SocketView {
    TcpState state = TcpState::Closed;
    Endpoint local{};
    Endpoint remote{};    // 0.0.0.0:0 for a listener
    uint32_t recv_q = 0;  // bytes to read; a listener: connections to accept
    uint32_t send_q = 0;  // bytes not yet acknowledged; a listener: its backlog
    bool orphan = false;  // no socket any more: the program closed it
    std::optional<SocketId> socket;
    TcpTimerView timer{};
    std::optional<TcpInfo> info;  // connections only
  };
  void for_each_socket(const std::function<void(const SocketView&)>& f, Time now) const;
  // SO_ERROR: the pending error, cleared by reading it.
  int take_error(SocketId s);
  Errno set_option(SocketId s, SockOpt opt, int value);
  Result<int> get_option(SocketId s, SockOpt opt) const;
  // TCP_CONGESTION: "cubic" or "reno"; ENOENT for anything else, as Linux
  // answers for an algorithm it does not have.
  Errno set_congestion_control(SocketId s, std::string_view name);
  std::string_view congestion_control(SocketId s) const;
  std::optional<Endpoint> local_endpoint(SocketId s) const;
  std::optional<Endpoint> remote_endpoint(SocketId s) const;
  std::optional<TcpState> state(SocketId s) const;
  // TCP_INFO; a socket without a connection reports its state only.
  std::optional<TcpInfo> tcp_info(SocketId s, Time now) const;
  // Bytes queued to read / not yet acknowledged (FIONREAD, SIOCOUTQ).
  size_t bytes_readable(SocketId s) const;
  size_t bytes_unacked(SocketId s) const;
  // Connections the stack still tracks, orphans (closed by the program but
  // still in FIN_WAIT/TIME_WAIT …) included.
  size_t connection_count() const;
  // Connections with data or a FIN not yet acknowledged, or a handshake in
  // progress: what a process should let finish before it exits.
  size_t connections_with_pending_output() const;

 private:
  struct Impl;
  Impl* impl_;
  std::pmr::memory_resource* memory_;
};

}  // namespace veer::core
