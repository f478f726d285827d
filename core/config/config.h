// A complete configuration: one value for every knob of the registry, each
// remembering where it came from. Starts from the defaults; sources are
// applied over it in order (see parse.h), later ones winning.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config/registry.h"
#include "core/settings.h"
#include "core/types.h"

namespace veer::config {

// Where a value came from, for error messages and the start-up banner.
struct Origin {
  // Runtime: changed in the running process by `veer sysctl -p` or
  // `veer capture -p` (preload/control_protocol.h).
  enum class Kind { Default, File, Env, Runtime };
  Kind kind = Kind::Default;
  std::string file;     // File: the path as given
  int line = 0;         // File: 1-based
  std::string env_var;  // Env: VEER_TCP_SYN_RETRIES, or VEER_SYSCTL for a list entry

  static Origin from_file(std::string_view file, int line);
  static Origin from_env(std::string_view var);
  static Origin at_run_time();

  // "default", "file /etc/veer.conf:12", "env VEER_TCP_SYN_RETRIES",
  // "runtime": for the banner.
  std::string describe() const;
  // "/etc/veer.conf:12", "environment VEER_SYSCTL", "default", "run time":
  // starts an error message.
  std::string location() const;
};

struct ConfigError {
  // One line, naming the source, the key, the value and what is accepted:
  //   /etc/veer.conf:12: net.ipv4.tcp_syn_retries = 300: out of range (accepted: 1..127)
  //   environment VEER_TCP_SYN_RETRIES=300: net.ipv4.tcp_syn_retries: out of range (...)
  //   environment VEER_SYSCTL: net.ipv4.tcp_syn_retries=300: out of range (...)
  std::string message;
};

class Config {
 public:
  // Every knob at its default.
  Config();

  // Validates `value` for knob `key` (full name only) and stores it. On error
  // nothing changes. Unknown keys are refused with a suggestion.
  std::optional<ConfigError> set(std::string_view key, std::string_view value,
                                 const Origin& origin);

  // Typed reads. `name` must be a knob of the matching kind: anything else is
  // a bug in the caller, and aborts.
  int get_int(std::string_view name) const;        // Kind::Int
  int64_t get_int64(std::string_view name) const;  // Kind::Int beyond int (tcp_notsent_lowat)
  std::array<int, 3> get_triple(std::string_view name) const;       // Kind::IntTriple
  std::pair<int, int> get_port_range(std::string_view name) const;  // Kind::PortRange
  // Any kind, in canonical form ("40000 40100", "10.77.0.2/24", "auto").
  const std::string& get_text(std::string_view name) const;
  const Origin& origin(std::string_view name) const;
  bool is_default(std::string_view name) const;

  // One entry per knob whose value differs from the default, in table order:
  //   net.ipv4.tcp_syn_retries=1 (env VEER_TCP_SYN_RETRIES)
  //   net.ipv4.ip_local_port_range="40000 40100" (file /etc/veer.conf:3)
  std::vector<std::string> non_default_summary() const;

  // Checks that the knobs agree with each other (each is already valid on
  // its own): the gateway is inside the subnet, veer and the host do not
  // share an address.
  std::optional<ConfigError> check_consistency() const;

  // The stack's view: address, gateway, MAC (auto resolved), MTU and TCP
  // settings. `secret` stays zero: the engine fills it from a random source.
  core::StackConfig stack_config() const;
  // NAME of device = tap:NAME or xdp:NAME[:QUEUE].
  std::string device_name() const;
  bool device_is_xdp() const;
  // QUEUE of device = xdp:NAME:QUEUE; 0 when absent.
  int device_queue() const;
  Ipv4Prefix host_address() const;
  // The `routes` knob: networks veer serves through its gateway.
  std::vector<Ipv4Prefix> routes() const;
  MacAddr mac() const;

 private:
  struct Entry {
    std::string text;  // canonical
    Origin origin;
  };
  size_t index_of(std::string_view name, Kind kind) const;  // aborts on a wrong name or kind
  size_t index_of(std::string_view name) const;             // any kind

  std::vector<Entry> entries_;  // parallel to knobs()
};

}  // namespace veer::config
