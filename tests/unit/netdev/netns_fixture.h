// Gives each test a throwaway network namespace, so the links it makes never
// touch the host and vanish when the test ends.
//
// unshare(CLONE_NEWNET) moves only the calling thread, which is the one
// GoogleTest runs the test body on; TearDown moves it back, dropping the last
// reference to the test's namespace (as long as the test closed its sockets
// and devices, which RAII does).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

namespace veer::netdev::testing {

// Whether capability `cap` is in this process's effective set.
inline bool has_capability(int cap) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      uint64_t bits = std::stoull(line.substr(7), nullptr, 16);
      return (bits >> cap) & 1;
    }
  }
  return false;
}

class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    constexpr int kCapNetAdmin = 12, kCapSysAdmin = 21;
    if (!has_capability(kCapNetAdmin) || !has_capability(kCapSysAdmin)) {
      GTEST_SKIP() << "needs root (CAP_SYS_ADMIN to make a network namespace, CAP_NET_ADMIN to "
                      "make links in it)";
    }
    if (::access("/dev/net/tun", F_OK) != 0) {
      GTEST_SKIP() << "/dev/net/tun is missing (is the tun module loaded?)";
    }
    home_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(home_, 0) << "open /proc/thread-self/ns/net: " << std::strerror(errno);
    if (::unshare(CLONE_NEWNET) != 0) {
      GTEST_SKIP() << "unshare(CLONE_NEWNET): " << std::strerror(errno);
    }
    inside_ = true;
  }

  void TearDown() override {
    if (inside_) {
      EXPECT_EQ(::setns(home_, CLONE_NEWNET), 0) << "setns back: " << std::strerror(errno);
    }
    if (home_ >= 0) ::close(home_);
  }

 private:
  int home_ = -1;
  bool inside_ = false;
};

}  // namespace veer::netdev::testing
