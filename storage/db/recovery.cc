#include "storage/db/recovery.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "storage/db/apply.h"
#include "storage/db/layout.h"

namespace memento::db {
namespace {

// A fold applies the log to the snapshot in transactions of at most this many records
// or bytes, so its memory stays bounded whatever the backlog (and far below LMDB's
// dirty-page limit).
constexpr size_t kFoldBatchRecords = 20000;
constexpr size_t kFoldBatchBytes = 32u << 20;

}  // namespace

Result<Recovered> Recover(const RecoveryOptions& options, table::Table* table) {
  const int64_t started = MonotonicMicros();
  const int64_t now_ms = options.now_ms != 0 ? options.now_ms : NowMillis();
  Recovered out;

  // 1. The snapshot: every key as of its LSN.
  MEMENTO_ASSIGN_OR_RETURN(
      out.snapshot,
      snapshot::SnapshotStore::Open(SnapshotPath(options.data_dir), snapshot::SnapshotOptions()));
  snapshot::LoadStats load;
  MEMENTO_RETURN_IF_ERROR(out.snapshot->Load(
      kReplayNowMs,
      [&](std::string_view key, std::string_view value, int64_t created_ms, int64_t expire_ms) {
        ApplyToTable(table, {storage::MutationType::kPut, key, value, created_ms, expire_ms});
      },
      &load));

  // 2. The log after it.
  wal::Options wal_options;
  wal_options.dir = WalPath(options.data_dir);
  wal_options.sync_policy = options.fsync;
  wal_options.segment_size = options.wal_segment_bytes;
  wal_options.recovery_mode = options.recovery;
  wal_options.repair_hint = options.repair_hint;
  wal_options.fs = options.fs;
  uint64_t replayed = 0;
  MEMENTO_ASSIGN_OR_RETURN(
      out.wal, wal::Wal::Open(wal_options, out.snapshot->lsn(),
                              [&](uint64_t, const storage::Mutation& m) {
                                ApplyToTable(table, m);
                                ++replayed;
                                return Status::OK();
                              }));

  // 3. Now the clock applies: drop what expired while memento was down (not logged:
  // the records that made these keys carry their expiry, so a later replay drops them
  // too). (A budget of Size() + 1 lets one call visit every bucket of every shard.)
  const uint64_t expired_on_load = table->ReclaimExpired(now_ms, table->Size() + 1);

  out.stats.snapshot_lsn = out.snapshot->lsn();
  out.stats.snapshot_keys = load.loaded;
  out.stats.snapshot_expired = load.expired_skipped + expired_on_load;
  out.stats.wal_records = replayed;
  out.stats.last_lsn = out.wal->last_lsn();
  out.stats.wal_dropped = out.wal->recovery_drop();
  out.stats.micros = MonotonicMicros() - started;
  return out;
}

Status FoldLogIntoSnapshot(wal::Wal* wal, snapshot::SnapshotStore* snapshot, uint64_t up_to_lsn,
                           const std::function<void(uint64_t records)>& on_batch,
                           bool remove_segments) {
  const uint64_t from = snapshot->lsn();
  if (up_to_lsn <= from) return Status::OK();
  ChangeFold fold;
  std::vector<storage::Mutation> views;
  size_t batch_records = 0;
  size_t batch_bytes = 0;
  uint64_t batch_lsn = 0;
  uint64_t folded = 0;
  auto commit = [&]() -> Status {
    folded += batch_records;
    ToMutations(fold, &views);
    Status applied = snapshot->Apply(views, batch_lsn);
    fold.Reset();
    batch_records = 0;
    batch_bytes = 0;
    if (applied.ok() && on_batch) on_batch(folded);
    return applied;
  };
  Status s =
      wal->ReadRecords(from, up_to_lsn, [&](uint64_t lsn, const storage::Mutation& m) -> Status {
        fold.Add(m);
        ++batch_records;
        batch_bytes += m.key.size() + m.value.size();
        batch_lsn = lsn;
        if (batch_records >= kFoldBatchRecords || batch_bytes >= kFoldBatchBytes) return commit();
        return Status::OK();
      });
  if (s.ok() && batch_records != 0) s = commit();
  if (s.ok() && remove_segments) s = wal->RemoveSegmentsUpTo(snapshot->lsn());
  return s;
}

uint64_t RemovableUpTo(const std::vector<wal::SegmentSummary>& segments, uint64_t covered_lsn,
                       uint64_t pinned_lsn, uint64_t keep_bytes) {
  uint64_t limit = std::min(covered_lsn, pinned_lsn);
  if (keep_bytes == 0 || segments.empty()) return limit;
  // Walk back from the newest segment until the ones after segment i hold keep_bytes:
  // i and everything older may go, i.e. every LSN below segment i + 1's first.
  uint64_t after = 0;
  for (size_t i = segments.size() - 1; i > 0; --i) {
    after += segments[i].bytes;
    if (after >= keep_bytes) return std::min(limit, segments[i].first_lsn - 1);
  }
  return std::min<uint64_t>(limit, segments.front().first_lsn - 1);  // keep them all
}

}  // namespace memento::db
