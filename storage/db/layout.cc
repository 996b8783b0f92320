#include "storage/db/layout.h"

#include <sys/stat.h>

#include "storage/snapshot/snapshot_files.h"
#include "storage/wal/file.h"
#include "storage/wal/wal.h"

namespace memento::db {

std::string LockPath(std::string_view data_dir) { return wal::JoinPath(data_dir, kLockFileName); }

std::string SnapshotPath(std::string_view data_dir) {
  return wal::JoinPath(data_dir, kSnapshotDirName);
}

std::string WalPath(std::string_view data_dir) { return wal::WalDirectory(data_dir); }

Status CheckDataDirectory(const std::string& data_dir) {
  struct stat st;
  if (::stat(data_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::IOError("data directory " + data_dir + " does not exist");
  }
  if (!snapshot::PathExists(SnapshotPath(data_dir)) && !snapshot::PathExists(WalPath(data_dir))) {
    return Status::InvalidArgument(data_dir +
                                   " is not a memento data directory (it has neither "
                                   "snapshot/ nor wal/)");
  }
  return Status::OK();
}

}  // namespace memento::db
