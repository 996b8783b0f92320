// DumpReader: reads a dump file (docs/formats/dump.md) as a stream of records, checking
// everything on the way: the header's magic, version and crc, each block's crc before
// it is decompressed, each record's lengths against the bytes that remain, and at the
// end the trailer's crc, its totals against what was read, the checksum over every
// record, the end magic and that nothing follows it.
//
// No Reporter: a dump is all or nothing (a restore of part of one would be a silent
// loss), so the first problem stops the reader with a Status naming the file and the
// byte offset:
//   Corruption    damaged, truncated or trailing bytes ("... at byte offset N: ...")
//   NotSupported  another format version, or unknown header flags
//   IOError       the Source failed
// Records handed out before an error are unverified by the trailer: a caller that must
// not act on a bad dump reads it to the end first (memento-restore reads it twice).
//
// Thread-safety: none; one thread per reader. The Source must outlive the reader.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"
#include "storage/dump/dump_format.h"
#include "storage/dump/dump_io.h"
#include "storage/dump/dump_writer.h"
#include "storage/snapshot/zstd_codec.h"

namespace memento::dump {

struct DumpRecord {
  std::string_view key;    // valid until the next call to Next
  std::string_view value;  // valid until the next call to Next
  int64_t created_ms = 0;
  int64_t expire_ms = kNoExpiry;
};

struct ReaderOptions {
  // The largest raw block accepted. The fuzzer lowers it to stay within its memory
  // limit; a block over it is reported as corruption.
  uint64_t max_block_raw_size = kMaxBlockRawSize;
};

class DumpReader {
 public:
  // Reads and checks the header. `name` (the file name, or "stdin") starts every error.
  static Result<std::unique_ptr<DumpReader>> Open(Source* source, std::string name,
                                                  const ReaderOptions& options = {});

  const DumpHeader& header() const { return header_; }

  // The next record: true with *record set; false once the trailer has been read and
  // every check passed (trailer() is then valid); or the error (see the top of this
  // file). After false or an error, later calls return the same.
  Result<bool> Next(DumpRecord* record);

  const DumpTrailer& trailer() const { return trailer_; }
  // Bytes consumed so far: where the next read starts.
  uint64_t offset() const { return offset_; }
  // Records handed out so far.
  uint64_t records_read() const { return records_; }

 private:
  DumpReader(Source* source, std::string name, const ReaderOptions& options,
             std::unique_ptr<snapshot::ZstdDecompressor> decompressor)
      : source_(source),
        name_(std::move(name)),
        options_(options),
        decompressor_(std::move(decompressor)) {}

  Status ReadHeader();
  // Reads exactly n bytes into *out (replacing it); `what` names them for the error
  // if the input ends first.
  Status ReadExact(size_t n, std::string* out, std::string_view what);
  // Reads the next section (block or trailer). Sets done_ at the trailer.
  Status ReadSection();
  Status ReadBlock(uint64_t block_offset);
  Status ReadTrailer(uint64_t trailer_offset);
  Status Corrupt(uint64_t at, std::string_view what) const;
  Status Fail(Status s) {
    status_ = s;
    return s;
  }

  Source* const source_;
  const std::string name_;
  const ReaderOptions options_;
  std::unique_ptr<snapshot::ZstdDecompressor> decompressor_;
  DumpHeader header_;
  DumpTrailer trailer_;

  uint64_t offset_ = 0;
  std::string buf_;            // the section being read
  std::string_view raw_;       // what is left of the current block's records
  uint64_t block_offset_ = 0;  // file offset of the current block
  uint64_t raw_size_ = 0;      // of the current block
  uint32_t block_records_left_ = 0;
  uint64_t records_ = 0;
  uint64_t data_bytes_ = 0;
  uint64_t blocks_ = 0;
  uint32_t data_crc_ = 0;
  bool done_ = false;
  Status status_;
};

}  // namespace memento::dump
