#include "tools/compact/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "storage/file_modes.h"

namespace memento::tools {
namespace {

// The pid a daemon wrote into its LOCK file ("unknown" if none).
std::string ReadPid(int fd) {
  char buf[32] = {0};
  const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  std::string pid = n > 0 ? std::string(buf, strnlen(buf, sizeof(buf))) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

Result<std::unique_ptr<DataDirLock>> DataDirLock::Exclusive(const std::string& data_dir,
                                                            const std::string& program) {
  const std::string path = data_dir + "/LOCK";
  std::unique_ptr<DataDirLock> lock(new DataDirLock());
  lock->fd_ = storage::OpenPrivateFile(path, O_RDWR);
  if (lock->fd_ < 0) return Status::FromErrno("open " + path, errno);
  if (::flock(lock->fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      return Status::Busy("data directory " + data_dir + " is in use by another memento (pid " +
                          ReadPid(lock->fd_) + "); " + program +
                          " works only on a stopped daemon's directory: stop it first "
                          "(or use --check, which runs alongside it)");
    }
    return Status::FromErrno("lock " + path, err);
  }
  // Our pid, as the daemon does: a daemon started meanwhile names this process.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock->fd_, 0) != 0 || ::pwrite(lock->fd_, pid.data(), pid.size(), 0) < 0) {
    return Status::FromErrno("write " + path, errno);
  }
  lock->held_ = true;
  return lock;
}

Result<std::unique_ptr<DataDirLock>> DataDirLock::Shared(const std::string& data_dir) {
  const std::string path = data_dir + "/LOCK";
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

}  // namespace memento::tools
