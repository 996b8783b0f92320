// Tests of SnapshotStore on real LMDB environments in a fresh temporary directory per
// test. Damage is done with LMDB directly (the store closed first: LMDB forbids opening
// one environment twice in a process) or by editing the files next to it.
#include "storage/snapshot/snapshot_store.h"

#include <gtest/gtest.h>
#include <lmdb.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/coding.h"
#include "storage/snapshot/snapshot_format.h"

namespace memento::snapshot {
namespace {

using storage::Mutation;
using storage::MutationType;

constexpr int64_t kNow = 1'700'000'000'000;

struct Item {
  std::string value;
  int64_t created_ms = 0;
  int64_t expire_ms = kNoExpiry;
  bool operator==(const Item&) const = default;
};
using Contents = std::map<std::string, Item>;

Mutation Put(std::string_view key, std::string_view value, int64_t expire_ms = kNoExpiry,
             int64_t created_ms = kNow) {
  return Mutation{MutationType::kPut, key, value, created_ms, expire_ms};
}
Mutation Del(std::string_view key) { return Mutation{MutationType::kDelete, key, {}, 0, 0}; }
Mutation Expire(std::string_view key, int64_t expire_ms) {
  return Mutation{MutationType::kExpire, key, {}, 0, expire_ms};
}
Mutation Clear() { return Mutation{MutationType::kClear, {}, {}, 0, 0}; }

std::string Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string Compressible(size_t n) {
  std::string s;
  while (s.size() < n) s += "memento snapshot value " + std::to_string(s.size() % 13) + "; ";
  s.resize(n);
  return s;
}

// Every long key hashes to 42: all of them share one collision chain.
uint64_t CollidingHash(std::string_view) { return 42; }

class SnapshotStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = testing::TempDir() + "snapshot_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/snapshot";
    options_.initial_map_size = size_t{1} << 20;
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  void Reopen() {
    store_.reset();
    auto r = SnapshotStore::Open(dir_, options_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    store_ = std::move(*r);
  }
  Status TryReopen() {
    store_.reset();
    auto r = SnapshotStore::Open(dir_, options_);
    if (!r.ok()) return r.status();
    store_ = std::move(*r);
    return Status::OK();
  }

  Status Apply(const std::vector<Mutation>& ms, uint64_t lsn) { return store_->Apply(ms, lsn); }

  Contents LoadAll(int64_t now = kNow, LoadStats* stats = nullptr, SnapshotStore* store = nullptr) {
    Contents out;
    Status s = (store ? store : store_.get())
                   ->Load(
                       now,
                       [&](std::string_view k, std::string_view v, int64_t c, int64_t e) {
                         EXPECT_TRUE(out.emplace(k, Item{std::string(v), c, e}).second)
                             << "duplicate key " << k;
                       },
                       stats);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  std::string EnvDir() {
    std::ifstream in(dir_ + "/" + kCurrentFileName);
    std::string name;
    std::getline(in, name);
    return dir_ + "/" + name;
  }

  // Opens the live environment with LMDB directly and runs fn in a write transaction
  // that is committed. REQUIRES: store_ closed.
  template <typename Fn>
  void WithRawTxn(const char* db_name, Fn fn) {
    ASSERT_EQ(store_, nullptr);
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), 0);
    ASSERT_EQ(mdb_env_set_maxdbs(env, 4), 0);
    ASSERT_EQ(mdb_env_open(env, EnvDir().c_str(), 0, 0644), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
    MDB_dbi dbi;
    ASSERT_EQ(mdb_dbi_open(txn, db_name, 0, &dbi), 0);
    fn(txn, dbi);
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
  }
  void RawPut(const char* db_name, std::string_view key, std::string_view value) {
    WithRawTxn(db_name, [&](MDB_txn* txn, MDB_dbi dbi) {
      MDB_val k{key.size(), const_cast<char*>(key.data())};
      MDB_val v{value.size(), const_cast<char*>(value.data())};
      ASSERT_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
    });
  }

  std::string root_;
  std::string dir_;
  SnapshotOptions options_;
  std::unique_ptr<SnapshotStore> store_;
};

// ---- Round trips ----

TEST_F(SnapshotStoreTest, NewStoreIsEmptyAtLsnZero) {
  EXPECT_EQ(store_->lsn(), 0u);
  EXPECT_TRUE(LoadAll().empty());
  auto stats = store_->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->entries, 0u);
  EXPECT_EQ(stats->env_dir, dir_ + "/snap-000001");
}

TEST_F(SnapshotStoreTest, ApplyAndLoadRoundTrip) {
  ASSERT_TRUE(
      Apply({Put("a", "1"), Put("b", "2", kNow + 60'000, kNow - 5), Put("a", "3")}, 7).ok());
  EXPECT_EQ(store_->lsn(), 7u);
  LoadStats stats;
  const Contents got = LoadAll(kNow, &stats);
  EXPECT_EQ(got, (Contents{{"a", {"3", kNow, kNoExpiry}}, {"b", {"2", kNow - 5, kNow + 60'000}}}));
  EXPECT_EQ(stats.lsn, 7u);
  EXPECT_EQ(stats.loaded, 2u);
  EXPECT_EQ(stats.key_bytes, 2u);
  EXPECT_EQ(stats.value_bytes, 2u);
}

TEST_F(SnapshotStoreTest, BinaryKeysAndValues) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  const std::string nul_key("k\0ey", 4);
  ASSERT_TRUE(Apply({Put(all_bytes, all_bytes), Put(nul_key, ""), Put("\xff", all_bytes)}, 1).ok());
  Reopen();
  const Contents got = LoadAll();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got.at(all_bytes).value, all_bytes);
  EXPECT_EQ(got.at(nul_key).value, "");
  EXPECT_EQ(got.at("\xff").value, all_bytes);
}

TEST_F(SnapshotStoreTest, EmptyKeyRoundTrips) {
  // LMDB rejects empty keys; the store keeps the empty key under a long-key slot.
  ASSERT_TRUE(Apply({Put("", "empty key's value")}, 1).ok());
  EXPECT_EQ(LoadAll(), (Contents{{"", {"empty key's value", kNow, kNoExpiry}}}));
  ASSERT_TRUE(Apply({Expire("", kNow + 1)}, 2).ok());
  EXPECT_EQ(LoadAll().at("").expire_ms, kNow + 1);
  ASSERT_TRUE(Apply({Del("")}, 3).ok());
  EXPECT_TRUE(LoadAll().empty());
}

TEST_F(SnapshotStoreTest, LongKeysRoundTrip) {
  const std::string k510(510, 'a');
  const std::string k511(511, 'b');
  const std::string k512(512, 'c');
  const std::string k10000 = Random(10000, 1);
  ASSERT_TRUE(
      Apply({Put(k510, "510"), Put(k511, "511"), Put(k512, "512"), Put(k10000, "10000")}, 1).ok());
  auto stats = store_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->entries, 4u);
  EXPECT_EQ(stats->long_keys, 2u);  // 511 bytes is LMDB's limit: still a plain key
  // Overwrite and expire in place: still one entry per key.
  ASSERT_TRUE(Apply({Put(k512, "512 again"), Expire(k10000, kNow + 5)}, 2).ok());
  Reopen();
  const Contents got = LoadAll();
  EXPECT_EQ(got, (Contents{{k510, {"510", kNow, kNoExpiry}},
                           {k511, {"511", kNow, kNoExpiry}},
                           {k512, {"512 again", kNow, kNoExpiry}},
                           {k10000, {"10000", kNow, kNow + 5}}}));
  ASSERT_TRUE(Apply({Del(k512), Del(k10000)}, 3).ok());
  EXPECT_EQ(LoadAll().size(), 2u);
  EXPECT_EQ(store_->Stats()->long_keys, 0u);
}

TEST_F(SnapshotStoreTest, CollidingLongKeysShareAChain) {
  options_.long_key_hash_for_testing = &CollidingHash;
  Reopen();
  const std::string k1(600, '1');
  const std::string k2(600, '2');
  const std::string k3(700, '3');
  const std::string k4(800, '4');
  ASSERT_TRUE(Apply({Put(k1, "v1"), Put(k2, "v2"), Put(k3, "v3")}, 1).ok());
  // A hole in the chain (k2 gone) must not hide k3; a new key goes after the last one.
  ASSERT_TRUE(Apply({Del(k2), Put(k4, "v4"), Put(k1, "v1b"), Expire(k3, kNow + 9)}, 2).ok());
  Reopen();
  EXPECT_EQ(LoadAll(), (Contents{{k1, {"v1b", kNow, kNoExpiry}},
                                 {k3, {"v3", kNow, kNow + 9}},
                                 {k4, {"v4", kNow, kNoExpiry}}}));
  EXPECT_EQ(store_->Stats()->long_keys, 3u);
  ASSERT_TRUE(Apply({Del(k1), Del(k3), Del(k2)}, 3).ok());
  EXPECT_EQ(LoadAll(), (Contents{{k4, {"v4", kNow, kNoExpiry}}}));
}

TEST_F(SnapshotStoreTest, LargeValuesAreCompressed) {
  const std::string big = Compressible(100'000);
  const std::string small = Compressible(100);  // under compress_min_size: raw
  ASSERT_TRUE(Apply({Put("big", big), Put("small", small)}, 1).ok());
  LoadStats stats;
  const Contents got = LoadAll(kNow, &stats);
  EXPECT_EQ(got.at("big").value, big);
  EXPECT_EQ(got.at("small").value, small);
  EXPECT_EQ(stats.compressed, 1u);
  EXPECT_EQ(stats.value_bytes, big.size() + small.size());
  EXPECT_LT(store_->Stats()->used_bytes, 64u * 1024);  // 100 KB of text took a few pages
}

TEST_F(SnapshotStoreTest, IncompressibleValuesAreStoredRaw) {
  const std::string noise = Random(50'000, 7);
  ASSERT_TRUE(Apply({Put("noise", noise)}, 1).ok());
  LoadStats stats;
  EXPECT_EQ(LoadAll(kNow, &stats).at("noise").value, noise);
  EXPECT_EQ(stats.compressed, 0u);
}

TEST_F(SnapshotStoreTest, CompressionCanBeDisabled) {
  options_.compress_min_size = SIZE_MAX;
  Reopen();
  ASSERT_TRUE(Apply({Put("big", Compressible(10'000))}, 1).ok());
  LoadStats stats;
  LoadAll(kNow, &stats);
  EXPECT_EQ(stats.compressed, 0u);
}

// ---- Mutations ----

TEST_F(SnapshotStoreTest, ExpiredEntriesAreSkippedOnLoad) {
  ASSERT_TRUE(
      Apply({Put("past", "x", kNow - 1), Put("now", "x", kNow), Put("future", "x", kNow + 1),
             Put("never", "x"), Put("big-past", Compressible(10'000), kNow - 1)},
            1)
          .ok());
  LoadStats stats;
  const Contents got = LoadAll(kNow, &stats);
  EXPECT_EQ(got.size(), 2u);
  EXPECT_TRUE(got.count("future"));
  EXPECT_TRUE(got.count("never"));
  EXPECT_EQ(stats.expired_skipped, 3u);
  EXPECT_EQ(stats.compressed, 0u);  // skipped before decompression
  // Expired entries stay stored until a kDelete reaches them.
  EXPECT_EQ(store_->Stats()->entries, 5u);
}

TEST_F(SnapshotStoreTest, DeleteExpireClearMutations) {
  ASSERT_TRUE(
      Apply({Put("a", "1"), Put("b", "2", kNow + 10), Put("c", Compressible(5000))}, 1).ok());
  ASSERT_TRUE(Apply({Del("a"), Del("missing"), Expire("b", kNoExpiry), Expire("c", kNow + 99),
                     Expire("missing", kNow)},
                    2)
                  .ok());
  EXPECT_EQ(LoadAll(), (Contents{{"b", {"2", kNow, kNoExpiry}},
                                 {"c", {Compressible(5000), kNow, kNow + 99}}}));
  ASSERT_TRUE(Apply({Put(std::string(900, 'L'), "long"), Clear(), Put("after", "clear")}, 3).ok());
  EXPECT_EQ(LoadAll(), (Contents{{"after", {"clear", kNow, kNoExpiry}}}));
  EXPECT_EQ(store_->Stats()->long_keys, 0u);
  Reopen();
  EXPECT_EQ(store_->lsn(), 3u);
  EXPECT_EQ(LoadAll().size(), 1u);
}

TEST_F(SnapshotStoreTest, MetaLsnIsAtomicWithData) {
  ASSERT_TRUE(Apply({Put("a", "old"), Put("b", "old")}, 5).ok());
  // The third mutation fails after the first two were written in the transaction.
  Mutation bad = Put("c", "x");
  bad.type = static_cast<MutationType>(99);
  Status s = Apply({Put("a", "new"), Del("b"), bad, Put("d", "new")}, 10);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("mutation 2 of 4"), std::string_view::npos) << s.ToString();
  EXPECT_NE(s.message().find("unknown mutation type 99"), std::string_view::npos);
  const Contents old{{"a", {"old", kNow, kNoExpiry}}, {"b", {"old", kNow, kNoExpiry}}};
  EXPECT_EQ(store_->lsn(), 5u);
  EXPECT_EQ(LoadAll(), old);
  Reopen();
  EXPECT_EQ(store_->lsn(), 5u);
  EXPECT_EQ(LoadAll(), old);
}

TEST_F(SnapshotStoreTest, LsnGoingBackwardsIsRefused) {
  ASSERT_TRUE(Apply({Put("a", "1")}, 9).ok());
  EXPECT_TRUE(Apply({Put("a", "2")}, 8).IsInvalidArgument());
  EXPECT_TRUE(Apply({}, 9).ok());
  EXPECT_EQ(LoadAll().at("a").value, "1");
}

// ---- Map size ----

TEST_F(SnapshotStoreTest, MapFullGrowsAndRetries) {
  options_.initial_map_size = 64 * 1024;
  options_.compress_min_size = SIZE_MAX;
  Reopen();
  const size_t initial_map = store_->Stats()->map_size;
  std::vector<std::string> values;
  std::vector<Mutation> batch;
  for (int i = 0; i < 4000; ++i) values.push_back(Random(1000, static_cast<uint32_t>(i)));
  std::vector<std::string> keys;
  for (int i = 0; i < 4000; ++i) keys.push_back("key:" + std::to_string(i));
  for (int i = 0; i < 4000; ++i) batch.push_back(Put(keys[i], values[i]));
  Status s = Apply(batch, 1);  // ~4 MB in one transaction, 64 KiB map
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_GT(store_->Stats()->map_size, initial_map);
  Reopen();
  const Contents got = LoadAll();
  ASSERT_EQ(got.size(), 4000u);
  EXPECT_EQ(got.at("key:3999").value, values[3999]);
}

TEST_F(SnapshotStoreTest, MapFullAtMaxMapSizeIsReported) {
  options_.initial_map_size = 64 * 1024;
  options_.max_map_size = 256 * 1024;
  Reopen();
  ASSERT_TRUE(Apply({Put("kept", "v")}, 1).ok());
  std::vector<std::string> values;
  std::vector<Mutation> batch;
  for (int i = 0; i < 1000; ++i) values.push_back(Random(1000, static_cast<uint32_t>(i)));
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back("key:" + std::to_string(i));
  for (int i = 0; i < 1000; ++i) batch.push_back(Put(keys[i], values[i]));
  Status s = Apply(batch, 2);
  ASSERT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("max_map_size"), std::string_view::npos) << s.ToString();
  EXPECT_NE(s.message().find(EnvDir()), std::string_view::npos) << s.ToString();
  EXPECT_EQ(store_->lsn(), 1u);
  EXPECT_EQ(LoadAll(), (Contents{{"kept", {"v", kNow, kNoExpiry}}}));
}

// ---- Durability and concurrency ----

TEST_F(SnapshotStoreTest, ReopenKeepsState) {
  ASSERT_TRUE(
      Apply({Put("x", "1", kNow + 100, kNow - 100), Put(std::string(2000, 'y'), "2")}, 41).ok());
  const Contents before = LoadAll();
  Reopen();
  EXPECT_EQ(store_->lsn(), 41u);
  EXPECT_EQ(LoadAll(), before);
  ASSERT_TRUE(Apply({Put("x", "3")}, 42).ok());
  Reopen();
  EXPECT_EQ(store_->lsn(), 42u);
  EXPECT_EQ(LoadAll().at("x").value, "3");
}

TEST_F(SnapshotStoreTest, ConcurrentLoadDuringApply) {
  // Each Apply rewrites every key with the round number; a consistent view sees one
  // round everywhere, and the LSN of that round.
  constexpr int kKeys = 500;
  constexpr int kRounds = 40;
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back("key:" + std::to_string(i));
  auto apply_round = [&](int round) {
    const std::string value = "round " + std::to_string(round);
    std::vector<Mutation> batch;
    for (const auto& k : keys) batch.push_back(Put(k, value));
    return store_->Apply(batch, static_cast<uint64_t>(round));
  };
  ASSERT_TRUE(apply_round(1).ok());

  std::atomic<bool> done{false};
  std::atomic<int> loads{0};
  std::atomic<int> inconsistent{0};
  std::thread reader([&] {
    while (!done.load()) {
      std::map<std::string, int> rounds_seen;
      LoadStats stats;
      size_t n = 0;
      Status s = store_->Load(
          kNow,
          [&](std::string_view, std::string_view v, int64_t, int64_t) {
            ++rounds_seen[std::string(v)];
            ++n;
          },
          &stats);
      if (!s.ok() || n != kKeys || rounds_seen.size() != 1 ||
          rounds_seen.begin()->first != "round " + std::to_string(stats.lsn)) {
        ++inconsistent;
      }
      ++loads;
    }
  });
  for (int round = 2; round <= kRounds; ++round) ASSERT_TRUE(apply_round(round).ok());
  while (loads.load() < 3) std::this_thread::yield();
  done = true;
  reader.join();
  EXPECT_EQ(inconsistent.load(), 0);
  EXPECT_GE(loads.load(), 3);
}

// ---- Copies and compaction ----

TEST_F(SnapshotStoreTest, CopyCompactedRoundTrip) {
  std::vector<std::string> values;
  for (int i = 0; i < 2000; ++i) values.push_back(Random(200, static_cast<uint32_t>(i)));
  std::vector<Mutation> puts;
  std::vector<Mutation> dels;
  std::vector<std::string> keys;
  for (int i = 0; i < 2000; ++i) keys.push_back("key:" + std::to_string(i));
  for (int i = 0; i < 2000; ++i) puts.push_back(Put(keys[i], values[i]));
  for (int i = 0; i < 1900; ++i) dels.push_back(Del(puts[i].key));
  ASSERT_TRUE(Apply(puts, 1).ok());
  ASSERT_TRUE(Apply(dels, 2).ok());
  ASSERT_TRUE(Apply({Put(std::string(3000, 'L'), "long")}, 3).ok());
  const Contents before = LoadAll();
  ASSERT_EQ(before.size(), 101u);

  const std::string copy_dir = root_ + "/backup";
  ASSERT_TRUE(store_->CopyCompacted(copy_dir).ok());
  auto copy = SnapshotStore::Open(copy_dir, options_);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ((*copy)->lsn(), 3u);
  EXPECT_EQ(LoadAll(kNow, nullptr, copy->get()), before);
  EXPECT_LT((*copy)->Stats()->file_bytes, store_->Stats()->file_bytes);
  // The copy is a store of its own: writing it leaves the original alone.
  ASSERT_TRUE((*copy)->Apply(std::vector<Mutation>{Clear()}, 4).ok());
  EXPECT_EQ(LoadAll(), before);
}

TEST_F(SnapshotStoreTest, CopyCompactedRefusesNonEmptyDestination) {
  const std::string dest = root_ + "/occupied";
  std::filesystem::create_directory(dest);
  std::ofstream(dest + "/something") << "x";
  Status s = store_->CopyCompacted(dest);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find(dest), std::string_view::npos);
}

TEST_F(SnapshotStoreTest, CompactInPlaceShrinksAndKeepsState) {
  std::vector<std::string> values;
  std::vector<Mutation> puts;
  std::vector<Mutation> dels;
  for (int i = 0; i < 3000; ++i) values.push_back(Random(300, static_cast<uint32_t>(i)));
  std::vector<std::string> keys;
  for (int i = 0; i < 3000; ++i) keys.push_back("key:" + std::to_string(i));
  for (int i = 0; i < 3000; ++i) puts.push_back(Put(keys[i], values[i]));
  for (int i = 0; i < 2900; ++i) dels.push_back(Del(puts[i].key));
  ASSERT_TRUE(Apply(puts, 1).ok());
  ASSERT_TRUE(Apply(dels, 2).ok());
  const Contents before = LoadAll();
  const uint64_t size_before = store_->Stats()->file_bytes;

  Status s = store_->Compact();
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto stats = store_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->env_dir, dir_ + "/snap-000002");
  EXPECT_EQ(EnvDir(), dir_ + "/snap-000002");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/snap-000001"));
  EXPECT_LT(stats->file_bytes, size_before / 4);
  EXPECT_EQ(LoadAll(), before);
  // The compacted environment takes writes and survives a reopen.
  ASSERT_TRUE(Apply({Put("new", "v")}, 3).ok());
  Reopen();
  EXPECT_EQ(store_->lsn(), 3u);
  EXPECT_EQ(LoadAll().size(), before.size() + 1);
}

TEST_F(SnapshotStoreTest, InterruptedCompactionLeftoversAreRemoved) {
  ASSERT_TRUE(Apply({Put("a", "1")}, 1).ok());
  store_.reset();
  std::filesystem::create_directory(dir_ + "/snap-000002.tmp");
  std::ofstream(dir_ + "/snap-000002.tmp/data.mdb") << "half a copy";
  std::ofstream(dir_ + "/CURRENT.tmp") << "snap-000002\n";
  Reopen();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/snap-000002.tmp"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/CURRENT.tmp"));
  EXPECT_EQ(LoadAll().size(), 1u);
}

// ---- Damage ----

TEST_F(SnapshotStoreTest, CorruptRecordIsReported) {
  ASSERT_TRUE(Apply({Put("good", "v")}, 1).ok());
  store_.reset();
  RawPut(kKeysDb, "bad\x01key", std::string("\x00\x01", 2));  // shorter than a header
  Reopen();
  Status s = store_->Load(kNow, [](auto, auto, auto, auto) {});
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("key \"bad\\x01key\""), std::string_view::npos) << s.ToString();
  EXPECT_NE(s.message().find(EnvDir()), std::string_view::npos) << s.ToString();
  EXPECT_NE(s.message().find("offset 0"), std::string_view::npos) << s.ToString();
  EXPECT_NE(s.message().find("restore"), std::string_view::npos) << s.ToString();
}

TEST_F(SnapshotStoreTest, CorruptCompressedValueIsReported) {
  const std::string big = Compressible(10'000);
  ASSERT_TRUE(Apply({Put("zipped", big)}, 1).ok());
  store_.reset();
  std::string record;
  WithRawTxn(kKeysDb, [&](MDB_txn* txn, MDB_dbi dbi) {
    MDB_val k{6, const_cast<char*>("zipped")};
    MDB_val v;
    ASSERT_EQ(mdb_get(txn, dbi, &k, &v), 0);
    record.assign(static_cast<const char*>(v.mv_data), v.mv_size);
  });
  ASSERT_EQ(record[0], static_cast<char>(kRecordCompressed));
  record[record.size() - 10] = static_cast<char>(record[record.size() - 10] ^ 0x40);
  RawPut(kKeysDb, "zipped", record);
  Reopen();
  Status s = store_->Load(kNow, [](auto, auto, auto, auto) {});
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("key \"zipped\""), std::string_view::npos) << s.ToString();
  EXPECT_NE(s.message().find("zstd"), std::string_view::npos) << s.ToString();
}

TEST_F(SnapshotStoreTest, LongKeyRecordWithoutFullKeyIsReported) {
  store_.reset();
  std::string record(kRecordHeaderSize, '\0');  // flags 0: no full key
  RawPut(kLongKeysDb, std::string(kLongKeySlotSize, '\x07'), record);
  Reopen();
  Status s = store_->Load(kNow, [](auto, auto, auto, auto) {});
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("long-key slot 070707"), std::string_view::npos) << s.ToString();
}

TEST_F(SnapshotStoreTest, WrongFormatVersionIsRefused) {
  store_.reset();
  RawPut(kMetaDb, kMetaFormatVersion, Fixed32String(999));
  Status s = TryReopen();
  ASSERT_TRUE(s.code() == Status::Code::kNotSupported) << s.ToString();
  EXPECT_NE(s.message().find("format version 999"), std::string_view::npos) << s.ToString();
  EXPECT_NE(s.message().find(EnvDir()), std::string_view::npos) << s.ToString();
}

TEST_F(SnapshotStoreTest, DamagedMetaLsnIsReported) {
  store_.reset();
  RawPut(kMetaDb, kMetaLsn, "abc");
  Status s = TryReopen();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("\"lsn\" has 3 bytes, expected 8"), std::string_view::npos)
      << s.ToString();
}

TEST_F(SnapshotStoreTest, ForeignLmdbEnvironmentIsRefused) {
  store_.reset();
  const std::string env_dir = EnvDir();
  std::filesystem::remove_all(env_dir);
  std::filesystem::create_directory(env_dir);
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  ASSERT_EQ(mdb_env_open(env, env_dir.c_str(), 0, 0644), 0);
  MDB_txn* txn = nullptr;
  MDB_dbi dbi;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  ASSERT_EQ(mdb_dbi_open(txn, nullptr, 0, &dbi), 0);
  MDB_val k{3, const_cast<char*>("foo")};
  MDB_val v{3, const_cast<char*>("bar")};
  ASSERT_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
  Status s = TryReopen();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("not a memento snapshot"), std::string_view::npos) << s.ToString();
}

TEST_F(SnapshotStoreTest, MissingCurrentWithEnvironmentIsRefused) {
  ASSERT_TRUE(Apply({Put("a", "1")}, 1).ok());
  store_.reset();
  std::filesystem::remove(dir_ + "/CURRENT");
  Status s = TryReopen();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("printf 'snap-000001\\n' > " + dir_ + "/CURRENT"),
            std::string_view::npos)
      << s.ToString();
  // Following the advice brings the data back.
  std::ofstream(dir_ + "/CURRENT") << "snap-000001\n";
  Reopen();
  EXPECT_EQ(LoadAll().size(), 1u);
}

TEST_F(SnapshotStoreTest, CrashBeforeFirstCurrentStartsFresh) {
  store_.reset();
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_ + "/snap-000001");  // mkdir done, CURRENT not
  Reopen();
  EXPECT_EQ(store_->lsn(), 0u);
  EXPECT_EQ(EnvDir(), dir_ + "/snap-000001");
}

TEST_F(SnapshotStoreTest, CurrentNamingMissingDirectoryIsReported) {
  store_.reset();
  std::ofstream(dir_ + "/CURRENT", std::ios::trunc) << "snap-000007\n";
  Status s = TryReopen();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("snap-000007 does not exist"), std::string_view::npos) << s.ToString();
}

TEST_F(SnapshotStoreTest, MalformedCurrentIsReported) {
  store_.reset();
  std::ofstream(dir_ + "/CURRENT", std::ios::trunc) << "../../etc\n";
  Status s = TryReopen();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(dir_ + "/CURRENT"), std::string_view::npos) << s.ToString();
}

TEST_F(SnapshotStoreTest, BadOptionsAreRefused) {
  options_.initial_map_size = 0;
  EXPECT_TRUE(TryReopen().IsInvalidArgument());
}

}  // namespace
}  // namespace memento::snapshot
