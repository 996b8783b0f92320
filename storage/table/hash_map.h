// HashMap: a single-threaded map from binary-safe byte-string keys to Entry, the
// building block of one Table shard (storage/table/table.h).
//
// Layout: chained buckets in a power-of-two array, indexed by the LOW bits of the
// caller's precomputed 64-bit hash (the Table uses the high bits to pick a shard).
// Each key lives in its own heap node {next, hash, key, entry}.
//
// Incremental rehash (the Redis dict idea): when the map grows (load factor reaches
// 1) or becomes very sparse (load factor below 1/8), a second bucket array is
// allocated and every later Find / FindOrInsert / Erase moves a few buckets from the
// old array to the new one. There is never a stop-the-world pass over the whole map:
// the worst single operation moves kRehashMaxBuckets buckets. While rehashing,
// lookups probe both arrays and inserts go to the new one.
//
// Ownership and lifetimes: the map owns its nodes. Rehashing relinks nodes and never
// moves them, so an Entry* (and the key bytes) returned by Find / FindOrInsert stays
// valid until THAT key is erased, or the map is cleared, moved from or destroyed. In
// particular it survives inserts, erases of other keys, and rehash steps.
//
// Out of memory: a node allocation that fails terminates the process (storage/ is
// built without exceptions). A bucket array allocation that fails only postpones the
// resize; the map keeps working with longer chains.
//
// Thread-safety: none. A HashMap must be externally synchronised; const methods
// only read, so several threads may call them concurrently on an unchanging map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace memento::table {

inline constexpr int64_t kNoExpiry = -1;

// The value stored for a key, with its metadata.
struct Entry {
  std::string value;
  int64_t created_ms = 0;         // ms since the Unix epoch
  int64_t expire_ms = kNoExpiry;  // absolute ms since the Unix epoch, or kNoExpiry

  bool ExpiredAt(int64_t now_ms) const { return expire_ms != kNoExpiry && expire_ms <= now_ms; }
};

// Heap bytes owned by `s` beyond sizeof(std::string): 0 while the characters fit in
// the small-string buffer.
size_t StringHeapBytes(const std::string& s);

class HashMap {
 public:
  // Buckets of the first array, allocated on the first insert.
  static constexpr size_t kMinBuckets = 4;
  // The map shrinks when size() * kShrinkRatio < buckets (and buckets > kMinBuckets).
  static constexpr size_t kShrinkRatio = 8;
  // One rehash step moves at most this many non-empty buckets...
  static constexpr size_t kRehashMaxBuckets = 4;
  // ...and looks at no more than this many buckets in all (empty ones are cheap, but
  // a sparse table being shrunk has many of them).
  static constexpr size_t kRehashMaxVisits = 32;

  HashMap() = default;
  ~HashMap();
  HashMap(const HashMap&) = delete;
  HashMap& operator=(const HashMap&) = delete;
  // The moved-from map is left empty and usable. O(1).
  HashMap(HashMap&& other) noexcept;
  HashMap& operator=(HashMap&& other) noexcept;

  // Every method taking (key, hash) REQUIRES: hash is the same function of key on
  // every call (the map never computes hashes itself). Keys may hold any bytes.

  // Returns the entry for key, or nullptr. Does one rehash step if rehashing.
  Entry* Find(std::string_view key, uint64_t hash);
  // As Find, but never rehashes (for readers holding a const map).
  const Entry* Find(std::string_view key, uint64_t hash) const;

  // Returns the entry for key, inserting a default Entry if absent; second is true if
  // it was inserted. May start or advance a rehash.
  std::pair<Entry*, bool> FindOrInsert(std::string_view key, uint64_t hash);

  // Removes key. Returns true if it was present. May start or advance a rehash.
  bool Erase(std::string_view key, uint64_t hash);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Removes every entry and frees both bucket arrays. O(size()).
  void Clear();

  // Cursor scan with the Redis SCAN guarantees. Start with cursor 0; each call visits
  // whole buckets (one bucket of the smaller array plus its expansions in the larger
  // one while rehashing) and returns the next cursor, 0 when the scan is complete.
  // Every key present for the whole scan is visited at least once, whatever inserts,
  // erases and rehash steps happen BETWEEN calls; a key may be visited more than once
  // if the map was resized during the scan. Keys added or removed during the scan may
  // or may not be visited.
  //
  // fn(std::string_view key, Entry& e) must not call any non-const method of this
  // map. The key view is valid until that key is erased.
  template <typename Fn>
  uint64_t Scan(uint64_t cursor, Fn&& fn) {
    return ScanBuckets(cursor, [&fn](Node* n) { fn(std::string_view(n->key), n->entry); });
  }
  // As above with fn(std::string_view key, const Entry& e).
  template <typename Fn>
  uint64_t Scan(uint64_t cursor, Fn&& fn) const {
    return ScanBuckets(
        cursor, [&fn](const Node* n) { fn(std::string_view(n->key), std::as_const(n->entry)); });
  }

  // Calls fn(std::string_view key, const Entry& e) for every entry, in no particular
  // order. fn must not modify the map.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const BucketArray& t : tables_) {
      for (size_t i = 0; i < t.count; ++i) {
        for (const Node* n = t.slots[i]; n != nullptr; n = n->next) {
          fn(std::string_view(n->key), std::as_const(n->entry));
        }
      }
    }
  }

  // Buckets in both arrays (the second one is non-empty only while rehashing).
  size_t bucket_count() const { return tables_[0].count + tables_[1].count; }
  bool rehashing() const { return tables_[1].slots != nullptr; }

  // Approximate heap bytes held: bucket arrays, nodes (with an allowance for malloc's
  // per-block overhead) and out-of-line key bytes. EXCLUDES the heap bytes of
  // Entry::value, which callers change through Entry* where the map cannot see it;
  // the owner accounts for those (Table does).
  size_t MemoryUsage() const;

 private:
  struct Node {
    Node* next;
    uint64_t hash;
    std::string key;
    Entry entry;
  };

  struct BucketArray {
    Node** slots = nullptr;  // calloc'ed; nullptr when count == 0
    size_t count = 0;        // 0 or a power of two
    size_t mask = 0;         // count - 1 (when count > 0)
  };

  // Visits the buckets at `cursor` (see Scan) calling visit(Node*) for each node, and
  // returns the next cursor.
  template <typename Visit>
  uint64_t ScanBuckets(uint64_t cursor, Visit&& visit) const;

  Node* FindNode(std::string_view key, uint64_t hash) const;
  // Moves up to kRehashMaxBuckets non-empty buckets to the new array; finishes the
  // rehash when the old array is drained. REQUIRES: rehashing().
  void RehashStep();
  // Allocates the new array and starts moving into it. Returns false (and leaves the
  // map as it was) if the allocation fails. REQUIRES: !rehashing().
  bool StartRehash(size_t new_count);
  static bool AllocateBuckets(size_t count, BucketArray* t);
  static void FreeNodes(BucketArray* t);

  // tables_[0] is the only array, or the old one while rehashing; tables_[1] is the
  // new one while rehashing and empty otherwise.
  BucketArray tables_[2];
  // While rehashing: every bucket of tables_[0] below this index has been moved.
  size_t rehash_index_ = 0;
  size_t size_ = 0;
  size_t key_heap_bytes_ = 0;  // sum of StringHeapBytes(node->key)
};

// The bit-reversed cursor increment behind Scan. Scan hands out cursors whose bits,
// read from the most significant end of the mask down, count up: bucket b of an
// array of size 2^k is visited before any bucket whose reversed index is greater.
// Doubling or halving the array only adds or drops a top mask bit, which in
// reversed order is the least significant counting bit, so the buckets already
// visited in the old array map exactly onto a prefix of the order in the new one.
// That is what makes "visited at least once" hold across resizes. (Idea from Redis's
// dictScan; a plain increment would skip or repeat whole ranges after a resize.)
namespace internal {

inline uint64_t ReverseBits(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0f0f0f0f0f0f0f0fULL) | ((v & 0x0f0f0f0f0f0f0f0fULL) << 4);
  return __builtin_bswap64(v);
}

// Next cursor after `cursor` for an array with `mask`: the mask bits, reversed, plus
// one. Bits above the mask come back cleared; 0 means the walk wrapped around.
inline uint64_t NextCursor(uint64_t cursor, uint64_t mask) {
  cursor |= ~mask;  // so the +1 below carries straight into the mask bits
  return ReverseBits(ReverseBits(cursor) + 1);
}

}  // namespace internal

template <typename Visit>
uint64_t HashMap::ScanBuckets(uint64_t cursor, Visit&& visit) const {
  if (size_ == 0) return 0;  // no key to visit now, so none present for the whole scan
  // slots hold Node* even in a const map: the const Scan overload adds the const.
  auto visit_chain = [&visit](Node* n) {
    for (; n != nullptr; n = n->next) visit(n);
  };
  if (!rehashing()) {
    const BucketArray& t = tables_[0];
    visit_chain(t.slots[cursor & t.mask]);
    return internal::NextCursor(cursor, t.mask);
  }
  const BucketArray* small = &tables_[0];
  const BucketArray* large = &tables_[1];
  if (small->count > large->count) std::swap(small, large);
  // The bucket in the small array, then every bucket of the large array whose low
  // bits equal it (its expansions), so the cursor stays meaningful for either size.
  visit_chain(small->slots[cursor & small->mask]);
  do {
    visit_chain(large->slots[cursor & large->mask]);
    cursor = internal::NextCursor(cursor, large->mask);
    // The extra (high) mask bits of the large array count first in reversed order;
    // when they wrap to zero the carry has advanced the small array's bits.
  } while ((cursor & (small->mask ^ large->mask)) != 0);
  return cursor;
}

}  // namespace memento::table
