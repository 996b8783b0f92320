// What a change does to a key: the ONE definition, for every reader of the log.
//
// A storage::Mutation is the resulting state of one change (storage/mutation.h). Its
// meaning, written here and nowhere else:
//
//   kPut     the key holds exactly (value, created_ms, expire_ms): any old entry is
//            replaced whole, its expiry included.
//   kDelete  the key is absent.
//   kExpire  the key's entry, if it has a live one, now expires at expire_ms (-1: never);
//            on an absent key it does nothing (it never creates one).
//   kClear   every key is absent (so a later kExpire finds nothing).
//
// Replay clock: the snapshot and the log are combined "at time zero" (kReplayNowMs). A
// record's expiry is not judged against the restart's clock while records are applied:
// each record was produced while its key was live, and a kPut whose TTL has passed by
// now may be followed by the kExpire of a PERSIST that kept it
// (fuzz/regressions/table_map/replay-loses-key-persisted-after-ttl). Only an expiry at
// or before time zero counts as dead during the replay (as it did when the record was
// written: the live table never logs a change to a dead key). What has expired by the
// real clock is dropped once the replay is done (Table::ReclaimExpired, a reader's
// now_ms).
//
// Three forms of the same rule:
//   ApplyToTable   onto a table::Table (recovery; the fuzz oracle);
//   KeyChange      one key's net change over a base entry that may be unknown (a
//                  snapshot's), folded record by record;
//   ChangeFold     a whole run of records as per-key KeyChanges plus "cleared": the
//                  checkpointer's batch collapse (CollapseBatch) and memento-dump's
//                  overlay of the log tail on the snapshot (storage/dump/dump_source.cc).
// apply_test.cc checks that they agree.
//
// Thread-safety: ApplyToTable is as thread-safe as the Table; KeyChange and ChangeFold
// are plain values (one thread at a time).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "storage/mutation.h"
#include "storage/table/table.h"

namespace memento::db {

// The clock every replay runs at (see above).
inline constexpr int64_t kReplayNowMs = 0;

// True if an entry with this expiry is dead at the replay clock.
bool DeadDuringReplay(int64_t expire_ms);

// Applies a recovered change to *table at kReplayNowMs. If the table has a
// MutationSink it sees the change too: recovery installs the sink only afterwards, so
// nothing is logged twice.
void ApplyToTable(table::Table* table, const storage::Mutation& m);

// One key's net change, over a base entry (the snapshot's, the table's) that the
// records do not show. Starts as kKeep with no expiry: "the base, unchanged".
struct KeyChange {
  enum class Kind : uint8_t {
    kKeep,    // the base entry, if it has one; with expire_ms if has_expire
    kPut,     // value, created_ms, expire_ms
    kDelete,  // absent
  };
  Kind kind = Kind::kKeep;
  bool has_expire = false;  // kKeep only
  std::string value;        // kPut
  int64_t created_ms = 0;   // kPut
  int64_t expire_ms = -1;   // kPut; kKeep when has_expire

  // Folds the next change of this key (kPut, kDelete or kExpire; kClear is
  // ChangeFold's) into this one.
  void Add(const storage::Mutation& m);
  // As a mutation for a store holding the base (kKeep without expiry: nothing to do,
  // returns false). The views point into *this.
  bool ToMutation(std::string_view key, storage::Mutation* out) const;
};

// A run of records, in log order, as: whether a kClear came (the base is then
// empty), and each key's KeyChange since then.
class ChangeFold {
 public:
  void Add(const storage::Mutation& m);

  bool cleared() const { return cleared_; }
  // Sorted by key (the order LMDB writes best). Readers may erase what they consumed.
  std::map<std::string, KeyChange, std::less<>>& keys() { return keys_; }
  const std::map<std::string, KeyChange, std::less<>>& keys() const { return keys_; }
  uint64_t records() const { return records_; }
  // Empties the fold for the next batch. The map's nodes (and their strings' buffers)
  // are kept for the next batch's keys: a checkpoint folds batch after batch, and
  // allocating three blocks per new key costs it about a tenth of its CPU time.
  void Reset();

 private:
  using Map = std::map<std::string, KeyChange, std::less<>>;
  bool cleared_ = false;
  Map keys_;
  std::vector<Map::node_type> spare_;  // extracted by Reset, reused by Add
  uint64_t records_ = 0;
};

// The mutations that have `fold`'s effect on a store holding the base: kClear first if
// it has one, then one per changed key in key order. The views point into `fold`.
void ToMutations(const ChangeFold& fold, std::vector<storage::Mutation>* out);

// A mutation that owns its bytes (log records are only valid during the callback).
struct OwnedMutation {
  storage::MutationType type;
  std::string key;
  std::string value;
  int64_t created_ms;
  int64_t expire_ms;
};

// Rewrites a batch of log records (in log order) into the shortest batch with the same
// effect on a snapshot (ChangeFold): kClear first if the batch had one, then one
// mutation per changed key, in key order (LMDB then writes each page once instead of
// once per record; a workload of overwrites shrinks to its distinct keys). kExpire
// after a kPut of the same key folds into the kPut; after a kDelete (or a kClear, with
// no kPut between) it is dropped.
void CollapseBatch(std::vector<OwnedMutation>* batch);

}  // namespace memento::db
