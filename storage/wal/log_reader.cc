// Reads the segment grammar written by log_writer.cc:
//
//   segment := header record*
//   header  := magic[8] version:u32 segment_no:u64 first_lsn:u64 crc:u32
//   record  := crc:u32 length:u32 lsn:u64 type:u8 payload[length]
//
// Checks are ordered so that the cheapest test that can reject damage runs first,
// and so that a record is only trusted once its checksum matched: the length is
// bounded before anything is read for it, the checksum is verified before the type or
// the LSN is believed.
#include "storage/wal/log_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "common/crc32c.h"
#include "common/coding.h"

namespace memento::wal {
namespace {

// Bytes read at a time. Records are usually much smaller, so one read serves many.
constexpr size_t kReadChunk = 64 * 1024;

// Every record type of every version this build reads (a version-1 segment never
// holds kChange or kUnit, but telling them apart by version would buy nothing: the
// checksum already says the bytes are what was written).
bool KnownType(uint8_t type) { return type >= 1 && type <= kMaxRecordType; }

std::string At(const std::string& file, uint64_t offset) {
  return file + " at offset " + std::to_string(offset);
}

}  // namespace

const char* EndName(Reader::End end) {
  switch (end) {
    case Reader::End::kNone: return "none";
    case Reader::End::kEof: return "eof";
    case Reader::End::kTruncated: return "truncated";
    case Reader::End::kBadRecord: return "bad record";
    case Reader::End::kUnsupported: return "unsupported";
    case Reader::End::kLsnMismatch: return "lsn mismatch";
    case Reader::End::kIOError: return "io error";
  }
  return "?";
}

Reader::Reader(const RandomAccessFile* file, uint64_t file_size, std::string file_name)
    : file_(file), file_size_(file_size), file_name_(std::move(file_name)) {}

Status Reader::Peek(uint64_t offset, size_t n, std::string_view* out) {
  if (offset >= file_size_) {
    *out = {};
    return Status::OK();
  }
  n = static_cast<size_t>(std::min<uint64_t>(n, file_size_ - offset));
  if (offset < window_offset_ || offset + n > window_offset_ + window_len_) {
    // Refill from `offset`: a read of at least kReadChunk, more for a large record.
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(std::max(n, kReadChunk), file_size_ - offset));
    if (window_.size() < want) window_.resize(want);
    std::string_view got;
    MEMENTO_RETURN_IF_ERROR(file_->Read(offset, want, window_.data(), &got));
    if (got.data() != window_.data()) std::memmove(window_.data(), got.data(), got.size());
    window_offset_ = offset;
    window_len_ = got.size();
    n = std::min(n, window_len_);
  }
  *out = std::string_view(window_.data() + (offset - window_offset_), n);
  return Status::OK();
}

bool Reader::Stop(End end, Status status) {
  end_ = end;
  status_ = std::move(status);
  return false;
}

Status Reader::ReadHeader(SegmentHeader* header) {
  pos_ = good_end_ = 0;
  std::string_view h;
  if (Status s = Peek(0, kSegmentHeaderSize, &h); !s.ok()) {
    Stop(End::kIOError, s);
    return s;
  }
  if (h.size() < kSegmentHeaderSize) {
    Stop(End::kTruncated, Status::Corruption(file_name_ + ": segment header cut short: " +
                                             std::to_string(h.size()) + " of " +
                                             std::to_string(kSegmentHeaderSize) + " bytes"));
    return status_;
  }
  if (std::memcmp(h.data(), kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
    Stop(End::kBadRecord,
         Status::Corruption(At(file_name_, 0) + ": not a WAL segment (bad magic bytes)"));
    return status_;
  }
  const uint32_t expected = crc32c::Unmask(DecodeFixed32(h.data() + kHeaderCrcOffset));
  if (crc32c::Value(h.data(), kHeaderCrcOffset) != expected) {
    Stop(End::kBadRecord,
         Status::Corruption(At(file_name_, 0) + ": segment header checksum mismatch"));
    return status_;
  }
  header->version = DecodeFixed32(h.data() + kHeaderVersionOffset);
  header->number = DecodeFixed64(h.data() + kHeaderNumberOffset);
  header->first_lsn = DecodeFixed64(h.data() + kHeaderFirstLsnOffset);
  if (header->version < kOldestReadVersion || header->version > kFormatVersion) {
    Stop(End::kUnsupported,
         Status::NotSupported(file_name_ + ": WAL format version " +
                              std::to_string(header->version) + ", this build reads versions " +
                              std::to_string(kOldestReadVersion) + " to " +
                              std::to_string(kFormatVersion) +
                              "; run the memento that wrote it, or a newer one"));
    return status_;
  }
  pos_ = good_end_ = kSegmentHeaderSize;
  next_lsn_ = header->first_lsn;
  return Status::OK();
}

bool Reader::ReadRecord(Record* record) {
  if (end_ != End::kNone) return false;
  const uint64_t offset = pos_;
  if (offset == file_size_) return Stop(End::kEof, Status::OK());

  std::string_view h;
  if (Status s = Peek(offset, kRecordHeaderSize, &h); !s.ok()) return Stop(End::kIOError, s);
  if (h.size() < kRecordHeaderSize) {
    return Stop(End::kTruncated,
                Status::Corruption(At(file_name_, offset) + ": record header cut short (" +
                                   std::to_string(h.size()) + " of " +
                                   std::to_string(kRecordHeaderSize) + " bytes)"));
  }
  const uint32_t length = DecodeFixed32(h.data() + kRecordLengthOffset);
  if (length > kMaxRecordPayload) {
    return Stop(End::kBadRecord, Status::Corruption(At(file_name_, offset) + ": record length " +
                                                    std::to_string(length) +
                                                    " exceeds the maximum"));
  }
  const uint64_t record_size = kRecordHeaderSize + static_cast<uint64_t>(length);
  if (record_size > file_size_ - offset) {
    return Stop(End::kTruncated,
                Status::Corruption(At(file_name_, offset) + ": record cut short (" +
                                   std::to_string(file_size_ - offset) + " of " +
                                   std::to_string(record_size) + " bytes)"));
  }
  std::string_view r;
  if (Status s = Peek(offset, static_cast<size_t>(record_size), &r); !s.ok()) {
    return Stop(End::kIOError, s);
  }
  const uint32_t expected = crc32c::Unmask(DecodeFixed32(r.data()));
  const uint32_t actual =
      crc32c::Value(r.data() + kRecordLengthOffset, r.size() - kRecordLengthOffset);
  if (actual != expected) {
    return Stop(End::kBadRecord,
                Status::Corruption(At(file_name_, offset) + ": record checksum mismatch"));
  }
  const auto type = static_cast<uint8_t>(r[kRecordTypeOffset]);
  if (!KnownType(type)) {
    return Stop(End::kBadRecord, Status::Corruption(At(file_name_, offset) +
                                                    ": unknown record type " +
                                                    std::to_string(type)));
  }
  const uint64_t lsn = DecodeFixed64(r.data() + kRecordLsnOffset);
  if (lsn != next_lsn_) {
    return Stop(End::kLsnMismatch,
                Status::Corruption(At(file_name_, offset) + ": record has LSN " +
                                   std::to_string(lsn) + ", expected " +
                                   std::to_string(next_lsn_) + " (a gap in the log)"));
  }
  record->offset = offset;
  record->lsn = lsn;
  record->type = static_cast<RecordType>(type);
  record->payload = r.substr(kRecordHeaderSize);
  pos_ = good_end_ = offset + record_size;
  ++next_lsn_;
  return true;
}

Result<uint64_t> Reader::ValidRecordAt(uint64_t q, uint64_t min_lsn, uint64_t max_lsn) {
  std::string_view h;
  MEMENTO_RETURN_IF_ERROR(Peek(q, kRecordHeaderSize, &h));
  if (!KnownType(static_cast<uint8_t>(h[kRecordTypeOffset]))) return uint64_t{0};
  const uint64_t lsn = DecodeFixed64(h.data() + kRecordLsnOffset);
  if (min_lsn != 0 && (lsn < min_lsn || lsn > max_lsn)) return uint64_t{0};
  const uint32_t length = DecodeFixed32(h.data() + kRecordLengthOffset);
  if (length > kMaxRecordPayload || kRecordHeaderSize + uint64_t{length} > file_size_ - q) {
    return uint64_t{0};
  }
  std::string_view r;
  MEMENTO_RETURN_IF_ERROR(Peek(q, kRecordHeaderSize + length, &r));
  const uint32_t expected = crc32c::Unmask(DecodeFixed32(r.data()));
  if (crc32c::Value(r.data() + kRecordLengthOffset, r.size() - kRecordLengthOffset) != expected) {
    return uint64_t{0};
  }
  return kRecordHeaderSize + uint64_t{length};
}

Result<int64_t> Reader::FindValidRecordAfterDamage(uint64_t min_lsn) {
  // A plausible LSN is at most one per minimal record beyond min_lsn: this filter
  // rejects almost every offset of garbage before any checksum is computed, keeping
  // the scan linear.
  const uint64_t max_lsn = min_lsn + (file_size_ - good_end_) / kRecordHeaderSize + 1;
  for (uint64_t q = good_end_ + 1; q + kRecordHeaderSize <= file_size_; ++q) {
    Result<uint64_t> size = ValidRecordAt(q, min_lsn, max_lsn);
    if (!size.ok()) return size.status();
    if (*size != 0) return static_cast<int64_t>(q);
  }
  return int64_t{-1};
}

Result<uint64_t> Reader::HighestLsnAfterDamage(uint64_t min_lsn) {
  const uint64_t max_lsn = min_lsn + (file_size_ - good_end_) / kRecordHeaderSize + 1;
  uint64_t highest = 0;
  for (uint64_t q = good_end_; q + kRecordHeaderSize <= file_size_;) {
    Result<uint64_t> size = ValidRecordAt(q, min_lsn, max_lsn);
    if (!size.ok()) return size.status();
    if (*size == 0) {
      ++q;
      continue;
    }
    std::string_view h;
    MEMENTO_RETURN_IF_ERROR(Peek(q, kRecordHeaderSize, &h));
    highest = std::max(highest, DecodeFixed64(h.data() + kRecordLsnOffset));
    q += *size;
  }
  return highest;
}

}  // namespace memento::wal
