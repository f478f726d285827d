// The stack under test in virtual time, alone on a link with the runner.
// The runner plays every other host: it answers the stack's ARP requests
// for any address at once, injects the script's inbound segments, and
// collects what the stack sends, stamped with the virtual time it left.
// Timers fire at their exact deadlines: time moves only when the runner
// moves it, from one deadline or script event to the next.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "core/stack.h"

namespace veer::drill {

struct SentFrame {
  Time at;
  std::vector<std::byte> bytes;
};

class StackHost {
 public:
  // Virtual time starts here (script time 0): away from zero so that nothing
  // in the stack mistakes a time for "unset".
  static constexpr Time kEpoch = std::chrono::seconds(1);
  // The MAC address the runner answers ARP with: the whole world is behind it.
  static constexpr MacAddr kPeerMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0xfe}};

  explicit StackHost(const core::StackConfig& config);
  ~StackHost();

  core::Stack& stack() { return *stack_; }
  Time now() const { return now_; }
  // Script time: microseconds since kEpoch.
  int64_t now_usecs() const { return to_usecs(now_); }
  static int64_t to_usecs(Time t) { return (t - kEpoch).count() / 1000; }
  static Time from_usecs(int64_t us) { return kEpoch + std::chrono::microseconds(us); }
  MacAddr mac() const { return stack_->config().mac; }

  // Moves the clock forward (never back) without firing timers: callers
  // fire them first with poll_at().
  void set_now(Time t);
  // Fires what is due at `t` (the clock moves to t first).
  void poll_at(Time t);
  // Hands a frame to the stack now.
  void inject(const std::vector<std::byte>& frame);
  // After any call into the stack: answers the ARP requests it sent.
  void settle();
  std::optional<Time> next_deadline() const { return stack_->next_deadline(); }

  // IPv4 frames the stack sent, oldest first (ARP is answered and dropped).
  std::deque<SentFrame>& sent() { return sent_; }

 private:
  struct Sink;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<core::Stack> stack_;
  Time now_ = kEpoch;
  std::deque<SentFrame> sent_;
  std::vector<std::vector<std::byte>> arp_replies_;  // to inject after the current call
};

}  // namespace veer::drill
