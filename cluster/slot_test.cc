#include "cluster/slot.h"

#include <gtest/gtest.h>

#include <string>

namespace memento::cluster {
namespace {

TEST(Murmur3Test, StandardVectors) {
  EXPECT_EQ(Murmur3_32("", 0), 0u);
  EXPECT_EQ(Murmur3_32("", 1), 0x514e28b7u);
  EXPECT_EQ(Murmur3_32("", 0xffffffffu), 0x81f16f39u);
  EXPECT_EQ(Murmur3_32(std::string(4, '\0'), 0), 0x2362f9deu);
  EXPECT_EQ(Murmur3_32("aaaa", 0x9747b28cu), 0x5a97808au);
  EXPECT_EQ(Murmur3_32("aaa", 0x9747b28cu), 0x283e0130u);
  EXPECT_EQ(Murmur3_32("aa", 0x9747b28cu), 0x5d211726u);
  EXPECT_EQ(Murmur3_32("a", 0x9747b28cu), 0x7fa09ea6u);
  EXPECT_EQ(Murmur3_32("Hello, world!", 0x9747b28cu), 0x24884cbau);
  EXPECT_EQ(Murmur3_32("The quick brown fox jumps over the lazy dog", 0x9747b28cu), 0x2fa826cdu);
}

TEST(Murmur3Test, EmptyInputSeedZeroIsZero) {
  // fmix32(0 ^ 0) = 0: nothing is mixed in and the finaliser keeps 0.
  EXPECT_EQ(Murmur3_32(std::string_view(), 0), 0u);
}

TEST(KeySlotTest, OriginalMementoValues) {
  EXPECT_EQ(KeySlot("a"), 1100u);
  EXPECT_EQ(KeySlot("b"), 83u);
  EXPECT_EQ(KeySlot("foo"), 3088u);
  EXPECT_EQ(KeySlot("bar"), 7169u);
  EXPECT_EQ(KeySlot(""), 1718u);
}

TEST(KeySlotTest, AlwaysBelowSlotCount) {
  for (int i = 0; i < 10000; ++i) EXPECT_LT(KeySlot("key:" + std::to_string(i)), kSlotCount);
}

TEST(HashTagTest, TagIsHashed) {
  EXPECT_EQ(HashTag("{user1}.a"), "user1");
  EXPECT_EQ(KeySlot("{user1}.a"), KeySlot("user1"));
  EXPECT_EQ(KeySlot("{user1}.b"), KeySlot("user1"));
  EXPECT_EQ(HashTag("x{tag}y{other}"), "tag");
}

TEST(HashTagTest, EmptyTagHashesWholeKey) {
  EXPECT_EQ(HashTag("{}x"), "{}x");
  EXPECT_EQ(KeySlot("{}x"), Murmur3_32("{}x", kSlotHashSeed) % kSlotCount);
  // First '{', then the first '}' after it: empty, so the whole key (not "y").
  EXPECT_EQ(HashTag("x{}{y}"), "x{}{y}");
}

TEST(HashTagTest, UnclosedOrNoBraceHashesWholeKey) {
  EXPECT_EQ(HashTag("{a"), "{a");
  EXPECT_EQ(HashTag("a}"), "a}");
  EXPECT_EQ(HashTag("}a{"), "}a{");
  EXPECT_EQ(HashTag("plain"), "plain");
  EXPECT_EQ(HashTag("{{a}"), "{a");
}

}  // namespace
}  // namespace memento::cluster
