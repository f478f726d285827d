// --config and -s: parsed the same way by every command, and applied through
// VEER_CONFIG and VEER_SYSCTL exactly as a program under `veer run` sees them.
#include "tools/options.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/config/parse.h"
#include "tools/preload_env.h"

extern char** environ;

namespace veer::tools {
namespace {

// A command line as main() would hand it over.
class Args {
 public:
  Args(std::initializer_list<const char*> words) : words_(words.begin(), words.end()) {
    for (std::string& w : words_) ptrs_.push_back(w.data());
  }
  std::span<char* const> span() const { return ptrs_; }

 private:
  std::vector<std::string> words_;
  std::vector<char*> ptrs_;
};

// Parses every word of `args` as a shared option; the error, if any.
std::string parse_all(const Args& args, ConfigOptions& out) {
  std::string error;
  size_t i = 0;
  while (i < args.span().size()) {
    Taken taken = take_config_option(args.span(), i, out, &error);
    if (taken == Taken::Error) return error;
    if (taken == Taken::No) return "not an option: " + std::string(args.span()[i]);
  }
  return "";
}

TEST(ConfigOptions, EveryFormOfSet) {
  ConfigOptions options;
  EXPECT_EQ(parse_all({"-s", "mtu=9000", "-slog=info", "--set", "address=10.0.0.2/24",
                       "--set=gateway=none"},
                      options),
            "");
  EXPECT_EQ(options.entries, (std::vector<std::string>{"mtu=9000", "log=info",
                                                       "address=10.0.0.2/24", "gateway=none"}));
}

TEST(ConfigOptions, ConfigFileIsMadeAbsolute) {
  ConfigOptions options;
  EXPECT_EQ(parse_all({"--config", "veer.conf"}, options), "");
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  EXPECT_EQ(options.config_file, std::string(cwd) + "/veer.conf");
  EXPECT_EQ(parse_all({"--config=/etc/other.conf"}, options), "");
  EXPECT_EQ(options.config_file, "/etc/other.conf");
}

TEST(ConfigOptions, MissingValuesAreUsageErrors) {
  ConfigOptions options;
  EXPECT_EQ(parse_all({"--config"}, options), "--config needs a file name");
  EXPECT_EQ(parse_all({"--config="}, options), "--config needs a file name");
  EXPECT_EQ(parse_all({"-s"}, options), "-s needs KEY=VALUE");
  EXPECT_EQ(parse_all({"-s", "mtu"}, options), "-s expects KEY=VALUE, got 'mtu'");
  EXPECT_EQ(parse_all({"-s", "=5"}, options), "-s expects KEY=VALUE, got '=5'");
}

TEST(ConfigOptions, OtherWordsAreLeftToTheCommand) {
  ConfigOptions options;
  Args args{"-a", "--configure", "-x"};
  std::string error;
  for (size_t i = 0; i < args.span().size(); ++i) {
    size_t at = i;
    EXPECT_EQ(take_config_option(args.span(), at, options, &error), Taken::No);
    EXPECT_EQ(at, i);
  }
}

TEST(SysctlEntry, ValuesWithBlanksOrLeadingQuotesAreQuoted) {
  std::string error;
  EXPECT_EQ(sysctl_entry("mtu=9000", &error), "mtu=9000");
  EXPECT_EQ(sysctl_entry("net.ipv4.tcp_rmem=1 2 3", &error), "net.ipv4.tcp_rmem='1 2 3'");
  EXPECT_EQ(sysctl_entry("log_file=/tmp/it's here", &error), "log_file=\"/tmp/it's here\"");
  EXPECT_EQ(sysctl_entry("log_file='x", &error), "log_file=\"'x\"");
  EXPECT_EQ(sysctl_entry("log_file=", &error), "log_file=");
  EXPECT_EQ(sysctl_entry("log_file=a'b \"c", &error), std::nullopt);
  EXPECT_NE(error.find("both kinds of quote"), std::string::npos) << error;
}

TEST(SysctlEntry, ReadsBackAsTheValueGiven) {
  for (std::string value : {"/tmp/a b", "/tmp/it's", "'x", "\"y", "a\"b c", ""}) {
    std::string error;
    auto entry = sysctl_entry("log_file=" + value, &error);
    ASSERT_TRUE(entry) << error;
    config::Config config;
    std::string list = joined_sysctl("mtu=1400", {*entry});
    ASSERT_FALSE(config::apply_assignments(config, list, config::Origin::from_env("VEER_SYSCTL")))
        << list;
    EXPECT_EQ(config.get_text("log_file"), value) << list;
    EXPECT_EQ(config.get_int("mtu"), 1400);
  }
}

TEST(JoinedSysctl, InheritedEntriesFirstSoOursWin) {
  EXPECT_EQ(joined_sysctl("", {"mtu=9000"}), "mtu=9000");
  EXPECT_EQ(joined_sysctl("mtu=1400 log=info", {"mtu=9000", "log=debug"}),
            "mtu=1400 log=info mtu=9000 log=debug");
}

class LoadWithOptions : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> names;
    for (char** e = environ; *e; ++e) {
      std::string_view var(*e);
      if (var.starts_with("VEER_")) names.emplace_back(var.substr(0, var.find('=')));
    }
    for (const std::string& name : names) unsetenv(name.c_str());
  }
  void TearDown() override {
    unsetenv("VEER_CONFIG");
    unsetenv("VEER_SYSCTL");
    unsetenv("VEER_MTU");
    unsetenv(kLibraryEnv);
    if (!file_.empty()) unlink(file_.c_str());
  }

  std::string temp_file(std::string_view text) {
    char path[] = "/tmp/veer-tools-test-XXXXXX";
    int fd = mkstemp(path);
    EXPECT_GE(fd, 0) << std::strerror(errno);
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
    file_ = path;
    return path;
  }

  static constexpr const char* kNoSystemFile = "/nonexistent/veer.conf";
  std::string file_;
};

TEST_F(LoadWithOptions, OptionsReachTheConfigurationThroughTheEnvironment) {
  ConfigOptions options;
  options.config_file = temp_file("mtu = 9000\nlog = info\n");
  options.entries = {"log=debug"};
  setenv("VEER_SYSCTL", "net.ipv4.tcp_syn_retries=2 log=error", 1);
  config::Config config;
  ASSERT_FALSE(load_with_options(options, config, nullptr, kNoSystemFile));
  EXPECT_EQ(config.get_int("mtu"), 9000);
  EXPECT_EQ(config.get_int("net.ipv4.tcp_syn_retries"), 2);
  EXPECT_EQ(config.get_text("log"), "debug");  // -s comes after the inherited list
  EXPECT_STREQ(getenv("VEER_CONFIG"), options.config_file.c_str());
  EXPECT_STREQ(getenv("VEER_SYSCTL"), "net.ipv4.tcp_syn_retries=2 log=error log=debug");
}

TEST_F(LoadWithOptions, AKnobsOwnVariableStillWins) {
  ConfigOptions options;
  options.entries = {"mtu=9000"};
  setenv("VEER_MTU", "1400", 1);
  config::Config config;
  ASSERT_FALSE(load_with_options(options, config, nullptr, kNoSystemFile));
  EXPECT_EQ(config.get_int("mtu"), 1400);
}

TEST_F(LoadWithOptions, ABadValueIsRefusedWithItsRange) {
  ConfigOptions options;
  options.entries = {"net.ipv4.tcp_syn_retries=0"};
  config::Config config;
  auto error = load_with_options(options, config, nullptr, kNoSystemFile);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message,
            "environment VEER_SYSCTL: net.ipv4.tcp_syn_retries=0: out of range (accepted: "
            "1..127)");
}

TEST_F(LoadWithOptions, VeerLibraryIsNotTakenForAMisspeltKnob) {
  setenv(kLibraryEnv, "/opt/veer/lib/libveer.so", 1);
  config::Config config;
  EXPECT_FALSE(load_with_options({}, config, nullptr, kNoSystemFile));
  EXPECT_EQ(getenv(kLibraryEnv), nullptr);
}

}  // namespace
}  // namespace veer::tools
