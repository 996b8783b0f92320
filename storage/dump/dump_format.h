// Constants of the dump file format (memento-dump / memento-restore), shared by the
// writer (dump_writer.cc) and the reader (dump_reader.cc). The specification, with the
// grammar, byte order, what each checksum covers and a worked example, is
// docs/formats/dump.md: when you change anything here, update that file, and bump
// kFormatVersion if an old reader would misread the new bytes.
//
// DO NOT CHANGE THESE VALUES: they are embedded in dump files people keep for years.
//
//   dump    := header block* trailer
//   header  := magic[8] version:u32 flags:u32 body_len:u32 body crc:u32
//   body    := node_len:varint32 node created_ms:i64 data_lsn:u64 key_count:u64
//   block   := 'B' raw_len:u32 zlen:u32 records:u32 crc:u32 zstd_frame[zlen]
//   trailer := 'T' records:u64 data_bytes:u64 blocks:u64 data_crc:u32 crc:u32 end_magic[8]
//   record  := key_len:varint32 key value_len:varint32 value created_ms:i64 expire_ms:i64
//
// Integers little-endian (common/coding.h); i64 is two's complement; every crc is a
// CRC-32C stored masked (common/crc32c.h), as in the write-ahead log.
#pragma once

#include <cstddef>
#include <cstdint>

namespace memento::dump {

inline constexpr char kMagic[8] = {'M', 'E', 'M', 'D', 'U', 'M', 'P', '\0'};
inline constexpr char kEndMagic[8] = {'M', 'E', 'M', 'D', 'E', 'N', 'D', '\0'};
inline constexpr size_t kMagicSize = 8;

// Bumped on any incompatible change; a reader refuses other versions (NotSupported).
inline constexpr uint32_t kFormatVersion = 1;

// Header flags. No flag is defined in version 1: a reader refuses unknown bits.
inline constexpr uint32_t kKnownHeaderFlags = 0;

// magic, version, flags, body_len; then the body and its crc.
inline constexpr size_t kHeaderFixedSize = kMagicSize + 4 + 4 + 4;
// The body: a node name of at most kMaxNodeNameSize bytes and three fixed64 fields.
inline constexpr size_t kMaxNodeNameSize = 255;
inline constexpr size_t kMaxHeaderBodySize = 5 + kMaxNodeNameSize + 8 + 8 + 8;
// key_count when the writer did not know it up front (a dump streamed to a pipe); the
// trailer always has the exact count.
inline constexpr uint64_t kUnknownKeyCount = UINT64_MAX;

// Section tags: the first byte of a block and of the trailer.
inline constexpr char kBlockTag = 'B';
inline constexpr char kTrailerTag = 'T';

// tag, raw_len, zlen, records, crc. The crc covers raw_len, zlen, records and the frame.
inline constexpr size_t kBlockHeaderSize = 1 + 4 + 4 + 4 + 4;
// tag, records, data_bytes, blocks, data_crc, crc, end magic. crc covers the tag through
// data_crc.
inline constexpr size_t kTrailerSize = 1 + 8 + 8 + 8 + 4 + 4 + kMagicSize;

// The writer closes a block once its records reach this many raw bytes (a single
// larger record makes one block of its own: records never span blocks).
inline constexpr size_t kTargetBlockSize = 1u << 20;

// Limits a reader enforces before allocating anything (a damaged length must not make
// it allocate gigabytes). Keys and values: the snapshot's own limits (512 MiB).
inline constexpr uint32_t kMaxKeySize = 512u << 20;
inline constexpr uint32_t kMaxValueSize = 512u << 20;
// One record of the largest key and value, plus its length and time fields.
inline constexpr uint64_t kMaxBlockRawSize = uint64_t{kMaxKeySize} + kMaxValueSize + 64;

inline constexpr int64_t kNoExpiry = -1;

}  // namespace memento::dump
