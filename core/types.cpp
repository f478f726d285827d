#include "core/types.h"

#include <charconv>
#include <cstdio>

namespace veer {
namespace {

// Parses a decimal number in [0, max] that spans all of `text`.
std::optional<uint32_t> parse_decimal(std::string_view text, uint32_t max) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

}  // namespace

std::string MacAddr::to_string() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
                b[5]);
  return buf;
}

std::optional<MacAddr> MacAddr::parse(std::string_view text) {
  MacAddr mac;
  for (size_t i = 0; i < 6; ++i) {
    if (text.size() < 2) return std::nullopt;
    uint8_t byte = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + 2, byte, 16);
    if (ec != std::errc() || end != text.data() + 2) return std::nullopt;
    mac.b[i] = byte;
    text.remove_prefix(2);
    if (i < 5) {
      if (text.empty() || text[0] != ':') return std::nullopt;
      text.remove_prefix(1);
    }
  }
  if (!text.empty()) return std::nullopt;
  return mac;
}

std::string Ipv4Addr::to_string() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff,
                v & 0xff);
  return buf;
}

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view text) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = i < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos) return std::nullopt;
    auto octet = parse_decimal(text.substr(0, dot), 255);
    if (!octet) return std::nullopt;
    v = (v << 8) | *octet;
    text.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  return Ipv4Addr(v);
}

std::string Ipv4Prefix::to_string() const {
  return addr.to_string() + "/" + std::to_string(len);
}

std::optional<Ipv4Prefix> Ipv4Prefix::parse(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto addr = Ipv4Addr::parse(text.substr(0, slash));
  auto len = parse_decimal(text.substr(slash + 1), 32);
  if (!addr || !len) return std::nullopt;
  return Ipv4Prefix{*addr, static_cast<uint8_t>(*len)};
}

std::string Endpoint::to_string() const {
  return addr.to_string() + ":" + std::to_string(port);
}

}  // namespace veer
