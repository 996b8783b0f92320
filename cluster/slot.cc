// MurmurHash3 x86_32, written from the algorithm's description (Austin Appleby's
// public-domain design): the input is read as little-endian 32-bit blocks, each block
// is scrambled (multiply, rotate, multiply) and mixed into the running hash (xor,
// rotate, multiply-add); the 1..3 tail bytes are scrambled the same way; the length
// is folded in and fmix32 avalanches the result. Reading the blocks byte by byte
// makes the value the same on every host (the original Memento read them with a
// pointer cast, which is only the same on little-endian machines).

#include "cluster/slot.h"

#include <cstddef>

namespace memento::cluster {

namespace {

constexpr uint32_t kC1 = 0xcc9e2d51u;
constexpr uint32_t kC2 = 0x1b873593u;

constexpr uint32_t Rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

constexpr uint32_t ScrambleBlock(uint32_t k) {
  k *= kC1;
  k = Rotl32(k, 15);
  k *= kC2;
  return k;
}

constexpr uint32_t Fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

uint32_t LoadLe32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

}  // namespace

uint32_t Murmur3_32(std::string_view data, uint32_t seed) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t n = data.size();
  const size_t blocks = n / 4;
  uint32_t h = seed;
  for (size_t i = 0; i < blocks; ++i) {
    h ^= ScrambleBlock(LoadLe32(p + 4 * i));
    h = Rotl32(h, 13);
    h = h * 5 + 0xe6546b64u;
  }
  const unsigned char* tail = p + 4 * blocks;
  uint32_t k = 0;
  switch (n & 3u) {
    case 3:
      k ^= static_cast<uint32_t>(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      k ^= static_cast<uint32_t>(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      k ^= static_cast<uint32_t>(tail[0]);
      h ^= ScrambleBlock(k);
      break;
    default:
      break;
  }
  // The algorithm folds in the length modulo 2^32.
  h ^= static_cast<uint32_t>(n);
  return Fmix32(h);
}

std::string_view HashTag(std::string_view key) {
  const size_t open = key.find('{');
  if (open == std::string_view::npos) return key;
  const size_t close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

uint32_t KeySlot(std::string_view key) {
  return Murmur3_32(HashTag(key), kSlotHashSeed) % kSlotCount;
}

}  // namespace memento::cluster
