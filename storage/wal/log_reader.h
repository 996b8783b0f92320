// Reader: reads and checks the records of ONE WAL segment file, in order.
//
// It never guesses. Every record is checked (length, CRC-32C over everything after the
// crc field, record type, and an LSN exactly one above the previous one); reading
// stops at the first record that fails, and end()/status() say why and where. The
// reader does not decide what a failure means: whether a damaged end is a harmless
// torn write or corruption that must stop start-up depends on where the segment sits
// in the log, which only the segment manager (wal.cc) knows. It helps that decision
// with FindValidRecordAfterDamage.
//
// leveldb's log::Reader is the model for checking and reporting; unlike it, this
// reader never skips damage to resynchronise (the WAL's recovery keeps a valid prefix
// or stops, see docs/formats/wal.md), so there are no blocks to resynchronise on.
//
// Thread-safety: none; one thread uses a Reader.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"
#include "storage/wal/file.h"
#include "storage/wal/log_writer.h"
#include "storage/wal/wal_format.h"

namespace memento::wal {

class Reader {
 public:
  // Why reading stopped.
  enum class End : uint8_t {
    kNone,         // it has not stopped yet
    kEof,          // cleanly: the last record ends exactly at the end of the file
    kTruncated,    // the file ends inside the header or inside a record (a torn write?)
    kBadRecord,    // bad magic, checksum mismatch, length over the maximum, unknown type
    kUnsupported,  // the segment header has a newer format version
    kLsnMismatch,  // a record with a valid checksum but not the next LSN
    kIOError,      // the file could not be read
  };

  struct Record {
    uint64_t offset = 0;  // of the record's header in the file
    uint64_t lsn = 0;
    RecordType type = RecordType::kZero;
    std::string_view payload;  // valid until the next call to this Reader
  };

  // Reads `file`, whose first file_size bytes are considered (a file that grows while
  // being read is read up to that size). file_name appears in every message.
  // "*file" must remain live while this Reader is in use.
  Reader(const RandomAccessFile* file, uint64_t file_size, std::string file_name);
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Reads and checks the segment header. Returns:
  //   OK           *header filled; records are expected from header->first_lsn on;
  //   Corruption   the file is shorter than a header (end() kTruncated), or the magic
  //                or the header checksum is wrong (kBadRecord);
  //   NotSupported the format version is newer than this build's (kUnsupported);
  //   IOError      (kIOError).
  // The segment number and first LSN are not judged here: the caller compares them
  // with the file name and the previous segment.
  Status ReadHeader(SegmentHeader* header);

  // Reads the next record. Returns true with *record filled, or false when reading
  // stops: then end() says why and status() is OK for kEof, else a Status naming the
  // file, the offset and what is wrong. REQUIRES: ReadHeader returned OK.
  bool ReadRecord(Record* record);

  // Continues reading at `offset`, where the record with LSN next_lsn starts: a
  // cursor that read this segment before (Wal::ReadFrom) skips what it has seen.
  // REQUIRES: ReadHeader returned OK; offset is good_end() of an earlier Reader of the
  // same file, next_lsn its next_lsn().
  void ResumeAt(uint64_t offset, uint64_t next_lsn) {
    pos_ = good_end_ = offset;
    next_lsn_ = next_lsn;
  }

  End end() const { return end_; }
  const Status& status() const { return status_; }
  // Offset just past the last good record (or the header): where the damage starts,
  // and where a truncation keeping every good record cuts.
  uint64_t good_end() const { return good_end_; }
  // The LSN the next record must have (last good LSN + 1).
  uint64_t next_lsn() const { return next_lsn_; }
  uint64_t file_size() const { return file_size_; }
  const std::string& file_name() const { return file_name_; }

  // After reading stopped at damage: searches every offset after good_end() for a
  // record with a known type, a valid checksum and an LSN of at least min_lsn (any
  // LSN if min_lsn is 0). Returns its offset, or -1 if there is none: the damage
  // then runs to the end of the file (a torn tail) rather than sitting in the middle.
  // Records with a lower LSN (stale bytes from an older file, exposed by the file
  // system after a crash) do not count. Cost: one pass over the rest of the file.
  Result<int64_t> FindValidRecordAfterDamage(uint64_t min_lsn);

  // After reading stopped at damage (or after ReadHeader, for a whole segment): the
  // highest LSN of the records with a known type, a valid checksum and an LSN of at
  // least min_lsn found from good_end() on, skipping over damage (each found record
  // is stepped over whole). 0 if there is none. Cost: one pass over the rest of the
  // file. For reporting what a truncation drops, never for replay.
  Result<uint64_t> HighestLsnAfterDamage(uint64_t min_lsn);

 private:
  // Points *out at file bytes [offset, offset + n), or fewer at the end of the file
  // (clipped to file_size). *out is valid until the next Peek.
  Status Peek(uint64_t offset, size_t n, std::string_view* out);
  bool Stop(End end, Status status);
  // The size of the record at offset q if it has a known type, a valid checksum and
  // (min_lsn != 0) an LSN in [min_lsn, max_lsn]; 0 if not.
  Result<uint64_t> ValidRecordAt(uint64_t q, uint64_t min_lsn, uint64_t max_lsn);

  const RandomAccessFile* const file_;
  const uint64_t file_size_;
  const std::string file_name_;

  uint64_t pos_ = 0;       // where the next record starts
  uint64_t good_end_ = 0;
  uint64_t next_lsn_ = 0;
  End end_ = End::kNone;
  Status status_;

  // One reusable read window over the file (leveldb's single read block idea).
  std::string window_;
  uint64_t window_offset_ = 0;
  size_t window_len_ = 0;
};

// A short name for an End value, for messages and tests ("truncated").
const char* EndName(Reader::End end);

}  // namespace memento::wal
