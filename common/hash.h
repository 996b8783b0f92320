// Hash64: the store's general-purpose 64-bit hash of a byte string.
//
// Fast and well mixed (every input bit affects every output bit), so both the low
// bits (bucket index inside storage/table/hash_map) and the high bits (shard index
// in storage/table/table) are usable on their own. It is NOT a cryptographic hash and
// not designed to resist hash flooding by an attacker who knows the seed.
//
// The value is only used in memory: do not persist it. It may change between
// versions, and it is defined on the little-endian reading of the input, so it is
// the same on every host of one build.
//
// Thread-safety: a pure function; safe from any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace memento {

// Returns the 64-bit hash of `data` (any bytes, including NUL). Different seeds give
// unrelated hash functions.
uint64_t Hash64(std::string_view data, uint64_t seed = 0);

}  // namespace memento
