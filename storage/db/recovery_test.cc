// Recovery (snapshot + log tail), the log fold, and Db's round trip, on a real
// directory. Crashes and damaged files are tested end to end in
// tests/e2e/durability_test.cc; this is the library's own contract.
#include "storage/db/recovery.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>

#include "common/clock.h"
#include "storage/db/apply.h"
#include "storage/db/data_dir_lock.h"
#include "storage/db/db.h"
#include "storage/db/layout.h"

namespace memento::db {
namespace {

using storage::Mutation;
using storage::MutationType;

using Contents = std::map<std::string, std::string>;

Contents Live(const table::Table& t) {
  Contents out;
  t.ForEach(NowMillis(), [&](std::string_view key, const table::Entry& e) {
    out.emplace(std::string(key), e.value);
  });
  return out;
}

class RecoveryTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = testing::TempDir() + "recovery_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  RecoveryOptions Options() const {
    RecoveryOptions o;
    o.data_dir = dir_;
    return o;
  }
  // Appends records to the log of a recovered directory and syncs them, as writes
  // would, without a checkpoint: the state a kill -9 leaves.
  void AppendAndCrash(Recovered* r, const std::vector<Mutation>& records) {
    for (const Mutation& m : records) ASSERT_TRUE(r->wal->Append(m).ok());
    ASSERT_TRUE(r->wal->Sync().ok());
    r->wal.reset();
    r->snapshot.reset();
  }

  std::string dir_;
};

TEST_F(RecoveryTest, AnEmptyDirectoryRecoversEmptyAndGetsItsLayout) {
  table::Table t;
  Result<Recovered> r = Recover(Options(), &t);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(t.Size(), 0u);
  EXPECT_EQ(r->stats.snapshot_lsn, 0u);
  EXPECT_EQ(r->stats.wal_records, 0u);
  EXPECT_TRUE(std::filesystem::is_directory(SnapshotPath(dir_)));
  EXPECT_TRUE(std::filesystem::is_directory(WalPath(dir_)));
}

TEST_F(RecoveryTest, OnlyADirectoryWithASnapshotOrALogIsADataDirectory) {
  EXPECT_TRUE(CheckDataDirectory(dir_ + "/missing").IsIOError());
  Status empty = CheckDataDirectory(dir_);
  EXPECT_TRUE(empty.IsInvalidArgument());
  EXPECT_EQ(empty.message(), dir_ + " is not a memento data directory (it has neither "
                                    "snapshot/ nor wal/)");
  table::Table t;
  ASSERT_TRUE(Recover(Options(), &t).ok());
  EXPECT_TRUE(CheckDataDirectory(dir_).ok());
}

TEST_F(RecoveryTest, TheLogTailIsReplayedAfterACrash) {
  {
    table::Table t;
    Result<Recovered> r = Recover(Options(), &t);
    ASSERT_TRUE(r.ok());
    AppendAndCrash(&*r, {{MutationType::kPut, "a", "1", 1, -1},
                         {MutationType::kPut, "b", "2", 1, -1},
                         {MutationType::kDelete, "a", {}, 0, -1},
                         {MutationType::kPut, "c", "3", 1, -1}});
  }
  table::Table t;
  Result<Recovered> r = Recover(Options(), &t);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Live(t), (Contents{{"b", "2"}, {"c", "3"}}));
  EXPECT_EQ(r->stats.snapshot_lsn, 0u);
  EXPECT_EQ(r->stats.wal_records, 4u);
  EXPECT_EQ(r->stats.last_lsn, 4u);
}

TEST_F(RecoveryTest, AFoldMovesTheLogIntoTheSnapshotWithTheSameResult) {
  {
    table::Table t;
    Result<Recovered> r = Recover(Options(), &t);
    ASSERT_TRUE(r.ok());
    for (int i = 0; i < 100; ++i) {
      const std::string key = "k" + std::to_string(i % 10);
      ASSERT_TRUE(r->wal->Append({MutationType::kPut, key, std::to_string(i), 1, -1}).ok());
    }
    ASSERT_TRUE(r->wal->Append({MutationType::kDelete, "k0", {}, 0, -1}).ok());
    ASSERT_TRUE(r->wal->Sync().ok());
    uint64_t batches = 0;
    ASSERT_TRUE(FoldLogIntoSnapshot(r->wal.get(), r->snapshot.get(), r->wal->durable_lsn(),
                                    [&](uint64_t records) {
                                      ++batches;
                                      EXPECT_EQ(records, 101u);
                                    })
                    .ok());
    EXPECT_EQ(batches, 1u);
    EXPECT_EQ(r->snapshot->lsn(), 101u);
    Result<snapshot::SnapshotStats> st = r->snapshot->Stats();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->entries, 9u);  // the batch collapsed to the last state of each key
  }
  table::Table t;
  Result<Recovered> r = Recover(Options(), &t);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.snapshot_lsn, 101u);
  EXPECT_EQ(r->stats.snapshot_keys, 9u);
  EXPECT_EQ(r->stats.wal_records, 0u);
  EXPECT_EQ(t.Size(), 9u);
  EXPECT_EQ(Live(t).at("k9"), "99");
  EXPECT_EQ(Live(t).count("k0"), 0u);
}

TEST_F(RecoveryTest, ExpiryIsJudgedOnceTheReplayIsDone) {
  const int64_t passed = NowMillis() - 60'000;
  {
    table::Table t;
    Result<Recovered> r = Recover(Options(), &t);
    ASSERT_TRUE(r.ok());
    AppendAndCrash(&*r, {{MutationType::kPut, "persisted", "v", 1, passed},
                         {MutationType::kExpire, "persisted", {}, 0, -1},
                         {MutationType::kPut, "expired", "v", 1, passed}});
  }
  table::Table t;
  Result<Recovered> r = Recover(Options(), &t);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Live(t), (Contents{{"persisted", "v"}}));
  EXPECT_EQ(t.Size(), 1u);  // the expired one is reclaimed, not just hidden
  EXPECT_EQ(r->stats.snapshot_expired, 1u);
}

TEST_F(RecoveryTest, DbRoundTripThroughItsFinalCheckpoint) {
  {
    table::Table t;
    DbOptions o;
    o.data_dir = dir_;
    o.snapshot_interval_s = 0;
    RecoveryStats stats;
    Result<std::unique_ptr<Db>> db = Db::Open(std::move(o), &t, &stats);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    t.SetMutationSink(db->get());
    for (int i = 0; i < 50; ++i) {
      t.Write("key" + std::to_string(i), NowMillis(),
              [&](table::Slot& s) { s.Create(NowMillis())->value = "v" + std::to_string(i); });
    }
    EXPECT_TRUE((*db)->HasUncommitted());
    EXPECT_TRUE((*db)->CommitRound().ok());
    EXPECT_FALSE((*db)->HasUncommitted());
    EXPECT_EQ((*db)->Stats().last_lsn, 50u);
    EXPECT_TRUE((*db)->Close().ok());  // folds everything into the snapshot
    EXPECT_EQ((*db)->Stats().snapshot_lsn, 50u);
    t.SetMutationSink(nullptr);
  }
  table::Table t;
  DbOptions o;
  o.data_dir = dir_;
  RecoveryStats stats;
  Result<std::unique_ptr<Db>> db = Db::Open(std::move(o), &t, &stats);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(stats.snapshot_keys, 50u);
  EXPECT_EQ(stats.wal_records, 0u);
  EXPECT_EQ(Live(t).at("key42"), "v42");
}

// Deltas over keys the snapshot holds: the checkpoint's fold keeps them as a chain
// over the unknown base, and the snapshot store applies the chain to its records (a
// large value is stored zstd-compressed: read, decompressed, changed, written back).
TEST_F(RecoveryTest, DeltasFoldIntoTheSnapshotsValues) {
  const std::string big(100000, 'b');  // compressed in the snapshot
  {
    table::Table t;
    Result<Recovered> r = Recover(Options(), &t);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->wal->Append({MutationType::kPut, "s", "hello", 1, -1}).ok());
    ASSERT_TRUE(r->wal->Append({MutationType::kPut, "n", "41", 1, -1}).ok());
    ASSERT_TRUE(r->wal->Append({MutationType::kPut, "big", big, 1, -1}).ok());
    ASSERT_TRUE(r->wal->Sync().ok());
    ASSERT_TRUE(FoldLogIntoSnapshot(r->wal.get(), r->snapshot.get(), 3, nullptr).ok());
    // Now the base is in the snapshot only; the next records are deltas over it.
    const std::vector<Mutation> deltas = {
        {MutationType::kAppend, "s", " world", 0, -1},
        {MutationType::kPrepend, "s", ">", 0, -1},
        {MutationType::kSetRange, "s", "J", 0, -1, 1},
        {MutationType::kIncrBy, "n", {}, 0, -1, 1},
        {MutationType::kIncrBy, "n", {}, 0, -1, -100},
        {MutationType::kAppend, "big", "!", 0, -1},
        {MutationType::kExpire, "big", {}, 0, NowMillis() + 3'600'000},
        {MutationType::kAppend, "absent", "x", 0, -1}};
    for (const Mutation& m : deltas) ASSERT_TRUE(r->wal->Append(m).ok());
    ASSERT_TRUE(r->wal->Sync().ok());
    ASSERT_TRUE(FoldLogIntoSnapshot(r->wal.get(), r->snapshot.get(), r->wal->durable_lsn(),
                                    nullptr)
                    .ok());
  }
  table::Table t;
  Result<Recovered> r = Recover(Options(), &t);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.wal_records, 0u);  // all of it from the snapshot
  EXPECT_EQ(Live(t), (Contents{{"s", ">Jello world"}, {"n", "-58"}, {"big", big + "!"}}));
  t.Read("big", NowMillis(), [](const table::Entry* e) {
    ASSERT_NE(e, nullptr);
    EXPECT_NE(e->expire_ms, -1);
    EXPECT_EQ(e->created_ms, 1);
  });
}

// A unit is one record with one LSN, and recovery replays the whole of it.
TEST_F(RecoveryTest, DbUnitIsOneRecordReplayedWhole) {
  {
    table::Table t;
    DbOptions o;
    o.data_dir = dir_;
    o.snapshot_interval_s = 0;
    Result<std::unique_ptr<Db>> db = Db::Open(std::move(o), &t, nullptr);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    t.SetMutationSink(db->get());
    const int64_t now = NowMillis();
    t.Write("before", now, [&](table::Slot& s) { s.Create(now)->value = "1"; });
    (*db)->BeginUnit();
    t.Write("a", now, [&](table::Slot& s) { s.Create(now)->value = "x"; });
    (*db)->BeginUnit();  // nested: only the outer EndUnit appends
    t.Write("b", now, [&](table::Slot& s) { s.Create(now)->value = "y"; });
    t.Write("before", now, [&](table::Slot& s) { s.Erase(); });
    (*db)->EndUnit();
    EXPECT_EQ((*db)->Stats().last_lsn, 1u);  // nothing appended yet
    (*db)->EndUnit();
    EXPECT_EQ((*db)->Stats().last_lsn, 2u);  // the three changes: one record
    (*db)->BeginUnit();
    (*db)->EndUnit();  // an empty unit appends nothing
    EXPECT_EQ((*db)->Stats().last_lsn, 2u);
    EXPECT_TRUE((*db)->CommitRound().ok());
    EXPECT_TRUE((*db)->Close(/*final_checkpoint=*/false).ok());
    t.SetMutationSink(nullptr);
  }
  table::Table t;
  RecoveryStats stats;
  DbOptions o;
  o.data_dir = dir_;
  Result<std::unique_ptr<Db>> db = Db::Open(std::move(o), &t, &stats);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(stats.wal_records, 4u);  // changes replayed: one, then the unit's three
  EXPECT_EQ(stats.last_lsn, 2u);
  EXPECT_EQ(Live(t), (Contents{{"a", "x"}, {"b", "y"}}));
}

TEST_F(RecoveryTest, DbOpenUsesALockTheCallerAlreadyHolds) {
  Result<std::unique_ptr<DataDirLock>> lock = DataDirLock::Exclusive(dir_, DaemonLockOptions());
  ASSERT_TRUE(lock.ok());
  table::Table t;
  DbOptions o;
  o.data_dir = dir_;
  o.lock = std::move(*lock);
  Result<std::unique_ptr<Db>> db = Db::Open(std::move(o), &t, nullptr);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  // Held by the Db now: a second owner is refused until the Db is gone.
  EXPECT_TRUE(DataDirLock::Exclusive(dir_, DaemonLockOptions()).status().IsBusy());
  db->reset();
  EXPECT_TRUE(DataDirLock::Exclusive(dir_, DaemonLockOptions()).ok());
}

}  // namespace
}  // namespace memento::db
