// Table: the thread-safe, sharded in-memory key space shared by every event-loop
// thread.
//
// The key space is split into a fixed number of shards, each {mutex, HashMap,
// counters}. A key's shard is chosen by the HIGH bits of Hash64(key); the HashMap
// indexes its buckets with the LOW bits, so the two choices are independent. Every
// operation on one key locks exactly one shard, for the duration of a caller-supplied
// callback (Read / Write), so a read-modify-write such as INCR is atomic without the
// caller holding any lock of its own.
//
// Expiry: an entry whose expire_ms <= now_ms is dead. It is removed lazily by the
// Read / Write that finds it, or by the background ReclaimExpired. Each removal
// bumps ExpiredCount() and calls the expiry listener (for the write-ahead log).
// Callers pass now_ms, so tests control time and one command sees one instant.
//
// Thread-safety: every public method may be called from any thread concurrently,
// except SetExpiryListener (set it before sharing the Table). Callbacks run with a
// shard mutex held: they must be short and must NOT call into the same Table (the
// mutex is not recursive; a second key may live in the same shard).
//
// Transactions (MULTI/EXEC, daemon/cmd_multi.cc) hold a set of shards, or all of
// them, for a whole sequence of commands (Table::Hold): while a Hold is alive on a
// thread, that thread's own Read/Write/WriteMulti/Clear/ForEach/Scan/MemoryUsage skip
// locking the shards it holds (the mutex is not recursive). The cost when nobody
// holds: one thread_local load per lock.
//
// Locking choice: std::mutex, not a reader-writer lock (Read may erase an expired
// entry, and the critical sections are a hash lookup long, where a shared_mutex's
// extra atomic traffic costs more than it saves) and not a spinlock (the daemon
// may run more event-loop threads than free cores, and a spinning waiter would burn
// the preempted owner's time slice; futex-based std::mutex is uncontended-fast).
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "common/hash.h"
#include "storage/mutation.h"
#include "storage/table/hash_map.h"

#include "common/mutex.h"

namespace memento::table {

class Table;

// Receives every change to the table (storage::Mutation): a Write callback's net
// effect when it returns, as its resulting state or, for a lone Slot::ApplyDelta, as
// that delta; an expiry removal (reason kExpiry); a Clear (reason kFlush). Called
// with the key's shard locked (every shard, for kClear), so the changes to one key
// arrive in the order they happened. The write-ahead log is the sink. Must be quick
// and must not call into the Table. Thread-safety: called from any thread.
class MutationSink {
 public:
  virtual ~MutationSink() = default;
  virtual void OnMutation(const storage::Mutation& mutation) = 0;
  // Several changes that must replay all or nothing (a transaction's, handed on by a
  // sink in front of the log). The log (db::Db) writes them as one unit record; this
  // default passes them on one by one. Not called by the Table itself.
  virtual void OnUnit(std::span<const storage::Mutation> changes) {
    for (const storage::Mutation& m : changes) OnMutation(m);
  }
};

namespace internal {

using ::memento::Mutex;
using ::memento::MutexLock;

// One shard. Aligned to a cache line so that two threads working on neighbouring
// shards do not bounce one line between cores.
struct alignas(64) Shard {
  mutable Mutex mu;
  HashMap map MEMENTO_TSA(guarded_by(mu));
  // Sum of StringHeapBytes(entry.value) as of each entry's last Write.
  size_t value_bytes MEMENTO_TSA(guarded_by(mu)) = 0;
  // Where ReclaimExpired resumes its scan of this shard.
  uint64_t reclaim_cursor MEMENTO_TSA(guarded_by(mu)) = 0;
  // Written under mu, read without it (hence atomic): map.size(), the number of
  // entries with expire_ms != kNoExpiry, and the number of expiry removals.
  std::atomic<size_t> size{0};
  std::atomic<size_t> expires{0};
  std::atomic<uint64_t> expired{0};
};

class Hold;
// The shards this thread holds through a Table::Hold (nullptr: none).
struct HeldShards {
  const void* table = nullptr;
  bool all = false;
  std::vector<bool> held;  // by shard index, when !all
  bool Has(size_t index) const { return all || held[index]; }
};
inline thread_local const HeldShards* t_held = nullptr;

// Locks a shard unless this thread holds it already through a Table::Hold.
class MEMENTO_TSA(scoped_lockable) ShardLock {
 public:
  ShardLock(const void* table, size_t index, Mutex* mu) MEMENTO_TSA(acquire_capability(mu))
      MEMENTO_TSA(no_thread_safety_analysis)
      : mu_(t_held != nullptr && t_held->table == table && t_held->Has(index) ? nullptr : mu) {
    // Invariant: inside a Hold only held shards are touched (the transaction locked
    // every shard its commands name); locking another one here could deadlock.
    assert(mu_ == nullptr || t_held == nullptr || t_held->table != table);
    if (mu_ != nullptr) mu_->Lock();
  }
  ~ShardLock() MEMENTO_TSA(release_capability()) MEMENTO_TSA(no_thread_safety_analysis) {
    if (mu_ != nullptr) mu_->Unlock();
  }
  ShardLock(const ShardLock&) = delete;
  ShardLock& operator=(const ShardLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace internal

// A locked position for one key, handed to Table::Write callbacks. Valid only inside
// the callback; every Entry* it returns is invalid once the callback returns or after
// Erase. Change the key only through Create(), Mutate(), SetExpire() and Erase():
// the Table accounts for the change and reports it to the MutationSink when the
// callback returns (entry() is for looking).
class Slot {
 public:
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

  std::string_view key() const { return key_; }
  // The live entry, or nullptr (an entry expired at now_ms is already gone).
  const Entry* entry() const { return entry_; }
  // Inserts the key, or replaces its entry: value empty (memory released),
  // created_ms = now_ms, no expiry. Returns the entry (never nullptr).
  Entry* Create(int64_t now_ms);
  // The live entry, to change its value in place (APPEND, INCR); nullptr if none.
  // The key is reported as changed (a kPut of its final state).
  Entry* Mutate();
  // Changes the live entry's value by `delta` (a storage::IsDelta mutation: APPEND's
  // bytes, SETRANGE's range, INCRBY's integer), through the one definition of what a
  // delta does (storage::ApplyDeltaToValue), and reports the key as that delta rather
  // than as a kPut of its whole value, so the log's cost follows the change's size.
  // (A callback that also calls Create, Mutate or SetExpire, or a second ApplyDelta,
  // reports a kPut of the final state instead.) delta.key is ignored (the Slot's key is
  // used); its value's bytes must stay valid until the Write returns. Returns false,
  // changing nothing, if there is no live entry or the delta does not apply (INCRBY
  // on a non-integer or overflowing value).
  bool ApplyDelta(const storage::Mutation& delta);
  // Sets the live entry's expiry (kNoExpiry: none). REQUIRES: entry() != nullptr.
  void SetExpire(int64_t expire_ms);
  // Removes the entry. Returns true if there was one.
  bool Erase();

 private:
  friend class Table;
  Slot(internal::Shard* shard, std::string_view key, uint64_t hash, Entry* entry,
       MutationSink* sink);
  // Publishes the callback's changes to the shard's counters and the sink.
  ~Slot();

  internal::Shard* const shard_;
  const std::string_view key_;
  const uint64_t hash_;
  Entry* entry_;
  // What the shard's counters currently hold for this key: whether it is counted in
  // `expires`, and its share of `value_bytes`.
  bool counted_expiry_;
  size_t counted_value_bytes_;
  MutationSink* const sink_;
  const bool existed_;          // the key was live when the callback started
  bool value_changed_ = false;  // Create() or Mutate() was called
  bool expire_changed_ = false; // SetExpire() was called
  int deltas_ = 0;              // ApplyDelta() calls that changed the value
  storage::Mutation delta_;     // the first of them
};

class Table {
 public:
  // 256 shards: with up to a few dozen event-loop threads the chance that two
  // threads want the same shard at once stays small; the fixed cost (256 cache-line
  // sized shards, 16 KB, plus a 32-byte initial bucket array each) is negligible;
  // and each shard holds 1/256 of the keys, so even its bucket arrays stay small.
  // Size() and friends sum 256 atomics, still cheap for INFO/DBSIZE.
  static constexpr size_t kDefaultShards = 256;

  // shard_count is rounded up to a power of two (and to at least 1).
  explicit Table(size_t shard_count = kDefaultShards);
  ~Table();
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // Runs fn(const Entry* e) with key's shard locked and returns fn's result. e is
  // nullptr if the key is absent or expired at now_ms (an expired entry found here is
  // removed and counted as expired). e is valid only inside fn.
  template <typename Fn>
  decltype(auto) Read(std::string_view key, int64_t now_ms, Fn&& fn) {
    const uint64_t hash = Hash64(key);
    internal::Shard& shard = ShardFor(hash);
    internal::ShardLock lock(this, ShardIndex(hash), &shard.mu);
    const Entry* entry = FindLiveLocked(shard, key, hash, now_ms);
    return std::forward<Fn>(fn)(entry);
  }

  // Runs fn(Slot& slot) with key's shard locked (an entry expired at now_ms is
  // removed first, as in Read) and returns fn's result.
  template <typename Fn>
  decltype(auto) Write(std::string_view key, int64_t now_ms, Fn&& fn) {
    const uint64_t hash = Hash64(key);
    internal::Shard& shard = ShardFor(hash);
    internal::ShardLock lock(this, ShardIndex(hash), &shard.mu);
    // Declared after `lock`, so ~Slot publishes the counters before unlocking.
    Slot slot(&shard, key, hash, FindLiveLocked(shard, key, hash, now_ms), sink_);
    return std::forward<Fn>(fn)(slot);
  }

  // Runs fn(std::span<Slot* const> slots) with the shards of all `keys` locked at
  // once; slots[i] is keys[i]'s Slot, as in Write. For commands that must see or
  // change several keys atomically (RENAME, MSETNX). Deadlock-free: each shard is
  // locked once, in increasing shard order (as Clear() locks them all), and every
  // other method holds one shard lock at a time. Allocates (a few small vectors), so
  // keep it off hot paths.
  // REQUIRES: the keys are distinct (two Slots on one key would double-count it).
  void WriteMulti(std::span<const std::string_view> keys, int64_t now_ms,
                  const std::function<void(std::span<Slot* const> slots)>& fn);

  // Entries stored, including expired ones not reclaimed yet. Sums per-shard atomics
  // without locking: exact when no write is in flight.
  size_t Size() const;
  // Entries with an expiry (same caveats as Size).
  size_t ExpiresCount() const;
  // Removes every entry and returns how many there were. Atomic with respect to
  // writes: it holds every shard lock while it empties the shards (and reports one
  // kClear), so each write lands wholly before or wholly after it. Does not call the
  // expiry listener.
  size_t Clear();

  // Background reclaim: looks at about max_checks entries that have an expiry,
  // across shards, resuming where the last call stopped, and removes those expired
  // at now_ms. Returns how many entries were removed.
  // It works in whole buckets, so it may look at the rest of the last bucket's chain
  // beyond max_checks (1-2 entries at load factor <= 1); splitting a bucket would
  // leave its tail unexamined until the next full pass. To bound the time spent it
  // also stops after visiting max_checks * kReclaimBucketsPerCheck buckets (keys
  // without an expiry cost a visit but not a check).
  static constexpr size_t kReclaimBucketsPerCheck = 16;
  size_t ReclaimExpired(int64_t now_ms, size_t max_checks);

  using Visitor = std::function<void(std::string_view key, const Entry& entry)>;

  // Calls fn for every entry live at now_ms, shard by shard, each shard under its
  // lock (so not a snapshot of the whole table). fn must not call into the Table.
  void ForEach(int64_t now_ms, const Visitor& fn) const;

  // SCAN over the whole table. Start with cursor 0; returns the next cursor, 0 when
  // done. Each call visits whole buckets until about count_hint entries were seen
  // (or 10 * count_hint buckets were visited), and calls fn for those live at
  // now_ms. Every key present for the whole scan is visited at least once; some may
  // be visited more than once. The cursor is (bucket cursor << shard bits) | shard.
  // fn must not call into the Table.
  uint64_t Scan(uint64_t cursor, size_t count_hint, int64_t now_ms, const Visitor& fn) const;

  // Called, under the shard lock, with each key removed because it expired (lazily
  // or by ReclaimExpired), before the entry is freed. Must not call into the Table.
  // REQUIRES: called before the Table is used by more than one thread.
  void SetExpiryListener(std::function<void(std::string_view key)> listener);
  // "*sink" (nullptr: none) must outlive the Table's use.
  // REQUIRES: called before the Table is used by more than one thread.
  void SetMutationSink(MutationSink* sink) { sink_ = sink; }

  // Keys removed by expiry since construction.
  uint64_t ExpiredCount() const;
  // Approximate heap bytes held by the table (locks each shard in turn).
  size_t MemoryUsage() const;

  size_t shard_count() const { return shard_count_; }

  // Holds shards of this table for the calling thread until destroyed, so that a
  // sequence of operations (a MULTI/EXEC transaction) runs with no other thread's
  // change to those shards in between. The thread's own operations on held shards
  // skip their locking; it must not touch keys of shards it does not hold (asserted)
  // and must hold no other lock of this table (Read/Write callbacks) when it creates
  // a Hold. Shards are locked in increasing index order, as WriteMulti and Clear
  // lock them: deadlock-free with every other method. A Hold created while this
  // thread holds one already (of the same table) is inert: it must ask for a subset
  // (asserted), e.g. FLUSHALL inside a transaction that holds every shard.
  class Hold {
   public:
    // The shards of `keys` (duplicates allowed).
    Hold(Table& table, std::span<const std::string_view> keys);
    // Every shard (commands without declared keys: FLUSH, KEYS, DBSIZE, INFO...).
    explicit Hold(Table& table);
    ~Hold();
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    void LockHeld();
    Table& table_;
    internal::HeldShards held_;
    bool inert_ = false;
  };

 private:
  size_t ShardIndex(uint64_t hash) const {
    return shard_bits_ == 0 ? 0 : hash >> (64 - shard_bits_);
  }
  internal::Shard& ShardFor(uint64_t hash) const { return shards_[ShardIndex(hash)]; }

  // Returns key's entry, or nullptr if absent; an entry expired at now_ms is removed
  // (RemoveExpiredLocked) and reported as absent.
  Entry* FindLiveLocked(internal::Shard& shard, std::string_view key, uint64_t hash, int64_t now_ms)
      MEMENTO_TSA(requires_capability(shard.mu));
  // Removes `entry` (key's, expired) with its accounting and the listener call.
  void RemoveExpiredLocked(internal::Shard& shard, std::string_view key, uint64_t hash,
                           const Entry& entry) MEMENTO_TSA(requires_capability(shard.mu));
  // Reclaims in one shard, charging *checks and *bucket_budget. Returns true if the
  // shard's scan completed (the caller moves on), false if a budget ran out.
  bool ReclaimShardLocked(internal::Shard& shard, int64_t now_ms, size_t max_checks, size_t* checks,
                          size_t* bucket_budget, size_t* removed)
      MEMENTO_TSA(requires_capability(shard.mu));

  const size_t shard_count_;
  const int shard_bits_;  // log2(shard_count_)
  const std::unique_ptr<internal::Shard[]> shards_;
  std::function<void(std::string_view)> expiry_listener_;
  MutationSink* sink_ = nullptr;
  // The shard ReclaimExpired starts from. Racing reclaimers may both update it; the
  // worst outcome is a shard looked at twice or skipped once.
  std::atomic<size_t> reclaim_shard_{0};
};

}  // namespace memento::table
