// Long-key slots: where a key that LMDB cannot store as a key (empty, or longer than
// kMaxShortKeySize) lives in kLongKeysDb.
//
//   slot := hash:fixed64 BE  chain:fixed32 BE
//   hash := SipHash-2-4 keyed by the store's 128-bit seed (meta "long_key_seed")
//
// Keys whose hashes collide get distinct chain numbers; the record holds the full key,
// so a lookup scans the slots of one hash and compares keys. A keyed hash with a random
// per-store seed keeps clients from choosing keys that pile into one chain.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/snapshot/snapshot_format.h"

namespace memento::snapshot {

struct LongKeySeed {
  uint64_t k0 = 0;
  uint64_t k1 = 0;
};

// SipHash-2-4 (Aumasson and Bernstein, 2012) of `data` under the key (k0, k1), where k0
// and k1 are the little-endian readings of key bytes 0..7 and 8..15.
uint64_t SipHash24(const LongKeySeed& seed, std::string_view data);

// True if `key` is stored in kLongKeysDb rather than as an LMDB key in kKeysDb.
inline bool IsLongKey(std::string_view key) { return key.empty() || key.size() > kMaxShortKeySize; }

// The kLongKeySlotSize bytes of slot (hash, chain).
std::string EncodeLongKeySlot(uint64_t hash, uint32_t chain);

struct LongKeySlot {
  uint64_t hash = 0;
  uint32_t chain = 0;
};
// REQUIRES: slot.size() == kLongKeySlotSize.
LongKeySlot DecodeLongKeySlot(std::string_view slot);

}  // namespace memento::snapshot
