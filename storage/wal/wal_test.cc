// Tests of the running log: Append, the sync policies, group commit, sticky errors,
// rotation, segment removal and ReadRecords. Faults come from FaultInjectionFileSystem.
// The concurrency tests are meant to run under TSan too.
#include "storage/wal/wal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "storage/wal/fault_injection_fs.h"
#include "storage/wal/wal_format.h"
#include "storage/wal/wal_test_util.h"

namespace memento::wal {
namespace {

using storage::Mutation;
using storage::MutationType;
using namespace testing_util;  // NOLINT: test helpers
using std::chrono::milliseconds;

Mutation PutOf(std::string_view key, std::string_view value) {
  Mutation m;
  m.type = MutationType::kPut;
  m.key = key;
  m.value = value;
  m.created_ms = 1;
  return m;
}

// Polls cond for up to 5 s.
template <typename Cond>
bool Eventually(Cond cond) {
  for (int i = 0; i < 500; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return cond();
}

class WalTest : public testing::Test {
 protected:
  WalTest() : dir_(JoinPath(tmp_.path(), "wal")) {
    options_.dir = dir_;
    options_.fs = &fs_;
    options_.reporter = &reporter_;
    options_.sync_policy = SyncPolicy::kAlways;
    options_.flush_interval = milliseconds(3600 * 1000);  // tests that want it set it
  }

  void Open(uint64_t after_lsn = 0) {
    wal_.reset();
    replayed_.clear();
    Result<std::unique_ptr<Wal>> r =
        Wal::Open(options_, after_lsn, [this](uint64_t lsn, const Mutation& m) {
          replayed_[lsn] = std::string(m.key) + "=" + std::string(m.value);
          return Status::OK();
        });
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    wal_ = std::move(r).value();
  }
  uint64_t Append(std::string_view key, std::string_view value) {
    Result<uint64_t> lsn = wal_->Append(PutOf(key, value));
    EXPECT_TRUE(lsn.ok()) << lsn.status().ToString();
    return lsn.ok() ? *lsn : 0;
  }
  // Append + WaitDurable, both expected to succeed.
  uint64_t Put(std::string_view key, std::string_view value) {
    const uint64_t lsn = Append(key, value);
    const Status s = wal_->WaitDurable(lsn);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return lsn;
  }
  void Close() {
    ASSERT_TRUE(wal_->Close().ok());
    wal_.reset();
  }
  std::string Seg(uint64_t number) const { return JoinPath(dir_, SegmentFileName(number)); }
  std::vector<std::string> Segments() const {
    std::vector<std::string> segs;
    for (const std::string& name : ListDir(dir_)) {
      uint64_t n;
      if (ParseSegmentFileName(name, &n)) segs.push_back(name);
    }
    return segs;
  }

  TempDir tmp_;
  const std::string dir_;
  FaultInjectionFileSystem fs_{PosixFileSystem()};
  CollectingReporter reporter_;
  Options options_;
  std::unique_ptr<Wal> wal_;
  std::map<uint64_t, std::string> replayed_;
};

TEST(WalNamesTest, SegmentFileNames) {
  EXPECT_EQ(SegmentFileName(42), "00000042.wal");
  EXPECT_EQ(SegmentFileName(123456789012), "123456789012.wal");
  uint64_t n = 0;
  EXPECT_TRUE(ParseSegmentFileName("00000042.wal", &n));
  EXPECT_EQ(n, 42u);
  EXPECT_TRUE(ParseSegmentFileName("7.wal", &n));
  EXPECT_EQ(n, 7u);
  for (const char* bad : {"", ".wal", "0.wal", "x1.wal", "1.wal.dropped", "00000001.wal.32.dropped",
                          "1.log", "-1.wal", "99999999999999999999999.wal"}) {
    EXPECT_FALSE(ParseSegmentFileName(bad, &n)) << bad;
  }
  EXPECT_EQ(WalDirectory("./data"), "./data/wal");
}

TEST(WalNamesTest, SyncPolicyNames) {
  for (SyncPolicy p : {SyncPolicy::kAlways, SyncPolicy::kEverySec, SyncPolicy::kNo}) {
    SyncPolicy parsed;
    ASSERT_TRUE(ParseSyncPolicy(SyncPolicyName(p), &parsed));
    EXPECT_EQ(parsed, p);
  }
  SyncPolicy parsed;
  EXPECT_FALSE(ParseSyncPolicy("sometimes", &parsed));
  RecoveryMode mode;
  ASSERT_TRUE(ParseRecoveryMode("truncate", &mode));
  EXPECT_EQ(mode, RecoveryMode::kTruncate);
  ASSERT_TRUE(ParseRecoveryMode(RecoveryModeName(RecoveryMode::kStrict), &mode));
  EXPECT_EQ(mode, RecoveryMode::kStrict);
  EXPECT_FALSE(ParseRecoveryMode("lenient", &mode));
}

TEST_F(WalTest, AppendReturnsConsecutiveLsnsWithoutIo) {
  Open();
  const uint64_t writes = fs_.writes();
  EXPECT_EQ(Append("a", "1"), 1u);
  EXPECT_EQ(Append("b", "2"), 2u);
  Mutation del;
  del.type = MutationType::kDelete;
  del.key = "a";
  EXPECT_EQ(*wal_->Append(del), 3u);
  EXPECT_EQ(fs_.writes(), writes);  // nothing written yet: Append makes no syscall
  EXPECT_EQ(wal_->last_lsn(), 3u);
  EXPECT_EQ(wal_->durable_lsn(), 0u);
}

TEST_F(WalTest, ReopenContinuesLsn) {
  Open();
  Put("a", "1");
  Put("b", "2");
  Close();
  Open();
  EXPECT_EQ(replayed_, (std::map<uint64_t, std::string>{{1, "a=1"}, {2, "b=2"}}));
  EXPECT_EQ(Put("c", "3"), 3u);
  Close();
  Open();
  EXPECT_EQ(replayed_.size(), 3u);
  EXPECT_EQ(replayed_[3], "c=3");
}

TEST_F(WalTest, CloseWritesAndSyncsWhatIsPending) {
  Open();
  Append("a", "1");
  Append("b", "2");
  Close();
  Open();
  EXPECT_EQ(replayed_.size(), 2u);
}

TEST_F(WalTest, AlwaysSyncsBeforeWaitDurableReturns) {
  Open();
  const uint64_t syncs = fs_.syncs();
  const uint64_t lsn = Put("k", "v");
  EXPECT_EQ(fs_.syncs(), syncs + 1);
  EXPECT_EQ(wal_->durable_lsn(), lsn);
  EXPECT_TRUE(wal_->WaitDurable(lsn).ok());  // already durable: no more I/O
  EXPECT_EQ(fs_.syncs(), syncs + 1);
  const WalStats stats = wal_->stats();
  EXPECT_EQ(stats.sync_calls, 1u);
  EXPECT_EQ(stats.write_calls, 1u);
  EXPECT_EQ(stats.records_appended, 1u);
}

TEST_F(WalTest, EverySecWritesBeforeWaitDurableReturnsAndSyncsInTheBackground) {
  options_.sync_policy = SyncPolicy::kEverySec;
  options_.flush_interval = milliseconds(50);
  Open();
  const uint64_t syncs = fs_.syncs();
  const uint64_t size = FileSize(Seg(1));
  const uint64_t lsn = Put("k", "v");
  EXPECT_GT(FileSize(Seg(1)), size);  // write(2) happened before the "reply"
  EXPECT_TRUE(Eventually([&] { return wal_->durable_lsn() >= lsn; }));
  EXPECT_GT(fs_.syncs(), syncs);
}

TEST_F(WalTest, NoPolicyWritesButNeverSyncs) {
  options_.sync_policy = SyncPolicy::kNo;
  options_.flush_interval = milliseconds(10);
  Open();
  const uint64_t syncs = fs_.syncs();
  const uint64_t size = FileSize(Seg(1));
  // Nobody waits for this record: only the background thread can write it.
  const uint64_t lsn = Append("nobody-waits", "for-me");
  ASSERT_TRUE(Eventually([&] { return wal_->stats().written_lsn >= lsn; }));
  EXPECT_GT(FileSize(Seg(1)), size);
  EXPECT_TRUE(Contains(ReadFile(Seg(1)), std::string("nobody-waits\x06" "for-me")));
  // WaitDurable writes before it returns (the bytes are in the file, readable by
  // another process), and does not sync either.
  const uint64_t waited = Put("waited", "on");
  EXPECT_GE(wal_->stats().written_lsn, waited);
  EXPECT_TRUE(Contains(ReadFile(Seg(1)), std::string("waited\x02on")));
  std::this_thread::sleep_for(milliseconds(100));  // ten background ticks
  EXPECT_EQ(fs_.syncs(), syncs);
  EXPECT_EQ(wal_->stats().sync_calls, 0u);
  EXPECT_EQ(wal_->durable_lsn(), 0u);
}

TEST_F(WalTest, BackgroundThreadWritesRecordsNobodyWaitsFor) {
  options_.flush_interval = milliseconds(10);
  Open();
  const uint64_t lsn = Append("expired", "");
  EXPECT_TRUE(Eventually([&] { return wal_->stats().written_lsn >= lsn; }));
}

TEST_F(WalTest, LargePendingBufferWakesTheBackgroundThreadEarly) {
  options_.flush_buffer_bytes = 4096;
  Open();  // flush_interval is an hour: only the early wake-up can write
  const std::string value(1000, 'x');
  uint64_t lsn = 0;
  for (int i = 0; i < 8; ++i) lsn = Append("k", value);
  EXPECT_TRUE(Eventually([&] { return wal_->stats().written_lsn >= 4; }));
  EXPECT_TRUE(wal_->WaitDurable(lsn).ok());
}

TEST_F(WalTest, SyncSyncsWhateverThePolicy) {
  options_.sync_policy = SyncPolicy::kNo;
  Open();
  const uint64_t lsn = Append("k", "v");
  ASSERT_TRUE(wal_->Sync().ok());
  EXPECT_EQ(wal_->durable_lsn(), lsn);
}

TEST_F(WalTest, WaitDurableForAnLsnNotAppendedIsInvalid) {
  Open();
  EXPECT_TRUE(wal_->WaitDurable(5).IsInvalidArgument());
}

TEST_F(WalTest, AppendAfterCloseFails) {
  Open();
  ASSERT_TRUE(wal_->Close().ok());
  EXPECT_FALSE(wal_->Append(PutOf("k", "v")).ok());
  EXPECT_TRUE(wal_->Close().ok());  // idempotent
}

// ---- Failures are sticky and never acknowledged ----

TEST_F(WalTest, WriteFailureIsSticky) {
  Open();
  const uint64_t good = Put("good", "1");
  fs_.FailWrites(ENOSPC, 1, /*partial_bytes=*/7);  // a torn record, then the error
  const uint64_t lsn = Append("bad", "2");
  const Status s = wal_->WaitDurable(lsn);
  ASSERT_TRUE(s.IsIOError());
  EXPECT_TRUE(Contains(s.message(), "No space left on device"));
  EXPECT_TRUE(Contains(s.message(), Seg(1)));
  EXPECT_TRUE(Contains(s.message(), "restart memento"));
  // Sticky: everything after fails, even though the disk "works" again.
  EXPECT_FALSE(wal_->WaitDurable(lsn).ok());
  EXPECT_FALSE(wal_->Append(PutOf("later", "3")).ok());
  EXPECT_FALSE(wal_->Sync().ok());
  EXPECT_FALSE(wal_->error().ok());
  EXPECT_TRUE(wal_->stats().failed);
  EXPECT_TRUE(wal_->WaitDurable(good).ok());  // what was durable stays acknowledged
  EXPECT_FALSE(wal_->Close().ok());
  wal_.reset();
  // The restart truncates the torn record and keeps the good one.
  Open();
  EXPECT_EQ(replayed_, (std::map<uint64_t, std::string>{{1, "good=1"}}));
  ASSERT_EQ(reporter_.drops.size(), 1u);
  EXPECT_EQ(reporter_.drops[0].bytes, 7u);
}

TEST_F(WalTest, SyncFailureIsNeverAcknowledged) {
  Open();
  const uint64_t good = Put("good", "1");
  fs_.FailSyncs(EIO, 1);  // only one failure: a retry would "succeed"
  const uint64_t lsn = Append("bad", "2");
  const Status s = wal_->WaitDurable(lsn);
  ASSERT_TRUE(s.IsIOError());
  EXPECT_TRUE(Contains(s.message(), "Input/output error"));
  EXPECT_TRUE(Contains(s.message(), "never retried"));
  const uint64_t syncs = fs_.syncs();
  EXPECT_FALSE(wal_->WaitDurable(lsn).ok());  // no retry of the fdatasync...
  EXPECT_FALSE(wal_->Sync().ok());
  EXPECT_EQ(fs_.syncs(), syncs);  // ...at all
  EXPECT_FALSE(wal_->Append(PutOf("later", "3")).ok());
  EXPECT_TRUE(wal_->WaitDurable(good).ok());
}

TEST_F(WalTest, BackgroundSyncFailureStopsAcknowledgingWrittenRecords) {
  options_.sync_policy = SyncPolicy::kEverySec;
  options_.flush_interval = milliseconds(20);
  Open();
  fs_.FailSyncs(EIO, 1);
  const uint64_t lsn = Put("k", "v");  // written: acknowledged under everysec
  ASSERT_TRUE(Eventually([&] { return !wal_->error().ok(); }));
  // Written but not durable, and the sync failed: not acknowledged any more.
  EXPECT_FALSE(wal_->WaitDurable(lsn).ok());
  EXPECT_FALSE(wal_->Append(PutOf("k", "v")).ok());
}

TEST_F(WalTest, RotationFailureIsSticky) {
  options_.segment_size = 200;
  Open();
  Put("a", std::string(150, 'x'));
  fs_.FailCreates(ENOSPC);
  const uint64_t lsn = Append("b", std::string(150, 'x'));  // needs a new segment
  EXPECT_TRUE(Contains(wal_->WaitDurable(lsn).message(), "No space left on device"));
  EXPECT_FALSE(wal_->Append(PutOf("c", "")).ok());
}

TEST_F(WalTest, AcknowledgedRecordsSurvivePowerLoss) {
  Open();
  for (int i = 0; i < 10; ++i) Put("k" + std::to_string(i), "v");
  Append("unacknowledged", "v");
  // Power loss: nothing more reaches the disk, then unsynced data vanishes.
  fs_.FailWrites(EIO, 1000);
  fs_.FailSyncs(EIO, 1000);
  wal_.reset();
  ASSERT_TRUE(fs_.DropUnsyncedData().ok());
  fs_.FailWrites(EIO, 0);
  fs_.FailSyncs(EIO, 0);
  Open();
  EXPECT_EQ(replayed_.size(), 10u);
}

// ---- Group commit ----

TEST_F(WalTest, GroupCommitCoversConcurrentAppends) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  fs_.SetSyncDelay(std::chrono::microseconds(500));  // a disk where a sync takes 0.5 ms
  Open();
  const uint64_t syncs_before = fs_.syncs();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string key = "t" + std::to_string(t);
        Result<uint64_t> lsn = wal_->Append(PutOf(key, std::to_string(i)));
        if (!lsn.ok() || !wal_->WaitDurable(*lsn).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  constexpr uint64_t kRecords = kThreads * kPerThread;
  EXPECT_EQ(wal_->durable_lsn(), kRecords);
  const uint64_t syncs = fs_.syncs() - syncs_before;
  // One fdatasync per record would be 1600; group commit needs far fewer.
  EXPECT_LT(syncs, kRecords / 3) << syncs << " syncs for " << kRecords << " records";
  std::printf("group commit: %llu records, %llu fdatasyncs\n",
              static_cast<unsigned long long>(kRecords), static_cast<unsigned long long>(syncs));
  Close();
  // Every record is there once, each thread's in the order it appended them.
  Open();
  ASSERT_EQ(replayed_.size(), kRecords);
  std::map<std::string, int> next;
  for (const auto& [lsn, kv] : replayed_) {
    const std::string key = kv.substr(0, kv.find('='));
    EXPECT_EQ(kv.substr(kv.find('=') + 1), std::to_string(next[key]++));
  }
}

TEST_F(WalTest, ConcurrentAppendersUnderEverySecWithBackgroundSync) {
  options_.sync_policy = SyncPolicy::kEverySec;
  options_.flush_interval = milliseconds(1);
  options_.segment_size = 4096;  // rotations race with background syncs
  Open();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        Result<uint64_t> lsn = wal_->Append(PutOf("key", "a value of some length"));
        ASSERT_TRUE(lsn.ok());
        if (i % 3 == 0) {
          ASSERT_TRUE(wal_->WaitDurable(*lsn).ok());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  Close();
  Open();
  EXPECT_EQ(replayed_.size(), 1200u);
  EXPECT_GT(Segments().size(), 3u);
}

// ---- Segments: rotation, removal, reading for the checkpointer ----

TEST_F(WalTest, RotationAtSegmentSize) {
  options_.segment_size = 1024;
  Open();
  const std::string value(100, 'v');
  for (int i = 0; i < 100; ++i) Put("k" + std::to_string(i), value);
  const std::vector<std::string> segments = Segments();
  // About 120 bytes per record, 8 per segment.
  EXPECT_GE(segments.size(), 10u);
  for (const std::string& name : segments) {
    EXPECT_LE(FileSize(JoinPath(dir_, name)), options_.segment_size) << name;
  }
  EXPECT_EQ(wal_->stats().segments, segments.size());
  Close();
  Open();
  ASSERT_EQ(replayed_.size(), 100u);
  EXPECT_EQ(replayed_[100], "k99=" + value);
}

TEST_F(WalTest, OneRecordLargerThanASegmentGetsItsOwn) {
  options_.segment_size = 256;
  Open();
  Put("small", "x");
  Put("big", std::string(1000, 'b'));
  Put("small2", "y");
  Close();
  Open();
  EXPECT_EQ(replayed_.size(), 3u);
  EXPECT_EQ(replayed_[2].size(), 1004u);
}

TEST_F(WalTest, RemoveSegmentsUpTo) {
  options_.segment_size = 512;
  Open();
  for (int i = 1; i <= 40; ++i) Put("k" + std::to_string(i), std::string(60, 'v'));
  const size_t before = Segments().size();
  ASSERT_GT(before, 4u);

  ASSERT_TRUE(wal_->RemoveSegmentsUpTo(20).ok());  // a snapshot covers LSN 1..20
  const std::vector<std::string> after = Segments();
  EXPECT_LT(after.size(), before);
  EXPECT_EQ(wal_->stats().segments, after.size());
  Close();
  // Everything after the snapshot is still there; the oldest segment left may hold a
  // few records the snapshot already has.
  Open(/*after_lsn=*/20);
  EXPECT_EQ(replayed_.size(), 20u);
  EXPECT_EQ(replayed_.begin()->first, 21u);

  // Covering everything still keeps the segment being written.
  ASSERT_TRUE(wal_->RemoveSegmentsUpTo(1000).ok());
  EXPECT_EQ(Segments().size(), 1u);
  EXPECT_EQ(Put("k41", "v"), 41u);
  Close();
  Open(/*after_lsn=*/40);
  EXPECT_EQ(replayed_, (std::map<uint64_t, std::string>{{41, "k41=v"}}));
}

TEST_F(WalTest, ReadRecordsForTheCheckpointer) {
  options_.segment_size = 512;
  Open();
  for (int i = 1; i <= 30; ++i) Put("k" + std::to_string(i), std::to_string(i));
  std::vector<uint64_t> seen;
  ASSERT_TRUE(wal_->ReadRecords(10, 25, [&](uint64_t lsn, const Mutation& m) {
                    EXPECT_EQ(m.key, "k" + std::to_string(lsn));
                    seen.push_back(lsn);
                    return Status::OK();
                  })
                  .ok());
  ASSERT_EQ(seen.size(), 15u);
  EXPECT_EQ(seen.front(), 11u);
  EXPECT_EQ(seen.back(), 25u);
  // Records not written yet are not read.
  Append("pending", "");
  seen.clear();
  ASSERT_TRUE(wal_->ReadRecords(28, 1000, [&](uint64_t lsn, const Mutation&) {
                    seen.push_back(lsn);
                    return Status::OK();
                  })
                  .ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{29, 30}));
}

TEST_F(WalTest, ReadRecordsWhileAppending) {
  options_.segment_size = 2048;
  options_.sync_policy = SyncPolicy::kEverySec;
  options_.flush_interval = milliseconds(1);
  Open();
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 2000; ++i) {
      Result<uint64_t> lsn = wal_->Append(PutOf("k", std::to_string(i)));
      ASSERT_TRUE(lsn.ok());
      ASSERT_TRUE(wal_->WaitDurable(*lsn).ok());
    }
    done = true;
  });
  uint64_t applied = 0;  // what the "snapshot" has
  while (!done || applied < 2000) {
    const uint64_t target = wal_->stats().written_lsn;
    const Status s = wal_->ReadRecords(applied, target, [&](uint64_t lsn, const Mutation& m) {
      EXPECT_EQ(lsn, applied + 1);
      EXPECT_EQ(m.value, std::to_string(lsn - 1));
      applied = lsn;
      return Status::OK();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(applied, target);
    ASSERT_TRUE(wal_->RemoveSegmentsUpTo(applied).ok());
  }
  writer.join();
  EXPECT_EQ(applied, 2000u);
}

// ---- Units (AppendUnit): several changes, one record, all or nothing ----

struct Change {
  uint64_t lsn;
  std::string what;
  bool operator==(const Change&) const = default;
};

// Opens the log in dir (recovering it; read_only: changing nothing, no fsync) and
// returns every change replayed.
std::vector<Change> Recover(const std::string& dir, CollectingReporter* reporter,
                            bool read_only = false) {
  Options options;
  options.dir = dir;
  options.reporter = reporter;
  options.read_only = read_only;
  std::vector<Change> out;
  Result<std::unique_ptr<Wal>> wal = Wal::Open(options, 0, [&](uint64_t lsn, const Mutation& m) {
    out.push_back({lsn, std::to_string(static_cast<int>(m.type)) + ":" + std::string(m.key) +
                            "=" + std::string(m.value)});
    return Status::OK();
  });
  EXPECT_TRUE(wal.ok()) << wal.status().ToString();
  return out;
}

TEST(WalUnitTest, AUnitIsOneRecordWithOneLsnReplayedInOrder) {
  TempDir tmp;
  const std::string dir = JoinPath(tmp.path(), "wal");
  {
    Options options;
    options.dir = dir;
    Result<std::unique_ptr<Wal>> wal = Wal::Open(options, 0, nullptr);
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    Mutation unit[3] = {PutOf("a", "1"), PutOf("b", "2"), PutOf("a", "3")};
    unit[2].type = MutationType::kAppend;
    Result<uint64_t> lsn = (*wal)->AppendUnit(unit);
    ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
    EXPECT_EQ(*lsn, 1u);
    EXPECT_EQ(*(*wal)->Append(PutOf("c", "4")), 2u);
    EXPECT_TRUE((*wal)->AppendUnit({}).status().IsInvalidArgument());
    // ReadRecords (the checkpointer's, a subscriber's) sees the unit whole too.
    ASSERT_TRUE((*wal)->Sync().ok());
    std::vector<uint64_t> lsns;
    ASSERT_TRUE((*wal)->ReadRecords(0, 2, [&](uint64_t l, const Mutation&) {
                  lsns.push_back(l);
                  return Status::OK();
                }).ok());
    EXPECT_EQ(lsns, (std::vector<uint64_t>{1, 1, 1, 2}));
    ASSERT_TRUE((*wal)->Close().ok());
  }
  CollectingReporter reporter;
  EXPECT_EQ(Recover(dir, &reporter),
            (std::vector<Change>{{1, "1:a=1"}, {1, "1:b=2"}, {1, "5:a=3"}, {2, "1:c=4"}}));
}

// A crash while a unit was being written can leave any prefix of its bytes: at every
// one, recovery replays the records before it and none of the unit's changes.
TEST(WalUnitTest, AUnitTornAtTheTailIsDroppedWholeAtEveryTruncationPoint) {
  TempDir tmp;
  const std::string dir = JoinPath(tmp.path(), "wal");
  const std::string segment = JoinPath(dir, SegmentFileName(1));
  {
    Options options;
    options.dir = dir;
    Result<std::unique_ptr<Wal>> wal = Wal::Open(options, 0, nullptr);
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    ASSERT_TRUE((*wal)->Append(PutOf("before", "x")).ok());
    const std::string big(300, 'v');  // lengths of two varint bytes inside the unit
    Mutation unit[4] = {PutOf("a", "1"), PutOf("b", big), PutOf("c", "3"), PutOf("d", "4")};
    unit[2].type = MutationType::kAppend;
    unit[3].type = MutationType::kDelete;
    unit[3].value = {};
    ASSERT_TRUE((*wal)->AppendUnit(unit).ok());
    ASSERT_TRUE((*wal)->Close().ok());
  }
  const std::string full = ReadFile(segment);
  const std::vector<uint64_t> offsets = RecordOffsets(segment);
  ASSERT_EQ(offsets.size(), 2u);
  const uint64_t unit_at = offsets[1];
  const std::vector<Change> before = {{1, "1:before=x"}};
  for (uint64_t cut = unit_at; cut < full.size(); ++cut) {
    TempDir case_tmp;
    const std::string case_dir = JoinPath(case_tmp.path(), "wal");
    ASSERT_TRUE(std::filesystem::create_directory(case_dir));
    WriteFile(JoinPath(case_dir, SegmentFileName(1)), std::string_view(full).substr(0, cut));
    CollectingReporter reporter;
    ASSERT_EQ(Recover(case_dir, &reporter, /*read_only=*/true), before) << "cut at " << cut;
    // A start-up (not read-only) truncates the torn bytes and reports them; checked at
    // a few cuts (each start-up fsyncs): in the count, in a change, one byte short.
    if (cut == unit_at + 1 || cut == unit_at + kRecordHeaderSize + 40 || cut == full.size() - 1) {
      CollectingReporter startup;
      ASSERT_EQ(Recover(case_dir, &startup), before) << "cut at " << cut;
      EXPECT_EQ(startup.drops.size(), 1u) << cut;
      EXPECT_EQ(FileSize(JoinPath(case_dir, SegmentFileName(1))), unit_at) << cut;
      EXPECT_EQ(Recover(case_dir, &reporter), before) << "cut at " << cut;  // and stays so
    }
  }
  // And the whole unit is replayed whole.
  TempDir case_tmp;
  const std::string case_dir = JoinPath(case_tmp.path(), "wal");
  ASSERT_TRUE(std::filesystem::create_directory(case_dir));
  WriteFile(JoinPath(case_dir, SegmentFileName(1)), full);
  CollectingReporter reporter;
  const std::vector<Change> all = Recover(case_dir, &reporter);
  ASSERT_EQ(all.size(), 5u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_EQ(all[i].lsn, 2u);
}

}  // namespace
}  // namespace memento::wal
