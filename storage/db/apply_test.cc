// What each mutation does to a key (apply.h), in its three forms: ApplyToTable,
// KeyChange and ChangeFold. The last test runs random record sequences through all of
// them and checks that they agree.
#include "storage/db/apply.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace memento::db {
namespace {

using storage::Mutation;
using storage::MutationType;

// Roughly now (2026): the clock a restart reads.
constexpr int64_t kNow = 1'790'000'000'000;

Mutation Put(std::string_view key, std::string_view value, int64_t expire = -1,
             int64_t created = 7) {
  return {MutationType::kPut, key, value, created, expire};
}
Mutation Del(std::string_view key) { return {MutationType::kDelete, key, {}, 0, -1}; }
Mutation Exp(std::string_view key, int64_t expire) {
  return {MutationType::kExpire, key, {}, 0, expire};
}
Mutation Clear() { return {MutationType::kClear, {}, {}, 0, -1}; }
Mutation Delta(MutationType type, std::string_view key, std::string_view bytes,
               int64_t number = 0) {
  return {type, key, bytes, 0, -1, number};
}
Mutation Append(std::string_view key, std::string_view bytes) {
  return Delta(MutationType::kAppend, key, bytes);
}
Mutation Prepend(std::string_view key, std::string_view bytes) {
  return Delta(MutationType::kPrepend, key, bytes);
}
Mutation SetRange(std::string_view key, int64_t offset, std::string_view bytes) {
  return Delta(MutationType::kSetRange, key, bytes, offset);
}
Mutation IncrBy(std::string_view key, int64_t delta) {
  return Delta(MutationType::kIncrBy, key, {}, delta);
}

struct Seen {
  std::string value;
  int64_t created_ms;
  int64_t expire_ms;
  bool operator==(const Seen&) const = default;
};
using Contents = std::map<std::string, Seen>;

// What the table serves at `now`.
Contents Live(const table::Table& t, int64_t now) {
  Contents out;
  t.ForEach(now, [&](std::string_view key, const table::Entry& e) {
    out.emplace(std::string(key), Seen{e.value, e.created_ms, e.expire_ms});
  });
  return out;
}

// Replays `records` into a fresh table as recovery does: applied at the replay clock,
// then one reclaim at `now`.
Contents Replay(const std::vector<Mutation>& records, int64_t now = kNow) {
  table::Table t;
  for (const Mutation& m : records) ApplyToTable(&t, m);
  t.ReclaimExpired(now, t.Size() + 1);
  EXPECT_EQ(t.Size(), Live(t, now).size());
  return Live(t, now);
}

TEST(ApplyToTableTest, PutReplacesTheWholeEntryItsExpiryIncluded) {
  EXPECT_EQ(Replay({Put("k", "old", kNow + 5000, 1), Put("k", "new", -1, 2)}),
            (Contents{{"k", {"new", 2, -1}}}));
}

TEST(ApplyToTableTest, DeleteRemovesTheKey) {
  EXPECT_EQ(Replay({Put("k", "v"), Put("j", "w"), Del("k")}), (Contents{{"j", {"w", 7, -1}}}));
  EXPECT_EQ(Replay({Del("never-there")}), Contents{});
}

TEST(ApplyToTableTest, ExpireChangesALiveEntryAndNeverCreatesOne) {
  EXPECT_EQ(Replay({Put("k", "v"), Exp("k", kNow + 9000)}),
            (Contents{{"k", {"v", 7, kNow + 9000}}}));
  EXPECT_EQ(Replay({Exp("ghost", kNow + 9000)}), Contents{});
  EXPECT_EQ(Replay({Put("k", "v"), Del("k"), Exp("k", -1)}), Contents{});
}

TEST(ApplyToTableTest, ClearRemovesEverythingAndALaterExpireFindsNothing) {
  EXPECT_EQ(Replay({Put("a", "1"), Put("b", "2"), Clear(), Exp("a", -1), Put("c", "3")}),
            (Contents{{"c", {"3", 7, -1}}}));
}

// The case where the copies diverged. The fuzz oracle's copy (fuzz/table_map_fuzzer.cc,
// ReplayIntoTable) was still the pre-fix replay that judged each record's expiry
// against a clock passed in: replayed at the restart's clock it drops the kPut whose
// TTL has passed, and the kExpire of the PERSIST that kept the key then finds nothing.
// The daemon's (now the only one) replays at time zero, so the key survives.
TEST(ApplyToTableTest, AKeyPersistedAfterItsTtlPassedSurvivesTheRestart) {
  const int64_t ttl_passed = kNow - 60'000;  // the TTL was due a minute before the restart
  EXPECT_EQ(Replay({Put("k", "v", ttl_passed), Exp("k", -1)}), (Contents{{"k", {"v", 7, -1}}}));
  // Without the PERSIST the key is gone after the restart, and only then.
  EXPECT_EQ(Replay({Put("k", "v", ttl_passed)}), Contents{});
  EXPECT_EQ(Replay({Put("k", "v", ttl_passed)}, /*now=*/ttl_passed - 1),
            (Contents{{"k", {"v", 7, ttl_passed}}}));
}

TEST(ApplyToTableTest, AnEntryDeadAtTimeZeroIsAbsentForTheRecordsAfterIt) {
  // The live table never logs a change to a dead key, so a kExpire after such an entry
  // cannot bring it back.
  EXPECT_EQ(Replay({Put("k", "v", -5), Exp("k", -1)}), Contents{});
  EXPECT_EQ(Replay({Put("k", "v"), Exp("k", 0), Exp("k", -1)}), Contents{});
}

TEST(KeyChangeTest, FoldsEachTypeOverAnUnknownBase) {
  KeyChange c;
  EXPECT_EQ(c.kind, KeyChange::Kind::kKeep);
  std::vector<Mutation> out;
  c.ToMutations("k", &out);
  EXPECT_TRUE(out.empty());  // nothing to do to the base

  c.Add(Exp("k", 500));
  c.ToMutations("k", &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, MutationType::kExpire);
  EXPECT_EQ(out[0].expire_ms, 500);

  out.clear();
  c.Add(Put("k", "v", 900));
  c.Add(Exp("k", 1000));
  c.ToMutations("k", &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, MutationType::kPut);
  EXPECT_EQ(out[0].value, "v");
  EXPECT_EQ(out[0].expire_ms, 1000);

  out.clear();
  c.Add(Del("k"));
  c.Add(Exp("k", 2000));
  c.ToMutations("k", &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, MutationType::kDelete);
}

// ---------------------------------------------------------------------------------
// Deltas (WAL version 2)

TEST(ApplyToTableTest, DeltasChangeALiveValueAndKeepItsTimes) {
  EXPECT_EQ(Replay({Put("k", "hello", kNow + 9000, 3), Append("k", " world"), Prepend("k", ">"),
                    SetRange("k", 1, "J")}),
            (Contents{{"k", {">Jello world", 3, kNow + 9000}}}));
  // SETRANGE past the end pads with zero bytes.
  EXPECT_EQ(Replay({Put("k", "ab"), SetRange("k", 4, "z")}),
            (Contents{{"k", {std::string("ab\0\0z", 5), 7, -1}}}));
  EXPECT_EQ(Replay({Put("n", "41"), IncrBy("n", 1), IncrBy("n", -100)}),
            (Contents{{"n", {"-58", 7, -1}}}));
}

TEST(ApplyToTableTest, ADeltaOnAnAbsentOrDeadKeyOrOneItCannotApplyToDoesNothing) {
  EXPECT_EQ(Replay({Append("ghost", "x"), IncrBy("ghost", 1), SetRange("ghost", 0, "y")}),
            Contents{});
  EXPECT_EQ(Replay({Put("k", "v", -5), Append("k", "x")}), Contents{});
  EXPECT_EQ(Replay({Put("k", "v"), Del("k"), Append("k", "x")}), Contents{});
  EXPECT_EQ(Replay({Put("k", "v"), Clear(), Append("k", "x")}), Contents{});
  EXPECT_EQ(Replay({Put("n", "not a number"), IncrBy("n", 1)}),
            (Contents{{"n", {"not a number", 7, -1}}}));
  EXPECT_EQ(Replay({Put("n", "9223372036854775807"), IncrBy("n", 1)}),
            (Contents{{"n", {"9223372036854775807", 7, -1}}}));
  EXPECT_EQ(Replay({Put("n", "01"), IncrBy("n", 1)}), (Contents{{"n", {"01", 7, -1}}}));
}

TEST(KeyChangeTest, DeltasOverAnUnknownBaseAreKeptAsAChain) {
  KeyChange c;
  c.Add(Append("k", "a"));
  c.Add(Append("k", "b"));  // adjacent appends merge
  c.Add(IncrBy("k", 5));
  c.Add(Prepend("k", "1"));
  c.Add(Prepend("k", "2"));  // adjacent prepends merge: "2" goes in front of "1"
  c.Add(Exp("k", 4000));
  ASSERT_EQ(c.deltas.size(), 3u);
  EXPECT_EQ(c.deltas[0].bytes, "ab");
  EXPECT_EQ(c.deltas[2].bytes, "21");
  std::vector<Mutation> out;
  c.ToMutations("k", &out);
  ASSERT_EQ(out.size(), 4u);  // the chain, then the expiry
  EXPECT_EQ(out[0].type, MutationType::kAppend);
  EXPECT_EQ(out[1].type, MutationType::kIncrBy);
  EXPECT_EQ(out[1].number, 5);
  EXPECT_EQ(out[2].type, MutationType::kPrepend);
  EXPECT_EQ(out[3].type, MutationType::kExpire);
  std::string base = "x";
  c.ApplyDeltasTo(&base);
  EXPECT_EQ(base, "21xab");  // the INCRBY did not apply to "xab"

  // A kPut makes the base known: the chain is gone and later deltas apply at once.
  c.Add(Put("k", "10"));
  c.Add(IncrBy("k", 5));
  c.Add(Append("k", "!"));
  EXPECT_TRUE(c.deltas.empty());
  EXPECT_EQ(c.value, "15!");
  // After a kDelete a delta finds nothing.
  c.Add(Del("k"));
  c.Add(Append("k", "x"));
  EXPECT_EQ(c.kind, KeyChange::Kind::kDelete);
  EXPECT_TRUE(c.deltas.empty());
}

TEST(ChangeFoldTest, AnExpireAfterAClearIsDropped) {
  ChangeFold fold;
  fold.Add(Put("a", "1"));
  fold.Add(Clear());
  fold.Add(Exp("a", 5));
  fold.Add(Exp("b", 5));
  EXPECT_TRUE(fold.cleared());
  EXPECT_TRUE(fold.keys().empty());
  EXPECT_EQ(fold.records(), 4u);
}

TEST(ChangeFoldTest, ResetForgetsTheLastBatchWhileReusingItsNodes) {
  ChangeFold fold;
  fold.Add(Put("a", "a value longer than the small-string buffer", 900));
  fold.Add(Exp("b", 700));
  fold.Add(Clear());
  fold.Add(Put("z", "another value longer than the small-string buffer", 800));
  fold.Reset();
  EXPECT_FALSE(fold.cleared());
  EXPECT_EQ(fold.records(), 0u);
  EXPECT_TRUE(fold.keys().empty());

  fold.Add(Exp("c", 5));
  fold.Add(Put("d", "v"));
  fold.Add(Exp("e", 6));  // more keys than the nodes kept
  ASSERT_EQ(fold.keys().size(), 3u);
  const KeyChange& c = fold.keys().at("c");
  EXPECT_EQ(c.kind, KeyChange::Kind::kKeep);
  EXPECT_TRUE(c.has_expire);
  EXPECT_EQ(c.expire_ms, 5);
  EXPECT_EQ(c.value, "");
  const KeyChange& d = fold.keys().at("d");
  EXPECT_EQ(d.kind, KeyChange::Kind::kPut);
  EXPECT_EQ(d.value, "v");
  EXPECT_EQ(d.expire_ms, -1);
  EXPECT_EQ(fold.keys().at("e").expire_ms, 6);
}

// ---------------------------------------------------------------------------------
// The three forms agree.

using Base = std::map<std::string, Seen>;

// The base (as the snapshot loads it: at the replay clock), then the records, as
// recovery applies them.
Contents ThroughTable(const Base& base, const std::vector<Mutation>& records, int64_t now) {
  table::Table t;
  for (const auto& [k, v] : base) ApplyToTable(&t, Put(k, v.value, v.expire_ms, v.created_ms));
  for (const Mutation& m : records) ApplyToTable(&t, m);
  t.ReclaimExpired(now, t.Size() + 1);
  return Live(t, now);
}

// As a checkpoint: the records collapsed into one batch (ChangeFold, ToMutations), which
// is then applied to the base.
// `fold` is reused from round to round (Reset), as a checkpoint reuses it from batch to
// batch.
Contents ThroughFold(const Base& base, const std::vector<Mutation>& records, int64_t now,
                     ChangeFold* fold) {
  fold->Reset();
  for (const Mutation& m : records) fold->Add(m);
  std::vector<Mutation> batch;
  ToMutations(*fold, &batch);
  return ThroughTable(base, batch, now);
}

// As memento-dump's overlay: the base's entries through each key's KeyChange, then the
// fold's new keys.
Contents ThroughOverlay(const Base& base, const std::vector<Mutation>& records, int64_t now) {
  ChangeFold fold;
  for (const Mutation& m : records) fold.Add(m);
  Contents out;
  auto keep = [&](const std::string& k, Seen s) {
    if (s.expire_ms == -1 || s.expire_ms > now) out[k] = std::move(s);
  };
  for (const auto& [k, v] : base) {
    if (DeadDuringReplay(v.expire_ms)) continue;  // the snapshot loads at the replay clock
    auto it = fold.keys().find(k);
    if (it == fold.keys().end()) {
      if (!fold.cleared()) keep(k, v);
      continue;
    }
    const KeyChange& c = it->second;
    if (c.kind == KeyChange::Kind::kPut) keep(k, {c.value, c.created_ms, c.expire_ms});
    if (c.kind == KeyChange::Kind::kKeep) {
      std::string value = v.value;
      c.ApplyDeltasTo(&value);  // as storage/dump/dump_source.cc does
      keep(k, {value, v.created_ms, c.has_expire ? c.expire_ms : v.expire_ms});
    }
    fold.keys().erase(it);
  }
  for (const auto& [k, c] : fold.keys()) {
    if (c.kind == KeyChange::Kind::kPut) keep(k, {c.value, c.created_ms, c.expire_ms});
  }
  return out;
}

TEST(ApplyFormsTest, FoldAgreesWithTable) {
  std::mt19937_64 rng(20261203);
  const std::string keys[] = {"a", "b", "c", "d"};
  const std::string values[] = {"x", "yy", "", "12", "-3", "9223372036854775806"};
  const std::string pieces[] = {"p", "qq", ""};
  const int64_t numbers[] = {0, 1, 3, -2, INT64_MAX, INT64_MIN};
  const int64_t expiries[] = {-1, -5, 0, 100, kNow - 1, kNow + 1, kNow + 50'000};
  auto pick = [&](auto& array) -> const auto& {
    return array[rng() % (sizeof(array) / sizeof(array[0]))];
  };
  ChangeFold reused;
  for (int round = 0; round < 6000; ++round) {
    Base base;
    for (const std::string& k : keys) {
      if (rng() % 2 == 0) base[k] = Seen{pick(values), 3, pick(expiries)};
    }
    std::vector<Mutation> records;
    const int n = 1 + static_cast<int>(rng() % 10);
    for (int i = 0; i < n; ++i) {
      const std::string& k = pick(keys);
      switch (rng() % 12) {
        case 0: case 1: case 2: records.push_back(Put(k, pick(values), pick(expiries), 11)); break;
        case 3: case 4: records.push_back(Del(k)); break;
        case 5: case 6: records.push_back(Exp(k, pick(expiries))); break;
        case 7: records.push_back(Append(k, pick(pieces))); break;
        case 8: records.push_back(Prepend(k, pick(pieces))); break;
        case 9: records.push_back(SetRange(k, static_cast<int64_t>(rng() % 4), pick(pieces))); break;
        case 10: records.push_back(IncrBy(k, pick(numbers))); break;
        default: records.push_back(Clear()); break;
      }
    }
    const Contents want = ThroughTable(base, records, kNow);
    ASSERT_EQ(ThroughFold(base, records, kNow, &reused), want) << "round " << round;
    ASSERT_EQ(ThroughOverlay(base, records, kNow), want) << "round " << round;
  }
}

}  // namespace
}  // namespace memento::db
