#include "preload/control_protocol.h"

#include <gtest/gtest.h>

#include "tools/control_client.h"

namespace veer::preload {
namespace {

TEST(ControlProtocol, SocketPathIsNextToTheView) {
  EXPECT_EQ(control_socket_path(1234), "/dev/shm/veer.1234.ctl");
}

TEST(ControlProtocol, RequestsRoundTrip) {
  ControlRequest set{ControlRequest::Verb::Set,
                     {{"net.ipv4.tcp_syn_retries", "1"}, {"net.ipv4.tcp_rmem", "4096 8192 16384"}}};
  std::string text = encode_request(set);
  EXPECT_EQ(text,
            "veer-control 1\nset\nnet.ipv4.tcp_syn_retries=1\n"
            "net.ipv4.tcp_rmem=4096 8192 16384\n");
  std::string error;
  auto back = decode_request(text, &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->verb, ControlRequest::Verb::Set);
  EXPECT_EQ(back->assignments, set.assignments);

  auto show = decode_request(encode_request({}), &error);
  ASSERT_TRUE(show) << error;
  EXPECT_EQ(show->verb, ControlRequest::Verb::Show);
}

TEST(ControlProtocol, GarbageIsRefusedWithAReason) {
  auto refused = [](std::string_view text) {
    std::string error;
    EXPECT_FALSE(decode_request(text, &error)) << text;
    return error;
  };
  EXPECT_EQ(refused(""), "not a veer control message (starts with '')");
  EXPECT_EQ(refused("GET / HTTP/1.0\n"),
            "not a veer control message (starts with 'GET / HTTP/1.0')");
  EXPECT_EQ(refused("veer-control 2\nshow\n"),
            "the peer speaks veer-control 2, this veer speaks veer-control 1 (mixed veer "
            "versions?)");
  EXPECT_EQ(refused(std::string("veer-control 1\nshow\n\0", 21)), "the message holds a NUL byte");
  EXPECT_EQ(refused("veer-control 1\nreboot\n"), "unknown request 'reboot' (show, set)");
  EXPECT_EQ(refused("veer-control 1\nshow\nmore\n"), "show takes nothing after it");
  EXPECT_EQ(refused("veer-control 1\nset\n"), "set names no KEY=VALUE");
  EXPECT_EQ(refused("veer-control 1\nset\nnoequals\n"), "'noequals' is not KEY=VALUE");
  EXPECT_EQ(refused("veer-control 1\nset\n=1\n"), "'=1' is not KEY=VALUE");
  EXPECT_EQ(refused("\xff\xfe\x01\x02"),
            "not a veer control message (starts with '" + std::string(4, '?') + "')");
}

TEST(ControlProtocol, Replies) {
  std::string error;
  auto ok = decode_reply(encode_reply({true, "a = 1  # runtime\n"}), &error);
  ASSERT_TRUE(ok) << error;
  EXPECT_TRUE(ok->ok);
  EXPECT_EQ(ok->body, "a = 1  # runtime\n");
  auto bad = decode_reply(encode_reply({false, "no"}), &error);
  ASSERT_TRUE(bad);
  EXPECT_FALSE(bad->ok);
  EXPECT_EQ(bad->body, "no");
  EXPECT_FALSE(decode_reply("veer-control 1\nmaybe\n", &error));
  EXPECT_EQ(error, "unknown reply status 'maybe'");
}

TEST(ControlProtocol, AssignmentsFromTheCommandLine) {
  std::string error;
  auto a = split_assignment("net.ipv4.tcp_rmem=1 2 3", &error);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->first, "net.ipv4.tcp_rmem");
  EXPECT_EQ(a->second, "1 2 3");
  auto empty = split_assignment("capture=", &error);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->second, "");
  EXPECT_FALSE(split_assignment("capture=a\nset\nmtu=1", &error));
  EXPECT_EQ(error, "'capture=a?set?mtu=1' holds a newline or NUL");
}

TEST(ControlApply, ValidChangesApplyWithTheirOrigin) {
  config::Config c;
  auto err = apply_at_run_time(c, {{"net.ipv4.tcp_syn_retries", "1"}, {"capture", "/tmp/x.pcap"}});
  ASSERT_FALSE(err) << err->message;
  EXPECT_EQ(c.get_int("net.ipv4.tcp_syn_retries"), 1);
  EXPECT_EQ(c.origin("net.ipv4.tcp_syn_retries").describe(), "runtime");
  EXPECT_EQ(c.get_text("capture"), "/tmp/x.pcap");
  EXPECT_EQ(c.stack_config().tcp.syn_retries, 1);
  EXPECT_EQ(describe_knobs(c, {"net.ipv4.tcp_syn_retries", "capture_snaplen"}),
            "net.ipv4.tcp_syn_retries = 1  # runtime\ncapture_snaplen = 262144  # default\n");
}

TEST(ControlApply, OneBadValueChangesNothing) {
  config::Config c;
  auto err = apply_at_run_time(
      c, {{"net.ipv4.tcp_syn_linear_timeouts", "0"}, {"net.ipv4.tcp_syn_retries", "300"}});
  ASSERT_TRUE(err);
  EXPECT_EQ(err->message, "net.ipv4.tcp_syn_retries=300: out of range (accepted: 1..127)");
  EXPECT_EQ(c.get_int("net.ipv4.tcp_syn_linear_timeouts"), 4);
  EXPECT_EQ(c.get_int("net.ipv4.tcp_syn_retries"), 6);
}

TEST(ControlApply, KnobsFixedAtStartAreRefused) {
  for (const char* key : {"address", "device", "mtu", "mac", "gateway", "routes", "log_file"}) {
    config::Config c;
    auto err = apply_at_run_time(c, {{key, c.get_text(key)}});
    ASSERT_TRUE(err) << key;
    EXPECT_EQ(err->message, std::string(key) +
                                " cannot change in a running process: it is fixed when the stack "
                                "starts (set it with `veer run -s " +
                                key + "=...` or in a config file)");
  }
  for (const config::Knob& k : config::knobs()) {
    if (k.sysctl) {
      EXPECT_TRUE(config::settable_at_run_time(k)) << k.name;
    }
  }
}

TEST(ControlApply, UnknownKeysGetASuggestion) {
  config::Config c;
  auto err = apply_at_run_time(c, {{"net.ipv4.tcp_syn_retrys", "1"}});
  ASSERT_TRUE(err);
  EXPECT_NE(err->message.find("unknown key 'net.ipv4.tcp_syn_retrys' (did you mean "
                              "'net.ipv4.tcp_syn_retries'?)"),
            std::string::npos);
}

TEST(ControlClient, Pids) {
  EXPECT_EQ(tools::parse_pid("42"), 42);
  EXPECT_FALSE(tools::parse_pid("0"));
  EXPECT_FALSE(tools::parse_pid("-1"));
  EXPECT_FALSE(tools::parse_pid("12a"));
  EXPECT_FALSE(tools::parse_pid(""));
  EXPECT_FALSE(tools::parse_pid("12345678901"));
}

TEST(ControlClient, NoSuchProcess) {
  std::string error;
  // pid_max is at most 2^22: this pid cannot exist.
  EXPECT_FALSE(tools::control_exchange(99999999, {}, &error));
  EXPECT_EQ(error, "no process 99999999");
}

}  // namespace
}  // namespace veer::preload
