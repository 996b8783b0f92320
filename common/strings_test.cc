#include "common/strings.h"

#include <gtest/gtest.h>

#include <string>

namespace memento {
namespace {

TEST(EqualsIgnoreCaseTest, IgnoresAsciiCaseOnEitherSide) {
  EXPECT_TRUE(EqualsIgnoreCase("GET", "get"));
  EXPECT_TRUE(EqualsIgnoreCase("get", "GET"));
  EXPECT_TRUE(EqualsIgnoreCase("ClusterInfo", "cLUSTERiNFO"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
}

TEST(EqualsIgnoreCaseTest, DifferentLengthsOrLettersDiffer) {
  EXPECT_FALSE(EqualsIgnoreCase("get", "getp"));
  EXPECT_FALSE(EqualsIgnoreCase("getp", "get"));
  EXPECT_FALSE(EqualsIgnoreCase("get", "gex"));
  EXPECT_FALSE(EqualsIgnoreCase("", "a"));
}

TEST(EqualsIgnoreCaseTest, OnlyLettersFold) {
  // '@' (0x40) and '`' (0x60) sit just outside 'A'..'Z' and 'a'..'z': no folding there.
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));
  EXPECT_FALSE(EqualsIgnoreCase("[", "{"));
  // Bytes above 0x7f are compared as they are (no locale).
  EXPECT_TRUE(EqualsIgnoreCase("\xc3\x89", "\xc3\x89"));
  EXPECT_FALSE(EqualsIgnoreCase("\xc3\x89", "\xc3\xa9"));
  // NUL is an ordinary byte.
  EXPECT_TRUE(EqualsIgnoreCase(std::string("A\0b", 3), std::string("a\0B", 3)));
  EXPECT_FALSE(EqualsIgnoreCase(std::string("a\0", 2), "a"));
}

TEST(EqualsIgnoreCaseTest, UsableAtCompileTime) {
  static_assert(EqualsIgnoreCase("Set", "SET"));
  static_assert(!EqualsIgnoreCase("set", "sex"));
  static_assert(AsciiToLower('Q') == 'q' && AsciiToLower('q') == 'q' && AsciiToLower('1') == '1');
}

}  // namespace
}  // namespace memento
