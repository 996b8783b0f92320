#include "tools/compact/compactor.h"

#include <sys/stat.h>

#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "storage/db/data_dir_lock.h"
#include "storage/db/layout.h"
#include "storage/db/recovery.h"
#include "storage/mutation.h"
#include "storage/snapshot/snapshot_store.h"

namespace memento::tools {
namespace {

// Expired entries are deleted in transactions of at most this many keys (LMDB's
// dirty-page limit, as the checkpointer's batches).
constexpr size_t kDeleteBatch = 20000;

// Segment files in `wal_dir` and their bytes.
void WalSize(const std::string& wal_dir, uint64_t* segments, uint64_t* bytes) {
  *segments = 0;
  *bytes = 0;
  wal::FileSystem* fs = wal::PosixFileSystem();
  std::vector<std::string> names;
  if (!fs->GetChildren(wal_dir, &names).ok()) return;
  for (const std::string& name : names) {
    uint64_t number = 0;
    if (!wal::ParseSegmentFileName(name, &number)) continue;
    Result<uint64_t> size = fs->GetFileSize(wal::JoinPath(wal_dir, name));
    if (!size.ok()) continue;
    ++*segments;
    *bytes += *size;
  }
}

}  // namespace

Status CompactDataDir(const CompactOptions& options, CompactResult* result) {
  *result = CompactResult();
  const int64_t started = MonotonicMicros();
  auto step = [&](const char* name) {
    if (options.step_for_testing != nullptr) options.step_for_testing(name);
  };
  const std::string& dir = options.data_dir;
  const std::string snapshot_dir = db::SnapshotPath(dir);
  const std::string wal_dir = db::WalPath(dir);
  MEMENTO_RETURN_IF_ERROR(db::CheckDataDirectory(dir));

  // 1. Lock.
  db::ExclusiveLockOptions lock_options;
  lock_options.advice =
      "memento-compact works only on a stopped daemon's directory: stop it first (or use "
      "--check, which runs alongside it)";
  Result<std::unique_ptr<db::DataDirLock>> lock = db::DataDirLock::Exclusive(dir, lock_options);
  if (!lock.ok()) return lock.status();
  step("locked");

  // 2. Recover, exactly as the daemon's start-up does.
  WalSize(wal_dir, &result->segments_before, &result->wal_bytes_before);
  snapshot::SnapshotOptions snapshot_options;
  snapshot_options.compact_step_for_testing = options.step_for_testing;
  Result<std::unique_ptr<snapshot::SnapshotStore>> opened =
      snapshot::SnapshotStore::Open(snapshot_dir, snapshot_options);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<snapshot::SnapshotStore> store = std::move(*opened);
  Result<snapshot::SnapshotStats> before = store->Stats();
  if (!before.ok()) return before.status();
  result->snapshot_bytes_before = before->file_bytes;

  wal::Options wal_options;
  wal_options.dir = wal_dir;
  wal_options.recovery_mode = options.wal_recovery;
  wal_options.repair_hint =
      "to compact anyway, keeping the valid prefix of the log (the rest is moved aside as "
      "*.dropped), run memento-compact again with --wal-recovery=truncate; or restore a "
      "backup (docs/operations.md)";
  uint64_t to_fold = 0;
  Result<std::unique_ptr<wal::Wal>> log =
      wal::Wal::Open(wal_options, store->lsn(), [&](uint64_t, const storage::Mutation&) {
        ++to_fold;
        return Status::OK();
      });
  if (!log.ok()) return log.status();
  std::unique_ptr<wal::Wal> wal = std::move(*log);
  step("recovered");

  // 3. Fold the log into the snapshot: the checkpointer's own code.
  {
    Progress progress("fold", to_fold, "records", options.progress);
    bool first_batch = true;
    Status s = db::FoldLogIntoSnapshot(wal.get(), store.get(), wal->durable_lsn(),
                                       [&](uint64_t folded) {
                                         progress.Update(folded);
                                         if (first_batch) step("fold-batch");
                                         first_batch = false;
                                       });
    // Segments a previous, interrupted run folded but did not delete.
    if (s.ok()) s = wal->RemoveSegmentsUpTo(store->lsn());
    if (!s.ok()) return s;
    result->records_folded = to_fold;
  }
  step("folded");

  // 4. Drop what has expired. Load at the lowest time passes every entry.
  {
    std::vector<std::string> expired;
    Status s = store->Load(std::numeric_limits<int64_t>::min(),
                           [&](std::string_view key, std::string_view, int64_t, int64_t expire_ms) {
                             if (expire_ms != -1 && expire_ms <= options.now_ms)
                               expired.emplace_back(key);
                           });
    if (!s.ok()) return s;
    std::vector<storage::Mutation> batch;
    for (size_t i = 0; i < expired.size(); i += kDeleteBatch) {
      batch.clear();
      for (size_t j = i; j < expired.size() && j < i + kDeleteBatch; ++j) {
        batch.push_back({storage::MutationType::kDelete, expired[j], {}, 0, -1});
      }
      MEMENTO_RETURN_IF_ERROR(store->Apply(batch, store->lsn()));
    }
    result->expired_dropped = expired.size();
  }
  step("expired");

  // 5. Rewrite the LMDB file compactly and switch to it.
  MEMENTO_RETURN_IF_ERROR(store->Compact());
  step("compacted");

  MEMENTO_RETURN_IF_ERROR(wal->Close());
  Result<snapshot::SnapshotStats> after = store->Stats();
  if (!after.ok()) return after.status();
  result->snapshot_bytes_after = after->file_bytes;
  result->keys = after->entries;
  result->lsn = after->lsn;
  WalSize(wal_dir, &result->segments_after, &result->wal_bytes_after);
  result->micros = MonotonicMicros() - started;
  return Status::OK();
}

}  // namespace memento::tools
