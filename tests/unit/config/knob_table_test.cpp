#include "core/config/knob_table.h"

#include <gtest/gtest.h>

#include "core/config/registry.h"

namespace veer::config {
namespace {

TEST(KnobTable, OneRowPerKnobWithDefaultRangeAndVariable) {
  std::string table = knob_table_markdown();
  EXPECT_TRUE(table.starts_with("| name | default | range | meaning |\n|---|---|---|---|\n"));
  size_t rows = 0;
  for (char c : table) rows += c == '\n' ? 1 : 0;
  EXPECT_EQ(rows, knobs().size() + 2);
  EXPECT_NE(table.find("| `net.ipv4.tcp_syn_retries` | `6` | 1..127 | SYN retransmissions of an "
                       "active open before connect() fails with ETIMEDOUT "
                       "(`VEER_TCP_SYN_RETRIES`) |\n"),
            std::string::npos)
      << table;
  // '|' inside a cell is escaped so the row keeps four columns.
  EXPECT_NE(table.find("| `log` | `warn` | error\\|warn\\|info\\|debug\\|trace | Log level "
                       "(`VEER_LOG`) |\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("| `log_file` | (empty) |"), std::string::npos);
}

}  // namespace
}  // namespace veer::config
