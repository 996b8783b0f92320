#include "storage/dump/dump_source.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "storage/db/apply.h"
#include "storage/db/layout.h"
#include "storage/mutation.h"
#include "storage/snapshot/snapshot_files.h"
#include "storage/snapshot/snapshot_store.h"
#include "storage/wal/wal.h"

namespace memento::dump {

namespace {

// The snapshot and the log are combined at the replay clock (storage/db/apply.h): a
// later record may change an expiry (PERSIST after the TTL passed). Expiry at now_ms
// is judged last.
constexpr int64_t kCombineNowMs = db::kReplayNowMs;

// The tail of a running daemon's log ends in a record still being written: that is not
// damage, and nothing is truncated in read-only mode. Say nothing.
class QuietReporter final : public wal::Reporter {
 public:
  void Dropped(const std::string&, uint64_t, uint64_t, const Status&) override {}
};

// The log tail S+1..L folded per key over the snapshot: recovery's own semantics
// (db::ChangeFold). Each key's change is erased once the snapshot scan has passed it
// on, so what is left at the end are the keys the snapshot did not have.
using Overlay = db::ChangeFold;
using Kind = db::KeyChange::Kind;

bool Expired(int64_t expire_ms, int64_t now_ms) { return expire_ms != -1 && expire_ms <= now_ms; }

// Reads the log after `after_lsn` into *overlay; *last_lsn is the last LSN read.
Status ReadLogTail(const std::string& data_dir, uint64_t after_lsn, Overlay* overlay,
                   uint64_t* last_lsn) {
  QuietReporter reporter;
  wal::Options options;
  options.dir = db::WalPath(data_dir);
  options.read_only = true;  // no truncation, no new segment, no flusher thread
  options.reporter = &reporter;
  options.repair_hint = "dump a healthy directory, or repair this one first (docs/operations.md)";
  auto log = wal::Wal::Open(options, after_lsn, [&](uint64_t, const storage::Mutation& m) {
    overlay->Add(m);
    return Status::OK();
  });
  if (!log.ok()) return log.status();
  *last_lsn = (*log)->last_lsn();
  return Status::OK();
}

// One attempt. *begun is set once begin has been called (no retry after that).
Status Attempt(const std::string& data_dir, const SourceOptions& options, const BeginFn& begin,
               const EntryFn& fn, SourceStats* stats, bool* begun) {
  Overlay overlay;
  const auto pass = [&](std::string_view key, std::string_view value, int64_t created_ms,
                        int64_t expire_ms) -> Status {
    if (!key.starts_with(options.prefix)) {
      ++stats->prefix_skipped;
      return Status::OK();
    }
    if (Expired(expire_ms, options.now_ms)) {
      ++stats->expired_skipped;
      return Status::OK();
    }
    ++stats->entries;
    return fn(key, value, created_ms, expire_ms);
  };
  // The overlay's keys the snapshot did not have.
  const auto pass_new_keys = [&]() -> Status {
    for (const auto& [key, e] : overlay.keys()) {
      if (e.kind != Kind::kPut) continue;
      MEMENTO_RETURN_IF_ERROR(pass(key, e.value, e.created_ms, e.expire_ms));
    }
    return Status::OK();
  };

  const std::string snapshot_dir = db::SnapshotPath(data_dir);
  if (!snapshot::PathExists(snapshot_dir)) {
    // A log without a snapshot (never checkpointed by this layout): the log is all.
    uint64_t last = 0;
    MEMENTO_RETURN_IF_ERROR(ReadLogTail(data_dir, 0, &overlay, &last));
    stats->snapshot_lsn = 0;
    stats->lsn = last;
    stats->wal_records = overlay.records();
    *begun = true;
    MEMENTO_RETURN_IF_ERROR(begin(last, overlay.keys().size()));
    return pass_new_keys();
  }

  snapshot::SnapshotOptions snapshot_options;
  snapshot_options.read_only = true;
  auto store = snapshot::SnapshotStore::Open(snapshot_dir, snapshot_options);
  if (!store.ok()) return store.status();
  uint64_t approx = 0;
  if (auto st = (*store)->Stats(); st.ok()) approx = st->entries;

  Status s = (*store)->Scan(
      kCombineNowMs,
      [&](uint64_t snapshot_lsn) -> Status {
        // Inside the read transaction: the snapshot's state at snapshot_lsn is pinned.
        uint64_t last = snapshot_lsn;
        MEMENTO_RETURN_IF_ERROR(ReadLogTail(data_dir, snapshot_lsn, &overlay, &last));
        stats->snapshot_lsn = snapshot_lsn;
        stats->lsn = last;
        stats->wal_records = overlay.records();
        *begun = true;
        return begin(last, approx + overlay.keys().size());
      },
      [&](std::string_view key, std::string_view value, int64_t created_ms,
          int64_t expire_ms) -> Status {
        if (overlay.cleared() && overlay.keys().empty()) return Status::OK();
        if (!overlay.keys().empty()) {
          auto it = overlay.keys().find(key);
          if (it != overlay.keys().end()) {
            const db::KeyChange& e = it->second;
            Status passed;
            switch (e.kind) {
              case Kind::kDelete:
                break;
              case Kind::kPut:
                passed = pass(key, e.value, e.created_ms, e.expire_ms);
                break;
              case Kind::kKeep: {
                const int64_t expire = e.has_expire ? e.expire_ms : expire_ms;
                if (e.deltas.empty()) {
                  passed = pass(key, value, created_ms, expire);
                  break;
                }
                // The log's deltas over this snapshot value (db::KeyChange's chain).
                std::string changed(value);
                e.ApplyDeltasTo(&changed);
                passed = pass(key, changed, created_ms, expire);
                break;
              }
            }
            overlay.keys().erase(it);  // after pass: fn saw e.value
            return passed;
          }
        }
        if (overlay.cleared()) return Status::OK();
        return pass(key, value, created_ms, expire_ms);
      });
  MEMENTO_RETURN_IF_ERROR(s);
  return pass_new_keys();
}

}  // namespace

Status ReadDataDir(const std::string& data_dir, const SourceOptions& options, const BeginFn& begin,
                   const EntryFn& fn, SourceStats* stats) {
  SourceStats local;
  if (stats == nullptr) stats = &local;
  MEMENTO_RETURN_IF_ERROR(db::CheckDataDirectory(data_dir));
  const int attempts = options.max_attempts < 1 ? 1 : options.max_attempts;
  Status last;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    *stats = SourceStats();
    stats->attempts = attempt;
    bool begun = false;
    last = Attempt(data_dir, options, begin, fn, stats, &begun);
    if (last.ok() || begun) return last;
    // The checkpointer (or a compaction) moved under us: take a fresh look.
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
  }
  if (attempts == 1) return last;
  const std::string msg = "no consistent view of " + data_dir + " after " +
                          std::to_string(attempts) +
                          " attempts; the last error: " + std::string(last.message());
  if (last.IsCorruption()) return Status::Corruption(msg);
  if (last.IsNotFound()) return Status::NotFound(msg);
  if (last.IsInvalidArgument()) return Status::InvalidArgument(msg);
  return Status::IOError(msg);
}

}  // namespace memento::dump
