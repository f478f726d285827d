#include "tools/drill/run_options.h"

#include <charconv>
#include <cstdlib>

namespace veer::drill {
namespace {

bool parse_long(const std::string& s, long* out) {
  const char* b = s.data();
  const char* e = b + s.size();
  auto r = std::from_chars(b, e, *out);
  return r.ec == std::errc() && r.ptr == e;
}

bool parse_double(const std::string& s, double* out) {
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}

}  // namespace

uint8_t prefix_length(Ipv4Addr netmask) {
  uint8_t n = 0;
  for (uint32_t m = netmask.v; m & 0x80000000u; m <<= 1) ++n;
  return n;
}

Ipv4Addr gateway_for(const RunOptions& o) {
  if (o.gateway_ip) return *o.gateway_ip;
  uint32_t mask = o.netmask.v;
  Ipv4Addr last((o.local_ip.v & mask) | (~mask - 1));
  if (last == o.local_ip) last = Ipv4Addr(last.v - 1);
  return last;
}

std::string apply_option(RunOptions& o, std::string_view name,
                         const std::optional<std::string>& value) {
  auto need = [&](const char* what) -> std::string {
    return "--" + std::string(name) + " needs " + what;
  };
  auto number = [&](long lo, long hi, long* out) -> std::string {
    if (!value || !parse_long(*value, out) || *out < lo || *out > hi)
      return need(("a number in " + std::to_string(lo) + ".." + std::to_string(hi)).c_str());
    return "";
  };
  auto address = [&](Ipv4Addr* out) -> std::string {
    auto a = value ? Ipv4Addr::parse(*value) : std::nullopt;
    if (!a) return need("an IPv4 address");
    *out = *a;
    return "";
  };
  long n = 0;
  std::string err;
  if (name == "tolerance_usecs") {
    if ((err = number(0, 1000000000L, &n)).empty()) o.tolerance_usecs = n;
  } else if (name == "tolerance_percent") {
    double d = 0;
    if (!value || !parse_double(*value, &d) || d < 0) return need("a percentage");
    o.tolerance_percent = d;
  } else if (name == "tcp_ts_tick_usecs") {
    if ((err = number(0, 1000000000L, &n)).empty()) o.tcp_ts_tick_usecs = n;
  } else if (name == "tcp_ts_ecr_scaled") {
    o.tcp_ts_ecr_scaled = true;
  } else if (name == "strict_segments") {
    o.strict_segments = true;
  } else if (name == "mss") {
    if ((err = number(1, 65535, &n)).empty()) o.mss = static_cast<int>(n);
  } else if (name == "mtu") {
    if ((err = number(576, 9000, &n)).empty()) o.mtu = static_cast<int>(n);
  } else if (name == "local_ip") {
    err = address(&o.local_ip);
  } else if (name == "remote_ip") {
    // packetdrill accepts a prefix (192.0.2.1/24); the address is what counts.
    std::optional<std::string> v = value;
    if (v && v->find('/') != std::string::npos) v = v->substr(0, v->find('/'));
    auto a = v ? Ipv4Addr::parse(*v) : std::nullopt;
    if (!a) return need("an IPv4 address");
    o.remote_ip = *a;
  } else if (name == "gateway_ip") {
    Ipv4Addr g;
    if ((err = address(&g)).empty()) o.gateway_ip = g;
  } else if (name == "netmask_ip") {
    if ((err = address(&o.netmask)).empty()) {
      uint8_t len = prefix_length(o.netmask);
      if (len == 0 || (len < 32 && (o.netmask.v << len) != 0)) return need("a contiguous netmask");
    }
  } else if (name == "bind_port") {
    if ((err = number(1, 65535, &n)).empty()) o.bind_port = static_cast<uint16_t>(n);
  } else if (name == "connect_port") {
    if ((err = number(1, 65535, &n)).empty()) o.connect_port = static_cast<uint16_t>(n);
  } else if (name == "ip_version") {
    if (!value) return need("ipv4, ipv4-mapped-ipv6 or ipv6");
    if (*value != "ipv4") return "unsupported: --ip_version=" + *value + " (veer is IPv4 only)";
  } else if (name == "sysctl") {
    if (!value || value->find('=') == std::string::npos) return need("key=value");
    o.sysctls.push_back(*value);
  } else if (name == "verbose" || name == "v") {
    o.verbose = true;
  } else if (name == "speed" || name == "debug" || name == "dry_run") {
    // No meaning in virtual time (no tun device, no real clock).
  } else if (name == "define" || name == "non_fatal" || name == "init_scripts" ||
             name == "wire_client" || name == "wire_server" || name == "so_filename" ||
             name == "is_anyip" || name == "send_omit_free" || name == "code_command" ||
             name == "code_format" || name == "code_sockopt") {
    return "unsupported: --" + std::string(name);
  } else {
    return "unknown option --" + std::string(name);
  }
  return err;
}

}  // namespace veer::drill
