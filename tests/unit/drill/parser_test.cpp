// The packetdrill grammar on representative lines.
#include "tools/drill/parser.h"

#include <gtest/gtest.h>

#include "core/wire/tcp.h"

namespace veer::drill {
namespace {

using namespace wire::tcpflag;
using K = TcpOptionSpec::Kind;
using T = EventTime::Type;

Script parse_ok(std::string_view s) {
  ParseError e;
  auto script = parse_script(s, "test.pkt", &e);
  EXPECT_TRUE(script) << "line " << e.line << ": " << e.message;
  return script ? *script : Script{};
}

ParseError parse_error(std::string_view s) {
  ParseError e;
  EXPECT_FALSE(parse_script(s, "test.pkt", &e));
  return e;
}

TEST(DrillParser, OptionsInitCommandEventsCleanup) {
  Script s = parse_ok(
      "--tolerance_usecs=10000\n--strict_segments\n`./defaults.sh`\n"
      "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n`/tmp/sysctl_restore_${PPID}.sh`\n");
  ASSERT_EQ(s.options.size(), 2u);
  EXPECT_EQ(s.options[0].name, "tolerance_usecs");
  EXPECT_EQ(s.options[0].value, "10000");
  EXPECT_FALSE(s.options[1].value);
  ASSERT_TRUE(s.init_command);
  EXPECT_EQ(s.init_command->command, "./defaults.sh");
  EXPECT_EQ(s.events.size(), 1u);
  ASSERT_TRUE(s.cleanup_command);
  EXPECT_EQ(s.cleanup_line, 5);
}

TEST(DrillParser, EveryKindOfTime) {
  Script s = parse_ok(
      "0 > S 0:0(0) <...>\n"
      "+.1 > S 0:0(0) <...>\n"
      "1.5~2 > S 0:0(0) <...>\n"
      "+.3~+.310 > S 0:0(0) <...>\n"
      "* > S 0:0(0) <...>\n"
      "+0...0.200 accept(3, ..., ...) = 4\n"
      "0.100...0.200 connect(3, ..., ...) = 0\n");
  ASSERT_EQ(s.events.size(), 7u);
  EXPECT_EQ(s.events[0].time.type, T::Absolute);
  EXPECT_EQ(s.events[1].time.type, T::Relative);
  EXPECT_EQ(s.events[1].time.usecs, 100000);
  EXPECT_EQ(s.events[2].time.type, T::AbsoluteRange);
  EXPECT_EQ(s.events[2].time.usecs, 1500000);
  EXPECT_EQ(s.events[2].time.end_usecs, 2000000);
  EXPECT_EQ(s.events[3].time.type, T::RelativeRange);
  EXPECT_EQ(s.events[3].time.end_usecs, 310000);
  EXPECT_EQ(s.events[4].time.type, T::Any);
  auto& accept = std::get<SyscallSpec>(s.events[5].action);
  EXPECT_EQ(s.events[5].time.type, T::Relative);
  EXPECT_EQ(accept.end_usecs, 200000);
  auto& connect = std::get<SyscallSpec>(s.events[6].action);
  EXPECT_EQ(s.events[6].time.usecs, 100000);
  EXPECT_EQ(connect.end_usecs, 200000);
}

TEST(DrillParser, RangesOnlyForOutboundPackets) {
  EXPECT_NE(parse_error("0~1 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n").line, 0);
  EXPECT_NE(parse_error("* < S 0:0(0) win 1000\n").line, 0);
}

TEST(DrillParser, PacketWithEveryOption) {
  Script s = parse_ok(
      "0 > S. 0:0(0) ack 1 win 65535 urg 3 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7,"
      "eol,sack 1001:2001 3001:4001>\n");
  const auto& p = std::get<PacketSpec>(s.events[0].action);
  EXPECT_FALSE(p.inbound);
  EXPECT_EQ(p.flags, kSyn | kAck);
  EXPECT_EQ(p.ack, 1u);
  EXPECT_EQ(p.window, 65535);
  EXPECT_EQ(p.urg, 3);
  ASSERT_TRUE(p.options);
  const auto& o = *p.options;
  ASSERT_EQ(o.size(), 7u);
  EXPECT_EQ(o[0].kind, K::Mss);
  EXPECT_EQ(o[0].value, 1460u);
  EXPECT_EQ(o[1].kind, K::SackPermitted);
  EXPECT_EQ(o[2].kind, K::Timestamp);
  EXPECT_EQ(o[2].value, 100u);
  EXPECT_EQ(o[2].ecr, 0u);
  EXPECT_EQ(o[3].kind, K::Nop);
  EXPECT_EQ(o[4].kind, K::WindowScale);
  EXPECT_EQ(o[4].value, 7u);
  EXPECT_EQ(o[5].kind, K::Eol);
  EXPECT_EQ(o[6].kind, K::Sack);
  ASSERT_EQ(o[6].blocks.size(), 2u);
  EXPECT_EQ(o[6].blocks[1], std::make_pair(3001u, 4001u));
}

TEST(DrillParser, FlagsAndPayload) {
  Script s = parse_ok(
      "0 < P. 1:1001(1000) ack 1 win 257\n"
      "+0 < - 0:0(0) win 32792\n"
      "+0 > F. 1001:1001(0) ack 1\n"
      "+0 > R 0:0(0) win 0\n"
      "+0 < FPU. 5:5(0) ack 1 win 1\n");
  const auto& data = std::get<PacketSpec>(s.events[0].action);
  EXPECT_TRUE(data.inbound);
  EXPECT_EQ(data.flags, kPsh | kAck);
  EXPECT_EQ(data.payload, 1000);
  EXPECT_TRUE(data.options && data.options->empty());  // none at all, not <...>
  EXPECT_EQ(std::get<PacketSpec>(s.events[1].action).flags, 0);
  const auto& fin = std::get<PacketSpec>(s.events[2].action);
  EXPECT_EQ(fin.flags, kFin | kAck);
  EXPECT_FALSE(fin.window);  // not checked
  EXPECT_EQ(std::get<PacketSpec>(s.events[3].action).window, 0);
  EXPECT_EQ(std::get<PacketSpec>(s.events[4].action).flags, kFin | kPsh | kUrg | kAck);
}

TEST(DrillParser, ExplicitPorts) {
  Script s = parse_ok(
      "0 < 50001>8080 S 0:0(0) win 65535 <mss 1460>\n"
      "+0 > 8080>50001 S. 0:0(0) ack 1 <...>\n"
      "+0 < . 1:1(0) ack 1 win 257\n");
  const auto& syn = std::get<PacketSpec>(s.events[0].action);
  ASSERT_TRUE(syn.ports);
  EXPECT_EQ(syn.ports->src, 50001);
  EXPECT_EQ(syn.ports->dst, 8080);
  EXPECT_EQ(syn.flags, kSyn);
  const auto& synack = std::get<PacketSpec>(s.events[1].action);
  EXPECT_EQ(synack.ports, (PacketSpec::Ports{8080, 50001}));
  EXPECT_FALSE(std::get<PacketSpec>(s.events[2].action).ports);
  EXPECT_EQ(parse_error("0 < 70000>8080 S 0:0(0) win 1\n").message, "source port out of range");
}

TEST(DrillParser, PacketErrors) {
  EXPECT_EQ(parse_error("0 < S 0:0(0)\n").message, "window must be specified for inbound packets");
  EXPECT_NE(parse_error("0 < S 0:0(0) win 1 <...>\n").line, 0);
  EXPECT_EQ(parse_error("0 < P. 1:10(5) ack 1 win 1\n").message,
            "inconsistent TCP sequence numbers and payload size");
  EXPECT_EQ(parse_error("\n0 > X 0:0(0)\n").line, 2);
}

TEST(DrillParser, UnsupportedPacketKindsBecomeEvents) {
  Script s = parse_ok("0 < udp (100)\n+0 < [ect0] S 0:0(0) win 1\n+0 > S 0:0(0) <...>\n");
  ASSERT_EQ(s.events.size(), 3u);
  EXPECT_EQ(std::get<UnsupportedSpec>(s.events[0].action).what, "udp packets");
  EXPECT_TRUE(std::holds_alternative<UnsupportedSpec>(s.events[1].action));
  EXPECT_TRUE(std::holds_alternative<PacketSpec>(s.events[2].action));
}

TEST(DrillParser, SyscallResultsErrnoAndNotes) {
  Script s = parse_ok(
      "0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n"
      "+0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)\n"
      "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n");
  const auto& c = std::get<SyscallSpec>(s.events[0].action);
  EXPECT_EQ(c.name, "connect");
  EXPECT_EQ(c.result.num, -1);
  EXPECT_EQ(c.errno_name, "EINPROGRESS");
  EXPECT_EQ(c.note, "Operation now in progress");
  const auto& g = std::get<SyscallSpec>(s.events[1].action);
  EXPECT_EQ(g.result.num, 2);
  EXPECT_EQ(g.errno_name, "");
  EXPECT_EQ(g.note, "flags O_RDWR");
  const auto& f = std::get<SyscallSpec>(s.events[2].action);
  ASSERT_EQ(f.args.size(), 3u);
  EXPECT_EQ(f.args[2].kind, Expr::Kind::Or);
  EXPECT_EQ(f.args[2].items[1].text, "O_NONBLOCK");
}

TEST(DrillParser, StructsAndArrays) {
  Script s = parse_ok(
      "0 setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n"
      "+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n"
      "+0...0.040 poll([{fd=4,\n events=POLLOUT,\n revents=POLLOUT}], 1, 1000) = 1\n"
      "+0 bind(3, {sa_family=AF_INET, sin_port=htons(8080), "
      "sin_addr=inet_addr(\"192.168.0.1\")}, 16) = 0\n"
      "+0 sendmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 50}], msg_flags=0}, 0) = 50\n");
  ASSERT_EQ(s.events.size(), 5u);
  const auto& linger = std::get<SyscallSpec>(s.events[0].action).args[3];
  EXPECT_EQ(linger.kind, Expr::Kind::Struct);
  EXPECT_EQ(linger.field("onoff")->num, 1);
  const auto& err = std::get<SyscallSpec>(s.events[1].action);
  EXPECT_EQ(err.args[3].kind, Expr::Kind::List);
  EXPECT_EQ(err.args[4].items[0].num, 4);
  EXPECT_EQ(s.events[2].line, 3);
  EXPECT_EQ(s.events[2].last_line, 5);
  const auto& poll = std::get<SyscallSpec>(s.events[2].action);
  EXPECT_EQ(poll.args[0].items[0].field("revents")->text, "POLLOUT");
  const auto& bind = std::get<SyscallSpec>(s.events[3].action).args[1];
  EXPECT_EQ(bind.field("sin_port")->text, "htons");
  EXPECT_EQ(bind.field("sin_addr")->items[0].text, "192.168.0.1");
  const auto& msg = std::get<SyscallSpec>(s.events[4].action).args[1];
  ASSERT_TRUE(msg.field("msg_iov"));
  EXPECT_EQ(msg.field("msg_iov")->items[0].items[1].num, 50);
}

TEST(DrillParser, CodeAndCommandEvents) {
  Script s = parse_ok(
      "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
      "+0 %{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%\n"
      "+0 `sysctl -q net.ipv4.tcp_fin_timeout=5`\n");
  EXPECT_EQ(std::get<CodeSpec>(s.events[1].action).code,
            "assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd");
  EXPECT_EQ(std::get<CommandSpec>(s.events[2].action).command,
            "sysctl -q net.ipv4.tcp_fin_timeout=5");
}

TEST(DrillParser, LineText) {
  Script s = parse_ok("// x\n   +0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3   \n");
  EXPECT_EQ(s.line_text(2), "+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3");
  EXPECT_EQ(s.line_text(99), "");
}

}  // namespace
}  // namespace veer::drill
