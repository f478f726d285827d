// The shape every `veer` subcommand shares: its name, its help and its entry
// point, and the exit codes the whole tool keeps to.
#pragma once

#include <span>
#include <string_view>

namespace veer::tools {

// Scripts and the integration tests tell failures apart by these.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,       // the system refused (netlink, a missing libveer.so)
  kExitUsage = 2,         // a bad command line or a refused configuration
  kExitCannotExec = 126,  // as the shell: PROG exists but could not be run
  kExitNotFound = 127,    // as the shell: PROG was not found
};

struct Command {
  std::string_view name;
  std::string_view summary;  // one line, for `veer --help`
  std::string_view usage;    // the full text of `veer help NAME`
  // `args` are the words after the command name.
  int (*run)(std::span<char* const> args);
};

extern const Command kNetCommand;
extern const Command kRunCommand;
extern const Command kSysctlCommand;
extern const Command kSsCommand;
extern const Command kNetstatCommand;
extern const Command kCaptureCommand;
extern const Command kPlotCommand;
extern const Command kCompareCommand;

// Prints "veer NAME: MESSAGE" and a pointer to the command's help on stderr;
// returns kExitUsage.
int usage_error(std::string_view command, std::string_view message);

// Prints "veer NAME: MESSAGE" on stderr and returns `code`.
int fail(std::string_view command, std::string_view message, int code);

// Whether `arg` asks for help (-h, --help).
bool is_help_flag(std::string_view arg);

// Prints the command's usage text on stdout; returns kExitOk.
int show_usage(const Command& command);

}  // namespace veer::tools
