// Tests of the segment format: what log_writer.cc writes, log_reader.cc reads back,
// and every way the reader stops. Files are in memory; the fixture's small verbs
// (Write, Read, IncrementByte, ShrinkSize, FixChecksum) follow leveldb's db/log_test.cc.
#include "storage/wal/log_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "storage/mutation.h"
#include "common/coding.h"
#include "storage/wal/log_writer.h"
#include "storage/wal/mutation_codec.h"

namespace memento::wal {
namespace {

using End = Reader::End;

// A RandomAccessFile over a string owned by the test.
class StringSource final : public RandomAccessFile {
 public:
  explicit StringSource(const std::string* contents) : contents_(contents) {}
  Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const override {
    if (offset >= contents_->size()) {
      *result = {};
      return Status::OK();
    }
    n = std::min<size_t>(n, contents_->size() - offset);
    std::memcpy(scratch, contents_->data() + offset, n);
    *result = std::string_view(scratch, n);
    return Status::OK();
  }

 private:
  const std::string* const contents_;
};

std::string BigString(std::string_view partial, size_t n) {
  std::string s;
  while (s.size() < n) s.append(partial);
  s.resize(n);
  return s;
}

class LogTest : public testing::Test {
 protected:
  LogTest() { EncodeSegmentHeader(SegmentHeader{kFormatVersion, 1, kFirstLsn}, &contents_); }

  static constexpr uint64_t kFirstLsn = 100;

  // Appends a record with the next LSN (or the one given); returns its offset.
  size_t Write(std::string_view payload) { return WriteWithLsn(payload, next_lsn_++); }
  size_t WriteWithLsn(std::string_view payload, uint64_t lsn) {
    const size_t offset = contents_.size();
    AppendRecord(&contents_, lsn, RecordType::kMutation, payload);
    offsets_.push_back(offset);
    return offset;
  }
  // The next record's payload, or "END(<why>)" when the reader stops.
  std::string Read() {
    if (reader_ == nullptr) {
      source_ = std::make_unique<StringSource>(&contents_);
      reader_ = std::make_unique<Reader>(source_.get(), contents_.size(), "seg.wal");
      SegmentHeader header;
      header_status_ = reader_->ReadHeader(&header);
      if (!header_status_.ok()) return std::string("END(") + EndName(reader_->end()) + ")";
      EXPECT_EQ(header.number, 1u);
      EXPECT_EQ(header.first_lsn, kFirstLsn);
    }
    Reader::Record record;
    if (!reader_->ReadRecord(&record)) return std::string("END(") + EndName(reader_->end()) + ")";
    EXPECT_EQ(record.offset, offsets_[read_count_]);
    EXPECT_EQ(record.lsn, kFirstLsn + read_count_);
    ++read_count_;
    return std::string(record.payload);
  }
  void IncrementByte(size_t offset, int delta) {
    contents_[offset] = static_cast<char>(contents_[offset] + delta);
  }
  void SetByte(size_t offset, char value) { contents_[offset] = value; }
  void ShrinkSize(size_t bytes) { contents_.resize(contents_.size() - bytes); }
  // Recomputes the checksum of the record at offset, so only the edit is seen.
  void FixChecksum(size_t offset) {
    const uint32_t length = DecodeFixed32(contents_.data() + offset + kRecordLengthOffset);
    const uint32_t crc = crc32c::Value(contents_.data() + offset + kRecordLengthOffset,
                                       kRecordHeaderSize - kRecordLengthOffset + length);
    EncodeFixed32(contents_.data() + offset, crc32c::Mask(crc));
  }
  void FixHeaderChecksum() {
    EncodeFixed32(contents_.data() + kHeaderCrcOffset,
                  crc32c::Mask(crc32c::Value(contents_.data(), kHeaderCrcOffset)));
  }
  Reader& reader() { return *reader_; }

  std::string contents_;
  std::vector<size_t> offsets_;
  uint64_t next_lsn_ = kFirstLsn;
  size_t read_count_ = 0;
  std::unique_ptr<StringSource> source_;
  std::unique_ptr<Reader> reader_;
  Status header_status_;
};

TEST_F(LogTest, EmptySegmentEndsCleanly) {
  EXPECT_EQ(Read(), "END(eof)");
  EXPECT_TRUE(reader().status().ok());
  EXPECT_EQ(reader().good_end(), kSegmentHeaderSize);
  EXPECT_EQ(reader().next_lsn(), kFirstLsn);
}

TEST_F(LogTest, ReadsBackWhatWasWritten) {
  Write("foo");
  Write("");
  Write(BigString("bar", 100000));  // bigger than one 64 KiB read
  Write("xxxx");
  EXPECT_EQ(Read(), "foo");
  EXPECT_EQ(Read(), "");
  EXPECT_EQ(Read(), BigString("bar", 100000));
  EXPECT_EQ(Read(), "xxxx");
  EXPECT_EQ(Read(), "END(eof)");
  EXPECT_EQ(Read(), "END(eof)");  // stays stopped
  EXPECT_EQ(reader().next_lsn(), kFirstLsn + 4);
  EXPECT_EQ(reader().good_end(), contents_.size());
}

TEST_F(LogTest, ManySmallRecordsAcrossReadWindows) {
  for (int i = 0; i < 5000; ++i) Write(std::to_string(i));
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(Read(), std::to_string(i));
  EXPECT_EQ(Read(), "END(eof)");
}

// The bytes documented in docs/formats/wal.md ("Worked example").
std::string Hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  return hex;
}

TEST_F(LogTest, WorkedExampleMatchesTheSpec) {
  std::string segment;
  EncodeSegmentHeader(SegmentHeader{kFormatVersion, 1, 1}, &segment);
  storage::Mutation m;
  m.type = storage::MutationType::kPut;
  m.key = "greeting";
  m.value = "hello";
  m.created_ms = 1700000000000;
  m.expire_ms = -1;
  std::string payload;
  EncodeChange(m, &payload);
  AppendRecord(&segment, 1, RecordType::kChange, payload);
  EXPECT_EQ(Hex(segment),
            "894d57414c0d0a1a" "02000000" "0100000000000000" "0100000000000000" "b4432044"
            "5a2ba60d" "21000000" "0100000000000000" "02"
            "00" "0108" "6772656574696e67" "05" "68656c6c6f" "0068e5cf8b010000" "ffffffffffffffff");
}

// The APPEND and the unit after it in docs/formats/wal.md's worked example.
TEST_F(LogTest, WorkedExampleDeltaAndUnitMatchTheSpec) {
  std::string records;
  storage::Mutation append;
  append.type = storage::MutationType::kAppend;
  append.key = "greeting";
  append.value = "!";
  std::string payload;
  EncodeChange(append, &payload);
  AppendRecord(&records, 2, RecordType::kChange, payload);
  storage::Mutation del;
  del.type = storage::MutationType::kDelete;
  del.key = "n";
  const storage::Mutation unit[] = {append, del};
  payload.clear();
  EncodeUnit(unit, &payload);
  AppendRecord(&records, 3, RecordType::kUnit, payload);
  EXPECT_EQ(Hex(records),
            "e00bb631" "0d000000" "0200000000000000" "02"
            "00" "05" "08" "6772656574696e67" "0121"
            "f7b2ed9a" "14000000" "0300000000000000" "03"
            "02" "0d" "0005086772656574696e670121" "04" "0002016e");
}

// ---- Tests of every way the reader stops follow. ----

TEST_F(LogTest, TruncatedHeaderAtEveryLength) {
  const std::string full = contents_;
  for (size_t n = 0; n < kSegmentHeaderSize; ++n) {
    contents_ = full.substr(0, n);
    reader_.reset();
    EXPECT_EQ(Read(), "END(truncated)") << n;
    EXPECT_TRUE(header_status_.IsCorruption());
  }
}

TEST_F(LogTest, BadMagicIsBadRecord) {
  IncrementByte(1, 1);
  EXPECT_EQ(Read(), "END(bad record)");
  EXPECT_NE(header_status_.message().find("bad magic"), std::string_view::npos);
}

TEST_F(LogTest, HeaderChecksumMismatch) {
  IncrementByte(kHeaderFirstLsnOffset, 1);
  EXPECT_EQ(Read(), "END(bad record)");
  EXPECT_NE(header_status_.message().find("header checksum"), std::string_view::npos);
}

TEST_F(LogTest, NewerVersionIsNotSupported) {
  SetByte(kHeaderVersionOffset, kFormatVersion + 1);
  FixHeaderChecksum();
  EXPECT_EQ(Read(), "END(unsupported)");
  EXPECT_EQ(header_status_.code(), Status::Code::kNotSupported);
  EXPECT_NE(header_status_.message().find("version 3, this build reads versions 1 to 2"),
            std::string_view::npos)
      << header_status_.ToString();
}

TEST_F(LogTest, VersionZeroIsNotSupported) {
  SetByte(kHeaderVersionOffset, 0);
  FixHeaderChecksum();
  EXPECT_EQ(Read(), "END(unsupported)");
}

TEST_F(LogTest, AVersionOneSegmentIsStillRead) {
  SetByte(kHeaderVersionOffset, 1);
  FixHeaderChecksum();
  Write("written by version 1");
  EXPECT_EQ(Read(), "written by version 1");
  EXPECT_EQ(Read(), "END(eof)");
}

TEST_F(LogTest, TruncatedRecordAtEveryOffset) {
  Write("first");
  Write("second");
  const size_t last = Write("the last record");
  const std::string full = contents_;
  for (size_t cut = last + 1; cut < full.size(); ++cut) {
    contents_ = full.substr(0, cut);
    reader_.reset();
    read_count_ = 0;
    EXPECT_EQ(Read(), "first");
    EXPECT_EQ(Read(), "second");
    EXPECT_EQ(Read(), "END(truncated)") << cut;
    EXPECT_EQ(reader().good_end(), last);
    EXPECT_NE(reader().status().message().find("seg.wal at offset " + std::to_string(last)),
              std::string_view::npos)
        << reader().status().ToString();
  }
}

TEST_F(LogTest, ChecksumMismatch) {
  Write("foo");
  const size_t bad = Write("bar");
  Write("baz");
  IncrementByte(bad + kRecordHeaderSize, 1);
  EXPECT_EQ(Read(), "foo");
  EXPECT_EQ(Read(), "END(bad record)");
  EXPECT_EQ(reader().good_end(), bad);
  EXPECT_NE(reader().status().message().find("checksum mismatch"), std::string_view::npos);
}

TEST_F(LogTest, ChecksumCoversTheLsn) {
  const size_t r = Write("foo");
  IncrementByte(r + kRecordLsnOffset, 1);
  EXPECT_EQ(Read(), "END(bad record)");
}

TEST_F(LogTest, LengthOverTheMaximumIsBadRecord) {
  const size_t r = Write("foo");
  EncodeFixed32(contents_.data() + r + kRecordLengthOffset, kMaxRecordPayload + 1);
  EXPECT_EQ(Read(), "END(bad record)");
}

TEST_F(LogTest, LengthPastTheEndIsTruncated) {
  const size_t r = Write("foo");
  IncrementByte(r + kRecordLengthOffset, 10);
  EXPECT_EQ(Read(), "END(truncated)");
  EXPECT_EQ(reader().good_end(), r);
}

TEST_F(LogTest, UnknownRecordTypeIsBadRecord) {
  const size_t r = Write("foo");
  SetByte(r + kRecordTypeOffset, 7);
  FixChecksum(r);
  EXPECT_EQ(Read(), "END(bad record)");
  EXPECT_NE(reader().status().message().find("unknown record type 7"), std::string_view::npos);
}

TEST_F(LogTest, ZeroBytesAreNeverARecord) {
  Write("foo");
  contents_.append(64, '\0');
  EXPECT_EQ(Read(), "foo");
  EXPECT_EQ(Read(), "END(bad record)");
}

TEST_F(LogTest, LsnGapIsLsnMismatch) {
  Write("foo");
  const size_t r = WriteWithLsn("bar", kFirstLsn + 2);  // skips kFirstLsn + 1
  EXPECT_EQ(Read(), "foo");
  EXPECT_EQ(Read(), "END(lsn mismatch)");
  EXPECT_EQ(reader().good_end(), r);
  EXPECT_NE(reader().status().message().find("expected 101"), std::string_view::npos)
      << reader().status().ToString();
}

TEST_F(LogTest, FindsValidRecordAfterDamageInTheMiddle) {
  Write("foo");
  const size_t bad = Write("bar");
  const size_t next = Write("baz");
  IncrementByte(bad + kRecordHeaderSize, 1);
  EXPECT_EQ(Read(), "foo");
  EXPECT_EQ(Read(), "END(bad record)");
  Result<int64_t> found = reader().FindValidRecordAfterDamage(reader().next_lsn());
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, static_cast<int64_t>(next));
}

TEST_F(LogTest, FindsNothingValidInZeroesOrGarbage) {
  Write("foo");
  for (const std::string& tail : {std::string(5000, '\0'), BigString("\x01\xfe\x37\x99", 5000)}) {
    contents_.resize(offsets_[0]);
    AppendRecord(&contents_, kFirstLsn, RecordType::kMutation, "foo");
    contents_ += tail;
    reader_.reset();
    read_count_ = 0;
    EXPECT_EQ(Read(), "foo");
    EXPECT_EQ(Read(), "END(bad record)");
    Result<int64_t> found = reader().FindValidRecordAfterDamage(reader().next_lsn());
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(*found, -1);
  }
}

TEST_F(LogTest, StaleRecordWithLowerLsnDoesNotCountAsValid) {
  Write("foo");
  const size_t bad = Write("bar");
  IncrementByte(bad + kRecordHeaderSize, 1);
  AppendRecord(&contents_, 5, RecordType::kMutation, "stale bytes of an older segment");
  EXPECT_EQ(Read(), "foo");
  EXPECT_EQ(Read(), "END(bad record)");
  Result<int64_t> found = reader().FindValidRecordAfterDamage(reader().next_lsn());
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, -1);
  // With no lower bound (an unreadable header), any valid record counts.
  found = reader().FindValidRecordAfterDamage(0);
  ASSERT_TRUE(found.ok());
  EXPECT_GT(*found, 0);
}

}  // namespace
}  // namespace memento::wal
