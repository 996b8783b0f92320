// VerifySnapshot: a read-only check of a snapshot directory (docs/formats/snapshot.md),
// for `memento-compact --check`. Unlike SnapshotStore::Open it never writes anything:
// no cleanup of compaction leftovers, no new environment, no meta records; and unlike
// Load it does not stop at the first damaged record or skip expired ones. Every record
// of both databases is decoded and every compressed value decompressed (the zstd frame
// carries a content checksum), long-key slots are checked against the hash of the key
// they hold, and the meta records are checked. Each problem found is listed with the
// file, the byte offset in it and the key.
//
// What it cannot see: LMDB does not checksum its pages, so a flipped bit in a raw
// (uncompressed) value or in a timestamp reads back as a valid record.
//
// Thread-safety: a pure function over the file system; may run while a daemon has the
// environment open (VerifyOptions::exclusive = false).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace memento::snapshot {

struct VerifyOptions {
  // True when no other process can have the environment open (the caller holds the
  // data-directory lock): LMDB's lock file is not used (MDB_NOLOCK), so not a byte is
  // written. False while a daemon may be writing: the check registers as an LMDB reader
  // in lock.mdb (LMDB's reader table, not data) so that the writer leaves the pages
  // being read alone.
  bool exclusive = true;
  // Entries with expire_ms != -1 and expire_ms <= now_ms are counted as expired (they
  // are still checked). 0 counts none.
  int64_t now_ms = 0;
  // At most this many problems are described; the rest are only counted.
  size_t max_problems = 100;
  // Called now and then (may be empty) with the entries checked so far and the total.
  std::function<void(uint64_t done, uint64_t total)> progress;
  // Testing only: the long-key hash the store was written with (see SnapshotOptions).
  uint64_t (*long_key_hash_for_testing)(std::string_view key) = nullptr;
};

struct VerifyReport {
  bool exists = false;   // false: no snapshot yet (the daemon creates an empty one)
  std::string env_dir;   // the live environment CURRENT names
  uint64_t lsn = 0;      // meta "lsn"
  uint64_t entries = 0;  // records checked, both databases
  uint64_t long_keys = 0;
  uint64_t expired = 0;  // of the entries, expired at now_ms
  uint64_t compressed = 0;
  uint64_t key_bytes = 0;
  uint64_t value_bytes = 0;  // decompressed
  uint64_t file_bytes = 0;   // size of data.mdb
  // One line per problem: "<env>/data.mdb offset N, key \"k\": what is wrong".
  std::vector<std::string> problems;
  uint64_t problems_total = 0;  // may exceed problems.size()
  bool ok() const { return problems_total == 0; }
};

// Checks the snapshot directory `dir` (e.g. <data-dir>/snapshot) and fills *report.
// Returns OK when the check ran to the end (whatever it found: see report->ok()), or
// the error that kept it from reading the environment at all (IOError, Busy...);
// damage it can describe (a bad CURRENT, missing meta records, damaged records,
// LMDB's MDB_CORRUPTED) is a problem in the report, not an error.
Status VerifySnapshot(const std::string& dir, const VerifyOptions& options, VerifyReport* report);

}  // namespace memento::snapshot
