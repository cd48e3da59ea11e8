#include <gtest/gtest.h>

#include "switch/text_table.h"

namespace tapswitch {
namespace {

TEST(TextTable, AlignsColumns) {
  TextTable t({"NAME", "STATE"});
  t.row({"vm1", "up"});
  t.row({"a-long-name", "down"});
  EXPECT_EQ(t.render(),
            "NAME         STATE\n"
            "vm1          up\n"
            "a-long-name  down\n");
}

TEST(TextTable, EmptyTableHasItsHeader) { EXPECT_EQ(TextTable({"MAC", "PORT"}).render(), "MAC  PORT\n"); }

}  // namespace
}  // namespace tapswitch
