// Tests of the snapshot's value record (record_codec), the long-key slot and its hash
// (long_key): the byte layout of docs/formats/snapshot.md, and one test per way a
// stored record can be malformed.
#include "storage/snapshot/record_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "common/coding.h"
#include "storage/snapshot/long_key.h"

namespace memento::snapshot {
namespace {

std::string Encode(const RecordView& r) {
  std::string out(EncodedRecordSize(r), '\0');
  EncodeRecord(r, out.data());
  return out;
}

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size();) {
    if (hex[i] == ' ') {
      ++i;
      continue;
    }
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

// A valid record with every optional part, for the damage tests to start from.
std::string FullRecord() {
  RecordView r;
  r.compressed = true;
  r.has_full_key = true;
  r.created_ms = 1;
  r.expire_ms = 2;
  r.full_key = "kkkk";
  r.raw_len = 100;
  r.payload = "frame";
  return Encode(r);
}

// The worked example of docs/formats/snapshot.md: keep the two in sync.
TEST(RecordCodecTest, EncodesWorkedExample) {
  RecordView r;
  r.created_ms = 1'700'000'000'000;
  r.expire_ms = kNoExpiry;
  r.payload = "hello world";
  EXPECT_EQ(Encode(r), FromHex("00"                                   // flags: raw value, short key
                               "00 68 e5 cf 8b 01 00 00"              // created_ms 1700000000000
                               "ff ff ff ff ff ff ff ff"              // expire_ms -1
                               "68 65 6c 6c 6f 20 77 6f 72 6c 64"));  // "hello world"
}

// The long-key worked example of docs/formats/snapshot.md: the empty key, which LMDB
// cannot store as a key, with an expiry.
TEST(RecordCodecTest, EncodesLongKeyWorkedExample) {
  RecordView r;
  r.has_full_key = true;
  r.full_key = "";
  r.created_ms = 1'700'000'000'000;
  r.expire_ms = 1'700'000'060'000;
  r.payload = "v";
  EXPECT_EQ(Encode(r), FromHex("02"                       // flags: full key present
                               "00 68 e5 cf 8b 01 00 00"  // created_ms 1700000000000
                               "60 52 e6 cf 8b 01 00 00"  // expire_ms 1700000060000
                               "00 00 00 00"              // key_len 0, no key bytes
                               "76"));                    // "v"
  const LongKeySeed seed{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
  EXPECT_EQ(EncodeLongKeySlot(SipHash24(seed, ""), 0),
            FromHex("72 6f db 47 dd 0e 0e 31 00 00 00 00"));
}

TEST(RecordCodecTest, RoundTripsEveryField) {
  const std::string bytes = FullRecord();
  ASSERT_EQ(bytes.size(), kRecordHeaderSize + 4 + 4 + 4 + 5);
  auto r = DecodeRecord(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->compressed);
  EXPECT_TRUE(r->has_full_key);
  EXPECT_EQ(r->created_ms, 1);
  EXPECT_EQ(r->expire_ms, 2);
  EXPECT_EQ(r->full_key, "kkkk");
  EXPECT_EQ(r->raw_len, 100u);
  EXPECT_EQ(r->payload, "frame");
}

TEST(RecordCodecTest, EmptyValueAndNegativeTimesRoundTrip) {
  RecordView in;
  in.created_ms = -5;
  in.expire_ms = INT64_MIN;
  auto r = DecodeRecord(Encode(in));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->created_ms, -5);
  EXPECT_EQ(r->expire_ms, INT64_MIN);
  EXPECT_EQ(r->payload, "");
}

TEST(RecordCodecTest, TruncatedHeaderIsCorruption) {
  const std::string bytes = FullRecord().substr(0, kRecordHeaderSize - 1);
  auto r = DecodeRecord(bytes);
  ASSERT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("offset 0"), std::string_view::npos);
}

TEST(RecordCodecTest, ReservedFlagBitsAreCorruption) {
  std::string bytes = FullRecord();
  bytes[0] = static_cast<char>(bytes[0] | 0x80);
  auto r = DecodeRecord(bytes);
  ASSERT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("0x83"), std::string_view::npos) << r.status().ToString();
}

TEST(RecordCodecTest, CutOffKeyLengthIsCorruption) {
  const std::string bytes = FullRecord().substr(0, kRecordHeaderSize + 2);
  auto r = DecodeRecord(bytes);
  ASSERT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("offset 17"), std::string_view::npos);
}

TEST(RecordCodecTest, KeyLengthBeyondRecordIsCorruption) {
  std::string bytes = FullRecord();
  EncodeFixed32(bytes.data() + kRecordHeaderSize, 1000);  // only 13 bytes follow
  auto r = DecodeRecord(bytes);
  ASSERT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("key length 1000"), std::string_view::npos);
}

TEST(RecordCodecTest, KeyLengthAboveLimitIsCorruption) {
  std::string bytes = FullRecord();
  EncodeFixed32(bytes.data() + kRecordHeaderSize, 0xffffffffu);
  EXPECT_TRUE(DecodeRecord(bytes).status().IsCorruption());
}

TEST(RecordCodecTest, CutOffRawLengthIsCorruption) {
  const std::string bytes = FullRecord().substr(0, kRecordHeaderSize + 4 + 4 + 3);
  auto r = DecodeRecord(bytes);
  ASSERT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("raw length"), std::string_view::npos);
}

TEST(RecordCodecTest, RawLengthAboveLimitIsCorruption) {
  std::string bytes = FullRecord();
  EncodeFixed32(bytes.data() + kRecordHeaderSize + 4 + 4, kMaxValueSize + 1);
  auto r = DecodeRecord(bytes);
  ASSERT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("exceeds the limit"), std::string_view::npos);
}

TEST(RecordCodecTest, PatchRecordExpiryChangesOnlyExpiry) {
  std::string bytes = FullRecord();
  PatchRecordExpiry(&bytes, 12345);
  auto r = DecodeRecord(bytes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->expire_ms, 12345);
  EXPECT_EQ(r->created_ms, 1);
  EXPECT_EQ(r->full_key, "kkkk");
  EXPECT_EQ(r->payload, "frame");
}

TEST(RecordCodecTest, DescribeKeyEscapesAndTruncates) {
  EXPECT_EQ(DescribeKey(std::string("a\0\"b", 4)), "\"a\\x00\\x22b\"");
  const std::string shown = DescribeKey(std::string(100, 'k'));
  EXPECT_EQ(shown, "\"" + std::string(64, 'k') + "\"... (100 bytes)");
}

// Reference vectors from the SipHash paper (Aumasson, Bernstein 2012), key 00..0f.
TEST(LongKeyTest, SipHash24MatchesReferenceVectors) {
  const LongKeySeed seed{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
  EXPECT_EQ(SipHash24(seed, ""), 0x726fdb47dd0e0e31ULL);
  std::string msg;
  for (int i = 0; i < 15; ++i) msg += static_cast<char>(i);
  EXPECT_EQ(SipHash24(seed, msg), 0xa129ca6149be45e5ULL);
}

TEST(LongKeyTest, SlotIsBigEndianSoChainsSortTogether) {
  const std::string a = EncodeLongKeySlot(0x0102030405060708ULL, 1);
  EXPECT_EQ(a, FromHex("01 02 03 04 05 06 07 08 00 00 00 01"));
  EXPECT_LT(EncodeLongKeySlot(5, 0xffffffffu), EncodeLongKeySlot(6, 0));
  EXPECT_LT(EncodeLongKeySlot(5, 1), EncodeLongKeySlot(5, 256));
  const LongKeySlot s = DecodeLongKeySlot(a);
  EXPECT_EQ(s.hash, 0x0102030405060708ULL);
  EXPECT_EQ(s.chain, 1u);
}

TEST(LongKeyTest, EmptyAndOversizedKeysAreLong) {
  EXPECT_TRUE(IsLongKey(""));
  EXPECT_FALSE(IsLongKey("a"));
  EXPECT_FALSE(IsLongKey(std::string(kMaxShortKeySize, 'k')));
  EXPECT_TRUE(IsLongKey(std::string(kMaxShortKeySize + 1, 'k')));
}

}  // namespace
}  // namespace memento::snapshot
