// Recovery and the log fold: the two ways the snapshot and the log of one data
// directory are combined (docs/operations.md lists the files; docs/formats/wal.md and
// docs/formats/snapshot.md the formats).
//
//   Recover              start-up: the snapshot is loaded into a table, then the log
//                        records after the snapshot's LSN are replayed (ApplyToTable,
//                        apply.h), then what has expired by the real clock is dropped.
//                        The daemon (through Db) uses it.
//   FoldLogIntoSnapshot  a checkpoint: the log records after the snapshot's LSN are
//                        applied to the snapshot itself, in bounded transactions
//                        (ChangeFold, apply.h), then the covered segments are deleted.
//                        The daemon's checkpointer (Db) and memento-compact use it.
//
// Thread-safety: functions; the caller owns the snapshot and the log it passes, and
// runs one fold at a time per directory.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "storage/snapshot/snapshot_store.h"
#include "storage/table/table.h"
#include "storage/wal/wal.h"

namespace memento::db {

struct RecoveryOptions {
  std::string data_dir;
  wal::SyncPolicy fsync = wal::SyncPolicy::kEverySec;
  wal::RecoveryMode recovery = wal::RecoveryMode::kStrict;
  uint64_t wal_segment_bytes = 64ull << 20;
  // Appended to strict recovery's error for mid-log damage: what the operator can do.
  std::string repair_hint =
      "to start anyway, keeping the valid prefix of the log (the rest is moved aside as "
      "*.dropped), restart with --wal-recovery=truncate; or restore a backup "
      "(docs/operations.md)";
  // Entries expired at this time are dropped once the replay is done (0: now).
  int64_t now_ms = 0;
  wal::FileSystem* fs = nullptr;  // nullptr: the real file system (tests inject faults)
};

// What start-up found, for the log line and INFO.
struct RecoveryStats {
  uint64_t snapshot_lsn = 0;
  uint64_t snapshot_keys = 0;
  uint64_t snapshot_expired = 0;  // entries that had expired by the restart, dropped
  uint64_t wal_records = 0;       // records replayed after the snapshot
  uint64_t last_lsn = 0;
  int64_t micros = 0;
  // --wal-recovery=truncate: the log records cut out after damage in the middle.
  wal::RecoveryDrop wal_dropped;
};

// The open snapshot and log that recovery leaves, ready for new writes.
struct Recovered {
  std::unique_ptr<snapshot::SnapshotStore> snapshot;
  std::unique_ptr<wal::Wal> wal;
  RecoveryStats stats;
};

// Recovers options.data_dir into "*table", which must be empty and have no
// MutationSink (nothing recovered is logged again). Creates the snapshot and the log
// if missing. Does not lock the directory: the caller holds its DataDirLock. Errors
// name the file and what to do (the repair hint for mid-log damage in strict mode).
Result<Recovered> Recover(const RecoveryOptions& options, table::Table* table);

// Folds the log records after snapshot->lsn() up to up_to_lsn into the snapshot, in
// transactions of bounded size (each batch shortened by ChangeFold and committed with
// the LSN of its last record), then deletes the log segments the snapshot covers. A
// crash at any point leaves the snapshot at a batch boundary plus the whole log after
// it: recovery gives the same data. `on_batch` (may be empty) is called after each
// committed batch with the number of records folded so far.
// `remove_segments` false: the segments are left for the caller (the Db, which keeps
// what its retention and its subscribers need: RemovableUpTo).
// REQUIRES: records up to up_to_lsn are durable in the log (wal->durable_lsn() >=
// up_to_lsn); one caller at a time.
Status FoldLogIntoSnapshot(wal::Wal* wal, snapshot::SnapshotStore* snapshot, uint64_t up_to_lsn,
                           const std::function<void(uint64_t records)>& on_batch = {},
                           bool remove_segments = true);

// Retention (storage.wal_retention_mb): the highest LSN whose segments may go, for
// wal::Wal::RemoveSegmentsUpTo. A segment may go once the snapshot covers it
// (covered_lsn), no subscriber still needs it (pinned_lsn: the lowest subscriber
// cursor, UINT64_MAX for none) and the segments after it hold at least keep_bytes
// (keep_bytes 0: only what recovery needs is kept). `segments` oldest first.
uint64_t RemovableUpTo(const std::vector<wal::SegmentSummary>& segments, uint64_t covered_lsn,
                       uint64_t pinned_lsn, uint64_t keep_bytes);

}  // namespace memento::db
