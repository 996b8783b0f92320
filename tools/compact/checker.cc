#include "tools/compact/checker.h"

#include <memory>

#include "storage/db/data_dir_lock.h"
#include "storage/db/layout.h"
#include "storage/wal/wal.h"

namespace memento::tools {

Status CheckDataDir(const CheckOptions& options, CheckReport* report) {
  *report = CheckReport();
  const std::string& dir = options.data_dir;
  // The same refusal as compaction's: --check of a directory that is not a data
  // directory would otherwise report an empty, healthy store.
  MEMENTO_RETURN_IF_ERROR(db::CheckDataDirectory(dir));
  Result<std::unique_ptr<db::DataDirLock>> lock = db::DataDirLock::Shared(dir);
  if (!lock.ok()) return lock.status();
  report->live = !(*lock)->held() && !(*lock)->owner_pid().empty();
  report->daemon_pid = (*lock)->owner_pid();

  // The snapshot first: its LSN is where the log must start.
  snapshot::VerifyOptions verify;
  verify.exclusive = !report->live;
  verify.now_ms = options.now_ms;
  {
    Progress progress("check snapshot", 0, "entries", options.progress);
    verify.progress = [&](uint64_t done, uint64_t total) {
      progress.SetTotal(total);
      progress.Update(done);
    };
    MEMENTO_RETURN_IF_ERROR(
        snapshot::VerifySnapshot(db::SnapshotPath(dir), verify, &report->snapshot));
  }
  {
    Progress progress("check log", 0, "bytes", options.progress);
    MEMENTO_RETURN_IF_ERROR(CheckWal(
        wal::WalDirectory(dir), report->snapshot.lsn, report->live,
        [&](uint64_t done, uint64_t total) {
          progress.SetTotal(total);
          progress.Update(done, done);
        },
        &report->wal));
  }
  return Status::OK();
}

std::string FormatCheckReport(const CheckOptions& options, const CheckReport& report) {
  std::string out = "memento-compact --check " + options.data_dir + "\n";
  if (report.live) {
    out += "  mode      read alongside a running memento (pid " + report.daemon_pid + ")\n";
  } else {
    out += "  mode      offline (the directory was locked against a daemon start)\n";
  }
  const snapshot::VerifyReport& s = report.snapshot;
  if (!s.exists) {
    out += "  snapshot  none yet (the daemon creates an empty one)\n";
  } else {
    out += "  snapshot  " + (s.env_dir.empty() ? options.data_dir + "/snapshot" : s.env_dir) +
           ": LSN " + std::to_string(s.lsn) + ", " + WithThousands(s.entries) + " entries (" +
           WithThousands(s.long_keys) + " long keys, " + WithThousands(s.compressed) +
           " compressed, " + WithThousands(s.expired) + " expired), " +
           WithThousands(s.file_bytes) + " bytes\n";
  }
  const WalCheckReport& w = report.wal;
  out += "  wal       " + wal::WalDirectory(options.data_dir) + ": " + WithThousands(w.segments) +
         " segments, " + WithThousands(w.records) + " records";
  if (w.records != 0) {
    out += ", LSN " + std::to_string(w.first_lsn) + ".." + std::to_string(w.last_lsn);
  }
  out += ", " + WithThousands(w.bytes) + " bytes\n";
  for (const std::string& note : w.notes) out += "  note      " + note + "\n";
  const uint64_t problems = s.problems_total + w.problems.size();
  for (const std::string& p : s.problems) out += "  PROBLEM   " + p + "\n";
  if (s.problems_total > s.problems.size()) {
    out += "  PROBLEM   ... and " + std::to_string(s.problems_total - s.problems.size()) +
           " more in the snapshot\n";
  }
  for (const std::string& p : w.problems) out += "  PROBLEM   " + p + "\n";
  out += problems == 0
             ? "  result    clean\n"
             : "  result    " + std::to_string(problems) + " problem" + (problems == 1 ? "" : "s") +
                   " (docs/operations.md, \"After damage\", says what to do)\n";
  return out;
}

}  // namespace memento::tools
