#include "storage/wal/mutation_codec.h"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace memento::wal
