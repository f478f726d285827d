#include "core/tcp/isn.h"

#include <bit>
#include <cstring>

namespace veer::core {
namespace {

inline void sip_round(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3) {
  v0 += v1, v1 = std::rotl(v1, 13), v1 ^= v0, v0 = std::rotl(v0, 32);
  v2 += v3, v3 = std::rotl(v3, 16), v3 ^= v2;
  v0 += v3, v3 = std::rotl(v3, 21), v3 ^= v0;
  v2 += v1, v1 = std::rotl(v1, 17), v1 ^= v2, v2 = std::rotl(v2, 32);
}

uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void put_endpoint(std::byte* p, Endpoint e) {
  uint32_t a = e.addr.v;
  std::memcpy(p, &a, 4);
  std::memcpy(p + 4, &e.port, 2);
}

}  // namespace

uint64_t siphash24(const SecretKey& key, Bytes data) {
  uint64_t k0 = load_le64(key.data()), k1 = load_le64(key.data() + 8);
  uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
  uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
  const auto* in = reinterpret_cast<const uint8_t*>(data.data());
  size_t len = data.size(), full = len & ~size_t{7};
  for (size_t i = 0; i < full; i += 8) {
    uint64_t m = load_le64(in + i);
    v3 ^= m;
    sip_round(v0, v1, v2, v3), sip_round(v0, v1, v2, v3);
    v0 ^= m;
  }
  uint64_t b = uint64_t(len) << 56;
  for (size_t i = 0; i < (len & 7); ++i) b |= uint64_t(in[full + i]) << (8 * i);
  v3 ^= b;
  sip_round(v0, v1, v2, v3), sip_round(v0, v1, v2, v3);
  v0 ^= b;
  v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) sip_round(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t initial_sequence_number(const SecretKey& key, Endpoint local, Endpoint remote, Time now) {
  std::byte buf[12];
  put_endpoint(buf, local);
  put_endpoint(buf + 6, remote);
  uint32_t m = static_cast<uint32_t>(now.count() / 4000);  // 4 µs ticks
  return m + static_cast<uint32_t>(siphash24(key, buf));
}

uint32_t port_offset(const SecretKey& key, Ipv4Addr local, Endpoint remote) {
  std::byte buf[10];
  std::memcpy(buf, &local.v, 4);
  put_endpoint(buf + 4, remote);
  return static_cast<uint32_t>(siphash24(key, buf) >> 32);
}

uint32_t timestamp_offset(const SecretKey& key, Ipv4Addr local, Ipv4Addr remote) {
  std::byte buf[9];
  std::memcpy(buf, &local.v, 4);
  std::memcpy(buf + 4, &remote.v, 4);
  buf[8] = std::byte{'T'};  // a different input domain from the ISN hash
  return static_cast<uint32_t>(siphash24(key, buf));
}

}  // namespace veer::core
