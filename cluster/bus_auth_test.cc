// HMAC-SHA256 against the RFC 4231 test vectors (section 4), and the properties of the
// bus handshake proof that the handshake relies on.
#include "cluster/bus_auth.h"

#include <gtest/gtest.h>

#include <string>

namespace memento::cluster {
namespace {

std::string Hex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Mac(const std::string& key, const std::string& data) {
  std::string mac;
  const Status s = HmacSha256(key, data, &mac);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return Hex(mac);
}

std::string Repeat(char c, size_t n) { return std::string(n, c); }

TEST(HmacSha256Test, Rfc4231TestCase1) {
  EXPECT_EQ(Mac(Repeat('\x0b', 20), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256Test, Rfc4231TestCase2ShortKey) {
  EXPECT_EQ(Mac("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, Rfc4231TestCase3) {
  EXPECT_EQ(Mac(Repeat('\xaa', 20), Repeat('\xdd', 50)),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
}

TEST(HmacSha256Test, Rfc4231TestCase4) {
  std::string key;
  for (int i = 1; i <= 25; ++i) key.push_back(static_cast<char>(i));
  EXPECT_EQ(Mac(key, Repeat('\xcd', 50)),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}

TEST(HmacSha256Test, Rfc4231TestCase6KeyLargerThanBlock) {
  EXPECT_EQ(Mac(Repeat('\xaa', 131), "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256Test, Rfc4231TestCase7KeyAndDataLargerThanBlock) {
  EXPECT_EQ(Mac(Repeat('\xaa', 131),
                "This is a test using a larger than block-size key and a larger than "
                "block-size data. The key needs to be hashed before being used by the HMAC "
                "algorithm."),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(HmacSha256Test, EmptyKeyAndData) {
  // The bus runs the handshake with an empty secret when none is configured.
  EXPECT_EQ(Mac("", ""), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(RandomBytesTest, GivesTheLengthAskedAndDiffersEachTime) {
  std::string a, b;
  ASSERT_TRUE(RandomBytes(kBusNonceSize, &a).ok());
  ASSERT_TRUE(RandomBytes(kBusNonceSize, &b).ok());
  EXPECT_EQ(a.size(), kBusNonceSize);
  EXPECT_NE(a, b);
}

TEST(ConstantTimeEqualsTest, ComparesBytesAndLengths) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

std::string Proof(std::string_view secret, BusRole role, std::string_view nd,
                  std::string_view na, std::string_view d, std::string_view a) {
  std::string proof;
  EXPECT_TRUE(BusProof(secret, role, nd, na, d, a, &proof).ok());
  return proof;
}

TEST(BusProofTest, DependsOnSecretRoleNoncesAndNames) {
  const std::string p = Proof("s3cret", BusRole::kDialler, "nd", "na", "a", "b");
  EXPECT_EQ(p.size(), kHmacSha256Size);
  EXPECT_EQ(p, Proof("s3cret", BusRole::kDialler, "nd", "na", "a", "b"));
  EXPECT_NE(p, Proof("other", BusRole::kDialler, "nd", "na", "a", "b"));
  EXPECT_NE(p, Proof("s3cret", BusRole::kAcceptor, "nd", "na", "a", "b"));  // reflection
  EXPECT_NE(p, Proof("s3cret", BusRole::kDialler, "nd2", "na", "a", "b"));  // replay
  EXPECT_NE(p, Proof("s3cret", BusRole::kDialler, "nd", "na2", "a", "b"));
  EXPECT_NE(p, Proof("s3cret", BusRole::kDialler, "nd", "na", "b", "a"));
  // Length prefixes: moving a byte from one field to the next changes the proof.
  EXPECT_NE(p, Proof("s3cret", BusRole::kDialler, "n", "dna", "a", "b"));
}

}  // namespace
}  // namespace memento::cluster
