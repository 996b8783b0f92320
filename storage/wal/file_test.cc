#include "storage/wal/file.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cerrno>

#include "storage/wal/fault_injection_fs.h"
#include "storage/wal/wal_test_util.h"

namespace memento::wal {
namespace {

using testing_util::Contains;
using testing_util::TempDir;

class FileTest : public testing::Test {
 protected:
  std::string Path(std::string_view name) const { return JoinPath(tmp_.path(), name); }
  std::unique_ptr<WritableFile> Create(FileSystem* fs, const std::string& path) {
    Result<std::unique_ptr<WritableFile>> f = fs->NewWritableFile(path);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? std::move(f).value() : nullptr;
  }
  std::string ReadAll(const std::string& path) {
    Result<std::unique_ptr<RandomAccessFile>> f = fs_->NewRandomAccessFile(path);
    if (!f.ok()) return "<" + f.status().ToString() + ">";
    std::string scratch(1 << 16, '\0');
    std::string_view got;
    EXPECT_TRUE((*f)->Read(0, scratch.size(), scratch.data(), &got).ok());
    return std::string(got);
  }

  TempDir tmp_;
  FileSystem* fs_ = PosixFileSystem();
};

TEST_F(FileTest, WriteSyncCloseThenReadBack) {
  auto f = Create(fs_, Path("a"));
  ASSERT_TRUE(f->Append("hello ").ok());
  ASSERT_TRUE(f->Append("world").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Close().ok());
  EXPECT_TRUE(f->Close().ok());  // a second Close is harmless
  EXPECT_EQ(ReadAll(Path("a")), "hello world");
  EXPECT_EQ(*fs_->GetFileSize(Path("a")), 11u);
}

TEST_F(FileTest, ReadPastTheEndIsShort) {
  auto f = Create(fs_, Path("a"));
  ASSERT_TRUE(f->Append("abc").ok());
  auto r = fs_->NewRandomAccessFile(Path("a"));
  ASSERT_TRUE(r.ok());
  char buf[16];
  std::string_view got;
  ASSERT_TRUE((*r)->Read(1, sizeof(buf), buf, &got).ok());
  EXPECT_EQ(got, "bc");
  ASSERT_TRUE((*r)->Read(10, sizeof(buf), buf, &got).ok());
  EXPECT_EQ(got, "");
}

TEST_F(FileTest, NewWritableFileTruncatesAnExistingFile) {
  ASSERT_TRUE(Create(fs_, Path("a"))->Append("old contents").ok());
  auto f = Create(fs_, Path("a"));
  EXPECT_EQ(*fs_->GetFileSize(Path("a")), 0u);
}

TEST_F(FileTest, MissingFileIsNotFound) {
  EXPECT_TRUE(fs_->NewRandomAccessFile(Path("nope")).status().IsNotFound());
  EXPECT_TRUE(fs_->GetFileSize(Path("nope")).status().IsNotFound());
  const Status s = fs_->RemoveFile(Path("nope"));
  EXPECT_TRUE(s.IsIOError());
  EXPECT_TRUE(Contains(s.message(), Path("nope")));
}

TEST_F(FileTest, DirectoryOperations) {
  const std::string dir = Path("d");
  ASSERT_TRUE(fs_->CreateDirIfMissing(dir).ok());
  ASSERT_TRUE(fs_->CreateDirIfMissing(dir).ok());
  Create(fs_, JoinPath(dir, "x"));
  Create(fs_, JoinPath(dir, "y"));
  ASSERT_TRUE(fs_->RenameFile(JoinPath(dir, "y"), JoinPath(dir, "z")).ok());
  std::vector<std::string> names;
  ASSERT_TRUE(fs_->GetChildren(dir, &names).ok());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"x", "z"}));
  ASSERT_TRUE(fs_->RemoveFile(JoinPath(dir, "x")).ok());
  EXPECT_TRUE(fs_->SyncDir(dir).ok());
  ASSERT_TRUE(fs_->GetChildren(dir, &names).ok());
  EXPECT_EQ(names, std::vector<std::string>{"z"});
  // A file where a directory should be.
  EXPECT_FALSE(fs_->CreateDirIfMissing(JoinPath(dir, "z")).ok());
}

TEST_F(FileTest, TruncateCutsTheFile) {
  auto f = Create(fs_, Path("a"));
  ASSERT_TRUE(f->Append("0123456789").ok());
  ASSERT_TRUE(fs_->Truncate(Path("a"), 4).ok());
  EXPECT_EQ(ReadAll(Path("a")), "0123");
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// The data files hold every value: 0600 files and 0700 directories, whatever the
// umask (docs/security.md).
TEST_F(FileTest, NewFilesAre0600AndNewDirectories0700WhateverTheUmask) {
  const mode_t saved = ::umask(0);
  int i = 0;
  for (const mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}, mode_t{0277}}) {
    ::umask(mask);
    const std::string dir = Path("d" + std::to_string(i));
    const std::string file = Path("f" + std::to_string(i++));
    ASSERT_TRUE(fs_->CreateDirIfMissing(dir).ok());
    auto f = Create(fs_, file);
    ASSERT_NE(f, nullptr);
    ASSERT_TRUE(f->Append("x").ok());  // still writable under a umask of 0277
    EXPECT_EQ(ModeOf(dir), 0700u) << "umask " << mask;
    EXPECT_EQ(ModeOf(file), 0600u) << "umask " << mask;
  }
  ::umask(saved);
}

TEST_F(FileTest, AnExistingDirectoryKeepsTheOperatorsMode) {
  const std::string dir = Path("shared");
  ASSERT_EQ(::mkdir(dir.c_str(), 0750), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0750), 0);
  ASSERT_TRUE(fs_->CreateDirIfMissing(dir).ok());
  EXPECT_EQ(ModeOf(dir), 0750u);
}

TEST(JoinPathTest, AddsOneSlash) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
}

TEST(ParentDirTest, CutsTheLastComponent) {
  EXPECT_EQ(ParentDir("a/b/c"), "a/b");
  EXPECT_EQ(ParentDir("c"), ".");
  EXPECT_EQ(ParentDir("/c"), "/");
}

// ---- The fault-injecting file system ----

class FaultInjectionTest : public FileTest {
 protected:
  FaultInjectionFileSystem faulty_{PosixFileSystem()};
};

TEST_F(FaultInjectionTest, PassesThroughAndCounts) {
  auto f = Create(&faulty_, Path("a"));
  ASSERT_TRUE(f->Append("abc").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(faulty_.SyncDir(tmp_.path()).ok());
  EXPECT_EQ(faulty_.writes(), 1u);
  EXPECT_EQ(faulty_.syncs(), 1u);
  EXPECT_EQ(faulty_.dir_syncs(), 1u);
  EXPECT_EQ(ReadAll(Path("a")), "abc");
}

// A rename is only durable once its directory is synced: the helper the dump, CURRENT
// and compaction publish through does both.
TEST_F(FaultInjectionTest, RenameAndSyncDirSyncsTheDirectory) {
  auto f = Create(&faulty_, Path("backup.tmp"));
  ASSERT_TRUE(f->Append("dump").ok());
  ASSERT_TRUE(f->Close().ok());
  ASSERT_EQ(faulty_.dir_syncs(), 0u);
  ASSERT_TRUE(RenameAndSyncDir(&faulty_, Path("backup.tmp"), Path("backup")).ok());
  EXPECT_EQ(faulty_.dir_syncs(), 1u);
  EXPECT_EQ(ReadAll(Path("backup")), "dump");
  EXPECT_FALSE(faulty_.GetFileSize(Path("backup.tmp")).ok());
  // A failed rename syncs nothing and says which.
  Status s = RenameAndSyncDir(&faulty_, Path("missing"), Path("x"));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("rename"), std::string::npos) << s.ToString();
  EXPECT_EQ(faulty_.dir_syncs(), 1u);
}

TEST_F(FaultInjectionTest, FailedWriteWritesThePartialPrefixThenFails) {
  auto f = Create(&faulty_, Path("a"));
  faulty_.FailWrites(ENOSPC, 1, /*partial_bytes=*/2);
  const Status s = f->Append("abcdef");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_TRUE(Contains(s.message(), "No space left on device"));
  EXPECT_TRUE(Contains(s.message(), Path("a")));
  EXPECT_EQ(ReadAll(Path("a")), "ab");
  EXPECT_TRUE(f->Append("gh").ok());  // only `count` failures
  EXPECT_EQ(faulty_.writes(), 1u);
}

TEST_F(FaultInjectionTest, FailedSyncDoesNotSyncOrCount) {
  auto f = Create(&faulty_, Path("a"));
  faulty_.FailSyncs(EIO, 2);
  EXPECT_TRUE(Contains(f->Sync().message(), "Input/output error"));
  EXPECT_FALSE(f->Sync().ok());
  EXPECT_TRUE(f->Sync().ok());
  EXPECT_EQ(faulty_.syncs(), 1u);
}

TEST_F(FaultInjectionTest, FailedCreate) {
  faulty_.FailCreates(EACCES);
  EXPECT_TRUE(Contains(faulty_.NewWritableFile(Path("a")).status().message(),
                       "Permission denied"));
  EXPECT_TRUE(faulty_.NewWritableFile(Path("a")).ok());
}

TEST_F(FaultInjectionTest, DropUnsyncedDataCutsBackToTheLastSync) {
  auto f = Create(&faulty_, Path("a"));
  ASSERT_TRUE(f->Append("durable").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append(" lost").ok());
  auto g = Create(&faulty_, Path("b"));
  ASSERT_TRUE(g->Append("never synced").ok());
  ASSERT_TRUE(faulty_.DropUnsyncedData().ok());
  EXPECT_EQ(ReadAll(Path("a")), "durable");
  EXPECT_EQ(ReadAll(Path("b")), "");
}

}  // namespace
}  // namespace memento::wal
