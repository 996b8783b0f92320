#include "storage/table/table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <span>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace memento::table {
namespace {

constexpr int64_t kNow = 1'000'000;

std::string Key(int i) { return "key:" + std::to_string(i); }

// A table with small verbs: Set / SetWithTtl / Get / Del, all at a chosen time.
class TableTest : public testing::Test {
 protected:
  void Set(std::string_view key, std::string_view value, int64_t now = kNow) {
    table_.Write(key, now, [&](Slot& slot) { slot.Create(now)->value = value; });
  }
  void SetWithTtl(std::string_view key, std::string_view value, int64_t ttl_ms,
                  int64_t now = kNow) {
    table_.Write(key, now, [&](Slot& slot) {
      Entry* e = slot.Create(now);
      e->value = value;
      e->expire_ms = now + ttl_ms;
    });
  }
  std::optional<std::string> Get(std::string_view key, int64_t now = kNow) {
    return table_.Read(key, now, [](const Entry* e) -> std::optional<std::string> {
      if (e == nullptr) return std::nullopt;
      return e->value;
    });
  }
  bool Del(std::string_view key, int64_t now = kNow) {
    return table_.Write(key, now, [](Slot& slot) { return slot.Erase(); });
  }
  // Keys and values of a complete Table::Scan with the given count hint.
  std::multiset<std::string> ScanAll(size_t count_hint, int64_t now = kNow) {
    std::multiset<std::string> keys;
    uint64_t cursor = 0;
    do {
      cursor = table_.Scan(cursor, count_hint, now,
                           [&](std::string_view key, const Entry&) { keys.emplace(key); });
    } while (cursor != 0);
    return keys;
  }

  Table table_;
};

TEST_F(TableTest, ReadOfMissingKeySeesNull) {
  EXPECT_TRUE(table_.Read("nope", kNow, [](const Entry* e) { return e == nullptr; }));
  EXPECT_EQ(Get("nope"), std::nullopt);
}

TEST_F(TableTest, WriteCreateThenReadSeesTheValue) {
  Set("k", "v");
  EXPECT_EQ(Get("k"), "v");
  EXPECT_EQ(table_.Read("k", kNow, [](const Entry* e) { return e->created_ms; }), kNow);
  EXPECT_EQ(table_.Size(), 1u);
}

TEST_F(TableTest, WriteSeesTheExistingEntryThroughTheSlot) {
  Set("k", "v");
  table_.Write("k", kNow, [](Slot& slot) {
    EXPECT_EQ(slot.key(), "k");
    ASSERT_NE(slot.entry(), nullptr);
    slot.Mutate()->value += "w";
  });
  EXPECT_EQ(Get("k"), "vw");
  table_.Write("other", kNow, [](Slot& slot) { EXPECT_EQ(slot.entry(), nullptr); });
  EXPECT_EQ(table_.Size(), 1u);
}

TEST_F(TableTest, ReadAndWriteReturnTheCallbackResult) {
  Set("k", "hello");
  EXPECT_EQ(table_.Read("k", kNow, [](const Entry* e) { return e->value.size(); }), 5u);
  EXPECT_EQ(table_.Write("k", kNow, [](Slot& s) { return std::string(s.key()) + "!"; }), "k!");
}

TEST_F(TableTest, BinaryKeysAreDistinct) {
  Set(std::string("a\0b", 3), "1");
  Set(std::string("a\0c", 3), "2");
  Set("a", "3");
  EXPECT_EQ(Get(std::string("a\0b", 3)), "1");
  EXPECT_EQ(Get(std::string("a\0c", 3)), "2");
  EXPECT_EQ(Get("a"), "3");
}

TEST_F(TableTest, CreateReplacesTheValueAndResetsTheTtl) {
  SetWithTtl("k", "old", 100, kNow);
  EXPECT_EQ(table_.ExpiresCount(), 1u);
  table_.Write("k", kNow + 10, [&](Slot& slot) {
    Entry* e = slot.Create(kNow + 10);
    EXPECT_EQ(e->value, "");
    EXPECT_EQ(e->expire_ms, kNoExpiry);
    EXPECT_EQ(e->created_ms, kNow + 10);
  });
  EXPECT_EQ(table_.ExpiresCount(), 0u);
  EXPECT_EQ(Get("k", kNow + 1000), "");  // no longer expires
  EXPECT_EQ(table_.Size(), 1u);
}

TEST_F(TableTest, SlotEraseRemovesOnlyALiveEntry) {
  Set("k", "v");
  EXPECT_TRUE(Del("k"));
  EXPECT_FALSE(Del("k"));
  EXPECT_EQ(Get("k"), std::nullopt);
  EXPECT_EQ(table_.Size(), 0u);
}

TEST_F(TableTest, LazyExpiryHidesTheExpiredKeyAndCountsIt) {
  std::vector<std::string> expired;
  table_.SetExpiryListener([&](std::string_view key) { expired.emplace_back(key); });
  SetWithTtl("k", "v", 100);
  EXPECT_EQ(Get("k", kNow + 99), "v");
  EXPECT_EQ(table_.ExpiredCount(), 0u);
  EXPECT_EQ(Get("k", kNow + 100), std::nullopt);  // expire_ms <= now: gone
  EXPECT_EQ(table_.ExpiredCount(), 1u);
  EXPECT_EQ(expired, std::vector<std::string>{"k"});
  EXPECT_EQ(table_.Size(), 0u);
  EXPECT_EQ(table_.ExpiresCount(), 0u);
  EXPECT_EQ(Get("k", kNow), std::nullopt);  // removed, not merely hidden
}

TEST_F(TableTest, WriteRemovesAnExpiredEntryBeforeTheCallback) {
  SetWithTtl("k", "v", 100);
  const bool saw_entry =
      table_.Write("k", kNow + 200, [](Slot& slot) { return slot.entry() != nullptr; });
  EXPECT_FALSE(saw_entry);
  EXPECT_EQ(table_.ExpiredCount(), 1u);
  EXPECT_EQ(table_.Size(), 0u);
}

TEST_F(TableTest, ErasingAnExpiredKeyReportsNothingErased) {
  SetWithTtl("k", "v", 100);
  EXPECT_FALSE(Del("k", kNow + 100));
  EXPECT_EQ(table_.ExpiredCount(), 1u);
}

TEST_F(TableTest, ReclaimExpiredRemovesExpiredKeysAndCallsTheListener) {
  std::set<std::string> expired;
  table_.SetExpiryListener([&](std::string_view key) { expired.emplace(key); });
  for (int i = 0; i < 1000; ++i) SetWithTtl(Key(i), "v", i < 500 ? 10 : 10000);
  for (int i = 1000; i < 2000; ++i) Set(Key(i), "v");
  ASSERT_EQ(table_.ExpiresCount(), 1000u);
  size_t removed = 0;
  for (int round = 0; round < 100; ++round) removed += table_.ReclaimExpired(kNow + 10, 100);
  EXPECT_EQ(removed, 500u);
  EXPECT_EQ(expired.size(), 500u);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(expired.count(Key(i)), 1u) << Key(i);
  EXPECT_EQ(table_.ExpiredCount(), 500u);
  EXPECT_EQ(table_.Size(), 1500u);
  EXPECT_EQ(table_.ExpiresCount(), 500u);
  EXPECT_EQ(Get(Key(600), kNow + 10), "v");
}

TEST_F(TableTest, ReclaimExpiredLooksAtAboutMaxChecksEntries) {
  // Whole buckets: the last chain may take it a few entries past max_checks.
  constexpr size_t kSlack = 5;
  for (int i = 0; i < 1000; ++i) SetWithTtl(Key(i), "v", 1);
  const size_t first = table_.ReclaimExpired(kNow + 1, 10);
  EXPECT_GE(first, 10u);
  EXPECT_LE(first, 10u + kSlack);
  size_t total = first;
  while (size_t n = table_.ReclaimExpired(kNow + 1, 10)) {
    EXPECT_LE(n, 10u + kSlack);
    total += n;
  }
  EXPECT_EQ(total, 1000u);
  EXPECT_EQ(table_.Size(), 0u);
}

TEST_F(TableTest, ReclaimExpiredLeavesLiveKeysAlone) {
  for (int i = 0; i < 100; ++i) SetWithTtl(Key(i), "v", 1000);
  EXPECT_EQ(table_.ReclaimExpired(kNow, 1000), 0u);
  EXPECT_EQ(table_.Size(), 100u);
  EXPECT_EQ(table_.ExpiredCount(), 0u);
}

TEST_F(TableTest, SizeAndExpiresCountFollowWrites) {
  Set("a", "1");
  SetWithTtl("b", "2", 100);
  SetWithTtl("c", "3", 100);
  EXPECT_EQ(table_.Size(), 3u);
  EXPECT_EQ(table_.ExpiresCount(), 2u);
  // PERSIST-like: clearing the expiry through the slot is accounted for.
  table_.Write("b", kNow, [](Slot& slot) { slot.SetExpire(kNoExpiry); });
  EXPECT_EQ(table_.ExpiresCount(), 1u);
  // EXPIRE-like on a key without TTL.
  table_.Write("a", kNow, [](Slot& slot) { slot.SetExpire(kNow + 5); });
  EXPECT_EQ(table_.ExpiresCount(), 2u);
  // Set a TTL then erase in the same callback: no trace left.
  table_.Write("d", kNow, [](Slot& slot) {
    slot.Create(kNow)->expire_ms = kNow + 5;
    slot.Erase();
  });
  EXPECT_TRUE(Del("c"));
  EXPECT_EQ(table_.Size(), 2u);
  EXPECT_EQ(table_.ExpiresCount(), 1u);
}

TEST_F(TableTest, ForEachVisitsLiveEntriesOnly) {
  for (int i = 0; i < 100; ++i) Set(Key(i), std::to_string(i));
  SetWithTtl("dead", "x", 1);
  std::map<std::string, std::string> seen;
  table_.ForEach(kNow + 1, [&](std::string_view key, const Entry& e) {
    seen.emplace(std::string(key), e.value);
  });
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(seen.count("dead"), 0u);
  EXPECT_EQ(seen["key:42"], "42");
}

TEST_F(TableTest, ScanOfEmptyTableCompletes) { EXPECT_TRUE(ScanAll(10).empty()); }

TEST_F(TableTest, ScanOfStableTableVisitsEveryKeyExactlyOnce) {
  for (int i = 0; i < 5000; ++i) Set(Key(i), "");
  for (size_t count : {1, 10, 1000}) {
    auto keys = ScanAll(count);
    EXPECT_EQ(keys.size(), 5000u) << "count " << count;
    EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 5000u);
  }
}

TEST_F(TableTest, ScanSkipsExpiredEntries) {
  Set("live", "");
  SetWithTtl("dead", "", 1);
  EXPECT_EQ(ScanAll(10, kNow + 1), std::multiset<std::string>{"live"});
}

TEST_F(TableTest, ScanVisitsEveryKeyWhileTheTableGrows) {
  for (int i = 0; i < 2000; ++i) Set(Key(i), "");
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int next = 2000;
  do {
    cursor = table_.Scan(cursor, 10, kNow,
                         [&](std::string_view key, const Entry&) { seen.emplace(key); });
    for (int j = 0; j < 20 && next < 40000; ++j) Set(Key(next++), "");
  } while (cursor != 0);
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(seen.count(Key(i)), 1u) << Key(i);
}

TEST_F(TableTest, ClearRemovesEverythingAndReturnsTheCount) {
  for (int i = 0; i < 300; ++i) SetWithTtl(Key(i), "v", 1000);
  EXPECT_EQ(table_.Clear(), 300u);
  EXPECT_EQ(table_.Size(), 0u);
  EXPECT_EQ(table_.ExpiresCount(), 0u);
  EXPECT_EQ(Get(Key(1)), std::nullopt);
  Set("again", "v");
  EXPECT_EQ(Get("again"), "v");
}

TEST_F(TableTest, MemoryUsageFollowsValues) {
  const size_t empty = table_.MemoryUsage();
  Set("big", std::string(100000, 'x'));
  EXPECT_GE(table_.MemoryUsage(), empty + 100000);
  EXPECT_TRUE(Del("big"));
  EXPECT_LT(table_.MemoryUsage(), empty + 1000);
}

TEST(TableShardsTest, ShardCountIsRoundedUpToAPowerOfTwo) {
  EXPECT_EQ(Table(0).shard_count(), 1u);
  EXPECT_EQ(Table(1).shard_count(), 1u);
  EXPECT_EQ(Table(100).shard_count(), 128u);
  EXPECT_EQ(Table().shard_count(), Table::kDefaultShards);
}

TEST(TableShardsTest, SingleShardTableWorks) {
  Table table(1);
  for (int i = 0; i < 1000; ++i) {
    table.Write(Key(i), kNow, [](Slot& slot) { slot.Create(kNow); });
  }
  EXPECT_EQ(table.Size(), 1000u);
  size_t visited = 0;
  uint64_t cursor = 0;
  do {
    cursor = table.Scan(cursor, 7, kNow, [&](std::string_view, const Entry&) { ++visited; });
  } while (cursor != 0);
  EXPECT_EQ(visited, 1000u);
}

// ---------------------------------------------------------------------------
// Concurrency (run these under -DMEMENTO_SANITIZE=thread).
// ---------------------------------------------------------------------------

// INCR through Write: read, add one, write back, all under the shard lock.
void Increment(Table* table, std::string_view key) {
  table->Write(key, kNow, [](Slot& slot) {
    Entry* e = slot.entry() != nullptr ? slot.Mutate() : slot.Create(kNow);
    int64_t n = 0;
    std::from_chars(e->value.data(), e->value.data() + e->value.size(), n);
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), n + 1);
    e->value.assign(buf, end);
  });
}

TEST(TableConcurrencyTest, FourThreadsIncrementingOneKeyEndExact) {
  constexpr int kThreads = 4;
  constexpr int kIncrements = 20000;
  Table table;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) Increment(&table, "counter");
    });
  }
  for (auto& th : threads) th.join();
  const std::string value =
      table.Read("counter", kNow, [](const Entry* e) { return e ? e->value : ""; });
  EXPECT_EQ(value, std::to_string(kThreads * kIncrements));
}

TEST(TableConcurrencyTest, ConcurrentWritersOnDifferentKeysLoseNothing) {
  constexpr int kThreads = 4;
  constexpr int kKeysPerThread = 5000;
  Table table(16);  // few shards, so threads really do meet on the same locks
  std::atomic<uint64_t> expired_seen{0};
  table.SetExpiryListener([&](std::string_view) { expired_seen.fetch_add(1); });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&table, t] {
      for (int i = 0; i < kKeysPerThread; ++i) {
        const std::string key = "t" + std::to_string(t) + ":" + std::to_string(i);
        table.Write(key, kNow, [&](Slot& slot) {
          Entry* e = slot.Create(kNow);
          e->value = key;
          if (i % 2 == 0) e->expire_ms = kNow + 1;  // half expire at kNow + 1
        });
        // Interleave reads, reclaims, scans and size queries with the writes.
        // (Another thread's ReclaimExpired at kNow + 1 may already have taken an
        // expiring key; the others must be there.)
        table.Read(key, kNow, [&](const Entry* e) {
          if (e != nullptr) {
            EXPECT_EQ(e->value, key);
          } else {
            EXPECT_EQ(i % 2, 0) << key;
          }
        });
        if (i % 100 == 0) {
          table.ReclaimExpired(kNow + 1, 20);
          table.Scan(0, 10, kNow, [](std::string_view, const Entry&) {});
          (void)table.Size();
          (void)table.MemoryUsage();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  while (table.ReclaimExpired(kNow + 1, 1000) > 0) {
  }
  constexpr size_t kTotal = kThreads * kKeysPerThread;
  EXPECT_EQ(table.Size(), kTotal / 2);
  EXPECT_EQ(table.ExpiresCount(), 0u);
  EXPECT_EQ(table.ExpiredCount(), kTotal / 2);
  EXPECT_EQ(expired_seen.load(), kTotal / 2);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 1; i < kKeysPerThread; i += 2) {
      const std::string key = "t" + std::to_string(t) + ":" + std::to_string(i);
      ASSERT_TRUE(table.Read(key, kNow + 1, [](const Entry* e) { return e != nullptr; }));
    }
  }
}

}  // namespace
}  // namespace memento::table

// ---------------------------------------------------------------------------
// The mutation sink: what the write-ahead log will see.

namespace memento::table {
namespace {

struct Recorded {
  storage::MutationType type;
  std::string key;
  std::string value;
  int64_t created_ms;
  int64_t expire_ms;
  int64_t number = 0;
  storage::ChangeReason reason = storage::ChangeReason::kCommand;
};

class RecordingSink : public MutationSink {
 public:
  void OnMutation(const storage::Mutation& m) override {
    std::lock_guard<std::mutex> lock(mu_);
    log_.push_back({m.type, std::string(m.key), std::string(m.value), m.created_ms, m.expire_ms,
                    m.number, m.reason});
  }
  std::vector<Recorded> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(log_, {});
  }

 private:
  std::mutex mu_;
  std::vector<Recorded> log_;
};

class TableSinkTest : public ::testing::Test {
 protected:
  TableSinkTest() { table_.SetMutationSink(&sink_); }
  RecordingSink sink_;
  Table table_{16};
};

TEST_F(TableSinkTest, CreateReportsPutOfTheFinalState) {
  table_.Write("k", 100, [](Slot& slot) {
    Entry* e = slot.Create(100);
    e->value = "v";
    slot.SetExpire(5000);
  });
  auto log = sink_.Take();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].type, storage::MutationType::kPut);
  EXPECT_EQ(log[0].key, "k");
  EXPECT_EQ(log[0].value, "v");
  EXPECT_EQ(log[0].created_ms, 100);
  EXPECT_EQ(log[0].expire_ms, 5000);
}

TEST_F(TableSinkTest, MutateReportsPut) {
  table_.Write("k", 100, [](Slot& slot) { slot.Create(100)->value = "a"; });
  sink_.Take();
  table_.Write("k", 200, [](Slot& slot) { slot.Mutate()->value += "b"; });
  auto log = sink_.Take();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].type, storage::MutationType::kPut);
  EXPECT_EQ(log[0].value, "ab");
  EXPECT_EQ(log[0].created_ms, 100);
}

storage::Mutation DeltaOf(storage::MutationType type, std::string_view bytes, int64_t number = 0) {
  storage::Mutation m;
  m.type = type;
  m.value = bytes;
  m.number = number;
  return m;
}

// APPEND, SETRANGE, INCRBY: the change is reported, not the whole value.
TEST_F(TableSinkTest, ApplyDeltaReportsTheDeltaItself) {
  const std::string big(1 << 20, 'b');
  table_.Write("k", 100, [&](Slot& slot) { slot.Create(100)->value = big; });
  table_.Write("n", 100, [](Slot& slot) { slot.Create(100)->value = "41"; });
  sink_.Take();
  EXPECT_TRUE(table_.Write("k", 200, [](Slot& slot) {
    return slot.ApplyDelta(DeltaOf(storage::MutationType::kAppend, "x"));
  }));
  EXPECT_TRUE(table_.Write("k", 200, [](Slot& slot) {
    return slot.ApplyDelta(DeltaOf(storage::MutationType::kSetRange, "S", 3));
  }));
  EXPECT_TRUE(table_.Write("n", 200, [](Slot& slot) {
    return slot.ApplyDelta(DeltaOf(storage::MutationType::kIncrBy, {}, -50));
  }));
  auto log = sink_.Take();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].type, storage::MutationType::kAppend);
  EXPECT_EQ(log[0].key, "k");
  EXPECT_EQ(log[0].value, "x");
  EXPECT_EQ(log[1].type, storage::MutationType::kSetRange);
  EXPECT_EQ(log[1].number, 3);
  EXPECT_EQ(log[2].type, storage::MutationType::kIncrBy);
  EXPECT_EQ(log[2].number, -50);
  table_.Read("k", 200, [&](const Entry* e) {
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->value.size(), big.size() + 1);
    EXPECT_EQ(e->value.substr(0, 5), "bbbSb");
    EXPECT_EQ(e->created_ms, 100);  // a delta keeps the entry's times
  });
  table_.Read("n", 200, [](const Entry* e) { EXPECT_EQ(e->value, "-9"); });
}

TEST_F(TableSinkTest, ADeltaThatCannotApplyChangesAndReportsNothing) {
  table_.Write("n", 100, [](Slot& slot) { slot.Create(100)->value = "not a number"; });
  sink_.Take();
  EXPECT_FALSE(table_.Write("n", 100, [](Slot& slot) {
    return slot.ApplyDelta(DeltaOf(storage::MutationType::kIncrBy, {}, 1));
  }));
  EXPECT_FALSE(table_.Write("absent", 100, [](Slot& slot) {
    return slot.ApplyDelta(DeltaOf(storage::MutationType::kAppend, "x"));
  }));
  EXPECT_TRUE(sink_.Take().empty());
}

// Anything else in the same callback (a second delta, an expiry change, Mutate, a
// new key) makes the report the whole resulting state, as before.
TEST_F(TableSinkTest, ADeltaWithOtherChangesReportsAPut) {
  table_.Write("k", 100, [](Slot& slot) { slot.Create(100)->value = "a"; });
  sink_.Take();
  table_.Write("k", 100, [](Slot& slot) {
    slot.ApplyDelta(DeltaOf(storage::MutationType::kAppend, "b"));
    slot.ApplyDelta(DeltaOf(storage::MutationType::kAppend, "c"));
  });
  table_.Write("k", 100, [](Slot& slot) {
    slot.ApplyDelta(DeltaOf(storage::MutationType::kAppend, "d"));
    slot.SetExpire(9000);
  });
  auto log = sink_.Take();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].type, storage::MutationType::kPut);
  EXPECT_EQ(log[0].value, "abc");
  EXPECT_EQ(log[1].type, storage::MutationType::kPut);
  EXPECT_EQ(log[1].value, "abcd");
  EXPECT_EQ(log[1].expire_ms, 9000);
}

TEST_F(TableSinkTest, AnExpiryRemovalAndAClearSayWhy) {
  table_.Write("k", 100, [](Slot& slot) {
    slot.Create(100)->value = "a";
    slot.SetExpire(150);
  });
  sink_.Take();
  table_.Read("k", 200, [](const Entry* e) { EXPECT_EQ(e, nullptr); });
  table_.Clear();
  auto log = sink_.Take();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].type, storage::MutationType::kDelete);
  EXPECT_EQ(log[0].reason, storage::ChangeReason::kExpiry);
  EXPECT_EQ(log[1].type, storage::MutationType::kClear);
  EXPECT_EQ(log[1].reason, storage::ChangeReason::kFlush);
}

TEST_F(TableSinkTest, SetExpireAloneReportsExpire) {
  table_.Write("k", 100, [](Slot& slot) { slot.Create(100)->value = "a"; });
  sink_.Take();
  table_.Write("k", 100, [](Slot& slot) { slot.SetExpire(9000); });
  auto log = sink_.Take();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].type, storage::MutationType::kExpire);
  EXPECT_EQ(log[0].expire_ms, 9000);
  // Setting the same expiry again changes nothing.
  table_.Write("k", 100, [](Slot& slot) { slot.SetExpire(9000); });
  EXPECT_TRUE(sink_.Take().empty());
}

TEST_F(TableSinkTest, EraseReportsDelete) {
  table_.Write("k", 100, [](Slot& slot) { slot.Create(100); });
  sink_.Take();
  table_.Write("k", 100, [](Slot& slot) { slot.Erase(); });
  auto log = sink_.Take();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].type, storage::MutationType::kDelete);
  EXPECT_EQ(log[0].key, "k");
}

TEST_F(TableSinkTest, NoChangeReportsNothing) {
  table_.Write("absent", 100, [](Slot& slot) { slot.Erase(); });
  table_.Write("absent", 100, [](Slot& slot) {
    slot.Create(100);
    slot.Erase();
  });
  table_.Write("absent", 100, [](Slot& slot) { return slot.entry() == nullptr; });
  table_.Read("absent", 100, [](const Entry*) {});
  EXPECT_TRUE(sink_.Take().empty());
}

TEST_F(TableSinkTest, ExpiryRemovalReportsDelete) {
  table_.Write("lazy", 100, [](Slot& slot) { slot.Create(100)->expire_ms = 150; });
  table_.Write("reaped", 100, [](Slot& slot) { slot.Create(100)->expire_ms = 150; });
  sink_.Take();
  table_.Read("lazy", 200, [](const Entry* e) { EXPECT_EQ(e, nullptr); });
  EXPECT_EQ(table_.ReclaimExpired(200, 100), 1u);
  auto log = sink_.Take();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].type, storage::MutationType::kDelete);
  EXPECT_EQ(log[0].key, "lazy");
  EXPECT_EQ(log[1].type, storage::MutationType::kDelete);
  EXPECT_EQ(log[1].key, "reaped");
}

TEST_F(TableSinkTest, ClearReportsOneClear) {
  for (int i = 0; i < 100; ++i) {
    table_.Write("k" + std::to_string(i), 100, [](Slot& slot) { slot.Create(100); });
  }
  sink_.Take();
  EXPECT_EQ(table_.Clear(), 100u);
  auto log = sink_.Take();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].type, storage::MutationType::kClear);
}

TEST_F(TableSinkTest, ConcurrentWritesAndClearStayOrdered) {
  // Replaying the sink's log must give the table's final state, whatever the
  // interleaving of writers and Clear.
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop.load() && i < 20000; ++i) {
        table_.Write("k" + std::to_string((i * 7 + t) % 500), 100,
                     [&](Slot& slot) { slot.Create(100)->value = std::to_string(i); });
      }
    });
  }
  for (int i = 0; i < 20; ++i) table_.Clear();
  stop = true;
  for (std::thread& w : writers) w.join();
  std::map<std::string, std::string> replayed;
  for (const Recorded& r : sink_.Take()) {
    if (r.type == storage::MutationType::kClear) replayed.clear();
    if (r.type == storage::MutationType::kPut) replayed[r.key] = r.value;
  }
  std::map<std::string, std::string> actual;
  table_.ForEach(100, [&](std::string_view k, const Entry& e) { actual[std::string(k)] = e.value; });
  EXPECT_EQ(replayed, actual);
}

}  // namespace
}  // namespace memento::table

namespace memento::table {
namespace {

// Table::Hold: another thread's write to a held key waits until the Hold ends, while
// the holding thread reads and writes its keys (and clears, holding every shard)
// without deadlocking on its own locks.
TEST(TableHoldTest, OtherThreadsWaitWhileTheOwnerWorks) {
  Table table;
  const std::vector<std::string_view> keys = {"a", "b", "c"};
  std::atomic<bool> written{false};
  std::thread other;
  {
    Table::Hold hold(table, keys);
    other = std::thread([&] {
      table.Write("b", kNow, [&](Slot& slot) { slot.Create(kNow)->value = "other"; });
      written = true;
    });
    table.Write("a", kNow, [](Slot& slot) { slot.Create(kNow)->value = "1"; });
    table.Write("b", kNow, [](Slot& slot) { slot.Create(kNow)->value = "2"; });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(written.load());  // "b"'s shard is held
    table.WriteMulti(std::vector<std::string_view>{"a", "c"}, kNow,
                     [](std::span<Slot* const> slots) { slots[1]->Create(kNow)->value = "3"; });
    EXPECT_EQ(table.Read("b", kNow, [](const Entry* e) { return e->value; }), "2");
  }
  other.join();
  EXPECT_TRUE(written.load());
  EXPECT_EQ(table.Read("b", kNow, [](const Entry* e) { return e->value; }), "other");
  EXPECT_EQ(table.Read("c", kNow, [](const Entry* e) { return e->value; }), "3");
}

TEST(TableHoldTest, HoldingEveryShardAllowsClearAndIteration) {
  Table table;
  table.Write("x", kNow, [](Slot& slot) { slot.Create(kNow)->value = "1"; });
  Table::Hold hold(table);
  size_t seen = 0;
  table.ForEach(kNow, [&](std::string_view, const Entry&) { ++seen; });
  EXPECT_EQ(seen, 1u);
  EXPECT_GT(table.MemoryUsage(), 0u);
  {
    Table::Hold nested(table);  // FLUSHALL inside EXEC: inert
    EXPECT_EQ(table.Clear(), 1u);
  }
  EXPECT_EQ(table.Scan(0, 10, kNow, [](std::string_view, const Entry&) {}), 0u);
  EXPECT_EQ(table.Size(), 0u);
}

}  // namespace
}  // namespace memento::table
