#include "storage/db/layout.h"

#include "storage/wal/file.h"
#include "storage/wal/wal.h"

namespace memento::db {

std::string LockPath(std::string_view data_dir) { return wal::JoinPath(data_dir, kLockFileName); }

std::string SnapshotPath(std::string_view data_dir) {
  return wal::JoinPath(data_dir, kSnapshotDirName);
}

std::string WalPath(std::string_view data_dir) { return wal::WalDirectory(data_dir); }

}  // namespace memento::db
