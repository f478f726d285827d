#include "tools/ss_format.h"

#include <gtest/gtest.h>

#include "core/types.h"

namespace veer::tools {
namespace {

TEST(SsTimer, PrintsLikeSs) {
  // ss's print_ms_timer(): milliseconds, seconds with milliseconds below ten
  // seconds, minutes and seconds below ten minutes.
  EXPECT_EQ(ss_ms_timer(200), "200ms");
  EXPECT_EQ(ss_ms_timer(1200), "1.200ms");
  EXPECT_EQ(ss_ms_timer(9999), "9.999ms");
  EXPECT_EQ(ss_ms_timer(59000), "59sec");
  EXPECT_EQ(ss_ms_timer(59999), "59sec");
  EXPECT_EQ(ss_ms_timer(60000), "1min");
  EXPECT_EQ(ss_ms_timer(299000), "4min59sec");
  EXPECT_EQ(ss_ms_timer(7200000), "120min");
  EXPECT_EQ(ss_ms_timer(0), "0ms");
  EXPECT_EQ(ss_ms_timer(-5), "0ms");
}

TEST(SsStates, NamesAndFilters) {
  EXPECT_EQ(ss_state_name(1), "ESTAB");
  EXPECT_EQ(ss_state_name(6), "TIME-WAIT");
  EXPECT_EQ(ss_state_name(10), "LISTEN");
  EXPECT_EQ(ss_state_filter("time-wait"), 1u << 6);
  EXPECT_EQ(ss_state_filter("listening"), 1u << 10);
  EXPECT_FALSE(ss_state_filter("bogus"));
  uint32_t def = ss_default_states();
  EXPECT_TRUE(def & (1u << 1));    // established
  EXPECT_TRUE(def & (1u << 5));    // fin-wait-2
  EXPECT_FALSE(def & (1u << 10));  // not listening
  EXPECT_FALSE(def & (1u << 6));   // not time-wait
  EXPECT_FALSE(def & (1u << 3));   // not syn-recv
  EXPECT_EQ(*ss_state_filter("connected") & (1u << 10), 0u);
  EXPECT_EQ(*ss_state_filter("synchronized") & (1u << 2), 0u);
}

preload::ViewSocket time_wait() {
  preload::ViewSocket s{};
  s.state = 6;
  s.local_addr = Ipv4Addr::of(10, 77, 0, 2).v;
  s.local_port = 6379;
  s.remote_addr = Ipv4Addr::of(10, 77, 0, 1).v;
  s.remote_port = 53338;
  s.orphan = 1;
  s.fd = -1;
  s.timer = 4;  // TimeWait
  s.timer_ms = 60000;
  return s;
}

TEST(SsLine, TimeWaitWithItsTimer) {
  SsOptions o;
  o.timers = true;
  o.process = true;
  std::string line = ss_line(time_wait(), {"redis-server", 42}, o, 1500);
  EXPECT_NE(line.find("TIME-WAIT"), std::string::npos) << line;
  EXPECT_NE(line.find("10.77.0.2:6379"), std::string::npos) << line;
  EXPECT_NE(line.find("10.77.0.1:53338"), std::string::npos) << line;
  EXPECT_NE(line.find("timer:(timewait,58sec,0)"), std::string::npos) << line;
  // Closed by the program: no process any more.
  EXPECT_EQ(line.find("users:"), std::string::npos) << line;
}

TEST(SsJson, OneObject) {
  EXPECT_EQ(ss_json(time_wait(), {"redis-server", 42}, 0),
            "{\"state\":\"TIME-WAIT\",\"recv_q\":0,\"send_q\":0,\"local\":\"10.77.0.2:6379\","
            "\"peer\":\"10.77.0.1:53338\",\"pid\":42,\"program\":\"redis-server\",\"fd\":-1,"
            "\"orphan\":true,\"timer\":{\"name\":\"timewait\",\"ms\":60000,\"count\":0}}");
}

}  // namespace
}  // namespace veer::tools
