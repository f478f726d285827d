#include "core/config/suggest.h"

#include <gtest/gtest.h>

#include "core/config/config.h"

namespace veer::config {
namespace {

std::string unknown_key_error(std::string_view key) {
  Config config;
  auto error = config.set(key, "1", Origin::from_file("veer.conf", 3));
  return error ? error->message : "";
}

TEST(UnknownKey, ShortSysctlNameSuggestsTheFullOne) {
  // Files take full names only, as sysctl.conf does; the error says which.
  EXPECT_EQ(
      unknown_key_error("tcp_syn_retries"),
      "veer.conf:3: unknown key 'tcp_syn_retries' (did you mean 'net.ipv4.tcp_syn_retries'?)");
  EXPECT_EQ(unknown_key_error("somaxconn"),
            "veer.conf:3: unknown key 'somaxconn' (did you mean 'net.core.somaxconn'?)");
  EXPECT_EQ(unknown_key_error("net.ipv6.tcp_fin_timeout"),
            "veer.conf:3: unknown key 'net.ipv6.tcp_fin_timeout' "
            "(did you mean 'net.ipv4.tcp_fin_timeout'?)");
}

TEST(UnknownKey, TyposSuggestTheClosestName) {
  EXPECT_EQ(suggest_key("net.ipv4.tcp_syn_retry"), "net.ipv4.tcp_syn_retries");
  EXPECT_EQ(suggest_key("net.ipv4.tcp_synack_retires"), "net.ipv4.tcp_synack_retries");
  EXPECT_EQ(suggest_key("tcp_fin_timout"), "net.ipv4.tcp_fin_timeout");
  EXPECT_EQ(suggest_key("gatway"), "gateway");
  EXPECT_EQ(suggest_key("lgo"), "log");
  EXPECT_EQ(suggest_key("adress"), "address");
}

TEST(UnknownKey, NothingCloseMeansNoSuggestion) {
  EXPECT_EQ(suggest_key("colour"), std::nullopt);
  EXPECT_EQ(suggest_key("net.ipv4.tcp_autocorking"), std::nullopt);
  EXPECT_EQ(unknown_key_error("colour"), "veer.conf:3: unknown key 'colour'");
}

TEST(UnknownVariable, Suggestions) {
  EXPECT_EQ(suggest_env("VEER_SYN_RETRIES"), "VEER_TCP_SYN_RETRIES");
  EXPECT_EQ(suggest_env("VEER_NET_IPV4_TCP_SYN_RETRIES"), "VEER_TCP_SYN_RETRIES");
  EXPECT_EQ(suggest_env("VEER_NET_CORE_SOMAXCONN"), "VEER_SOMAXCONN");
  EXPECT_EQ(suggest_env("VEER_CONIFG"), "VEER_CONFIG");
  EXPECT_EQ(suggest_env("VEER_SYSCTLS"), "VEER_SYSCTL");
  EXPECT_EQ(suggest_env("VEER_log"), "VEER_LOG");
  EXPECT_EQ(suggest_env("VEER_COLOUR_SCHEME"), std::nullopt);
}

TEST(EditDistance, CountsSwapsAsOne) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("log", "lgo"), 1u);
  EXPECT_EQ(edit_distance("LOG", "log"), 0u);
}

}  // namespace
}  // namespace veer::config
