// Tests of the zstd helpers: round trips, and one test per way a stored frame can be
// damaged (each must be Corruption, never a crash or an oversized allocation).
#include "storage/snapshot/zstd_codec.h"

#include <gtest/gtest.h>

#include <string>

namespace memento::snapshot {
namespace {

class ZstdCodecTest : public testing::Test {
 protected:
  void SetUp() override {
    auto c = ZstdCompressor::Create(3);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    compressor_ = std::move(*c);
    auto d = ZstdDecompressor::Create();
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    decompressor_ = std::move(*d);
  }

  std::string Compress(std::string_view raw) {
    auto frame = compressor_->Compress(raw);
    EXPECT_TRUE(frame.ok()) << frame.status().ToString();
    return frame.ok() ? std::string(*frame) : std::string();
  }

  std::unique_ptr<ZstdCompressor> compressor_;
  std::unique_ptr<ZstdDecompressor> decompressor_;
};

const std::string kText = [] {
  std::string s;
  for (int i = 0; i < 200; ++i) s += "the quick brown fox " + std::to_string(i % 7) + "\n";
  return s;
}();

TEST_F(ZstdCodecTest, RoundTrip) {
  const std::string frame = Compress(kText);
  EXPECT_LT(frame.size(), kText.size() / 4);
  auto raw = decompressor_->Decompress(frame, kText.size());
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(*raw, kText);
}

TEST_F(ZstdCodecTest, EmptyInputRoundTrips) {
  const std::string frame = Compress("");
  auto raw = decompressor_->Decompress(frame, 0);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(*raw, "");
}

TEST_F(ZstdCodecTest, ContextsAreReusedAcrossCalls) {
  for (int i = 0; i < 3; ++i) {
    const std::string value = kText.substr(0, 1000 + 500 * static_cast<size_t>(i));
    auto raw = decompressor_->Decompress(Compress(value), value.size());
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(*raw, value);
  }
}

TEST_F(ZstdCodecTest, FlippedByteIsCorruption) {
  std::string frame = Compress(kText);
  frame[frame.size() / 2] = static_cast<char>(frame[frame.size() / 2] ^ 0x5a);
  EXPECT_TRUE(decompressor_->Decompress(frame, kText.size()).status().IsCorruption());
}

TEST_F(ZstdCodecTest, TruncatedFrameIsCorruption) {
  const std::string frame = Compress(kText);
  EXPECT_TRUE(decompressor_->Decompress(frame.substr(0, frame.size() - 6), kText.size())
                  .status()
                  .IsCorruption());
}

TEST_F(ZstdCodecTest, NotAFrameIsCorruption) {
  EXPECT_TRUE(decompressor_->Decompress("plain bytes, no magic", 10).status().IsCorruption());
  EXPECT_TRUE(decompressor_->Decompress("", 10).status().IsCorruption());
}

TEST_F(ZstdCodecTest, RawLengthMismatchIsCorruption) {
  const std::string frame = Compress(kText);
  auto shorter = decompressor_->Decompress(frame, kText.size() - 1);
  ASSERT_TRUE(shorter.status().IsCorruption());
  EXPECT_NE(shorter.status().message().find("declares"), std::string_view::npos);
  EXPECT_TRUE(decompressor_->Decompress(frame, kText.size() + 1).status().IsCorruption());
}

}  // namespace
}  // namespace memento::snapshot
