#include "storage/table/hash_map.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdlib>

namespace memento::table {
namespace {

// Rough per-allocation overhead of glibc malloc (size header plus rounding to 16).
constexpr size_t kMallocOverhead = 16;

}  // namespace

size_t StringHeapBytes(const std::string& s) {
  // An empty string's capacity is the small-string buffer size of this library.
  static const size_t kInlineCapacity = std::string().capacity();
  return s.capacity() > kInlineCapacity ? s.capacity() + 1 + kMallocOverhead : 0;
}

HashMap::~HashMap() { Clear(); }

HashMap::HashMap(HashMap&& other) noexcept { *this = std::move(other); }

HashMap& HashMap::operator=(HashMap&& other) noexcept {
  if (this != &other) {
    Clear();
    for (int i = 0; i < 2; ++i) tables_[i] = std::exchange(other.tables_[i], BucketArray{});
    rehash_index_ = std::exchange(other.rehash_index_, 0);
    size_ = std::exchange(other.size_, 0);
    key_heap_bytes_ = std::exchange(other.key_heap_bytes_, 0);
  }
  return *this;
}

bool HashMap::AllocateBuckets(size_t count, BucketArray* t) {
  assert(std::has_single_bit(count));
  // calloc rather than new Node*[count](): for large arrays glibc takes fresh pages
  // from mmap, which are already zero, so it skips the memset. The pages are then
  // faulted in one by one as the rehash touches them, instead of all at once here;
  // zeroing 64 MB up front would itself be a stop-the-world pause.
  void* slots = std::calloc(count, sizeof(Node*));
  if (slots == nullptr) return false;
  t->slots = static_cast<Node**>(slots);
  t->count = count;
  t->mask = count - 1;
  return true;
}

void HashMap::FreeNodes(BucketArray* t) {
  for (size_t i = 0; i < t->count; ++i) {
    Node* n = t->slots[i];
    while (n != nullptr) {
      Node* next = n->next;
      delete n;
      n = next;
    }
  }
  std::free(t->slots);
  *t = BucketArray{};
}

void HashMap::Clear() {
  FreeNodes(&tables_[0]);
  FreeNodes(&tables_[1]);
  rehash_index_ = 0;
  size_ = 0;
  key_heap_bytes_ = 0;
}

HashMap::Node* HashMap::FindNode(std::string_view key, uint64_t hash) const {
  for (const BucketArray& t : tables_) {
    if (t.count == 0) continue;
    for (Node* n = t.slots[hash & t.mask]; n != nullptr; n = n->next) {
      if (n->hash == hash && n->key == key) return n;
    }
  }
  return nullptr;
}

Entry* HashMap::Find(std::string_view key, uint64_t hash) {
  if (rehashing()) RehashStep();
  Node* n = FindNode(key, hash);
  return n == nullptr ? nullptr : &n->entry;
}

const Entry* HashMap::Find(std::string_view key, uint64_t hash) const {
  const Node* n = FindNode(key, hash);
  return n == nullptr ? nullptr : &n->entry;
}

std::pair<Entry*, bool> HashMap::FindOrInsert(std::string_view key, uint64_t hash) {
  if (rehashing()) RehashStep();
  if (Node* n = FindNode(key, hash)) return {&n->entry, false};

  if (tables_[0].count == 0) {
    if (!AllocateBuckets(kMinBuckets, &tables_[0])) std::abort();  // 32 bytes: cannot fail
  } else if (!rehashing() && size_ >= tables_[0].count) {
    // Load factor 1. A failed allocation just means longer chains for now; the next
    // insert tries again.
    StartRehash(tables_[0].count * 2);
  }
  // Invariant: a grow rehash finishes before the new array passes load factor 1.
  // It starts with size_ == old count == new count / 2, and each operation moves at
  // least one old bucket, so at most old count inserts happen before it is drained.
  // (A shrink has no such bound, but its old array is sparse, so each step drains
  // up to kRehashMaxVisits buckets; the worst case is briefly longer chains.)
  BucketArray& t = rehashing() ? tables_[1] : tables_[0];
  Node*& head = t.slots[hash & t.mask];
  head = new Node{head, hash, std::string(key), Entry{}};
  ++size_;
  key_heap_bytes_ += StringHeapBytes(head->key);
  return {&head->entry, true};
}

bool HashMap::Erase(std::string_view key, uint64_t hash) {
  if (rehashing()) RehashStep();
  bool erased = false;
  for (BucketArray& t : tables_) {
    if (t.count == 0) continue;
    for (Node** link = &t.slots[hash & t.mask]; *link != nullptr; link = &(*link)->next) {
      Node* n = *link;
      if (n->hash == hash && n->key == key) {
        *link = n->next;
        key_heap_bytes_ -= StringHeapBytes(n->key);
        delete n;
        --size_;
        erased = true;
        break;
      }
    }
    if (erased) break;
  }
  if (erased && !rehashing() && tables_[0].count > kMinBuckets &&
      size_ * kShrinkRatio < tables_[0].count) {
    // Load factor 1/4 to 1/2 after the shrink, far enough from both thresholds that
    // a workload hovering near one of them does not resize back and forth.
    StartRehash(std::max(kMinBuckets, std::bit_ceil(size_ * 2)));
  }
  return erased;
}

bool HashMap::StartRehash(size_t new_count) {
  assert(!rehashing());
  if (!AllocateBuckets(new_count, &tables_[1])) return false;
  rehash_index_ = 0;
  return true;
}

void HashMap::RehashStep() {
  assert(rehashing());
  BucketArray& from = tables_[0];
  BucketArray& to = tables_[1];
  size_t moved = 0;
  for (size_t visits = 0;
       visits < kRehashMaxVisits && moved < kRehashMaxBuckets && rehash_index_ < from.count;
       ++visits, ++rehash_index_) {
    Node* n = from.slots[rehash_index_];
    if (n == nullptr) continue;
    while (n != nullptr) {
      Node* next = n->next;
      Node*& head = to.slots[n->hash & to.mask];
      n->next = head;
      head = n;
      n = next;
    }
    from.slots[rehash_index_] = nullptr;
    ++moved;
  }
  if (rehash_index_ == from.count) {
    std::free(from.slots);
    from = to;
    to = BucketArray{};
    rehash_index_ = 0;
  }
}

size_t HashMap::MemoryUsage() const {
  return bucket_count() * sizeof(Node*) + size_ * (sizeof(Node) + kMallocOverhead) +
         key_heap_bytes_;
}

}  // namespace memento::table
