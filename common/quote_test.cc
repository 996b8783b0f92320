#include "common/quote.h"

#include <gtest/gtest.h>

#include <string>

namespace memento {
namespace {

TEST(QuoteTest, PrintableBytesStayAsTheyAre) { EXPECT_EQ(QuoteBytes("a b~"), "\"a b~\""); }

TEST(QuoteTest, CEscapesAsRedisPrintsThem) {
  EXPECT_EQ(QuoteBytes("\\\"\n\r\t\a\b"), R"("\\\"\n\r\t\a\b")");
}

TEST(QuoteTest, OtherBytesAreLowerCaseHex) {
  EXPECT_EQ(QuoteBytes(std::string("\x00\x1f\x7f\xff", 4)), R"("\x00\x1f\x7f\xff")");
}

TEST(QuoteTest, AppendKeepsWhatIsThere) {
  std::string out = "x ";
  AppendQuoted("", &out);
  EXPECT_EQ(out, "x \"\"");
}

}  // namespace
}  // namespace memento
