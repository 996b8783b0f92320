#include "common/numbers.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace memento {
namespace {

TEST(ParseInt64Test, AcceptsCanonicalIntegers) {
  int64_t v = 0;
  ASSERT_TRUE(ParseInt64("0", &v)); EXPECT_EQ(v, 0);
  ASSERT_TRUE(ParseInt64("42", &v)); EXPECT_EQ(v, 42);
  ASSERT_TRUE(ParseInt64("-17", &v)); EXPECT_EQ(v, -17);
  ASSERT_TRUE(ParseInt64("9223372036854775807", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::max());
  ASSERT_TRUE(ParseInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::min());
}

TEST(ParseInt64Test, RejectsNonCanonicalText) {
  int64_t v = 0;
  for (const char* bad : {"", "-", "+1", " 1", "1 ", "01", "-0", "1.0", "abc", "12a", "1\n",
                          "9223372036854775808", "-9223372036854775809", "1e3"}) {
    EXPECT_FALSE(ParseInt64(bad, &v)) << "'" << bad << "'";
  }
}

TEST(ParseFiniteDoubleTest, AcceptsDecimalAndExponentForms) {
  double v = 0;
  ASSERT_TRUE(ParseFiniteDouble("1.5", &v)); EXPECT_EQ(v, 1.5);
  ASSERT_TRUE(ParseFiniteDouble("-3", &v)); EXPECT_EQ(v, -3.0);
  ASSERT_TRUE(ParseFiniteDouble("+2", &v)); EXPECT_EQ(v, 2.0);
  ASSERT_TRUE(ParseFiniteDouble("2e3", &v)); EXPECT_EQ(v, 2000.0);
  ASSERT_TRUE(ParseFiniteDouble(".5", &v)); EXPECT_EQ(v, 0.5);
}

TEST(ParseFiniteDoubleTest, RejectsInfinityNanAndGarbage) {
  double v = 0;
  for (const char* bad : {"", "inf", "-inf", "nan", "1e400", "1.5x", " 1", "1 ", "abc", "+"}) {
    EXPECT_FALSE(ParseFiniteDouble(bad, &v)) << "'" << bad << "'";
  }
}

TEST(FormatDoubleTest, PrintsShortestPlainNotation) {
  EXPECT_EQ(FormatDouble(3.0), "3");
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(FormatDouble(10.5 + 0.1), "10.6");
  EXPECT_EQ(FormatDouble(-2.25), "-2.25");
  EXPECT_EQ(FormatDouble(1e20), "100000000000000000000");
  EXPECT_EQ(FormatDouble(-0.0), "0");
}

TEST(FormatDoubleTest, RoundTripsThroughParse) {
  for (double d : {0.1, 1.0 / 3, 123456.789, -1e-7, 5e300, 4.9e-324}) {
    double back = 0;
    ASSERT_TRUE(ParseFiniteDouble(FormatDouble(d), &back)) << d;
    EXPECT_EQ(back, d);
  }
}

TEST(FormatInt64Test, PrintsExtremes) {
  EXPECT_EQ(FormatInt64(0), "0");
  EXPECT_EQ(FormatInt64(std::numeric_limits<int64_t>::min()), "-9223372036854775808");
}

}  // namespace
}  // namespace memento
