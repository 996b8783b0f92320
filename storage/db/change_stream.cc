#include "storage/db/change_stream.h"

#include "storage/db/db.h"

namespace memento::db {

const char* ChangeOpName(const Change& change) {
  switch (change.mutation.type) {
    case storage::MutationType::kPut:
      return "set";
    case storage::MutationType::kDelete:
      switch (change.mutation.reason) {
        case storage::ChangeReason::kExpiry:
          return "expired";
        case storage::ChangeReason::kEviction:
          return "evicted";
        default:
          return "del";
      }
    case storage::MutationType::kExpire:
      return "expire";
    case storage::MutationType::kClear:
      return "flush";
  }
  return "unknown";
}

Subscription::Subscription(Db* db, uint64_t from_lsn) : db_(db), cursor_(from_lsn) {
  pos_.next_lsn = from_lsn + 1;
}

Subscription::~Subscription() { db_->Unsubscribe(this); }

Result<size_t> Subscription::Read(size_t max_changes,
                                  const std::function<void(const Change&)>& fn,
                                  size_t max_bytes) {
  if (db_->stream_closed_.load()) return Status::NotSupported("the database is closed");
  wal::Wal* wal = db_->wal_.get();
  size_t delivered = 0;
  Status s = wal->ReadFrom(&pos_, wal->feed_lsn(), max_changes,
                           [&](uint64_t lsn, const storage::Mutation& m) {
                             fn(Change{lsn, m});
                             ++delivered;
                             return Status::OK();
                           },
                           max_bytes);
  // The cursor moves only forward, and only after the changes were handed over: the
  // checkpointer keeps the segment of pos_.next_lsn.
  cursor_.store(pos_.next_lsn - 1, std::memory_order_relaxed);
  if (!s.ok()) return s;
  return delivered;
}

bool Subscription::Wait(std::chrono::milliseconds timeout) {
  if (db_->stream_closed_.load()) return false;
  return db_->wal_->WaitFeedPast(cursor(), timeout) > cursor();
}

}  // namespace memento::db
