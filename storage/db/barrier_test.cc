// Db's durability barrier across threads (db.h, "replies" and "failure"): a round on
// one thread waits for the changes another thread appended; nothing pending costs no
// wait; a log failure fails every later round and is reported once; a change the log
// cannot hold fails the log instead of staying in the table unlogged. The clients'
// view of the same rules: tests/e2e/log_barrier_test.cc.

#include <sys/mman.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "storage/db/db.h"
#include "storage/table/table.h"
#include "storage/wal/fault_injection_fs.h"
#include "storage/wal/wal_test_util.h"

namespace memento::db {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class BarrierTest : public testing::Test {
 protected:
  void Open(wal::SyncPolicy policy = wal::SyncPolicy::kAlways) {
    DbOptions options;
    options.data_dir = dir_.path() + "/data";
    options.fsync = policy;
    options.fs = &fs_;
    options.snapshot_interval_s = 0;
    options.snapshot_after_writes = 0;
    options.on_log_failure = [this](const Status&) { failures_.fetch_add(1); };
    Result<std::unique_ptr<Db>> db = Db::Open(std::move(options), &table_, nullptr);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    table_.SetMutationSink(db_.get());
  }
  void TearDown() override {
    table_.SetMutationSink(nullptr);
    if (db_) (void)db_->Close(/*final_checkpoint=*/false);
  }
  // A write on another thread that is never committed there (its loop is "busy").
  void WriteOnAnotherThread(const std::string& key, const std::string& value) {
    std::thread([&] {
      table_.Write(key, 1, [&](table::Slot& slot) { slot.Create(1)->value = value; });
    }).join();
  }

  wal::testing_util::TempDir dir_;
  wal::FaultInjectionFileSystem fs_{wal::PosixFileSystem()};
  table::Table table_;
  std::unique_ptr<Db> db_;
  std::atomic<int> failures_{0};
};

TEST_F(BarrierTest, NothingPendingNothingToWaitFor) {
  Open();
  EXPECT_FALSE(db_->HasUncommitted());
  EXPECT_TRUE(db_->CommitRound().ok());
  const uint64_t syncs = fs_.syncs();
  fs_.SetSyncDelay(milliseconds(500));
  const auto start = Clock::now();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(db_->CommitRound().ok());
  EXPECT_LT(Clock::now() - start, milliseconds(100));
  EXPECT_EQ(fs_.syncs(), syncs) << "a round with nothing pending must not sync";
}

TEST_F(BarrierTest, ThisThreadsRoundWaitsForAnotherThreadsWrite) {
  Open();
  WriteOnAnotherThread("k", "v");
  // This thread wrote nothing, but its round may have read "k": it must wait.
  EXPECT_TRUE(db_->HasUncommitted());
  fs_.SetSyncDelay(milliseconds(300));
  const auto start = Clock::now();
  EXPECT_TRUE(db_->CommitRound().ok());
  EXPECT_GE(Clock::now() - start, milliseconds(290));
  EXPECT_FALSE(db_->HasUncommitted());
  EXPECT_EQ(db_->Stats().durable_lsn, db_->Stats().last_lsn);
  fs_.SetSyncDelay(std::chrono::microseconds(0));
}

TEST_F(BarrierTest, EverysecRoundWaitsForTheWriteOnly) {
  Open(wal::SyncPolicy::kEverySec);
  fs_.SetSyncDelay(milliseconds(2000));
  WriteOnAnotherThread("k", "v");
  EXPECT_TRUE(db_->HasUncommitted());
  const auto start = Clock::now();
  EXPECT_TRUE(db_->CommitRound().ok());
  EXPECT_LT(Clock::now() - start, milliseconds(500)) << "everysec readers wait for write(2)";
  EXPECT_FALSE(db_->HasUncommitted());
  fs_.SetSyncDelay(std::chrono::microseconds(0));
}

TEST_F(BarrierTest, FailedSyncFailsEveryLaterRoundAndIsReportedOnce) {
  Open();
  fs_.FailSyncs(EIO);
  WriteOnAnotherThread("k", "v");
  Status first = db_->CommitRound();
  EXPECT_TRUE(first.IsIOError()) << first.ToString();
  // Every thread, from now on, even with nothing new appended.
  Status other;
  std::thread([&] {
    EXPECT_TRUE(db_->HasUncommitted());
    other = db_->CommitRound();
  }).join();
  EXPECT_FALSE(other.ok());
  EXPECT_TRUE(db_->HasUncommitted());
  EXPECT_FALSE(db_->CommitRound().ok());
  EXPECT_FALSE(db_->WriteError().ok());
  EXPECT_EQ(failures_.load(), 1);
}

TEST_F(BarrierTest, ChangeOverTheRecordLimitFailsTheLog) {
  Open();
  // A value one byte over what a record holds, never read: Append sizes it first.
  const size_t size = wal::kMaxRecordPayload + 1;
  void* pages = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(pages, MAP_FAILED);
  storage::Mutation m;
  m.key = "k";
  m.value = std::string_view(static_cast<const char*>(pages), size);
  db_->OnMutation(m);
  ::munmap(pages, size);
  EXPECT_TRUE(db_->HasUncommitted());
  Status s = db_->CommitRound();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("exceeds the WAL record limit"), std::string::npos) << s.ToString();
  EXPECT_FALSE(db_->WriteError().ok());
  EXPECT_EQ(failures_.load(), 1);
}

}  // namespace
}  // namespace memento::db
