#include "storage/file_modes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace memento::storage {

int OpenPrivateFile(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CREAT | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return -1;
  if (::fchmod(fd, kPrivateFileMode) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

Status CreatePrivateDir(const std::string& path) {
  if (::mkdir(path.c_str(), kPrivateDirMode) == 0) {
    if (::chmod(path.c_str(), kPrivateDirMode) != 0) {
      return Status::FromErrno("chmod 0700 " + path, errno);
    }
    return Status::OK();
  }
  const int err = errno;
  struct stat st;
  if (err == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::OK();
  return Status::FromErrno("mkdir " + path, err);
}

Status CreatePrivateDirs(const std::string& path) {
  struct stat st;
  if (path.empty() || ::stat(path.c_str(), &st) == 0) return CreatePrivateDir(path);
  const size_t slash = path.find_last_of('/', path.size() - 2);
  if (slash != std::string::npos && slash > 0) {
    MEMENTO_RETURN_IF_ERROR(CreatePrivateDirs(path.substr(0, slash)));
  }
  return CreatePrivateDir(path);
}

Status MakeFilePrivate(const std::string& path) {
  if (::chmod(path.c_str(), kPrivateFileMode) != 0) {
    return Status::FromErrno("chmod 0600 " + path, errno);
  }
  return Status::OK();
}

}  // namespace memento::storage
