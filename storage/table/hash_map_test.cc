#include "storage/table/hash_map.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/hash.h"

namespace memento::table {
namespace {

std::string Key(int i) { return "key:" + std::to_string(i); }

// A map with small verbs that hash keys the way Table does.
class HashMapTest : public testing::Test {
 protected:
  Entry* Find(std::string_view key) { return map_.Find(key, Hash64(key)); }
  bool Insert(std::string_view key, std::string_view value) {
    auto [entry, inserted] = map_.FindOrInsert(key, Hash64(key));
    entry->value = value;
    return inserted;
  }
  bool Erase(std::string_view key) { return map_.Erase(key, Hash64(key)); }
  std::string Value(std::string_view key) {
    Entry* e = Find(key);
    return e == nullptr ? "<absent>" : e->value;
  }
  // Runs a scan to completion, calling between_calls() after every Scan call, and
  // returns how many times each key was visited.
  template <typename Between>
  std::map<std::string, int> FullScan(Between&& between_calls) {
    std::map<std::string, int> visits;
    uint64_t cursor = 0;
    int calls = 0;
    do {
      cursor = map_.Scan(cursor, [&](std::string_view key, Entry&) { ++visits[std::string(key)]; });
      between_calls();
      EXPECT_LT(++calls, 10000000) << "scan does not terminate";
    } while (cursor != 0);
    return visits;
  }

  HashMap map_;
};

TEST_F(HashMapTest, EmptyMapFindsNothing) {
  EXPECT_EQ(Find("a"), nullptr);
  EXPECT_FALSE(Erase("a"));
  EXPECT_EQ(map_.size(), 0u);
  EXPECT_EQ(map_.bucket_count(), 0u);
}

TEST_F(HashMapTest, InsertFindErase) {
  EXPECT_TRUE(Insert("a", "1"));
  EXPECT_TRUE(Insert("b", "2"));
  EXPECT_EQ(map_.size(), 2u);
  EXPECT_EQ(Value("a"), "1");
  EXPECT_EQ(Value("b"), "2");
  EXPECT_TRUE(Erase("a"));
  EXPECT_FALSE(Erase("a"));
  EXPECT_EQ(Value("a"), "<absent>");
  EXPECT_EQ(Value("b"), "2");
  EXPECT_EQ(map_.size(), 1u);
}

TEST_F(HashMapTest, FindOrInsertReturnsTheExistingEntry) {
  auto [first, inserted] = map_.FindOrInsert("k", Hash64("k"));
  EXPECT_TRUE(inserted);
  EXPECT_EQ(first->value, "");
  EXPECT_EQ(first->expire_ms, kNoExpiry);
  first->value = "v";
  auto [again, inserted_again] = map_.FindOrInsert("k", Hash64("k"));
  EXPECT_FALSE(inserted_again);
  EXPECT_EQ(again, first);
  EXPECT_EQ(again->value, "v");
  EXPECT_EQ(map_.size(), 1u);
}

TEST_F(HashMapTest, BinaryKeysWithNulBytesAreDistinct) {
  const std::vector<std::string> keys = {std::string(),          std::string(1, '\0'),
                                         std::string(2, '\0'),   std::string("a\0b", 3),
                                         std::string("a\0c", 3), std::string("a", 1)};
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_TRUE(Insert(keys[i], std::to_string(i)));
  EXPECT_EQ(map_.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(Value(keys[i]), std::to_string(i));
  EXPECT_TRUE(Erase(std::string("a\0b", 3)));
  EXPECT_EQ(Value(std::string("a\0c", 3)), "4");
  EXPECT_EQ(Value("a"), "5");
}

TEST_F(HashMapTest, KeysWithTheSameHashShareABucketButStayDistinct) {
  constexpr uint64_t kSameHash = 42;
  for (int i = 0; i < 100; ++i) map_.FindOrInsert(Key(i), kSameHash).first->value = Key(i);
  for (int i = 0; i < 100; ++i) {
    Entry* e = map_.Find(Key(i), kSameHash);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->value, Key(i));
  }
  EXPECT_EQ(map_.Find(Key(100), kSameHash), nullptr);
  EXPECT_TRUE(map_.Erase(Key(50), kSameHash));
  EXPECT_EQ(map_.Find(Key(50), kSameHash), nullptr);
  EXPECT_NE(map_.Find(Key(51), kSameHash), nullptr);
}

TEST_F(HashMapTest, GrowthThroughManyRehashStepsKeepsEveryKeyFindable) {
  constexpr int kKeys = 100000;
  int inserts_while_rehashing = 0;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(Insert(Key(i), Key(i)));
    if (map_.rehashing()) {
      ++inserts_while_rehashing;
      // Mid-rehash, both old and new keys must be reachable.
      ASSERT_EQ(Value(Key(i / 2)), Key(i / 2));
      ASSERT_EQ(Value(Key(i)), Key(i));
    }
  }
  EXPECT_GT(inserts_while_rehashing, 1000);
  EXPECT_EQ(map_.size(), static_cast<size_t>(kKeys));
  for (int i = 0; i < kKeys; ++i) ASSERT_EQ(Value(Key(i)), Key(i)) << i;
  EXPECT_EQ(Value(Key(kKeys)), "<absent>");
}

TEST_F(HashMapTest, GrowsAtLoadFactorOneWithPowerOfTwoBuckets) {
  for (int i = 0; i < 5000; ++i) {
    Insert(Key(i), "");
    if (!map_.rehashing()) {
      const size_t buckets = map_.bucket_count();
      EXPECT_EQ(buckets & (buckets - 1), 0u);
      EXPECT_LE(map_.size(), buckets);
    }
  }
}

TEST_F(HashMapTest, ErasingMostKeysShrinksTheTable) {
  for (int i = 0; i < 10000; ++i) Insert(Key(i), "");
  while (map_.rehashing()) Find("x");
  const size_t full_buckets = map_.bucket_count();
  for (int i = 0; i < 9990; ++i) ASSERT_TRUE(Erase(Key(i)));
  while (map_.rehashing()) Find("x");
  EXPECT_LT(map_.bucket_count(), full_buckets / 64);
  for (int i = 9990; i < 10000; ++i) EXPECT_EQ(Value(Key(i)), "");
}

TEST_F(HashMapTest, EntryPointersSurviveRehashing) {
  ASSERT_TRUE(Insert("pinned", "v"));
  Entry* pinned = Find("pinned");
  for (int i = 0; i < 50000; ++i) Insert(Key(i), "");
  for (int i = 0; i < 50000; ++i) Erase(Key(i));
  EXPECT_EQ(Find("pinned"), pinned);
  EXPECT_EQ(pinned->value, "v");
}

TEST_F(HashMapTest, ScanOfEmptyMapCompletesAtOnce) {
  int visited = 0;
  EXPECT_EQ(map_.Scan(0, [&](std::string_view, Entry&) { ++visited; }), 0u);
  EXPECT_EQ(visited, 0);
}

TEST_F(HashMapTest, ScanOfStableMapVisitsEveryKeyExactlyOnce) {
  for (int i = 0; i < 1000; ++i) Insert(Key(i), "");
  while (map_.rehashing()) Find("x");
  auto visits = FullScan([] {});
  ASSERT_EQ(visits.size(), 1000u);
  for (const auto& [key, count] : visits) EXPECT_EQ(count, 1) << key;
}

TEST_F(HashMapTest, ScanVisitsEveryKeyWhenTheMapGrowsMidScan) {
  for (int i = 0; i < 1000; ++i) Insert(Key(i), "");
  int next = 1000;
  bool saw_rehash = false;
  // Each Scan call is followed by 20 inserts, up to 16x the starting size: the map
  // doubles several times during the scan, and many calls land mid-rehash. (With no
  // cap the scan would never end: the map would grow faster than the cursor moves.)
  auto visits = FullScan([&] {
    for (int j = 0; j < 20 && next < 16000; ++j) Insert(Key(next++), "");
    saw_rehash |= map_.rehashing();
  });
  EXPECT_TRUE(saw_rehash);
  EXPECT_GT(map_.size(), 8000u);
  for (int i = 0; i < 1000; ++i) EXPECT_GE(visits[Key(i)], 1) << Key(i);
}

TEST_F(HashMapTest, ScanVisitsEveryKeyWhenTheMapShrinksMidScan) {
  for (int i = 0; i < 1000; ++i) Insert(Key(i), "");  // kept for the whole scan
  for (int i = 0; i < 30000; ++i) Insert("tmp" + std::to_string(i), "");
  int next = 0;
  bool saw_rehash = false;
  auto visits = FullScan([&] {
    for (int j = 0; j < 500 && next < 30000; ++j) Erase("tmp" + std::to_string(next++));
    saw_rehash |= map_.rehashing();
  });
  EXPECT_TRUE(saw_rehash);
  for (int i = 0; i < 1000; ++i) EXPECT_GE(visits[Key(i)], 1) << Key(i);
}

TEST_F(HashMapTest, ScanVisitsEveryKeyWhenStartedMidRehash) {
  for (int i = 0; i < 4096; ++i) Insert(Key(i), "");
  Insert(Key(4096), "");  // crosses load factor 1
  ASSERT_TRUE(map_.rehashing());
  auto visits = FullScan([] {});
  for (int i = 0; i <= 4096; ++i) EXPECT_EQ(visits[Key(i)], 1) << Key(i);
}

TEST_F(HashMapTest, ClearRemovesEverythingAndTheMapStaysUsable) {
  for (int i = 0; i < 1000; ++i) Insert(Key(i), "");
  map_.Clear();
  EXPECT_EQ(map_.size(), 0u);
  EXPECT_EQ(map_.bucket_count(), 0u);
  EXPECT_FALSE(map_.rehashing());
  EXPECT_EQ(Find(Key(1)), nullptr);
  EXPECT_TRUE(Insert(Key(1), "again"));
  EXPECT_EQ(Value(Key(1)), "again");
}

TEST_F(HashMapTest, MoveLeavesTheSourceEmpty) {
  for (int i = 0; i < 100; ++i) Insert(Key(i), "");
  HashMap other = std::move(map_);
  EXPECT_EQ(other.size(), 100u);
  EXPECT_NE(other.Find(Key(7), Hash64(Key(7))), nullptr);
  EXPECT_EQ(map_.size(), 0u);  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_TRUE(Insert("fresh", ""));
}

TEST_F(HashMapTest, MemoryUsageFollowsEntriesAndLongKeys) {
  const size_t empty = map_.MemoryUsage();
  for (int i = 0; i < 100; ++i) Insert(Key(i), "");
  const size_t with_short_keys = map_.MemoryUsage();
  EXPECT_GT(with_short_keys, empty + 100 * sizeof(Entry));
  Insert(std::string(1000, 'k'), "");
  EXPECT_GE(map_.MemoryUsage(), with_short_keys + 1000);
  map_.Clear();
  EXPECT_EQ(map_.MemoryUsage(), empty);
}

}  // namespace
}  // namespace memento::table
