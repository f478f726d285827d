#include "tools/netstat_format.h"

#include "tools/ss_format.h"

namespace veer::tools {
namespace {

constexpr std::array<std::string_view, 6> kGroups = {"Ip", "Icmp", "Tcp", "TcpExt", "Arp", "Link"};

constexpr bool every_counter_has_a_group() {
  for (const core::CounterInfo& c : core::kCounterInfo) {
    bool found = false;
    for (std::string_view g : kGroups) found = found || g == c.group;
    if (!found) return false;
  }
  return true;
}
static_assert(every_counter_has_a_group(), "a counter's group is missing from kGroups");

}  // namespace

std::span<const std::string_view> netstat_groups() {
  return kGroups;
}

CounterValues sum_counters(std::span<const NetstatProcess> processes) {
  CounterValues sum{};
  for (const NetstatProcess& p : processes) {
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += p.counters[i];
  }
  return sum;
}

std::string netstat_counters_text(const CounterValues& counters) {
  std::string out;
  for (std::string_view group : kGroups) {
    out += std::string(group) + ":\n";
    for (size_t i = 0; i < core::kCounterCount; ++i) {
      const core::CounterInfo& c = core::kCounterInfo[i];
      if (c.group != group) continue;
      out += "    " + std::to_string(counters[i]) + " " + std::string(c.text) + "\n";
    }
  }
  return out;
}

std::string netstat_counters_json(const CounterValues& counters) {
  std::string out = "{";
  for (std::string_view group : kGroups) {
    if (out.size() > 1) out += ",";
    out += "\"" + std::string(group) + "\":{";
    bool first = true;
    for (size_t i = 0; i < core::kCounterCount; ++i) {
      const core::CounterInfo& c = core::kCounterInfo[i];
      if (c.group != group) continue;
      out += (first ? "\"" : ",\"") + std::string(c.name) + "\":" + std::to_string(counters[i]);
      first = false;
    }
    out += "}";
  }
  return out + "}";
}

std::string netstat_report_text(std::span<const NetstatProcess> processes) {
  if (processes.empty()) return "no process is running veer (that this user may see)\n";
  std::string out;
  for (const NetstatProcess& p : processes) {
    if (!out.empty()) out += "\n";
    out += "veer process " + p.program + ", pid " + std::to_string(p.pid) + ":\n";
    out += netstat_counters_text(p.counters);
  }
  if (processes.size() > 1) {
    out += "\nAll " + std::to_string(processes.size()) + " veer processes:\n";
    out += netstat_counters_text(sum_counters(processes));
  }
  return out;
}

std::string netstat_report_json(std::span<const NetstatProcess> processes) {
  std::string out = "{\"processes\":[";
  bool first = true;
  for (const NetstatProcess& p : processes) {
    out += first ? "\n  " : ",\n  ";
    out += "{\"pid\":" + std::to_string(p.pid) + ",\"program\":\"" + json_escape(p.program) +
           "\",\"counters\":" + netstat_counters_json(p.counters) + "}";
    first = false;
  }
  out += first ? "],\n" : "\n],\n";
  out += "\"total\":" + netstat_counters_json(sum_counters(processes)) + "}\n";
  return out;
}

}  // namespace veer::tools
