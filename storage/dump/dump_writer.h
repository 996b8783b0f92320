// DumpWriter: encodes a dump file (docs/formats/dump.md) onto a Sink, one record at a
// time, in zstd-compressed checksummed blocks. Memory: one block (about
// kTargetBlockSize raw bytes, or one large record) and its compressed copy.
//
// Usage: Create (writes the header), Add per key, Finish (last block + trailer). A
// writer that returned an error must not be used again (the stream is incomplete:
// the tool deletes its output file).
//
// Thread-safety: none; one thread per writer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"
#include "storage/dump/dump_io.h"
#include "storage/snapshot/zstd_codec.h"

namespace memento::dump {

// What the header says about the dump.
struct DumpHeader {
  uint32_t version = 0;  // set by the reader; the writer always writes kFormatVersion
  uint32_t flags = 0;
  std::string node;        // source node name (host name); at most kMaxNodeNameSize bytes
  int64_t created_ms = 0;  // when the dump was taken (ms since the epoch)
  uint64_t data_lsn = 0;   // the WAL LSN the data is consistent at
  uint64_t key_count = 0;  // kUnknownKeyCount if not known when the header was written
};

// The trailer's totals.
struct DumpTrailer {
  uint64_t records = 0;
  uint64_t data_bytes = 0;  // sum of key and value sizes
  uint64_t blocks = 0;
  uint32_t data_crc = 0;  // CRC-32C (unmasked) of every block's raw bytes, in order
};

// The header's bytes. The size depends only on the node name's length, so a file
// written with kUnknownKeyCount can be patched in place once the count is known.
// REQUIRES: header.node.size() <= kMaxNodeNameSize.
std::string EncodeHeader(const DumpHeader& header);

class DumpWriter {
 public:
  // Writes the header to `sink` (which must outlive the writer). `level`: the zstd
  // level (3 by default; 1 is faster, 19 smaller). InvalidArgument for a node name over
  // kMaxNodeNameSize bytes; the sink's error; IOError if zstd rejects the level.
  static Result<std::unique_ptr<DumpWriter>> Create(Sink* sink, const DumpHeader& header,
                                                    int level = 3);

  // Adds one entry (expire_ms: absolute ms since the epoch, kNoExpiry for none).
  // InvalidArgument if the key or value is over the format's limits.
  Status Add(std::string_view key, std::string_view value, int64_t created_ms, int64_t expire_ms);

  // Writes the last block and the trailer. *trailer (may be null) gets the totals.
  Status Finish(DumpTrailer* trailer = nullptr);

  uint64_t records() const { return totals_.records; }
  uint64_t bytes_written() const { return bytes_written_; }  // header, blocks, trailer so far

 private:
  DumpWriter(Sink* sink, std::unique_ptr<snapshot::ZstdCompressor> compressor)
      : sink_(sink), compressor_(std::move(compressor)) {}
  Status FlushBlock();
  Status Write(std::string_view bytes);

  Sink* const sink_;
  std::unique_ptr<snapshot::ZstdCompressor> compressor_;
  std::string block_;  // raw records of the open block
  uint32_t block_records_ = 0;
  std::string scratch_;  // the block header being written
  DumpTrailer totals_;
  uint64_t bytes_written_ = 0;
  bool finished_ = false;
};

}  // namespace memento::dump
