// load_config with real files and a real environment: defaults <
// /etc/veer.conf < VEER_CONFIG < VEER_* variables.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "preload/config_load.h"

extern char** environ;

namespace veer::preload {
namespace {

using config::Config;

class LoadConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    // Whatever VEER_* the test runner inherited must not leak in.
    std::vector<std::string> names;
    for (char** e = environ; *e; ++e) {
      std::string_view var(*e);
      if (var.starts_with("VEER_")) names.emplace_back(var.substr(0, var.find('=')));
    }
    for (const std::string& name : names) unsetenv(name.c_str());
  }

  void TearDown() override {
    for (const std::string& path : files_) unlink(path.c_str());
    for (const std::string& path : dirs_) rmdir(path.c_str());
    unsetenv("VEER_CONFIG");
    unsetenv("VEER_SYSCTL");
    unsetenv("VEER_TCP_SYN_RETRIES");
    unsetenv("VEER_LOG");
    unsetenv("VEER_GATEWAY");
    unsetenv("VEER_NOT_A_KNOB");
  }

  // A temporary file holding `text`; removed at teardown.
  std::string temp_file(std::string_view text) {
    char path[] = "/tmp/veer-config-test-XXXXXX";
    int fd = mkstemp(path);
    EXPECT_GE(fd, 0) << std::strerror(errno);
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
    files_.emplace_back(path);
    return path;
  }

  std::string temp_dir() {
    char path[] = "/tmp/veer-config-test-XXXXXX";
    EXPECT_NE(mkdtemp(path), nullptr);
    dirs_.emplace_back(path);
    return path;
  }

  std::string missing_path() { return temp_dir() + "/veer.conf"; }

  std::vector<std::string> files_;
  std::vector<std::string> dirs_;
};

std::string message(const std::optional<config::ConfigError>& error) {
  return error ? error->message : "";
}

TEST_F(LoadConfig, NothingConfiguredGivesDefaults) {
  Config config;
  std::vector<std::string> sources;
  EXPECT_EQ(message(load_config(config, &sources, missing_path().c_str())), "");
  EXPECT_TRUE(sources.empty());
  EXPECT_TRUE(config.non_default_summary().empty());
}

TEST_F(LoadConfig, LaterSourcesWin) {
  std::string system = temp_file(
      "net.ipv4.tcp_syn_retries = 2\n"
      "net.ipv4.tcp_fin_timeout = 10\n"
      "net.core.somaxconn = 100\n"
      "log = error\n");
  std::string user = temp_file(
      "net.ipv4.tcp_syn_retries = 3\n"
      "net.ipv4.tcp_fin_timeout = 20\n");
  setenv("VEER_CONFIG", user.c_str(), 1);
  setenv("VEER_TCP_SYN_RETRIES", "4", 1);
  setenv("VEER_SYSCTL", "log=debug", 1);

  Config config;
  std::vector<std::string> sources;
  ASSERT_EQ(message(load_config(config, &sources, system.c_str())), "");
  EXPECT_EQ(config.get_int("net.core.somaxconn"), 100);       // only in /etc/veer.conf
  EXPECT_EQ(config.get_int("net.ipv4.tcp_fin_timeout"), 20);  // VEER_CONFIG over /etc
  EXPECT_EQ(config.get_int("net.ipv4.tcp_syn_retries"), 4);   // environment over both
  EXPECT_EQ(config.get_text("log"), "debug");
  EXPECT_EQ(config.origin("net.core.somaxconn").describe(), "file " + system + ":3");
  EXPECT_EQ(config.origin("net.ipv4.tcp_fin_timeout").describe(), "file " + user + ":2");
  EXPECT_EQ(sources, (std::vector<std::string>{system, user, "env VEER_SYSCTL",
                                               "env VEER_TCP_SYN_RETRIES"}));
}

TEST_F(LoadConfig, SourcesMayBeNull) {
  setenv("VEER_LOG", "info", 1);
  Config config;
  EXPECT_EQ(message(load_config(config, nullptr, missing_path().c_str())), "");
  EXPECT_EQ(config.get_text("log"), "info");
}

TEST_F(LoadConfig, VeerConfigMustExist) {
  std::string missing = missing_path();
  setenv("VEER_CONFIG", missing.c_str(), 1);
  Config config;
  EXPECT_EQ(message(load_config(config, nullptr, missing_path().c_str())),
            "environment VEER_CONFIG=" + missing + ": cannot read " + missing +
                ": No such file or directory");
}

TEST_F(LoadConfig, EmptyVeerConfigIsUnset) {
  setenv("VEER_CONFIG", "", 1);
  Config config;
  EXPECT_EQ(message(load_config(config, nullptr, missing_path().c_str())), "");
}

TEST_F(LoadConfig, UnreadableSystemFileIsAnError) {
  std::string dir = temp_dir();
  Config config;
  EXPECT_EQ(message(load_config(config, nullptr, dir.c_str())),
            "cannot read " + dir + ": Is a directory");
}

TEST_F(LoadConfig, ErrorsInFilesNameFileAndLine) {
  std::string system = temp_file("# ok\nnet.ipv4.tcp_syn_retries = 300\n");
  Config config;
  EXPECT_EQ(message(load_config(config, nullptr, system.c_str())),
            system + ":2: net.ipv4.tcp_syn_retries = 300: out of range (accepted: 1..127)");
}

TEST_F(LoadConfig, UnknownVariableIsRefused) {
  setenv("VEER_NOT_A_KNOB", "1", 1);
  Config config;
  EXPECT_EQ(message(load_config(config, nullptr, missing_path().c_str())),
            "environment: unknown variable VEER_NOT_A_KNOB");
}

TEST_F(LoadConfig, KnobsMustAgree) {
  setenv("VEER_GATEWAY", "192.168.0.1", 1);
  Config config;
  EXPECT_EQ(message(load_config(config, nullptr, missing_path().c_str())),
            "gateway 192.168.0.1 (env VEER_GATEWAY) is outside the subnet of address "
            "10.77.0.2/24 (default)");
}

}  // namespace
}  // namespace veer::preload
