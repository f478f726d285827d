// Two Devices joined by an in-memory wire, for tests: a frame transmitted on
// one end is received on the other, in order, with nothing dropped unless the
// receiving queue is full.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "netdev/device.h"

namespace veer::netdev {

class PairDevice final : public Device {
 public:
  // Frames waiting at one end before transmit reports -EAGAIN, as a full TAP
  // queue would.
  static constexpr size_t kQueueCapacity = 1024;

  static std::pair<std::unique_ptr<PairDevice>, std::unique_ptr<PairDevice>> make_pair(
      uint16_t mtu);

  int receive_burst(size_t max, const std::function<void(Bytes)>& on_frame) override;
  // -EMSGSIZE for a frame longer than MTU plus an Ethernet header, so a stack
  // that ignores the MTU fails in tests rather than on a real link.
  int transmit(Bytes frame) override;
  // Nothing to poll: tests drive both ends by hand.
  int pollable_fd() const override { return -1; }
  uint16_t mtu() const override;
  std::string name() const override;

  // Frames waiting to be received at this end.
  size_t pending() const;

 private:
  // Shared by both ends, so either may be destroyed first.
  struct Wire;

  PairDevice(std::shared_ptr<Wire> wire, int side);

  std::shared_ptr<Wire> wire_;
  int side_;
};

}  // namespace veer::netdev
