// Config as a whole: defaults, origins, the banner summary and the
// conversion to the stack's settings.
#include "core/config/config.h"

#include <gtest/gtest.h>

#include "core/config/parse.h"

namespace veer::config {
namespace {

TEST(Config, StartsAtDefaults) {
  Config config;
  for (const Knob& k : knobs()) {
    EXPECT_EQ(config.get_text(k.name), k.default_value) << k.name;
    EXPECT_EQ(config.origin(k.name).kind, Origin::Kind::Default) << k.name;
    EXPECT_TRUE(config.is_default(k.name)) << k.name;
  }
  EXPECT_TRUE(config.non_default_summary().empty());
  EXPECT_EQ(config.get_triple("net.ipv4.tcp_rmem"), (std::array<int, 3>{4096, 131072, 6291456}));
  EXPECT_EQ(config.get_port_range("net.ipv4.ip_local_port_range"), std::make_pair(32768, 60999));
}

TEST(Config, RefusedValueLeavesThePreviousOne) {
  Config config;
  ASSERT_FALSE(config.set("net.ipv4.tcp_syn_retries", "3", Origin::from_env("VEER_SYSCTL")));
  ASSERT_TRUE(config.set("net.ipv4.tcp_syn_retries", "300", Origin::from_file("f", 1)));
  EXPECT_EQ(config.get_int("net.ipv4.tcp_syn_retries"), 3);
  EXPECT_EQ(config.origin("net.ipv4.tcp_syn_retries").env_var, "VEER_SYSCTL");
}

TEST(Config, NonDefaultSummaryNamesTheSource) {
  Config config;
  ASSERT_FALSE(apply_file_text(config,
                               "net.ipv4.tcp_fin_timeout = 60\n"  // the default: not listed
                               "net.ipv4.ip_local_port_range = 40000 40100\n"
                               "log_file = /tmp/veer.log\n",
                               "/etc/veer.conf"));
  ASSERT_FALSE(apply_environment(config, {{"VEER_TCP_SYN_RETRIES", "1"}}));
  EXPECT_EQ(config.non_default_summary(),
            (std::vector<std::string>{
                "net.ipv4.tcp_syn_retries=1 (env VEER_TCP_SYN_RETRIES)",
                "net.ipv4.ip_local_port_range=\"40000 40100\" (file /etc/veer.conf:2)",
                "log_file=/tmp/veer.log (file /etc/veer.conf:3)",
            }));
}

TEST(Config, StackConfigFromDefaults) {
  core::StackConfig sc = Config().stack_config();
  EXPECT_EQ(sc.address, (Ipv4Prefix{Ipv4Addr::of(10, 77, 0, 2), 24}));
  ASSERT_TRUE(sc.gateway.has_value());
  EXPECT_EQ(*sc.gateway, Ipv4Addr::of(10, 77, 0, 1));
  // auto: 02:00 and the four bytes of the address.
  EXPECT_EQ(sc.mac.to_string(), "02:00:0a:4d:00:02");
  EXPECT_EQ(sc.mtu, 1500);
  core::TcpSettings linux_defaults;
  EXPECT_EQ(sc.tcp.syn_retries, linux_defaults.syn_retries);
  EXPECT_EQ(sc.tcp.syn_linear_timeouts, linux_defaults.syn_linear_timeouts);
  EXPECT_EQ(sc.tcp.synack_retries, linux_defaults.synack_retries);
  EXPECT_EQ(sc.tcp.retries2, linux_defaults.retries2);
  EXPECT_EQ(sc.tcp.fin_timeout_s, linux_defaults.fin_timeout_s);
  EXPECT_EQ(sc.tcp.tw_reuse, linux_defaults.tw_reuse);
  EXPECT_EQ(sc.tcp.port_low, linux_defaults.port_low);
  EXPECT_EQ(sc.tcp.port_high, linux_defaults.port_high);
  EXPECT_EQ(sc.tcp.somaxconn, linux_defaults.somaxconn);
  EXPECT_EQ(sc.tcp.max_syn_backlog, linux_defaults.max_syn_backlog);
  EXPECT_EQ(sc.tcp.rmem_default, linux_defaults.rmem_default);
  EXPECT_EQ(sc.tcp.wmem_default, linux_defaults.wmem_default);
  EXPECT_EQ(sc.secret, (std::array<uint8_t, 16>{}));
}

TEST(Config, StackConfigFromSettings) {
  Config config;
  ASSERT_FALSE(apply_assignments(config,
                                 "address=192.168.5.20/16 gateway=none mtu=9000 "
                                 "net.ipv4.tcp_syn_retries=2 net.ipv4.tcp_syn_linear_timeouts=0 "
                                 "net.ipv4.tcp_synack_retries=1 net.ipv4.tcp_retries2=3 "
                                 "net.ipv4.tcp_fin_timeout=5 net.ipv4.tcp_tw_reuse=1 "
                                 "net.ipv4.ip_local_port_range=40000,40100 "
                                 "net.core.somaxconn=16 net.ipv4.tcp_max_syn_backlog=8 "
                                 "net.ipv4.tcp_rmem=1,2,3 net.ipv4.tcp_wmem=4,5,6",
                                 Origin::from_env("VEER_SYSCTL")));
  core::StackConfig sc = config.stack_config();
  EXPECT_EQ(sc.address, (Ipv4Prefix{Ipv4Addr::of(192, 168, 5, 20), 16}));
  EXPECT_FALSE(sc.gateway.has_value());
  EXPECT_EQ(sc.mac.to_string(), "02:00:c0:a8:05:14");
  EXPECT_EQ(sc.mtu, 9000);
  EXPECT_EQ(sc.tcp.syn_retries, 2);
  EXPECT_EQ(sc.tcp.syn_linear_timeouts, 0);
  EXPECT_EQ(sc.tcp.synack_retries, 1);
  EXPECT_EQ(sc.tcp.retries2, 3);
  EXPECT_EQ(sc.tcp.fin_timeout_s, 5);
  EXPECT_EQ(sc.tcp.tw_reuse, 1);
  EXPECT_EQ(sc.tcp.port_low, 40000);
  EXPECT_EQ(sc.tcp.port_high, 40100);
  EXPECT_EQ(sc.tcp.somaxconn, 16);
  EXPECT_EQ(sc.tcp.max_syn_backlog, 8);
  EXPECT_EQ(sc.tcp.rmem_default, 2);
  EXPECT_EQ(sc.tcp.wmem_default, 5);
}

TEST(Config, ExplicitMacIsUsed) {
  Config config;
  ASSERT_FALSE(config.set("mac", "02:11:22:33:44:55", Origin::from_file("f", 1)));
  EXPECT_EQ(config.stack_config().mac.to_string(), "02:11:22:33:44:55");
}

TEST(Config, DeviceAndHostAddress) {
  Config config;
  EXPECT_EQ(config.device_name(), "veer0");
  EXPECT_EQ(config.host_address(), (Ipv4Prefix{Ipv4Addr::of(10, 77, 0, 1), 24}));
}

TEST(Config, XdpDeviceNameAndQueue) {
  Config config;
  EXPECT_FALSE(config.device_is_xdp());
  EXPECT_EQ(config.device_queue(), 0);
  ASSERT_FALSE(config.set("device", "xdp:eth0:3", Origin::from_env("VEER_DEVICE")));
  EXPECT_TRUE(config.device_is_xdp());
  EXPECT_EQ(config.device_name(), "eth0");
  EXPECT_EQ(config.device_queue(), 3);
  ASSERT_FALSE(config.set("device", "xdp:veer0", Origin::from_env("VEER_DEVICE")));
  EXPECT_EQ(config.device_name(), "veer0");
  EXPECT_EQ(config.device_queue(), 0);
}

TEST(Config, XdpSizesArePowersOfTwo) {
  Config config;
  EXPECT_EQ(config.get_int("xdp_frames"), 4096);
  EXPECT_EQ(config.get_int("xdp_ring_size"), 2048);
  ASSERT_FALSE(config.set("xdp_frames", "3000", Origin::from_file("f", 2)));
  auto error = config.check_consistency();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message, "xdp_frames 3000 (file f:2) is not a power of two");
  ASSERT_FALSE(config.set("xdp_frames", "8192", Origin::from_file("f", 2)));
  EXPECT_FALSE(config.check_consistency());
  ASSERT_TRUE(config.set("xdp_ring_size", "32", Origin::from_file("f", 3)));  // below 64
}

TEST(Config, ConsistencyChecks) {
  EXPECT_FALSE(Config().check_consistency());

  Config outside;
  ASSERT_FALSE(outside.set("gateway", "10.1.0.1", Origin::from_env("VEER_GATEWAY")));
  auto error = outside.check_consistency();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message,
            "gateway 10.1.0.1 (env VEER_GATEWAY) is outside the subnet of address 10.77.0.2/24 "
            "(default)");

  Config same;
  ASSERT_FALSE(same.set("address", "10.77.0.1/24", Origin::from_file("/etc/veer.conf", 4)));
  error = same.check_consistency();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message,
            "address 10.77.0.1/24 (file /etc/veer.conf:4) is the same address as host_address "
            "10.77.0.1/24 (default)");

  Config own;
  ASSERT_FALSE(own.set("gateway", "10.77.0.2", Origin::from_file("f", 1)));
  ASSERT_TRUE(own.check_consistency());

  Config none;
  ASSERT_FALSE(none.set("gateway", "none", Origin::from_file("f", 1)));
  ASSERT_FALSE(none.set("address", "192.168.1.2/24", Origin::from_file("f", 2)));
  EXPECT_FALSE(none.check_consistency());
}

TEST(ConfigDeathTest, WrongAccessorIsABug) {
  Config config;
  EXPECT_DEATH(config.get_int("no.such.knob"), "");
  EXPECT_DEATH(config.get_int("net.ipv4.tcp_rmem"), "");
}

}  // namespace
}  // namespace veer::config
