#include "netdev/xdp_device.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "netdev/link.h"

#ifndef VEER_XDP_OBJECT
#error "VEER_XDP_OBJECT must name the compiled XDP program (netdev/CMakeLists.txt)"
#endif

namespace veer::netdev {
namespace {

constexpr uint32_t kFrameSize = XSK_UMEM__DEFAULT_FRAME_SIZE;

// Multi-buffer AF_XDP (Linux 6.6), newer than some distributions' uapi
// headers: the bind flag, and the descriptor option marking "more of this
// frame follows in the next descriptor".
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif
// The longest frame a chain may gather: an MTU 9000 frame with an Ethernet
// header and a VLAN tag fits with room to spare; longer chains are dropped.
constexpr size_t kMaxChainBytes = 3 * kFrameSize;

// libxdp and libbpf print through one process-wide callback with no user
// pointer: keep their last warning so an error can quote it, print nothing.
std::mutex g_print_mu;
std::string g_last_warning;

int keep_warning(int level_is_warn, const char* format, va_list ap) {
  if (!level_is_warn) return 0;
  char line[512];
  int n = std::vsnprintf(line, sizeof line, format, ap);
  std::lock_guard<std::mutex> lock(g_print_mu);
  g_last_warning.assign(line);
  while (!g_last_warning.empty() && g_last_warning.back() == '\n') g_last_warning.pop_back();
  return n;
}
int libxdp_print(enum libxdp_print_level level, const char* format, va_list ap) {
  return keep_warning(level == LIBXDP_WARN, format, ap);
}
int libbpf_print(enum libbpf_print_level level, const char* format, va_list ap) {
  return keep_warning(level == LIBBPF_WARN, format, ap);
}

void quiet_libraries() {
  static std::once_flag once;
  std::call_once(once, [] {
    libxdp_set_print(libxdp_print);
    libbpf_set_print(libbpf_print);
  });
}

std::string last_warning() {
  std::lock_guard<std::mutex> lock(g_print_mu);
  return g_last_warning.empty() ? "" : " [" + g_last_warning + "]";
}

// The value of the XDP program's veer_addr map (struct veer_addr_entry).
struct VeerAddrEntry {
  uint32_t addr_be;
  uint32_t owner_pid;
};

// A veer program whose owner is gone (killed before it could detach) is
// stale: the kernel keeps it attached and it would hide veer's address from
// the kernel for good. Removes such a program and returns true; leaves any
// other program alone.
bool remove_stale_veer_program(int ifindex) {
  xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
  if (libxdp_get_error(mp) || mp == nullptr) return false;
  bool stale = false;
  xdp_program* main = xdp_multiprog__main_prog(mp);
  if (main && std::strcmp(xdp_program__name(main), "veer_xdp") == 0) {
    int prog_fd = bpf_prog_get_fd_by_id(xdp_program__id(main));
    bpf_prog_info info{};
    uint32_t map_ids[8] = {};
    info.nr_map_ids = 8;
    info.map_ids = reinterpret_cast<uint64_t>(map_ids);
    uint32_t len = sizeof info;
    if (prog_fd >= 0 && bpf_obj_get_info_by_fd(prog_fd, &info, &len) == 0) {
      for (uint32_t i = 0; i < std::min<uint32_t>(info.nr_map_ids, 8); ++i) {
        int map_fd = bpf_map_get_fd_by_id(map_ids[i]);
        if (map_fd < 0) continue;
        bpf_map_info minfo{};
        uint32_t mlen = sizeof minfo;
        uint32_t zero = 0;
        VeerAddrEntry entry{};
        if (bpf_obj_get_info_by_fd(map_fd, &minfo, &mlen) == 0 &&
            std::strcmp(minfo.name, "veer_addr") == 0 &&
            bpf_map_lookup_elem(map_fd, &zero, &entry) == 0 && entry.owner_pid != 0 &&
            ::kill(static_cast<pid_t>(entry.owner_pid), 0) < 0 && errno == ESRCH) {
          stale = true;
        }
        ::close(map_fd);
      }
    }
    if (prog_fd >= 0) ::close(prog_fd);
  }
  if (stale) stale = xdp_multiprog__detach(mp) == 0;
  xdp_multiprog__close(mp);
  return stale;
}

bool power_of_two(uint32_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

// The UMEM is locked memory: a small RLIMIT_MEMLOCK refuses it. Raising the
// limit works for root; otherwise CAP_IPC_LOCK or `ulimit -l` is the fix.
void raise_memlock() {
  rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  if (::setrlimit(RLIMIT_MEMLOCK, &unlimited) == 0) return;
  rlimit current{};
  if (::getrlimit(RLIMIT_MEMLOCK, &current) == 0 && current.rlim_cur < current.rlim_max) {
    current.rlim_cur = current.rlim_max;
    (void)::setrlimit(RLIMIT_MEMLOCK, &current);
  }
}

std::string memlock_hint() {
  rlimit current{};
  std::string limit = "unknown";
  if (::getrlimit(RLIMIT_MEMLOCK, &current) == 0)
    limit = current.rlim_cur == RLIM_INFINITY ? "unlimited"
                                              : std::to_string(current.rlim_cur / 1024) + " KiB";
  return " (RLIMIT_MEMLOCK is " + limit +
         "; raise it with `ulimit -l`, run as root (CAP_IPC_LOCK), or lower xdp_frames)";
}

// Names whatever XDP program already sits on the interface, for EBUSY.
std::string attached_program(int ifindex) {
  xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
  if (libxdp_get_error(mp) || mp == nullptr) return "another XDP program";
  std::string text = "another XDP program";
  if (xdp_program* main = xdp_multiprog__main_prog(mp)) {
    text = std::string("XDP program '") + xdp_program__name(main) + "' (id " +
           std::to_string(xdp_program__id(main)) + ")";
  }
  xdp_multiprog__close(mp);
  return text;
}

std::string attach_error(int err, const std::string& ifname, int ifindex) {
  std::string why = std::strerror(err);
  switch (err) {
    case EPERM:
    case EACCES:
      return "attaching the XDP program to " + ifname + ": " + why +
             " (needs CAP_NET_ADMIN and CAP_BPF (or CAP_SYS_ADMIN): run as root)";
    case EBUSY:
    case EEXIST:
      return "attaching the XDP program to " + ifname + ": " + attached_program(ifindex) +
             " is already attached (one XDP program per interface here: another veer process "
             "on " +
             ifname + "? Otherwise remove it with `ip link set dev " + ifname + " xdp off`)";
    case EOPNOTSUPP:
    case EINVAL:
      return "attaching the XDP program to " + ifname + ": " + why +
             " (the interface has no XDP support, native or generic)";
    default:
      return "attaching the XDP program to " + ifname + ": " + why;
  }
}

}  // namespace

struct XdpDevice::Rings {
  xsk_ring_prod fill{};
  xsk_ring_cons comp{};
  xsk_ring_cons rx{};
  xsk_ring_prod tx{};
};

XdpDevice::XdpDevice() : rings_(std::make_unique<Rings>()) {}

std::unique_ptr<XdpDevice> XdpDevice::open(const XdpOptions& options, std::string* error) {
  quiet_libraries();
  const std::string& ifname = options.ifname;
  if (!power_of_two(options.frames) || !power_of_two(options.ring_size)) {
    *error = "xdp_frames and xdp_ring_size must be powers of two";
    return nullptr;
  }
  std::unique_ptr<XdpDevice> dev(new XdpDevice());
  dev->name_ = ifname;
  dev->ifindex_ = static_cast<int>(::if_nametoindex(ifname.c_str()));
  if (dev->ifindex_ == 0) {
    *error = "no interface " + ifname + " here (`veer net up --xdp` makes a veth pair)";
    return nullptr;
  }
  int mtu = link_mtu(ifname, error);
  if (mtu <= 0) return nullptr;

  const std::string path = options.program_path.empty() ? VEER_XDP_OBJECT : options.program_path;
  remove_stale_veer_program(dev->ifindex_);
  // Multi-buffer first (a program that takes frames spread over several
  // buffers), then without; native (driver) mode where the driver has it,
  // generic (SKB) otherwise. The program must be reopened to change frags.
  int err = 0;
  std::string frags_refused;
  const bool try_frags = options.multi_buffer;
  for (int attempt = 0; attempt < 4; ++attempt) {
    const bool frags = attempt % 2 == 0;
    const auto mode = attempt < 2 ? XDP_MODE_NATIVE : XDP_MODE_SKB;
    if (frags && !try_frags) continue;
    if (dev->program_) {
      xdp_program__close(dev->program_);
      dev->program_ = nullptr;
    }
    xdp_program* prog = xdp_program__open_file(path.c_str(), "xdp", nullptr);
    if (long e = libxdp_get_error(prog); e || prog == nullptr) {
      *error = "opening the XDP program " + path + ": " + std::strerror(static_cast<int>(-e)) +
               last_warning();
      return nullptr;
    }
    dev->program_ = prog;
    if (frags && xdp_program__set_xdp_frags_support(prog, true) < 0) {
      if (frags_refused.empty()) frags_refused = "libxdp cannot mark the program for multi-buffer";
      continue;
    }
    err = xdp_program__attach(prog, dev->ifindex_, mode, 0);
    if (err == 0) {
      dev->attach_mode_ = mode;
      dev->multi_buffer_ = frags;
      break;
    }
    if (err == -EBUSY || err == -EEXIST || err == -EPERM) break;
    if (frags && frags_refused.empty())
      frags_refused = std::string("attaching a multi-buffer XDP program: ") + std::strerror(-err) +
                      last_warning();
  }
  if (err < 0) {
    dev->attach_mode_ = 0;  // nothing to detach
    *error = attach_error(-err, ifname, dev->ifindex_) + last_warning();
    if (err == -ERANGE || (!dev->multi_buffer_ && mtu > kMaxXdpMtu))
      *error += " (single-buffer XDP on veth takes an MTU of at most " +
                std::to_string(kMaxXdpMtu) + ": lower the MTU" +
                (frags_refused.empty() ? std::string() : "; multi-buffer: " + frags_refused) + ")";
    return nullptr;
  }
  xdp_program* prog = dev->program_;

  bpf_object* obj = xdp_program__bpf_obj(prog);
  int addr_map = bpf_object__find_map_fd_by_name(obj, "veer_addr");
  int xsk_map = bpf_object__find_map_fd_by_name(obj, "veer_xsks");
  if (addr_map < 0 || xsk_map < 0) {
    *error = "the XDP program " + path + " has no veer_addr or veer_xsks map";
    return nullptr;
  }

  raise_memlock();
  dev->frame_size_ = kFrameSize;
  dev->umem_bytes_ = static_cast<size_t>(options.frames) * kFrameSize;
  void* area =
      ::mmap(nullptr, dev->umem_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) {
    *error = "mmap of a " + std::to_string(dev->umem_bytes_ >> 20) +
             " MiB UMEM: " + std::strerror(errno);
    return nullptr;
  }
  dev->umem_area_ = area;
  Rings& r = *dev->rings_;
  xsk_umem_config ucfg{};
  ucfg.fill_size = options.ring_size;
  ucfg.comp_size = options.ring_size;
  ucfg.frame_size = kFrameSize;
  ucfg.frame_headroom = 0;
  err = xsk_umem__create(&dev->umem_, area, dev->umem_bytes_, &r.fill, &r.comp, &ucfg);
  if (err < 0) {
    dev->umem_ = nullptr;
    *error = "registering the UMEM (" + std::to_string(dev->umem_bytes_ >> 20) +
             " MiB): " + std::strerror(-err) +
             (err == -ENOMEM || err == -EPERM ? memlock_hint() : std::string()) + last_warning();
    return nullptr;
  }

  xsk_socket_config scfg{};
  scfg.rx_size = options.ring_size;
  scfg.tx_size = options.ring_size;
  // Our program is loaded already; libxdp must not load its own.
  scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
  // veth has no zero-copy: ask for copy mode rather than fail on it.
  // A queue whose previous socket has just been closed (the last veer
  // process on it exiting) stays busy for a moment: retry for up to 2 s.
  // A multi-buffer program wants a socket taking chains of descriptors
  // (XDP_USE_SG); a kernel without it refuses the flag.
  for (int attempt = 0;; ++attempt) {
    scfg.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP | (dev->multi_buffer_ ? XDP_USE_SG : 0);
    err = xsk_socket__create(&dev->xsk_, ifname.c_str(), options.queue, dev->umem_, &r.rx, &r.tx,
                             &scfg);
    if (err < 0 && err != -EBUSY && dev->multi_buffer_) {
      frags_refused =
          std::string("binding the AF_XDP socket with XDP_USE_SG: ") + std::strerror(-err);
      dev->multi_buffer_ = false;
      continue;
    }
    if (err != -EBUSY || attempt == 100) break;
    ::usleep(20000);
  }
  if (err < 0) {
    dev->xsk_ = nullptr;
    std::string hint;
    if (err == -EBUSY)
      hint =
          " (queue taken by another AF_XDP socket; a queue just released can "
          "stay busy for a moment)";
    if (err == -EINVAL)
      hint = " (does " + ifname + " have queue " + std::to_string(options.queue) + "?)";
    if (err == -ENOMEM || err == -ENOBUFS) hint = memlock_hint();
    *error = "creating the AF_XDP socket on " + ifname + " queue " + std::to_string(options.queue) +
             ": " + std::strerror(-err) + hint + last_warning();
    return nullptr;
  }
  dev->fd_ = xsk_socket__fd(dev->xsk_);
  const int cap = dev->multi_buffer_ ? kMaxXdpMtuMultiBuffer : kMaxXdpMtu;
  dev->mtu_ = static_cast<uint16_t>(std::min(mtu, cap));
  if (dev->multi_buffer_) {
    dev->gather_.resize(kMaxChainBytes);
  } else if (try_frags) {
    dev->single_buffer_reason_ = frags_refused.empty() ? "multi-buffer refused" : frags_refused;
  }
  if (int e = xsk_socket__update_xskmap(dev->xsk_, xsk_map); e < 0) {
    *error = "adding the AF_XDP socket to the XDP program's map: " + std::string(std::strerror(-e));
    return nullptr;
  }

  // Half the chunks receive (as many as the fill ring holds), the rest send.
  dev->rx_frames_ = std::min(options.frames / 2, options.ring_size);
  uint32_t idx = 0;
  if (xsk_ring_prod__reserve(&r.fill, dev->rx_frames_, &idx) != dev->rx_frames_) {
    *error = "filling the AF_XDP fill ring failed";
    return nullptr;
  }
  for (uint32_t i = 0; i < dev->rx_frames_; ++i)
    *xsk_ring_prod__fill_addr(&r.fill, idx + i) = static_cast<uint64_t>(i) * kFrameSize;
  xsk_ring_prod__submit(&r.fill, dev->rx_frames_);
  dev->free_tx_.reserve(options.frames - dev->rx_frames_);
  dev->max_kicks_ = options.ring_size / 32 + 2;
  for (uint32_t i = options.frames; i-- > dev->rx_frames_;)
    dev->free_tx_.push_back(static_cast<uint64_t>(i) * kFrameSize);

  // Last: from here on the program steers frames for veer to the socket.
  uint32_t zero = 0;
  VeerAddrEntry entry{htonl(options.address.v), static_cast<uint32_t>(::getpid())};
  if (bpf_map_update_elem(addr_map, &zero, &entry, BPF_ANY) < 0) {
    *error =
        "writing veer's address into the XDP program's map: " + std::string(std::strerror(errno));
    return nullptr;
  }
  return dev;
}

XdpDevice::~XdpDevice() {
  detach_program();
  if (xsk_) xsk_socket__delete(xsk_);
  if (umem_) xsk_umem__delete(umem_);
  if (umem_area_) ::munmap(umem_area_, umem_bytes_);
  if (program_) xdp_program__close(program_);
}

void XdpDevice::detach_program() {
  if (program_ && attach_mode_ != 0) {
    (void)xdp_program__detach(program_, ifindex_, static_cast<xdp_attach_mode>(attach_mode_), 0);
  }
  attach_mode_ = 0;
}

const char* XdpDevice::mode_name() const {
  return attach_mode_ == XDP_MODE_SKB ? "generic" : "native";
}

int XdpDevice::receive_burst(size_t max, const std::function<void(Bytes)>& on_frame) {
  Rings& r = *rings_;
  uint32_t idx = 0;
  uint32_t n = xsk_ring_cons__peek(&r.rx, static_cast<uint32_t>(std::min<size_t>(max, 1024)), &idx);
  if (n == 0) {
    // The kernel may wait for a wakeup before it fills again.
    if (xsk_ring_prod__needs_wakeup(&r.fill))
      (void)::recvfrom(fd_, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
    return 0;
  }
  auto* base = static_cast<std::byte*>(umem_area_);
  int frames = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const xdp_desc* d = xsk_ring_cons__rx_desc(&r.rx, idx + i);
    const std::byte* bytes = base + xsk_umem__add_offset_to_addr(d->addr);
    const bool more = (d->options & XDP_PKT_CONTD) != 0;
    if (!more && !in_chain_) {
      // A frame in one buffer: handed out in place.
      on_frame(Bytes(bytes, d->len));
      ++frames;
      continue;
    }
    // A frame over several buffers (multi-buffer): gathered into one. The
    // chain may continue in the next call's descriptors.
    in_chain_ = true;
    if (chain_len_ + d->len <= gather_.size()) {
      std::memcpy(gather_.data() + chain_len_, bytes, d->len);
      chain_len_ += d->len;
    } else {
      chain_bad_ = true;  // longer than any frame veer takes
    }
    if (more) continue;
    if (chain_bad_) {
      ++counters_.rx_bad_chains;
    } else {
      ++counters_.rx_multibuf_frames;
      on_frame(Bytes(gather_.data(), chain_len_));
      ++frames;
    }
    in_chain_ = false;
    chain_bad_ = false;
    chain_len_ = 0;
  }
  // The fill ring holds every receive chunk, so this always fits.
  uint32_t fidx = 0;
  uint32_t reserved = xsk_ring_prod__reserve(&r.fill, n, &fidx);
  for (uint32_t i = 0; i < reserved; ++i) {
    const xdp_desc* d = xsk_ring_cons__rx_desc(&r.rx, idx + i);
    *xsk_ring_prod__fill_addr(&r.fill, fidx + i) = xsk_umem__extract_addr(d->addr);
  }
  xsk_ring_cons__release(&r.rx, n);
  xsk_ring_prod__submit(&r.fill, reserved);
  return frames;
}

void XdpDevice::reclaim_completions() {
  Rings& r = *rings_;
  uint32_t idx = 0;
  uint32_t n = xsk_ring_cons__peek(&r.comp, UINT32_MAX, &idx);
  for (uint32_t i = 0; i < n; ++i)
    free_tx_.push_back(xsk_umem__extract_addr(*xsk_ring_cons__comp_addr(&r.comp, idx + i)));
  if (n) xsk_ring_cons__release(&r.comp, n);
}

void XdpDevice::kick_tx() {
  Rings& r = *rings_;
  if (pending_tx_ != 0) {
    xsk_ring_prod__submit(&r.tx, pending_tx_);
    pending_tx_ = 0;
  }
  // Copy mode sends only from sendto(), at most a kernel batch (32
  // descriptors) per call, answering EAGAIN while more are left: kick until
  // the kernel has taken every descriptor (bounded, should it stall).
  for (uint32_t kick = 0; kick < max_kicks_; ++kick) {
    if (__atomic_load_n(r.tx.consumer, __ATOMIC_ACQUIRE) == *r.tx.producer) return;
    ++counters_.tx_kicks;
    if (::sendto(fd_, nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0) continue;
    if (errno == EAGAIN) {
      reclaim_completions();
      continue;
    }
    // EBUSY: another sendto is sending already and takes these too;
    // ENOBUFS: the driver queue is full, the next flush retries.
    if (errno != EBUSY && errno != ENOBUFS && errno != ENETDOWN) ++counters_.tx_batch_errors;
    return;
  }
}

bool XdpDevice::reserve_tx(uint32_t n, uint32_t* idx) {
  Rings& r = *rings_;
  for (int attempt = 0;; ++attempt) {
    if (free_tx_.size() < n) reclaim_completions();
    if (free_tx_.size() >= n && xsk_ring_prod__reserve(&r.tx, n, idx) == n) return true;
    if (attempt == 1) return false;
    // Out of send chunks or ring slots: send what is queued so the kernel
    // hands chunks back, then try once more.
    kick_tx();
    reclaim_completions();
  }
}

int XdpDevice::transmit(Bytes frame) {
  // One chunk per frame; with multi-buffer, a longer frame goes out over
  // several, chained by XDP_PKT_CONTD on all but the last.
  if (frame.size() > frame_size_ && (!multi_buffer_ || frame.size() > kMaxChainBytes))
    return -EMSGSIZE;
  const auto pieces =
      static_cast<uint32_t>(std::max<size_t>(1, (frame.size() + frame_size_ - 1) / frame_size_));
  Rings& r = *rings_;
  uint32_t idx = 0;
  if (!reserve_tx(pieces, &idx)) return -EAGAIN;
  size_t at = 0;
  for (uint32_t i = 0; i < pieces; ++i) {
    const size_t len = std::min<size_t>(frame_size_, frame.size() - at);
    uint64_t addr = free_tx_.back();
    free_tx_.pop_back();
    std::memcpy(static_cast<std::byte*>(umem_area_) + addr, frame.data() + at, len);
    xdp_desc* d = xsk_ring_prod__tx_desc(&r.tx, idx + i);
    d->addr = addr;
    d->len = static_cast<uint32_t>(len);
    d->options = i + 1 < pieces ? XDP_PKT_CONTD : 0;
    at += len;
  }
  if (pieces > 1) ++counters_.tx_multibuf_frames;
  pending_tx_ += pieces;
  return 0;
}

void XdpDevice::flush() {
  kick_tx();
  reclaim_completions();
}

}  // namespace veer::netdev
