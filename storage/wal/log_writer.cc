// Segment file grammar (docs/formats/wal.md has the byte-level details and an example):
//
//   segment := header record*
//   header  := magic[8] version:u32 segment_no:u64 first_lsn:u64 crc:u32
//   record  := crc:u32 length:u32 lsn:u64 type:u8 payload[length]
//
// All integers little-endian. Every crc is a masked CRC-32C (common/crc32c.h): the
// header's covers the 28 bytes before it; a record's covers everything after its crc
// field (length, lsn, type, payload). Records follow each other with no padding and
// no blocks; LSNs increase by exactly one from the header's first_lsn.
//
// When you change the format, update log_reader.cc, docs/formats/wal.md and
// kFormatVersion together.
#include "storage/wal/log_writer.h"

#include <cassert>
#include <utility>

#include "common/crc32c.h"
#include "common/coding.h"

namespace memento::wal {

size_t BeginRecord(std::string* dst) {
  const size_t start = dst->size();
  dst->append(kRecordHeaderSize, '\0');
  return start;
}

void FinishRecord(std::string* dst, size_t start, uint64_t lsn, RecordType type) {
  assert(dst->size() >= start + kRecordHeaderSize);
  const size_t length = dst->size() - start - kRecordHeaderSize;
  assert(length <= kMaxRecordPayload);
  char* header = dst->data() + start;
  EncodeFixed32(header + kRecordLengthOffset, static_cast<uint32_t>(length));
  EncodeFixed64(header + kRecordLsnOffset, lsn);
  header[kRecordTypeOffset] = static_cast<char>(type);
  // The crc covers one contiguous range, everything after it, which is why it comes
  // first (unlike a length-first layout, which would checksum two pieces).
  const uint32_t crc = crc32c::Value(header + kRecordLengthOffset,
                                     kRecordHeaderSize - kRecordLengthOffset + length);
  EncodeFixed32(header, crc32c::Mask(crc));
}

void AppendRecord(std::string* dst, uint64_t lsn, RecordType type, std::string_view payload) {
  const size_t start = BeginRecord(dst);
  dst->append(payload.data(), payload.size());
  FinishRecord(dst, start, lsn, type);
}

void EncodeSegmentHeader(const SegmentHeader& header, std::string* dst) {
  const size_t start = dst->size();
  dst->append(kSegmentMagic, sizeof(kSegmentMagic));
  PutFixed32(dst, header.version);
  PutFixed64(dst, header.number);
  PutFixed64(dst, header.first_lsn);
  const uint32_t crc = crc32c::Value(dst->data() + start, kHeaderCrcOffset);
  PutFixed32(dst, crc32c::Mask(crc));
  assert(dst->size() - start == kSegmentHeaderSize);
}

SegmentWriter::SegmentWriter(std::unique_ptr<WritableFile> file, std::string path,
                             uint64_t number, uint64_t first_lsn)
    : file_(std::move(file)), path_(std::move(path)), number_(number), first_lsn_(first_lsn) {}

SegmentWriter::~SegmentWriter() = default;  // the WritableFile closes itself

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::Create(FileSystem* fs, std::string path,
                                                             uint64_t number,
                                                             uint64_t first_lsn) {
  Result<std::unique_ptr<WritableFile>> file = fs->NewWritableFile(path);
  if (!file.ok()) return file.status();
  std::unique_ptr<SegmentWriter> writer(
      new SegmentWriter(std::move(file).value(), std::move(path), number, first_lsn));
  std::string header;
  EncodeSegmentHeader(SegmentHeader{kFormatVersion, number, first_lsn}, &header);
  MEMENTO_RETURN_IF_ERROR(writer->Append(header));
  MEMENTO_RETURN_IF_ERROR(writer->Sync());
  return writer;
}

Status SegmentWriter::Append(std::string_view records) {
  MEMENTO_RETURN_IF_ERROR(file_->Append(records));
  size_ += records.size();
  return Status::OK();
}

Status SegmentWriter::Sync() { return file_->Sync(); }

Status SegmentWriter::Close() { return file_->Close(); }

}  // namespace memento::wal
