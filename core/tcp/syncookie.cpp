#include "core/tcp/syncookie.h"

#include <cstring>

namespace veer::core {
namespace {

constexpr int kCookieBits = 24;  // COOKIEBITS: the upper 8 hold the minute count
constexpr uint32_t kCookieMask = (1u << kCookieBits) - 1;
constexpr uint32_t kTsBits = 6;  // TSBITS
constexpr uint32_t kTsMask = (1u << kTsBits) - 1;
constexpr uint32_t kTsOptSack = 1u << 4;

uint32_t minutes(Time now) {
  return static_cast<uint32_t>(now / std::chrono::minutes(1));
}

// cookie_hash(): keyed hash of the 4-tuple, a count and which of two values.
uint32_t cookie_hash(const SecretKey& key, const CookieEndpoints& e, uint32_t count, uint8_t c) {
  std::byte buf[18];
  std::memcpy(buf, &e.local.addr.v, 4);
  std::memcpy(buf + 4, &e.remote.addr.v, 4);
  std::memcpy(buf + 8, &e.local.port, 2);
  std::memcpy(buf + 10, &e.remote.port, 2);
  std::memcpy(buf + 12, &count, 4);
  buf[16] = std::byte{c};
  buf[17] = std::byte{'C'};  // a different input domain from ISNs and ports
  return static_cast<uint32_t>(siphash24(key, buf));
}

}  // namespace

uint32_t make_syncookie(const SecretKey& key, const CookieEndpoints& e, uint32_t peer_isn,
                        uint16_t mss, Time now, uint16_t* mss_used) {
  // The largest table entry not above the peer's MSS (__cookie_v4_init_sequence()).
  uint32_t index = 0;
  for (uint32_t i = 0; i < std::size(kCookieMss); ++i) {
    if (kCookieMss[i] <= mss) index = i;
  }
  if (mss_used) *mss_used = kCookieMss[index];
  uint32_t count = minutes(now);
  return cookie_hash(key, e, 0, 0) + peer_isn + (count << kCookieBits) +
         ((cookie_hash(key, e, count, 1) + index) & kCookieMask);
}

std::optional<uint16_t> check_syncookie(const SecretKey& key, const CookieEndpoints& e,
                                        uint32_t peer_isn, uint32_t cookie, Time now) {
  // check_tcp_syn_cookie()
  uint32_t count = minutes(now);
  cookie -= cookie_hash(key, e, 0, 0) + peer_isn;
  uint32_t diff = (count - (cookie >> kCookieBits)) & (0xffffffffu >> kCookieBits);
  if (diff >= static_cast<uint32_t>(kCookieMaxAgeMinutes)) return std::nullopt;
  uint32_t index = (cookie - cookie_hash(key, e, count - diff, 1)) & kCookieMask;
  if (index >= std::size(kCookieMss)) return std::nullopt;
  return kCookieMss[index];
}

uint32_t cookie_timestamp(uint32_t ts_now, CookieOptions o) {
  uint32_t options = (o.wscale & 0xf) | (o.sack ? kTsOptSack : 0);
  uint32_t ts = (ts_now & ~kTsMask) | options;
  if (int32_t(ts - ts_now) > 0) {
    // Never in the future (cookie_init_timestamp()).
    ts = (((ts >> kTsBits) - 1) << kTsBits) | options;
  }
  return ts;
}

CookieOptions cookie_options_from_echo(uint32_t ts_echo) {
  CookieOptions o;
  o.wscale = static_cast<uint8_t>(ts_echo & 0xf);
  o.sack = (ts_echo & kTsOptSack) != 0;
  return o;
}

}  // namespace veer::core
