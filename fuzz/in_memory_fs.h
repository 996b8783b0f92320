// InMemoryFileSystem: a wal::FileSystem (storage/wal/file.h) whose files are strings in
// a map, so the WAL targets run without touching the disk (no fixed /tmp paths, no
// cleanup, no I/O cost per input). Also a RandomAccessFile over a string_view, for
// reading a fuzzed segment directly.
//
// Semantics follow the POSIX implementation where the WAL can tell: creating a file
// truncates it, Truncate sets the size (zero-filling if it grows, as ftruncate does),
// GetChildren lists the names directly in a directory,
// GetFileSize works on directories (the read-only recovery uses it to ask whether the
// log directory exists), Sync and SyncDir always succeed. A directory exists once
// created or once a file was created under it (no parent checks: the WAL creates only
// its own directory).
//
// Thread-safety: every method may be called from any thread (the WAL's background
// thread appends and syncs while the fuzzer's thread waits); one mutex guards it all.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/wal/file.h"

namespace memento::fuzz {

// Reads a caller-owned byte string. "bytes" must outlive the file.
class StringFile final : public wal::RandomAccessFile {
 public:
  explicit StringFile(std::string_view bytes) : bytes_(bytes) {}
  Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const override {
    if (offset >= bytes_.size()) {
      *result = {};
      return Status::OK();
    }
    n = std::min<uint64_t>(n, bytes_.size() - offset);
    if (n > 0) std::memcpy(scratch, bytes_.data() + offset, n);
    *result = std::string_view(scratch, n);
    return Status::OK();
  }

 private:
  std::string_view bytes_;
};

class InMemoryFileSystem final : public wal::FileSystem {
 public:
  // Adds (or replaces) a file, creating its directory.
  void Put(const std::string& path, std::string_view contents) {
    std::lock_guard<std::mutex> lock(mu_);
    files_[path] = std::make_shared<std::string>(contents);
    dirs_.insert(Dir(path));
  }
  // The file's contents, or "" if there is none.
  std::string Get(const std::string& path) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(path);
    return it == files_.end() ? std::string() : *it->second;
  }
  // Every file, path -> contents (a copy).
  std::map<std::string, std::string> Files() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<std::string, std::string> out;
    for (const auto& [path, data] : files_) out[path] = *data;
    return out;
  }

  Result<std::unique_ptr<wal::WritableFile>> NewWritableFile(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (dirs_.count(Dir(path)) == 0) return NoEntry("open", path);
    auto data = std::make_shared<std::string>();
    files_[path] = data;
    return std::unique_ptr<wal::WritableFile>(new Writable(this, std::move(data)));
  }

  Result<std::unique_ptr<wal::RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return NoEntry("open", path);
    return std::unique_ptr<wal::RandomAccessFile>(new Readable(this, it->second));
  }

  Result<uint64_t> GetFileSize(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (dirs_.count(path) != 0) return uint64_t{0};
    auto it = files_.find(path);
    if (it == files_.end()) return Status::NotFound("stat " + path);
    return static_cast<uint64_t>(it->second->size());
  }

  Status GetChildren(const std::string& dir, std::vector<std::string>* names) override {
    std::lock_guard<std::mutex> lock(mu_);
    names->clear();
    if (dirs_.count(dir) == 0) return NoEntry("opendir", dir);
    for (const auto& [path, data] : files_) {
      if (Dir(path) == dir) names->push_back(path.substr(dir.size() + 1));
    }
    return Status::OK();
  }

  Status CreateDirIfMissing(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (files_.count(dir) != 0) return Status::IOError("mkdir " + dir + ": File exists");
    dirs_.insert(dir);
    return Status::OK();
  }

  Status RemoveFile(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (files_.erase(path) == 0) return NoEntry("unlink", path);
    return Status::OK();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(from);
    if (it == files_.end()) return NoEntry("rename", from);
    auto data = it->second;
    files_.erase(it);
    files_[to] = std::move(data);
    return Status::OK();
  }

  Status Truncate(const std::string& path, uint64_t size) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return NoEntry("truncate", path);
    it->second->resize(static_cast<size_t>(size), '\0');
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (dirs_.count(dir) == 0) return NoEntry("fsync", dir);
    return Status::OK();
  }

 private:
  // Each open file shares its contents with the map, as an open descriptor keeps
  // reading and writing the same inode after a rename.
  class Writable final : public wal::WritableFile {
   public:
    Writable(InMemoryFileSystem* fs, std::shared_ptr<std::string> data)
        : fs_(fs), data_(std::move(data)) {}
    Status Append(std::string_view bytes) override {
      std::lock_guard<std::mutex> lock(fs_->mu_);
      data_->append(bytes);
      return Status::OK();
    }
    Status Sync() override { return Status::OK(); }
    Status Close() override { return Status::OK(); }

   private:
    InMemoryFileSystem* const fs_;
    const std::shared_ptr<std::string> data_;
  };

  class Readable final : public wal::RandomAccessFile {
   public:
    Readable(InMemoryFileSystem* fs, std::shared_ptr<std::string> data)
        : fs_(fs), data_(std::move(data)) {}
    Status Read(uint64_t offset, size_t n, char* scratch,
                std::string_view* result) const override {
      std::lock_guard<std::mutex> lock(fs_->mu_);
      return StringFile(*data_).Read(offset, n, scratch, result);
    }

   private:
    InMemoryFileSystem* const fs_;
    const std::shared_ptr<std::string> data_;
  };

  static std::string Dir(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
  }
  static Status NoEntry(const char* op, const std::string& path) {
    return Status::IOError(std::string(op) + " " + path + ": No such file or directory");
  }

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<std::string>> files_;
  std::set<std::string> dirs_;
};

}  // namespace memento::fuzz
