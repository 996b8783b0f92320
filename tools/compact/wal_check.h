// CheckWal: a read-only check of every segment of a write-ahead log directory
// (docs/formats/wal.md), for `memento-compact --check`. It reads each segment with the
// daemon's own wal::Reader (header, record checksums, LSN continuity inside a segment)
// and decodes every payload with wal::DecodeMutation, then checks what only the
// directory shows: segment numbers without holes, each segment starting at the LSN
// after the previous one's last, and the log starting no later than the snapshot's LSN
// + 1. Unlike recovery (Wal::Open) it does not stop at the first damage: it lists
// every problem with the file and the byte offset, and goes on with the next segment.
//
// Its verdicts follow recovery's table (wal_recovery.cc): damage at the end of the
// newest segment with no valid record after it is a torn tail, which the daemon drops
// at start-up with a warning: a note here, not a problem. When it changes, change this.
//
// Thread-safety: a pure function over the file system. It may run while a daemon
// appends and deletes segments (live = true): a segment that disappears was removed by
// the checkpointer, and the newest segment may end in a record being written.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace memento::tools {

struct WalCheckReport {
  uint64_t segments = 0;
  uint64_t records = 0;
  uint64_t bytes = 0;                 // of the segment files
  uint64_t first_lsn = 0;             // of the first record read (0: none)
  uint64_t last_lsn = 0;              // of the last record read
  std::vector<std::string> problems;  // each names the file and the offset
  std::vector<std::string> notes;     // harmless findings (a torn tail, ...)
};

// Checks the log in `wal_dir` (a missing directory is an empty log). `snapshot_lsn`
// is the LSN the snapshot covers; `progress` (may be empty) is called now and then
// with the bytes read so far and the total. Returns OK when the check ran (see
// report->problems), or an I/O error that kept it from listing the directory.
Status CheckWal(const std::string& wal_dir, uint64_t snapshot_lsn, bool live,
                const std::function<void(uint64_t done, uint64_t total)>& progress,
                WalCheckReport* report);

}  // namespace memento::tools
