// The registry against Linux: names, defaults and ranges as in
// net/ipv4/sysctl_net_ipv4.c and net/core/sysctl_net_core.c.
#include "core/config/registry.h"

#include <gtest/gtest.h>

#include <set>

#include "core/config/value.h"

namespace veer::config {
namespace {

struct Expected {
  std::string_view name;
  std::string_view default_value;
  int64_t min;
  int64_t max;
};

TEST(Registry, SysctlDefaultsAndRangesAreLinuxs) {
  const Expected expected[] = {
      {"net.ipv4.tcp_syn_retries", "6", 1, 127},
      {"net.ipv4.tcp_syn_linear_timeouts", "4", 0, 127},
      {"net.ipv4.tcp_synack_retries", "5", 0, 255},
      {"net.ipv4.tcp_retries2", "15", 0, 255},
      {"net.ipv4.tcp_fin_timeout", "60", 1, 2147483},
      {"net.ipv4.tcp_tw_reuse", "2", 0, 2},
      {"net.ipv4.ip_local_port_range", "32768 60999", 1, 65535},
      {"net.core.somaxconn", "4096", 0, 2147483647},
      {"net.ipv4.tcp_max_syn_backlog", "1024", 0, 2147483647},
      {"net.ipv4.tcp_rmem", "4096 131072 6291456", 1, 2147483647},
      {"net.ipv4.tcp_wmem", "4096 16384 4194304", 1, 2147483647},
      // proc_dou8vec_minmax without bounds: Linux takes any u8 (checked on
      // this machine's 6.18 kernel: tcp_sack=2 and tcp_timestamps=3 accepted).
      {"net.ipv4.tcp_window_scaling", "1", 0, 255},
      {"net.ipv4.tcp_syncookies", "1", 0, 2},
      {"net.ipv4.tcp_moderate_rcvbuf", "1", 0, 1},
      {"net.ipv4.tcp_congestion_control", "cubic", 0, 0},
      {"net.ipv4.tcp_recovery", "1", 0, 2147483647},
      {"net.ipv4.tcp_early_retrans", "3", 0, 4},
      {"net.ipv4.tcp_slow_start_after_idle", "1", 0, 255},
      {"net.ipv4.tcp_orphan_retries", "0", 0, 255},
      {"net.ipv4.tcp_tw_reuse_delay", "1000", 1, 60000},
      {"net.ipv4.tcp_keepalive_time", "7200", 1, 2147483},
      {"net.ipv4.tcp_keepalive_intvl", "75", 1, 2147483},
      {"net.ipv4.tcp_keepalive_probes", "9", 0, 255},
      {"net.ipv4.tcp_timestamps", "1", 0, 255},
      {"net.ipv4.tcp_sack", "1", 0, 255},
      {"net.core.rmem_max", "4194304", 2304, 2147483647},
      {"net.core.wmem_max", "4194304", 4608, 2147483647},
      {"net.ipv4.tcp_adv_win_scale", "1", -31, 31},
      {"net.ipv4.tcp_notsent_lowat", "4294967295", 0, 4294967295},
      {"net.ipv4.tcp_min_tso_segs", "2", 1, 255},
      // Checked on this machine's 6.18 kernel: 0 and 999/120001 refused.
      {"net.ipv4.tcp_rto_min_us", "200000", 1, 2147483647},
      {"net.ipv4.tcp_rto_max_ms", "120000", 1000, 120000},
      // u8 sysctls without bounds (2 accepted by 6.18).
      {"net.ipv4.tcp_abort_on_overflow", "0", 0, 255},
      {"net.ipv4.tcp_rfc1337", "0", 0, 255},
      {"net.ipv4.tcp_stdurg", "0", 0, 255},
      // net/core/sysctl_net_core.c: proc_dointvec_minmax, extra1 = SYSCTL_ZERO.
      {"net.core.busy_read", "0", 0, 2147483647},
      {"net.core.busy_poll", "0", 0, 2147483647},
  };
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.name);
    const Knob* k = find_knob(e.name);
    ASSERT_NE(k, nullptr);
    EXPECT_TRUE(k->sysctl);
    EXPECT_EQ(k->default_value, e.default_value);
    EXPECT_EQ(k->min, e.min);
    EXPECT_EQ(k->max, e.max);
  }
  size_t sysctls = 0;
  for (const Knob& k : knobs()) sysctls += k.sysctl ? 1 : 0;
  EXPECT_EQ(sysctls, std::size(expected));
}

TEST(Registry, VeerSettingsDefaults) {
  auto default_of = [](std::string_view name) {
    const Knob* k = find_knob(name);
    EXPECT_NE(k, nullptr) << name;
    EXPECT_FALSE(k && k->sysctl) << name;
    return k ? k->default_value : std::string_view("<missing>");
  };
  EXPECT_EQ(default_of("device"), "tap:veer0");
  EXPECT_EQ(default_of("address"), "10.77.0.2/24");
  EXPECT_EQ(default_of("host_address"), "10.77.0.1/24");
  EXPECT_EQ(default_of("gateway"), "10.77.0.1");
  EXPECT_EQ(default_of("mac"), "auto");
  EXPECT_EQ(default_of("mtu"), "1500");
  EXPECT_EQ(default_of("log"), "warn");
  EXPECT_EQ(default_of("log_file"), "");
  EXPECT_EQ(find_knob("mtu")->min, 576);
  EXPECT_EQ(find_knob("mtu")->max, 9000);
}

TEST(Registry, EveryDefaultIsValidAndCanonical) {
  for (const Knob& k : knobs()) {
    CheckedValue checked = check_value(k, k.default_value);
    EXPECT_FALSE(checked.problem) << k.name << ": " << checked.problem.value_or("");
    EXPECT_EQ(checked.canonical, k.default_value) << k.name;
  }
}

TEST(Registry, EnvNames) {
  EXPECT_EQ(env_name(*find_knob("net.ipv4.tcp_syn_retries")), "VEER_TCP_SYN_RETRIES");
  EXPECT_EQ(env_name(*find_knob("net.core.somaxconn")), "VEER_SOMAXCONN");
  EXPECT_EQ(env_name(*find_knob("net.ipv4.ip_local_port_range")), "VEER_IP_LOCAL_PORT_RANGE");
  EXPECT_EQ(env_name(*find_knob("device")), "VEER_DEVICE");
  EXPECT_EQ(env_name(*find_knob("log")), "VEER_LOG");
  EXPECT_EQ(env_name(*find_knob("log_file")), "VEER_LOG_FILE");
  EXPECT_EQ(env_name(*find_knob("host_address")), "VEER_HOST_ADDRESS");
}

TEST(Registry, EnvNamesAreUniqueAndNotReserved) {
  std::set<std::string> seen;
  for (const Knob& k : knobs()) {
    std::string name = env_name(k);
    EXPECT_TRUE(seen.insert(name).second) << "duplicate " << name;
    EXPECT_FALSE(is_reserved_env(name)) << name;
    EXPECT_EQ(find_knob_by_env(name), &k) << name;
  }
}

TEST(Registry, FindKnobWantsExactNames) {
  EXPECT_EQ(find_knob("tcp_syn_retries"), nullptr);
  EXPECT_EQ(find_knob("NET.IPV4.TCP_SYN_RETRIES"), nullptr);
  EXPECT_EQ(find_knob_by_env("VEER_tcp_syn_retries"), nullptr);
  EXPECT_EQ(find_knob_by_env("TCP_SYN_RETRIES"), nullptr);
  EXPECT_EQ(find_knob_by_env("VEER_CONFIG"), nullptr);
  EXPECT_TRUE(is_reserved_env("VEER_CONFIG"));
  EXPECT_TRUE(is_reserved_env("VEER_SYSCTL"));
  EXPECT_TRUE(is_reserved_env("VEER_ACTIVE"));
  EXPECT_FALSE(is_reserved_env("VEER_LOG"));
}

TEST(Registry, AcceptedText) {
  EXPECT_EQ(accepted_text(*find_knob("net.ipv4.tcp_syn_retries")), "1..127");
  EXPECT_EQ(accepted_text(*find_knob("log")), "error|warn|info|debug|trace");
  EXPECT_EQ(accepted_text(*find_knob("net.ipv4.ip_local_port_range")),
            "two ports low high, each 1..65535, low <= high");
}

}  // namespace
}  // namespace veer::config
