#include "netdev/pair_device.h"

#include <array>
#include <cerrno>
#include <deque>
#include <mutex>
#include <vector>

namespace veer::netdev {

struct PairDevice::Wire {
  explicit Wire(uint16_t mtu) : mtu(mtu) {}
  const uint16_t mtu;
  mutable std::mutex mu;
  // inbox[i] holds the frames waiting to be received at end i.
  std::array<std::deque<std::vector<std::byte>>, 2> inbox;
};

std::pair<std::unique_ptr<PairDevice>, std::unique_ptr<PairDevice>> PairDevice::make_pair(
    uint16_t mtu) {
  auto wire = std::make_shared<Wire>(mtu);
  return {std::unique_ptr<PairDevice>(new PairDevice(wire, 0)),
          std::unique_ptr<PairDevice>(new PairDevice(wire, 1))};
}

PairDevice::PairDevice(std::shared_ptr<Wire> wire, int side)
    : wire_(std::move(wire)), side_(side) {}

int PairDevice::receive_burst(size_t max, const std::function<void(Bytes)>& on_frame) {
  // Take the frames out under the lock and hand them over outside it, so a
  // callback may transmit on either end without deadlocking.
  std::vector<std::vector<std::byte>> burst;
  {
    std::lock_guard lock(wire_->mu);
    auto& inbox = wire_->inbox[side_];
    while (burst.size() < max && !inbox.empty()) {
      burst.push_back(std::move(inbox.front()));
      inbox.pop_front();
    }
  }
  for (const auto& frame : burst) on_frame(Bytes(frame));
  return static_cast<int>(burst.size());
}

int PairDevice::transmit(Bytes frame) {
  constexpr size_t kEthernetHeader = 14;
  if (frame.size() > wire_->mtu + kEthernetHeader) return -EMSGSIZE;
  std::vector<std::byte> copy(frame.begin(), frame.end());
  std::lock_guard lock(wire_->mu);
  auto& peer_inbox = wire_->inbox[1 - side_];
  if (peer_inbox.size() >= kQueueCapacity) return -EAGAIN;
  peer_inbox.push_back(std::move(copy));
  return 0;
}

uint16_t PairDevice::mtu() const {
  return wire_->mtu;
}

std::string PairDevice::name() const {
  return "pair" + std::to_string(side_);
}

size_t PairDevice::pending() const {
  std::lock_guard lock(wire_->mu);
  return wire_->inbox[side_].size();
}

}  // namespace veer::netdev
