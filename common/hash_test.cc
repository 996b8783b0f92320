#include "common/hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace memento {
namespace {

// Pearson chi-square statistic of `counts` against a uniform distribution.
double ChiSquare(const std::vector<int>& counts, int total) {
  const double expected = static_cast<double>(total) / static_cast<double>(counts.size());
  double chi = 0;
  for (int c : counts) chi += (c - expected) * (c - expected) / expected;
  return chi;
}

std::string SequentialKey(int i) { return "key:" + std::to_string(i); }

TEST(HashTest, IsDeterministic) {
  const std::string data = "the quick brown fox jumps over the lazy dog, twice over";
  for (size_t len = 0; len <= data.size(); ++len) {
    std::string_view piece(data.data(), len);
    EXPECT_EQ(Hash64(piece), Hash64(std::string(piece)));
    EXPECT_EQ(Hash64(piece, 7), Hash64(piece, 7));
  }
}

TEST(HashTest, SeedChangesTheHash) {
  EXPECT_NE(Hash64("key:1", 0), Hash64("key:1", 1));
  EXPECT_NE(Hash64("", 0), Hash64("", 1));
}

TEST(HashTest, EveryLengthFrom0To64Differs) {
  // Same byte repeated, and all zero bytes: only the length distinguishes them.
  for (char fill : {'\0', 'a', '\xff'}) {
    std::set<uint64_t> seen;
    for (size_t len = 0; len <= 64; ++len) seen.insert(Hash64(std::string(len, fill)));
    EXPECT_EQ(seen.size(), 65u) << "fill byte " << static_cast<int>(fill);
  }
}

TEST(HashTest, EveryPrefixOfOneStringDiffers) {
  std::string data;
  for (int i = 0; i < 200; ++i) data.push_back(static_cast<char>(i * 37));
  std::set<uint64_t> seen;
  for (size_t len = 0; len <= data.size(); ++len) seen.insert(Hash64({data.data(), len}));
  EXPECT_EQ(seen.size(), data.size() + 1);
}

TEST(HashTest, EveryByteOfTheInputMatters) {
  // Flip one byte at every position for every length: the hash must change.
  for (size_t len = 1; len <= 100; ++len) {
    const std::string base(len, 'x');
    const uint64_t h = Hash64(base);
    for (size_t pos = 0; pos < len; ++pos) {
      std::string changed = base;
      changed[pos] = 'y';
      EXPECT_NE(Hash64(changed), h) << "len " << len << " pos " << pos;
    }
  }
}

TEST(HashTest, BinaryDataWithNulBytes) {
  EXPECT_NE(Hash64(std::string_view("a\0b", 3)), Hash64(std::string_view("a\0c", 3)));
  EXPECT_NE(Hash64(std::string_view("a\0", 2)), Hash64("a"));
  EXPECT_NE(Hash64(std::string_view("\0", 1)), Hash64(""));
}

TEST(HashTest, LowBitsOfSequentialKeysAreUniform) {
  constexpr int kKeys = 100000;
  constexpr int kBuckets = 1024;  // 10 low bits, as a hash map bucket index uses
  std::vector<int> counts(kBuckets);
  for (int i = 0; i < kKeys; ++i) ++counts[Hash64(SequentialKey(i)) & (kBuckets - 1)];
  // 1023 degrees of freedom: mean 1023, sd ~45. 1300 is > 6 sd out.
  EXPECT_LT(ChiSquare(counts, kKeys), 1300.0);
}

TEST(HashTest, HighBitsOfSequentialKeysAreUniform) {
  constexpr int kKeys = 100000;
  constexpr int kBuckets = 256;  // 8 high bits, as the table's shard index uses
  std::vector<int> counts(kBuckets);
  for (int i = 0; i < kKeys; ++i) ++counts[Hash64(SequentialKey(i)) >> 56];
  // 255 degrees of freedom: mean 255, sd ~23. 400 is > 6 sd out.
  EXPECT_LT(ChiSquare(counts, kKeys), 400.0);
}

TEST(HashTest, OneBitFlipChangesAboutHalfTheOutputBits) {
  // Avalanche: averaged over many inputs and bit positions, a one-bit input change
  // flips close to 32 of the 64 output bits.
  for (size_t len : {1, 3, 4, 8, 12, 16, 17, 33, 64, 100}) {
    long flipped = 0;
    long trials = 0;
    for (int sample = 0; sample < 50; ++sample) {
      std::string base = SequentialKey(sample * 7919);
      base.resize(len, 'k');
      const uint64_t h = Hash64(base);
      for (size_t bit = 0; bit < len * 8; ++bit) {
        std::string changed = base;
        changed[bit / 8] = static_cast<char>(changed[bit / 8] ^ (1 << (bit % 8)));
        flipped += std::popcount(h ^ Hash64(changed));
        ++trials;
      }
    }
    const double mean = static_cast<double>(flipped) / static_cast<double>(trials);
    EXPECT_GT(mean, 30.0) << "len " << len;
    EXPECT_LT(mean, 34.0) << "len " << len;
  }
}

TEST(HashTest, NoCollisionsAmongAMillionSequentialKeys) {
  std::vector<uint64_t> hashes;
  hashes.reserve(1000000);
  for (int i = 0; i < 1000000; ++i) hashes.push_back(Hash64(SequentialKey(i)));
  std::sort(hashes.begin(), hashes.end());
  EXPECT_EQ(std::adjacent_find(hashes.begin(), hashes.end()), hashes.end());
}

}  // namespace
}  // namespace memento
