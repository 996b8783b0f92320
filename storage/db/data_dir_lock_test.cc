// The LOCK protocol: exclusive vs shared vs a second exclusive, and the pid the refusal
// names. flock(2) locks belong to an open file description, so two DataDirLocks in one
// process conflict exactly as two processes do.
#include "storage/db/data_dir_lock.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "storage/db/db.h"
#include "storage/db/layout.h"

namespace memento::db {
namespace {

class DataDirLockTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = testing::TempDir() + "data_dir_lock_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/data";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string ReadLockFile() const {
    std::ifstream in(LockPath(dir_));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::unique_ptr<DataDirLock> Exclusive(const ExclusiveLockOptions& o = DaemonLockOptions()) {
    Result<std::unique_ptr<DataDirLock>> lock = DataDirLock::Exclusive(dir_, o);
    EXPECT_TRUE(lock.ok()) << lock.status().ToString();
    return lock.ok() ? std::move(*lock) : nullptr;
  }

  const std::string pid_ = std::to_string(::getpid());
  std::string root_;
  std::string dir_;
};

TEST_F(DataDirLockTest, ExclusiveCreatesTheDirectoryAndWritesItsPid) {
  std::unique_ptr<DataDirLock> lock = Exclusive();
  ASSERT_NE(lock, nullptr);
  EXPECT_TRUE(lock->held());
  EXPECT_TRUE(std::filesystem::is_directory(dir_));
  EXPECT_EQ(ReadLockFile(), pid_ + "\n");
  // Private whatever the umask (storage/file_modes.h).
  struct stat st;
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(LockPath(dir_).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(DataDirLockTest, SecondExclusiveIsBusyAndNamesTheHoldersPid) {
  std::unique_ptr<DataDirLock> first = Exclusive();
  ASSERT_NE(first, nullptr);
  Result<std::unique_ptr<DataDirLock>> second = DataDirLock::Exclusive(dir_, DaemonLockOptions());
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsBusy());
  // The daemon's words, byte for byte (tests/e2e/daemon_lifecycle_test.cc and
  // docs/operations.md quote them).
  EXPECT_EQ(second.status().message(), "data directory " + dir_ +
                                           " is in use by another memento (pid " + pid_ +
                                           "); stop it or start with another --data-dir");
  // The refused attempt did not overwrite the holder's pid.
  EXPECT_EQ(ReadLockFile(), pid_ + "\n");
}

TEST_F(DataDirLockTest, EachCallerSaysItsOwnAdvice) {
  std::unique_ptr<DataDirLock> daemon = Exclusive();
  ASSERT_NE(daemon, nullptr);
  ExclusiveLockOptions restore;
  restore.holder = "a running memento";
  restore.advice = "stop it first";
  restore.create = false;
  Result<std::unique_ptr<DataDirLock>> refused = DataDirLock::Exclusive(dir_, restore);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "data directory " + dir_ + " is in use by a running memento (pid " + pid_ +
                "); stop it first");
}

TEST_F(DataDirLockTest, ExclusiveIsFreeAgainOnceTheHolderIsGone) {
  std::unique_ptr<DataDirLock> first = Exclusive();
  ASSERT_NE(first, nullptr);
  first.reset();  // as a process ending, kill -9 included: the flock goes with the fd
  std::unique_ptr<DataDirLock> second = Exclusive();
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(second->held());
}

TEST_F(DataDirLockTest, SharedRunsAlongsideAnExclusiveHolderAndNamesIt) {
  std::unique_ptr<DataDirLock> daemon = Exclusive();
  ASSERT_NE(daemon, nullptr);
  Result<std::unique_ptr<DataDirLock>> check = DataDirLock::Shared(dir_);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_FALSE((*check)->held());
  EXPECT_EQ((*check)->owner_pid(), pid_);
}

TEST_F(DataDirLockTest, SharedKeepsAnExclusiveOutAndOtherSharedIn) {
  { ASSERT_NE(Exclusive(), nullptr); }  // leaves a LOCK file holding our pid
  Result<std::unique_ptr<DataDirLock>> check = DataDirLock::Shared(dir_);
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE((*check)->held());
  EXPECT_EQ((*check)->owner_pid(), "");
  Result<std::unique_ptr<DataDirLock>> other_check = DataDirLock::Shared(dir_);
  ASSERT_TRUE(other_check.ok());
  EXPECT_TRUE((*other_check)->held());

  Result<std::unique_ptr<DataDirLock>> daemon = DataDirLock::Exclusive(dir_, DaemonLockOptions());
  ASSERT_FALSE(daemon.ok());
  EXPECT_TRUE(daemon.status().IsBusy());
  // A shared holder writes nothing: the file still names the last exclusive owner.
  EXPECT_NE(std::string(daemon.status().message()).find("(pid " + pid_ + ")"), std::string::npos);
}

TEST_F(DataDirLockTest, BusyWithAnEmptyLockFileSaysUnknown) {
  std::filesystem::create_directories(dir_);
  { std::ofstream touch(LockPath(dir_)); }
  Result<std::unique_ptr<DataDirLock>> check = DataDirLock::Shared(dir_);
  ASSERT_TRUE(check.ok());
  ASSERT_TRUE((*check)->held());
  Result<std::unique_ptr<DataDirLock>> daemon = DataDirLock::Exclusive(dir_, DaemonLockOptions());
  ASSERT_FALSE(daemon.ok());
  EXPECT_NE(std::string(daemon.status().message()).find("(pid unknown)"), std::string::npos);
}

TEST_F(DataDirLockTest, SharedNeverCreatesTheLockFile) {
  std::filesystem::create_directories(dir_);
  Result<std::unique_ptr<DataDirLock>> check = DataDirLock::Shared(dir_);
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE((*check)->held());
  EXPECT_EQ((*check)->owner_pid(), "");
  EXPECT_FALSE(std::filesystem::exists(LockPath(dir_)));
}

TEST_F(DataDirLockTest, ExclusiveWithoutCreateLeavesAMissingDirectoryAlone) {
  ExclusiveLockOptions o;
  o.create = false;
  Result<std::unique_ptr<DataDirLock>> lock = DataDirLock::Exclusive(dir_, o);
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  EXPECT_FALSE((*lock)->held());
  EXPECT_FALSE(std::filesystem::exists(dir_));
}

TEST_F(DataDirLockTest, AnUncreatableDirectoryIsAnIoErrorNamingIt) {
  // A file where the data directory's parent should be.
  { std::ofstream file(root_ + "/file"); }
  dir_ = root_ + "/file/data";
  Result<std::unique_ptr<DataDirLock>> lock = DataDirLock::Exclusive(dir_, DaemonLockOptions());
  ASSERT_FALSE(lock.ok());
  EXPECT_TRUE(lock.status().IsIOError());
  EXPECT_NE(std::string(lock.status().message()).find("cannot create data directory " + dir_),
            std::string::npos);
}

TEST_F(DataDirLockTest, DbOpenTakesTheLockAndRefusesASecondDb) {
  table::Table first_table;
  DbOptions options;
  options.data_dir = dir_;
  Result<std::unique_ptr<Db>> first = Db::Open(std::move(options), &first_table, nullptr);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(ReadLockFile(), pid_ + "\n");

  table::Table second_table;
  DbOptions again;
  again.data_dir = dir_;
  Result<std::unique_ptr<Db>> second = Db::Open(std::move(again), &second_table, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsBusy());

  first->reset();  // Close + release
  DbOptions third;
  third.data_dir = dir_;
  EXPECT_TRUE(Db::Open(std::move(third), &second_table, nullptr).ok());
}

}  // namespace
}  // namespace memento::db
