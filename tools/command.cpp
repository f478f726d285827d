#include "tools/command.h"

#include <cstdio>
#include <string>

namespace veer::tools {

int usage_error(std::string_view command, std::string_view message) {
  std::string name(command);
  std::fprintf(stderr, "veer %s: %.*s\nTry 'veer help %s'.\n", name.c_str(),
               static_cast<int>(message.size()), message.data(), name.c_str());
  return kExitUsage;
}

int fail(std::string_view command, std::string_view message, int code) {
  std::fprintf(stderr, "veer %.*s: %.*s\n", static_cast<int>(command.size()), command.data(),
               static_cast<int>(message.size()), message.data());
  return code;
}

bool is_help_flag(std::string_view arg) {
  return arg == "-h" || arg == "--help";
}

int show_usage(const Command& command) {
  std::fwrite(command.usage.data(), 1, command.usage.size(), stdout);
  return kExitOk;
}

}  // namespace veer::tools
