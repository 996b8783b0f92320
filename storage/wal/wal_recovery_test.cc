// Tests of Wal::Open's recovery: one test per finding in the recovery table of
// docs/formats/wal.md, on real files in a temporary directory, damaged with the small
// verbs of wal_test_util.h.
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "common/coding.h"
#include "storage/wal/fault_injection_fs.h"
#include "storage/wal/log_writer.h"
#include "storage/wal/mutation_codec.h"
#include "storage/wal/wal.h"
#include "storage/wal/wal_format.h"
#include "storage/wal/wal_test_util.h"

namespace memento::wal {
namespace {

using storage::Mutation;
using storage::MutationType;
using namespace testing_util;  // NOLINT: test helpers

std::string Describe(uint64_t lsn, const Mutation& m) {
  return std::to_string(lsn) + " " + std::string(m.key) + "=" + std::string(m.value);
}

Mutation PutOf(std::string_view key, std::string_view value) {
  Mutation m;
  m.type = MutationType::kPut;
  m.key = key;
  m.value = value;
  m.created_ms = 1;
  return m;
}

class WalRecoveryTest : public testing::Test {
 protected:
  WalRecoveryTest() : dir_(JoinPath(tmp_.path(), "wal")) {}

  Options Opts() {
    Options o;
    o.dir = dir_;
    o.fs = &fs_;
    o.reporter = &reporter_;
    o.sync_policy = SyncPolicy::kAlways;
    o.recovery_mode = mode_;
    o.read_only = read_only_;
    return o;
  }
  // Opens (recovering) the log; replayed_ gets "lsn key=value" per replayed record.
  Status Open(uint64_t after_lsn = 0) {
    wal_.reset();
    replayed_.clear();
    reporter_.drops.clear();
    Result<std::unique_ptr<Wal>> r =
        Wal::Open(Opts(), after_lsn, [this](uint64_t lsn, const Mutation& m) {
          replayed_.push_back(Describe(lsn, m));
          return Status::OK();
        });
    if (!r.ok()) return r.status();
    wal_ = std::move(r).value();
    return Status::OK();
  }
  // Appends and waits; returns the LSN (0 on failure).
  uint64_t Put(std::string_view key, std::string_view value) {
    Result<uint64_t> lsn = wal_->Append(PutOf(key, value));
    if (!lsn.ok()) {
      ADD_FAILURE() << lsn.status().ToString();
      return 0;
    }
    EXPECT_TRUE(wal_->WaitDurable(*lsn).ok());
    return *lsn;
  }
  void Close() {
    ASSERT_TRUE(wal_->Close().ok());
    wal_.reset();
  }
  // A fresh log with `n` records k1=v1..kn=vn in segment 1, closed.
  void WriteRecords(int n) {
    ASSERT_TRUE(Open().ok());
    for (int i = 1; i <= n; ++i) Put("k" + std::to_string(i), "value" + std::to_string(i));
    Close();
  }
  // Three closed sessions of `per` records each: segments 1, 2, 3.
  void WriteThreeSegments(int per) {
    int k = 0;
    for (int s = 0; s < 3; ++s) {
      ASSERT_TRUE(Open().ok());
      for (int i = 0; i < per; ++i, ++k) Put("k" + std::to_string(k), "v");
      Close();
    }
  }
  std::string Seg(uint64_t number) const { return JoinPath(dir_, SegmentFileName(number)); }
  std::vector<std::string> Expected(uint64_t from, uint64_t to) const {
    std::vector<std::string> v;
    for (uint64_t lsn = from; lsn <= to; ++lsn) {
      v.push_back(std::to_string(lsn) + " k" + std::to_string(lsn) + "=value" +
                  std::to_string(lsn));
    }
    return v;
  }
  // A segment file built by hand: header, then one record per LSN (valid checksums).
  void BuildSegment(uint64_t number, uint64_t first_lsn, const std::vector<uint64_t>& lsns) {
    std::string bytes;
    EncodeSegmentHeader(SegmentHeader{kFormatVersion, number, first_lsn}, &bytes);
    for (uint64_t lsn : lsns) {
      const std::string key = "k" + std::to_string(lsn);
      const std::string value = "value" + std::to_string(lsn);
      std::string payload;
      EncodeMutation(PutOf(key, value), &payload);
      AppendRecord(&bytes, lsn, RecordType::kMutation, payload);
    }
    std::filesystem::create_directories(dir_);
    WriteFile(Seg(number), bytes);
  }

  TempDir tmp_;
  const std::string dir_;
  FaultInjectionFileSystem fs_{PosixFileSystem()};
  CollectingReporter reporter_;
  RecoveryMode mode_ = RecoveryMode::kStrict;
  bool read_only_ = false;
  std::unique_ptr<Wal> wal_;
  std::vector<std::string> replayed_;
};

TEST_F(WalRecoveryTest, EmptyDirectoryStartsAtLsnOne) {
  ASSERT_TRUE(Open().ok());
  EXPECT_TRUE(replayed_.empty());
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{"00000001.wal"});
  EXPECT_EQ(FileSize(Seg(1)), kSegmentHeaderSize);
  EXPECT_EQ(Put("k", "v"), 1u);
}

TEST_F(WalRecoveryTest, ReopenReplaysEverythingInOrder) {
  WriteRecords(5);
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(replayed_, Expected(1, 5));
  EXPECT_TRUE(reporter_.drops.empty());
}

TEST_F(WalRecoveryTest, ReplaySkipsRecordsCoveredBySnapshot) {
  WriteRecords(5);
  ASSERT_TRUE(Open(/*after_lsn=*/3).ok());
  EXPECT_EQ(replayed_, Expected(4, 5));
  EXPECT_EQ(Put("k6", "value6"), 6u);
}

TEST_F(WalRecoveryTest, EmptySegmentsDoNotAccumulate) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Open().ok());
    Close();
  }
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{"00000001.wal"});
}

TEST_F(WalRecoveryTest, UnknownFilesAreIgnored) {
  WriteRecords(1);
  WriteFile(JoinPath(dir_, "README"), "notes");
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(replayed_, Expected(1, 1));
  EXPECT_TRUE(Exists(JoinPath(dir_, "README")));
}

TEST_F(WalRecoveryTest, ReplayErrorStopsOpen) {
  WriteRecords(2);
  Result<std::unique_ptr<Wal>> r = Wal::Open(Opts(), 0, [](uint64_t lsn, const Mutation&) {
    return lsn == 2 ? Status::InvalidArgument("cannot apply") : Status::OK();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
}

// ---- Torn tails: truncated with a report, start-up goes on ----

TEST_F(WalRecoveryTest, TornTailIsTruncatedAtEveryOffset) {
  WriteRecords(5);
  const std::string original = ReadFile(Seg(1));
  const std::vector<uint64_t> offsets = RecordOffsets(Seg(1));
  ASSERT_EQ(offsets.size(), 5u);
  // Every cut inside the last three records.
  for (uint64_t cut = offsets[2] + 1; cut < original.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    WriteFile(Seg(1), std::string_view(original).substr(0, cut));
    size_t whole = 0;  // records wholly before the cut
    while (whole < offsets.size() &&
           (whole + 1 < offsets.size() ? offsets[whole + 1] : original.size()) <= cut) {
      ++whole;
    }
    const uint64_t kept = whole < offsets.size() ? offsets[whole] : original.size();

    ASSERT_TRUE(Open().ok());
    EXPECT_EQ(replayed_, Expected(1, whole));
    if (kept == cut) {
      EXPECT_TRUE(reporter_.drops.empty());  // a cut between records is a clean end
    } else {
      ASSERT_EQ(reporter_.drops.size(), 1u);
      EXPECT_EQ(reporter_.drops[0].file, Seg(1));
      EXPECT_EQ(reporter_.drops[0].offset, kept);
      EXPECT_EQ(reporter_.drops[0].bytes, cut - kept);
      EXPECT_TRUE(Contains(reporter_.drops[0].reason, "torn write"));
    }
    EXPECT_EQ(FileSize(Seg(1)), kept);
    EXPECT_EQ(Put("k" + std::to_string(whole + 1), "value" + std::to_string(whole + 1)),
              whole + 1);
    Close();
    // The truncation stuck: the next start is clean and sees the new record.
    ASSERT_TRUE(Open().ok());
    EXPECT_TRUE(reporter_.drops.empty());
    EXPECT_EQ(replayed_, Expected(1, whole + 1));
    Close();
  }
}

TEST_F(WalRecoveryTest, BadCrcOfLastRecordIsTruncated) {
  WriteRecords(3);
  const std::vector<uint64_t> offsets = RecordOffsets(Seg(1));
  IncrementByte(Seg(1), offsets[2] + kRecordHeaderSize + 1, 1);
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(replayed_, Expected(1, 2));
  ASSERT_EQ(reporter_.drops.size(), 1u);
  EXPECT_EQ(reporter_.drops[0].offset, offsets[2]);
  EXPECT_TRUE(Contains(reporter_.drops[0].reason, "checksum mismatch"));
  EXPECT_EQ(FileSize(Seg(1)), offsets[2]);
}

TEST_F(WalRecoveryTest, ZeroBytesAppended) {
  WriteRecords(3);
  const uint64_t size = FileSize(Seg(1));
  AppendBytes(Seg(1), std::string(4096, '\0'));
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(replayed_, Expected(1, 3));
  ASSERT_EQ(reporter_.drops.size(), 1u);
  EXPECT_EQ(reporter_.drops[0].offset, size);
  EXPECT_EQ(reporter_.drops[0].bytes, 4096u);
  EXPECT_EQ(FileSize(Seg(1)), size);
}

TEST_F(WalRecoveryTest, GarbageAppended) {
  WriteRecords(3);
  const uint64_t size = FileSize(Seg(1));
  std::mt19937 rng(7);
  std::string garbage(10000, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  AppendBytes(Seg(1), garbage);
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(replayed_, Expected(1, 3));
  ASSERT_EQ(reporter_.drops.size(), 1u);
  EXPECT_EQ(reporter_.drops[0].offset, size);
  EXPECT_EQ(reporter_.drops[0].bytes, garbage.size());
  EXPECT_EQ(FileSize(Seg(1)), size);
}

TEST_F(WalRecoveryTest, TornHeaderOfNewestSegmentIsRemoved) {
  WriteRecords(2);
  std::string header;
  EncodeSegmentHeader(SegmentHeader{kFormatVersion, 2, 3}, &header);
  WriteFile(Seg(2), header.substr(0, 10));  // crashed while creating segment 2
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(replayed_, Expected(1, 2));
  ASSERT_EQ(reporter_.drops.size(), 1u);
  EXPECT_EQ(reporter_.drops[0].file, Seg(2));
  EXPECT_EQ(reporter_.drops[0].bytes, 10u);
  EXPECT_EQ(FileSize(Seg(2)), kSegmentHeaderSize);  // recreated whole
  EXPECT_EQ(Put("k3", "value3"), 3u);
}

TEST_F(WalRecoveryTest, TornFirstRecordOfNewestSegmentLeavesNoEmptySegment) {
  WriteThreeSegments(1);
  ShrinkTo(Seg(3), FileSize(Seg(3)) - 5);  // segment 3's only record is torn
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(replayed_.size(), 2u);
  EXPECT_EQ(reporter_.drops.size(), 1u);
  // Segment 3 had nothing left: it was replaced by the new segment, not kept empty.
  EXPECT_EQ(ListDir(dir_),
            (std::vector<std::string>{"00000001.wal", "00000002.wal", "00000003.wal"}));
  EXPECT_EQ(FileSize(Seg(3)), kSegmentHeaderSize);
  EXPECT_EQ(Put("k", "v"), 3u);
}

TEST_F(WalRecoveryTest, ZeroFilledNewestSegmentIsRemoved) {
  WriteRecords(2);
  WriteFile(Seg(2), std::string(4096, '\0'));
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(replayed_, Expected(1, 2));
  ASSERT_EQ(reporter_.drops.size(), 1u);
  EXPECT_TRUE(Contains(reporter_.drops[0].reason, "bad magic"));
}

// ---- Damage in the middle: start-up stops (strict) ----

TEST_F(WalRecoveryTest, BadCrcInMiddleIsError) {
  WriteRecords(5);
  const std::vector<uint64_t> offsets = RecordOffsets(Seg(1));
  IncrementByte(Seg(1), offsets[1] + kRecordHeaderSize + 2, 1);
  const std::string before = ReadFile(Seg(1));
  const Status s = Open();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), Seg(1) + " at offset " + std::to_string(offsets[1])));
  EXPECT_TRUE(Contains(s.message(), "checksum mismatch"));
  EXPECT_TRUE(Contains(s.message(), "valid record follows at offset " + std::to_string(offsets[2])));
  EXPECT_TRUE(Contains(s.message(), "--wal-recovery=truncate"));
  EXPECT_EQ(ReadFile(Seg(1)), before);  // strict mode changes nothing
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{"00000001.wal"});
}

TEST_F(WalRecoveryTest, DamageAtTheEndOfAnOlderSegmentIsError) {
  WriteThreeSegments(2);
  const std::vector<uint64_t> offsets = RecordOffsets(Seg(1));
  IncrementByte(Seg(1), offsets.back() + kRecordHeaderSize, 1);
  const Status s = Open();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), Seg(1) + " at offset " + std::to_string(offsets.back())));
}

TEST_F(WalRecoveryTest, TruncatedOlderSegmentIsError) {
  WriteThreeSegments(2);
  ShrinkTo(Seg(2), FileSize(Seg(2)) - 3);
  const Status s = Open();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), Seg(2)));
  EXPECT_TRUE(Contains(s.message(), "cut short"));
}

TEST_F(WalRecoveryTest, GapInLsnIsError) {
  BuildSegment(1, 1, {1, 2, 4});  // a whole, checksummed record with the wrong LSN
  const Status s = Open();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "has LSN 4, expected 3"));
}

TEST_F(WalRecoveryTest, GapInLsnBetweenSegmentsIsError) {
  BuildSegment(1, 1, {1, 2, 3});
  BuildSegment(2, 5, {5, 6});
  const Status s = Open();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), Seg(2) + " at offset 0: gap in LSNs"));
  EXPECT_TRUE(Contains(s.message(), "ends at LSN 3, this one starts at LSN 5"));
}

TEST_F(WalRecoveryTest, MissingSegmentIsError) {
  WriteThreeSegments(2);
  std::filesystem::remove(Seg(2));
  const Status s = Open();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "segment 00000002.wal is missing"));
  EXPECT_TRUE(Contains(s.message(), "--wal-recovery=truncate"));
}

TEST_F(WalRecoveryTest, LogStartingAfterTheSnapshotIsError) {
  WriteThreeSegments(2);  // LSNs 1-2, 3-4, 5-6
  std::filesystem::remove(Seg(1));
  Status s = Open(/*after_lsn=*/0);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "records 1 to 2 are missing"));
  // A snapshot that covers segment 1 needs nothing from it.
  ASSERT_TRUE(Open(/*after_lsn=*/2).ok());
  EXPECT_EQ(replayed_.size(), 4u);
}

TEST_F(WalRecoveryTest, MissingSegmentCoveredBySnapshotIsFine) {
  WriteThreeSegments(2);
  std::filesystem::remove(Seg(1));
  std::filesystem::remove(Seg(2));
  ASSERT_TRUE(Open(/*after_lsn=*/4).ok());
  EXPECT_EQ(replayed_.size(), 2u);
}

TEST_F(WalRecoveryTest, NewerVersionIsNotSupportedEvenInTruncateMode) {
  WriteRecords(1);
  std::string bytes = ReadFile(Seg(1));
  EncodeFixed32(bytes.data() + kHeaderVersionOffset, kFormatVersion + 1);
  EncodeFixed32(bytes.data() + kHeaderCrcOffset,
                crc32c::Mask(crc32c::Value(bytes.data(), kHeaderCrcOffset)));
  WriteFile(Seg(1), bytes);
  mode_ = RecoveryMode::kTruncate;
  const Status s = Open();
  EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
  EXPECT_EQ(ReadFile(Seg(1)), bytes);
}

// ---- Repair: RecoveryMode::kTruncate keeps the valid prefix ----

TEST_F(WalRecoveryTest, FlippedByteInMiddleRepairKeepsThePrefix) {
  WriteRecords(5);
  const std::string original = ReadFile(Seg(1));
  const std::vector<uint64_t> offsets = RecordOffsets(Seg(1));
  IncrementByte(Seg(1), offsets[1] + kRecordHeaderSize + 2, 1);
  const std::string damaged = ReadFile(Seg(1));
  ASSERT_TRUE(Open().IsCorruption());

  mode_ = RecoveryMode::kTruncate;
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(replayed_, Expected(1, 1));
  ASSERT_EQ(reporter_.drops.size(), 1u);
  EXPECT_EQ(reporter_.drops[0].offset, offsets[1]);
  EXPECT_EQ(reporter_.drops[0].bytes, original.size() - offsets[1]);
  EXPECT_EQ(FileSize(Seg(1)), offsets[1]);
  // What was lost, for the operator: the damaged record (LSN 2) and the three after it.
  const RecoveryDrop& drop = wal_->recovery_drop();
  EXPECT_TRUE(drop.truncated);
  EXPECT_EQ(drop.first_lsn, 2u);
  EXPECT_EQ(drop.last_lsn, 5u);
  EXPECT_EQ(drop.records(), 4u);
  EXPECT_EQ(drop.bytes, original.size() - offsets[1]);
  EXPECT_TRUE(Contains(drop.damage, Seg(1) + " at offset " + std::to_string(offsets[1])));
  // The cut bytes are kept for forensics, not deleted.
  const std::string saved = Seg(1) + "." + std::to_string(offsets[1]) + ".dropped";
  EXPECT_EQ(ReadFile(saved), damaged.substr(offsets[1]));
  EXPECT_EQ(Put("k2", "value2"), 2u);
  Close();

  mode_ = RecoveryMode::kStrict;
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(replayed_, Expected(1, 2));
}

TEST_F(WalRecoveryTest, MissingSegmentRepairSetsTheRestAside) {
  WriteThreeSegments(2);
  std::filesystem::remove(Seg(2));
  mode_ = RecoveryMode::kTruncate;
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(replayed_.size(), 2u);  // segment 1 only
  ASSERT_EQ(reporter_.drops.size(), 1u);
  EXPECT_EQ(reporter_.drops[0].file, Seg(3));
  EXPECT_TRUE(Exists(Seg(3) + ".0.dropped"));
  // LSNs 3-4 were in the missing segment, 5-6 in the one set aside.
  EXPECT_EQ(wal_->recovery_drop().first_lsn, 3u);
  EXPECT_EQ(wal_->recovery_drop().last_lsn, 6u);
  EXPECT_EQ(Put("k", "v"), 3u);
  EXPECT_EQ(ListDir(dir_),
            (std::vector<std::string>{"00000001.wal", "00000002.wal", "00000003.wal.0.dropped"}));
}

TEST_F(WalRecoveryTest, DamageInOlderSegmentRepairDropsLaterSegments) {
  WriteThreeSegments(2);
  const std::vector<uint64_t> offsets = RecordOffsets(Seg(2));
  IncrementByte(Seg(2), offsets[1] + kRecordHeaderSize, 1);  // segment 2, 2nd record (LSN 4)
  mode_ = RecoveryMode::kTruncate;
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(replayed_.size(), 3u);  // LSNs 1-3
  ASSERT_EQ(reporter_.drops.size(), 2u);
  EXPECT_EQ(reporter_.drops[0].file, Seg(2));
  EXPECT_EQ(reporter_.drops[1].file, Seg(3));
  EXPECT_EQ(wal_->recovery_drop().first_lsn, 4u);
  EXPECT_EQ(wal_->recovery_drop().last_lsn, 6u);
  EXPECT_EQ(wal_->recovery_drop().records(), 3u);
  EXPECT_EQ(Put("k", "v"), 4u);
}

TEST_F(WalRecoveryTest, ATornTailOrACleanLogDropsNothingToReport) {
  WriteRecords(3);
  const std::vector<uint64_t> offsets = RecordOffsets(Seg(1));
  ShrinkTo(Seg(1), offsets[2] + 3);  // a torn last record
  mode_ = RecoveryMode::kTruncate;
  ASSERT_TRUE(Open().ok());
  EXPECT_FALSE(wal_->recovery_drop().truncated);
  EXPECT_EQ(wal_->recovery_drop().records(), 0u);
  Close();
  ASSERT_TRUE(Open().ok());
  EXPECT_FALSE(wal_->recovery_drop().truncated);
}

// ---- Snapshot ahead of the log, read-only opens ----

TEST_F(WalRecoveryTest, SnapshotAheadOfTheLogContinuesAfterIt) {
  WriteRecords(3);
  ASSERT_TRUE(Open(/*after_lsn=*/10).ok());  // the log lost 4..10, the snapshot has them
  EXPECT_TRUE(replayed_.empty());
  EXPECT_EQ(Put("k11", "value11"), 11u);
  Close();
  ASSERT_TRUE(Open(/*after_lsn=*/10).ok());
  EXPECT_EQ(replayed_, Expected(11, 11));
  Close();
  // Without that snapshot, 4..10 are really missing.
  EXPECT_TRUE(Open(/*after_lsn=*/0).IsCorruption());
}

TEST_F(WalRecoveryTest, ReadOnlyChangesNothing) {
  WriteRecords(3);
  AppendBytes(Seg(1), "torn");
  const std::string before = ReadFile(Seg(1));
  read_only_ = true;
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(replayed_, Expected(1, 3));
  EXPECT_EQ(reporter_.drops.size(), 1u);
  EXPECT_EQ(ReadFile(Seg(1)), before);
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{"00000001.wal"});
  EXPECT_EQ(wal_->Append(PutOf("k", "v")).status().code(), Status::Code::kNotSupported);
  EXPECT_EQ(wal_->last_lsn(), 3u);
}

TEST_F(WalRecoveryTest, ReadOnlyOfMissingDirectoryIsEmpty) {
  read_only_ = true;
  ASSERT_TRUE(Open().ok());
  EXPECT_FALSE(Exists(dir_));
}

}  // namespace
}  // namespace memento::wal
