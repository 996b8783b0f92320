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
//   kAppend, kPrepend, kSetRange, kIncrBy (deltas, WAL version 2)
//            the key's live entry's value changes as storage::ApplyDeltaToValue says
//            (storage/mutation.h: the bytes, written once for the live table, replay
//            and the snapshot store); created_ms and expire_ms stay. On an absent key
//            (or one dead at the replay clock) a delta does nothing, as a kExpire: the
//            live table logs a delta only for a key it has, and a new key as a kPut. A
//            delta that cannot apply (kIncrBy on a non-integer) also does nothing.
//
// Floats: INCRBYFLOAT and INCF/DECF are logged as a kPut of the resulting text, not as
// a delta. Their arithmetic is long double (80-bit x87 on x86-64, 128-bit on aarch64,
// 64-bit elsewhere) or double with the platform's strtold/printf: a float delta
// replayed on another machine, or by another libc, could print other digits, so the
// log would no longer say what the clients were told (Redis replicates INCRBYFLOAT as
// a SET of its result for the same reason). Nothing is lost by it: a value that
// INCRBYFLOAT accepts parses as a number, so its text is at most 5 KiB
// (kMaxLongDoubleChars) and usually under 30 bytes; the kPut costs that, not the size
// of some large value.
//
// Deltas over an unknown base (KeyChange, ChangeFold): kept as a DELTA CHAIN, not
// resolved by reading the base. A KeyChange whose base is unknown (kKeep) keeps the
// deltas in log order (adjacent appends, and adjacent prepends, merged into one) and
// hands them on: ToMutations emits them, and the store that holds the base applies
// them (SnapshotStore::Apply reads the record, applies each, writes it back; memento-
// dump applies them to the snapshot's value as its scan passes the key). Rejected:
// reading the base while folding, which would give ChangeFold a dependency on the
// snapshot (memento-compact --check and the batch collapse have none) and a read per
// key even when a later kPut makes it moot. Over a known base (after a kPut in the
// same fold) a delta is applied at once.
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
  // A delta over the unknown base (kKeep only), owning its bytes.
  struct Delta {
    storage::MutationType type;  // storage::IsDelta
    std::string bytes;           // kAppend, kPrepend, kSetRange
    int64_t number = 0;          // kSetRange's offset, kIncrBy's delta
    storage::Mutation AsMutation(std::string_view key) const;
  };
  Kind kind = Kind::kKeep;
  bool has_expire = false;  // kKeep only
  std::string value;        // kPut
  int64_t created_ms = 0;   // kPut
  int64_t expire_ms = -1;   // kPut; kKeep when has_expire
  // kKeep only: to apply to the base's value, in order (the delta chain, above). They
  // never change the expiry, so they commute with has_expire.
  std::vector<Delta> deltas;

  // Folds the next change of this key (any type but kClear, which is ChangeFold's)
  // into this one.
  void Add(const storage::Mutation& m);
  // Appends to *out the mutations that have this change's effect on a store holding
  // the base: none for an unchanged kKeep; kPut or kDelete; or a kKeep's deltas in
  // order, then its kExpire. The views point into *this.
  void ToMutations(std::string_view key, std::vector<storage::Mutation>* out) const;
  // Applies the deltas to the base entry's value (memento-dump's overlay).
  // REQUIRES: kind == kKeep and the base entry exists, live at the replay clock.
  void ApplyDeltasTo(std::string* base_value) const;
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
// it has one, then each changed key's (KeyChange::ToMutations) in key order. The views
// point into `fold`.
void ToMutations(const ChangeFold& fold, std::vector<storage::Mutation>* out);

// A mutation that owns its bytes (log records are only valid during the callback).
struct OwnedMutation {
  storage::MutationType type;
  std::string key;
  std::string value;
  int64_t created_ms;
  int64_t expire_ms;
  int64_t number = 0;  // kSetRange, kIncrBy
};

// Rewrites a batch of log records (in log order) into the shortest batch with the same
// effect on a snapshot (ChangeFold): kClear first if the batch had one, then each
// changed key's mutations (one, or a delta chain and a kExpire), in key order (LMDB then writes each page once instead of
// once per record; a workload of overwrites shrinks to its distinct keys). kExpire
// after a kPut of the same key folds into the kPut; after a kDelete (or a kClear, with
// no kPut between) it is dropped.
void CollapseBatch(std::vector<OwnedMutation>* batch);

}  // namespace memento::db
