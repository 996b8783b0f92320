// Test utilities that damage a data directory the way crashes and disks do: find the
// write-ahead log's segments, list their records, cut a segment short, append bytes to
// it, flip a byte in it, copy a whole data directory.
//
// The record framing is taken from the spec (docs/formats/wal.md: a 32-byte segment
// header, then records of a 17-byte header `crc:u32 length:u32 lsn:u64 type:u8` and
// `length` payload bytes), deliberately not from storage/wal/wal_format.h: these
// helpers check the daemon's files against the document, not against the code that
// writes them.
//
// Thread-safety: plain functions over files; callers make sure no daemon has the
// directory open while they change it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace memento::testing {

// Per docs/formats/wal.md ("Segment header", "Record").
inline constexpr uint64_t kWalSegmentHeaderBytes = 32;
inline constexpr uint64_t kWalRecordHeaderBytes = 17;

// The segment files (`NNNNNNNN.wal`) in <data_dir>/wal, oldest first. Set-aside
// `*.dropped` files are not segments.
std::vector<std::string> WalSegments(const std::string& data_dir);
// The newest segment's path, or "" if there is none.
std::string NewestWalSegment(const std::string& data_dir);

// One whole record of a segment: header and payload.
struct WalRecordExtent {
  uint64_t offset = 0;  // of its first (crc) byte
  uint64_t size = 0;    // 17 + payload length
  uint64_t lsn = 0;
  uint64_t end() const { return offset + size; }
  uint64_t payload_offset() const { return offset + kWalRecordHeaderBytes; }
};

// Walks the framing of the segment at `path` from byte 32 on, without checking
// checksums; stops at the first record that does not fit in the file.
std::vector<WalRecordExtent> ListWalRecords(const std::string& path);

// Size of a file, or -1 if it cannot be read.
int64_t FileSize(const std::string& path);
// Cuts the file to `size` bytes.
bool TruncateFileTo(const std::string& path, uint64_t size);
// Appends `bytes` to the file.
bool AppendToFile(const std::string& path, const std::string& bytes);
// XORs the byte at `offset` with `mask` (0xff inverts it; mask must not be 0).
bool FlipByte(const std::string& path, uint64_t offset, uint8_t mask = 0xff);
// Copies the directory tree `from` to `to` (which must not exist yet).
bool CopyTree(const std::string& from, const std::string& to);

}  // namespace memento::testing
