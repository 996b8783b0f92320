// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78): the checksum of
// every on-disk record (docs/formats/wal.md).
//
// Value(data) is the standard CRC-32C: Value("123456789") == 0xE3069283. Extend lets
// a caller checksum a record in pieces. Mask/Unmask (the leveldb idea) are applied to
// every checksum that is STORED: computing the CRC of bytes that themselves contain
// CRCs (a WAL segment copied into another checksummed file, a record of records) is
// weak, because the CRC of "data + its own CRC" is a constant. The masked value breaks
// that relation. Store Mask(crc); compare Unmask(stored) with the CRC you compute.
//
// Implementation: the SSE4.2 crc32 instruction when the CPU has it (checked once at
// run time), else a portable slice-by-8 table lookup. Both give identical results
// (crc32c_test.cc checks this on random inputs).
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace memento::crc32c {

// Returns the CRC-32C of concat(A, data) where init_crc is the CRC-32C of some string
// A. Extend(0, data) == Value(data).
uint32_t Extend(uint32_t init_crc, const char* data, size_t n);

inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view data) { return Extend(0, data.data(), data.size()); }

// The masked form of crc, for storing (see the header comment).
inline constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
// Inverse of Mask.
inline uint32_t Unmask(uint32_t masked_crc) {
  const uint32_t rot = masked_crc - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

namespace internal {
// The two implementations behind Extend, exposed for tests and benchmarks.
// ExtendHardware REQUIRES: HardwareAvailable().
uint32_t ExtendPortable(uint32_t init_crc, const char* data, size_t n);
uint32_t ExtendHardware(uint32_t init_crc, const char* data, size_t n);
bool HardwareAvailable();
}  // namespace internal

}  // namespace memento::crc32c
