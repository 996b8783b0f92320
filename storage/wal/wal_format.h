// Constants of the write-ahead log's on-disk format, shared by the record encoder
// (log_writer.cc), the reader (log_reader.cc), the mutation codec (mutation_codec.cc)
// and the segment manager (wal.cc). The format is specified, with its grammar and a
// worked example, in docs/formats/wal.md.
//
// When you change anything here: update docs/formats/wal.md, bump kFormatVersion if
// an older reader would misread the new files, and add a golden file for the old
// version under tests/testdata/.
//
// DO NOT CHANGE THESE VALUES: they are embedded in the on-disk data.
#pragma once

#include <cstddef>
#include <cstdint>

namespace memento::wal {

// ---- Segment header (32 bytes, at offset 0 of every segment file) ----
//
//   0        8          12              20          28     32
//   | magic  | version  | segment_no    | first_lsn | crc  |
//     8 B      u32 LE     u64 LE          u64 LE      u32 LE, masked CRC-32C of [0, 28)
//
// The magic is PNG's trick: a non-ASCII first byte (0x89) catches 7-bit transfers,
// "\r\n" catches line-ending conversion, 0x1A stops `type` on DOS consoles.
inline constexpr char kSegmentMagic[8] = {'\x89', 'M', 'W', 'A', 'L', '\r', '\n', '\x1a'};
// The version this build writes. It reads every version from kOldestReadVersion to
// kFormatVersion (version 1: kMutation records only; version 2 adds kChange and kUnit
// and the delta tags). A newer version is refused.
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr uint32_t kOldestReadVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 32;
inline constexpr size_t kHeaderVersionOffset = 8;
inline constexpr size_t kHeaderNumberOffset = 12;
inline constexpr size_t kHeaderFirstLsnOffset = 20;
inline constexpr size_t kHeaderCrcOffset = 28;

// ---- Record (17-byte header, then the payload) ----
//
//   0      4         8       16     17
//   | crc  | length  | lsn   | type | payload[length] |
//     u32    u32 LE    u64 LE  u8
//   crc = masked CRC-32C of bytes [4, 17 + length): everything after the crc field.
inline constexpr size_t kRecordHeaderSize = 17;
inline constexpr size_t kRecordLengthOffset = 4;
inline constexpr size_t kRecordLsnOffset = 8;
inline constexpr size_t kRecordTypeOffset = 16;
// A larger length is corruption, whatever the file size (values are far smaller; the
// protocol caps a line at 64 KiB and RESP bulk strings at 512 MiB).
inline constexpr uint32_t kMaxRecordPayload = 1u << 30;

// Record types. 0 is never written, so that zero-filled space (a file extended but
// not written before a crash) can never parse as a record.
enum class RecordType : uint8_t {
  kZero = 0,      // reserved, invalid
  kMutation = 1,  // version 1: payload is one mutation (tags 1-4), no reason byte.
                  // Still read in any version; no longer written.
  kChange = 2,    // version 2: reason byte + one mutation (tags 1-8)
  kUnit = 3,      // version 2: several changes replayed all or nothing (one LSN)
};
inline constexpr uint8_t kMaxRecordType = 3;

// ---- Mutation payload (kMutation records) ----
//
// The first byte is the mutation's on-disk tag. These are the storage::MutationType
// values (storage/mutation.h), kept apart from the in-memory enum as redis keeps
// RDB_TYPE_* apart from OBJ_*; mutation_codec.cc static_asserts that they agree.
inline constexpr uint8_t kTagPut = 1;
inline constexpr uint8_t kTagDelete = 2;
inline constexpr uint8_t kTagExpire = 3;
inline constexpr uint8_t kTagClear = 4;
// Version 2: changes to part of a value.
inline constexpr uint8_t kTagAppend = 5;
inline constexpr uint8_t kTagPrepend = 6;
inline constexpr uint8_t kTagSetRange = 7;
inline constexpr uint8_t kTagIncrBy = 8;

// ---- Change reason (kChange, kUnit: the first byte of each change) ----
//
// The storage::ChangeReason values: 0 command, 1 expired, 2 evicted, 3 replicated,
// 4 flush. A larger value is corruption.
inline constexpr uint8_t kMaxReason = 4;

// ---- Files ----
//
// Segments live in <data-dir>/wal/ and are named by their segment number, which
// starts at 1 and grows by one per segment: "00000001.wal" (at least 8 digits;
// readers accept any number of digits).
inline constexpr char kWalDirName[] = "wal";
inline constexpr char kSegmentSuffix[] = ".wal";
inline constexpr int kSegmentNumberDigits = 8;
// What recovery in truncate mode renames dropped segments to, and where it saves the
// bytes it cuts from a damaged one: "<segment file name>.dropped".
inline constexpr char kDroppedSuffix[] = ".dropped";

}  // namespace memento::wal
