// `veer compare SCENARIO`: the same scenario against the kernel and against
// veer, side by side. The work is namespaces, nftables, tcpdump and ss, which
// is shell's trade, so this command only finds the driver (tools/compare/
// compare.sh in the source tree, or VEER_COMPARE_TOOLS) and execs it with the
// path of this veer binary; the normaliser is Python (standard library).
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tools/command.h"

namespace veer::tools {
namespace {

constexpr std::string_view kName = "compare";
constexpr const char* kToolsEnv = "VEER_COMPARE_TOOLS";

int run_compare(std::span<char* const> args) {
  for (char* arg : args) {
    if (is_help_flag(arg)) return show_usage(kCompareCommand);
  }
  if (args.empty()) return usage_error(kName, "needs a SCENARIO");
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return fail(kName, "cannot read /proc/self/exe: " + ec.message(), kExitFailure);
  const char* tools_env = std::getenv(kToolsEnv);
  std::string tools = tools_env != nullptr ? tools_env : VEER_SOURCE_DIR "/tools/compare";
  std::string script = tools + "/compare.sh";
  // veer refuses VEER_* variables it does not know: the driver runs `veer`.
  ::unsetenv(kToolsEnv);
  if (::access(script.c_str(), R_OK) != 0) {
    return fail(kName, "cannot read " + script + " (set " + kToolsEnv + ")", kExitFailure);
  }
  ::setenv("COMPARE_VEER", exe.c_str(), 1);
  ::setenv("COMPARE_BIN_DIR", exe.parent_path().c_str(), 0);
  ::setenv("COMPARE_SCENARIOS", VEER_SOURCE_DIR "/tests/compare", 0);
  std::vector<char*> argv;
  std::string bash = "bash";
  argv.push_back(bash.data());
  argv.push_back(script.data());
  for (char* arg : args) argv.push_back(arg);
  argv.push_back(nullptr);
  ::execvp("bash", argv.data());
  return fail(kName, std::string("cannot run bash: ") + std::strerror(errno), kExitCannotExec);
}

}  // namespace

const Command kCompareCommand = {
    .name = "compare",
    .summary = "run a scenario against the kernel and against veer, side by side",
    .usage =
        "usage: veer compare [-k] SCENARIO\n"
        "\n"
        "Runs SCENARIO (a file, or the name or number of one in tests/compare/)\n"
        "twice with the same kernel peer at 10.77.0.1: the program under test on\n"
        "the kernel stack in a namespace of its own, then under `veer run`, with\n"
        "the scenario's sysctls given to both. Captures at the peer, normalises\n"
        "(relative seq/ack, roles for ports, no timestamp values) and prints side\n"
        "by side the segments, the socket states sampled from ss / veer ss, the\n"
        "calls' results and errno, and the retransmission times (within 10% or\n"
        "50 ms). Ends with MATCH or the differences.\n"
        "\n"
        "  -k, --keep   keep the captures and samples (the path is printed)\n"
        "\n"
        "Needs root. Exit status: 0 MATCH, 1 differences, 2 usage or setup.\n"
        "  VEER_COMPARE_TOOLS   the directory of compare.sh and compare.py\n",
    .run = run_compare,
};

}  // namespace veer::tools
