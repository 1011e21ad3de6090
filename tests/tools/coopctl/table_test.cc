#include "tools/coopctl/table.h"

#include <sstream>

#include "gtest/gtest.h"

namespace coop::ctl {
namespace {

TEST(TableTest, CountsCharactersNotBytes) {
  EXPECT_EQ(CharCount("abc"), 3u);
  EXPECT_EQ(CharCount("Селятино"), 8u);
  EXPECT_EQ(CharCount("Қазақстан «ТЛЦ»"), 15u);
}

TEST(TableTest, TruncatesWholeCharactersAndMarksTheCut) {
  EXPECT_EQ(Truncate("Селятино", 8), "Селятино");
  EXPECT_EQ(Truncate("Селятино", 5), "Селя…");
  EXPECT_EQ(Truncate("abcdef", 1), "…");
  EXPECT_EQ(Truncate("abcdef", 0), "");
}

TEST(TableTest, PadsColumnsToTheWidestCellInCharacters) {
  Table table({"ID", "NAME"});
  table.AddRow({"selyatino", "ТЛЦ «Селятино»"});
  table.AddRow({"a", "b"});
  std::ostringstream out;
  table.Print(out);
  EXPECT_EQ(out.str(),
            "ID         NAME\n"
            "selyatino  ТЛЦ «Селятино»\n"
            "a          b\n");
}

TEST(TableTest, LongCellsAreCutUnlessTheTableKeepsThemWhole) {
  const std::string long_cell(70, 'x');
  Table cut({"C"});
  cut.AddRow({long_cell});
  std::ostringstream cut_out;
  cut.Print(cut_out);
  EXPECT_EQ(cut_out.str(), "C\n" + std::string(59, 'x') + "…\n");
  Table whole({"C"}, /*max_cell_chars=*/0);
  whole.AddRow({long_cell});
  std::ostringstream whole_out;
  whole.Print(whole_out);
  EXPECT_EQ(whole_out.str(), "C\n" + long_cell + "\n");
}

}  // namespace
}  // namespace coop::ctl
