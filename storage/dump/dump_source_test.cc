// ReadDataDir: the state it passes on equals snapshot + log replay, and it changes
// nothing in the directory.
#include "storage/dump/dump_source.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "storage/mutation.h"
#include "storage/snapshot/snapshot_store.h"
#include "storage/wal/wal.h"

namespace memento::dump {
namespace {

using storage::Mutation;
using storage::MutationType;

struct Value {
  std::string value;
  int64_t created_ms;
  int64_t expire_ms;
  bool operator==(const Value&) const = default;
};
using State = std::map<std::string, Value>;

class DumpSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "dump_source_test_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes mutations to the snapshot (LSNs 1..n) as a checkpoint would.
  void Snapshot(const std::vector<Mutation>& ms, uint64_t lsn) {
    auto store = snapshot::SnapshotStore::Open(dir_ + "/snapshot", {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Apply(ms, lsn).ok());
  }
  // Appends mutations to the log, whose LSNs continue after `after_lsn`.
  void Log(const std::vector<Mutation>& ms, uint64_t after_lsn) {
    wal::Options o;
    o.dir = wal::WalDirectory(dir_);
    auto log = wal::Wal::Open(o, after_lsn, [](uint64_t, const Mutation&) { return Status::OK(); });
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (const Mutation& m : ms) ASSERT_TRUE((*log)->Append(m).ok());
    ASSERT_TRUE((*log)->Close().ok());
  }
  Status Read(State* out, SourceStats* stats, int64_t now_ms = 1000, std::string prefix = "") {
    SourceOptions o;
    o.now_ms = now_ms;
    o.prefix = std::move(prefix);
    return ReadDataDir(
        dir_, o, [](uint64_t, uint64_t) { return Status::OK(); },
        [&](std::string_view k, std::string_view v, int64_t c, int64_t e) {
          EXPECT_TRUE(out->emplace(std::string(k), Value{std::string(v), c, e}).second)
              << "key passed twice: " << k;
          return Status::OK();
        },
        stats);
  }

  std::string dir_;
};

Mutation Put(std::string_view k, std::string_view v, int64_t expire = -1) {
  return {MutationType::kPut, k, v, 7, expire};
}
Mutation Del(std::string_view k) { return {MutationType::kDelete, k, "", 0, -1}; }
Mutation Expire(std::string_view k, int64_t e) { return {MutationType::kExpire, k, "", 0, e}; }
Mutation Clear() { return {MutationType::kClear, "", "", 0, -1}; }

TEST_F(DumpSourceTest, NotADataDirectory) {
  State got;
  Status s = Read(&got, nullptr);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

TEST_F(DumpSourceTest, SnapshotPlusLogTailIsTheReplayedState) {
  const std::string long_key(700, 'L');
  Snapshot({Put("a", "1"), Put("b", "2"), Put("c", "3", 500), Put("d", "4", 5000),
            Put(long_key, "5"), Put("", "empty key")},
           6);
  // The log tail: overwrite, delete, a PERSIST on a key whose TTL passed (it lives),
  // an expiry on a deleted key, a new key, a new expiry on the long key.
  Log({Put("a", "1b"), Del("b"), Expire("c", -1), Del("zz"), Expire("zz", 9000), Put("e", "5", 900),
       Put("f", "6"), Expire(long_key, 8000)},
      6);
  State got;
  SourceStats stats;
  ASSERT_TRUE(Read(&got, &stats).ok());
  const State want = {{"", {"empty key", 7, -1}}, {"a", {"1b", 7, -1}}, {"c", {"3", 7, -1}},
                      {"d", {"4", 7, 5000}},      {"f", {"6", 7, -1}},  {long_key, {"5", 7, 8000}}};
  EXPECT_EQ(got, want);
  EXPECT_EQ(stats.snapshot_lsn, 6u);
  EXPECT_EQ(stats.lsn, 14u);
  EXPECT_EQ(stats.wal_records, 8u);
  EXPECT_EQ(stats.expired_skipped, 1u);  // "e" expired at 900 <= now 1000
}

TEST_F(DumpSourceTest, ClearInTheLogDropsTheSnapshot) {
  Snapshot({Put("a", "1"), Put("b", "2")}, 2);
  Log({Put("x", "0"), Clear(), Put("b", "new"), Expire("a", 5000)}, 2);
  State got;
  SourceStats stats;
  ASSERT_TRUE(Read(&got, &stats).ok());
  EXPECT_EQ(got, (State{{"b", {"new", 7, -1}}}));
}

// WAL version 2's deltas over the snapshot's values (db::KeyChange's chain), and a
// unit, as memento-dump combines them.
TEST_F(DumpSourceTest, DeltasInTheLogChangeTheSnapshotsValues) {
  const std::string long_key(700, 'L');
  Snapshot({Put("s", "hello", 5000), Put("n", "41"), Put(long_key, "x")}, 3);
  const Mutation append{MutationType::kAppend, "s", " world", 0, -1};
  const Mutation incr{MutationType::kIncrBy, "n", "", 0, -1, 1};
  const Mutation setrange{MutationType::kSetRange, "s", "J", 0, -1, 0};
  const Mutation on_long{MutationType::kPrepend, long_key, ">", 0, -1};
  const Mutation on_absent{MutationType::kAppend, "absent", "x", 0, -1};
  const Mutation on_new{MutationType::kAppend, "new", "!", 0, -1};
  Log({append, incr, setrange, on_long, on_absent, Put("new", "v"), on_new}, 3);
  State got;
  SourceStats stats;
  ASSERT_TRUE(Read(&got, &stats).ok());
  EXPECT_EQ(got, (State{{"s", {"Jello world", 7, 5000}},
                        {"n", {"42", 7, -1}},
                        {long_key, {">x", 7, -1}},
                        {"new", {"v!", 7, -1}}}));
}

TEST_F(DumpSourceTest, PrefixSelectsASubset) {
  Snapshot({Put("user:1", "a"), Put("user:2", "b"), Put("order:1", "c")}, 3);
  Log({Put("user:3", "d"), Put("other", "e")}, 3);
  State got;
  SourceStats stats;
  ASSERT_TRUE(Read(&got, &stats, 1000, "user:").ok());
  EXPECT_EQ(got.size(), 3u);
  EXPECT_EQ(stats.prefix_skipped, 2u);
}

TEST_F(DumpSourceTest, LogOnlyAndSnapshotOnly) {
  Log({Put("a", "1"), Put("b", "2")}, 0);
  State got;
  SourceStats stats;
  ASSERT_TRUE(Read(&got, &stats).ok());
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(stats.lsn, 2u);
  std::filesystem::remove_all(dir_ + "/wal");
  Snapshot({Put("c", "3")}, 5);
  got.clear();
  ASSERT_TRUE(Read(&got, &stats).ok());
  EXPECT_EQ(got, (State{{"c", {"3", 7, -1}}}));
  EXPECT_EQ(stats.lsn, 5u);
}

// Reading changes nothing: same files, same sizes, same mtimes; a torn tail stays.
TEST_F(DumpSourceTest, ReadingChangesNothingOnDisk) {
  Snapshot({Put("a", "1")}, 1);
  Log({Put("b", "2"), Put("c", "3")}, 1);
  // A torn record at the end of the newest segment, as a running writer leaves it.
  std::string newest;
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/wal")) {
    if (newest.empty() || e.path().string() > newest) newest = e.path().string();
  }
  {
    FILE* f = fopen(newest.c_str(), "ab");
    ASSERT_NE(f, nullptr);
    fwrite("\x12\x34\x56", 1, 3, f);
    fclose(f);
  }
  auto listing = [&] {
    std::map<std::string, std::pair<uintmax_t, int64_t>> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_)) {
      if (e.path().filename() == "lock.mdb") continue;  // LMDB's reader table
      struct stat st;
      EXPECT_EQ(::stat(e.path().c_str(), &st), 0);
      out[e.path().string()] = {e.is_regular_file() ? e.file_size() : 0,
                                st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec};
    }
    return out;
  };
  const auto before = listing();
  State got;
  SourceStats stats;
  ASSERT_TRUE(Read(&got, &stats).ok());
  EXPECT_EQ(got.size(), 3u);
  EXPECT_EQ(listing(), before);
}

// A writer holding the snapshot open (the daemon) does not keep a reader out.
TEST_F(DumpSourceTest, ReadsWhileAWriterHasTheSnapshotOpen) {
  auto writer = snapshot::SnapshotStore::Open(dir_ + "/snapshot", {});
  ASSERT_TRUE(writer.ok());
  std::vector<Mutation> puts = {Put("a", "1"), Put("b", "2")};
  ASSERT_TRUE((*writer)->Apply(puts, 2).ok());
  State got;
  SourceStats stats;
  ASSERT_TRUE(Read(&got, &stats).ok());
  EXPECT_EQ(got.size(), 2u);
  // And the writer can still write afterwards.
  std::vector<Mutation> more = {Put("c", "3")};
  EXPECT_TRUE((*writer)->Apply(more, 3).ok());
  snapshot::SnapshotOptions ro;
  ro.read_only = true;
  auto reader = snapshot::SnapshotStore::Open(dir_ + "/snapshot", ro);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->lsn(), 3u);
  EXPECT_EQ((*reader)->Apply(more, 4).code(), Status::Code::kNotSupported);
  EXPECT_EQ((*reader)->Compact().code(), Status::Code::kNotSupported);
}

// The log no longer holds the records after the snapshot (what a reader sees when the
// checkpointer deleted segments under it, forever): bounded retries, then a clear error.
TEST_F(DumpSourceTest, LogStartingAfterTheSnapshotFailsAfterBoundedRetries) {
  Snapshot({Put("a", "1")}, 1);
  Log({Put("b", "2")}, 5);  // the log starts at LSN 6: 2..5 are missing
  SourceOptions o;
  o.max_attempts = 3;
  int begins = 0;
  SourceStats stats;
  Status s = ReadDataDir(
      dir_, o,
      [&](uint64_t, uint64_t) {
        ++begins;
        return Status::OK();
      },
      [](std::string_view, std::string_view, int64_t, int64_t) { return Status::OK(); }, &stats);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.ToString().find("after 3 attempts"), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find("missing"), std::string::npos) << s.ToString();
  EXPECT_EQ(begins, 0);
  EXPECT_EQ(stats.attempts, 3);
}

TEST_F(DumpSourceTest, ReadOnlySnapshotOfAMissingDirectoryIsNotFound) {
  snapshot::SnapshotOptions ro;
  ro.read_only = true;
  auto reader = snapshot::SnapshotStore::Open(dir_ + "/snapshot", ro);
  EXPECT_TRUE(reader.status().IsNotFound()) << reader.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/snapshot"));
}

}  // namespace
}  // namespace memento::dump
