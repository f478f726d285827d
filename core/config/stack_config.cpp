// Config's conversions to the types the stack and the tools use, and the
// checks that span more than one knob.
#include "core/config/config.h"
#include "core/config/value.h"

namespace veer::config {
namespace {

// Values were validated when stored, so parsing them again cannot fail.
Ipv4Prefix prefix_of(const std::string& text) {
  return *Ipv4Prefix::parse(text);
}

std::optional<Ipv4Addr> addr_or_none(const std::string& text) {
  if (text == "none") return std::nullopt;
  return *Ipv4Addr::parse(text);
}

}  // namespace

MacAddr Config::mac() const {
  const std::string& text = get_text("mac");
  if (text != "auto") return *MacAddr::parse(text);
  // 02: locally administered, unicast. The address in the last four bytes
  // makes two veer instances on one bridge differ whenever their IPs do.
  uint32_t ip = prefix_of(get_text("address")).addr.v;
  return MacAddr{{0x02, 0x00, static_cast<uint8_t>(ip >> 24), static_cast<uint8_t>(ip >> 16),
                  static_cast<uint8_t>(ip >> 8), static_cast<uint8_t>(ip)}};
}

core::StackConfig Config::stack_config() const {
  core::StackConfig sc;
  sc.mac = mac();
  sc.address = prefix_of(get_text("address"));
  sc.gateway = addr_or_none(get_text("gateway"));
  sc.mtu = static_cast<uint16_t>(get_int("mtu"));

  core::TcpSettings& tcp = sc.tcp;
  tcp.syn_retries = get_int("net.ipv4.tcp_syn_retries");
  tcp.syn_linear_timeouts = get_int("net.ipv4.tcp_syn_linear_timeouts");
  tcp.synack_retries = get_int("net.ipv4.tcp_synack_retries");
  tcp.retries2 = get_int("net.ipv4.tcp_retries2");
  tcp.orphan_retries = get_int("net.ipv4.tcp_orphan_retries");
  tcp.fin_timeout_s = get_int("net.ipv4.tcp_fin_timeout");
  tcp.keepalive_time_s = get_int("net.ipv4.tcp_keepalive_time");
  tcp.keepalive_intvl_s = get_int("net.ipv4.tcp_keepalive_intvl");
  tcp.keepalive_probes = get_int("net.ipv4.tcp_keepalive_probes");
  tcp.tw_reuse = get_int("net.ipv4.tcp_tw_reuse");
  tcp.tw_reuse_delay_ms = get_int("net.ipv4.tcp_tw_reuse_delay");
  auto [low, high] = get_port_range("net.ipv4.ip_local_port_range");
  tcp.port_low = static_cast<uint16_t>(low);
  tcp.port_high = static_cast<uint16_t>(high);
  tcp.somaxconn = get_int("net.core.somaxconn");
  tcp.max_syn_backlog = get_int("net.ipv4.tcp_max_syn_backlog");
  tcp.syncookies = get_int("net.ipv4.tcp_syncookies");
  tcp.rmem_default = get_triple("net.ipv4.tcp_rmem")[1];
  tcp.rmem_max = get_triple("net.ipv4.tcp_rmem")[2];
  tcp.core_rmem_max = get_int("net.core.rmem_max");
  tcp.window_scaling = get_int("net.ipv4.tcp_window_scaling") != 0;
  tcp.timestamps = get_int("net.ipv4.tcp_timestamps");
  tcp.sack = get_int("net.ipv4.tcp_sack") != 0;
  const std::string& cc = get_text("net.ipv4.tcp_congestion_control");
  tcp.congestion_control = {};
  cc.copy(tcp.congestion_control.data(), tcp.congestion_control.size() - 1);
  tcp.recovery = get_int("net.ipv4.tcp_recovery");
  tcp.early_retrans = get_int("net.ipv4.tcp_early_retrans");
  tcp.slow_start_after_idle = get_int("net.ipv4.tcp_slow_start_after_idle") != 0;
  tcp.wmem_default = get_triple("net.ipv4.tcp_wmem")[1];
  tcp.wmem_max = get_triple("net.ipv4.tcp_wmem")[2];
  tcp.moderate_rcvbuf = get_int("net.ipv4.tcp_moderate_rcvbuf") != 0;
  tcp.core_wmem_max = get_int("net.core.wmem_max");
  tcp.adv_win_scale = get_int("net.ipv4.tcp_adv_win_scale");
  tcp.notsent_lowat = static_cast<uint32_t>(get_int64("net.ipv4.tcp_notsent_lowat"));
  tcp.min_tso_segs = get_int("net.ipv4.tcp_min_tso_segs");
  tcp.gso_max_segs = static_cast<uint32_t>(get_int("gso_max_segs"));
  tcp.max_tcp_header = get_int("max_tcp_header");
  tcp.rto_min_us = get_int("net.ipv4.tcp_rto_min_us");
  tcp.rto_max_ms = get_int("net.ipv4.tcp_rto_max_ms");
  tcp.abort_on_overflow = get_int("net.ipv4.tcp_abort_on_overflow") != 0;
  tcp.rfc1337 = get_int("net.ipv4.tcp_rfc1337") != 0;
  tcp.stdurg = get_int("net.ipv4.tcp_stdurg") != 0;
  return sc;
}

std::string Config::device_name() const {
  const std::string& device = get_text("device");
  std::string rest = device.substr(device.find(':') + 1);
  return rest.substr(0, rest.find(':'));
}

bool Config::device_is_xdp() const {
  return get_text("device").starts_with("xdp:");
}

int Config::device_queue() const {
  std::string_view rest = get_text("device");
  rest.remove_prefix(rest.find(':') + 1);
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return 0;
  return static_cast<int>(parse_int(rest.substr(colon + 1)).value_or(0));
}

std::vector<Ipv4Prefix> Config::routes() const {
  std::vector<Ipv4Prefix> out;
  std::string_view rest = get_text("routes");
  while (!rest.empty()) {
    size_t sp = rest.find(' ');
    if (auto p = Ipv4Prefix::parse(rest.substr(0, sp))) out.push_back(*p);
    rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
  }
  return out;
}

Ipv4Prefix Config::host_address() const {
  return prefix_of(get_text("host_address"));
}

std::optional<ConfigError> Config::check_consistency() const {
  auto shown = [&](std::string_view name) {
    return std::string(name) + " " + get_text(name) + " (" + origin(name).describe() + ")";
  };
  Ipv4Prefix address = prefix_of(get_text("address"));
  if (address.addr == host_address().addr) {
    return ConfigError{shown("address") + " is the same address as " + shown("host_address")};
  }
  // The UMEM and the rings are power-of-two sized (xsk ring indexing masks).
  for (std::string_view name : {"xdp_frames", "xdp_ring_size"}) {
    int v = get_int(name);
    if ((v & (v - 1)) != 0) return ConfigError{shown(name) + " is not a power of two"};
  }
  if (auto gateway = addr_or_none(get_text("gateway"))) {
    if (*gateway == address.addr) {
      return ConfigError{shown("gateway") + " is veer's own address"};
    }
    // Linux refuses such a route too ("Nexthop has invalid gateway") unless
    // it is marked onlink, which veer does not offer.
    if (!address.contains(*gateway)) {
      return ConfigError{shown("gateway") + " is outside the subnet of " + shown("address")};
    }
  }
  return std::nullopt;
}

}  // namespace veer::config
