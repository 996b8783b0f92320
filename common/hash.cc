// Hash64 design
//
// The mixing primitive is the "folded multiply": the full 128-bit product of two
// 64-bit words, with its high half xored into its low half. One such multiply makes
// every output bit depend on every input bit of both operands, which is why the
// function needs so few rounds. Its weakness is that a zero operand wipes out the
// other one, so every word is xored with a distinct odd constant (or with running
// state) before it is multiplied.
//
//   len <= 16 : the input is read as two (possibly overlapping) words, so no loop and
//               no byte-by-byte tail; the length is folded into the initial state so
//               that e.g. "a" and "a\0" cannot collide through overlapping reads.
//   len >  16 : two independent lanes eat 32 bytes per iteration (the CPU overlaps
//               their multiplies), then one 16-byte step, then the last 16 bytes of
//               the input, which may overlap bytes already consumed.
//   finally   : one more folded multiply and an xor-shift/multiply avalanche, so that
//               the low bits (bucket index) are as good as the high bits.
//
// A simpler multiply-xorshift per 8-byte word (64-bit products only) was tried
// first; it needs roughly twice as many rounds for the same avalanche quality.
#include "common/hash.h"

#include <bit>
#include <cstring>

namespace memento {
namespace {

// Well-known odd 64-bit constants with balanced bit patterns (the golden-ratio one
// and the finalizer multipliers used widely in 64-bit mixers).
constexpr uint64_t kK0 = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t kK1 = 0xbf58476d1ce4e5b9ULL;
constexpr uint64_t kK2 = 0x94d049bb133111ebULL;
constexpr uint64_t kK3 = 0xff51afd7ed558ccdULL;

__extension__ using Uint128 = unsigned __int128;

inline uint64_t FoldedMultiply(uint64_t a, uint64_t b) {
  const Uint128 product = static_cast<Uint128>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

// Little-endian loads; memcpy is how to do an unaligned load without UB, and
// compiles to a single mov.
inline uint64_t DecodeFixed64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

inline uint64_t DecodeFixed32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

}  // namespace

uint64_t Hash64(std::string_view data, uint64_t seed) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t n = data.size();
  uint64_t state = FoldedMultiply(seed ^ kK0, static_cast<uint64_t>(n) ^ kK1);
  uint64_t a;
  uint64_t b;
  if (n <= 16) {
    if (n >= 8) {
      a = DecodeFixed64(p);
      b = DecodeFixed64(p + n - 8);
    } else if (n >= 4) {
      a = DecodeFixed32(p);
      b = DecodeFixed32(p + n - 4);
    } else if (n > 0) {
      // First, middle and last byte: covers every byte for n = 1..3.
      a = (static_cast<uint64_t>(p[0]) << 16) | (static_cast<uint64_t>(p[n / 2]) << 8) | p[n - 1];
      b = 0;
    } else {
      a = 0;
      b = 0;
    }
  } else {
    const unsigned char* const end = p + n;
    size_t left = n;
    uint64_t lane = state ^ kK2;
    while (left > 32) {
      state = FoldedMultiply(DecodeFixed64(p) ^ kK1, DecodeFixed64(p + 8) ^ state);
      lane = FoldedMultiply(DecodeFixed64(p + 16) ^ kK2, DecodeFixed64(p + 24) ^ lane);
      p += 32;
      left -= 32;
    }
    // A multiply, not an xor: when the loop did not run, lane is still derived from
    // state, and an xor would cancel the length out of it.
    state = FoldedMultiply(state ^ kK3, lane);
    if (left > 16) {
      state = FoldedMultiply(DecodeFixed64(p) ^ kK1, DecodeFixed64(p + 8) ^ state);
    }
    // Invariant: n > 16, so the last 16 bytes lie inside the input.
    a = DecodeFixed64(end - 16);
    b = DecodeFixed64(end - 8);
  }
  uint64_t h = FoldedMultiply(a ^ kK1, b ^ state);
  h = FoldedMultiply(h ^ kK2, state ^ kK3);
  h ^= h >> 32;
  h *= kK0;
  h ^= h >> 29;
  return h;
}

}  // namespace memento
