// Helpers for the WAL targets (wal_reader_fuzzer.cc, wal_recovery_fuzzer.cc).
//
// Checksums stop a fuzzer cold: a random mutation of a record almost never keeps its
// CRC-32C valid, so without help it would only ever explore "checksum mismatch".
// RepairSegment is the usual way around it: on request it rewrites the magic, the
// version, the segment number, the LSNs and the checksums of a fuzzed segment so the
// fuzzer can reach the code behind each check. Which fixes apply is part of the input,
// so unrepaired (and partly repaired) segments are explored too.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/coding.h"
#include "common/crc32c.h"
#include "storage/wal/wal_format.h"

namespace memento::fuzz {

// Bits of the "repair" byte.
inline constexpr uint8_t kFixMagic = 1 << 0;       // magic and format version
inline constexpr uint8_t kFixHeaderCrc = 1 << 1;   // (after the other header fixes)
inline constexpr uint8_t kFixRecordCrcs = 1 << 2;  // every record whose length fits
inline constexpr uint8_t kFixLsns = 1 << 3;        // header first_lsn and record LSNs in order
inline constexpr uint8_t kFixNumber = 1 << 4;      // header segment number = the file's

// Rewrites `seg` as asked by `fixes`. With kFixLsns the segment starts at *next_lsn
// and its records take the following LSNs; *next_lsn is left one past the last record
// (so consecutive segments continue each other). `number` is the file's segment number.
inline void RepairSegment(std::string* seg, uint8_t fixes, uint64_t number, uint64_t* next_lsn) {
  using namespace wal;  // NOLINT: the format constants
  if (seg->size() < kSegmentHeaderSize) return;
  char* h = seg->data();
  if ((fixes & kFixMagic) != 0) {
    std::memcpy(h, kSegmentMagic, sizeof(kSegmentMagic));
    EncodeFixed32(h + kHeaderVersionOffset, kFormatVersion);
  }
  if ((fixes & kFixNumber) != 0) EncodeFixed64(h + kHeaderNumberOffset, number);
  if ((fixes & kFixLsns) != 0) EncodeFixed64(h + kHeaderFirstLsnOffset, *next_lsn);
  if ((fixes & kFixHeaderCrc) != 0) {
    EncodeFixed32(h + kHeaderCrcOffset, crc32c::Mask(crc32c::Value(h, kHeaderCrcOffset)));
  }
  size_t pos = kSegmentHeaderSize;
  while (seg->size() - pos >= kRecordHeaderSize) {
    char* r = seg->data() + pos;
    const uint32_t length = DecodeFixed32(r + kRecordLengthOffset);
    if (length > seg->size() - pos - kRecordHeaderSize) break;
    if ((fixes & kFixLsns) != 0) EncodeFixed64(r + kRecordLsnOffset, (*next_lsn)++);
    if ((fixes & kFixRecordCrcs) != 0) {
      const uint32_t crc =
          crc32c::Value(r + kRecordLengthOffset, kRecordHeaderSize - kRecordLengthOffset + length);
      EncodeFixed32(r, crc32c::Mask(crc));
    }
    pos += kRecordHeaderSize + length;
  }
}

}  // namespace memento::fuzz
