#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace memento::crc32c {
namespace {

// The check value every CRC-32C implementation publishes.
TEST(Crc32cTest, StandardCheckValue) {
  EXPECT_EQ(Value("123456789"), 0xE3069283u);
  EXPECT_EQ(internal::ExtendPortable(0, "123456789", 9), 0xE3069283u);
}

// Vectors from RFC 3720 (iSCSI), appendix B.4.
TEST(Crc32cTest, Rfc3720Vectors) {
  EXPECT_EQ(Value(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Value(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending(32, '\0');
  for (int i = 0; i < 32; ++i) ascending[i] = static_cast<char>(i);
  EXPECT_EQ(Value(ascending), 0x46DD794Eu);
}

TEST(Crc32cTest, EmptyInputIsZero) { EXPECT_EQ(Value(""), 0u); }

TEST(Crc32cTest, ExtendInPiecesEqualsWhole) {
  const std::string data = "hello, write-ahead log: a record checksummed in pieces";
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    const uint32_t first = Value(data.data(), cut);
    EXPECT_EQ(Extend(first, data.data() + cut, data.size() - cut), Value(data)) << cut;
  }
}

TEST(Crc32cTest, HardwareAndPortableAgreeOnRandomInputs) {
  if (!internal::HardwareAvailable()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  std::mt19937_64 rng(42);
  std::string data(4096 + 7, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  // Every length and start alignment up to 64, then a long buffer.
  for (size_t start = 0; start < 8; ++start) {
    for (size_t n = 0; n < 64; ++n) {
      ASSERT_EQ(internal::ExtendHardware(0x1234, data.data() + start, n),
                internal::ExtendPortable(0x1234, data.data() + start, n))
          << start << " " << n;
    }
  }
  EXPECT_EQ(internal::ExtendHardware(0, data.data(), data.size()),
            internal::ExtendPortable(0, data.data(), data.size()));
}

TEST(Crc32cTest, MaskChangesTheValueAndUnmaskRestoresIt) {
  const uint32_t crc = Value("foo");
  EXPECT_NE(crc, Mask(crc));
  EXPECT_NE(crc, Mask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Unmask(Mask(Mask(crc)))));
}

}  // namespace
}  // namespace memento::crc32c
