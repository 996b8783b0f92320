// ReadDataDir: the live entries of a data directory at one log position, for
// memento-dump. Works while the daemon runs on the directory: it takes no lock, writes
// nothing, and does not make the daemon wait.
//
// The state is the one the daemon's recovery would build (storage/db/recovery.h: the
// snapshot, then the log records after the snapshot's LSN), at LSN L:
//
//   1. open the snapshot read-only and start an LMDB read transaction: the snapshot's
//      state at its LSN S stays pinned for as long as the transaction lives, whatever
//      the checkpointer commits or compaction swaps meanwhile (LMDB's MVCC; a compacted-
//      away environment's files stay readable through the open map);
//   2. read the log read-only from S + 1 to its end at that moment, L, and fold those
//      records into an in-memory overlay (db::ChangeFold, recovery's own semantics:
//      key -> its state after L: a value, deleted, or a new expiry for the snapshot's
//      value; plus "cleared" after a FLUSH);
//   3. stream the snapshot's entries with the overlay applied, then the overlay's new
//      keys. Only the log tail is held in memory, never the data set.
//
// The checkpointer may fold the log into the snapshot and delete the segments that
// held S + 1.. between 1 and 2: reading the log then fails (a segment is missing or
// the log starts after S + 1). Nothing has been handed to the caller at that point, so
// the whole attempt is retried with a fresh snapshot transaction, up to max_attempts.
//
// Thread-safety: a function; the callbacks run on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace memento::dump {

struct SourceOptions {
  // Entries expired at this time (expire_ms != -1 and <= now_ms) are not passed on.
  int64_t now_ms = 0;
  // Only keys starting with this.
  std::string prefix;
  // Attempts before giving up when the checkpointer keeps deleting the log under us.
  int max_attempts = 10;
};

struct SourceStats {
  uint64_t snapshot_lsn = 0;     // S
  uint64_t lsn = 0;              // L: the state passed on is the one after LSN L
  uint64_t wal_records = 0;      // log records folded in (S+1..L)
  uint64_t entries = 0;          // passed to fn
  uint64_t expired_skipped = 0;  // expired at now_ms
  uint64_t prefix_skipped = 0;   // not matching the prefix
  int attempts = 0;
};

// begin(lsn, approx_keys): called once, before the first entry, when the view is fixed;
// approx_keys is an estimate for a progress bar. A non-OK return from begin or fn stops
// the read and is returned as is.
using BeginFn = std::function<Status(uint64_t lsn, uint64_t approx_keys)>;
using EntryFn = std::function<Status(std::string_view key, std::string_view value,
                                     int64_t created_ms, int64_t expire_ms)>;

// Returns OK once every live entry has been passed to fn. Errors:
//   InvalidArgument  data_dir is not a memento data directory (no snapshot/ nor wal/)
//   Corruption, IOError, NotSupported  from the snapshot or the log (their messages name
//                    the file), after max_attempts attempts if the error came before begin
//   begin's or fn's Status.
// `stats` may be null.
Status ReadDataDir(const std::string& data_dir, const SourceOptions& options, const BeginFn& begin,
                   const EntryFn& fn, SourceStats* stats);

}  // namespace memento::dump
