// FaultInjectionFileSystem: a FileSystem wrapper for tests that fails writes, syncs
// and file creation on demand, slows syncs down, counts every call, and simulates a
// power loss by cutting files back to what was last synced. leveldb's
// db/fault_injection_test.cc is the model.
//
// Typical use:
//   FaultInjectionFileSystem fs(PosixFileSystem());
//   options.fs = &fs;
//   fs.FailSyncs(EIO);            // the next Sync of any file fails with EIO
//   ...
//   EXPECT_EQ(fs.syncs(), 3u);    // successful file syncs so far
//
// Lives in memento_storage (not a test library) so that every storage test and the
// benchmarks can use it; nothing in the daemon refers to it.
//
// Thread-safety: every method may be called from any thread, concurrently with I/O
// through the files it created.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "storage/wal/file.h"

namespace memento::wal {

class FaultInjectionFileSystem final : public FileSystem {
 public:
  // "base" must outlive this object and every file it creates.
  explicit FaultInjectionFileSystem(FileSystem* base);
  ~FaultInjectionFileSystem() override;

  // The next `count` WritableFile::Append calls fail with errnum (EIO, ENOSPC...).
  // Each first writes `partial_bytes` of its data (capped at the data's size), so the
  // file ends in a torn record, as after a real short write followed by an error.
  void FailWrites(int errnum, int count = 1, size_t partial_bytes = 0);
  // The next `count` WritableFile::Sync calls fail with errnum without syncing.
  void FailSyncs(int errnum, int count = 1);
  // The next `count` NewWritableFile calls fail with errnum.
  void FailCreates(int errnum, int count = 1);
  // Every later WritableFile::Sync sleeps this long first (to let group commit batch).
  void SetSyncDelay(std::chrono::microseconds delay);

  // Successful calls so far.
  uint64_t writes() const { return writes_.load(); }
  uint64_t syncs() const { return syncs_.load(); }
  uint64_t dir_syncs() const { return dir_syncs_.load(); }

  // Simulated power loss: truncates every file written through this object to the
  // size it had at its last successful Sync (0 if never synced). Call it only while no
  // file is being written. Directory entries are not rolled back.
  Status DropUnsyncedData();

  // FileSystem:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Result<uint64_t> GetFileSize(const std::string& path) override;
  Status GetChildren(const std::string& dir, std::vector<std::string>* names) override;
  Status CreateDirIfMissing(const std::string& dir) override;
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;

 private:
  friend class FaultWritableFile;
  struct FileState {
    uint64_t size = 0;         // bytes written through us
    uint64_t synced_size = 0;  // size at the last successful Sync
  };

  // Returns the errno to inject for this call, or 0; consumes one from the counter.
  static int Consume(std::atomic<int>* count, const std::atomic<int>& errnum);
  void OnAppended(const std::string& path, uint64_t bytes);
  void OnSynced(const std::string& path);

  FileSystem* const base_;
  std::atomic<int> write_failures_{0}, write_errno_{0};
  std::atomic<size_t> write_partial_bytes_{0};
  std::atomic<int> sync_failures_{0}, sync_errno_{0};
  std::atomic<int> create_failures_{0}, create_errno_{0};
  std::atomic<int64_t> sync_delay_us_{0};
  std::atomic<uint64_t> writes_{0}, syncs_{0}, dir_syncs_{0};

  std::mutex mu_;
  std::map<std::string, FileState> files_;  // guarded by mu_
};

}  // namespace memento::wal
