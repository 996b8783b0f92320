#include "storage/table/table.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <new>
#include <vector>

namespace memento::table {

using internal::MutexLock;
using internal::Shard;

// ---------------------------------------------------------------------------
// Slot
// ---------------------------------------------------------------------------

// Slot's methods run only inside Table::Write, which holds shard_->mu; the analysis
// cannot see that through the pointer, hence the opt-outs.

Slot::Slot(Shard* shard, std::string_view key, uint64_t hash, Entry* entry, MutationSink* sink)
    : shard_(shard),
      key_(key),
      hash_(hash),
      entry_(entry),
      counted_expiry_(entry != nullptr && entry->expire_ms != kNoExpiry),
      counted_value_bytes_(entry != nullptr ? StringHeapBytes(entry->value) : 0),
      sink_(sink),
      existed_(entry != nullptr) {}

Entry* Slot::Mutate() {
  if (entry_ != nullptr) value_changed_ = true;
  return entry_;
}

void Slot::SetExpire(int64_t expire_ms) {
  assert(entry_ != nullptr);
  if (entry_->expire_ms == expire_ms) return;
  entry_->expire_ms = expire_ms;
  expire_changed_ = true;
}

Entry* Slot::Create(int64_t now_ms) MEMENTO_TSA(no_thread_safety_analysis) {
  if (entry_ == nullptr) {
    entry_ = shard_->map.FindOrInsert(key_, hash_).first;
    shard_->size.store(shard_->map.size(), std::memory_order_relaxed);
  }
  value_changed_ = true;
  // Assigning a fresh string (not clear()) gives back a large old value's memory.
  entry_->value = std::string();
  entry_->created_ms = now_ms;
  entry_->expire_ms = kNoExpiry;
  return entry_;
}

bool Slot::Erase() MEMENTO_TSA(no_thread_safety_analysis) {
  if (entry_ == nullptr) return false;
  shard_->map.Erase(key_, hash_);
  entry_ = nullptr;
  shard_->size.store(shard_->map.size(), std::memory_order_relaxed);
  return true;
}

Slot::~Slot() MEMENTO_TSA(no_thread_safety_analysis) {
  // The counters hold what they held when the callback started (counted_*); bring
  // them to the entry's final state (nothing, if it was erased).
  const bool has_expiry = entry_ != nullptr && entry_->expire_ms != kNoExpiry;
  if (has_expiry != counted_expiry_) {
    if (has_expiry) {
      shard_->expires.fetch_add(1, std::memory_order_relaxed);
    } else {
      shard_->expires.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  const size_t value_bytes = entry_ != nullptr ? StringHeapBytes(entry_->value) : 0;
  shard_->value_bytes = shard_->value_bytes - counted_value_bytes_ + value_bytes;

  // The net effect of the callback, as a resulting state. Created-then-erased (or
  // erased a key that was not there) changed nothing.
  if (sink_ == nullptr) return;
  storage::Mutation m;
  m.key = key_;
  if (entry_ == nullptr) {
    if (!existed_) return;
    m.type = storage::MutationType::kDelete;
  } else if (value_changed_) {
    m.type = storage::MutationType::kPut;
    m.value = entry_->value;
    m.created_ms = entry_->created_ms;
    m.expire_ms = entry_->expire_ms;
  } else if (expire_changed_) {
    m.type = storage::MutationType::kExpire;
    m.expire_ms = entry_->expire_ms;
  } else {
    return;
  }
  sink_->OnMutation(m);
}

// ---------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------

Table::Table(size_t shard_count)
    : shard_count_(std::bit_ceil(std::max<size_t>(shard_count, 1))),
      shard_bits_(std::countr_zero(shard_count_)),
      shards_(new Shard[shard_count_]) {}

Table::~Table() = default;

Entry* Table::FindLiveLocked(Shard& shard, std::string_view key, uint64_t hash, int64_t now_ms) {
  Entry* entry = shard.map.Find(key, hash);
  if (entry != nullptr && entry->ExpiredAt(now_ms)) {
    RemoveExpiredLocked(shard, key, hash, *entry);
    return nullptr;
  }
  return entry;
}

void Table::RemoveExpiredLocked(Shard& shard, std::string_view key, uint64_t hash,
                                const Entry& entry) {
  // Entries change only inside Write, which keeps the counters in step, so the
  // entry's current state is exactly what the counters hold for it.
  assert(entry.expire_ms != kNoExpiry);
  shard.expires.fetch_sub(1, std::memory_order_relaxed);
  shard.value_bytes -= StringHeapBytes(entry.value);
  shard.expired.fetch_add(1, std::memory_order_relaxed);
  // Before the erase: `key` may point into the node being freed (ReclaimExpired).
  if (expiry_listener_) expiry_listener_(key);
  if (sink_ != nullptr) {
    storage::Mutation m;
    m.type = storage::MutationType::kDelete;
    m.key = key;
    m.reason = storage::ChangeReason::kExpiry;
    sink_->OnMutation(m);
  }
  shard.map.Erase(key, hash);
  shard.size.store(shard.map.size(), std::memory_order_relaxed);
}

void Table::WriteMulti(std::span<const std::string_view> keys, int64_t now_ms,
                       const std::function<void(std::span<Slot* const> slots)>& fn)
    MEMENTO_TSA(no_thread_safety_analysis) {  // locks a run-time set of shards
  std::vector<uint64_t> hashes(keys.size());
  std::vector<size_t> order(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    hashes[i] = Hash64(keys[i]);
    order[i] = static_cast<size_t>(&ShardFor(hashes[i]) - shards_.get());
  }
  // Ascending shard index, the order Clear() locks in too: with every other method
  // holding one shard lock at a time, that makes concurrent callers deadlock-free.
  std::sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end()), order.end());
  for (size_t index : order) shards_[index].mu.Lock();
  {
    // Slots live in raw storage: only Table may construct and destroy them.
    struct alignas(Slot) SlotStorage {
      unsigned char bytes[sizeof(Slot)];
    };
    std::vector<SlotStorage> storage(keys.size());
    std::vector<Slot*> slots;
    slots.reserve(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      Shard& shard = ShardFor(hashes[i]);
      slots.push_back(new (&storage[i]) Slot(&shard, keys[i], hashes[i],
                                             FindLiveLocked(shard, keys[i], hashes[i], now_ms),
                                             sink_));
    }
    fn(slots);
    // Every ~Slot publishes its counters and reports to the sink before any unlock;
    // last key first, so a RENAME {from, to} logs the new key before deleting the old.
    for (auto it = slots.rbegin(); it != slots.rend(); ++it) (*it)->~Slot();
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) shards_[*it].mu.Unlock();
}

size_t Table::Size() const {
  size_t total = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    total += shards_[i].size.load(std::memory_order_relaxed);
  }
  return total;
}

size_t Table::ExpiresCount() const {
  size_t total = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    total += shards_[i].expires.load(std::memory_order_relaxed);
  }
  return total;
}

uint64_t Table::ExpiredCount() const {
  uint64_t total = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    total += shards_[i].expired.load(std::memory_order_relaxed);
  }
  return total;
}

size_t Table::Clear() MEMENTO_TSA(no_thread_safety_analysis) {
  // Every shard is locked (in index order, as WriteMulti locks its shards)
  // so that the kClear lands in the sink's order between whole writes.
  size_t removed = 0;
  std::vector<HashMap> doomed(shard_count_);
  for (size_t i = 0; i < shard_count_; ++i) shards_[i].mu.Lock();
  for (size_t i = 0; i < shard_count_; ++i) {
    Shard& shard = shards_[i];
    removed += shard.map.size();
    // Swap the maps out and free their nodes after unlocking, so the threads
    // waiting do not wait for millions of nodes to be deleted.
    doomed[i] = std::move(shard.map);
    shard.value_bytes = 0;
    shard.reclaim_cursor = 0;
    shard.size.store(0, std::memory_order_relaxed);
    shard.expires.store(0, std::memory_order_relaxed);
  }
  if (sink_ != nullptr) {
    storage::Mutation m;
    m.type = storage::MutationType::kClear;
    m.reason = storage::ChangeReason::kFlush;
    sink_->OnMutation(m);
  }
  for (size_t i = shard_count_; i > 0; --i) shards_[i - 1].mu.Unlock();
  return removed;
}

size_t Table::ReclaimExpired(int64_t now_ms, size_t max_checks) {
  if (max_checks == 0) return 0;
  size_t checks = 0;
  size_t bucket_budget = max_checks * kReclaimBucketsPerCheck;
  size_t removed = 0;
  size_t index = reclaim_shard_.load(std::memory_order_relaxed) & (shard_count_ - 1);
  // At most one lap, so a table without expiring keys costs shard_count_ atomic
  // loads and no locks.
  for (size_t visited = 0; visited < shard_count_; ++visited) {
    Shard& shard = shards_[index];
    if (shard.expires.load(std::memory_order_relaxed) > 0) {
      MutexLock lock(&shard.mu);
      if (!ReclaimShardLocked(shard, now_ms, max_checks, &checks, &bucket_budget, &removed)) {
        break;  // out of budget mid-shard: resume in this shard next time
      }
    }
    index = (index + 1) & (shard_count_ - 1);
    if (checks >= max_checks || bucket_budget == 0) break;
  }
  reclaim_shard_.store(index, std::memory_order_relaxed);
  return removed;
}

bool Table::ReclaimShardLocked(Shard& shard, int64_t now_ms, size_t max_checks, size_t* checks,
                               size_t* bucket_budget, size_t* removed) {
  // Collect first, erase after: Scan forbids changing the map from its callback.
  // The key views point into the nodes, which stay put until erased.
  std::vector<std::pair<std::string_view, const Entry*>> doomed;
  uint64_t cursor = shard.reclaim_cursor;
  do {
    cursor = shard.map.Scan(cursor, [&](std::string_view key, const Entry& entry) {
      if (entry.expire_ms == kNoExpiry) return;
      ++*checks;
      if (entry.ExpiredAt(now_ms)) doomed.emplace_back(key, &entry);
    });
    --*bucket_budget;
  } while (cursor != 0 && (*checks < max_checks) && (*bucket_budget > 0));
  for (const auto& [key, entry] : doomed) {
    RemoveExpiredLocked(shard, key, Hash64(key), *entry);
  }
  *removed += doomed.size();
  shard.reclaim_cursor = cursor;
  return cursor == 0;
}

void Table::ForEach(int64_t now_ms, const Visitor& fn) const {
  for (size_t i = 0; i < shard_count_; ++i) {
    const Shard& shard = shards_[i];
    MutexLock lock(&shard.mu);
    shard.map.ForEach([&](std::string_view key, const Entry& entry) {
      if (!entry.ExpiredAt(now_ms)) fn(key, entry);
    });
  }
}

uint64_t Table::Scan(uint64_t cursor, size_t count_hint, int64_t now_ms, const Visitor& fn) const {
  count_hint = std::max<size_t>(count_hint, 1);
  const size_t max_visits = count_hint * 10;
  size_t index = cursor & (shard_count_ - 1);
  uint64_t bucket_cursor = cursor >> shard_bits_;
  size_t seen = 0;
  size_t visits = 0;
  while (true) {
    {
      const Shard& shard = shards_[index];
      MutexLock lock(&shard.mu);
      if (shard.map.empty()) {
        bucket_cursor = 0;  // free: no visit charged, so empty shards are skipped fast
      } else {
        do {
          bucket_cursor =
              shard.map.Scan(bucket_cursor, [&](std::string_view key, const Entry& entry) {
                ++seen;
                if (!entry.ExpiredAt(now_ms)) fn(key, entry);
              });
          ++visits;
        } while (bucket_cursor != 0 && seen < count_hint && visits < max_visits);
      }
    }
    if (bucket_cursor == 0) {
      if (++index == shard_count_) return 0;
    }
    if (seen >= count_hint || visits >= max_visits) {
      // Invariant: never 0 here. Either bucket_cursor != 0, or index > 0.
      return (bucket_cursor << shard_bits_) | index;
    }
  }
}

void Table::SetExpiryListener(std::function<void(std::string_view key)> listener) {
  expiry_listener_ = std::move(listener);
}

size_t Table::MemoryUsage() const {
  size_t total = sizeof(*this) + shard_count_ * sizeof(Shard);
  for (size_t i = 0; i < shard_count_; ++i) {
    const Shard& shard = shards_[i];
    MutexLock lock(&shard.mu);
    total += shard.map.MemoryUsage() + shard.value_bytes;
  }
  return total;
}

}  // namespace memento::table
