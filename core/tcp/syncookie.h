// SYN cookies (RFC 4987 §3.6, Linux net/ipv4/syncookies.c): when the SYN
// queue is full, the SYN-ACK's sequence number encodes what the connection
// needs, so nothing is kept until the handshake's ACK brings it back.
#pragma once

#include <optional>

#include "core/tcp/isn.h"
#include "core/types.h"

namespace veer::core {

// Linux's MSS table (msstab): a cookie carries an index into it.
inline constexpr uint16_t kCookieMss[] = {536, 1300, 1440, 1460};
inline constexpr int kCookieMaxAgeMinutes = 2;  // MAX_SYNCOOKIE_AGE

struct CookieEndpoints {
  Endpoint local;
  Endpoint remote;
};

// The ISN for a SYN-ACK answering `peer_isn` with our largest MSS <= `mss`
// (written back to *mss_used). `now` gives the minute counter.
uint32_t make_syncookie(const SecretKey& key, const CookieEndpoints& e, uint32_t peer_isn,
                        uint16_t mss, Time now, uint16_t* mss_used);
// Checks the ACK of a cookie SYN-ACK: `cookie` is its ACK - 1, `peer_isn`
// its SEQ - 1. Returns the MSS the cookie carried, or nothing.
std::optional<uint16_t> check_syncookie(const SecretKey& key, const CookieEndpoints& e,
                                        uint32_t peer_isn, uint32_t cookie, Time now);

// The options a cookie keeps in the low 6 bits of our TSval
// (cookie_init_timestamp()): the peer's window scale (0xf: none) and SACK.
struct CookieOptions {
  uint8_t wscale = 0xf;
  bool sack = false;
};
uint32_t cookie_timestamp(uint32_t ts_now, CookieOptions o);
CookieOptions cookie_options_from_echo(uint32_t ts_echo);

}  // namespace veer::core
