// The expectations list and its verdicts.
#include "tools/drill/expectations.h"

#include <gtest/gtest.h>

namespace veer::drill {
namespace {

Expectations list() {
  std::string err;
  auto l = parse_expectations(
      "# comment\n\na.pkt FAIL timestamps  # trailing\nb.pkt UNSUPPORTED TCP_INFO\n", &err);
  EXPECT_TRUE(l) << err;
  return l ? *l : Expectations{};
}

TEST(DrillExpectations, Parses) {
  Expectations l = list();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l["a.pkt"].status, Outcome::Status::Fail);
  EXPECT_EQ(l["a.pkt"].reason, "timestamps");
  EXPECT_EQ(l["b.pkt"].line, 4);
}

TEST(DrillExpectations, RejectsMalformedLines) {
  std::string err;
  EXPECT_FALSE(parse_expectations("a.pkt PASS fine\n", &err));
  EXPECT_FALSE(parse_expectations("a.pkt FAIL\n", &err));
  EXPECT_FALSE(parse_expectations("a.pkt FAIL x\na.pkt FAIL y\n", &err));
}

TEST(DrillExpectations, Verdicts) {
  Expectations l = list();
  EXPECT_TRUE(judge("c.pkt", Outcome::pass(), l, "e.txt").ok);
  EXPECT_FALSE(judge("c.pkt", Outcome::fail("x"), l, "e.txt").ok);
  EXPECT_TRUE(judge("a.pkt", Outcome::fail("x"), l, "e.txt").ok);
  EXPECT_FALSE(judge("a.pkt", Outcome::unsupported("x"), l, "e.txt").ok);
  Verdict now = judge("a.pkt", Outcome::pass(), l, "e.txt");
  EXPECT_FALSE(now.ok);
  EXPECT_EQ(now.message, "now passes: remove it from e.txt (line 3)");
}

}  // namespace
}  // namespace veer::drill
