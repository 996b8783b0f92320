#include "common/glob.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace memento {
namespace {

TEST(GlobTest, LiteralMatchesOnlyItself) {
  EXPECT_TRUE(GlobMatch("hello", "hello"));
  EXPECT_FALSE(GlobMatch("hello", "hell"));
  EXPECT_FALSE(GlobMatch("hello", "hello!"));
  EXPECT_TRUE(GlobMatch("", ""));
  EXPECT_FALSE(GlobMatch("", "a"));
}

TEST(GlobTest, StarMatchesAnyRunIncludingEmpty) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("h*llo", "hllo"));
  EXPECT_TRUE(GlobMatch("h*llo", "heeeello"));
  EXPECT_TRUE(GlobMatch("user:*", "user:1"));
  EXPECT_FALSE(GlobMatch("user:*", "users:1"));
  EXPECT_TRUE(GlobMatch("**a**", "xxaxx"));
  EXPECT_TRUE(GlobMatch("*a*b", "aXbXab"));
  EXPECT_FALSE(GlobMatch("*a*b", "aXbXa"));
}

TEST(GlobTest, QuestionMarkMatchesExactlyOneByte) {
  EXPECT_TRUE(GlobMatch("h?llo", "hello"));
  EXPECT_TRUE(GlobMatch("h?llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h?llo", "hllo"));
  EXPECT_FALSE(GlobMatch("?", ""));
}

TEST(GlobTest, SetsNegationAndRanges) {
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[ae]llo", "hillo"));
  EXPECT_FALSE(GlobMatch("h[^e]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[^e]llo", "hallo"));
  EXPECT_TRUE(GlobMatch("h[a-b]llo", "hbllo"));
  EXPECT_FALSE(GlobMatch("h[a-b]llo", "hcllo"));
  EXPECT_TRUE(GlobMatch("[z-a]", "m"));  // ends in either order
}

TEST(GlobTest, BackslashEscapesSpecialBytes) {
  EXPECT_TRUE(GlobMatch("a\\*b", "a*b"));
  EXPECT_FALSE(GlobMatch("a\\*b", "axb"));
  EXPECT_TRUE(GlobMatch("\\?", "?"));
  EXPECT_TRUE(GlobMatch("[\\]]", "]"));
  EXPECT_TRUE(GlobMatch("[\\-]", "-"));
}

TEST(GlobTest, RedisQuirksAreKept) {
  EXPECT_FALSE(GlobMatch("[]", "a"));    // empty set: nothing
  EXPECT_TRUE(GlobMatch("[^]", "a"));    // negated empty set: anything
  EXPECT_TRUE(GlobMatch("a[bc", "ab"));  // unterminated set runs to the end
  EXPECT_FALSE(GlobMatch("a[bc", "a"));
  EXPECT_TRUE(GlobMatch("a\\", "a\\"));  // trailing backslash is itself
  EXPECT_TRUE(GlobMatch("[a-]", "]"));   // "a-]" is the range ']'..'a'
  EXPECT_TRUE(GlobMatch("[a-]", "a"));
  EXPECT_FALSE(GlobMatch("[a-]", "b"));
}

TEST(GlobTest, BinarySafe) {
  std::string key("a\0b\xff", 4);
  EXPECT_TRUE(GlobMatch("a?b*", key));
  EXPECT_TRUE(GlobMatch(std::string("a\0*", 3), key));
  EXPECT_FALSE(GlobMatch("ab*", key));
  EXPECT_TRUE(GlobMatch("*[\x80-\xff]", key));  // ranges compare bytes unsigned
}

TEST(GlobTest, NoCaseFoldsAsciiLetters) {
  EXPECT_FALSE(GlobMatch("SAVE", "save"));
  EXPECT_TRUE(GlobMatch("SAVE", "save", /*nocase=*/true));
  EXPECT_TRUE(GlobMatch("S?v[A-F]", "save", /*nocase=*/true));
  EXPECT_TRUE(GlobMatch("*LEVEL", "loglevel", /*nocase=*/true));
}

TEST(GlobTest, LiteralDetection) {
  EXPECT_TRUE(GlobIsLiteral("loglevel"));
  EXPECT_TRUE(GlobIsLiteral(""));
  for (const char* p : {"a*", "a?", "a[b]", "a\\b"}) EXPECT_FALSE(GlobIsLiteral(p)) << p;
}

// The pathological case for backtracking matchers (Redis CVE-2022-36021): many stars,
// a final byte that never occurs, and a long text. It must finish at once.
TEST(GlobTest, ManyStarsAgainstLongTextRunInBoundedTime) {
  std::string pattern;
  for (int i = 0; i < 5000; ++i) pattern += "a*";
  pattern += "b";  // 10001 bytes
  const std::string text(100000, 'a');
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(GlobMatch(pattern, text));
  EXPECT_TRUE(GlobMatch(pattern, text + "b"));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(1));
}

TEST(GlobTest, LongPatternOfSetsAndQuestionMarksDoesNotRecurse) {
  // A recursive matcher would use one stack frame per element here.
  std::string pattern;
  for (int i = 0; i < 100000; ++i) pattern += (i % 2 == 0) ? "?" : "[a-z]";
  EXPECT_TRUE(GlobMatch(pattern, std::string(100000, 'q')));
  EXPECT_FALSE(GlobMatch(pattern, std::string(99999, 'q')));
}

}  // namespace
}  // namespace memento
