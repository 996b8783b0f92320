#include "storage/snapshot/snapshot_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "storage/file_modes.h"
#include "storage/snapshot/snapshot_format.h"
#include "storage/wal/file.h"

namespace memento::snapshot {
namespace {

// Writes all of `data` to `fd`, retrying short writes and EINTR.
Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write " + path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

}  // namespace

std::string EnvDirName(uint64_t number) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s%0*llu", kEnvDirPrefix, kEnvDirDigits,
                static_cast<unsigned long long>(number));
  return buf;
}

std::optional<uint64_t> ParseEnvDirName(std::string_view name) {
  const std::string_view prefix = kEnvDirPrefix;
  if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
  name.remove_prefix(prefix.size());
  if (name.size() < static_cast<size_t>(kEnvDirDigits) || name.size() > 19) return std::nullopt;
  uint64_t n = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

Result<std::string> ReadCurrentFile(const std::string& dir) {
  const std::string path = dir + "/" + kCurrentFileName;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(path + " does not exist");
    return Status::FromErrno("open " + path, errno);
  }
  // A valid CURRENT is ~12 bytes; read a little more so that a longer file is detected.
  char buf[64];
  size_t len = 0;
  while (len < sizeof(buf)) {
    const ssize_t n = ::read(fd, buf + len, sizeof(buf) - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Status::FromErrno("read " + path, err);
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  ::close(fd);
  std::string_view text(buf, len);
  if (text.empty() || text.back() != '\n' || !ParseEnvDirName(text.substr(0, len - 1))) {
    return Status::Corruption(path + " does not hold one snapshot name such as \"" + EnvDirName(1) +
                              "\\n\"; write the name of the newest complete snap-* directory "
                              "into it, or restore the snapshot directory from a backup");
  }
  return std::string(text.substr(0, len - 1));
}

Status WriteCurrentFile(const std::string& dir, std::string_view env_name) {
  const std::string tmp = dir + "/" + kCurrentFileName + kTempSuffix;
  const std::string path = dir + "/" + kCurrentFileName;
  const int fd = storage::OpenPrivateFile(tmp, O_WRONLY | O_TRUNC);
  if (fd < 0) return Status::FromErrno("create " + tmp, errno);
  std::string contents(env_name);
  contents += '\n';
  Status s = WriteAll(fd, contents, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = Status::FromErrno("fsync " + tmp, errno);
  if (::close(fd) != 0 && s.ok()) s = Status::FromErrno("close " + tmp, errno);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  s = wal::RenameAndSyncDir(wal::PosixFileSystem(), tmp, path);
  if (!s.ok()) ::unlink(tmp.c_str());  // a no-op if the rename happened
  return s;
}

Status CreateDir(const std::string& path) { return storage::CreatePrivateDir(path); }

Status SyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open " + path + " for fsync", errno);
  Status s;
  if (::fsync(fd) != 0) s = Status::FromErrno("fsync " + path, errno);
  ::close(fd);
  return s;
}

Status RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return Status::IOError("remove " + path + ": " + ec.message());
  return Status::OK();
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace memento::snapshot
