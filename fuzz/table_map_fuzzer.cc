// Differential fuzz target (after rocksdb's fuzz/db_map_fuzzer.cc): random operation
// sequences run against table::Table (storage/table/table.h) and against a std::map
// model, while the table's MutationSink writes every change as a real WAL record
// (wal::EncodeMutation inside wal::AppendRecord) into an in-memory segment.
//
// Three views of the key space must agree, on keys, values, creation times and
// expiry times:
//   1. the model (what the operations mean);
//   2. the table itself (Read of every key, ForEach, a full Scan);
//   3. the log: after every operation, the mutations it emitted, applied to a shadow
//      map, give the model's live keys; at the end the segment is read back with
//      wal::Reader, each payload decoded with wal::DecodeMutation and replayed into a
//      fresh Table with recovery's own function (db::ApplyToTable, storage/db/apply.h),
//      then looked at "now" (the log must hold everything) and reclaimed the way
//      recovery does it.
//
// Input: byte 0 picks the shard count (1, 2, 4 or 256: few shards make rehashing and
// shared-shard WriteMulti likely); then one operation per opcode byte, its operands
// following (see Op; a key is one byte, KeyFor). At most kMaxOps operations. Time
// starts at kStartMs and moves only when an operation says so.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "fuzz/in_memory_fs.h"
#include "storage/db/apply.h"
#include "storage/mutation.h"
#include "storage/table/table.h"
#include "storage/wal/log_reader.h"
#include "storage/wal/log_writer.h"
#include "storage/wal/mutation_codec.h"
#include "storage/wal/wal_format.h"

namespace memento::fuzz {
namespace {

using storage::Mutation;
using storage::MutationType;
using table::kNoExpiry;

constexpr int64_t kStartMs = 1'000'000;
constexpr size_t kMaxOps = 512;

struct Value {
  std::string value;
  int64_t created_ms = 0;
  int64_t expire_ms = kNoExpiry;
  bool operator==(const Value&) const = default;
};
using Model = std::map<std::string, Value>;

bool Live(const Value& v, int64_t now) { return v.expire_ms == kNoExpiry || v.expire_ms > now; }

// The entries of `m` live at `now`.
Model LiveAt(const Model& m, int64_t now) {
  Model out;
  for (const auto& [k, v] : m) {
    if (Live(v, now)) out.emplace(k, v);
  }
  return out;
}

Model TableLive(const table::Table& t, int64_t now) {
  Model out;
  t.ForEach(now, [&](std::string_view key, const table::Entry& e) {
    FUZZ_CHECK(!e.ExpiredAt(now));
    const bool fresh = out.emplace(std::string(key), Value{e.value, e.created_ms, e.expire_ms}).second;
    FUZZ_CHECK(fresh);  // each key once
  });
  return out;
}

// A canonical decimal int64 ("0", "-12"; no sign on zero, no leading zeros, no '+'),
// the texts Redis's string2ll and common/numbers.h ParseInt64 accept.
bool ModelParseInt(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return false;
  if (s[i] == '0' && (s.size() != 1)) return false;
  for (size_t j = i; j < s.size(); ++j) {
    if (s[j] < '0' || s[j] > '9') return false;
  }
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno == ERANGE) return false;
  *out = v;
  return true;
}

// Applies one logged mutation to a map, as recovery applies it to the table.
void ApplyToModel(Model* m, const Mutation& mu, int64_t now) {
  const std::string key(mu.key);
  switch (mu.type) {
    case MutationType::kPut:
      if (mu.expire_ms != kNoExpiry && mu.expire_ms <= now) {
        m->erase(key);
      } else {
        (*m)[key] = Value{std::string(mu.value), mu.created_ms, mu.expire_ms};
      }
      return;
    case MutationType::kDelete:
      m->erase(key);
      return;
    case MutationType::kExpire: {
      auto it = m->find(key);
      if (it == m->end() || !Live(it->second, now)) return;
      if (mu.expire_ms != kNoExpiry && mu.expire_ms <= now) {
        m->erase(it);
      } else {
        it->second.expire_ms = mu.expire_ms;
      }
      return;
    }
    case MutationType::kClear:
      m->clear();
      return;
    case MutationType::kAppend:
    case MutationType::kPrepend:
    case MutationType::kSetRange:
    case MutationType::kIncrBy: {
      // Written out here, apart from storage::ApplyDeltaToValue, so that the two are
      // checked against each other.
      auto it = m->find(key);
      if (it == m->end() || !Live(it->second, now)) return;
      std::string& v = it->second.value;
      if (mu.type == MutationType::kAppend) {
        v += mu.value;
      } else if (mu.type == MutationType::kPrepend) {
        v = std::string(mu.value) + v;
      } else if (mu.type == MutationType::kSetRange) {
        const size_t offset = static_cast<size_t>(mu.number);
        if (mu.value.empty()) return;
        if (v.size() < offset + mu.value.size()) v.resize(offset + mu.value.size(), '\0');
        for (size_t i = 0; i < mu.value.size(); ++i) v[offset + i] = mu.value[i];
      } else {
        int64_t current = 0;
        int64_t sum = 0;
        if (ModelParseInt(v, &current) && !__builtin_add_overflow(current, mu.number, &sum)) {
          v = std::to_string(sum);
        }
      }
      return;
    }
  }
}

// Fixed bug (fuzz/regressions/table_map/replay-loses-key-persisted-after-ttl): recovery
// used to judge each record's expiry at replay time, losing a key whose TTL had passed
// by the restart but that a later kExpire (PERSIST) had kept. It now replays at time
// zero (db::kReplayNowMs) and reclaims expired entries once afterwards. (This file
// used to carry its own copy of the replay, still the pre-fix one with a clock
// parameter; it now calls recovery's db::ApplyToTable.)
constexpr bool kKnownReplayBug = false;

// The table's sink: each mutation becomes a WAL record, and is applied to the shadow.
class LogSink final : public table::MutationSink {
 public:
  explicit LogSink(const int64_t* now) : now_(now) {
    wal::EncodeSegmentHeader(wal::SegmentHeader{wal::kFormatVersion, 1, 1}, &segment_);
  }
  void OnMutation(const Mutation& m) override {
    // As wal::Wal::Append writes it (format version 2).
    const size_t start = wal::BeginRecord(&segment_);
    wal::EncodeChange(m, &segment_);
    wal::FinishRecord(&segment_, start, next_lsn_++, wal::RecordType::kChange);
    ApplyToModel(&shadow_, m, *now_);
    if (storage::IsDelta(m.type)) ++deltas_;
  }
  uint64_t deltas() const { return deltas_; }
  const std::string& segment() const { return segment_; }
  const Model& shadow() const { return shadow_; }
  uint64_t records() const { return next_lsn_ - 1; }

 private:
  const int64_t* now_;
  std::string segment_;
  uint64_t next_lsn_ = 1;
  uint64_t deltas_ = 0;
  Model shadow_;
};

// Keys: a few named ones (the empty key, a NUL, one too long for the small-string
// buffer) that operations meet often, and 56 more so that shards grow and shrink
// through several rehashes.
const std::string_view kKeys[] = {"a", "b", "c", "d", "key:1", "key:2", "", std::string_view("\0", 1),
                                  "a-much-longer-key-that-does-not-fit-in-the-small-string-buffer"};
constexpr size_t kKeyCount = sizeof(kKeys) / sizeof(kKeys[0]);
constexpr size_t kMoreKeys = 56;

std::string_view KeyFor(uint8_t b) {
  static const std::vector<std::string>* const more = [] {
    auto* v = new std::vector<std::string>();
    for (size_t i = 0; i < kMoreKeys; ++i) v->push_back("n" + std::to_string(i));
    return v;
  }();
  return b < 200 ? kKeys[b % kKeyCount] : std::string_view((*more)[b - 200]);
}

enum Op : uint8_t {
  kPut,          // key, value, expiry choice
  kDelete,       // key
  kExpire,       // key, expiry choice (SetExpire on the live entry)
  kPersist,      // key (SetExpire(kNoExpiry) on the live entry)
  kAppend,       // key, value: Mutate() the live entry, or Create it
  kTouch,        // key: Mutate() without changing anything
  kCreateErase,  // key: Create() then Erase() in one callback
  kRename,       // key, key: WriteMulti
  kClear,        //
  kRead,         // key: Read, compared with the model
  kReclaim,      // budget byte
  kAdvance,      // milliseconds byte
  kScanCheck,    // count hint byte: a whole Scan must see exactly the live keys
  kOpCount
};

// Opcode bytes from kFirstDeltaOpcode up are the delta operations (Slot::ApplyDelta,
// logged as kAppend ... kIncrBy), (byte - kFirstDeltaOpcode) % kDeltaOpCount; below
// it, byte % kOpCount as before (so older corpus files keep their meaning unless they
// used such a byte as an opcode).
constexpr uint8_t kFirstDeltaOpcode = 0xF0;
enum DeltaOp : uint8_t {
  kDeltaAppend,    // key, bytes
  kDeltaPrepend,   // key, bytes
  kDeltaSetRange,  // key, offset byte (0-63), bytes
  kDeltaIncr,      // key, delta choice
  kPutInteger,     // key, integer choice: a kPut of a decimal the increments can add to
  kDeltaOpCount
};

int64_t IntegerChoice(FuzzInput& in) {
  const uint8_t b = in.Byte();
  switch (b % 6) {
    case 0: return INT64_MAX;
    case 1: return INT64_MIN;
    case 2: return INT64_MAX - 3;
    case 3: return INT64_MIN + 3;
    default: return static_cast<int64_t>(static_cast<int8_t>(in.Byte()));
  }
}

// An expiry relative to now: past, now, future, none, or an extreme value.
int64_t ExpiryChoice(FuzzInput& in, int64_t now) {
  const uint8_t b = in.Byte();
  switch (b % 8) {
    case 0: return kNoExpiry;
    case 1: return INT64_MAX;
    case 2: return INT64_MIN;
    case 3: return -2;
    default: return now + static_cast<int64_t>(in.Byte()) - 64;
  }
}

}  // namespace
}  // namespace memento::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memento;        // NOLINT
  using namespace memento::fuzz;  // NOLINT
  FuzzInput in(data, size);
  static constexpr size_t kShards[] = {1, 2, 4, 256};
  int64_t now = kStartMs;
  table::Table t(kShards[in.Byte() % 4]);
  LogSink sink(&now);
  t.SetMutationSink(&sink);
  Model model;

  auto key = [&in] { return KeyFor(in.Byte()); };
  auto live = [&](std::string_view k) -> Value* {
    auto it = model.find(std::string(k));
    return it != model.end() && Live(it->second, now) ? &it->second : nullptr;
  };

  for (size_t ops = 0; ops < kMaxOps && !in.empty(); ++ops) {
    const uint8_t opcode = in.Byte();
    if (opcode >= kFirstDeltaOpcode) {
      const auto dop = static_cast<DeltaOp>((opcode - kFirstDeltaOpcode) % kDeltaOpCount);
      const std::string_view k = key();
      Mutation d;
      std::string bytes;
      switch (dop) {
        case kDeltaAppend:
        case kDeltaPrepend:
          d.type = dop == kDeltaAppend ? MutationType::kAppend : MutationType::kPrepend;
          bytes = in.Bytes(20);
          break;
        case kDeltaSetRange:
          d.type = MutationType::kSetRange;
          d.number = in.Byte() % 64;
          bytes = in.Bytes(20);
          break;
        case kDeltaIncr:
          d.type = MutationType::kIncrBy;
          d.number = IntegerChoice(in);
          break;
        case kPutInteger: {
          const std::string text = std::to_string(IntegerChoice(in));
          t.Write(k, now, [&](table::Slot& s) { s.Create(now)->value = text; });
          model[std::string(k)] = Value{text, now, kNoExpiry};
          break;
        }
        case kDeltaOpCount:
          break;
      }
      if (storage::IsDelta(d.type)) {
        d.value = bytes;
        // The model's answer (ApplyToModel is the independent definition): applied
        // to a live key, and for INCRBY only to a decimal int64 with no overflow.
        const Value* v = live(k);
        bool want_applied = v != nullptr;
        if (v != nullptr && d.type == MutationType::kIncrBy) {
          int64_t cur = 0;
          int64_t sum = 0;
          want_applied = ModelParseInt(v->value, &cur) &&
                         !__builtin_add_overflow(cur, d.number, &sum);
        }
        if (v != nullptr) {
          Mutation m = d;
          m.key = k;
          ApplyToModel(&model, m, now);
        }
        const uint64_t deltas_before = sink.deltas();
        const bool applied = t.Write(k, now, [&](table::Slot& s) { return s.ApplyDelta(d); });
        FUZZ_CHECK(applied == want_applied);
        // An applied delta is logged as itself, not as a kPut of the whole value.
        FUZZ_CHECK(sink.deltas() == deltas_before + (applied ? 1 : 0));
      }
    }
    const auto op = opcode >= kFirstDeltaOpcode ? kOpCount : static_cast<Op>(opcode % kOpCount);
    switch (op) {
      case kPut: {
        const std::string_view k = key();
        const std::string v(in.Bytes(40));
        const bool with_expiry = in.Bool();
        const int64_t e = with_expiry ? ExpiryChoice(in, now) : kNoExpiry;
        t.Write(k, now, [&](table::Slot& s) {
          s.Create(now)->value = v;
          if (with_expiry) s.SetExpire(e);
        });
        model[std::string(k)] = Value{v, now, e};
        break;
      }
      case kDelete: {
        const std::string_view k = key();
        const bool had = live(k) != nullptr;
        const bool erased = t.Write(k, now, [](table::Slot& s) { return s.Erase(); });
        FUZZ_CHECK(erased == had);
        model.erase(std::string(k));
        break;
      }
      case kExpire:
      case kPersist: {
        const bool persist = op == kPersist;
        const std::string_view k = key();
        const int64_t e = persist ? kNoExpiry : ExpiryChoice(in, now);
        t.Write(k, now, [&](table::Slot& s) {
          if (s.entry() != nullptr) s.SetExpire(e);
        });
        if (Value* v = live(k)) v->expire_ms = e;
        break;
      }
      case kAppend: {
        const std::string_view k = key();
        const std::string piece(in.Bytes(20));
        t.Write(k, now, [&](table::Slot& s) {
          table::Entry* e = s.Mutate();
          if (e == nullptr) e = s.Create(now);
          e->value += piece;
        });
        if (Value* v = live(k)) {
          v->value += piece;
        } else {
          model[std::string(k)] = Value{piece, now, kNoExpiry};
        }
        break;
      }
      case kTouch: {
        const std::string_view k = key();
        t.Write(k, now, [](table::Slot& s) { (void)s.Mutate(); });
        break;
      }
      case kCreateErase: {
        const std::string_view k = key();
        t.Write(k, now, [&](table::Slot& s) {
          s.Create(now)->value = "temporary";
          FUZZ_CHECK(s.Erase());
        });
        model.erase(std::string(k));
        break;
      }
      case kRename: {
        const std::string_view from = key();
        const std::string_view to = key();
        if (from == to) break;
        const std::string_view keys[] = {from, to};
        t.WriteMulti(keys, now, [&](std::span<table::Slot* const> slots) {
          const table::Entry* src = slots[0]->entry();
          if (src == nullptr) return;
          const std::string value = src->value;
          const int64_t expire = src->expire_ms;
          table::Entry* dst = slots[1]->Create(now);
          dst->value = value;
          slots[1]->SetExpire(expire);
          FUZZ_CHECK(slots[0]->Erase());
        });
        if (Value* v = live(from)) {
          const Value moved{v->value, now, v->expire_ms};
          model.erase(std::string(from));
          model[std::string(to)] = moved;
        }
        break;
      }
      case kClear: {
        t.Clear();
        model.clear();
        break;
      }
      case kRead: {
        const std::string_view k = key();
        const Value* want = live(k);
        t.Read(k, now, [&](const table::Entry* e) {
          FUZZ_CHECK((e != nullptr) == (want != nullptr));
          if (e != nullptr) {
            FUZZ_CHECK(e->value == want->value && e->created_ms == want->created_ms &&
                       e->expire_ms == want->expire_ms);
          }
        });
        break;
      }
      case kReclaim:
        (void)t.ReclaimExpired(now, 1 + in.Byte() % 16);
        break;
      case kAdvance:
        now += in.Byte();
        break;
      case kScanCheck: {
        const size_t hint = 1 + in.Byte() % 8;
        std::set<std::string> seen;
        uint64_t cursor = 0;
        size_t calls = 0;
        do {
          cursor = t.Scan(cursor, hint, now, [&](std::string_view k, const table::Entry& e) {
            FUZZ_CHECK(!e.ExpiredAt(now));
            seen.emplace(k);
          });
          FUZZ_CHECK(++calls < 100000);  // a scan always ends
        } while (cursor != 0);
        std::set<std::string> want;
        for (const auto& [k, v] : LiveAt(model, now)) want.insert(k);
        FUZZ_CHECK(seen == want);
        break;
      }
      case kOpCount:
        break;
    }
    // After every operation: the table, the model and the log agree.
    const Model want = LiveAt(model, now);
    FUZZ_CHECK(TableLive(t, now) == want);
    FUZZ_CHECK(LiveAt(sink.shadow(), now) == want);
    FUZZ_CHECK(t.Size() >= want.size());
    FUZZ_CHECK(t.ExpiresCount() <= t.Size());
  }
  (void)t.MemoryUsage();

  // Read the log back as recovery would, into fresh tables.
  const Model want = LiveAt(model, now);
  StringFile file(sink.segment());
  wal::Reader reader(&file, sink.segment().size(), "table_map.wal");
  wal::SegmentHeader header;
  FUZZ_CHECK(reader.ReadHeader(&header).ok());
  table::Table as_recovery;  // replayed the way recovery does it (storage/db/recovery.cc)
  wal::Reader::Record record;
  uint64_t records = 0;
  // The log also goes through the fold (storage/db/apply.h): its first half replayed
  // into `base`, its second half folded over that unknown base (ChangeFold, delta
  // chains and all) and the fold's mutations applied to `base`: the checkpointer's way.
  const uint64_t half = sink.records() / 2;
  table::Table base;
  db::ChangeFold fold;
  std::vector<Mutation> changes;
  while (reader.ReadRecord(&record)) {
    FUZZ_CHECK(wal::DecodeRecordPayload(record.type, record.payload, &changes).ok());
    FUZZ_CHECK(changes.size() == 1);
    db::ApplyToTable(&as_recovery, changes[0]);
    if (record.lsn <= half) {
      db::ApplyToTable(&base, changes[0]);
    } else {
      fold.Add(changes[0]);
    }
    ++records;
  }
  FUZZ_CHECK(reader.end() == wal::Reader::End::kEof);
  FUZZ_CHECK(records == sink.records());
  // The log holds everything needed to rebuild the key space.
  FUZZ_CHECK(TableLive(as_recovery, now) == want);
  std::vector<Mutation> folded;
  db::ToMutations(fold, &folded);
  for (const Mutation& m : folded) db::ApplyToTable(&base, m);
  FUZZ_CHECK(TableLive(base, now) == want);
  if (!kKnownReplayBug) {
    // Then, as db::Recover, one reclaim pass with the real clock.
    as_recovery.ReclaimExpired(now, as_recovery.Size() + 1);
    FUZZ_CHECK(TableLive(as_recovery, now) == want);
    FUZZ_CHECK(as_recovery.Size() == want.size());
  }
  return 0;
}
