// The `veer` command line: finds the subcommand and hands it the rest.
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include "tools/command.h"

namespace veer::tools {
namespace {

// Set by the build from the project version; a sanitizer build says so,
// since its libveer.so needs the sanitizer runtimes preloaded too.
constexpr std::string_view kVersion = VEER_VERSION;
constexpr std::string_view kSanitizerPreload = VEER_SANITIZER_PRELOAD;

int print_version(std::span<char* const> args) {
  if (!args.empty()) {
    return usage_error("version", "takes no arguments, got '" + std::string(args[0]) + "'");
  }
  std::printf("veer %.*s%s\n", static_cast<int>(kVersion.size()), kVersion.data(),
              kSanitizerPreload.empty() ? "" : " (AddressSanitizer, UndefinedBehaviorSanitizer)");
  return kExitOk;
}

const Command kVersionCommand = {
    .name = "version",
    .summary = "print veer's version",
    .usage = "usage: veer version\n",
    .run = print_version,
};

const Command* const kCommands[] = {&kRunCommand,  &kNetCommand,     &kSysctlCommand,
                                    &kSsCommand,   &kNetstatCommand, &kCaptureCommand,
                                    &kPlotCommand, &kCompareCommand, &kVersionCommand};

const Command* find_command(std::string_view name) {
  for (const Command* command : kCommands) {
    if (command->name == name) return command;
  }
  return nullptr;
}

void print_overview(std::FILE* out) {
  std::fputs(
      "usage: veer COMMAND [ARGS...]\n"
      "\n"
      "Runs unmodified programs with their TCP sockets on veer's own TCP/IP\n"
      "stack, which speaks Ethernet frames on a TAP device.\n"
      "\n"
      "Commands:\n",
      out);
  for (const Command* command : kCommands) {
    std::fprintf(out, "  %-9.*s %.*s\n", static_cast<int>(command->name.size()),
                 command->name.data(), static_cast<int>(command->summary.size()),
                 command->summary.data());
  }
  std::fputs(
      "  help      show the usage of veer or of one command\n"
      "\n"
      "'veer help COMMAND' shows a command's options.\n"
      "Exit status 2 means a bad command line or configuration.\n",
      out);
}

int help(std::span<char* const> args) {
  if (args.empty() || (args.size() == 1 && std::string_view(args[0]) == "help")) {
    print_overview(stdout);
    return kExitOk;
  }
  if (const Command* command = find_command(args[0]); command && args.size() == 1) {
    return show_usage(*command);
  }
  std::fprintf(stderr, "veer help: %s\nTry 'veer --help'.\n",
               args.size() > 1 ? "takes one COMMAND"
                               : ("unknown command '" + std::string(args[0]) + "'").c_str());
  return kExitUsage;
}

int dispatch(std::span<char* const> args) {
  if (args.empty()) {
    print_overview(stderr);
    return kExitUsage;
  }
  std::string_view name = args[0];
  std::span<char* const> rest = args.subspan(1);
  if (name == "help" || is_help_flag(name)) return help(rest);
  if (name == "--version") return print_version(rest);
  const Command* command = find_command(name);
  if (!command) {
    std::fprintf(stderr, "veer: unknown command '%s'\nTry 'veer --help'.\n", args[0]);
    return kExitUsage;
  }
  return command->run(rest);
}

}  // namespace
}  // namespace veer::tools

int main(int argc, char** argv) {
  return veer::tools::dispatch(std::span<char* const>(argv + 1, static_cast<size_t>(argc - 1)));
}
