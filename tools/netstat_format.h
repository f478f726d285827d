// `veer netstat -s` without the I/O: the stack's counters (core/counters.h)
// grouped and worded as the kernel's `netstat -s`, per process and summed,
// as text or JSON, so the unit tests can check them.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/counters.h"

namespace veer::tools {

using CounterValues = std::array<uint64_t, core::kCounterCount>;

struct NetstatProcess {
  std::string program;
  int pid = 0;
  CounterValues counters{};
};

// The groups in the order they are printed: netstat's (Ip, Icmp, Tcp,
// TcpExt), then veer's own below IP (Arp, Link).
std::span<const std::string_view> netstat_groups();

CounterValues sum_counters(std::span<const NetstatProcess> processes);

// One block of groups, as `netstat -s` prints them:
//   Tcp:
//       3 active connection openings
std::string netstat_counters_text(const CounterValues& counters);
// {"Ip":{"ip_rx_packets":12,...},"Tcp":{...},...}
std::string netstat_counters_json(const CounterValues& counters);

// Every process's block under a title line, then, when there is more than
// one, the sum under "All N veer processes:". No process: a line saying so.
std::string netstat_report_text(std::span<const NetstatProcess> processes);
// {"processes":[{"pid":..,"program":..,"counters":{...}}...],"total":{...}}
std::string netstat_report_json(std::span<const NetstatProcess> processes);

}  // namespace veer::tools
