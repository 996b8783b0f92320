#include "storage/db/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "storage/db/layout.h"
#include "storage/file_modes.h"

namespace memento::db {
namespace {

// The pid the holder wrote into LOCK ("unknown" if none).
std::string ReadPid(int fd) {
  char buf[32] = {0};
  const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  std::string pid = n > 0 ? std::string(buf, strnlen(buf, sizeof(buf))) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<DataDirLock>> DataDirLock::Exclusive(const std::string& data_dir,
                                                            const ExclusiveLockOptions& options) {
  const std::string path = LockPath(data_dir);
  std::unique_ptr<DataDirLock> lock(new DataDirLock());
  if (options.create) {
    // 0700 when created (an existing directory keeps the operator's mode); LOCK is 0600
    // (storage/file_modes.h, docs/security.md).
    if (Status made = storage::CreatePrivateDirs(data_dir); !made.ok()) {
      return Status::IOError("cannot create data directory " + data_dir + ": " +
                             std::string(made.message()));
    }
  }
  lock->fd_ = options.create ? storage::OpenPrivateFile(path, O_RDWR)
                             : ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (lock->fd_ < 0) {
    if (errno == ENOENT && !options.create) return lock;  // nobody ever ran here
    return Status::FromErrno("open " + path, errno);
  }
  if (::flock(lock->fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      return Status::Busy("data directory " + data_dir + " is in use by " + options.holder +
                          " (pid " + ReadPid(lock->fd_) + "); " + options.advice);
    }
    return Status::FromErrno("lock " + path, err);
  }
  // Our pid: whoever is refused while we hold the directory names this process.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock->fd_, 0) != 0 || ::pwrite(lock->fd_, pid.data(), pid.size(), 0) < 0) {
    return Status::FromErrno("write " + path, errno);
  }
  lock->held_ = true;
  return lock;
}

Result<std::unique_ptr<DataDirLock>> DataDirLock::Shared(const std::string& data_dir) {
  const std::string path = LockPath(data_dir);
  std::unique_ptr<DataDirLock> lock(new DataDirLock());
  lock->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (lock->fd_ < 0) {
    if (errno == ENOENT) return lock;  // no daemon ever ran here; nothing to hold
    return Status::FromErrno("open " + path, errno);
  }
  if (::flock(lock->fd_, LOCK_SH | LOCK_NB) != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) return Status::FromErrno("lock " + path, err);
    lock->owner_pid_ = ReadPid(lock->fd_);
    return lock;
  }
  lock->held_ = true;
  return lock;
}

}  // namespace memento::db
