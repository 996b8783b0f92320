// Key -> slot hashing, as the original Memento did it: 8192 slots,
// slot = MurmurHash3_x86_32(key, seed 65133) % 8192, plus Redis-style hash tags: if
// the key holds "{...}" with a non-empty inside, only the inside of the first such
// pair is hashed, so related keys ("{user1}.name", "{user1}.mail") share a slot.
//
// Known values (unit-tested): "a" -> 1100, "b" -> 83, "foo" -> 3088, "bar" -> 7169,
// "" -> 1718.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace memento::cluster {

inline constexpr uint32_t kSlotCount = 8192;
inline constexpr uint32_t kSlotHashSeed = 65133;

// Standard MurmurHash3 x86_32 (little-endian 4-byte blocks, fmix32 finaliser).
uint32_t Murmur3_32(std::string_view data, uint32_t seed);

// The part of `key` that is hashed: the bytes between the first '{' and the first
// '}' after it, if that is non-empty; otherwise the whole key.
std::string_view HashTag(std::string_view key);

// The slot of `key`, in [0, kSlotCount).
uint32_t KeySlot(std::string_view key);

}  // namespace memento::cluster
