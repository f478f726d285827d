// splice() with a veer socket on one side. A veer socket's fd is an eventfd
// standing in for it, and its bytes live in veer's stack, so the kernel
// cannot move them: the engine copies through a user-space buffer of at most
// kSpliceChunk bytes a call (a pipe's default capacity), with Linux's
// argument checks and errors (do_splice()) and its blocking rules:
//
// - The socket side blocks as its O_NONBLOCK (and SO_RCVTIMEO/SO_SNDTIMEO)
//   say; the pipe side never blocks with SPLICE_F_NONBLOCK or the pipe's own
//   O_NONBLOCK (EAGAIN), as Linux's wait_for_space()/splice_to_socket().
// - No byte is lost, although a user-space copy cannot put bytes back:
//   socket -> pipe takes from the socket no more than the pipe has room for
//   (F_GETPIPE_SZ less FIONREAD) once the pipe is writable; pipe -> socket
//   waits until the socket is writable (EAGAIN when nonblocking) and takes
//   from the pipe no more than the send buffer has room for. Should the
//   destination still take less (another writer filled the pipe, the send
//   buffer's per-chunk overhead), the rest of the copied bytes is written
//   anyway, waiting for room even on a nonblocking fd or after a signal:
//   those bytes exist only in this buffer.
// - A signal while waiting for the pipe ends the call with EINTR (Linux
//   restarts it after an SA_RESTART handler); the socket's waits are the
//   engine's usual ones (EINTR or restart as Linux).
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <vector>

#include "preload/engine.h"
#include "preload/log.h"
#include "preload/real.h"

namespace veer::preload {
namespace {

constexpr size_t kSpliceChunk = 64 * 1024;
// include/linux/splice.h: SPLICE_F_MOVE | NONBLOCK | MORE | GIFT.
constexpr unsigned kSpliceAll = 0x0f;

int fail(int err) {
  errno = err;
  return -1;
}

// get_pipe_info(): a pipe or an opened FIFO.
bool is_pipe(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

size_t pipe_queued(int pipe) {
  int queued = 0;
  if (real::ioctl(pipe, FIONREAD, &queued) < 0) return 0;
  return static_cast<size_t>(std::max(queued, 0));
}

// Free bytes in a pipe: its capacity less what it holds.
size_t pipe_room(int pipe) {
  int size = real::fcntl(pipe, F_GETPIPE_SZ, 0);
  if (size <= 0) return 0;
  size_t queued = pipe_queued(pipe);
  return queued < static_cast<size_t>(size) ? static_cast<size_t>(size) - queued : 0;
}

// Waits on one kernel fd; -1 with errno (EINTR on a signal).
int wait_fd(int fd, short events) {
  pollfd p{fd, events, 0};
  return real::poll(&p, 1, -1) < 0 ? -1 : 0;
}

}  // namespace

ssize_t Engine::splice(int in, loff_t* off_in, int out, loff_t* off_out, size_t len,
                       unsigned flags) {
  if (track_of(in) != kVeer && track_of(out) != kVeer)
    return real::splice(in, off_in, out, off_out, len, flags);
  // The syscall's own checks, in its order: length, flags, the fds' modes.
  if (len == 0) return 0;
  if (flags & ~kSpliceAll) return fail(EINVAL);
  int in_fl = real::fcntl(in, F_GETFL, 0);
  int out_fl = real::fcntl(out, F_GETFL, 0);
  if (in_fl < 0 || out_fl < 0 || (in_fl & O_PATH) || (out_fl & O_PATH)) return fail(EBADF);
  if ((in_fl & O_ACCMODE) == O_WRONLY || (out_fl & O_ACCMODE) == O_RDONLY) return fail(EBADF);
  // do_splice(): one side must be a pipe; an offset on it is ESPIPE, an
  // offset on the socket EINVAL (no FMODE_PREAD/PWRITE); a pipe's
  // O_NONBLOCK counts as SPLICE_F_NONBLOCK.
  if (is_pipe(in)) {
    if (off_in) return fail(ESPIPE);
    if (off_out) return fail(EINVAL);
    log_once("splice", "splice() on a veer socket is emulated by copying through user space");
    bool nonblock = (flags & SPLICE_F_NONBLOCK) || (in_fl & O_NONBLOCK);
    return splice_pipe_to_socket(in, out, std::min(len, kSpliceChunk), nonblock,
                                 flags & SPLICE_F_MORE);
  }
  if (is_pipe(out)) {
    if (off_out) return fail(ESPIPE);
    if (off_in) return fail(EINVAL);
    log_once("splice", "splice() on a veer socket is emulated by copying through user space");
    bool nonblock = (flags & SPLICE_F_NONBLOCK) || (out_fl & O_NONBLOCK);
    return splice_socket_to_pipe(in, out, std::min(len, kSpliceChunk), nonblock);
  }
  return fail(EINVAL);
}

ssize_t Engine::splice_socket_to_pipe(int sock, int pipe, size_t len, bool pipe_nonblock) {
  // wait_for_space(): a reader, and room in the pipe, before the socket.
  size_t room = 0;
  for (;;) {
    pollfd p{pipe, POLLOUT, 0};
    if (real::poll(&p, 1, 0) < 0) return -1;
    if (p.revents & POLLERR) {
      raise(SIGPIPE);  // no reader: splice_to_pipe() sends SIGPIPE
      return fail(EPIPE);
    }
    if (p.revents & POLLOUT) {
      room = std::max<size_t>(pipe_room(pipe), 1);
      break;
    }
    if (pipe_nonblock) return fail(EAGAIN);
    if (wait_fd(pipe, POLLOUT) < 0) return -1;
  }
  std::vector<char> buf(std::min(len, room));
  ssize_t got = recv(sock, buf.data(), buf.size(), 0);
  if (got <= 0) return got;  // EOF, or the socket's error
  // Taken from the socket: the bytes exist only here, all go into the pipe.
  size_t done = 0;
  while (done < static_cast<size_t>(got)) {
    ssize_t w = real::write(pipe, buf.data() + done, static_cast<size_t>(got) - done);
    if (w > 0) {
      done += static_cast<size_t>(w);
    } else if (w < 0 && errno == EAGAIN) {
      (void)wait_fd(pipe, POLLOUT);
    } else if (!(w < 0 && errno == EINTR)) {
      break;  // EPIPE (the kernel raised SIGPIPE): the reader is gone
    }
  }
  if (done == 0) return -1;
  return static_cast<ssize_t>(done);
}

ssize_t Engine::splice_pipe_to_socket(int pipe, int sock, size_t len, bool pipe_nonblock,
                                      bool more) {
  // splice_to_socket(): data in the pipe first (0 once it is empty and has
  // no writer), then the socket.
  for (;;) {
    if (pipe_queued(pipe) > 0) break;
    pollfd p{pipe, POLLIN, 0};
    if (real::poll(&p, 1, 0) < 0) return -1;
    if ((p.revents & POLLHUP) && !(p.revents & POLLIN)) return 0;
    if (pipe_nonblock) return fail(EAGAIN);
    if (wait_fd(pipe, POLLIN) < 0) return -1;
  }
  size_t room = 0;
  {
    std::unique_lock<EngineMutex> lk(mu_);
    FdRef e = ref(sock);
    if (!e || e->kind == FdEntry::Kind::Pending) return fail(EBADF);
    if (e->kind == FdEntry::Kind::Inherited) return refuse_inherited(sock);
    bool nonblock = e->nonblock;
    std::optional<Time> deadline;
    if (e->snd_timeout > Time::zero()) deadline = now() + e->snd_timeout;
    for (;;) {
      // An empty send reports what a send would fail with (the pending
      // error, EPIPE, ENOTCONN) or EAGAIN while connecting, and moves nothing.
      auto r = stack_->send(e->sock, Bytes{}, now());
      if (!r.ok() && r.err() != EAGAIN) {
        int err = r.err();
        lk.unlock();
        if (err == EPIPE) raise(SIGPIPE);  // sk_stream_error(): no MSG_NOSIGNAL here
        return fail(err);
      }
      if (r.ok() && (stack_->readiness(e->sock) & core::ready::kOut)) break;
      if (nonblock) return fail(EAGAIN);
      int err = wait_locked(lk, deadline);
      if (err == 0 && ref(sock) != e) err = EBADF;
      if (err) return fail(err == ETIMEDOUT ? EAGAIN : err);
    }
    // The send buffer's free bytes (sk_sndbuf less what is queued).
    auto sndbuf = stack_->get_option(e->sock, core::SockOpt::SndBuf);
    size_t queued = stack_->bytes_unacked(e->sock);
    size_t limit = sndbuf.ok() ? static_cast<size_t>(std::max(sndbuf.value(), 0)) : len;
    room = std::max<size_t>(limit > queued ? limit - queued : 0, 1);
  }
  std::vector<char> buf(std::min(len, room));
  ssize_t got = real::read(pipe, buf.data(), buf.size());
  if (got <= 0) return got;
  return send_spliced(sock, buf.data(), static_cast<size_t>(got), more ? MSG_MORE : 0);
}

ssize_t Engine::send_spliced(int fd, const char* buf, size_t n, int flags) {
  std::unique_lock<EngineMutex> lk(mu_);
  FdRef e = ref(fd);
  if (!e || e->kind != FdEntry::Kind::Veer) return fail(EBADF);
  CallProgress progress;
  // Blocking whatever O_NONBLOCK says, and through signals: what was taken
  // from the pipe cannot go back.
  CallResult r = calls().send(e->sock, buf, n, flags, /*nonblock=*/false, progress);
  while (r.status == CallStatus::WouldBlock) {
    kick_locked();
    int err = wait_locked(lk, std::nullopt);
    if (err == 0 && ref(fd) != e) err = EBADF;
    if (err && err != EINTR)
      return progress.bytes ? static_cast<ssize_t>(progress.bytes) : fail(err);
    r = calls().send(e->sock, buf, n, flags, /*nonblock=*/false, progress);
  }
  kick_locked();
  lk.unlock();
  if (r.raise_sigpipe) raise(SIGPIPE);
  if (r.err) return fail(r.err);
  return static_cast<ssize_t>(r.ret);
}

}  // namespace veer::preload
