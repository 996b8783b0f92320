// Persistence: makes the table durable. It owns the write-ahead log (storage/wal/)
// and the LMDB snapshot (storage/snapshot/) of one data directory and ties them to
// the table and the event loops:
//
//   start-up   Open(): load the snapshot into the table, replay the log records
//              after the snapshot's LSN, then serve.
//   writes     the table reports every change (table::MutationSink) under the key's
//              shard lock; it is appended to the log (memory only, no syscall) and
//              the event-loop thread remembers the highest LSN it produced.
//   replies    the loop's CommitRound() waits until that LSN is as durable as the
//              fsync policy promises (group commit across loops) before any reply of
//              the round leaves; a failure drops the round's replies (net/server.h).
//   background a checkpointer thread folds the log into the snapshot (one LMDB
//              transaction per batch, the snapshot's LSN in the same transaction) every
//              snapshot_interval_s or snapshot_after_writes writes, on BGSAVE, and at
//              shutdown; then deletes the log segments the snapshot covers. Its cost
//              grows with the writes since the last checkpoint, not with the data set,
//              and clients never wait for it.
//
// The files and what an operator does after damage: docs/operations.md,
// docs/formats/wal.md, docs/formats/snapshot.md.
//
// Thread-safety: OnMutation/HasUncommitted/CommitRound from any thread (the pending
// LSN is per thread); Checkpoint/RequestCheckpoint from any thread (serialised);
// Open/Close from the controlling thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "storage/snapshot/snapshot_store.h"
#include "storage/table/table.h"
#include "storage/wal/wal.h"

namespace memento::daemon {

struct PersistenceOptions {
  std::string data_dir;
  wal::SyncPolicy fsync = wal::SyncPolicy::kEverySec;
  wal::RecoveryMode recovery = wal::RecoveryMode::kStrict;
  uint64_t wal_segment_bytes = 64ull << 20;
  int snapshot_interval_s = 60;            // 0: no timer
  uint64_t snapshot_after_writes = 1000000;  // 0: no count trigger
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

struct PersistenceStats {
  uint64_t last_lsn = 0;
  uint64_t durable_lsn = 0;
  uint64_t snapshot_lsn = 0;
  uint64_t checkpoints = 0;
  int64_t last_checkpoint_ms = 0;   // wall clock of the last successful checkpoint
  int64_t last_checkpoint_micros = 0;  // how long it took
  bool checkpoint_in_progress = false;
  uint64_t wal_sync_calls = 0;
  std::string wal_error;            // empty while healthy
  std::string checkpoint_error;     // the last failed checkpoint's message
};

namespace internal {

// A mutation that owns its bytes (log records are only valid during the callback).
struct OwnedMutation {
  storage::MutationType type;
  std::string key;
  std::string value;
  int64_t created_ms;
  int64_t expire_ms;
};

// Rewrites a batch of log records (in log order) into the shortest batch with the
// same effect on a snapshot: the last kClear if any (first), then one mutation per
// key, in key order (LMDB then writes each page once instead of once per record;
// a workload of overwrites shrinks to its distinct keys). kExpire after a kPut of
// the same key folds into the kPut.
void CollapseBatch(std::vector<OwnedMutation>* batch);

}  // namespace internal

// Folds the log records after snapshot->lsn() up to up_to_lsn into the snapshot, in
// transactions of bounded size (each batch shortened by CollapseBatch and committed
// with the LSN of its last record), then deletes the log segments the snapshot covers.
// The checkpointer and the offline memento-compact both use it. A crash at any point
// leaves the snapshot at a batch boundary plus the whole log after it: recovery gives
// the same data. `on_batch` (may be empty) is called after each committed batch with
// the number of records folded so far. REQUIRES: records up to up_to_lsn are durable
// in the log (wal->durable_lsn() >= up_to_lsn); one caller at a time.
Status FoldLogIntoSnapshot(wal::Wal* wal, snapshot::SnapshotStore* snapshot, uint64_t up_to_lsn,
                           const std::function<void(uint64_t records)>& on_batch = {});

class Persistence final : public table::MutationSink {
 public:
  // Recovers `options.data_dir` into "*table" (which must be empty and outlive the
  // returned object) and starts the checkpointer. Does not install itself as the
  // table's sink: the caller does, once recovery is done. Errors name the file and
  // what to do (e.g. the --wal-recovery=truncate hint for mid-log damage).
  static Result<std::unique_ptr<Persistence>> Open(const PersistenceOptions& options,
                                                   table::Table* table, RecoveryStats* stats);
  ~Persistence() override;  // Close()
  Persistence(const Persistence&) = delete;
  Persistence& operator=(const Persistence&) = delete;

  // table::MutationSink: appends to the log; remembers the LSN for this thread's
  // CommitRound(). A failed append (the log's sticky error) is remembered too, so
  // the round's replies are not sent.
  void OnMutation(const storage::Mutation& mutation) override;

  // For the event loops (net::CommandHandler's barrier), per calling thread.
  bool HasUncommitted() const;
  Status CommitRound();

  // Non-OK once the log has failed (a write or fsync error): writes must be refused.
  Status WriteError() const;

  // Folds every record written so far into the snapshot and deletes the covered log
  // segments. Blocks until done (SAVE). Serialised with the background checkpointer.
  Status Checkpoint();
  // Asks the checkpointer thread for a checkpoint soon (BGSAVE). False if one is
  // already running or requested.
  bool RequestCheckpoint();

  // Stops the checkpointer, takes a final checkpoint (unless `final_checkpoint` is
  // false: SHUTDOWN NOSAVE; the next start replays the log), syncs and closes the
  // log. Idempotent; returns the first error met.
  Status Close(bool final_checkpoint = true);

  PersistenceStats Stats() const;
  const PersistenceOptions& options() const { return options_; }

 private:
  explicit Persistence(const PersistenceOptions& options);
  void CheckpointerLoop();
  Status CheckpointLocked();  // REQUIRES: checkpoint_mu_ held

  const PersistenceOptions options_;
  std::unique_ptr<snapshot::SnapshotStore> snapshot_;
  std::unique_ptr<wal::Wal> wal_;

  std::atomic<uint64_t> writes_since_checkpoint_{0};

  std::mutex checkpoint_mu_;  // one checkpoint at a time
  std::atomic<bool> checkpoint_running_{false};
  std::atomic<uint64_t> checkpoints_{0};
  std::atomic<int64_t> last_checkpoint_ms_{0};
  std::atomic<int64_t> last_checkpoint_micros_{0};

  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  bool stop_ = false;
  bool requested_ = false;
  bool closed_ = false;
  Status close_status_;
  std::string checkpoint_error_;
  std::thread checkpointer_;
};

}  // namespace memento::daemon
