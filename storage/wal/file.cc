#include "storage/wal/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "storage/file_modes.h"

namespace memento::wal {
namespace {

std::string Op(std::string_view op, const std::string& path) {
  std::string s(op);
  s += ' ';
  s += path;
  return s;
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(
            "write " + path_ + " at offset " + std::to_string(size_), errno);
      }
      // A short write (disk nearly full, signal) is not an error by itself: retry the
      // rest, and let the next write(2) report why it cannot continue.
      size_ += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::OK();
  }

  Status Sync() override {
    // fdatasync, not fsync: the WAL only needs the data and the file size, not the
    // timestamps. NEVER retry a failed fdatasync: after EIO the kernel may have dropped
    // the dirty pages and marked them clean, so a second call can "succeed" while the
    // data is gone (PostgreSQL's fsyncgate). The caller makes the error sticky.
    while (::fdatasync(fd_) != 0) {
      if (errno != EINTR) return Status::FromErrno(Op("fdatasync", path_), errno);
    }
    return Status::OK();
  }

  Status Close() override {
    const int fd = std::exchange(fd_, -1);
    if (fd >= 0 && ::close(fd) != 0) return Status::FromErrno(Op("close", path_), errno);
    return Status::OK();
  }

 private:
  const std::string path_;
  int fd_;
  uint64_t size_ = 0;  // bytes appended through this object (for error messages)
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const override {
    size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd_, scratch + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(
            "read " + path_ + " at offset " + std::to_string(offset + got), errno);
      }
      if (r == 0) break;  // end of file
      got += static_cast<size_t>(r);
    }
    *result = std::string_view(scratch, got);
    return Status::OK();
  }

 private:
  const std::string path_;
  const int fd_;
};

class PosixFileSystemImpl final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    const int fd = storage::OpenPrivateFile(path, O_WRONLY | O_TRUNC);
    if (fd < 0) return Status::FromErrno(Op("create", path), errno);
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd));
  }

  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status::NotFound(Op("open", path));
      return Status::FromErrno(Op("open", path), errno);
    }
    return std::unique_ptr<RandomAccessFile>(std::make_unique<PosixRandomAccessFile>(path, fd));
  }

  Result<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return Status::NotFound(Op("stat", path));
      return Status::FromErrno(Op("stat", path), errno);
    }
    return static_cast<uint64_t>(st.st_size);
  }

  Status GetChildren(const std::string& dir, std::vector<std::string>* names) override {
    names->clear();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return Status::FromErrno(Op("opendir", dir), errno);
    errno = 0;
    while (const struct dirent* e = ::readdir(d)) {
      const std::string_view name(e->d_name);
      if (name != "." && name != "..") names->emplace_back(name);
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) return Status::FromErrno(Op("readdir", dir), err);
    return Status::OK();
  }

  Status CreateDirIfMissing(const std::string& dir) override {
    return storage::CreatePrivateDir(dir);
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return Status::FromErrno(Op("unlink", path), errno);
    return Status::OK();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return Status::FromErrno("rename " + from + " to " + to, errno);
    }
    return Status::OK();
  }

  Status Truncate(const std::string& path, uint64_t size) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(Op("open", path), errno);
    Status s;
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      s = Status::FromErrno("ftruncate " + path + " to " + std::to_string(size), errno);
    } else if (::fsync(fd) != 0) {
      s = Status::FromErrno(Op("fsync", path), errno);
    }
    ::close(fd);
    return s;
  }

  Status SyncDir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(Op("open", dir), errno);
    Status s;
    if (::fsync(fd) != 0) s = Status::FromErrno(Op("fsync", dir), errno);
    ::close(fd);
    return s;
  }
};

}  // namespace

FileSystem* PosixFileSystem() {
  static FileSystem* const fs = new PosixFileSystemImpl();  // never deleted: no exit-order issue
  return fs;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string path(dir);
  if (!path.empty() && path.back() != '/') path += '/';
  path += name;
  return path;
}

std::string ParentDir(std::string_view path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

Status RenameAndSyncDir(FileSystem* fs, const std::string& from, const std::string& to) {
  MEMENTO_RETURN_IF_ERROR(fs->RenameFile(from, to));
  return fs->SyncDir(ParentDir(to));
}

}  // namespace memento::wal
