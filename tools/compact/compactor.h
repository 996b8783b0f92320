// CompactDataDir: memento-compact's work on a stopped daemon's data directory
// (docs/tools/compact.md). In order, each step leaving a directory the daemon recovers
// to exactly the same data if the process dies right after it (kill -9 included):
//
//   1. lock      take <data-dir>/LOCK exclusively (refused while a daemon holds it),
//                so no daemon can start meanwhile;
//   2. recover   open the snapshot (SnapshotStore::Open drops leftovers of an
//                interrupted compaction) and the log (Wal::Open: the daemon's recovery,
//                same --wal-recovery semantics; a torn tail is truncated);
//   3. fold      the daemon's checkpoint (db::FoldLogIntoSnapshot): the log after
//                the snapshot's LSN in bounded LMDB transactions, each committed with
//                its LSN; then the covered segments are deleted;
//   4. expire    delete the entries already expired (expire_ms <= now) in LMDB
//                transactions at the same LSN: nothing in the log can bring them back,
//                and the daemon would drop them at load anyway;
//   5. compact   SnapshotStore::Compact: mdb_env_copy2(MDB_CP_COMPACT) into
//                snap-<N+1>.tmp, fsync, rename, switch CURRENT, delete snap-<N>.
//
// Thread-safety: one call at a time per process.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "storage/wal/wal.h"
#include "tools/common/tool_common.h"

namespace memento::tools {

struct CompactOptions {
  std::string data_dir;
  wal::RecoveryMode wal_recovery = wal::RecoveryMode::kStrict;
  ProgressMode progress = ProgressMode::kAuto;
  int64_t now_ms = 0;  // entries with expire_ms <= now_ms are dropped
  // Testing only: called with the name of each step once it is done ("locked",
  // "recovered", "fold-batch", "folded", "expired", and SnapshotStore::Compact's
  // "copied", "renamed", "published", then "compacted").
  void (*step_for_testing)(const char* step) = nullptr;
};

struct CompactResult {
  uint64_t snapshot_bytes_before = 0;  // data.mdb of the live environment
  uint64_t snapshot_bytes_after = 0;
  uint64_t wal_bytes_before = 0;  // every segment file
  uint64_t wal_bytes_after = 0;
  uint64_t segments_before = 0;
  uint64_t segments_after = 0;
  uint64_t records_folded = 0;  // log records after the snapshot's LSN
  uint64_t expired_dropped = 0;
  uint64_t keys = 0;  // entries in the snapshot at the end
  uint64_t lsn = 0;   // the snapshot's LSN at the end
  int64_t micros = 0;
};

// Returns OK, or the first error: Busy (a daemon holds the directory, naming its pid),
// Corruption (a damaged log in strict mode: the daemon's message naming the file and the
// offset; or a damaged snapshot), IOError... On error the directory is left as the
// last completed step left it: always recoverable.
Status CompactDataDir(const CompactOptions& options, CompactResult* result);

}  // namespace memento::tools
