#include "storage/db/db.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/logging.h"

namespace memento::db {
namespace {

// This thread's open unit (Db::BeginUnit): its changes, owning their bytes (a deque
// keeps each string where it is, so the views stay valid as it grows).
struct UnitBuffer {
  int depth = 0;
  std::deque<std::string> bytes;
  std::vector<storage::Mutation> changes;
};
thread_local UnitBuffer t_unit;

// How often the checkpointer looks at its triggers.
constexpr auto kCheckpointerTick = std::chrono::milliseconds(100);

}  // namespace

Db::Db(DbOptions options, std::unique_ptr<DataDirLock> lock)
    : options_(std::move(options)), lock_(std::move(lock)) {}

Db::~Db() { (void)Close(); }

ExclusiveLockOptions DaemonLockOptions() {
  ExclusiveLockOptions o;
  o.advice = "stop it or start with another --data-dir";
  return o;
}

Result<std::unique_ptr<Db>> Db::Open(DbOptions options, table::Table* table,
                                     RecoveryStats* stats) {
  std::unique_ptr<DataDirLock> lock = std::move(options.lock);
  if (lock == nullptr) {
    MEMENTO_ASSIGN_OR_RETURN(lock, DataDirLock::Exclusive(options.data_dir, DaemonLockOptions()));
  }
  std::unique_ptr<Db> db(new Db(std::move(options), std::move(lock)));
  RecoveryOptions recovery;
  recovery.data_dir = db->options_.data_dir;
  recovery.fsync = db->options_.fsync;
  recovery.recovery = db->options_.recovery;
  recovery.wal_segment_bytes = db->options_.wal_segment_bytes;
  recovery.fs = db->options_.fs;
  MEMENTO_ASSIGN_OR_RETURN(Recovered recovered, Recover(recovery, table));
  db->snapshot_ = std::move(recovered.snapshot);
  db->wal_ = std::move(recovered.wal);
  if (stats != nullptr) *stats = recovered.stats;
  // What recovery replayed is on disk (it was read from there).
  db->appended_lsn_.store(db->wal_->last_lsn());
  db->committed_lsn_.store(db->wal_->last_lsn());
  db->checkpointer_ = std::thread([raw = db.get()] { raw->CheckpointerLoop(); });
  return db;
}

// ---------------------------------------------------------------------------
// The write path

namespace {

// Raises `target` to `lsn` if it is lower (C++20 has no fetch_max). Release: a thread
// that loads the new value also sees what was done before it was raised.
void RaiseTo(std::atomic<uint64_t>& target, uint64_t lsn) {
  uint64_t seen = target.load(std::memory_order_relaxed);
  while (seen < lsn &&
         !target.compare_exchange_weak(seen, lsn, std::memory_order_release,
                                       std::memory_order_relaxed)) {
  }
}

}  // namespace

void Db::OnMutation(const storage::Mutation& mutation) {
  if (t_unit.depth > 0) {
    storage::Mutation copy = mutation;
    copy.key = t_unit.bytes.emplace_back(mutation.key);
    copy.value = t_unit.bytes.emplace_back(mutation.value);
    t_unit.changes.push_back(copy);
    return;
  }
  // Called under the key's shard lock, after the table changed: a reader of the key
  // takes the lock after us, so its CommitRound() loads an appended_lsn_ >= lsn.
  Result<uint64_t> lsn = wal_->Append(mutation);
  if (!lsn.ok()) {
    // The table holds a change the log does not: no later reply may be sent. A
    // change over the record limit should have been refused by the caller
    // (kMaxChangeBytes); one that gets here is a bug, and failing is the only way
    // to keep it from being served and then lost at the restart.
    Fail(lsn.status());
    return;
  }
  RaiseTo(appended_lsn_, *lsn);
  writes_since_checkpoint_.fetch_add(1, std::memory_order_relaxed);
}

void Db::BeginUnit() { ++t_unit.depth; }

void Db::OnUnit(std::span<const storage::Mutation> changes) {
  if (t_unit.depth > 0) {
    for (const storage::Mutation& m : changes) OnMutation(m);
    return;
  }
  if (changes.empty()) return;
  // As OnMutation: EXEC calls EndUnit while it still holds its keys' shards, so a
  // reader of any of them loads an appended_lsn_ that covers the unit.
  Result<uint64_t> lsn = wal_->AppendUnit(changes);
  if (!lsn.ok()) {
    Fail(lsn.status());
    return;
  }
  RaiseTo(appended_lsn_, *lsn);
  writes_since_checkpoint_.fetch_add(changes.size(), std::memory_order_relaxed);
}

void Db::EndUnit() {
  if (t_unit.depth == 0 || --t_unit.depth > 0) return;
  OnUnit(t_unit.changes);
  t_unit.changes.clear();
  t_unit.bytes.clear();
}

bool Db::HasUncommitted() const {
  return appended_lsn_.load(std::memory_order_acquire) >
             committed_lsn_.load(std::memory_order_acquire) ||
         failed_.load(std::memory_order_acquire);
}

// Why every round waits for the global high-water mark rather than for the LSNs of
// its own writes: a round's reads may show another loop's change appended a moment
// ago (GET on loop 2 of a SET that loop 1 is still fsyncing), and Redis's
// reply-after-fsync promises that no reply shows what a crash may lose. One atomic
// load per round stands in for the LSNs of everything the round read; per-entry LSNs
// would say exactly which change a read saw, at 8 bytes per key and a wait per key.
// The cost: a round that read nothing new may wait for a commit already under way
// (group commit: one fdatasync covers it too); with no writer anywhere, nothing.
Status Db::CommitRound() {
  if (failed_.load(std::memory_order_acquire)) return FailureStatus();
  const uint64_t target = appended_lsn_.load(std::memory_order_acquire);
  if (target <= committed_lsn_.load(std::memory_order_acquire)) return Status::OK();
  Status s = wal_->WaitDurable(target);
  if (!s.ok()) {
    Fail(s);
    return s;
  }
  RaiseTo(committed_lsn_, target);
  return Status::OK();
}

void Db::Fail(const Status& reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failure_.ok()) {
      failure_ = reason.ok() ? Status::IOError("the write-ahead log failed") : reason;
    }
  }
  failed_.store(true, std::memory_order_release);
  std::call_once(failure_reported_, [&] {
    const Status why = FailureStatus();
    log::Error("write-ahead log failed: %s; no further reply is sent, and memento stops "
               "(a change that was not acknowledged may or may not be there after the "
               "restart)",
               why.ToString().c_str());
    if (options_.on_log_failure) options_.on_log_failure(why);
  });
}

Status Db::FailureStatus() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failure_.ok() ? Status::IOError("the write-ahead log failed") : failure_;
}

Status Db::WriteError() const {
  if (failed_.load(std::memory_order_acquire)) return FailureStatus();
  return wal_->error();
}

// ---------------------------------------------------------------------------
// Checkpoints

Status Db::Checkpoint() {
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  return CheckpointLocked();
}

bool Db::RequestCheckpoint() {
  if (checkpoint_running_.load()) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (requested_ || stop_) return false;
    requested_ = true;
  }
  cv_.notify_all();
  return true;
}

Status Db::CheckpointLocked() {
  checkpoint_running_.store(true);
  const int64_t started = MonotonicMicros();
  writes_since_checkpoint_.store(0, std::memory_order_relaxed);

  // Everything appended so far goes to disk first: the snapshot never gets ahead
  // of what the log holds durably.
  Status s = wal_->Sync();
  const uint64_t from = snapshot_->lsn();
  const uint64_t to = wal_->durable_lsn();
  if (s.ok()) {
    s = FoldLogIntoSnapshot(wal_.get(), snapshot_.get(), to, {}, /*remove_segments=*/false);
  }
  if (s.ok()) s = RemoveUnneededSegments();
  const int64_t took = MonotonicMicros() - started;
  {
    std::lock_guard<std::mutex> lock(mu_);
    checkpoint_error_ = s.ok() ? "" : s.ToString();
  }
  if (s.ok()) {
    checkpoints_.fetch_add(1);
    last_checkpoint_ms_.store(NowMillis());
    last_checkpoint_micros_.store(took);
    if (to > from) {
      log::Info("checkpoint: log records %llu..%llu folded into the snapshot in %.1f ms",
                static_cast<unsigned long long>(from + 1), static_cast<unsigned long long>(to),
                static_cast<double>(took) / 1000.0);
    }
  } else {
    log::Error("checkpoint failed: %s", s.ToString().c_str());
  }
  checkpoint_running_.store(false);
  return s;
}

Status Db::RemoveUnneededSegments() {
  std::lock_guard<std::mutex> lock(subs_mu_);
  uint64_t pinned = UINT64_MAX;
  for (const Subscription* sub : subs_) pinned = std::min(pinned, sub->cursor());
  const uint64_t up_to =
      RemovableUpTo(wal_->Segments(), snapshot_->lsn(), pinned, options_.wal_retention_bytes);
  return wal_->RemoveSegmentsUpTo(up_to);
}

// ---------------------------------------------------------------------------
// The change stream

Result<std::unique_ptr<Subscription>> Db::Subscribe(uint64_t from_lsn) {
  std::lock_guard<std::mutex> lock(subs_mu_);
  {
    std::lock_guard<std::mutex> state(mu_);
    if (closed_) return Status::NotSupported("the database is closed");
  }
  const uint64_t oldest = wal_->oldest_lsn();
  const uint64_t last = wal_->last_lsn();
  if (from_lsn == 0) from_lsn = oldest - 1;
  if (from_lsn + 1 < oldest) {
    return Status::NotFound("from-lsn " + std::to_string(from_lsn) +
                            " is older than the oldest retained change " +
                            std::to_string(oldest));
  }
  if (from_lsn > last) {
    return Status::InvalidArgument("from-lsn " + std::to_string(from_lsn) +
                                   " is past the last change " + std::to_string(last));
  }
  std::unique_ptr<Subscription> sub(new Subscription(this, from_lsn));
  subs_.push_back(sub.get());
  return sub;
}

void Db::Unsubscribe(Subscription* subscription) {
  std::lock_guard<std::mutex> lock(subs_mu_);
  std::erase(subs_, subscription);
}

void Db::CheckpointerLoop() {
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::seconds(options_.snapshot_interval_s);
  auto next_due = Clock::now() + interval;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, kCheckpointerTick);
    if (stop_) break;
    // The background flusher's failures (everysec's fdatasync) surface here, within
    // a tick, even while no client writes.
    if (!failed_.load(std::memory_order_relaxed)) {
      lock.unlock();
      if (Status e = wal_->error(); !e.ok()) Fail(e);
      lock.lock();
      if (stop_) break;
    }
    const bool by_time = options_.snapshot_interval_s > 0 && Clock::now() >= next_due;
    const bool by_count =
        options_.snapshot_after_writes > 0 &&
        writes_since_checkpoint_.load(std::memory_order_relaxed) >= options_.snapshot_after_writes;
    if (!requested_ && !by_time && !by_count) continue;
    requested_ = false;
    lock.unlock();
    (void)Checkpoint();  // logs its own outcome
    lock.lock();
    next_due = Clock::now() + interval;
  }
}

Status Db::Close(bool final_checkpoint) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return close_status_;
    closed_ = true;
    stop_ = true;
  }
  stream_closed_.store(true);
  cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
  Status s;
  if (wal_ != nullptr) {
    // A final checkpoint makes the next start-up a snapshot load with no replay.
    if (final_checkpoint && wal_->error().ok() && snapshot_ != nullptr) s = Checkpoint();
    Status closed = wal_->Close();
    if (s.ok()) s = closed;
  }
  std::lock_guard<std::mutex> lock(mu_);
  close_status_ = s;
  return s;
}

DbStats Db::Stats() const {
  DbStats out;
  if (wal_ != nullptr) {
    wal::WalStats w = wal_->stats();
    out.last_lsn = w.last_lsn;
    out.durable_lsn = w.durable_lsn;
    out.wal_sync_calls = w.sync_calls;
    Status e = WriteError();
    if (!e.ok()) out.wal_error = e.ToString();
  }
  if (wal_ != nullptr) out.oldest_lsn = wal_->oldest_lsn();
  if (snapshot_ != nullptr) out.snapshot_lsn = snapshot_->lsn();
  out.checkpoints = checkpoints_.load();
  out.last_checkpoint_ms = last_checkpoint_ms_.load();
  out.last_checkpoint_micros = last_checkpoint_micros_.load();
  out.checkpoint_in_progress = checkpoint_running_.load();
  {
    std::lock_guard<std::mutex> subs(subs_mu_);
    out.subscribers = subs_.size();
  }
  std::lock_guard<std::mutex> lock(mu_);
  out.checkpoint_error = checkpoint_error_;
  return out;
}

}  // namespace memento::db
