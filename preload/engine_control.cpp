// The engine's side of the control channel (preload/control_protocol.h says
// what it is and why) and the capture it can start and stop.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "preload/engine.h"
#include "preload/log.h"
#include "preload/real.h"

namespace veer::preload {
namespace {

int64_t unix_now_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// The sender's credentials, which the kernel fills in (SO_PASSCRED); a
// process cannot claim another user's.
bool sender_allowed(msghdr& msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS) continue;
    ucred cred;
    std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
    return cred.uid == geteuid() || cred.uid == 0;
  }
  return false;
}

}  // namespace

void Engine::open_control_locked() {
  std::string path = control_socket_path(getpid());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = real::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    log_once("control", "no control channel for veer sysctl -p / veer capture -p: socket: %s",
             std::strerror(errno));
    return;
  }
  int one = 1;
  // A socket file left by an earlier process with this pid is stale.
  ::unlink(path.c_str());
  if (real::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
      ::chmod(path.c_str(), 0600) < 0 ||
      real::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) {
    log_once("control", "no control channel for veer sysctl -p / veer capture -p: %s: %s",
             path.c_str(), std::strerror(errno));
    real::close(fd);
    ::unlink(path.c_str());
    return;
  }
  control_fd_ = fd;
  set_track(fd, kInternal);
}

void Engine::close_control_locked() {
  if (control_fd_ < 0) return;
  set_track(control_fd_, kNone);
  real::close(control_fd_);
  control_fd_ = -1;
  ::unlink(control_socket_path(getpid()).c_str());
}

void Engine::serve_control_locked() {
  if (control_fd_ < 0) return;
  static char buf[kMaxControlMessage];
  // A burst of requests must not starve the stack: a few per wakeup.
  for (int i = 0; i < 8; ++i) {
    sockaddr_un from{};
    iovec iov{buf, sizeof buf};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = real::recvmsg(control_fd_, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) return;
    if (!sender_allowed(msg)) {
      VEER_LOG(Warn, "control request from another user ignored");
      continue;
    }
    ControlReply reply;
    std::string error;
    if (msg.msg_flags & MSG_TRUNC) {
      reply.body = "request longer than " + std::to_string(kMaxControlMessage) + " bytes";
    } else if (auto request = decode_request(std::string_view(buf, size_t(n)), &error)) {
      reply = handle_control_locked(*request);
    } else {
      reply.body = error;
    }
    std::string out = encode_reply(reply);
    if (out.size() > kMaxControlMessage) out = encode_reply({false, "reply too long"});
    // A client that went away gets nothing; the engine never waits for one.
    (void)real::sendto(control_fd_, out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                       reinterpret_cast<sockaddr*>(&from), msg.msg_namelen);
  }
}

ControlReply Engine::handle_control_locked(const ControlRequest& request) {
  if (request.verb == ControlRequest::Verb::Show) return {true, describe_knobs(config_, {})};
  config::Config next = config_;
  if (auto err = apply_at_run_time(next, request.assignments)) return {false, err->message};
  std::string error;
  if (!configure_capture_locked(next, &error)) return {false, "capture: " + error};
  config_ = std::move(next);
  // New connections take the new TCP settings (Stack::set_tcp_settings);
  // the rest of stack_config_ (address, MAC, MTU) cannot change here.
  stack_config_.tcp = config_.stack_config().tcp;
  stack_->set_tcp_settings(stack_config_.tcp);
  read_busy_poll_knobs_locked();
  log_configure(log_level_from(config_.get_text("log")), log_fd_);
  std::vector<std::string> names;
  std::string summary;
  for (const auto& [key, value] : request.assignments) {
    names.push_back(key);
    summary += " " + key + "=" + config_.get_text(key);
  }
  VEER_LOG(Info, "changed at run time:%s", summary.c_str());
  kick_locked();
  return {true, describe_knobs(config_, names)};
}

bool Engine::configure_capture_locked(const config::Config& config, std::string* error) {
  netdev::PcapWriter::Options want;
  want.path = config.get_text("capture");
  want.snaplen = config.get_int("capture_snaplen");
  want.rotate_bytes = uint64_t(config.get_int("capture_rotate_mb")) << 20;
  if (capture_) {
    const auto& have = capture_->options();
    if (have.path == want.path && have.snaplen == want.snaplen &&
        have.rotate_bytes == want.rotate_bytes)
      return true;  // unchanged: keep writing the same file
  }
  std::unique_ptr<netdev::PcapWriter> next;
  if (!want.path.empty()) {
    next = netdev::PcapWriter::open(want, error);
    if (!next) return false;
  }
  if (capture_) {
    VEER_LOG(Info, "capture to %s stopped after %llu frames", capture_->options().path.c_str(),
             static_cast<unsigned long long>(capture_->frames()));
  }
  capture_ = std::move(next);  // the old writer flushes and closes its file
  capture_dirty_ = false;
  track_capture_fd_locked();
  if (capture_) {
    VEER_LOG(Info, "capturing every frame to %s (snaplen %d)", want.path.c_str(), want.snaplen);
  }
  return true;
}

void Engine::track_capture_fd_locked() {
  // The program must not close the capture file under us (close_range).
  int fd = capture_ ? capture_->fd() : -1;
  if (fd == capture_fd_) return;
  if (capture_fd_ >= 0) set_track(capture_fd_, kNone);
  if (fd >= 0) set_track(fd, kInternal);
  capture_fd_ = fd;
}

void Engine::capture_frame_locked(Bytes frame) {
  capture_->write(frame, unix_now_ns());
  capture_dirty_ = true;
  if (!capture_->error().empty()) {
    log_write(LogLevel::Error, "capture stopped: %s", capture_->error().c_str());
    capture_.reset();
  }
  track_capture_fd_locked();  // rotated to a new file, or stopped
}

void Engine::flush_capture_locked() {
  if (!capture_ || !capture_dirty_) return;
  capture_->flush();
  capture_dirty_ = false;
  if (!capture_->error().empty()) {
    log_write(LogLevel::Error, "capture stopped: %s", capture_->error().c_str());
    capture_.reset();
    track_capture_fd_locked();
  }
}

}  // namespace veer::preload
