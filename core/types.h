// Basic value types shared by every layer: time, addresses, results.
#pragma once

#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace veer {

// Time is a duration since an arbitrary epoch chosen by the owner of the stack
// (CLOCK_MONOTONIC in the engine, zero in virtual-time tests).
using Time = std::chrono::nanoseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

using Bytes = std::span<const std::byte>;
using MutableBytes = std::span<std::byte>;

struct MacAddr {
  std::array<uint8_t, 6> b{};
  static constexpr MacAddr broadcast() { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  bool is_broadcast() const { return *this == broadcast(); }
  bool is_multicast() const { return (b[0] & 1) != 0; }
  bool operator==(const MacAddr&) const = default;
  std::string to_string() const;
  static std::optional<MacAddr> parse(std::string_view text);
};

// An IPv4 address held in host byte order.
struct Ipv4Addr {
  uint32_t v = 0;
  constexpr Ipv4Addr() = default;
  constexpr explicit Ipv4Addr(uint32_t host_order) : v(host_order) {}
  static constexpr Ipv4Addr of(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return Ipv4Addr((uint32_t(a) << 24) | (uint32_t(b) << 16) | (uint32_t(c) << 8) | d);
  }
  constexpr bool is_any() const { return v == 0; }
  constexpr bool is_loopback() const { return (v >> 24) == 127; }
  constexpr bool is_multicast() const { return (v >> 28) == 0xe; }
  constexpr bool is_broadcast() const { return v == 0xffffffffu; }
  constexpr auto operator<=>(const Ipv4Addr&) const = default;
  std::string to_string() const;
  static std::optional<Ipv4Addr> parse(std::string_view text);
};

// An address with a prefix length, e.g. 10.77.0.2/24.
struct Ipv4Prefix {
  Ipv4Addr addr;
  uint8_t len = 32;
  constexpr uint32_t mask() const { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }
  constexpr bool contains(Ipv4Addr a) const { return (a.v & mask()) == (addr.v & mask()); }
  constexpr Ipv4Addr broadcast() const { return Ipv4Addr(addr.v | ~mask()); }
  bool operator==(const Ipv4Prefix&) const = default;
  std::string to_string() const;
  static std::optional<Ipv4Prefix> parse(std::string_view text);
};

struct Endpoint {
  Ipv4Addr addr;
  uint16_t port = 0;
  constexpr auto operator<=>(const Endpoint&) const = default;
  std::string to_string() const;
};

// The result of a fallible operation in core/: a value, or an errno value as
// Linux would report it at the socket API. No exceptions on the packet path.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  static Result error(int err) { return Result(err, 0); }
  bool ok() const { return err_ == 0; }
  explicit operator bool() const { return ok(); }
  int err() const { return err_; }
  const T& value() const { return value_; }
  T& value() { return value_; }
  const T& operator*() const { return value_; }
  const T* operator->() const { return &value_; }

 private:
  Result(int err, int) : value_{}, err_(err) {}
  T value_{};
  int err_ = 0;
};

// Status for operations with no value: 0 on success, else an errno value.
using Errno = int;

}  // namespace veer
