// veer-drill: runs packetdrill scripts against veer's stack in virtual time.
//
//   veer-drill [options] SCRIPT...
//
// One line per script, PASS, FAIL or UNSUPPORTED with the reason (a failure
// adds the script line, the expected and actual segment or return value,
// and the virtual time), then `N passed, N failed, N unsupported`.
//
// Exit status: 0 when every script passed; 1 when any failed; 2 when none
// failed but some were unsupported (0 with --allow-unsupported, since an
// unsupported script is a known gap, not a regression); 64 on a usage
// error. With --expectations FILE --key KEY (the ctest mode, one script),
// 0 when the outcome is the one FILE lists for KEY (PASS when not listed),
// else 1.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tools/drill/executor.h"
#include "tools/drill/expectations.h"
#include "tools/drill/outcome.h"
#include "tools/drill/run_options.h"

namespace {

using namespace veer::drill;

constexpr int kExitUsage = 64;

const char* kUsage = R"(usage: veer-drill [options] SCRIPT...

Runs packetdrill scripts against veer's TCP/IP stack in virtual time.

packetdrill options (also allowed at the top of a script; the command line wins):
  --tolerance_usecs=N     timing tolerance in microseconds (default 4000)
  --tolerance_percent=P   or P % of the time since the previous event, if more (default 12.5)
  --tcp_ts_tick_usecs=N   check outbound TSval assuming N us per tick (default 0: no check)
  --tcp_ts_ecr_scaled     interpolate inbound TSecr values the stack never sent
  --strict_segments       do not merge consecutive outbound segments
  --mss=N                 GSO size of inbound segments (they go in whole; no effect)
  --mtu=N                 the stack's MTU (default 1500)
  --local_ip=A            the stack's address (default 192.168.0.1)
  --remote_ip=A           the peer's address (default 192.0.2.1)
  --netmask_ip=M          the stack's netmask (default 255.255.255.0)
  --gateway_ip=A          the stack's gateway (default: the subnet's last address)
  --bind_port=P           bind(..., ...) port (default 8080)
  --connect_port=P        connect(..., ...) port (default 8080)
  --ip_version=ipv4       only IPv4 is supported
  -v, --verbose           trace every event and segment on stderr

veer options:
  --sysctl KEY=VALUE      apply a sysctl before the script (repeatable)
  --allow-unsupported     exit 0 when scripts are unsupported but none failed
  --expectations FILE     judge the outcome against FILE (needs --key, one script)
  --key KEY               the script's name in the expectations file
  -h, --help              this text
)";

bool takes_value(const std::string& name) {
  static const char* kFlags[] = {"strict_segments",
                                 "tcp_ts_ecr_scaled",
                                 "verbose",
                                 "v",
                                 "allow-unsupported",
                                 "help",
                                 "h",
                                 "debug",
                                 "dry_run"};
  for (const char* f : kFlags)
    if (name == f) return false;
  return true;
}

int usage_error(const std::string& message) {
  std::cerr << "veer-drill: " << message << "\n" << kUsage;
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<CliOption> options;
  std::vector<std::string> scripts;
  bool allow_unsupported = false;
  std::string expectations_file, key;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) scripts.push_back(argv[i]);
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      scripts.push_back(arg);
      continue;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (takes_value(name)) {
      if (i + 1 >= argc) return usage_error("--" + name + " needs a value");
      value = argv[++i];
    }
    if (name == "h" || name == "help") {
      std::cout << kUsage;
      return 0;
    }
    if (name == "allow-unsupported") {
      allow_unsupported = true;
    } else if (name == "expectations") {
      expectations_file = value.value_or("");
    } else if (name == "key") {
      key = value.value_or("");
    } else {
      RunOptions probe;
      std::string err = apply_option(probe, name, value);
      if (!err.empty()) return usage_error(err);
      options.push_back({name, value});
    }
  }
  if (scripts.empty()) return usage_error("no script given");

  std::optional<Expectations> expectations;
  if (!expectations_file.empty()) {
    if (key.empty() || scripts.size() != 1)
      return usage_error("--expectations needs --key and exactly one script");
    std::ifstream in(expectations_file);
    if (!in) return usage_error("cannot read " + expectations_file);
    std::stringstream text;
    text << in.rdbuf();
    std::string err;
    expectations = parse_expectations(text.str(), &err);
    if (!expectations) return usage_error(expectations_file + ": " + err);
  }

  int passed = 0, failed = 0, unsupported = 0;
  Outcome last;
  for (const std::string& path : scripts) {
    last = run_file(path, options, nullptr);
    std::cout << format_outcome(path, last) << std::flush;
    switch (last.status) {
      case Outcome::Status::Pass:
        ++passed;
        break;
      case Outcome::Status::Fail:
        ++failed;
        break;
      case Outcome::Status::Unsupported:
        ++unsupported;
        break;
    }
  }
  std::cout << format_summary(passed, failed, unsupported) << "\n";

  if (expectations) {
    Verdict v = judge(key, last, *expectations, expectations_file);
    std::cout << (v.ok ? "ok: " : "NOT OK: ") << key << ": " << v.message << "\n";
    return v.ok ? 0 : 1;
  }
  if (failed) return 1;
  if (unsupported && !allow_unsupported) return 2;
  return 0;
}
