#include "daemon/persistence.h"

#include <map>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/logging.h"

namespace memento::daemon {
namespace {

// The highest LSN this thread appended since its last CommitRound(), and whether an
// append failed. Per thread because each event loop commits its own round; shared by
// every Persistence in the process (there is one outside tests).
thread_local uint64_t t_pending_lsn = 0;
thread_local bool t_append_failed = false;

// A checkpoint applies the log to the snapshot in transactions of at most this many
// records or bytes, so its memory stays bounded whatever the backlog.
constexpr size_t kCheckpointBatchRecords = 20000;
constexpr size_t kCheckpointBatchBytes = 32u << 20;

// How often the checkpointer looks at its triggers.
constexpr auto kCheckpointerTick = std::chrono::milliseconds(100);

using internal::OwnedMutation;

// Recovery replays the snapshot and the log "at time zero": no entry counts as
// expired while they are applied. Each record was produced while its key was live, so
// judging expiry by the restart's clock in the middle of the replay would be wrong: a
// kPut whose TTL has passed by now may be followed by the kExpire of a PERSIST that
// kept it (fuzz/regressions/table_map/replay-loses-key-persisted-after-ttl). Expired
// entries are reclaimed once, with the real clock, when the replay is done.
constexpr int64_t kReplayNowMs = 0;

// Applies a recovered mutation to the table. Runs before the table has a sink, so
// nothing is logged again.
void ApplyToTable(table::Table* table, const storage::Mutation& m) {
  using storage::MutationType;
  if (m.type == MutationType::kClear) {
    table->Clear();
    return;
  }
  table->Write(m.key, kReplayNowMs, [&](table::Slot& slot) {
    switch (m.type) {
      case MutationType::kPut:
        slot.Create(m.created_ms)->value.assign(m.value);
        slot.SetExpire(m.expire_ms);
        return;
      case MutationType::kDelete:
        slot.Erase();
        return;
      case MutationType::kExpire:
        if (slot.entry() != nullptr) slot.SetExpire(m.expire_ms);
        return;
      case MutationType::kClear:
        return;
    }
  });
}

}  // namespace

void internal::CollapseBatch(std::vector<OwnedMutation>* batch) {
  using storage::MutationType;
  bool cleared = false;
  std::map<std::string, OwnedMutation> last;  // sorted: the order LMDB writes best
  for (OwnedMutation& m : *batch) {
    switch (m.type) {
      case MutationType::kClear:
        cleared = true;
        last.clear();
        break;
      case MutationType::kPut:
      case MutationType::kDelete:
        last.insert_or_assign(m.key, std::move(m));
        break;
      case MutationType::kExpire: {
        auto it = last.find(m.key);
        if (it == last.end()) {
          last.emplace(m.key, std::move(m));
        } else if (it->second.type != MutationType::kDelete) {
          it->second.expire_ms = m.expire_ms;  // a kPut or an earlier kExpire
        }
        break;
      }
    }
  }
  batch->clear();
  if (cleared) batch->push_back({MutationType::kClear, "", "", 0, -1});
  for (auto& [key, m] : last) batch->push_back(std::move(m));
}

Status FoldLogIntoSnapshot(wal::Wal* wal, snapshot::SnapshotStore* snapshot, uint64_t up_to_lsn,
                           const std::function<void(uint64_t records)>& on_batch) {
  const uint64_t from = snapshot->lsn();
  if (up_to_lsn <= from) return Status::OK();
  std::vector<OwnedMutation> batch;
  size_t batch_bytes = 0;
  uint64_t batch_lsn = 0;
  uint64_t folded = 0;
  auto apply = [&]() -> Status {
    folded += batch.size();
    internal::CollapseBatch(&batch);
    std::vector<storage::Mutation> views;
    views.reserve(batch.size());
    for (const OwnedMutation& m : batch) {
      views.push_back({m.type, m.key, m.value, m.created_ms, m.expire_ms});
    }
    Status applied = snapshot->Apply(views, batch_lsn);
    batch.clear();
    batch_bytes = 0;
    if (applied.ok() && on_batch) on_batch(folded);
    return applied;
  };
  Status s =
      wal->ReadRecords(from, up_to_lsn, [&](uint64_t lsn, const storage::Mutation& m) -> Status {
        batch.push_back({m.type, std::string(m.key), std::string(m.value), m.created_ms,
                         m.expire_ms});
        batch_bytes += m.key.size() + m.value.size();
        batch_lsn = lsn;
        if (batch.size() >= kCheckpointBatchRecords || batch_bytes >= kCheckpointBatchBytes) {
          return apply();
        }
        return Status::OK();
      });
  if (s.ok() && !batch.empty()) s = apply();
  if (s.ok()) s = wal->RemoveSegmentsUpTo(snapshot->lsn());
  return s;
}

Persistence::Persistence(const PersistenceOptions& options) : options_(options) {}

Persistence::~Persistence() { (void)Close(); }

Result<std::unique_ptr<Persistence>> Persistence::Open(const PersistenceOptions& options,
                                                        table::Table* table,
                                                        RecoveryStats* stats) {
  const int64_t started = MonotonicMicros();
  std::unique_ptr<Persistence> p(new Persistence(options));
  const int64_t now_ms = NowMillis();

  // 1. The snapshot: every key as of its LSN.
  MEMENTO_ASSIGN_OR_RETURN(
      p->snapshot_,
      snapshot::SnapshotStore::Open(options.data_dir + "/snapshot", snapshot::SnapshotOptions()));
  snapshot::LoadStats load;
  MEMENTO_RETURN_IF_ERROR(p->snapshot_->Load(
      kReplayNowMs,
      [&](std::string_view key, std::string_view value, int64_t created_ms, int64_t expire_ms) {
        table->Write(key, kReplayNowMs, [&](table::Slot& slot) {
          slot.Create(created_ms)->value.assign(value);
          slot.SetExpire(expire_ms);
        });
      },
      &load));

  // 2. The log after it.
  wal::Options wal_options;
  wal_options.dir = wal::WalDirectory(options.data_dir);
  wal_options.sync_policy = options.fsync;
  wal_options.segment_size = options.wal_segment_bytes;
  wal_options.recovery_mode = options.recovery;
  wal_options.repair_hint =
      "to start anyway, keeping the valid prefix of the log (the rest is moved aside as "
      "*.dropped), restart with --wal-recovery=truncate; or restore a backup "
      "(docs/operations.md)";
  uint64_t replayed = 0;
  MEMENTO_ASSIGN_OR_RETURN(
      p->wal_, wal::Wal::Open(wal_options, p->snapshot_->lsn(),
                              [&](uint64_t, const storage::Mutation& m) {
                                ApplyToTable(table, m);
                                ++replayed;
                                return Status::OK();
                              }));
  // Now the clock applies: drop what expired while memento was down (not logged: the
  // records that made these keys carry their expiry, so a later replay drops them too).
  // (A budget of Size() + 1 lets one call visit every bucket of every shard.)
  const uint64_t expired_on_load = table->ReclaimExpired(now_ms, table->Size() + 1);

  if (stats != nullptr) {
    stats->snapshot_lsn = p->snapshot_->lsn();
    stats->snapshot_keys = load.loaded;
    stats->snapshot_expired = load.expired_skipped + expired_on_load;
    stats->wal_records = replayed;
    stats->last_lsn = p->wal_->last_lsn();
    stats->wal_dropped = p->wal_->recovery_drop();
    stats->micros = MonotonicMicros() - started;
  }
  p->checkpointer_ = std::thread([raw = p.get()] { raw->CheckpointerLoop(); });
  return p;
}

// ---------------------------------------------------------------------------
// The write path

void Persistence::OnMutation(const storage::Mutation& mutation) {
  Result<uint64_t> lsn = wal_->Append(mutation);
  if (!lsn.ok()) {
    t_append_failed = true;
    return;
  }
  t_pending_lsn = *lsn;
  writes_since_checkpoint_.fetch_add(1, std::memory_order_relaxed);
}

bool Persistence::HasUncommitted() const { return t_pending_lsn != 0 || t_append_failed; }

Status Persistence::CommitRound() {
  const uint64_t lsn = std::exchange(t_pending_lsn, 0);
  if (std::exchange(t_append_failed, false)) {
    Status error = wal_->error();
    return error.ok() ? Status::IOError("a write-ahead log append failed") : error;
  }
  if (lsn == 0) return Status::OK();
  return wal_->WaitDurable(lsn);
}

Status Persistence::WriteError() const { return wal_->error(); }

// ---------------------------------------------------------------------------
// Checkpoints

Status Persistence::Checkpoint() {
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  return CheckpointLocked();
}

bool Persistence::RequestCheckpoint() {
  if (checkpoint_running_.load()) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (requested_ || stop_) return false;
    requested_ = true;
  }
  cv_.notify_all();
  return true;
}

Status Persistence::CheckpointLocked() {
  checkpoint_running_.store(true);
  const int64_t started = MonotonicMicros();
  writes_since_checkpoint_.store(0, std::memory_order_relaxed);

  // Everything appended so far goes to disk first: the snapshot never gets ahead
  // of what the log holds durably.
  Status s = wal_->Sync();
  const uint64_t from = snapshot_->lsn();
  const uint64_t to = wal_->durable_lsn();
  if (s.ok()) s = FoldLogIntoSnapshot(wal_.get(), snapshot_.get(), to);
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

void Persistence::CheckpointerLoop() {
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::seconds(options_.snapshot_interval_s);
  auto next_due = Clock::now() + interval;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, kCheckpointerTick);
    if (stop_) break;
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

Status Persistence::Close(bool final_checkpoint) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return close_status_;
    closed_ = true;
    stop_ = true;
  }
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

PersistenceStats Persistence::Stats() const {
  PersistenceStats out;
  if (wal_ != nullptr) {
    wal::WalStats w = wal_->stats();
    out.last_lsn = w.last_lsn;
    out.durable_lsn = w.durable_lsn;
    out.wal_sync_calls = w.sync_calls;
    Status e = wal_->error();
    if (!e.ok()) out.wal_error = e.ToString();
  }
  if (snapshot_ != nullptr) out.snapshot_lsn = snapshot_->lsn();
  out.checkpoints = checkpoints_.load();
  out.last_checkpoint_ms = last_checkpoint_ms_.load();
  out.last_checkpoint_micros = last_checkpoint_micros_.load();
  out.checkpoint_in_progress = checkpoint_running_.load();
  std::lock_guard<std::mutex> lock(mu_);
  out.checkpoint_error = checkpoint_error_;
  return out;
}

}  // namespace memento::daemon
