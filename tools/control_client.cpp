#include "tools/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "tools/view_reader.h"

namespace veer::tools {
namespace {

constexpr int kReplyTimeoutMs = 3000;

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::optional<int> parse_pid(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  int pid = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    pid = pid * 10 + (c - '0');
  }
  if (pid <= 0) return std::nullopt;
  return pid;
}

std::optional<preload::ControlReply> control_exchange(int pid,
                                                      const preload::ControlRequest& request,
                                                      std::string* error) {
  std::string path = preload::control_socket_path(pid);
  std::string who = "process " + std::to_string(pid);
  if (!process_alive(pid)) {
    ::unlink(path.c_str());  // left by a process that was killed
    *error = "no process " + std::to_string(pid);
    return std::nullopt;
  }
  Fd s{::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return std::nullopt;
  }
  // An autobound (abstract) address, so the engine has somewhere to answer;
  // connect() then takes datagrams from the engine's socket only.
  sockaddr_un self{};
  self.sun_family = AF_UNIX;
  sockaddr_un peer{};
  peer.sun_family = AF_UNIX;
  std::memcpy(peer.sun_path, path.c_str(), path.size() + 1);
  if (::bind(s.fd, reinterpret_cast<sockaddr*>(&self), sizeof(sa_family_t)) < 0 ||
      ::connect(s.fd, reinterpret_cast<sockaddr*>(&peer), sizeof peer) < 0) {
    int err = errno;
    if (err == ENOENT || err == ECONNREFUSED) {
      *error = who + " does not run veer, or has not started its stack yet (no " + path + ")";
    } else if (err == EACCES || err == EPERM) {
      *error = who + " belongs to another user (" + path + ": " + std::strerror(err) + ")";
    } else {
      *error = path + ": " + std::strerror(err);
    }
    return std::nullopt;
  }
  std::string text = preload::encode_request(request);
  if (::send(s.fd, text.data(), text.size(), MSG_NOSIGNAL) < 0) {
    *error = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  pollfd pfd{s.fd, POLLIN, 0};
  int n;
  do {
    n = ::poll(&pfd, 1, kReplyTimeoutMs);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    *error = who + " did not answer within " + std::to_string(kReplyTimeoutMs / 1000) + " s";
    return std::nullopt;
  }
  std::vector<char> buf(preload::kMaxControlMessage + 1);
  ssize_t got = ::recv(s.fd, buf.data(), buf.size(), 0);
  if (got < 0) {
    *error = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::string problem;
  auto reply = preload::decode_reply(std::string_view(buf.data(), size_t(got)), &problem);
  if (!reply) *error = who + " answered something unexpected: " + problem;
  return reply;
}

}  // namespace veer::tools
