#include "tools/netstat_format.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/view_reader.h"

namespace veer::tools {
namespace {

size_t index_of(std::string_view name) {
  for (size_t i = 0; i < core::kCounterCount; ++i)
    if (core::kCounterInfo[i].name == name) return i;
  ADD_FAILURE() << "no counter " << name;
  return 0;
}

NetstatProcess process(std::string program, int pid, uint64_t active_opens) {
  NetstatProcess p{std::move(program), pid, {}};
  p.counters[index_of("tcp_active_opens")] = active_opens;
  p.counters[index_of("tcp_rx_segments")] = 10 * active_opens;
  return p;
}

TEST(NetstatCounters, ValuesFollowTheTableOrder) {
  core::Counters c;
  c.tcp_active_opens = 3;
  c.ip_rx_packets = 7;
  auto values = core::counter_values(c);
  EXPECT_EQ(values[index_of("tcp_active_opens")], 3u);
  EXPECT_EQ(values[index_of("ip_rx_packets")], 7u);
}

TEST(NetstatFormat, GroupsAndLinesAsNetstatPrintsThem) {
  std::string text = netstat_counters_text(process("x", 1, 2).counters);
  // Ip: first, TcpExt after Tcp, each line indented by four spaces.
  size_t ip = text.find("Ip:\n"), tcp = text.find("\nTcp:\n"), ext = text.find("\nTcpExt:\n");
  ASSERT_NE(ip, std::string::npos);
  ASSERT_NE(tcp, std::string::npos);
  ASSERT_NE(ext, std::string::npos);
  EXPECT_EQ(ip, 0u);
  EXPECT_LT(tcp, ext);
  size_t line = text.find("    2 active connection openings\n");
  ASSERT_NE(line, std::string::npos);
  EXPECT_GT(line, tcp);
  EXPECT_LT(line, ext);
  EXPECT_NE(text.find("    20 TCP segments received\n"), std::string::npos);
  EXPECT_NE(text.find("\nTcpExt:\n    0 "), std::string::npos);
  // Every counter appears once.
  for (const core::CounterInfo& c : core::kCounterInfo)
    EXPECT_NE(text.find(" " + std::string(c.text) + "\n"), std::string::npos) << c.name;
}

TEST(NetstatFormat, OneProcessHasNoTotalBlock) {
  std::vector<NetstatProcess> ps = {process("redis-server", 42, 1)};
  std::string text = netstat_report_text(ps);
  EXPECT_EQ(text.rfind("veer process redis-server, pid 42:\nIp:\n", 0), 0u);
  EXPECT_EQ(text.find("All "), std::string::npos);
}

TEST(NetstatFormat, SeveralProcessesAreSummed) {
  std::vector<NetstatProcess> ps = {process("a", 1, 2), process("b", 2, 5)};
  EXPECT_EQ(sum_counters(ps)[index_of("tcp_active_opens")], 7u);
  std::string text = netstat_report_text(ps);
  size_t all = text.find("\nAll 2 veer processes:\n");
  ASSERT_NE(all, std::string::npos);
  EXPECT_NE(text.find("    7 active connection openings\n", all), std::string::npos);
  EXPECT_NE(text.find("veer process b, pid 2:\n"), std::string::npos);
}

TEST(NetstatFormat, NoProcessSaysSo) {
  EXPECT_EQ(netstat_report_text({}), "no process is running veer (that this user may see)\n");
}

TEST(NetstatFormat, Json) {
  std::vector<NetstatProcess> ps = {process("a\"b", 1, 2), process("c", 2, 5)};
  std::string j = netstat_report_json(ps);
  EXPECT_NE(j.find("{\"pid\":1,\"program\":\"a\\\"b\",\"counters\":{\"Ip\":{\"ip_rx_packets\":0,"),
            std::string::npos);
  EXPECT_NE(j.find("\"tcp_active_opens\":5,"), std::string::npos);
  EXPECT_NE(j.find("\"total\":{\"Ip\":{"), std::string::npos);
  EXPECT_NE(j.find("\"tcp_active_opens\":7,"), std::string::npos);
  EXPECT_EQ(netstat_report_json({}).rfind("{\"processes\":[],\n\"total\":{", 0), 0u);
}

TEST(ViewNames, OnlyVeerDotPidIsAView) {
  EXPECT_EQ(view_pid("veer.123"), 123);
  EXPECT_EQ(view_pid("veer.123.ctl"), -1);
  EXPECT_EQ(view_pid("veer."), -1);
  EXPECT_EQ(view_pid("veer.0"), -1);
  EXPECT_EQ(view_pid("veer.01"), -1);
  EXPECT_EQ(view_pid("veer.12x"), -1);
  EXPECT_EQ(view_pid("veer.1234567890"), -1);
  EXPECT_EQ(view_pid("other.123"), -1);
}

TEST(ViewOwners, AZombieHoldsNoView) {
  EXPECT_TRUE(process_alive(getpid()));
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  // Not reaped yet: kill(0) still succeeds, but the process is gone.
  for (int i = 0; i < 200 && process_alive(child); ++i) usleep(10000);
  EXPECT_FALSE(process_alive(child));
  waitpid(child, nullptr, 0);
  EXPECT_FALSE(process_alive(child));
}

}  // namespace
}  // namespace veer::tools
