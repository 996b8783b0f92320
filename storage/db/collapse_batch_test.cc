// Unit tests of the checkpoint batch rewrite (CollapseBatch, over ChangeFold). The Db as
// a whole (recovery, crashes, checkpoints) is tested end to end in
// tests/e2e/durability_test.cc; recovery alone in recovery_test.cc.

#include "storage/db/apply.h"

#include <gtest/gtest.h>

namespace memento::db {
namespace {

using storage::MutationType;

OwnedMutation Put(std::string key, std::string value, int64_t expire = -1) {
  return {MutationType::kPut, std::move(key), std::move(value), 1, expire};
}
OwnedMutation Del(std::string key) { return {MutationType::kDelete, std::move(key), "", 0, -1}; }
OwnedMutation Exp(std::string key, int64_t expire) {
  return {MutationType::kExpire, std::move(key), "", 0, expire};
}
OwnedMutation Clear() { return {MutationType::kClear, "", "", 0, -1}; }

std::string Show(const std::vector<OwnedMutation>& batch) {
  std::string out;
  for (const OwnedMutation& m : batch) {
    switch (m.type) {
      case MutationType::kPut: out += "put:" + m.key + "=" + m.value + "@" + std::to_string(m.expire_ms); break;
      case MutationType::kDelete: out += "del:" + m.key; break;
      case MutationType::kExpire: out += "exp:" + m.key + "@" + std::to_string(m.expire_ms); break;
      case MutationType::kClear: out += "clear"; break;
      case MutationType::kAppend: out += "append:" + m.key + "+" + m.value; break;
      case MutationType::kPrepend: out += "prepend:" + m.key + "+" + m.value; break;
      case MutationType::kSetRange:
        out += "setrange:" + m.key + "@" + std::to_string(m.number) + "=" + m.value;
        break;
      case MutationType::kIncrBy: out += "incrby:" + m.key + "+" + std::to_string(m.number); break;
    }
    out += " ";
  }
  return out;
}

TEST(CollapseBatchTest, KeepsTheLastStatePerKeyInKeyOrder) {
  std::vector<OwnedMutation> batch = {Put("b", "1"), Put("a", "1"), Put("b", "2"), Del("a"),
                                      Put("c", "x")};
  CollapseBatch(&batch);
  EXPECT_EQ(Show(batch), "del:a put:b=2@-1 put:c=x@-1 ");
}

TEST(CollapseBatchTest, ExpireFoldsIntoAnEarlierPut) {
  std::vector<OwnedMutation> batch = {Put("k", "v"), Exp("k", 500), Exp("j", 700), Exp("j", 800)};
  CollapseBatch(&batch);
  EXPECT_EQ(Show(batch), "exp:j@800 put:k=v@500 ");
}

TEST(CollapseBatchTest, ExpireAfterDeleteChangesNothing) {
  std::vector<OwnedMutation> batch = {Del("k"), Exp("k", 500)};
  CollapseBatch(&batch);
  EXPECT_EQ(Show(batch), "del:k ");
}

TEST(CollapseBatchTest, ClearDropsEverythingBeforeItAndComesFirst) {
  std::vector<OwnedMutation> batch = {Put("a", "1"), Clear(), Put("z", "2"), Clear(), Put("b", "3")};
  CollapseBatch(&batch);
  EXPECT_EQ(Show(batch), "clear put:b=3@-1 ");
}

// A key the snapshot holds, appended to over and over: the batch keeps the change
// (one append of the joined bytes), not the value, and a later kPut replaces it.
TEST(CollapseBatchTest, DeltasOverTheSnapshotStayDeltasAndMerge) {
  std::vector<OwnedMutation> batch;
  for (int i = 0; i < 100; ++i) batch.push_back({MutationType::kAppend, "k", "x", 0, -1});
  batch.push_back({MutationType::kIncrBy, "n", "", 0, -1, 5});
  batch.push_back({MutationType::kSetRange, "n", "7", 0, -1, 0});
  batch.push_back({MutationType::kAppend, "p", "x", 0, -1});
  batch.push_back(Put("p", "v"));
  batch.push_back({MutationType::kAppend, "p", "w", 0, -1});
  CollapseBatch(&batch);
  EXPECT_EQ(Show(batch), "append:k+" + std::string(100, 'x') +
                             " incrby:n+5 setrange:n@0=7 put:p=vw@-1 ");
}

}  // namespace
}  // namespace memento::db
