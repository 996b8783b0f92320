// Writing the WAL's on-disk format (docs/formats/wal.md, constants in wal_format.h):
// encoding records into a memory buffer, and SegmentWriter, which creates one
// segment file and appends already-encoded records to it.
//
// Encoding and I/O are separate on purpose: the WAL encodes each record into a shared
// buffer under a short mutex on the hot path (no syscalls), and a later group-commit
// leader writes the whole buffer with one write(2). See wal.h.
//
// Thread-safety: the encoding functions are pure. A SegmentWriter is appended to by
// one thread at a time (the WAL's I/O-token holder); Sync may run concurrently with
// Append from another thread (see file.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"
#include "storage/wal/file.h"
#include "storage/wal/wal_format.h"

namespace memento::wal {

// ---- Encoding (no I/O) ----

// Appends a record header placeholder to *dst and returns its offset. The caller then
// appends the payload and calls FinishRecord. This lets the WAL encode a mutation
// straight into its buffer, without an intermediate copy.
size_t BeginRecord(std::string* dst);
// Fills in the header that BeginRecord reserved at `start`: length (everything
// appended since the header), lsn, type, and the masked CRC-32C of bytes [4, end).
// REQUIRES: start came from BeginRecord(dst) and the payload appended since is at most
// kMaxRecordPayload bytes.
void FinishRecord(std::string* dst, size_t start, uint64_t lsn, RecordType type);
// BeginRecord + append payload + FinishRecord.
void AppendRecord(std::string* dst, uint64_t lsn, RecordType type, std::string_view payload);

struct SegmentHeader {
  uint32_t version = kFormatVersion;
  uint64_t number = 0;     // the segment's number; equals the one in its file name
  uint64_t first_lsn = 0;  // LSN of its first record (or of the next record, if none)
};
// Appends the kSegmentHeaderSize-byte header to *dst.
void EncodeSegmentHeader(const SegmentHeader& header, std::string* dst);

// ---- SegmentWriter ----

class SegmentWriter {
 public:
  // Creates (or truncates) the file at path, writes the segment header and syncs the
  // file, so that a segment that exists after a crash always starts with a whole
  // header unless the crash hit this very call. The caller syncs the directory.
  static Result<std::unique_ptr<SegmentWriter>> Create(FileSystem* fs, std::string path,
                                                       uint64_t number, uint64_t first_lsn);
  ~SegmentWriter();

  // Appends encoded records (one or more whole records from AppendRecord).
  Status Append(std::string_view records);
  // fdatasync. May run concurrently with Append.
  Status Sync();
  // Closes the file. REQUIRES: no Append or Sync in flight.
  Status Close();

  const std::string& path() const { return path_; }
  uint64_t number() const { return number_; }
  uint64_t first_lsn() const { return first_lsn_; }
  // Bytes in the file, header included, as of the last Append. Only for the thread
  // that appends.
  uint64_t size() const { return size_; }

 private:
  SegmentWriter(std::unique_ptr<WritableFile> file, std::string path, uint64_t number,
                uint64_t first_lsn);

  const std::unique_ptr<WritableFile> file_;
  const std::string path_;
  const uint64_t number_;
  const uint64_t first_lsn_;
  uint64_t size_ = 0;
};

}  // namespace memento::wal
