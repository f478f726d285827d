// TapDevice with io_uring (tap_io_uring = 1) against the real kernel, in a
// throwaway network namespace per test: frames both ways through the rings,
// bursts beyond their depth, a forked child making rings of its own, and the
// fallback to read()/write() when io_uring is refused.
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <thread>
#include <vector>

#include "netdev/link.h"
#include "netdev/tap_device.h"
#include "tests/unit/netdev/byte_order.h"
#include "tests/unit/netdev/netns_fixture.h"

namespace veer::netdev {
namespace {

using namespace std::chrono_literals;
using Frame = std::vector<std::byte>;

constexpr size_t kEth = 14;
constexpr Ipv4Addr kKernelIp = Ipv4Addr::of(10, 99, 0, 1);
constexpr Ipv4Addr kPeerIp = Ipv4Addr::of(10, 99, 0, 2);
constexpr Ipv4Addr kBroadcast = Ipv4Addr::of(10, 99, 0, 255);
constexpr MacAddr kPeerMac{{0x02, 0x00, 0x00, 0x99, 0x00, 0x02}};
constexpr uint16_t kPort = 9999;

uint16_t be16(Bytes f, size_t at) {
  return load_be16(&f[at]);
}
uint32_t be32(Bytes f, size_t at) {
  return load_be32(&f[at]);
}

// A UDP datagram in IPv4 to our port at `dst`?
bool is_udp_to(Bytes f, Ipv4Addr dst) {
  if (f.size() < kEth + 28 || be16(f, 12) != 0x0800) return false;
  size_t ihl = (std::to_integer<size_t>(f[kEth]) & 0xf) * 4;
  return std::to_integer<int>(f[kEth + 9]) == IPPROTO_UDP && be32(f, kEth + 16) == dst.v &&
         be16(f, kEth + ihl + 2) == kPort;
}

// From the peer to the kernel: Ethernet, IPv4 and UDP (checksum 0: none).
Frame udp_frame(MacAddr to_mac, uint16_t id, size_t payload) {
  Frame f(kEth + 20 + 8 + payload);
  auto put16 = [&](size_t at, uint16_t v) {
    f[at] = std::byte(v >> 8);
    f[at + 1] = std::byte(v & 0xff);
  };
  auto put32 = [&](size_t at, uint32_t v) {
    put16(at, static_cast<uint16_t>(v >> 16));
    put16(at + 2, static_cast<uint16_t>(v));
  };
  std::memcpy(f.data(), to_mac.b.data(), 6);
  std::memcpy(f.data() + 6, kPeerMac.b.data(), 6);
  put16(12, 0x0800);
  size_t ip = kEth;
  f[ip] = std::byte{0x45};
  put16(ip + 2, static_cast<uint16_t>(20 + 8 + payload));
  put16(ip + 4, id);
  f[ip + 8] = std::byte{64};
  f[ip + 9] = std::byte{IPPROTO_UDP};
  put32(ip + 12, kPeerIp.v);
  put32(ip + 16, kKernelIp.v);
  uint32_t sum = 0;
  for (size_t i = 0; i < 20; i += 2) sum += be16(Bytes(f), ip + i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  put16(ip + 10, static_cast<uint16_t>(~sum));
  size_t udp = ip + 20;
  put16(udp, 40000);
  put16(udp + 2, kPort);
  put16(udp + 4, static_cast<uint16_t>(8 + payload));
  return f;
}

// `count` broadcasts from a kernel UDP socket: the kernel sends them all on
// the TAP, without asking ARP first.
bool send_broadcasts(int count) {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return false;
  int on = 1;
  ::setsockopt(sock, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(kPort);
  dst.sin_addr.s_addr = htonl(kBroadcast.v);
  bool ok = true;
  for (int i = 0; i < count && ok; ++i) {
    ok = ::sendto(sock, "b", 1, 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 1;
  }
  ::close(sock);
  return ok;
}

// Receives the way the engine does (poll the device's fd, then bursts of
// `burst`) until `want` broadcasts came or 3 s passed. Returns the count.
int receive_broadcasts(TapDevice& tap, int want, size_t burst = 16) {
  int got = 0;
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (got < want && std::chrono::steady_clock::now() < deadline) {
    pollfd p{tap.pollable_fd(), POLLIN, 0};
    ::poll(&p, 1, 50);
    int n = tap.receive_burst(burst, [&](Bytes f) {
      if (is_udp_to(f, kBroadcast)) ++got;
    });
    if (n < 0) return -1;
    if (n > static_cast<int>(burst)) return -2;
  }
  return got;
}

// A kernel UDP socket on 10.99.0.1:9999, non-blocking, with room for every
// datagram a test sends.
int bound_udp() {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int room = 4 << 20;
  if (sock >= 0) ::setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &room, sizeof room);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(kPort);
  a.sin_addr.s_addr = htonl(kKernelIp.v);
  if (sock >= 0 && ::bind(sock, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
    ::close(sock);
    return -1;
  }
  return sock;
}

// Datagrams waiting on `sock`, taking up to `want` within 3 s.
int drain_udp(int sock, int want) {
  int got = 0;
  char buf[2048];
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (got < want && std::chrono::steady_clock::now() < deadline) {
    pollfd p{sock, POLLIN, 0};
    ::poll(&p, 1, 50);
    while (::recv(sock, buf, sizeof buf, 0) >= 0) ++got;
  }
  return got;
}

// Makes io_uring_setup() fail with ENOSYS in this process (seccomp), as on a
// kernel without io_uring or where it is disabled.
bool refuse_io_uring() {
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

class TapUringTest : public testing::NetnsTest {
 protected:
  // veer0 with the kernel at 10.99.0.1/24, up, and this test attached.
  std::unique_ptr<TapDevice> open_tap(bool offload, bool uring = true) {
    EXPECT_EQ(create_persistent_tap("veer0"), "");
    EXPECT_EQ(add_address("veer0", *Ipv4Prefix::parse("10.99.0.1/24")), "");
    std::string error;
    auto tap = TapDevice::open("veer0", offload, uring, &error);
    EXPECT_NE(tap, nullptr) << error;
    EXPECT_EQ(set_link_up("veer0", true), "");
    if (tap && uring) {
      EXPECT_TRUE(tap->io_uring()) << tap->io_uring_refused();
    }
    return tap;
  }
};

TEST_F(TapUringTest, OffByDefaultAndOnWhenAsked) {
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  std::string error;
  auto plain = TapDevice::open("veer0", &error);
  ASSERT_NE(plain, nullptr) << error;
  EXPECT_FALSE(plain->io_uring());
  EXPECT_EQ(plain->fds(), std::vector<int>{plain->fd()});
  plain.reset();
  auto ring = TapDevice::open("veer0", false, true, &error);
  ASSERT_NE(ring, nullptr) << error;
  EXPECT_TRUE(ring->io_uring()) << ring->io_uring_refused();
  EXPECT_EQ(ring->fds().size(), 3u);
  // Nothing queued yet: the TAP itself is what polls.
  EXPECT_EQ(ring->pollable_fd(), ring->fd());
  EXPECT_EQ(ring->receive_burst(16, [](Bytes) {}), 0);
  EXPECT_EQ(ring->pollable_fd(), ring->fds()[1]);
}

TEST_F(TapUringTest, FramesBothWaysBeyondTheRingsDepth) {
  for (bool offload : {false, true}) {
    SCOPED_TRACE(offload ? "offload" : "plain");
    auto tap = open_tap(offload);
    ASSERT_NE(tap, nullptr);
    // In: 300 broadcasts, more than the 64 (16) reads queued, in bursts of
    // 16 and of 1.
    EXPECT_EQ(tap->receive_burst(1, [](Bytes) {}), 0);  // queues the reads
    ASSERT_TRUE(send_broadcasts(300));
    EXPECT_EQ(receive_broadcasts(*tap, 300), 300);
    ASSERT_TRUE(send_broadcasts(20));
    EXPECT_EQ(receive_broadcasts(*tap, 20, 1), 20);

    // Out: 300 datagrams to the kernel, more than the 64 (16) write buffers,
    // flushed now and then as the engine does.
    auto kernel_mac = link_mac("veer0");
    ASSERT_TRUE(kernel_mac);
    int sock = bound_udp();
    ASSERT_GE(sock, 0);
    for (int i = 0; i < 300; ++i) {
      ASSERT_EQ(tap->transmit(udp_frame(*kernel_mac, static_cast<uint16_t>(i), 100)), 0);
      if (i % 100 == 99) tap->flush();
    }
    tap->flush();
    EXPECT_EQ(drain_udp(sock, 300), 300);
    EXPECT_EQ(tap->counters().tx_batch_errors, 0u);
    ::close(sock);
    tap.reset();
    ASSERT_EQ(delete_link("veer0"), "");
  }
}

TEST_F(TapUringTest, OtherThreadsSendToo) {
  auto tap = open_tap(true);
  ASSERT_NE(tap, nullptr);
  EXPECT_EQ(tap->receive_burst(16, [](Bytes) {}), 0);  // this thread receives
  auto kernel_mac = link_mac("veer0");
  ASSERT_TRUE(kernel_mac);
  int sock = bound_udp();
  ASSERT_GE(sock, 0);
  // A thread's first frames are write()s, the rest go through the ring.
  for (int t = 0; t < 2; ++t) {
    std::thread([&] {
      for (int i = 0; i < 200; ++i) {
        EXPECT_EQ(tap->transmit(udp_frame(*kernel_mac, static_cast<uint16_t>(i), 100)), 0);
        if (i % 50 == 49) tap->flush();
      }
      tap->flush();
    }).join();
  }
  EXPECT_EQ(drain_udp(sock, 400), 400);
  EXPECT_EQ(tap->counters().tx_batch_errors, 0u);
  ::close(sock);
}

TEST_F(TapUringTest, ARuntIsRefusedAtOnce) {
  auto tap = open_tap(false);
  ASSERT_NE(tap, nullptr);
  std::byte runt[5]{};
  EXPECT_EQ(tap->transmit(Bytes(runt)), -EINVAL);
}

TEST_F(TapUringTest, ReadsOfAThreadThatExitedAreQueuedAgain) {
  auto tap = open_tap(false);
  ASSERT_NE(tap, nullptr);
  // Queued by a thread that then exits: the kernel cancels them.
  std::thread([&] { EXPECT_EQ(tap->receive_burst(16, [](Bytes) {}), 0); }).join();
  ASSERT_TRUE(send_broadcasts(5));
  EXPECT_EQ(receive_broadcasts(*tap, 5), 5);
}

TEST_F(TapUringTest, AForkedChildMakesRingsOfItsOwn) {
  auto tap = open_tap(false);
  ASSERT_NE(tap, nullptr);
  auto kernel_mac = link_mac("veer0");
  ASSERT_TRUE(kernel_mac);
  int sock = bound_udp();
  ASSERT_GE(sock, 0);
  // The parent sends through its ring (writes go through it on the thread
  // that receives); its reads are cancelled, so that the child gets every
  // frame.
  EXPECT_EQ(tap->receive_burst(16, [](Bytes) {}), 0);
  tap->stop_receiving();
  ASSERT_EQ(tap->transmit(udp_frame(*kernel_mac, 1, 10)), 0);
  tap->flush();
  EXPECT_EQ(drain_udp(sock, 1), 1);
  std::vector<int> fds = tap->fds();

  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Codes: which check failed.
    if (tap->io_uring()) _exit(10);  // the parent's ring is not the child's
    if (tap->receive_burst(16, [](Bytes) {}) != 0) _exit(11);
    if (!tap->io_uring()) _exit(12);
    if (tap->fds() != fds) _exit(13);
    if (tap->pollable_fd() != fds[1]) _exit(14);
    if (!send_broadcasts(100)) _exit(15);
    if (receive_broadcasts(*tap, 100) != 100) _exit(16);
    for (int i = 0; i < 100; ++i)
      if (tap->transmit(udp_frame(*kernel_mac, static_cast<uint16_t>(i), 10)) != 0) _exit(17);
    tap->flush();
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(drain_udp(sock, 100), 100);

  // The parent's rings still work.
  EXPECT_TRUE(tap->io_uring());
  EXPECT_EQ(tap->receive_burst(16, [](Bytes) {}), 0);
  ASSERT_TRUE(send_broadcasts(10));
  EXPECT_EQ(receive_broadcasts(*tap, 10), 10);
  ASSERT_EQ(tap->transmit(udp_frame(*kernel_mac, 2, 10)), 0);
  tap->flush();
  EXPECT_EQ(drain_udp(sock, 1), 1);
  ::close(sock);
}

TEST_F(TapUringTest, AfterStopReceivingAnotherProcessGetsEveryFrame) {
  auto tap = open_tap(false);
  ASSERT_NE(tap, nullptr);
  ASSERT_TRUE(send_broadcasts(3));
  EXPECT_EQ(receive_broadcasts(*tap, 3), 3);  // reads queued
  EXPECT_NE(tap->pollable_fd(), tap->fd());
  // The pump leaves: without the cancel, its 64 queued reads would take
  // the next 64 frames with them.
  tap->stop_receiving();
  EXPECT_EQ(tap->pollable_fd(), tap->fd());
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (!send_broadcasts(50)) _exit(40);
    if (receive_broadcasts(*tap, 50) != 50) _exit(41);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // Receiving again queues the reads again.
  ASSERT_TRUE(send_broadcasts(5));
  EXPECT_EQ(receive_broadcasts(*tap, 5), 5);
}

TEST_F(TapUringTest, RefusedIoUringFallsBackToReadAndWrite) {
  ASSERT_EQ(create_persistent_tap("veer0"), "");
  ASSERT_EQ(add_address("veer0", *Ipv4Prefix::parse("10.99.0.1/24")), "");
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (!refuse_io_uring()) _exit(20);
    std::string error;
    auto tap = TapDevice::open("veer0", false, true, &error);
    if (!tap) _exit(21);
    if (tap->io_uring() || tap->io_uring_refused().empty()) _exit(22);
    if (tap->pollable_fd() != tap->fd() || tap->fds().size() != 1) _exit(23);
    if (!set_link_up("veer0", true).empty()) _exit(24);
    if (!send_broadcasts(100)) _exit(25);
    if (receive_broadcasts(*tap, 100) != 100) _exit(26);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(TapUringTest, AForkedChildRefusedIoUringFallsBack) {
  auto tap = open_tap(false);
  ASSERT_NE(tap, nullptr);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (!refuse_io_uring()) _exit(30);
    if (!send_broadcasts(50)) _exit(31);
    if (receive_broadcasts(*tap, 50) != 50) _exit(32);
    if (tap->io_uring() || tap->pollable_fd() != tap->fd()) _exit(33);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace veer::netdev
