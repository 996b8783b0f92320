// DumpWriter + DumpReader: round trips, the worked example of docs/formats/dump.md, and
// one test per error path (leveldb's log_test.cc is the model: small verbs over an
// in-memory file).
#include "storage/dump/dump_reader.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/coding.h"
#include "common/crc32c.h"
#include "storage/dump/dump_format.h"
#include "storage/dump/dump_io.h"
#include "storage/dump/dump_writer.h"

namespace memento::dump {
namespace {

struct Entry {
  std::string key;
  std::string value;
  int64_t created_ms;
  int64_t expire_ms;
  bool operator==(const Entry&) const = default;
};

DumpHeader TestHeader(uint64_t key_count = kUnknownKeyCount) {
  DumpHeader h;
  h.node = "node-a";
  h.created_ms = 1700000000000;
  h.data_lsn = 42;
  h.key_count = key_count;
  return h;
}

std::string Write(const std::vector<Entry>& entries, uint64_t key_count = kUnknownKeyCount) {
  StringSink sink;
  auto w = DumpWriter::Create(&sink, TestHeader(key_count));
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  for (const Entry& e : entries) {
    EXPECT_TRUE((*w)->Add(e.key, e.value, e.created_ms, e.expire_ms).ok());
  }
  EXPECT_TRUE((*w)->Finish().ok());
  EXPECT_EQ((*w)->bytes_written(), sink.contents().size());
  return sink.contents();
}

// Reads everything; returns the error (OK at a clean end).
Status ReadAll(std::string_view bytes, std::vector<Entry>* out, bool known_size = true,
               DumpHeader* header = nullptr) {
  StringSource source(bytes, known_size);
  auto r = DumpReader::Open(&source, "test.mdump");
  if (!r.ok()) return r.status();
  if (header != nullptr) *header = (*r)->header();
  DumpRecord rec;
  while (true) {
    Result<bool> more = (*r)->Next(&rec);
    if (!more.ok()) return more.status();
    if (!*more) break;
    out->push_back({std::string(rec.key), std::string(rec.value), rec.created_ms, rec.expire_ms});
  }
  EXPECT_EQ((*r)->trailer().records, out->size());
  return Status::OK();
}

std::vector<Entry> MixedEntries(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Entry> out;
  for (int i = 0; i < n; ++i) {
    Entry e;
    e.key = "key:" + std::to_string(i);
    if (i % 17 == 0) e.key.assign(600 + i % 50, static_cast<char>('a' + i % 26));  // long
    if (i == 3) e.key.clear();                                                     // empty
    const size_t len = i % 101 == 0 ? 300000 : rng() % 300;
    e.value.resize(len);
    for (char& c : e.value) c = static_cast<char>(rng() % 4 == 0 ? 0 : rng());
    if (i % 5 == 0) e.value += "\r\n\0x";
    e.created_ms = 1700000000000 + i;
    e.expire_ms = i % 3 == 0 ? 1800000000000 + i : kNoExpiry;
    out.push_back(std::move(e));
  }
  return out;
}

TEST(DumpReaderTest, EmptyDumpRoundTrips) {
  const std::string bytes = Write({}, 0);
  std::vector<Entry> got;
  DumpHeader h;
  ASSERT_TRUE(ReadAll(bytes, &got, true, &h).ok());
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(h.version, kFormatVersion);
  EXPECT_EQ(h.node, "node-a");
  EXPECT_EQ(h.created_ms, 1700000000000);
  EXPECT_EQ(h.data_lsn, 42u);
  EXPECT_EQ(h.key_count, 0u);
}

TEST(DumpReaderTest, MixedEntriesRoundTripAcrossBlocks) {
  const auto entries = MixedEntries(3000, 1);
  const std::string bytes = Write(entries);
  for (const bool known_size : {true, false}) {
    std::vector<Entry> got;
    ASSERT_TRUE(ReadAll(bytes, &got, known_size).ok());
    EXPECT_EQ(got, entries);
  }
}

TEST(DumpReaderTest, ValueOfOneMebibyteAndMoreGetsItsOwnBlock) {
  std::vector<Entry> entries = {{"small", "v", 1, kNoExpiry},
                                {"big", std::string((1u << 20) + 7, 'x'), 2, 5},
                                {"after", "w", 3, kNoExpiry}};
  std::vector<Entry> got;
  ASSERT_TRUE(ReadAll(Write(entries), &got).ok());
  EXPECT_EQ(got, entries);
}

// The worked example of docs/formats/dump.md, byte for byte up to the first block.
TEST(DumpReaderTest, WorkedExampleMatchesTheSpec) {
  StringSink sink;
  DumpHeader h;
  h.node = "db1";
  h.created_ms = 1700000000000;  // 0x0000018bcfe56800
  h.data_lsn = 7;
  h.key_count = 1;
  auto w = DumpWriter::Create(&sink, h);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Add("k", "v", 1700000000000, -1).ok());
  ASSERT_TRUE((*w)->Finish().ok());
  const std::string& b = sink.contents();
  const std::string header_expected = std::string("MEMDUMP\0", 8) +
                                      std::string("\x01\x00\x00\x00", 4) +  // version 1
                                      std::string("\x00\x00\x00\x00", 4) +  // flags
                                      std::string("\x1c\x00\x00\x00", 4) +  // body_len 28
                                      std::string(
                                          "\x03"
                                          "db1",
                                          4) +
                                      std::string("\x00\x68\xe5\xcf\x8b\x01\x00\x00", 8) +
                                      std::string("\x07\x00\x00\x00\x00\x00\x00\x00", 8) +
                                      std::string("\x01\x00\x00\x00\x00\x00\x00\x00", 8);
  ASSERT_GE(b.size(), header_expected.size() + 4);
  EXPECT_EQ(b.substr(0, header_expected.size()), header_expected);
  EXPECT_EQ(DecodeFixed32(b.data() + header_expected.size()),
            crc32c::Mask(crc32c::Value(header_expected)));
  const size_t block = header_expected.size() + 4;
  EXPECT_EQ(b[block], 'B');
  EXPECT_EQ(DecodeFixed32(b.data() + block + 1), 20u);  // raw: 1+1+1+1+8+8
  EXPECT_EQ(DecodeFixed32(b.data() + block + 9), 1u);   // one record
  const size_t zlen = DecodeFixed32(b.data() + block + 5);
  const size_t trailer = block + kBlockHeaderSize + zlen;
  ASSERT_EQ(b.size(), trailer + kTrailerSize);
  EXPECT_EQ(b[trailer], 'T');
  EXPECT_EQ(DecodeFixed64(b.data() + trailer + 1), 1u);   // records
  EXPECT_EQ(DecodeFixed64(b.data() + trailer + 9), 2u);   // data bytes
  EXPECT_EQ(DecodeFixed64(b.data() + trailer + 17), 1u);  // blocks
  EXPECT_EQ(b.substr(b.size() - 8), std::string("MEMDEND\0", 8));
}

TEST(DumpReaderTest, BadMagicIsNotADump) {
  std::string bytes = Write({{"a", "b", 1, -1}});
  bytes[0] = 'X';
  std::vector<Entry> got;
  Status s = ReadAll(bytes, &got);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("not a memento dump"), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find("byte offset 0"), std::string::npos) << s.ToString();
}

TEST(DumpReaderTest, NewerVersionIsNotSupported) {
  std::string bytes = Write({{"a", "b", 1, -1}});
  // Version 2 with a header crc fixed up: a genuine newer file.
  EncodeFixed32(bytes.data() + 8, 2);
  const uint32_t body_len = DecodeFixed32(bytes.data() + 16);
  const size_t crc_at = kHeaderFixedSize + body_len;
  EncodeFixed32(bytes.data() + crc_at, crc32c::Mask(crc32c::Value(bytes.data(), crc_at)));
  std::vector<Entry> got;
  Status s = ReadAll(bytes, &got);
  EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
  EXPECT_NE(s.ToString().find("format version 2"), std::string::npos);
}

TEST(DumpReaderTest, HeaderChecksumMismatch) {
  std::string bytes = Write({{"a", "b", 1, -1}});
  bytes[kHeaderFixedSize + 1] ^= 1;  // the node name
  std::vector<Entry> got;
  Status s = ReadAll(bytes, &got);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("header checksum"), std::string::npos);
}

TEST(DumpReaderTest, BlockChecksumMismatchNamesTheBlockOffset) {
  std::string bytes = Write(MixedEntries(50, 2));
  const size_t block = kHeaderFixedSize + DecodeFixed32(bytes.data() + 16) + 4;
  bytes[block + kBlockHeaderSize + 3] ^= 0x40;
  std::vector<Entry> got;
  Status s = ReadAll(bytes, &got);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("byte offset " + std::to_string(block) + ": block checksum"),
            std::string::npos)
      << s.ToString();
}

TEST(DumpReaderTest, HugeBlockLengthIsRefusedBeforeAllocating) {
  std::string bytes = Write({{"a", "b", 1, -1}});
  const size_t block = kHeaderFixedSize + DecodeFixed32(bytes.data() + 16) + 4;
  EncodeFixed32(bytes.data() + block + 1, 0xffffffffu);  // raw_len
  std::vector<Entry> got;
  Status s = ReadAll(bytes, &got, /*known_size=*/false);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("raw bytes"), std::string::npos) << s.ToString();
}

TEST(DumpReaderTest, CompressedLengthPastTheEndIsTruncation) {
  std::string bytes = Write({{"a", std::string(100000, '\0'), 1, -1}});  // compresses well
  const size_t block = kHeaderFixedSize + DecodeFixed32(bytes.data() + 16) + 4;
  EncodeFixed32(bytes.data() + block + 5, 50000);  // zlen: more than the file holds
  std::vector<Entry> got;
  Status s = ReadAll(bytes, &got);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("truncated"), std::string::npos) << s.ToString();
}

TEST(DumpReaderTest, MissingTrailerIsTruncation) {
  std::string bytes = Write(MixedEntries(10, 3));
  bytes.resize(bytes.size() - kTrailerSize);
  std::vector<Entry> got;
  Status s = ReadAll(bytes, &got);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("truncated"), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find("byte offset " + std::to_string(bytes.size())), std::string::npos)
      << s.ToString();
}

TEST(DumpReaderTest, DroppedBlockIsCaughtByTheTrailer) {
  // Two blocks; cut the second one out.
  std::vector<Entry> entries = {{"a", std::string(kTargetBlockSize, 'x'), 1, -1},
                                {"b", std::string(100, 'y'), 1, -1}};
  std::string bytes = Write(entries);
  const size_t first = kHeaderFixedSize + DecodeFixed32(bytes.data() + 16) + 4;
  const size_t second = first + kBlockHeaderSize + DecodeFixed32(bytes.data() + first + 5);
  ASSERT_EQ(bytes[second], 'B');
  const size_t third = second + kBlockHeaderSize + DecodeFixed32(bytes.data() + second + 5);
  bytes.erase(second, third - second);
  std::vector<Entry> got;
  Status s = ReadAll(bytes, &got);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("blocks missing or duplicated"), std::string::npos) << s.ToString();
}

TEST(DumpReaderTest, TrailingBytesAreRefused) {
  std::string bytes = Write({{"a", "b", 1, -1}});
  bytes += "x";
  std::vector<Entry> got;
  Status s = ReadAll(bytes, &got);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("after the end"), std::string::npos) << s.ToString();
}

TEST(DumpReaderTest, HeaderKeyCountMustMatch) {
  const std::string bytes = Write({{"a", "b", 1, -1}}, /*key_count=*/2);
  std::vector<Entry> got;
  Status s = ReadAll(bytes, &got);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("header counts 2"), std::string::npos) << s.ToString();
}

// Every truncation and every single-bit flip of a small dump is an error with an
// offset (or, for a flip, at worst still a valid dump: never a crash, never garbage).
TEST(DumpReaderTest, EveryTruncationAndFlipIsDetected) {
  auto entries = MixedEntries(20, 4);
  entries[0].value.resize(100);  // small: the file is read ~2 x 8 x its size times
  entries.push_back({"x", std::string(3000, 'z'), 5, 6});  // compressible
  const std::string bytes = Write(entries, entries.size());
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    for (const bool known : {true, false}) {
      std::vector<Entry> got;
      Status s = ReadAll(std::string_view(bytes).substr(0, cut), &got, known);
      ASSERT_TRUE(s.IsCorruption()) << "cut at " << cut;
      ASSERT_NE(s.ToString().find("byte offset"), std::string::npos) << s.ToString();
    }
  }
  for (size_t at = 0; at < bytes.size(); ++at) {
    std::string flipped = bytes;
    flipped[at] ^= static_cast<char>(1u << (at % 8));
    std::vector<Entry> got;
    Status s = ReadAll(flipped, &got);
    ASSERT_FALSE(s.ok()) << "flip at " << at << " went unnoticed";
    ASSERT_NE(s.ToString().find("dump test.mdump"), std::string::npos) << s.ToString();
  }
}

}  // namespace
}  // namespace memento::dump
