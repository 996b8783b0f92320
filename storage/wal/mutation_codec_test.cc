#include "storage/wal/mutation_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace memento::wal {
namespace {

using storage::Mutation;
using storage::MutationType;

Mutation Put(std::string_view key, std::string_view value, int64_t created, int64_t expire) {
  Mutation m;
  m.type = MutationType::kPut;
  m.key = key;
  m.value = value;
  m.created_ms = created;
  m.expire_ms = expire;
  return m;
}
Mutation OfType(MutationType type, std::string_view key = {}, int64_t expire = -1) {
  Mutation m;
  m.type = type;
  m.key = key;
  m.expire_ms = expire;
  return m;
}

std::string Encode(const Mutation& m) {
  std::string out;
  EncodeMutation(m, &out);
  EXPECT_EQ(out.size(), EncodedMutationSize(m));
  return out;
}

void ExpectSame(const Mutation& a, const Mutation& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.expire_ms, b.expire_ms);
}

TEST(MutationCodecTest, EveryTypeRoundTrips) {
  const std::string binary("a\0b\xff", 4);
  const std::string long_value(300, 'x');  // a two-byte varint length
  for (const Mutation& m :
       {Put("k", "v", 1700000000000, -1), Put(binary, binary, 0, 1700000001000),
        Put("", "", -5, 0), Put("key", long_value, 1, 2),
        OfType(MutationType::kDelete, "gone"), OfType(MutationType::kExpire, "k", 123456),
        OfType(MutationType::kExpire, "k", -1), OfType(MutationType::kClear)}) {
    const std::string bytes = Encode(m);
    Mutation back;
    ASSERT_TRUE(DecodeMutation(bytes, &back).ok()) << static_cast<int>(m.type);
    ExpectSame(m, back);
  }
}

// The bytes documented in docs/formats/wal.md ("Worked example").
TEST(MutationCodecTest, PutEncodingMatchesTheSpec) {
  EXPECT_EQ(Encode(Put("greeting", "hello", 1700000000000, -1)),
            std::string("\x01\x08greeting\x05hello"
                        "\x00\x68\xe5\xcf\x8b\x01\x00\x00"
                        "\xff\xff\xff\xff\xff\xff\xff\xff",
                        1 + 1 + 8 + 1 + 5 + 8 + 8));
  EXPECT_EQ(Encode(OfType(MutationType::kClear)), std::string("\x04"));
}

TEST(MutationCodecTest, EmptyPayloadIsCorruption) {
  Mutation m;
  EXPECT_TRUE(DecodeMutation("", &m).IsCorruption());
}

TEST(MutationCodecTest, UnknownTagIsCorruption) {
  Mutation m;
  const Status s = DecodeMutation(std::string("\x09\x01k", 3), &m);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("unknown tag 9"), std::string_view::npos) << s.ToString();
}

TEST(MutationCodecTest, EveryTruncationIsCorruption) {
  for (const Mutation& m : {Put("key", "value", 1, 2), OfType(MutationType::kDelete, "key"),
                            OfType(MutationType::kExpire, "key", 7)}) {
    const std::string bytes = Encode(m);
    for (size_t n = 0; n < bytes.size(); ++n) {
      Mutation back;
      EXPECT_TRUE(DecodeMutation(std::string_view(bytes).substr(0, n), &back).IsCorruption())
          << "type " << static_cast<int>(m.type) << " cut at " << n;
    }
  }
}

TEST(MutationCodecTest, TrailingBytesAreCorruption) {
  std::string bytes = Encode(OfType(MutationType::kDelete, "k"));
  bytes += "x";
  Mutation m;
  EXPECT_TRUE(DecodeMutation(bytes, &m).IsCorruption());
  EXPECT_TRUE(DecodeMutation(std::string("\x04\x00", 2), &m).IsCorruption());
}

TEST(MutationCodecTest, OverlongVarintIsCorruption) {
  // Six continuation bytes: longer than any varint32.
  Mutation m;
  EXPECT_TRUE(DecodeMutation(std::string("\x02\x81\x80\x80\x80\x80\x00", 7), &m).IsCorruption());
  // Five bytes, but the value needs more than 32 bits.
  EXPECT_TRUE(DecodeMutation(std::string("\x02\xff\xff\xff\xff\x7f", 6), &m).IsCorruption());
}

TEST(MutationCodecTest, LengthPastTheEndIsCorruption) {
  Mutation m;
  EXPECT_TRUE(DecodeMutation(std::string("\x02\x05" "abc", 5), &m).IsCorruption());
}

// ---- Version 2: deltas, the reason byte, units ----

Mutation DeltaOf(MutationType type, std::string_view key, std::string_view bytes, int64_t number) {
  Mutation m;
  m.type = type;
  m.key = key;
  m.value = bytes;
  m.number = number;
  return m;
}

TEST(MutationCodecTest, DeltasRoundTripAndCostTheirOwnSize) {
  const std::string piece("\x00z", 2);
  for (const Mutation& m :
       {DeltaOf(MutationType::kAppend, "k", piece, 0), DeltaOf(MutationType::kPrepend, "k", "p", 0),
        DeltaOf(MutationType::kSetRange, "k", "abc", 10485760),
        DeltaOf(MutationType::kIncrBy, "counter", {}, -9),
        DeltaOf(MutationType::kIncrBy, "c", {}, INT64_MIN)}) {
    const std::string bytes = Encode(m);
    Mutation back;
    ASSERT_TRUE(DecodeMutation(bytes, &back).ok()) << static_cast<int>(m.type);
    ExpectSame(m, back);
    EXPECT_EQ(back.number, m.number);
  }
  // One appended byte under a one-byte key: tag, key, the byte. Not the value.
  EXPECT_EQ(EncodedMutationSize(DeltaOf(MutationType::kAppend, "k", "x", 0)), 5u);
  EXPECT_EQ(Encode(DeltaOf(MutationType::kAppend, "k", "x", 0)), std::string("\x05\x01k\x01x", 5));
}

TEST(MutationCodecTest, ASetRangeOffsetOf2To63OrMoreIsCorruption) {
  std::string bytes = Encode(DeltaOf(MutationType::kSetRange, "k", "v", 0));
  bytes[3 + 7] = '\x80';  // the offset's top byte: bit 63 set
  Mutation m;
  EXPECT_TRUE(DecodeMutation(bytes, &m).IsCorruption());
}

TEST(MutationCodecTest, AChangeCarriesItsReason) {
  Mutation m = OfType(MutationType::kDelete, "k");
  m.reason = storage::ChangeReason::kExpiry;
  std::string bytes;
  EncodeChange(m, &bytes);
  EXPECT_EQ(bytes, std::string("\x01\x02\x01k", 4));
  EXPECT_EQ(bytes.size(), EncodedChangeSize(m));
  std::vector<Mutation> out;
  ASSERT_TRUE(DecodeRecordPayload(RecordType::kChange, bytes, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].reason, storage::ChangeReason::kExpiry);
  bytes[0] = 5;  // no such reason
  const Status s = DecodeRecordPayload(RecordType::kChange, bytes, &out);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("unknown reason 5"), std::string_view::npos) << s.ToString();
  EXPECT_TRUE(out.empty());
}

TEST(MutationCodecTest, AVersionOneRecordHoldsNoDeltaAndNoReason) {
  std::vector<Mutation> out;
  ASSERT_TRUE(DecodeRecordPayload(RecordType::kMutation, Encode(OfType(MutationType::kClear)), &out)
                  .ok());
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].reason, storage::ChangeReason::kFlush);  // a version-1 clear was a flush
  ASSERT_TRUE(DecodeRecordPayload(RecordType::kMutation, Encode(OfType(MutationType::kDelete, "k")),
                                  &out)
                  .ok());
  EXPECT_EQ(out[0].reason, storage::ChangeReason::kCommand);
  const Status s = DecodeRecordPayload(RecordType::kMutation,
                                       Encode(DeltaOf(MutationType::kAppend, "k", "x", 0)), &out);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_TRUE(out.empty());
}

TEST(MutationCodecTest, AUnitDecodesWholeOrNotAtAll) {
  Mutation put = Put("a", "1", 5, -1);
  Mutation append = DeltaOf(MutationType::kAppend, "s", "!", 0);
  Mutation del = OfType(MutationType::kDelete, "b");
  del.reason = storage::ChangeReason::kEviction;
  const std::vector<Mutation> unit = {put, append, del};
  std::string bytes;
  EncodeUnit(unit, &bytes);
  EXPECT_EQ(bytes.size(), EncodedUnitSize(unit));
  std::vector<Mutation> out;
  ASSERT_TRUE(DecodeRecordPayload(RecordType::kUnit, bytes, &out).ok());
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < 3; ++i) ExpectSame(unit[i], out[i]);
  EXPECT_EQ(out[2].reason, storage::ChangeReason::kEviction);
  // Every strict prefix, and any trailing byte, is refused with nothing decoded.
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_TRUE(DecodeRecordPayload(RecordType::kUnit, bytes.substr(0, n), &out).IsCorruption())
        << n;
    EXPECT_TRUE(out.empty()) << n;
  }
  EXPECT_TRUE(DecodeRecordPayload(RecordType::kUnit, bytes + "x", &out).IsCorruption());
  EXPECT_TRUE(out.empty());
  // A unit of no changes, and a count the payload cannot hold.
  EXPECT_TRUE(DecodeRecordPayload(RecordType::kUnit, std::string("\x00", 1), &out).IsCorruption());
  EXPECT_TRUE(DecodeRecordPayload(RecordType::kUnit, "\xff\xff\x03", &out).IsCorruption());
  // A bad change in the middle spoils the unit.
  std::string bad = bytes;
  bad[bytes.size() - 3] = 9;  // the last change's tag: unknown
  const Status s = DecodeRecordPayload(RecordType::kUnit, bad, &out);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("unit change 2 of 3"), std::string_view::npos) << s.ToString();
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace memento::wal
