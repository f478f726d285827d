// Each kind of knob accepts what it should, refuses the rest, and says why
// with the file, line, key, value and accepted range.
#include "core/config/value.h"

#include <gtest/gtest.h>

#include "core/config/config.h"

namespace veer::config {
namespace {

// The error for `key = value` on line 12 of /etc/veer.conf, or "" if accepted.
std::string refusal(std::string_view key, std::string_view value) {
  Config config;
  auto error = config.set(key, value, Origin::from_file("/etc/veer.conf", 12));
  return error ? error->message : "";
}

// The stored (canonical) value after `key = value`, or the error.
std::string stored(std::string_view key, std::string_view value) {
  Config config;
  if (auto error = config.set(key, value, Origin::from_file("/etc/veer.conf", 12))) {
    return "error: " + error->message;
  }
  return config.get_text(key);
}

TEST(IntKnob, AcceptsItsRangeInclusive) {
  EXPECT_EQ(stored("net.ipv4.tcp_syn_retries", "1"), "1");
  EXPECT_EQ(stored("net.ipv4.tcp_syn_retries", "127"), "127");
  EXPECT_EQ(stored("net.ipv4.tcp_syn_retries", "  007 "), "7");
  EXPECT_EQ(stored("net.ipv4.tcp_syn_linear_timeouts", "0"), "0");
  EXPECT_EQ(stored("net.core.somaxconn", "2147483647"), "2147483647");
}

TEST(IntKnob, RefusesOutOfRangeWithFileLineKeyAndRange) {
  EXPECT_EQ(refusal("net.ipv4.tcp_syn_retries", "300"),
            "/etc/veer.conf:12: net.ipv4.tcp_syn_retries = 300: out of range (accepted: 1..127)");
  EXPECT_EQ(refusal("net.ipv4.tcp_syn_retries", "0"),
            "/etc/veer.conf:12: net.ipv4.tcp_syn_retries = 0: out of range (accepted: 1..127)");
  EXPECT_EQ(refusal("net.ipv4.tcp_tw_reuse", "-1"),
            "/etc/veer.conf:12: net.ipv4.tcp_tw_reuse = -1: out of range (accepted: 0..2)");
  EXPECT_EQ(refusal("net.core.somaxconn", "2147483648"),
            "/etc/veer.conf:12: net.core.somaxconn = 2147483648: out of range "
            "(accepted: 0..2147483647)");
  // Beyond 64 bits is still a number, just out of range.
  EXPECT_EQ(refusal("mtu", "99999999999999999999999"),
            "/etc/veer.conf:12: mtu = 99999999999999999999999: out of range (accepted: 576..9000)");
  EXPECT_EQ(refusal("net.ipv4.tcp_fin_timeout", "2147484"),
            "/etc/veer.conf:12: net.ipv4.tcp_fin_timeout = 2147484: out of range "
            "(accepted: 1..2147483)");
}

TEST(IntKnob, RefusesNonNumbers) {
  EXPECT_EQ(refusal("net.ipv4.tcp_syn_retries", "six"),
            "/etc/veer.conf:12: net.ipv4.tcp_syn_retries = six: not an integer (accepted: 1..127)");
  EXPECT_EQ(refusal("net.ipv4.tcp_syn_retries", ""),
            "/etc/veer.conf:12: net.ipv4.tcp_syn_retries = : not an integer (accepted: 1..127)");
  EXPECT_NE(refusal("net.ipv4.tcp_syn_retries", "+3"), "");
  EXPECT_NE(refusal("net.ipv4.tcp_syn_retries", "0x3"), "");
  EXPECT_NE(refusal("net.ipv4.tcp_syn_retries", "3 4"), "");
}

TEST(IntTripleKnob, AcceptsSpacesOrCommas) {
  EXPECT_EQ(stored("net.ipv4.tcp_rmem", "4096   87380\t6291456"), "4096 87380 6291456");
  EXPECT_EQ(stored("net.ipv4.tcp_rmem", "4096,87380,6291456"), "4096 87380 6291456");
  EXPECT_EQ(stored("net.ipv4.tcp_wmem", "1 1 1"), "1 1 1");
}

TEST(IntTripleKnob, Refusals) {
  const std::string accepted =
      " (accepted: three integers min default max, each 1..2147483647, non-decreasing)";
  EXPECT_EQ(
      refusal("net.ipv4.tcp_rmem", "4096 131072"),
      "/etc/veer.conf:12: net.ipv4.tcp_rmem = 4096 131072: expected 3 integers, got 2" + accepted);
  EXPECT_EQ(refusal("net.ipv4.tcp_rmem", "0 131072 6291456"),
            "/etc/veer.conf:12: net.ipv4.tcp_rmem = 0 131072 6291456: out of range" + accepted);
  EXPECT_EQ(refusal("net.ipv4.tcp_rmem", "4096 2 6291456"),
            "/etc/veer.conf:12: net.ipv4.tcp_rmem = 4096 2 6291456: values decrease" + accepted);
  EXPECT_EQ(
      refusal("net.ipv4.tcp_wmem", "4096 x 6291456"),
      "/etc/veer.conf:12: net.ipv4.tcp_wmem = 4096 x 6291456: 'x' is not an integer" + accepted);
}

TEST(PortRangeKnob, AcceptsAndRefuses) {
  EXPECT_EQ(stored("net.ipv4.ip_local_port_range", "40000 40100"), "40000 40100");
  EXPECT_EQ(stored("net.ipv4.ip_local_port_range", "40000,40100"), "40000 40100");
  EXPECT_EQ(stored("net.ipv4.ip_local_port_range", "5000 5000"), "5000 5000");
  const std::string accepted = " (accepted: two ports low high, each 1..65535, low <= high)";
  EXPECT_EQ(
      refusal("net.ipv4.ip_local_port_range", "40100 40000"),
      "/etc/veer.conf:12: net.ipv4.ip_local_port_range = 40100 40000: values decrease" + accepted);
  EXPECT_EQ(refusal("net.ipv4.ip_local_port_range", "0 100"),
            "/etc/veer.conf:12: net.ipv4.ip_local_port_range = 0 100: out of range" + accepted);
  EXPECT_EQ(
      refusal("net.ipv4.ip_local_port_range", "1024 65536"),
      "/etc/veer.conf:12: net.ipv4.ip_local_port_range = 1024 65536: out of range" + accepted);
  EXPECT_EQ(
      refusal("net.ipv4.ip_local_port_range", "1024"),
      "/etc/veer.conf:12: net.ipv4.ip_local_port_range = 1024: expected 2 ports, got 1" + accepted);
}

TEST(Ipv4PrefixKnob, AcceptsAndRefuses) {
  EXPECT_EQ(stored("address", "192.168.7.9/16"), "192.168.7.9/16");
  EXPECT_EQ(stored("address", "010.77.000.2/24"), "10.77.0.2/24");
  const std::string accepted =
      " (accepted: a unicast IPv4 address with a prefix length, e.g. 10.77.0.2/24)";
  EXPECT_EQ(refusal("address", "10.77.0.2"),
            "/etc/veer.conf:12: address = 10.77.0.2: not an IPv4 address with a prefix length" +
                accepted);
  EXPECT_EQ(refusal("address", "10.77.0.2/33"),
            "/etc/veer.conf:12: address = 10.77.0.2/33: not an IPv4 address with a prefix "
            "length" +
                accepted);
  EXPECT_EQ(refusal("host_address", "224.0.0.1/24"),
            "/etc/veer.conf:12: host_address = 224.0.0.1/24: not a unicast address" + accepted);
  EXPECT_NE(refusal("address", "0.0.0.0/0"), "");
  EXPECT_NE(refusal("address", "127.0.0.1/8"), "");
}

TEST(Ipv4AddrOrNoneKnob, AcceptsAndRefuses) {
  EXPECT_EQ(stored("gateway", "none"), "none");
  EXPECT_EQ(stored("gateway", "10.77.0.254"), "10.77.0.254");
  EXPECT_EQ(refusal("gateway", "10.77.0.1/24"),
            "/etc/veer.conf:12: gateway = 10.77.0.1/24: not an IPv4 address "
            "(accepted: a unicast IPv4 address, or none)");
  EXPECT_EQ(refusal("gateway", "255.255.255.255"),
            "/etc/veer.conf:12: gateway = 255.255.255.255: not a unicast address "
            "(accepted: a unicast IPv4 address, or none)");
  EXPECT_NE(refusal("gateway", "None"), "");
}

TEST(MacKnob, AcceptsAndRefuses) {
  EXPECT_EQ(stored("mac", "auto"), "auto");
  EXPECT_EQ(stored("mac", "02:AB:cd:00:11:22"), "02:ab:cd:00:11:22");
  const std::string accepted = " (accepted: auto, or a unicast MAC address aa:bb:cc:dd:ee:ff)";
  EXPECT_EQ(refusal("mac", "02:ab:cd:00:11"),
            "/etc/veer.conf:12: mac = 02:ab:cd:00:11: not a MAC address" + accepted);
  EXPECT_EQ(refusal("mac", "01:00:5e:00:00:01"),
            "/etc/veer.conf:12: mac = 01:00:5e:00:00:01: not a unicast MAC address" + accepted);
  EXPECT_NE(refusal("mac", "00:00:00:00:00:00"), "");
}

TEST(DeviceKnob, AcceptsTapNames) {
  EXPECT_EQ(stored("device", "tap:veer1"), "tap:veer1");
  EXPECT_EQ(stored("device", "tap:a.b_c-D9"), "tap:a.b_c-D9");
  EXPECT_EQ(stored("device", "tap:123456789012345"), "tap:123456789012345");  // 15 chars
}

TEST(DeviceKnob, AcceptsXdpInterfacesAndQueues) {
  EXPECT_EQ(stored("device", "xdp:eth0"), "xdp:eth0");
  EXPECT_EQ(stored("device", "xdp:eth0:3"), "xdp:eth0:3");
  EXPECT_EQ(stored("device", "xdp:veer0:0"), "xdp:veer0:0");
  EXPECT_EQ(stored("device", "xdp:eth0:63"), "xdp:eth0:63");  // the socket map's last slot
}

TEST(DeviceKnob, Refusals) {
  const std::string accepted =
      " (accepted: tap:NAME or xdp:NAME[:QUEUE], NAME 1..15 characters of A-Z a-z 0-9 _ . -, "
      "QUEUE 0..63)";
  EXPECT_EQ(refusal("device", "veer0"),
            "/etc/veer.conf:12: device = veer0: unknown device type" + accepted);
  EXPECT_EQ(refusal("device", "dpdk:0"),
            "/etc/veer.conf:12: device = dpdk:0: unknown device type" + accepted);
  EXPECT_EQ(refusal("device", "tap:1234567890123456"),
            "/etc/veer.conf:12: device = tap:1234567890123456: bad interface name "
            "'1234567890123456'" +
                accepted);
  EXPECT_EQ(refusal("device", "tap:a:b"),
            "/etc/veer.conf:12: device = tap:a:b: a TAP device takes no queue ('a:b')" + accepted);
  EXPECT_EQ(refusal("device", "xdp:eth0:x"),
            "/etc/veer.conf:12: device = xdp:eth0:x: bad queue 'x' (0..63)" + accepted);
  EXPECT_EQ(refusal("device", "xdp:eth0:64"),
            "/etc/veer.conf:12: device = xdp:eth0:64: bad queue '64' (0..63)" + accepted);
  EXPECT_EQ(refusal("device", "xdp:eth0:-1"),
            "/etc/veer.conf:12: device = xdp:eth0:-1: bad queue '-1' (0..63)" + accepted);
  EXPECT_EQ(refusal("device", "xdp::3"),
            "/etc/veer.conf:12: device = xdp::3: bad interface name ''" + accepted);
  EXPECT_NE(refusal("device", "xdp:"), "");
  EXPECT_NE(refusal("device", "xdp:eth0:"), "");
  EXPECT_NE(refusal("device", "xdp:eth0:1:2"), "");
  EXPECT_NE(refusal("device", "tap:"), "");
  EXPECT_NE(refusal("device", "tap:a/b"), "");
  EXPECT_NE(refusal("device", "tap:.."), "");
}

TEST(LinkNameKnob, EmptyOrAnInterfaceName) {
  EXPECT_EQ(stored("bridge", ""), "");
  EXPECT_EQ(stored("bridge", "veerbr0"), "veerbr0");
  EXPECT_EQ(refusal("bridge", "br/0"),
            "/etc/veer.conf:12: bridge = br/0: bad interface name 'br/0' (accepted: empty, or "
            "1..15 characters of A-Z a-z 0-9 _ . -)");
  EXPECT_NE(refusal("bridge", "1234567890123456"), "");
}

TEST(PrefixListKnob, NetworksBySpacesOrCommas) {
  EXPECT_EQ(stored("routes", ""), "");
  EXPECT_EQ(stored("routes", "10.99.0.0/24"), "10.99.0.0/24");
  EXPECT_EQ(stored("routes", " 10.99.0.0/24,192.168.5.0/24  0.0.0.0/0"),
            "10.99.0.0/24 192.168.5.0/24 0.0.0.0/0");
  EXPECT_EQ(refusal("routes", "10.99.0.0/24 10.1.0.0/33"),
            "/etc/veer.conf:12: routes = 10.99.0.0/24 10.1.0.0/33: '10.1.0.0/33' is not a network "
            "a.b.c.d/n (accepted: empty, or networks a.b.c.d/n separated by spaces or commas)");
}

TEST(EnumKnob, AcceptsOnlyItsWords) {
  for (std::string_view level : {"error", "warn", "info", "debug", "trace"}) {
    EXPECT_EQ(stored("log", level), level);
  }
  EXPECT_EQ(refusal("log", "verbose"),
            "/etc/veer.conf:12: log = verbose: unknown value "
            "(accepted: error|warn|info|debug|trace)");
  EXPECT_NE(refusal("log", "WARN"), "");
  EXPECT_NE(refusal("log", "warn|info"), "");
  EXPECT_NE(refusal("log", ""), "");
}

TEST(PathKnob, AcceptsAnythingIncludingEmpty) {
  EXPECT_EQ(stored("log_file", "/var/log/veer.log"), "/var/log/veer.log");
  EXPECT_EQ(stored("log_file", ""), "");
  EXPECT_EQ(stored("log_file", "/tmp/with space#and;marks"), "/tmp/with space#and;marks");
}

TEST(ValueHelpers, SplitListAndParseInt) {
  EXPECT_EQ(split_list(" 1, 2 ,,3\t"), (std::vector<std::string_view>{"1", "2", "3"}));
  EXPECT_TRUE(split_list("  ").empty());
  EXPECT_EQ(parse_int("-12"), -12);
  EXPECT_EQ(parse_int("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_int("9223372036854775808"), std::nullopt);
  EXPECT_EQ(parse_int("-"), std::nullopt);
  EXPECT_EQ(parse_int(" 1"), std::nullopt);
}

}  // namespace
}  // namespace veer::config
