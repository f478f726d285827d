// Backquoted commands as veer knobs.
#include "tools/drill/sysctls.h"

#include <gtest/gtest.h>

namespace veer::drill {
namespace {

// The last assignment to `name`: the one that counts.
const SysctlAssignment* find(const CommandPlan& p, const std::string& name) {
  const SysctlAssignment* found = nullptr;
  for (const auto& a : p.sets)
    if (a.name == name) found = &a;
  return found;
}

TEST(DrillSysctls, DefaultsShBothCopies) {
  CommandPlan kernel = plan_command("./defaults.sh");
  EXPECT_TRUE(kernel.unsupported.empty());
  ASSERT_TRUE(find(kernel, "net.ipv4.tcp_rmem"));
  EXPECT_EQ(find(kernel, "net.ipv4.tcp_rmem")->value, "4096 540000 15728640");
  EXPECT_TRUE(find(kernel, "net.ipv4.tcp_rmem")->baseline);
  EXPECT_EQ(find(kernel, "net.ipv4.tcp_syn_retries")->value, "5");
  EXPECT_TRUE(find(kernel, "net.ipv4.tcp_fastopen"));
  EXPECT_FALSE(find(kernel, "net.ipv4.tcp_ecn_option"));
  CommandPlan google = plan_command("../../common/defaults.sh");
  EXPECT_FALSE(find(google, "net.ipv4.tcp_fastopen"));
  EXPECT_TRUE(find(google, "net.ipv4.tcp_ecn_option"));
}

TEST(DrillSysctls, SetSysctlsWithContinuationsAndSysctlLines) {
  CommandPlan p = plan_command(
      "./defaults.sh\n./set_sysctls.py /proc/sys/net/ipv4/tcp_slow_start_after_idle=1 \\\n"
      "\t\t /proc/sys/net/ipv4/tcp_min_tso_segs=10\n");
  EXPECT_TRUE(p.unsupported.empty());
  ASSERT_TRUE(find(p, "net.ipv4.tcp_min_tso_segs"));
  EXPECT_FALSE(find(p, "net.ipv4.tcp_min_tso_segs")->baseline);
  EXPECT_EQ(find(p, "net.ipv4.tcp_slow_start_after_idle")->value, "1");
  CommandPlan s = plan_command(
      "sysctl -q net.ipv4.tcp_syn_retries=1; sysctl -q "
      "net.ipv4.tcp_rmem=\"4096 87380 3145728\"");
  EXPECT_EQ(find(s, "net.ipv4.tcp_syn_retries")->value, "1");
  EXPECT_EQ(find(s, "net.ipv4.tcp_rmem")->value, "4096 87380 3145728");
  EXPECT_TRUE(plan_command("/tmp/sysctl_restore_${PPID}.sh").sets.empty());
  EXPECT_TRUE(plan_command("/tmp/sysctl_restore_${PPID}.sh").unsupported.empty());
}

TEST(DrillSysctls, OtherCommandsAreUnsupported) {
  EXPECT_EQ(plan_command("ip link set dev tun0 mtu 1400").unsupported,
            "shell command `ip link set dev tun0 mtu 1400`");
  EXPECT_FALSE(plan_command("sysctl net.ipv4.tcp_sack").unsupported.empty());
}

TEST(DrillSysctls, KnobsAreSetThroughTheRegistry) {
  config::Config c;
  auto origin = config::Origin::from_file("x.pkt", 1);
  EXPECT_EQ(apply_sysctl(c, {"net.ipv4.tcp_syn_retries", "2", false}, origin), "");
  EXPECT_EQ(c.get_int("net.ipv4.tcp_syn_retries"), 2);
  EXPECT_NE(apply_sysctl(c, {"net.ipv4.tcp_syn_retries", "300", false}, origin), "");
  EXPECT_EQ(apply_sysctl(c, {"net.ipv4.tcp_min_tso_segs", "10", false}, origin), "");
  EXPECT_EQ(c.get_int("net.ipv4.tcp_min_tso_segs"), 10);
}

TEST(DrillSysctls, SysctlsWithoutKnobs) {
  config::Config c;
  auto origin = config::Origin::from_file("x.pkt", 1);
  // What veer does anyway, or Linux's default (which veer mirrors by design).
  EXPECT_EQ(apply_sysctl(c, {"net.ipv4.tcp_slow_start_after_idle", "0", false}, origin), "");
  EXPECT_EQ(apply_sysctl(c, {"net.ipv4.tcp_slow_start_after_idle", "1", false}, origin), "");
  EXPECT_EQ(apply_sysctl(c, {"net.ipv4.tcp_tso_win_divisor", "10", false}, origin),
            "");  // no effect
  EXPECT_NE(apply_sysctl(c, {"net.ipv4.tcp_pacing_ss_ratio", "100", false}, origin), "");
  EXPECT_NE(apply_sysctl(c, {"net.ipv4.tcp_reordering", "10", false}, origin), "");
  EXPECT_EQ(apply_sysctl(c, {"net.ipv4.tcp_reordering", "10", true}, origin), "");  // baseline
  EXPECT_EQ(apply_sysctl(c, {"net.ipv4.tcp_fastopen", "0x1", false}, origin), "");
  EXPECT_EQ(apply_sysctl(c, {"net.ipv4.no_such_thing", "1", true}, origin),
            "sysctl net.ipv4.no_such_thing is unknown to veer");
}

}  // namespace
}  // namespace veer::drill
