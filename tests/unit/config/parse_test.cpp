// Sources as text: sysctl.conf-style files, VEER_SYSCTL lists, VEER_*
// variables.
#include "core/config/parse.h"

#include <gtest/gtest.h>

namespace veer::config {
namespace {

using Env = std::vector<std::pair<std::string, std::string>>;

std::string message(const std::optional<ConfigError>& error) {
  return error ? error->message : "";
}

TEST(FileText, SysctlConfSyntax) {
  Config config;
  auto error = apply_file_text(config,
                               "# veer for the lab\n"
                               "; also a comment\n"
                               "\n"
                               "net.ipv4.tcp_syn_retries = 2\n"
                               "net.ipv4.tcp_fin_timeout=5\r\n"
                               "   net.ipv4.ip_local_port_range\t=  40000   40100  \n"
                               "log_file =\n"
                               "device = tap:lab0",  // no final newline
                               "/etc/veer.conf");
  ASSERT_EQ(message(error), "");
  EXPECT_EQ(config.get_int("net.ipv4.tcp_syn_retries"), 2);
  EXPECT_EQ(config.get_int("net.ipv4.tcp_fin_timeout"), 5);
  EXPECT_EQ(config.get_port_range("net.ipv4.ip_local_port_range"), std::make_pair(40000, 40100));
  EXPECT_EQ(config.get_text("log_file"), "");
  EXPECT_EQ(config.device_name(), "lab0");
  EXPECT_EQ(config.origin("net.ipv4.ip_local_port_range").describe(), "file /etc/veer.conf:6");
  EXPECT_EQ(config.origin("device").describe(), "file /etc/veer.conf:8");
}

TEST(FileText, LaterLineWins) {
  Config config;
  ASSERT_EQ(message(apply_file_text(config, "log = info\nlog = debug\n", "a.conf")), "");
  EXPECT_EQ(config.get_text("log"), "debug");
  EXPECT_EQ(config.origin("log").line, 2);
}

TEST(FileText, ErrorsNameFileAndLine) {
  Config config;
  EXPECT_EQ(message(apply_file_text(config, "\n\nnet.ipv4.tcp_syn_retries 3\n", "/etc/veer.conf")),
            "/etc/veer.conf:3: expected 'key = value', got 'net.ipv4.tcp_syn_retries 3'");
  EXPECT_EQ(message(apply_file_text(config, "# x\n = 3\n", "/etc/veer.conf")),
            "/etc/veer.conf:2: missing key before '='");
  EXPECT_EQ(message(apply_file_text(config, "log = info\ntcp_syn_retries = 3\n", "my.conf")),
            "my.conf:2: unknown key 'tcp_syn_retries' "
            "(did you mean 'net.ipv4.tcp_syn_retries'?)");
  EXPECT_EQ(message(apply_file_text(config, "net.ipv4.tcp_syn_retries = 300\n", "/etc/veer.conf")),
            "/etc/veer.conf:1: net.ipv4.tcp_syn_retries = 300: out of range (accepted: 1..127)");
}

TEST(FileText, NoTrailingComments) {
  // As in sysctl.conf, everything after '=' is the value.
  Config config;
  EXPECT_EQ(message(apply_file_text(config, "net.ipv4.tcp_syn_retries = 3 # three\n", "f")),
            "f:1: net.ipv4.tcp_syn_retries = 3 # three: not an integer (accepted: 1..127)");
}

TEST(Assignments, ListWithQuotesAndCommas) {
  Config config;
  Origin origin = Origin::from_env("VEER_SYSCTL");
  auto error = apply_assignments(config,
                                 "  net.ipv4.tcp_syn_retries=1 net.ipv4.tcp_fin_timeout=5\n"
                                 "net.ipv4.tcp_rmem='4096 65536 131072' "
                                 "net.ipv4.tcp_wmem=\"4096 8192 16384\" "
                                 "net.ipv4.ip_local_port_range=40000,40100 log_file= ",
                                 origin);
  ASSERT_EQ(message(error), "");
  EXPECT_EQ(config.get_int("net.ipv4.tcp_syn_retries"), 1);
  EXPECT_EQ(config.get_int("net.ipv4.tcp_fin_timeout"), 5);
  EXPECT_EQ(config.get_triple("net.ipv4.tcp_rmem"), (std::array<int, 3>{4096, 65536, 131072}));
  EXPECT_EQ(config.get_triple("net.ipv4.tcp_wmem"), (std::array<int, 3>{4096, 8192, 16384}));
  EXPECT_EQ(config.get_port_range("net.ipv4.ip_local_port_range"), std::make_pair(40000, 40100));
  EXPECT_EQ(config.origin("net.ipv4.tcp_rmem").describe(), "env VEER_SYSCTL");
}

TEST(Assignments, Errors) {
  Config config;
  Origin origin = Origin::from_env("VEER_SYSCTL");
  EXPECT_EQ(message(apply_assignments(config, "net.ipv4.tcp_syn_retries=300", origin)),
            "environment VEER_SYSCTL: net.ipv4.tcp_syn_retries=300: out of range "
            "(accepted: 1..127)");
  EXPECT_EQ(message(apply_assignments(config, "log=info net.ipv4.tcp_syn_retries", origin)),
            "environment VEER_SYSCTL: expected key=value, got 'net.ipv4.tcp_syn_retries'");
  EXPECT_EQ(message(apply_assignments(config, "=3", origin)),
            "environment VEER_SYSCTL: missing key before '='");
  EXPECT_EQ(message(apply_assignments(config, "net.ipv4.tcp_rmem='1 2 3", origin)),
            "environment VEER_SYSCTL: unterminated quote in the value of net.ipv4.tcp_rmem");
  EXPECT_EQ(message(apply_assignments(config, "net.ipv4.tcp_rmem='1 2 3'x", origin)),
            "environment VEER_SYSCTL: text after the closing quote in the value of "
            "net.ipv4.tcp_rmem");
  // Unquoted spaces split the value: "131072" is then a malformed entry.
  EXPECT_EQ(message(apply_assignments(config, "net.ipv4.tcp_rmem=4096 131072 6291456", origin)),
            "environment VEER_SYSCTL: net.ipv4.tcp_rmem=4096: expected 3 integers, got 1 "
            "(accepted: three integers min default max, each 1..2147483647, non-decreasing)");
  EXPECT_EQ(message(apply_assignments(config, "syn_retries=3", origin)),
            "environment VEER_SYSCTL: unknown key 'syn_retries' "
            "(did you mean 'net.ipv4.tcp_syn_retries'?)");
}

TEST(Environment, KnobVariables) {
  Config config;
  Env env = {{"HOME", "/root"},
             {"VEER_TCP_SYN_RETRIES", "1"},
             {"VEER_SOMAXCONN", "128"},
             {"VEER_IP_LOCAL_PORT_RANGE", "50000 50010"},
             {"VEER_DEVICE", "tap:veer7"},
             {"VEER_LOG", "debug"},
             {"VEER_CONFIG", "/nonexistent/is/not/read/here"},
             {"VEER_ACTIVE", "1"}};
  ASSERT_EQ(message(apply_environment(config, env)), "");
  EXPECT_EQ(config.get_int("net.ipv4.tcp_syn_retries"), 1);
  EXPECT_EQ(config.get_int("net.core.somaxconn"), 128);
  EXPECT_EQ(config.get_port_range("net.ipv4.ip_local_port_range"), std::make_pair(50000, 50010));
  EXPECT_EQ(config.device_name(), "veer7");
  EXPECT_EQ(config.get_text("log"), "debug");
  EXPECT_EQ(config.origin("net.core.somaxconn").describe(), "env VEER_SOMAXCONN");
}

TEST(Environment, KnobVariableWinsOverSysctlList) {
  Config config;
  Env env = {{"VEER_TCP_SYN_RETRIES", "2"},
             {"VEER_SYSCTL", "net.ipv4.tcp_syn_retries=3 net.ipv4.tcp_fin_timeout=7"}};
  ASSERT_EQ(message(apply_environment(config, env)), "");
  EXPECT_EQ(config.get_int("net.ipv4.tcp_syn_retries"), 2);
  EXPECT_EQ(config.get_int("net.ipv4.tcp_fin_timeout"), 7);
  EXPECT_EQ(config.origin("net.ipv4.tcp_fin_timeout").describe(), "env VEER_SYSCTL");
}

TEST(Environment, ErrorsNameTheVariable) {
  Config config;
  EXPECT_EQ(message(apply_environment(config, {{"VEER_TCP_SYN_RETRIES", "300"}})),
            "environment VEER_TCP_SYN_RETRIES=300: net.ipv4.tcp_syn_retries: out of range "
            "(accepted: 1..127)");
  EXPECT_EQ(message(apply_environment(config, {{"VEER_SYSCTL", "net.ipv4.tcp_syn_retries=300"}})),
            "environment VEER_SYSCTL: net.ipv4.tcp_syn_retries=300: out of range "
            "(accepted: 1..127)");
  EXPECT_EQ(message(apply_environment(config, {{"VEER_DEVICE", "xdp:eth0:q"}})),
            "environment VEER_DEVICE=xdp:eth0:q: device: bad queue 'q' (0..63) "
            "(accepted: tap:NAME or xdp:NAME[:QUEUE], NAME 1..15 characters of A-Z a-z 0-9 _ . "
            "-, QUEUE 0..63)");
}

TEST(Environment, UnknownVeerVariableIsRefusedWhereverItIs) {
  Config config;
  Env env = {{"VEER_TCP_SYN_RETRIES", "2"}, {"VEER_SYN_RETRIES", "3"}};
  EXPECT_EQ(message(apply_environment(config, env)),
            "environment: unknown variable VEER_SYN_RETRIES (did you mean VEER_TCP_SYN_RETRIES?)");
  // Refused before anything was applied.
  EXPECT_EQ(config.get_int("net.ipv4.tcp_syn_retries"), 6);
  EXPECT_EQ(message(apply_environment(config, {{"VEER_FOO", "1"}})),
            "environment: unknown variable VEER_FOO");
  // Without the prefix, not ours.
  EXPECT_EQ(message(apply_environment(config, {{"TCP_SYN_RETRIES", "300"}, {"VEERX", "1"}})), "");
}

}  // namespace
}  // namespace veer::config
