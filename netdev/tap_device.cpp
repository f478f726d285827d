#include "netdev/tap_device.h"

#include <fcntl.h>
#include <liburing.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "netdev/link.h"
#include "netdev/tun_queue.h"

namespace veer::netdev {
namespace {

// Without IFF_VNET_HDR the kernel hands over no GSO super-frames, so the
// largest frame is the largest MTU a TAP accepts (65535) plus an Ethernet
// header carrying a VLAN tag.
// With it, a GSO frame (64 KB of IP) follows the virtio_net_hdr.
constexpr size_t kMaxFrame = 65535 + 14 + 4;
constexpr size_t kMaxRead = kVnetHdrLen + kMaxFrame;

// IFF_VNET_HDR alone changes nothing the kernel sends; the header size and
// the offloads we accept make it hand over (and take) 64 KB GSO frames.
bool set_offloads(int fd, std::string* why) {
  int size = static_cast<int>(kVnetHdrLen);
  if (::ioctl(fd, TUNSETVNETHDRSZ, &size) < 0) {
    *why = std::string("TUNSETVNETHDRSZ: ") + std::strerror(errno);
    return false;
  }
  if (::ioctl(fd, TUNSETOFFLOAD, static_cast<unsigned long>(TUN_F_CSUM | TUN_F_TSO4)) < 0) {
    *why = std::string("TUNSETOFFLOAD: ") + std::strerror(errno);
    return false;
  }
  return true;
}

// Attaching to a TAP turns its carrier on, but the kernel starts sending on
// it only when its link watcher has run (dev_activate(), up to a second
// later): until then, the kernel's answers to our first frames (the ARP reply
// to the first connect) are dropped and veer would wait a whole ARP retry.
// The watcher also sets the operational state, which IFF_RUNNING reports:
// wait for that, briefly, when the link is up at all.
void wait_until_running(const std::string& ifname) {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return;
  for (int i = 0; i < 400; ++i) {
    struct ifreq ifr {};
    std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
    if (::ioctl(sock, SIOCGIFFLAGS, &ifr) < 0 || !(ifr.ifr_flags & IFF_UP) ||
        (ifr.ifr_flags & IFF_RUNNING))
      break;
    usleep(5000);
  }
  ::close(sock);
}

// The shortest frame tun_get_user() takes: an Ethernet header.
constexpr size_t kEthHeader = 14;

// liburing makes its own system calls; these are the ones veer makes on the
// rings' fds, past libveer's interposed close() and dup3() (the engine keeps
// the program off these fds, and would keep veer off them too).
int raw_close(int fd) {
  return static_cast<int>(::syscall(SYS_close, fd));
}
int raw_dup3(int from, int to, int flags) {
  return static_cast<int>(::syscall(SYS_dup3, from, to, flags));
}

// Its address tells the threads apart (see TapDevice::rx_thread_).
thread_local char tls_thread_marker;
// Frames this thread has sent (see TapDevice::tx_ring()), up to kSteadySender.
thread_local uint32_t tls_frames_sent;
constexpr uint32_t kSteadySender = 64;

// A ring of `depth` entries whose fd is `at` when `at` >= 0 (a forked child
// replacing the ring it inherited keeps its number, which the engine keeps
// the program from closing). Its memory is not inherited by forked children:
// they cannot scribble on a ring that is not theirs. 0 or -errno.
int make_ring(io_uring* ring, unsigned depth, int at) {
  std::memset(ring, 0, sizeof *ring);
  int rc = io_uring_queue_init(depth, ring, 0);
  if (rc < 0) return rc;
  if ((rc = io_uring_ring_dontfork(ring)) < 0) {
    io_uring_queue_exit(ring);
    return rc;
  }
  if (at >= 0 && at != ring->ring_fd) {
    if (raw_dup3(ring->ring_fd, at, O_CLOEXEC) < 0) {
      rc = -errno;
      io_uring_queue_exit(ring);
      return rc;
    }
    raw_close(ring->ring_fd);
    ring->ring_fd = at;
    ring->enter_ring_fd = at;
  }
  return 0;
}

}  // namespace

// io_uring for the TAP: one ring keeps reads queued on it (its completions
// are the received frames, and its fd is what the engine polls), another
// carries the writes, so that sending never wakes the poller.
//
// A ring belongs to the process that made it. A forked child inherits the
// fds but not the memory (MADV_DONTFORK), and its copy of the mark page is
// zeroed (MADV_WIPEONFORK): the first time the child uses the device it
// makes rings of its own at the same fd numbers. The parent's queued reads
// stay the parent's; the kernel cancels them when it exits or execs.
class TapDevice::Ring {
 public:
  static constexpr uint64_t kCancel = ~uint64_t{0};

  static std::unique_ptr<Ring> create(int tun, size_t rx_size, unsigned rx_depth, size_t tx_size,
                                      unsigned tx_depth, std::string* why) {
    void* page = ::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
      *why = std::string("mmap: ") + std::strerror(errno);
      return nullptr;
    }
    if (::madvise(page, kPage, MADV_WIPEONFORK) < 0) {
      *why = std::string("madvise(MADV_WIPEONFORK): ") + std::strerror(errno);
      ::munmap(page, kPage);
      return nullptr;
    }
    auto r = std::unique_ptr<Ring>(
        new Ring(tun, static_cast<Mark*>(page), rx_size, rx_depth, tx_size, tx_depth));
    int rc = make_ring(&r->rx_, rx_depth, -1);
    if (rc < 0) {
      *why = std::string("io_uring_queue_init: ") + std::strerror(-rc);
      r->mark_->state = kNone;
      return nullptr;
    }
    rc = make_ring(&r->tx_, tx_depth, -1);
    if (rc < 0) {
      *why = std::string("io_uring_queue_init: ") + std::strerror(-rc);
      io_uring_queue_exit(&r->rx_);
      r->mark_->state = kNone;
      return nullptr;
    }
    r->rx_fd_ = r->rx_.ring_fd;
    r->tx_fd_ = r->tx_.ring_fd;
    r->mark_->state = kHere;
    return r;
  }

  ~Ring() {
    if (mark_->state == kHere) {
      cancel_reads();
      io_uring_queue_exit(&rx_);
      io_uring_queue_exit(&tx_);
    } else if (rx_fd_ >= 0) {
      // A forked child's copies of its parent's rings (the memory is not here).
      raw_close(rx_fd_);
      raw_close(tx_fd_);
    }
    ::munmap(mark_, kPage);
  }

  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  bool here() const { return mark_->state == kHere; }
  bool refused_here() const { return mark_->state == kRefused; }
  int rx_fd() const { return rx_fd_; }
  int tx_fd() const { return tx_fd_; }
  bool rx_armed() const { return rx_armed_; }
  bool tx_pending() const { return tx_queued_ > 0; }
  void stop_receiving() { cancel_reads(); }

  // In a forked child: rings of its own in place of its parent's. False
  // (and read()/write() in this process from then on) when it cannot.
  bool remake() {
    // The inherited structures describe memory this process does not have.
    int rc = make_ring(&rx_, rx_depth_, rx_fd_);
    if (rc == 0) {
      rc = make_ring(&tx_, tx_depth_, tx_fd_);
      if (rc < 0) {
        // Closing would free the fd number: keep it, pointing nowhere useful.
        rx_.ring_fd = -1;
      }
    }
    if (rc < 0) {
      mark_->state = kRefused;
      return false;
    }
    rx_armed_ = false;
    rx_inflight_ = 0;
    tx_queued_ = 0;
    tx_free_.clear();
    for (unsigned i = 0; i < tx_depth_; ++i) tx_free_.push_back(i);
    mark_->state = kHere;
    return true;
  }

  // Reaps up to `max` reads, handing each frame to `deliver`, and queues
  // the reads again with one submit. Returns the frames handed on, or
  // -errno when a read failed and none was.
  template <typename Deliver>
  int receive(size_t max, Deliver&& deliver) {
    unsigned rearm = 0;
    if (!rx_armed_) {
      for (unsigned i = 0; i < rx_depth_; ++i) queue_read(i);
      rearm = rx_depth_;
      rx_armed_ = true;
    }
    size_t got = 0;
    int error = 0;
    io_uring_cqe* cqe;
    while (got < max && io_uring_peek_cqe(&rx_, &cqe) == 0) {
      uint64_t idx = cqe->user_data;
      int res = cqe->res;
      io_uring_cqe_seen(&rx_, cqe);
      if (idx == kCancel) continue;
      --rx_inflight_;
      if (res > 0) {
        if (deliver(Bytes(rx_buf(static_cast<unsigned>(idx)), static_cast<size_t>(res)))) ++got;
      } else if (res < 0 && res != -ECANCELED && res != -EAGAIN && res != -EINTR) {
        // -ECANCELED: the thread that queued the read exited. Queued again
        // from this one.
        error = res;
      }
      // The buffer is read into again only once submitted, after the
      // callbacks.
      queue_read(static_cast<unsigned>(idx));
      ++rearm;
    }
    if (rearm > 0) io_uring_submit(&rx_);
    if (got == 0 && error < 0) return error;
    return static_cast<int>(got);
  }

  // Queues a write of `frame`, after a zero virtio_net_hdr when `plain_hdr`.
  // False when no buffer is free or the frame does not fit one: the caller
  // writes it itself.
  bool queue_write(Bytes frame, bool plain_hdr) {
    size_t len = frame.size() + (plain_hdr ? kVnetHdrLen : 0);
    if (len > tx_size_) return false;
    if (tx_free_.empty()) submit_writes();
    if (tx_free_.empty()) return false;
    unsigned slot = tx_free_.back();
    io_uring_sqe* sqe = io_uring_get_sqe(&tx_);
    if (!sqe) return false;
    tx_free_.pop_back();
    std::byte* buf = tx_buf_.data() + size_t{slot} * tx_size_;
    std::byte* at = buf;
    if (plain_hdr) {
      write_plain_vnet_hdr(at);
      at += kVnetHdrLen;
    }
    std::memcpy(at, frame.data(), frame.size());
    // tun is a stream: the offset is not used.
    io_uring_prep_write(sqe, tun_, buf, static_cast<unsigned>(len), static_cast<uint64_t>(-1));
    sqe->user_data = slot;
    ++tx_queued_;
    return true;
  }

  // Submits the queued writes; tun takes them as they are submitted, so their
  // completions are reaped at once. Writes that failed are counted (not for
  // a full queue, which drops a frame as write() would).
  void submit_writes() {
    if (tx_queued_ > 0) {
      io_uring_submit(&tx_);
      tx_queued_ = 0;
    }
    io_uring_cqe* cqe;
    while (io_uring_peek_cqe(&tx_, &cqe) == 0) {
      if (cqe->res < 0 && cqe->res != -EAGAIN) ++tx_failed_;
      tx_free_.push_back(static_cast<unsigned>(cqe->user_data));
      io_uring_cqe_seen(&tx_, cqe);
    }
  }
  uint64_t tx_failed() const { return tx_failed_; }

 private:
  static constexpr size_t kPage = 4096;
  enum State : int { kNone = 0, kHere = 1, kRefused = 2 };
  struct Mark {
    State state;
  };

  Ring(int tun, Mark* mark, size_t rx_size, unsigned rx_depth, size_t tx_size, unsigned tx_depth)
      : tun_(tun),
        mark_(mark),
        rx_size_(rx_size),
        rx_depth_(rx_depth),
        tx_size_(tx_size),
        tx_depth_(tx_depth),
        rx_buf_(rx_size * rx_depth),
        tx_buf_(tx_size * tx_depth) {
    for (unsigned i = 0; i < tx_depth; ++i) tx_free_.push_back(i);
  }

  std::byte* rx_buf(unsigned i) { return rx_buf_.data() + size_t{i} * rx_size_; }

  void queue_read(unsigned i) {
    // Never more reads than entries: there is always one.
    io_uring_sqe* sqe = io_uring_get_sqe(&rx_);
    if (!sqe) return;
    io_uring_prep_read(sqe, tun_, rx_buf(i), static_cast<unsigned>(rx_size_),
                       static_cast<uint64_t>(-1));
    sqe->user_data = i;
    ++rx_inflight_;
  }

  // Before the buffers go, or when another process receives: no read stays
  // queued (they are queued again on the next receive).
  void cancel_reads() {
    if (!rx_armed_) return;
    rx_armed_ = false;
    if (rx_inflight_ == 0) return;
    io_uring_sqe* sqe = io_uring_get_sqe(&rx_);
    if (!sqe) io_uring_submit(&rx_), sqe = io_uring_get_sqe(&rx_);
    if (!sqe) return;
    io_uring_prep_cancel_fd(sqe, tun_, IORING_ASYNC_CANCEL_ALL);
    sqe->user_data = kCancel;
    io_uring_submit(&rx_);
    for (int tries = 0; rx_inflight_ > 0 && tries < 100; ++tries) {
      io_uring_cqe* cqe;
      __kernel_timespec ts{.tv_sec = 0, .tv_nsec = 10'000'000};
      if (io_uring_wait_cqe_timeout(&rx_, &cqe, &ts) < 0) continue;
      if (cqe->user_data != kCancel) --rx_inflight_;
      io_uring_cqe_seen(&rx_, cqe);
    }
  }

  int tun_;
  Mark* mark_;  // zeroed in a forked child
  size_t rx_size_;
  unsigned rx_depth_;
  size_t tx_size_;
  unsigned tx_depth_;
  ::io_uring rx_{};
  ::io_uring tx_{};
  int rx_fd_ = -1;
  int tx_fd_ = -1;
  bool rx_armed_ = false;
  unsigned rx_inflight_ = 0;
  unsigned tx_queued_ = 0;
  uint64_t tx_failed_ = 0;
  std::vector<std::byte> rx_buf_;
  std::vector<std::byte> tx_buf_;
  std::vector<unsigned> tx_free_;
};

std::unique_ptr<TapDevice> TapDevice::open(const std::string& ifname, std::string* error) {
  return open(ifname, false, false, error);
}

std::unique_ptr<TapDevice> TapDevice::open(const std::string& ifname, bool offload,
                                           std::string* error) {
  return open(ifname, offload, false, error);
}

std::unique_ptr<TapDevice> TapDevice::open(const std::string& ifname, bool offload, bool io_uring,
                                           std::string* error) {
  int fd = open_tap_queue(ifname, offload, error);
  if (fd < 0) return nullptr;
  std::string refused;
  if (offload) {
    if (!set_offloads(fd, &refused)) {
      // Without the offloads the queue still works, but only without the
      // header: reattach plainly.
      ::close(fd);
      offload = false;
      fd = open_tap_queue(ifname, false, error);
      if (fd < 0) return nullptr;
    }
  }
  int mtu = link_mtu(ifname, error);
  if (mtu <= 0 || mtu > 65535) {
    if (mtu > 65535) *error = "MTU of " + ifname + " is " + std::to_string(mtu) + ", above 65535";
    ::close(fd);
    return nullptr;
  }
  wait_until_running(ifname);
  auto tap =
      std::unique_ptr<TapDevice>(new TapDevice(fd, ifname, static_cast<uint16_t>(mtu), offload));
  tap->offload_refused_ = std::move(refused);
  if (io_uring) {
    // Reads are sized for the largest frame the queue can hand over; writes
    // for the largest veer makes (a TSO frame with offloads, else one MTU).
    size_t rx_size = tap->rx_buffer_.size();
    size_t tx_size = tap->offload_ ? kMaxRead : size_t{tap->mtu_} + kEthHeader + 4;
    unsigned rx_depth = tap->offload_ ? 16 : 64;
    unsigned tx_depth = tap->offload_ ? 16 : 64;
    tap->ring_ = Ring::create(fd, rx_size, rx_depth, tx_size, tx_depth, &tap->io_uring_refused_);
  }
  return tap;
}

TapDevice::TapDevice(int fd, std::string name, uint16_t mtu, bool offload)
    : fd_(fd),
      name_(std::move(name)),
      mtu_(mtu),
      rx_buffer_(offload ? kMaxRead : kMaxFrame),
      offload_(offload) {}

TapDevice::~TapDevice() {
  ring_.reset();  // before the fd its reads are queued on
  ::close(fd_);
}

DeviceCounters TapDevice::counters() const {
  DeviceCounters c = counters_;
  if (ring_) c.tx_batch_errors += ring_->tx_failed();
  return c;
}

bool TapDevice::io_uring() const {
  return ring_ && ring_->here();
}

int TapDevice::pollable_fd() const {
  // Until reads are queued in this process, the ring has nothing to report.
  if (ring_ && ring_->here() && ring_->rx_armed()) return ring_->rx_fd();
  return fd_;
}

void TapDevice::stop_receiving() {
  if (ring_ && ring_->here()) ring_->stop_receiving();
}

std::vector<int> TapDevice::fds() const {
  if (!ring_) return {fd_};
  return {fd_, ring_->rx_fd(), ring_->tx_fd()};
}

TapDevice::Ring* TapDevice::ring() {
  if (!ring_) return nullptr;
  if (ring_->here()) return ring_.get();
  if (ring_->refused_here() || !ring_->remake()) return nullptr;
  return ring_.get();
}

TapDevice::Ring* TapDevice::tx_ring() {
  if (rx_thread_ == &tls_thread_marker || tls_frames_sent >= kSteadySender) return ring();
  ++tls_frames_sent;
  return nullptr;
}

bool TapDevice::deliver(Bytes frame, const std::function<void(Bytes, RxInfo)>& on_frame) {
  RxInfo info;
  if (offload_) {
    if (frame.size() < kVnetHdrLen) return false;
    VnetHdr h;
    std::memcpy(&h, frame.data(), sizeof h);
    frame = frame.subspan(kVnetHdrLen);
    info.checksum_trusted = (h.flags & (kVnetNeedsCsum | kVnetDataValid)) != 0;
    if (h.gso_type != kVnetGsoNone) ++counters_.rx_gso_frames;
  }
  on_frame(frame, info);
  return true;
}

int TapDevice::receive_burst(size_t max, const std::function<void(Bytes)>& on_frame) {
  return receive_burst_info(max, [&](Bytes f, RxInfo) { on_frame(f); });
}

int TapDevice::receive_burst_info(size_t max, const std::function<void(Bytes, RxInfo)>& on_frame) {
  if (Ring* r = ring()) return r->receive(max, [&](Bytes raw) { return deliver(raw, on_frame); });
  size_t received = 0;
  while (received < max) {
    ssize_t n = ::read(fd_, rx_buffer_.data(), rx_buffer_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      // Frames already handed out count; the error will show again next call.
      if (received > 0) break;
      return -errno;
    }
    // A tun read never returns 0 for a live device; treat it as empty anyway.
    if (n == 0) break;
    if (deliver(Bytes(rx_buffer_.data(), static_cast<size_t>(n)), on_frame)) ++received;
  }
  return static_cast<int>(received);
}

int TapDevice::transmit(Bytes frame) {
  // A runt goes the plain way, for the kernel's verdict on it at once.
  Ring* r = frame.size() >= kEthHeader ? tx_ring() : nullptr;
  if (!offload_) {
    if (r && r->queue_write(frame, false)) return 0;
    return write_frame(frame);
  }
  if (batch_.add(frame)) return 0;
  flush();
  if (batch_.add(frame)) return 0;
  // Not TCP data: alone, behind a header that asks for nothing.
  if (r && r->queue_write(frame, true)) return 0;
  tx_plain_.resize(kVnetHdrLen + frame.size());
  write_plain_vnet_hdr(tx_plain_.data());
  std::memcpy(tx_plain_.data() + kVnetHdrLen, frame.data(), frame.size());
  return write_frame(tx_plain_);
}

void TapDevice::flush() {
  if (batch_.empty() && !(ring_ && ring_->tx_pending())) return;
  Ring* ring = ring_ && ring_->tx_pending() ? this->ring() : tx_ring();
  if (batch_.empty()) {
    if (ring) ring->submit_writes();
    return;
  }
  size_t segments = batch_.segments();
  Bytes out = batch_.finish();
  if (ring && ring->queue_write(out, false)) {
    // A failed write is counted when reaped (tx_batch_errors), a success here.
    if (segments > 1) {
      ++counters_.tx_gso_frames;
      counters_.tx_gso_segments += segments;
    }
    batch_.clear();
    ring->submit_writes();
    return;
  }
  if (ring) ring->submit_writes();  // in order
  int r = write_frame(out);
  if (r == 0 && segments > 1) {
    ++counters_.tx_gso_frames;
    counters_.tx_gso_segments += segments;
  } else if (r < 0 && r != -EAGAIN) {
    // A full queue drops a batch as it would its frames (TCP retransmits);
    // anything else (the kernel refusing the frame) must not go unseen.
    ++counters_.tx_batch_errors;
  }
  batch_.clear();
}

int TapDevice::write_frame(Bytes frame) {
  while (true) {
    // tun_get_user() takes the whole frame or none of it, so there is no
    // short write to finish.
    ssize_t n = ::write(fd_, frame.data(), frame.size());
    if (n >= 0) return 0;
    if (errno == EINTR) continue;
    return -errno;
  }
}

}  // namespace veer::netdev
