// CheckDataDir: `memento-compact --check`, a read-only verification of a data directory
// (docs/tools/compact.md): every record of the snapshot (snapshot::VerifySnapshot) and
// of every log segment (CheckWal), with the daemon's own decoders. It changes nothing:
// no file is created, written, truncated or removed (LMDB's lock.mdb reader table is
// used only while a daemon runs, as any LMDB reader must).
//
// Offline (no daemon holds LOCK): a shared flock on LOCK keeps a daemon from starting
// during the check. Live (a daemon holds it): the check reads alongside; segments the
// daemon deletes meanwhile and the record being written are not problems.
//
// Thread-safety: one call at a time per process.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "storage/snapshot/snapshot_verify.h"
#include "tools/common/tool_common.h"
#include "tools/compact/wal_check.h"

namespace memento::tools {

struct CheckOptions {
  std::string data_dir;
  ProgressMode progress = ProgressMode::kAuto;
  int64_t now_ms = 0;  // for counting expired entries
};

struct CheckReport {
  bool live = false;       // a daemon held the directory during the check
  std::string daemon_pid;  // live only
  snapshot::VerifyReport snapshot;
  WalCheckReport wal;
  bool ok() const { return snapshot.ok() && wal.problems.empty(); }
};

// Returns OK when the check ran (report->ok() is the verdict), else what kept it from
// running (the directory does not exist, cannot be read...).
Status CheckDataDir(const CheckOptions& options, CheckReport* report);

// The report as memento-compact prints it (stdout).
std::string FormatCheckReport(const CheckOptions& options, const CheckReport& report);

}  // namespace memento::tools
