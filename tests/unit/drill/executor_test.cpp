// Whole scripts against a real stack in virtual time.
#include "tools/drill/executor.h"

#include <gtest/gtest.h>

#include "tools/drill/parser.h"

namespace veer::drill {
namespace {

Outcome run(std::string_view text, std::vector<CliOption> cli = {}) {
  ParseError e;
  auto s = parse_script(text, "t.pkt", &e);
  EXPECT_TRUE(s) << e.line << ": " << e.message;
  if (!s) return Outcome::fail("parse");
  return run_script(*s, cli, nullptr);
}

constexpr std::string_view kPassiveOpen = R"(
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1000>
+0 > S. 0:0(0) ack 1 <mss 1460>
+.1 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4
)";

TEST(DrillExecutor, PassiveOpenDataAndClose) {
  std::string s(kPassiveOpen);
  s += "+0 write(4, ..., 2500) = 2500\n"  // three segments merged into one line
       "+0 > P. 1:2501(2500) ack 1\n"
       "+.1 < . 1:1(0) ack 2501 win 65535\n"
       "+0 close(4) = 0\n"
       "+0 > F. 2501:2501(0) ack 1\n";
  Outcome o = run(s);
  EXPECT_EQ(o.status, Outcome::Status::Pass) << o.reason;
}

TEST(DrillExecutor, StrictSegmentsSeesEachSegment) {
  std::string s(kPassiveOpen);
  // veer sends two segments, the first without PSH: alone it is 1000 bytes.
  s += "+0 write(4, ..., 2000) = 2000\n+0 > . 1:2001(2000) ack 1\n";
  Outcome o = run(s, {{"strict_segments", std::nullopt}});
  EXPECT_EQ(o.status, Outcome::Status::Fail);
  EXPECT_EQ(o.reason, "payload length: expected 2000, actual 1000");
}

TEST(DrillExecutor, AMismatchNamesLineExpectedActualAndTime) {
  std::string s(kPassiveOpen);
  s += "+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 2\n";
  Outcome o = run(s);
  ASSERT_EQ(o.status, Outcome::Status::Fail);
  EXPECT_EQ(o.line, 11);
  EXPECT_EQ(o.line_text, "+0 > P. 1:11(10) ack 2");
  EXPECT_EQ(o.reason, "ack: expected 2, actual 1");
  EXPECT_EQ(o.expected, "P. 1:11(10) ack 2");
  EXPECT_NE(o.actual.find("P. 1:11(10) ack 1"), std::string::npos);
  EXPECT_EQ(o.at_usecs, 100000);
}

TEST(DrillExecutor, WrongReturnValues) {
  std::string s = std::string(kPassiveOpen) +
                  "+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                  "+0 read(4, ..., 100) = 0\n";
  Outcome o = run(s);
  ASSERT_EQ(o.status, Outcome::Status::Fail);
  EXPECT_EQ(o.expected, "= 0");
  EXPECT_EQ(o.actual, "= -1 EAGAIN (Resource temporarily unavailable)");
}

TEST(DrillExecutor, BlockingCallsReturnWhenTheStackMoves) {
  std::string s(kPassiveOpen);
  s += "+0...0.200 read(4, ..., 1000) = 1000\n"
       "+.2 < P. 1:1001(1000) ack 1 win 65535\n"
       "+0 > . 1:1(0) ack 1001\n";
  Outcome o = run(s);
  EXPECT_EQ(o.status, Outcome::Status::Pass) << o.reason;
  // Returning at 0.3 s when the script says 0.4 s is a timing error.
  s = std::string(kPassiveOpen) +
      "+0...0.300 read(4, ..., 1000) = 1000\n"
      "+.2 < P. 1:1001(1000) ack 1 win 65535\n"
      "+0 > . 1:1(0) ack 1001\n";
  o = run(s);
  EXPECT_EQ(o.status, Outcome::Status::Fail);
  EXPECT_NE(o.reason.find("system call return"), std::string::npos) << o.reason;
}

TEST(DrillExecutor, TimersFireAtTheirVirtualDeadlines) {
  // tcp_synack_retries: the SYN-ACK again after 1 s and 3 s, exactly.
  Outcome o = run(R"(--tolerance_percent=0
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1000>
+0 > S. 0:0(0) ack 1 <mss 1460>
1 > S. 0:0(0) ack 1 <mss 1460>
3.005 > S. 0:0(0) ack 1 <mss 1460>
)");
  ASSERT_EQ(o.status, Outcome::Status::Fail);
  EXPECT_NE(o.reason.find("happened at 3.000000"), std::string::npos) << o.reason;
}

TEST(DrillExecutor, ExplicitPortsFollowASecondConnection) {
  // A side flow (50001) fills the accept queue of listen(3, 0) while the
  // socket under test (the runner's 40000) waits: its SYN is dropped, and
  // answered once accept() made room. Each flow has its own sequence
  // numbers: the side flow's ACK acknowledges its own SYN-ACK.
  Outcome o = run(R"(--tolerance_percent=0
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 0) = 0
+0 < 50001>8080 S 0:0(0) win 65535 <mss 1460>
+0 > 8080>50001 S. 0:0(0) ack 1 <mss 1460>
+0 < 50001>8080 . 1:1(0) ack 1 win 65535
+0 < S 0:0(0) win 65535 <mss 1460>
+1 accept(3, ..., ...) = 4
+0 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <mss 1460>
+0 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 5
+0 close(4) = 0
+0 > 8080>50001 F. 1:1(0) ack 1
)");
  EXPECT_EQ(o.status, Outcome::Status::Pass) << o.reason;
  // A packet with ports of no connection, other than a SYN, is an error.
  o =
      run("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
          "+0 < 50001>8080 . 1:1(0) ack 1 win 65535\n");
  EXPECT_EQ(o.status, Outcome::Status::Fail);
  EXPECT_NE(o.reason.find("no connection has the ports 50001>8080"), std::string::npos) << o.reason;
}

TEST(DrillExecutor, UnsupportedThingsAreReportedNotSkipped) {
  std::string s(kPassiveOpen);
  Outcome o = run(s + "+0 setsockopt(4, SOL_TCP, TCP_WINDOW_CLAMP, [1000], 4) = 0\n");
  EXPECT_EQ(o.status, Outcome::Status::Unsupported);
  EXPECT_EQ(o.reason, "setsockopt(TCP_WINDOW_CLAMP) is not supported by veer yet");
  o = run(s + "+0 %{ print(tcpi_snd_cwnd) }%\n");
  EXPECT_EQ(o.status, Outcome::Status::Unsupported);
  o = run("`ip link show`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n");
  EXPECT_EQ(o.status, Outcome::Status::Unsupported);
  o = run("0 epoll_create(1) = 5\n");
  EXPECT_EQ(o.reason, "system call epoll_create()");
}

TEST(DrillExecutor, CodeBlocksAssertOnTheSocketUnderTestsTcpInfo) {
  std::string s(kPassiveOpen);
  s += "+0 write(4, ..., 20000) = 20000\n"
       "+0 > P. 1:10001(10000) ack 1\n";
  Outcome o = run(s + "+0 %{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%\n");
  EXPECT_EQ(o.status, Outcome::Status::Pass) << o.reason;
  o = run(s + "+0 %{ assert tcpi_snd_cwnd == 20, tcpi_snd_cwnd }%\n");
  EXPECT_EQ(o.status, Outcome::Status::Fail);
  EXPECT_NE(o.reason.find("tcpi_snd_cwnd = 10"), std::string::npos) << o.reason;
}

TEST(DrillExecutor, SysctlsBecomeKnobs) {
  // tcp_syn_retries=1, linear 0: SYNs at 0 and 1 s, ETIMEDOUT at 3 s.
  Outcome o = run(R"(--tolerance_percent=0
`sysctl -q net.ipv4.tcp_syn_retries=1
sysctl -q net.ipv4.tcp_syn_linear_timeouts=0`
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0...3 connect(3, ..., ...) = -1 ETIMEDOUT (Connection timed out)
0 > S 0:0(0) <...>
1 > S 0:0(0) <...>
)");
  EXPECT_EQ(o.status, Outcome::Status::Pass) << o.reason;
  o = run("`sysctl -q net.ipv4.tcp_syn_retries=1`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
          {{"sysctl", "net.ipv4.tcp_reordering=9"}});
  EXPECT_EQ(o.status, Outcome::Status::Unsupported);
}

}  // namespace
}  // namespace veer::drill
