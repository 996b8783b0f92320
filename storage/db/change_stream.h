// The change stream: every change of a Db after a given LSN, in log order, for any
// number of subscribers (TAIL today; replicas, slot migration, keyspace notifications
// later). storage/db/README.md, "The change stream", has the design.
//
// A Subscription reads the log's segment files from its cursor up to the feed LSN
// (wal::Wal::feed_lsn: what a crash cannot lose) and nothing else: there is no
// in-memory queue of changes, so a subscriber that falls behind costs the writers
// nothing and the server no memory; it reads the files (the page cache, when it is
// close behind) until it has caught up. While it exists, the Db keeps the segments
// holding its next change (the checkpoint does not delete them).
//
// Thread-safety: a Subscription is for one thread at a time; any number of them may
// run at once, from any threads, beside the writers and the checkpointer. Every
// Subscription must be destroyed before its Db.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "common/result.h"
#include "common/status.h"
#include "storage/mutation.h"
#include "storage/wal/wal.h"

namespace memento::db {

class Db;

// One change as a subscriber sees it. The mutation's views (and the Change) are valid
// only during the callback.
struct Change {
  uint64_t lsn = 0;
  storage::Mutation mutation;  // mutation.reason: why (see wal.h's reasons ring)
};

// TAIL's name for a change: "set" (kPut), "del", "expired", "evicted", "flush"
// (kClear), or "expire" for a TTL change (kExpire; TAIL does not push those).
const char* ChangeOpName(const Change& change);

class Subscription {
 public:
  ~Subscription();  // the Db no longer keeps segments for it
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Calls fn for the changes after cursor(), in LSN order, up to the feed LSN, at most
  // max_changes, and none after the delivered ones' records reach max_bytes (one
  // larger change still goes whole); never blocks on writers. Returns how many were
  // delivered.
  // Errors: those of reading the log (Corruption, IOError); NotSupported once the Db
  // is closed.
  Result<size_t> Read(size_t max_changes, const std::function<void(const Change&)>& fn,
                      size_t max_bytes = SIZE_MAX);

  // Waits until a change after cursor() is readable, the Db closes, or `timeout`
  // passes. True if there is one.
  bool Wait(std::chrono::milliseconds timeout);

  // The last LSN delivered (or the from_lsn it started at).
  uint64_t cursor() const { return cursor_.load(std::memory_order_relaxed); }

 private:
  friend class Db;
  Subscription(Db* db, uint64_t from_lsn);

  Db* const db_;
  wal::ReadPosition pos_;
  std::atomic<uint64_t> cursor_;  // read by the checkpointer (the segments to keep)
};

}  // namespace memento::db
