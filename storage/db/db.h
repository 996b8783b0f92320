// Db: the owner of one data directory while memento runs on it. It holds the
// directory's LOCK (data_dir_lock.h), the write-ahead log (storage/wal/) and the LMDB
// snapshot (storage/snapshot/), and ties them to the table and the event loops:
//
//   start-up   Open(): lock the directory, load the snapshot into the table, replay the
//              log records after the snapshot's LSN (Recover, recovery.h), then serve.
//   writes     the table reports every change (table::MutationSink) under the key's
//              shard lock; it is appended to the log (memory only, no syscall) and
//              the event-loop thread remembers the highest LSN it produced.
//   replies    the loop's CommitRound() waits until every change appended so far, by
//              any thread, is as durable as the fsync policy promises (group commit
//              across loops) before any reply of the round leaves, so that neither a
//              writer nor a reader is answered from a change the log may still lose;
//              a failure drops the round's replies (net/server.h).
//   failure    once the log fails (a write or fdatasync error, or a change the log
//              refused) the table may hold a change that is not logged: every later
//              round fails, and on_log_failure is called once so that the owner stops
//              serving (the daemon exits, as Redis does at appendfsync always).
//   background a checkpointer thread folds the log into the snapshot
//              (FoldLogIntoSnapshot, one LMDB transaction per batch, the snapshot's LSN
//              in the same transaction) every snapshot_interval_s or
//              snapshot_after_writes writes, on BGSAVE, and at shutdown; then deletes the
//              log segments the snapshot covers. Its cost grows with the writes since
//              the last checkpoint, not with the data set, and clients never wait for it.
//
// The files and what an operator does after damage: docs/operations.md,
// docs/formats/wal.md, docs/formats/snapshot.md.
//
// Thread-safety: OnMutation/HasUncommitted/CommitRound from any thread (the barrier's
// LSNs are atomics shared by every loop); Checkpoint/RequestCheckpoint from any thread (serialised);
// Stats/WriteError from any thread; Open/Close from the controlling thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "storage/db/change_stream.h"
#include "storage/db/data_dir_lock.h"
#include "storage/db/recovery.h"
#include "storage/snapshot/snapshot_store.h"
#include "storage/table/table.h"
#include "storage/wal/wal.h"
#include "storage/db/change_limit.h"

namespace memento::db {

struct DbOptions {
  std::string data_dir;
  wal::SyncPolicy fsync = wal::SyncPolicy::kEverySec;
  wal::RecoveryMode recovery = wal::RecoveryMode::kStrict;
  uint64_t wal_segment_bytes = 64ull << 20;
  int snapshot_interval_s = 60;              // 0: no timer
  uint64_t snapshot_after_writes = 1000000;  // 0: no count trigger
  // storage.wal_retention_mb: log segments the snapshot covers are still kept while
  // the newer ones hold less than this many bytes, for the change stream (TAIL from
  // an older LSN). 0: only what recovery needs. Subscribers keep theirs in any case.
  uint64_t wal_retention_bytes = 1024ull << 20;
  // The directory's exclusive lock, if the caller took it already (the daemon does,
  // before anything else); else Open takes it, with DaemonLockOptions().
  std::unique_ptr<DataDirLock> lock;
  // Called once, from whichever thread first sees it (an event loop, the log's
  // background flusher through the checkpointer's tick), when the log has failed:
  // the reason, which says what failed. Must return at once (the daemon asks its
  // controlling thread to stop). Unset: nothing is called (rounds still fail).
  std::function<void(const Status& reason)> on_log_failure;
  wal::FileSystem* fs = nullptr;  // nullptr: the real file system (tests inject faults)
};


// The daemon's words when the directory is taken (tests and docs/operations.md quote
// them): "data directory D is in use by another memento (pid P); stop it or start
// with another --data-dir".
ExclusiveLockOptions DaemonLockOptions();

struct DbStats {
  uint64_t last_lsn = 0;
  uint64_t durable_lsn = 0;
  uint64_t snapshot_lsn = 0;
  uint64_t oldest_lsn = 0;  // the oldest change the log still holds (Subscribe's floor)
  uint64_t subscribers = 0;
  uint64_t checkpoints = 0;
  int64_t last_checkpoint_ms = 0;      // wall clock of the last successful checkpoint
  int64_t last_checkpoint_micros = 0;  // how long it took
  bool checkpoint_in_progress = false;
  uint64_t wal_sync_calls = 0;
  std::string wal_error;         // empty while healthy
  std::string checkpoint_error;  // the last failed checkpoint's message
};

class Db final : public table::MutationSink {
 public:
  // Locks options.data_dir (unless options.lock holds it already), recovers it into
  // "*table" (which must be empty, have no sink, and outlive the returned object) and
  // starts the checkpointer. Does not install itself as the table's sink: the caller
  // does, once recovery is done. Errors: Busy naming the holder's pid; the errors of
  // Recover (naming the file and what to do).
  static Result<std::unique_ptr<Db>> Open(DbOptions options, table::Table* table,
                                          RecoveryStats* stats);
  ~Db() override;  // Close(), then releases the lock
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // table::MutationSink: appends to the log and publishes the LSN (a global
  // high-water mark, read by every loop's CommitRound). A failed append (the log's
  // sticky error, or a change over kMaxChangeBytes) leaves a change in the table that
  // the log does not hold: it fails the log for good (see "failure" above).
  void OnMutation(const storage::Mutation& mutation) override;
  // table::MutationSink: the changes as ONE log record (wal::Wal::AppendUnit), replayed
  // all or nothing; this thread's CommitRound waits for it. Inside BeginUnit/EndUnit
  // they join the open unit.
  void OnUnit(std::span<const storage::Mutation> changes) override;

  // Units: BeginUnit() ... EndUnit() on one thread makes every change the table reports
  // on that thread in between ONE log record (wal::Wal::AppendUnit): recovery and every
  // reader of the log replay all of them or none (a unit torn by a crash is dropped
  // whole), with one LSN. For MULTI/EXEC and scripts. OnMutation only copies the
  // changes meanwhile; EndUnit appends them, and this thread's CommitRound then waits
  // for the unit like any other change (a failed append fails the round). Nested pairs
  // count: only the outermost EndUnit appends. A unit with no changes appends nothing.
  // REQUIRES: no other thread changes a key of the unit between its change and
  // EndUnit (the transaction runs alone, as EXEC does): the log's order is the order
  // of EndUnit calls, and replay must meet the changes in the order the table did.
  // Changes the unit makes are visible in the table before EndUnit; a reply must wait
  // for CommitRound, as always.
  void BeginUnit();
  void EndUnit();

  // For the event loops (net::CommandHandler's barrier). HasUncommitted: some change
  // appended (by any thread) is not yet as durable as the policy promises, or the log
  // has failed; two atomic loads, so a round with no writer anywhere pays nothing.
  // CommitRound: waits until every change appended before the call is durable under
  // the policy (the replies of the round, reads included, may then show them), or
  // returns the failure. REQUIRES: called after the round's requests ran, on the
  // thread that ran them.
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
  // log. Idempotent; returns the first error met. The directory's lock is released by
  // the destructor, after the snapshot is closed (lock_ is destroyed last).
  Status Close(bool final_checkpoint = true);

  // The change stream (change_stream.h): a subscriber of every change with LSN >
  // from_lsn, in log order (from_lsn 0: from the oldest retained change). Errors:
  //   NotFound         "from-lsn N is older than the oldest retained change M": the
  //                    segments holding N + 1 are gone (retention);
  //   InvalidArgument  "from-lsn N is past the last change L" (another data set?);
  //   NotSupported     the Db is closed.
  // The Subscription must be destroyed before the Db.
  Result<std::unique_ptr<Subscription>> Subscribe(uint64_t from_lsn);

  DbStats Stats() const;
  const DbOptions& options() const { return options_; }

 private:
  Db(DbOptions options, std::unique_ptr<DataDirLock> lock);
  void CheckpointerLoop();
  // Marks the log failed (idempotent) and calls on_log_failure the first time.
  void Fail(const Status& reason);
  Status FailureStatus() const;
  Status CheckpointLocked();  // REQUIRES: checkpoint_mu_ held
  // Deletes the log segments that neither recovery, nor the retention, nor a
  // subscriber needs.
  Status RemoveUnneededSegments();
  friend class Subscription;
  void Unsubscribe(Subscription* subscription);

  const DbOptions options_;  // without the lock (moved to lock_)
  std::unique_ptr<DataDirLock> lock_;
  std::unique_ptr<snapshot::SnapshotStore> snapshot_;
  std::unique_ptr<wal::Wal> wal_;

  std::atomic<uint64_t> writes_since_checkpoint_{0};

  // The barrier: every LSN <= committed_lsn_ is durable under the policy;
  // appended_lsn_ is the highest LSN appended (raised under the key's shard lock, so
  // whoever reads the change afterwards loads an LSN that covers it). Own cache lines:
  // every write raises appended_lsn_, every reading round loads both.
  alignas(64) std::atomic<uint64_t> appended_lsn_{0};
  alignas(64) std::atomic<uint64_t> committed_lsn_{0};
  std::atomic<bool> failed_{false};
  std::once_flag failure_reported_;

  // The live subscriptions. Held across Subscribe's floor check and a segment
  // removal, so that no subscriber's segment is deleted under it.
  mutable std::mutex subs_mu_;
  std::vector<Subscription*> subs_;  // guarded by subs_mu_
  std::atomic<bool> stream_closed_{false};  // Close() began: subscribers stop

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
  Status failure_;  // the first log failure seen (failed_ says whether)
  std::thread checkpointer_;
};

}  // namespace memento::db
