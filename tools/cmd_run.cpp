// `veer run`: start a program with libveer.so preloaded and the configuration
// given on the command line, after checking that configuration here, so a
// program never starts on one the library would refuse.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "core/config/config.h"
#include "core/config/registry.h"
#include "tools/command.h"
#include "tools/options.h"
#include "tools/preload_env.h"

namespace veer::tools {
namespace {

constexpr std::string_view kName = "run";

// Set by the build: empty, or "libasan.so:libubsan.so" for a sanitizer build.
constexpr std::string_view kSanitizerPreload = VEER_SANITIZER_PRELOAD;

std::string getenv_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// libveer.so's absolute path, or "" with `*error` set.
std::string find_library(std::string* error) {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec && std::getenv(kLibraryEnv) == nullptr) {
    *error = "cannot read /proc/self/exe: " + ec.message() + " (set " + kLibraryEnv + ")";
    return "";
  }
  std::filesystem::path cwd = std::filesystem::current_path(ec);
  std::string path = library_path(getenv_or_empty(kLibraryEnv), exe.string(), cwd.string());
  if (::access(path.c_str(), R_OK) != 0) {
    int err = errno;
    *error = "cannot use " + path + ": " + std::strerror(err) +
             (std::getenv(kLibraryEnv) ? " (from " + std::string(kLibraryEnv) + ")"
                                       : " (set " + std::string(kLibraryEnv) + " to its path)");
    return "";
  }
  return path;
}

int run(std::span<char* const> args) {
  ConfigOptions options;
  size_t i = 0;
  // Options end at "--" or at the first word that is not one: everything from
  // PROG on belongs to PROG, as with env(1) and sudo(8).
  while (i < args.size()) {
    std::string_view arg = args[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (is_help_flag(arg)) return show_usage(kRunCommand);
    std::string error;
    Taken taken = take_config_option(args, i, options, &error);
    if (taken == Taken::Error) return usage_error(kName, error);
    if (taken == Taken::Yes) continue;
    if (arg.starts_with('-') && arg != "-") {
      return usage_error(kName, "unknown option '" + std::string(arg) + "'");
    }
    break;
  }
  if (i >= args.size()) return usage_error(kName, "missing PROG");

  // Read before load_with_options takes VEER_LIBRARY out of the environment.
  std::string error;
  std::string library = find_library(&error);

  config::Config config;
  if (auto refused = load_with_options(options, config)) {
    return fail(kName, refused->message, kExitUsage);
  }
  if (library.empty()) return fail(kName, error, kExitFailure);

  std::string preload = compose_ld_preload(
      kSanitizerPreload, library, getenv_or_empty("LD_PRELOAD"),
      VEER_SANITIZER_PRELOAD_AFTER ? RuntimeOrder::AfterLibrary : RuntimeOrder::First);
  ::setenv("LD_PRELOAD", preload.c_str(), 1);
  ::setenv(std::string(config::kActiveEnv).c_str(), "1", 1);
  if (!kSanitizerPreload.empty() && VEER_SANITIZER_PRELOAD_AFTER) {
    std::string tsan = merge_tsan_options(getenv_or_empty("TSAN_OPTIONS"));
    ::setenv("TSAN_OPTIONS", tsan.c_str(), 1);
  } else if (!kSanitizerPreload.empty()) {
    std::string asan = merge_asan_options(getenv_or_empty("ASAN_OPTIONS"));
    ::setenv("ASAN_OPTIONS", asan.c_str(), 1);
  }

  std::vector<char*> argv(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  ::execvp(argv[0], argv.data());
  int err = errno;
  return fail(kName, std::string(argv[0]) + ": " + std::strerror(err),
              err == ENOENT ? kExitNotFound : kExitCannotExec);
}

}  // namespace

const Command kRunCommand = {
    .name = kName,
    .summary = "run a program with its TCP sockets on veer",
    .usage =
        "usage: veer run [--config FILE] [-s KEY=VALUE]... [--] PROG [ARGS...]\n"
        "\n"
        "Runs PROG with libveer.so preloaded, so its TCP sockets on veer's\n"
        "address go through veer's stack. The configuration (/etc/veer.conf,\n"
        "VEER_CONFIG, VEER_* variables and the options below) is checked first;\n"
        "PROG does not start on a configuration libveer.so would refuse.\n"
        "\n"
        "Options:\n"
        "  --config FILE      read FILE after /etc/veer.conf (passed on as VEER_CONFIG)\n"
        "  -s, --set KEY=VAL  set one knob (appended to VEER_SYSCTL; may be repeated)\n"
        "\n"
        "A knob's own variable (VEER_TCP_SYN_RETRIES) still wins over -s, as\n"
        "it wins over VEER_SYSCTL.\n"
        "\n"
        "Environment:\n"
        "  VEER_LIBRARY       libveer.so to preload (default: ../lib/libveer.so\n"
        "                     next to the veer executable)\n"
        "  LD_PRELOAD         kept, after libveer.so\n"
        "\n"
        "Exit status: PROG's; 2 for a bad command line or configuration, 1 when\n"
        "libveer.so is missing, 127 when PROG is not found, 126 when it cannot run.\n",
    .run = run,
};

}  // namespace veer::tools
