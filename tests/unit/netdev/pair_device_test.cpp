// The in-memory wire the stack's tests run over.
#include "netdev/pair_device.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <thread>
#include <vector>

namespace veer::netdev {
namespace {

using Frame = std::vector<std::byte>;

Frame frame_of(size_t size, uint8_t fill) {
  return Frame(size, std::byte{fill});
}

std::vector<Frame> receive_all(PairDevice& end, size_t max = 64) {
  std::vector<Frame> got;
  end.receive_burst(max, [&](Bytes b) { got.emplace_back(b.begin(), b.end()); });
  return got;
}

TEST(PairDeviceTest, FramesCrossInBothDirectionsInOrder) {
  auto [a, b] = PairDevice::make_pair(1500);
  ASSERT_EQ(a->transmit(frame_of(60, 1)), 0);
  ASSERT_EQ(a->transmit(frame_of(61, 2)), 0);
  ASSERT_EQ(b->transmit(frame_of(62, 3)), 0);

  EXPECT_EQ(receive_all(*b), (std::vector<Frame>{frame_of(60, 1), frame_of(61, 2)}));
  EXPECT_EQ(receive_all(*a), (std::vector<Frame>{frame_of(62, 3)}));
  // Nothing echoes back to the sender.
  EXPECT_TRUE(receive_all(*a).empty());
  EXPECT_TRUE(receive_all(*b).empty());
}

TEST(PairDeviceTest, ReceiveBurstTakesAtMostMax) {
  auto [a, b] = PairDevice::make_pair(1500);
  for (uint8_t i = 0; i < 5; ++i) ASSERT_EQ(a->transmit(frame_of(60, i)), 0);
  EXPECT_EQ(b->receive_burst(2, [](Bytes) {}), 2);
  EXPECT_EQ(b->pending(), 3u);
  auto rest = receive_all(*b);
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0], frame_of(60, 2));
  EXPECT_EQ(b->receive_burst(16, [](Bytes) {}), 0);
}

TEST(PairDeviceTest, FramesLongerThanTheMtuAreRefused) {
  auto [a, b] = PairDevice::make_pair(1500);
  EXPECT_EQ(a->transmit(frame_of(1514, 0)), 0);
  EXPECT_EQ(a->transmit(frame_of(1515, 0)), -EMSGSIZE);
  EXPECT_EQ(b->pending(), 1u);
}

TEST(PairDeviceTest, AFullQueueSaysEagain) {
  auto [a, b] = PairDevice::make_pair(1500);
  for (size_t i = 0; i < PairDevice::kQueueCapacity; ++i)
    ASSERT_EQ(a->transmit(frame_of(60, 0)), 0);
  EXPECT_EQ(a->transmit(frame_of(60, 0)), -EAGAIN);
  EXPECT_EQ(b->receive_burst(1, [](Bytes) {}), 1);
  EXPECT_EQ(a->transmit(frame_of(60, 0)), 0);
}

TEST(PairDeviceTest, DescribesItself) {
  auto [a, b] = PairDevice::make_pair(9000);
  EXPECT_EQ(a->mtu(), 9000);
  EXPECT_EQ(b->mtu(), 9000);
  EXPECT_EQ(a->pollable_fd(), -1);
  EXPECT_NE(a->name(), b->name());
}

TEST(PairDeviceTest, EitherEndOutlivesTheOther) {
  auto [a, b] = PairDevice::make_pair(1500);
  ASSERT_EQ(a->transmit(frame_of(60, 7)), 0);
  a.reset();
  EXPECT_EQ(receive_all(*b), (std::vector<Frame>{frame_of(60, 7)}));
  EXPECT_EQ(b->transmit(frame_of(60, 8)), 0);
}

TEST(PairDeviceTest, ACallbackMayTransmit) {
  auto [a, b] = PairDevice::make_pair(1500);
  ASSERT_EQ(a->transmit(frame_of(60, 1)), 0);
  // b answers from inside its receive callback, as a stack does with ARP.
  b->receive_burst(1, [&](Bytes) { EXPECT_EQ(b->transmit(frame_of(60, 2)), 0); });
  EXPECT_EQ(receive_all(*a), (std::vector<Frame>{frame_of(60, 2)}));
}

TEST(PairDeviceTest, OneThreadSendsWhileAnotherReceives) {
  auto [a, b] = PairDevice::make_pair(1500);
  constexpr int kFrames = 20000;
  std::thread sender([&a] {
    for (int i = 0; i < kFrames;) {
      Frame f(60);
      f[0] = std::byte(i & 0xff);
      f[1] = std::byte((i >> 8) & 0xff);
      if (a->transmit(f) == 0) {
        ++i;
      } else {
        std::this_thread::yield();
      }
    }
  });
  int next = 0;
  bool in_order = true;
  while (next < kFrames) {
    b->receive_burst(64, [&](Bytes f) {
      int seq = std::to_integer<int>(f[0]) | (std::to_integer<int>(f[1]) << 8);
      if (seq != (next & 0xffff)) in_order = false;
      ++next;
    });
  }
  sender.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(next, kFrames);
}

}  // namespace
}  // namespace veer::netdev
