#include "storage/snapshot/long_key.h"

#include <cassert>

#include "common/coding.h"

namespace memento::snapshot {
namespace {

inline uint64_t Rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

struct SipState {
  uint64_t v0, v1, v2, v3;

  // One SipRound, laid out as in the paper's diagram.
  // clang-format off
  void Round() {
    v0 += v1; v1 = Rotl(v1, 13); v1 ^= v0; v0 = Rotl(v0, 32);
    v2 += v3; v3 = Rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = Rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = Rotl(v1, 17); v1 ^= v2; v2 = Rotl(v2, 32);
  }
  // clang-format on
  void Absorb(uint64_t m) {
    v3 ^= m;
    Round();
    Round();
    v0 ^= m;
  }
};

}  // namespace

uint64_t SipHash24(const LongKeySeed& seed, std::string_view data) {
  // The initialisation constants are "somepseudorandomlygeneratedbytes" in ASCII.
  SipState s{seed.k0 ^ 0x736f6d6570736575ULL, seed.k1 ^ 0x646f72616e646f6dULL,
             seed.k0 ^ 0x6c7967656e657261ULL, seed.k1 ^ 0x7465646279746573ULL};
  const size_t full_words = data.size() / 8;
  for (size_t i = 0; i < full_words; ++i) s.Absorb(DecodeFixed64(data.data() + 8 * i));
  // Last word: the remaining 0..7 bytes (little-endian) with the length's low byte on top.
  uint64_t last = static_cast<uint64_t>(data.size() & 0xff) << 56;
  const size_t tail = data.size() % 8;
  for (size_t i = 0; i < tail; ++i) {
    last |= uint64_t{static_cast<unsigned char>(data[8 * full_words + i])} << (8 * i);
  }
  s.Absorb(last);
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) s.Round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

std::string EncodeLongKeySlot(uint64_t hash, uint32_t chain) {
  std::string slot(kLongKeySlotSize, '\0');
  EncodeBigEndian64(slot.data(), hash);
  EncodeBigEndian32(slot.data() + 8, chain);
  return slot;
}

LongKeySlot DecodeLongKeySlot(std::string_view slot) {
  assert(slot.size() == kLongKeySlotSize);
  return LongKeySlot{DecodeBigEndian64(slot.data()), DecodeBigEndian32(slot.data() + 8)};
}

}  // namespace memento::snapshot
