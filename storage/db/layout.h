// The data directory's layout: the names of what lives in it. Every program that
// opens a data directory (memento, memento-compact, memento-dump, memento-restore)
// builds its paths here, so the layout is written down once.
//
//   <data-dir>/LOCK       flock(2)ed by whoever owns the directory; holds its pid
//                         (data_dir_lock.h)
//   <data-dir>/snapshot/  the LMDB snapshot (storage/snapshot/, docs/formats/snapshot.md)
//   <data-dir>/wal/       the write-ahead log segments (storage/wal/, docs/formats/wal.md)
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace memento::db {

inline constexpr char kLockFileName[] = "LOCK";
inline constexpr char kSnapshotDirName[] = "snapshot";

// <data_dir>/LOCK
std::string LockPath(std::string_view data_dir);
// <data_dir>/snapshot
std::string SnapshotPath(std::string_view data_dir);
// <data_dir>/wal (the same as wal::WalDirectory, which the log's own tests use).
std::string WalPath(std::string_view data_dir);

// OK if `data_dir` is a memento data directory: a directory holding snapshot/ or wal/
// (or both). IOError naming it if it does not exist or is no directory;
// InvalidArgument naming it if it has neither: the tools refuse to read or change
// anything else.
Status CheckDataDirectory(const std::string& data_dir);

}  // namespace memento::db
