// Initial sequence numbers (RFC 6528) and ephemeral port offsets (RFC 6056
// algorithm 3), both from a keyed hash so they are unpredictable off-path.
#pragma once

#include <array>

#include "core/types.h"

namespace veer::core {

using SecretKey = std::array<uint8_t, 16>;

// SipHash-2-4 of `data` under `key`.
uint64_t siphash24(const SecretKey& key, Bytes data);

// ISN = M + F(localip, localport, remoteip, remoteport, secret), M a 4 µs
// clock (RFC 6528 §3).
uint32_t initial_sequence_number(const SecretKey& key, Endpoint local, Endpoint remote, Time now);

// F(localip, remoteip, remoteport, secret) of RFC 6056 §3.3.3: where the
// search for a free ephemeral port starts for this destination.
uint32_t port_offset(const SecretKey& key, Ipv4Addr local, Endpoint remote);

// Linux's secure_tcp_ts_off(): a per-address-pair offset added to TSvals so
// they reveal neither uptime nor other connections' clocks.
uint32_t timestamp_offset(const SecretKey& key, Ipv4Addr local, Ipv4Addr remote);

}  // namespace veer::core
