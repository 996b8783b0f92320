// The small file-system interface the WAL does all its I/O through: segment files are
// created, appended to, synced, read at offsets, listed, truncated, renamed and
// removed here, and nowhere else. Tests swap in FaultInjectionFileSystem
// (fault_injection_fs.h), which fails writes and syncs on demand and counts them.
// leveldb's Env is the model, reduced to what the WAL needs.
//
// Every error is a Status whose message names the operation and the path ("fdatasync
// /data/wal/00000003.wal: Input/output error"); nothing throws.
//
// Thread-safety: FileSystem methods may be called from any thread. A WritableFile is
// appended to by one thread at a time, but Sync may run concurrently with Append from
// another thread (write(2) and fdatasync(2) on one descriptor are safe together); the
// WAL relies on this for its background sync. RandomAccessFile::Read is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace memento::wal {

class WritableFile {
 public:
  virtual ~WritableFile() = default;  // closes the file if Close was not called

  // Writes all of data at the end of the file: on OK the kernel has every byte (the
  // WAL buffers records itself, so this is one write(2) call or a few for short
  // writes, never a user-space buffer). On error some prefix of data may have been
  // written: the file then ends in a torn record.
  virtual Status Append(std::string_view data) = 0;
  // Makes every byte appended so far durable (fdatasync).
  virtual Status Sync() = 0;
  // Closes the descriptor. REQUIRES: no other call in flight; none after.
  virtual Status Close() = 0;
};

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;

  // Reads up to n bytes at offset into scratch[0, n) and points *result at them;
  // *result is shorter than n only at the end of the file. REQUIRES: scratch holds n
  // bytes and outlives *result.
  virtual Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Creates the file, or truncates it to 0 bytes if it exists.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;
  // NotFound if the path does not exist.
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  // Names (not paths) of the entries of dir, without "." and "..", in no order.
  virtual Status GetChildren(const std::string& dir, std::vector<std::string>* names) = 0;
  // Creates dir (not its parents); OK if it already is a directory.
  virtual Status CreateDirIfMissing(const std::string& dir) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Cuts the file to size bytes and makes the new size durable (ftruncate + fsync).
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  // Makes the directory's entries durable (creations, renames, removals): fsync on
  // the directory itself.
  virtual Status SyncDir(const std::string& dir) = 0;
};

// The POSIX file system. Process-wide; never deleted.
FileSystem* PosixFileSystem();

// "dir/name", without doubling a trailing '/'.
std::string JoinPath(std::string_view dir, std::string_view name);

// The directory holding `path`: "a/b" for "a/b/c", "." for "c", "/" for "/c".
std::string ParentDir(std::string_view path);

// rename(from, to), then fsync of the directory holding `to`, so that the new name
// survives a power loss: until the directory is synced, a rename reported done can be
// undone by a crash (the file reappears under `from`, or `to` keeps its old contents).
// The one way memento publishes a file (dumps, CURRENT, compacted snapshots). Both
// paths must be in the same directory or the source's directory entry is not synced.
Status RenameAndSyncDir(FileSystem* fs, const std::string& from, const std::string& to);

}  // namespace memento::wal
