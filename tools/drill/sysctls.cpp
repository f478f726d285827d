#include "tools/drill/sysctls.h"

#include <cctype>
#include <cstdlib>

#include "core/config/registry.h"

namespace veer::drill {
namespace {

// A Linux sysctl that is not (yet) a veer knob.
struct KnownSysctl {
  const char* name;
  const char* linux_default;
  // What veer behaves as today when that differs from Linux's default; "*"
  // when the sysctl has no effect on veer at all.
  const char* veer_behaves_as;
  const char* why;  // shown when a value cannot be honoured
};

constexpr KnownSysctl kKnown[] = {
    {"net.ipv4.tcp_timestamps", "1", "0", "timestamps are not implemented yet"},
    {"net.ipv4.tcp_sack", "1", "0", "SACK is not implemented yet"},
    {"net.ipv4.tcp_window_scaling", "1", "0", "window scaling is not implemented yet"},
    {"net.ipv4.tcp_dsack", "1", "0", "D-SACK is not implemented yet"},
    {"net.ipv4.tcp_fack", "0", "*", "obsolete since Linux 4.15: no effect"},
    {"net.ipv4.tcp_frto", "2", "0", "F-RTO is not implemented"},
    {"net.ipv4.tcp_reordering", "3", "", "veer's reordering threshold is fixed"},
    {"net.ipv4.tcp_recovery", "1", "0", "RACK is not implemented"},
    {"net.ipv4.tcp_early_retrans", "3", "0", "tail loss probes are not implemented"},
    {"net.ipv4.tcp_congestion_control", "cubic", "reno", "only NewReno-style growth so far"},
    {"net.ipv4.tcp_slow_start_after_idle", "1", "0", "no slow-start restart after idle"},
    {"net.ipv4.tcp_ecn", "2", "0", "ECN is not implemented"},
    {"net.ipv4.tcp_ecn_option", "2", "0", "AccECN is not implemented"},
    {"net.ipv4.tcp_fastopen", "1", "0", "TCP Fast Open is not implemented"},
    {"net.ipv4.tcp_fastopen_key", "", "*", "no effect without TCP Fast Open"},
    {"net.ipv4.tcp_syncookies", "1", "0", "SYN cookies are not implemented"},
    {"net.ipv4.tcp_autocorking", "1", "0", "autocorking is not implemented"},
    {"net.ipv4.tcp_tso_win_divisor", "3", "*", "no TSO in veer: no effect"},
    // veer does not pace, but the pacing rate sizes TSO bursts (tcp_tso_autosize()),
    // which decide where PSH goes: Linux's defaults are built in.
    {"net.ipv4.tcp_pacing_ss_ratio", "200", "", "fixed at Linux's default"},
    {"net.ipv4.tcp_pacing_ca_ratio", "120", "", "fixed at Linux's default"},
    {"net.ipv4.tcp_limit_output_bytes", "1048576", "*", "no qdisc in veer: no effect"},
    {"net.ipv4.tcp_no_metrics_save", "0", "*", "veer keeps no per-destination metrics"},
    {"net.ipv4.tcp_mtu_probing", "0", "", "MTU probing is not implemented"},
    {"net.ipv4.tcp_keepalive_time", "7200", "", "keepalive timing is not configurable yet"},
    {"net.ipv4.tcp_keepalive_intvl", "75", "", "keepalive timing is not configurable yet"},
    {"net.ipv4.tcp_keepalive_probes", "9", "", "keepalive timing is not configurable yet"},
    {"net.ipv4.tcp_retries1", "3", "*", "no routing cache to refresh: no effect"},
    {"net.ipv4.tcp_orphan_retries", "0", "", "orphan retries are not configurable yet"},
    {"net.ipv4.tcp_thin_linear_timeouts", "0", "", "not implemented"},
};

const KnownSysctl* find_known(std::string_view name) {
  for (const KnownSysctl& k : kKnown)
    if (name == k.name) return &k;
  return nullptr;
}

// "0x3" and "3" are the same value; "4096  87380" and "4096 87380" too.
std::string normalize(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  char* end = nullptr;
  long long n = std::strtoll(out.c_str(), &end, 0);
  if (!out.empty() && end == out.c_str() + out.size()) return std::to_string(n);
  return out;
}

// One shell command's words, with "…" and '…' quoting.
std::vector<std::string> words(std::string_view cmd) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (char c : cmd) {
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else {
        cur += c;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) out.push_back(cur);
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) out.push_back(cur);
  return out;
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// defaults.sh, as ../shared/conformance/packetdrill/SOURCES.md describes the
// two copies (google/packetdrill gtests/net/common and the kernel's).
void add_defaults(bool kernel_copy, std::vector<SysctlAssignment>* out) {
  static constexpr std::pair<const char*, const char*> kCommon[] = {
      {"tcp_rmem", "4096 540000 15728640"},
      {"tcp_wmem", "4096 262144 4194304"},
      {"tcp_timestamps", "1"},
      {"tcp_syn_retries", "5"},
      {"tcp_synack_retries", "5"},
      {"tcp_frto", "2"},
      {"tcp_sack", "1"},
      {"tcp_dsack", "1"},
      {"tcp_fack", "0"},
      {"tcp_reordering", "3"},
      {"tcp_congestion_control", "cubic"},
      {"tcp_slow_start_after_idle", "0"},
      {"tcp_early_retrans", "4"},
      {"tcp_recovery", "1"},
      {"tcp_tso_win_divisor", "3"},
      {"tcp_ecn", "0"},
      {"tcp_pacing_ss_ratio", "200"},
      {"tcp_pacing_ca_ratio", "120"},
      {"tcp_notsent_lowat", "4294967295"},
      {"tcp_fastopen_key", "a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4"},
      {"tcp_syncookies", "1"},
  };
  for (auto [name, value] : kCommon) out->push_back({std::string("net.ipv4.") + name, value, true});
  if (kernel_copy) {
    out->push_back({"net.ipv4.tcp_fastopen", "0x3", true});
  } else {
    out->push_back({"net.ipv4.tcp_ecn_option", "2", true});
  }
  // Its other two lines, `ip tcp_metrics flush all` and a pfifo qdisc on the
  // tun device, have nothing to act on in veer (no metrics cache, no qdisc).
}

}  // namespace

CommandPlan plan_command(std::string_view command) {
  CommandPlan plan;
  // Join backslash-newline continuations, then split into commands.
  std::string text;
  for (size_t i = 0; i < command.size(); ++i) {
    if (command[i] == '\\' && i + 1 < command.size() && command[i + 1] == '\n') {
      ++i;
      text += ' ';
      continue;
    }
    text += command[i];
  }
  std::vector<std::string> cmds;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool and_and = c == '&' && i + 1 < text.size() && text[i + 1] == '&';
    if (c == '\n' || c == ';' || and_and) {
      cmds.push_back(cur);
      cur.clear();
      if (and_and) ++i;
      continue;
    }
    cur += c;
  }
  cmds.push_back(cur);

  for (const std::string& cmd : cmds) {
    std::vector<std::string> w = words(cmd);
    if (w.empty()) continue;
    const std::string& prog = w[0];
    if (ends_with(prog, "defaults.sh")) {
      // The kernel selftests call ./defaults.sh; google/packetdrill's tests
      // call ../common/defaults.sh.
      add_defaults(prog == "./defaults.sh" || prog == "defaults.sh", &plan.sets);
    } else if (ends_with(prog, "set_sysctls.py")) {
      for (size_t i = 1; i < w.size(); ++i) {
        size_t eq = w[i].find('=');
        std::string_view path = std::string_view(w[i]).substr(0, eq);
        if (eq == std::string::npos || path.substr(0, 10) != "/proc/sys/") {
          plan.unsupported = "set_sysctls.py argument `" + w[i] + "`";
          return plan;
        }
        std::string name(path.substr(10));
        for (char& c : name)
          if (c == '/') c = '.';
        plan.sets.push_back({name, w[i].substr(eq + 1), false});
      }
    } else if (prog == "sysctl") {
      for (size_t i = 1; i < w.size(); ++i) {
        if (w[i] == "-q" || w[i] == "-w" || w[i] == "-e" || w[i] == "-qw") continue;
        size_t eq = w[i].find('=');
        if (eq == std::string::npos) {
          plan.unsupported = "sysctl argument `" + w[i] + "` (only name=value is emulated)";
          return plan;
        }
        std::string name = w[i].substr(0, eq);
        for (char& c : name)
          if (c == '/') c = '.';
        plan.sets.push_back({name, w[i].substr(eq + 1), false});
      }
    } else if (prog.find("sysctl_restore_") != std::string::npos) {
      // set_sysctls.py's restore script: every run starts from a fresh stack.
    } else {
      plan.unsupported = "shell command `" + cmd + "`";
      return plan;
    }
  }
  return plan;
}

std::string apply_sysctl(config::Config& config, const SysctlAssignment& a,
                         const config::Origin& origin) {
  if (config::find_knob(a.name)) {
    if (auto err = config.set(a.name, a.value, origin)) return err->message;
    return "";
  }
  const KnownSysctl* k = find_known(a.name);
  if (!k) return "sysctl " + a.name + " is unknown to veer";
  if (a.baseline) return "";
  std::string v = normalize(a.value);
  if (std::string_view(k->veer_behaves_as) == "*") return "";
  if (v == normalize(k->linux_default)) return "";
  if (*k->veer_behaves_as && v == normalize(k->veer_behaves_as)) return "";
  return "sysctl " + a.name + "=" + a.value + ": veer has no knob for it (" + k->why + ")";
}

}  // namespace veer::drill
