#include "core/config/value.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "core/types.h"

namespace veer::config {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// "-?[0-9]+": a number, whether or not it fits in 64 bits.
bool looks_like_int(std::string_view text) {
  if (!text.empty() && text[0] == '-') text.remove_prefix(1);
  return !text.empty() && std::all_of(text.begin(), text.end(), is_digit);
}

CheckedValue good(std::string canonical) {
  return {std::move(canonical), std::nullopt};
}

CheckedValue refused(const Knob& knob, std::string_view why) {
  return {{}, std::string(why) + " (accepted: " + accepted_text(knob) + ")"};
}

CheckedValue check_int(const Knob& knob, std::string_view value) {
  if (!looks_like_int(value)) return refused(knob, "not an integer");
  auto n = parse_int(value);
  if (!n || *n < knob.min || *n > knob.max) return refused(knob, "out of range");
  return good(std::to_string(*n));
}

// IntTriple and PortRange: `count` integers in range, in non-decreasing order.
CheckedValue check_int_list(const Knob& knob, std::string_view value, size_t count,
                            std::string_view noun) {
  std::vector<std::string_view> words = split_list(value);
  if (words.size() != count) {
    return refused(knob, "expected " + std::to_string(count) + " " + std::string(noun) + ", got " +
                             std::to_string(words.size()));
  }
  std::string canonical;
  int64_t previous = INT64_MIN;
  for (std::string_view word : words) {
    if (!looks_like_int(word))
      return refused(knob, "'" + std::string(word) + "' is not an integer");
    auto n = parse_int(word);
    if (!n || *n < knob.min || *n > knob.max) return refused(knob, "out of range");
    if (*n < previous) return refused(knob, "values decrease");
    previous = *n;
    if (!canonical.empty()) canonical += ' ';
    canonical += std::to_string(*n);
  }
  return good(std::move(canonical));
}

// 0.0.0.0, 127/8, multicast and broadcast cannot be an address on a link or a
// next hop on it.
bool is_unicast(Ipv4Addr a) {
  return !a.is_any() && !a.is_loopback() && !a.is_multicast() && !a.is_broadcast();
}

CheckedValue check_prefix(const Knob& knob, std::string_view value) {
  auto prefix = Ipv4Prefix::parse(value);
  if (!prefix) return refused(knob, "not an IPv4 address with a prefix length");
  if (!is_unicast(prefix->addr)) return refused(knob, "not a unicast address");
  return good(prefix->to_string());
}

CheckedValue check_prefix_list(const Knob& knob, std::string_view value) {
  std::string canonical;
  size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && (is_space(value[i]) || value[i] == ',')) ++i;
    size_t j = i;
    while (j < value.size() && !is_space(value[j]) && value[j] != ',') ++j;
    if (j == i) break;
    std::string_view item = value.substr(i, j - i);
    auto prefix = Ipv4Prefix::parse(item);
    if (!prefix) return refused(knob, "'" + std::string(item) + "' is not a network a.b.c.d/n");
    if (!canonical.empty()) canonical += ' ';
    canonical += prefix->to_string();
    i = j;
  }
  return good(std::move(canonical));
}

CheckedValue check_addr_or_none(const Knob& knob, std::string_view value) {
  if (value == "none") return good("none");
  auto addr = Ipv4Addr::parse(value);
  if (!addr) return refused(knob, "not an IPv4 address");
  if (!is_unicast(*addr)) return refused(knob, "not a unicast address");
  return good(addr->to_string());
}

CheckedValue check_mac(const Knob& knob, std::string_view value) {
  if (value == "auto") return good("auto");
  auto mac = MacAddr::parse(value);
  if (!mac) return refused(knob, "not a MAC address");
  // Linux's is_valid_ether_addr (eth_validate_addr): no multicast, no zero.
  if (mac->is_multicast() || *mac == MacAddr{}) return refused(knob, "not a unicast MAC address");
  return good(mac->to_string());
}

// Linux's dev_valid_name: at most IFNAMSIZ - 1 = 15 bytes, not "." or "..";
// veer further keeps to a portable character set.
bool valid_ifname(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
           c == '.' || c == '-';
  });
}

// tap:NAME, or xdp:NAME[:QUEUE] (an AF_XDP socket on receive queue QUEUE of
// NAME, 0 if absent).
CheckedValue check_device(const Knob& knob, std::string_view value) {
  bool xdp = value.starts_with("xdp:");
  if (!xdp && !value.starts_with("tap:")) return refused(knob, "unknown device type");
  std::string_view name = value.substr(4);
  std::string_view queue;
  if (size_t colon = name.find(':'); colon != std::string_view::npos) {
    if (!xdp) return refused(knob, "a TAP device takes no queue ('" + std::string(name) + "')");
    queue = name.substr(colon + 1);
    name = name.substr(0, colon);
    auto q = parse_int(queue);
    if (!q || *q < 0 || *q > kMaxXdpQueue)
      return refused(
          knob, "bad queue '" + std::string(queue) + "' (0.." + std::to_string(kMaxXdpQueue) + ")");
  }
  if (!valid_ifname(name)) return refused(knob, "bad interface name '" + std::string(name) + "'");
  std::string canonical = std::string(value.substr(0, 4)) + std::string(name);
  if (!queue.empty()) canonical += ":" + std::to_string(*parse_int(queue));
  return good(canonical);
}

CheckedValue check_enum(const Knob& knob, std::string_view value) {
  std::string_view rest = knob.choices;
  while (!rest.empty()) {
    size_t bar = rest.find('|');
    if (rest.substr(0, bar) == value) return good(std::string(value));
    rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
  }
  return refused(knob, "unknown value");
}

}  // namespace

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (is_space(text[i]) || text[i] == ',')) ++i;
    size_t start = i;
    while (i < text.size() && !is_space(text[i]) && text[i] != ',') ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

std::optional<int64_t> parse_int(std::string_view text) {
  if (!looks_like_int(text)) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

CheckedValue check_value(const Knob& knob, std::string_view value) {
  value = trim(value);
  switch (knob.kind) {
    case Kind::Int:
      return check_int(knob, value);
    case Kind::IntTriple:
      return check_int_list(knob, value, 3, "integers");
    case Kind::PortRange:
      return check_int_list(knob, value, 2, "ports");
    case Kind::Ipv4Prefix:
      return check_prefix(knob, value);
    case Kind::Ipv4AddrOrNone:
      return check_addr_or_none(knob, value);
    case Kind::Mac:
      return check_mac(knob, value);
    case Kind::Device:
      return check_device(knob, value);
    case Kind::Ipv4PrefixList:
      return check_prefix_list(knob, value);
    case Kind::LinkName:
      if (!value.empty() && !valid_ifname(value))
        return refused(knob, "bad interface name '" + std::string(value) + "'");
      return good(std::string(value));
    case Kind::Enum:
      return check_enum(knob, value);
    case Kind::Path:
    case Kind::String:
      return good(std::string(value));
  }
  return refused(knob, "unknown kind");
}

}  // namespace veer::config
