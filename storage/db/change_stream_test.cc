// The change stream (Db::Subscribe) on a real directory: where a subscriber starts,
// what the checkpoint keeps for it, "too old", several subscribers, and a subscriber
// attached during heavy writes checked against the log itself.
#include "storage/db/change_stream.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "storage/db/db.h"
#include "storage/db/layout.h"
#include "storage/db/recovery.h"

namespace memento::db {
namespace {

// A change as the tests compare it.
struct Seen {
  uint64_t lsn;
  std::string op;
  std::string key;
  std::string value;
  bool operator==(const Seen&) const = default;
};

class ChangeStreamTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = testing::TempDir() + "change_stream_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    subs_.clear();
    if (db_ != nullptr) {
      table_.SetMutationSink(nullptr);
      db_.reset();
    }
    std::filesystem::remove_all(dir_);
  }

  // Opens the Db with small segments (many of them) and, unless told, no retention
  // and fsync=no (the feed is then what write(2) took: fast tests).
  void Open(uint64_t retention_bytes = 0, wal::SyncPolicy fsync = wal::SyncPolicy::kNo) {
    DbOptions o;
    o.data_dir = dir_;
    o.fsync = fsync;
    o.wal_segment_bytes = 2048;
    o.snapshot_interval_s = 0;
    o.snapshot_after_writes = 0;
    o.wal_retention_bytes = retention_bytes;
    Result<std::unique_ptr<Db>> db = Db::Open(std::move(o), &table_, nullptr);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    table_.SetMutationSink(db_.get());
  }

  // One SET, committed as an event loop would (durable before it returns).
  void Set(const std::string& key, const std::string& value) {
    table_.Write(key, NowMillis(), [&](table::Slot& s) { s.Create(NowMillis())->value = value; });
    ASSERT_TRUE(db_->CommitRound().ok());
  }
  void Del(const std::string& key) {
    table_.Write(key, NowMillis(), [&](table::Slot& s) { s.Erase(); });
    ASSERT_TRUE(db_->CommitRound().ok());
  }
  void SetMany(int from, int to) {
    for (int i = from; i < to; ++i) Set("key" + std::to_string(i), "value-" + std::to_string(i));
  }

  Subscription* Subscribe(uint64_t from_lsn) {
    Result<std::unique_ptr<Subscription>> sub = db_->Subscribe(from_lsn);
    EXPECT_TRUE(sub.ok()) << sub.status().ToString();
    if (!sub.ok()) return nullptr;
    subs_.push_back(std::move(*sub));
    return subs_.back().get();
  }

  // Reads at most `max` changes (all there are, by default).
  static std::vector<Seen> Drain(Subscription* sub, size_t max = SIZE_MAX) {
    std::vector<Seen> out;
    while (out.size() < max) {
      Result<size_t> n = sub->Read(std::min<size_t>(max - out.size(), 100), [&](const Change& c) {
        out.push_back({c.lsn, ChangeOpName(c), std::string(c.mutation.key),
                       std::string(c.mutation.value)});
      });
      EXPECT_TRUE(n.ok()) << n.status().ToString();
      if (!n.ok() || *n == 0) break;
    }
    return out;
  }

  static void ExpectConsecutive(const std::vector<Seen>& seen, uint64_t first, uint64_t last) {
    ASSERT_EQ(seen.size(), last - first + 1);
    for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i].lsn, first + i);
  }

  std::string dir_;
  table::Table table_;
  std::unique_ptr<Db> db_;
  std::vector<std::unique_ptr<Subscription>> subs_;
};

TEST_F(ChangeStreamTest, FromZeroGetsEveryChangeInOrder) {
  Open();
  Set("a", "1");
  Set("b", "2");
  Del("a");
  table_.Clear();
  ASSERT_TRUE(db_->CommitRound().ok());
  std::vector<Seen> seen = Drain(Subscribe(0));
  std::vector<Seen> want = {
      {1, "set", "a", "1"}, {2, "set", "b", "2"}, {3, "del", "a", ""}, {4, "flush", "", ""}};
  EXPECT_EQ(seen, want);
}

TEST_F(ChangeStreamTest, FromTheMiddleOfAClosedSegment) {
  Open(/*retention_bytes=*/1 << 20);
  SetMany(0, 300);
  ASSERT_GT(db_->Stats().oldest_lsn, 0u);
  std::vector<Seen> seen = Drain(Subscribe(77));
  ExpectConsecutive(seen, 78, 300);
  EXPECT_EQ(seen.front().key, "key77");
  EXPECT_EQ(seen.back().value, "value-299");
}

TEST_F(ChangeStreamTest, FromTheLiveTailSeesOnlyNewChanges) {
  Open(0, wal::SyncPolicy::kAlways);  // the feed then waits for fdatasync
  SetMany(0, 20);
  Subscription* sub = Subscribe(20);
  EXPECT_TRUE(Drain(sub).empty());
  EXPECT_FALSE(sub->Wait(std::chrono::milliseconds(10)));
  std::thread writer([&] { SetMany(20, 25); });
  EXPECT_TRUE(sub->Wait(std::chrono::seconds(5)));
  writer.join();
  std::vector<Seen> seen = Drain(sub);
  ExpectConsecutive(seen, 21, 25);
  EXPECT_EQ(seen.front().key, "key20");
}

TEST_F(ChangeStreamTest, ACheckpointKeepsTheSegmentsASubscriberStillNeeds) {
  Open(/*retention_bytes=*/0);  // without the subscriber, the checkpoint deletes them
  SetMany(0, 300);
  Subscription* sub = Subscribe(0);
  std::vector<Seen> first = Drain(sub, 10);
  ExpectConsecutive(first, 1, 10);
  ASSERT_TRUE(db_->Checkpoint().ok());
  EXPECT_EQ(db_->Stats().snapshot_lsn, 300u);
  EXPECT_LE(db_->Stats().oldest_lsn, 11u);
  std::vector<Seen> rest = Drain(sub);
  ExpectConsecutive(rest, 11, 300);
  // Once it is gone, the next checkpoint deletes what only it needed.
  subs_.clear();
  ASSERT_TRUE(db_->Checkpoint().ok());
  EXPECT_GT(db_->Stats().oldest_lsn, 200u);
}

TEST_F(ChangeStreamTest, TooOldNamesTheOldestRetainedChange) {
  Open(/*retention_bytes=*/0);
  SetMany(0, 300);
  ASSERT_TRUE(db_->Checkpoint().ok());
  const uint64_t oldest = db_->Stats().oldest_lsn;
  ASSERT_GT(oldest, 2u);
  Result<std::unique_ptr<Subscription>> old = db_->Subscribe(1);
  ASSERT_TRUE(old.status().IsNotFound()) << old.status().ToString();
  EXPECT_EQ(old.status().message(), "from-lsn 1 is older than the oldest retained change " +
                                        std::to_string(oldest));
  // The oldest retained change itself is still there; and from 0 starts there.
  std::vector<Seen> seen = Drain(Subscribe(oldest - 1));
  ExpectConsecutive(seen, oldest, 300);
  EXPECT_EQ(Drain(Subscribe(0)), seen);
  // Past the last change: refused (a resume against another data set?).
  Result<std::unique_ptr<Subscription>> future = db_->Subscribe(301);
  EXPECT_TRUE(future.status().IsInvalidArgument());
  EXPECT_EQ(future.status().message(), "from-lsn 301 is past the last change 300");
}

TEST_F(ChangeStreamTest, RetentionKeepsCoveredSegmentsUpToItsSize) {
  Open(/*retention_bytes=*/8 * 1024);
  SetMany(0, 600);
  ASSERT_TRUE(db_->Checkpoint().ok());
  const uint64_t oldest = db_->Stats().oldest_lsn;
  // Some covered segments went, but at least 8 KiB of log (about 150 records) stayed.
  EXPECT_GT(oldest, 1u);
  EXPECT_LT(oldest, 600u - 100u);
  ExpectConsecutive(Drain(Subscribe(0)), oldest, 600);
  EXPECT_EQ(RemovableUpTo({{1, 1, 100}, {2, 10, 100}, {3, 20, 100}}, 25, UINT64_MAX, 150), 9u);
  EXPECT_EQ(RemovableUpTo({{1, 1, 100}, {2, 10, 100}, {3, 20, 100}}, 25, UINT64_MAX, 0), 25u);
  EXPECT_EQ(RemovableUpTo({{1, 1, 100}, {2, 10, 100}, {3, 20, 100}}, 25, 5, 0), 5u);
  EXPECT_EQ(RemovableUpTo({{1, 1, 100}, {2, 10, 100}}, 25, UINT64_MAX, 1000), 0u);
}

TEST_F(ChangeStreamTest, RetainedSegmentsServeASubscriberAfterARestart) {
  Open(/*retention_bytes=*/1 << 20);
  SetMany(0, 300);
  table_.SetMutationSink(nullptr);
  ASSERT_TRUE(db_->Close().ok());  // a final checkpoint covers all 300
  db_.reset();
  table_.Clear();
  Open(/*retention_bytes=*/1 << 20);
  EXPECT_EQ(db_->Stats().snapshot_lsn, 300u);
  EXPECT_EQ(db_->Stats().oldest_lsn, 1u);
  SetMany(300, 310);
  std::vector<Seen> seen = Drain(Subscribe(0));
  ExpectConsecutive(seen, 1, 310);
  EXPECT_EQ(seen[299], (Seen{300, "set", "key299", "value-299"}));
  EXPECT_EQ(seen[300], (Seen{301, "set", "key300", "value-300"}));
}

TEST_F(ChangeStreamTest, TwoSubscribersAtDifferentSpeeds) {
  Open();
  Subscription* fast = Subscribe(0);
  Subscription* slow = Subscribe(0);
  std::vector<Seen> fast_seen;
  std::vector<Seen> slow_seen;
  for (int round = 0; round < 20; ++round) {
    SetMany(round * 10, round * 10 + 10);
    std::vector<Seen> f = Drain(fast);
    fast_seen.insert(fast_seen.end(), f.begin(), f.end());
    std::vector<Seen> s = Drain(slow, 3);  // falls further behind each round
    slow_seen.insert(slow_seen.end(), s.begin(), s.end());
    ASSERT_EQ(fast->cursor(), static_cast<uint64_t>(round * 10 + 10));
  }
  ASSERT_TRUE(db_->Checkpoint().ok());  // the slow one's segments stay
  std::vector<Seen> s = Drain(slow);
  slow_seen.insert(slow_seen.end(), s.begin(), s.end());
  ExpectConsecutive(fast_seen, 1, 200);
  EXPECT_EQ(slow_seen, fast_seen);
}

TEST_F(ChangeStreamTest, ExpiryIsToldApartFromDel) {
  Open();
  const int64_t now = NowMillis();
  table_.Write("ttl", now, [&](table::Slot& s) {
    s.Create(now)->value = "x";
    s.SetExpire(now + 50);
  });
  Set("gone", "y");
  Del("gone");
  EXPECT_EQ(table_.ReclaimExpired(now + 1000, 100), 1u);  // the background reclaim
  ASSERT_TRUE(db_->CommitRound().ok());
  std::vector<Seen> seen = Drain(Subscribe(0));
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[2], (Seen{3, "del", "gone", ""}));
  EXPECT_EQ(seen[3], (Seen{4, "expired", "ttl", ""}));
}

TEST_F(ChangeStreamTest, ASubscriberAttachedDuringHeavyWritesGetsEachChangeOnceInOrder) {
  Open(/*retention_bytes=*/64 << 20, wal::SyncPolicy::kNo);
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 3000;
  std::atomic<bool> go{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kPerWriter; ++i) {
        Set("w" + std::to_string(w) + ":" + std::to_string(i % 97), std::to_string(i));
        if (i == kPerWriter / 2 && w == 0) (void)db_->Checkpoint();  // a checkpoint too
      }
    });
  }
  go.store(true);
  while (db_->Stats().last_lsn < 2000) std::this_thread::yield();
  Subscription* sub = Subscribe(0);
  std::vector<Seen> seen;
  const uint64_t total = kWriters * kPerWriter;
  while (sub->cursor() < total) {
    std::vector<Seen> got = Drain(sub);
    seen.insert(seen.end(), got.begin(), got.end());
    if (got.empty()) (void)sub->Wait(std::chrono::milliseconds(50));
  }
  for (std::thread& t : writers) t.join();
  ExpectConsecutive(seen, 1, total);

  // Against the log itself: the same records, read back by recovery's reader.
  subs_.clear();
  table_.SetMutationSink(nullptr);
  ASSERT_TRUE(db_->Close(/*final_checkpoint=*/false).ok());
  db_.reset();
  wal::Options o;
  o.dir = WalPath(dir_);
  o.read_only = true;
  std::vector<Seen> log;
  Result<std::unique_ptr<wal::Wal>> wal =
      wal::Wal::Open(o, 0, [&](uint64_t lsn, const storage::Mutation& m) {
        log.push_back({lsn, "set", std::string(m.key), std::string(m.value)});
        return Status::OK();
      });
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  EXPECT_EQ(log, seen);
}

}  // namespace
}  // namespace memento::db
