// %{ }% blocks asserting on tcp_info fields, evaluated without Python.
#include "tools/drill/tcpi_assert.h"

#include <gtest/gtest.h>

namespace veer::drill {
namespace {

using Kind = CodeOutcome::Kind;

core::TcpInfo info() {
  core::TcpInfo i;
  i.snd_cwnd = 10;
  i.rtt_us = 100000;
  i.ca_state = 0;
  i.lost = 2;
  return i;
}

TEST(TcpiAssert, ComparisonsOnFields) {
  EXPECT_EQ(run_tcpi_asserts("assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd", info()).kind, Kind::Pass);
  CodeOutcome o = run_tcpi_asserts("assert tcpi_snd_cwnd == 20, tcpi_snd_cwnd", info());
  EXPECT_EQ(o.kind, Kind::Fail);
  EXPECT_EQ(o.what, "`assert tcpi_snd_cwnd == 20, tcpi_snd_cwnd` failed: tcpi_snd_cwnd = 10");
}

TEST(TcpiAssert, StatementsBooleansAndChainedComparisons) {
  EXPECT_EQ(run_tcpi_asserts("assert 5 <= tcpi_snd_cwnd <= 10 and not tcpi_rtt > 100000\n"
                             "assert (tcpi_ca_state == 1 or tcpi_lost == 2); assert tcpi_lost",
                             info())
                .kind,
            Kind::Pass);
  EXPECT_EQ(run_tcpi_asserts("assert 5 <= tcpi_snd_cwnd < 10", info()).kind, Kind::Fail);
  // The message after the comma is Python's business, not evaluated.
  EXPECT_EQ(run_tcpi_asserts("assert tcpi_snd_cwnd != 0, \"cwnd %d, %d\" % (1, 2)", info()).kind,
            Kind::Pass);
}

TEST(TcpiAssert, AnythingElseIsUnsupported) {
  EXPECT_EQ(run_tcpi_asserts("print(tcpi_rtt)", info()).kind, Kind::Unsupported);
  CodeOutcome o = run_tcpi_asserts("assert tcpi_delivery_rate > 0", info());
  EXPECT_EQ(o.kind, Kind::Unsupported);
  EXPECT_NE(o.what.find("tcpi_delivery_rate (veer does not report it)"), std::string::npos)
      << o.what;
  EXPECT_EQ(run_tcpi_asserts("assert tcpi_rtt / 1000 < 200", info()).kind, Kind::Unsupported);
}

}  // namespace
}  // namespace veer::drill
