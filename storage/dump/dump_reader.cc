// The dump decoder: the grammar is at the top of dump_writer.cc and in
// docs/formats/dump.md. Every length is checked against the format's limits and
// against the bytes left in the input (when the Source knows its size) before anything
// is allocated or read, and a block's crc is checked before zstd sees its bytes.
#include "storage/dump/dump_reader.h"

#include <zstd.h>

#include <algorithm>

#include "common/coding.h"
#include "common/crc32c.h"

namespace memento::dump {

namespace {

// Reading a block of unknown-size input: never more than this ahead of the data.
constexpr size_t kReadChunk = 1u << 20;
// The smallest record: two one-byte lengths and the two time fields.
constexpr uint64_t kMinRecordSize = 1 + 1 + 8 + 8;

std::string Str(uint64_t v) { return std::to_string(v); }

}  // namespace

Result<std::unique_ptr<DumpReader>> DumpReader::Open(Source* source, std::string name,
                                                     const ReaderOptions& options) {
  auto decompressor = snapshot::ZstdDecompressor::Create();
  if (!decompressor.ok()) return decompressor.status();
  std::unique_ptr<DumpReader> r(
      new DumpReader(source, std::move(name), options, std::move(*decompressor)));
  MEMENTO_RETURN_IF_ERROR(r->ReadHeader());
  return r;
}

Status DumpReader::Corrupt(uint64_t at, std::string_view what) const {
  return Status::Corruption("dump " + name_ + ": at byte offset " + Str(at) + ": " +
                            std::string(what));
}

Status DumpReader::ReadExact(size_t n, std::string* out, std::string_view what) {
  out->clear();
  const uint64_t start = offset_;
  if (auto size = source_->size(); size && (*size < offset_ || *size - offset_ < n)) {
    return Corrupt(start, "truncated: " + std::string(what) + " needs " + Str(n) +
                              " bytes, the file ends after " +
                              Str(*size > offset_ ? *size - offset_ : 0));
  }
  // Grow the buffer as bytes arrive, not to n at once: n is not trusted yet when the
  // input's size is unknown.
  while (out->size() < n) {
    const size_t want = std::min(n - out->size(), kReadChunk);
    const size_t had = out->size();
    out->resize(had + want);
    Result<size_t> got = source_->Read(out->data() + had, want);
    if (!got.ok()) return got.status();
    out->resize(had + *got);
    offset_ += *got;
    if (*got < want) {
      return Corrupt(start, "truncated: " + std::string(what) + " needs " + Str(n) +
                                " bytes, the input ends after " + Str(out->size()));
    }
  }
  return Status::OK();
}

Status DumpReader::ReadHeader() {
  MEMENTO_RETURN_IF_ERROR(ReadExact(kHeaderFixedSize, &buf_, "the header"));
  if (std::string_view(buf_.data(), kMagicSize) != std::string_view(kMagic, kMagicSize)) {
    return Corrupt(0, "not a memento dump file (bad magic; expected \"MEMDUMP\\0\")");
  }
  header_.version = DecodeFixed32(buf_.data() + 8);
  header_.flags = DecodeFixed32(buf_.data() + 12);
  const uint32_t body_len = DecodeFixed32(buf_.data() + 16);
  if (body_len > kMaxHeaderBodySize) {
    return Corrupt(16, "header body length " + Str(body_len) + " is over the limit of " +
                           Str(kMaxHeaderBodySize));
  }
  std::string header = buf_;
  MEMENTO_RETURN_IF_ERROR(ReadExact(body_len + 4, &buf_, "the header body"));
  header.append(buf_);
  const uint32_t stored = DecodeFixed32(header.data() + header.size() - 4);
  const uint32_t actual = crc32c::Value(header.data(), header.size() - 4);
  if (crc32c::Unmask(stored) != actual) {
    return Corrupt(kHeaderFixedSize + body_len, "header checksum mismatch");
  }
  // Checked after the crc, so that a damaged version field reads as damage.
  if (header_.version != kFormatVersion) {
    return Status::NotSupported("dump " + name_ + ": format version " + Str(header_.version) +
                                ", this memento-restore reads version " + Str(kFormatVersion) +
                                " (docs/formats/dump.md)");
  }
  if ((header_.flags & ~kKnownHeaderFlags) != 0) {
    return Status::NotSupported("dump " + name_ + ": unknown header flags " + Str(header_.flags));
  }
  std::string_view body(header.data() + kHeaderFixedSize, body_len);
  std::string_view node;
  uint64_t created = 0;
  if (!GetLengthPrefixed(&body, &node) || node.size() > kMaxNodeNameSize ||
      !GetFixed64(&body, &created) || !GetFixed64(&body, &header_.data_lsn) ||
      !GetFixed64(&body, &header_.key_count) || !body.empty()) {
    return Corrupt(kHeaderFixedSize, "malformed header body");
  }
  header_.node.assign(node);
  header_.created_ms = static_cast<int64_t>(created);
  return Status::OK();
}

Status DumpReader::ReadSection() {
  const uint64_t at = offset_;
  MEMENTO_RETURN_IF_ERROR(ReadExact(1, &buf_, "a block or the trailer"));
  if (buf_[0] == kBlockTag) return ReadBlock(at);
  if (buf_[0] == kTrailerTag) return ReadTrailer(at);
  return Corrupt(at, "expected a block ('B') or the trailer ('T'), found byte " +
                         Str(static_cast<unsigned char>(buf_[0])));
}

Status DumpReader::ReadBlock(uint64_t at) {
  MEMENTO_RETURN_IF_ERROR(ReadExact(kBlockHeaderSize - 1, &buf_, "a block header"));
  const uint32_t raw_len = DecodeFixed32(buf_.data());
  const uint32_t zlen = DecodeFixed32(buf_.data() + 4);
  const uint32_t records = DecodeFixed32(buf_.data() + 8);
  const uint32_t stored_crc = DecodeFixed32(buf_.data() + 12);
  if (raw_len > options_.max_block_raw_size || raw_len < kMinRecordSize) {
    return Corrupt(at, "block of " + Str(raw_len) + " raw bytes (allowed: " + Str(kMinRecordSize) +
                           " to " + Str(options_.max_block_raw_size) + ")");
  }
  if (zlen > ZSTD_compressBound(raw_len)) {
    return Corrupt(at, "block of " + Str(raw_len) + " raw bytes claims " + Str(zlen) +
                           " compressed bytes, more than zstd can produce");
  }
  if (records == 0 || records > raw_len / kMinRecordSize) {
    return Corrupt(at,
                   "block of " + Str(raw_len) + " raw bytes claims " + Str(records) + " records");
  }
  uint32_t crc = crc32c::Value(buf_.data(), 12);
  MEMENTO_RETURN_IF_ERROR(ReadExact(zlen, &buf_, "a block's compressed data"));
  crc = crc32c::Extend(crc, buf_.data(), buf_.size());
  if (crc32c::Unmask(stored_crc) != crc) {
    return Corrupt(at, "block checksum mismatch (block " + Str(blocks_) + ", " + Str(zlen) +
                           " compressed bytes)");
  }
  auto raw = decompressor_->Decompress(buf_, raw_len);
  if (!raw.ok()) {
    return Corrupt(at, "block " + Str(blocks_) +
                           " does not decompress: " + std::string(raw.status().message()));
  }
  raw_ = *raw;
  raw_size_ = raw_len;
  block_offset_ = at;
  block_records_left_ = records;
  data_crc_ = crc32c::Extend(data_crc_, raw_.data(), raw_.size());
  ++blocks_;
  return Status::OK();
}

Status DumpReader::ReadTrailer(uint64_t at) {
  MEMENTO_RETURN_IF_ERROR(ReadExact(kTrailerSize - 1, &buf_, "the trailer"));
  std::string t(1, kTrailerTag);
  t.append(buf_);
  const char* p = t.data() + 1;
  trailer_.records = DecodeFixed64(p);
  trailer_.data_bytes = DecodeFixed64(p + 8);
  trailer_.blocks = DecodeFixed64(p + 16);
  trailer_.data_crc = crc32c::Unmask(DecodeFixed32(p + 24));
  const uint32_t stored = DecodeFixed32(p + 28);
  if (crc32c::Unmask(stored) != crc32c::Value(t.data(), 1 + 28)) {
    return Corrupt(at, "trailer checksum mismatch");
  }
  if (std::string_view(p + 32, kMagicSize) != std::string_view(kEndMagic, kMagicSize)) {
    return Corrupt(at + 33, "bad end magic (expected \"MEMDEND\\0\")");
  }
  if (trailer_.records != records_ || trailer_.data_bytes != data_bytes_ ||
      trailer_.blocks != blocks_) {
    return Corrupt(at, "the trailer counts " + Str(trailer_.records) + " records, " +
                           Str(trailer_.data_bytes) + " bytes in " + Str(trailer_.blocks) +
                           " blocks; the file holds " + Str(records_) + " records, " +
                           Str(data_bytes_) + " bytes in " + Str(blocks_) +
                           " blocks (blocks missing or duplicated)");
  }
  if (trailer_.data_crc != data_crc_) {
    return Corrupt(at, "checksum over all records mismatch (blocks reordered?)");
  }
  if (header_.key_count != kUnknownKeyCount && header_.key_count != records_) {
    return Corrupt(at, "the header counts " + Str(header_.key_count) + " keys, the file holds " +
                           Str(records_));
  }
  // Nothing may follow: appended bytes mean the file is not what was written.
  char extra;
  Result<size_t> more = source_->Read(&extra, 1);
  if (!more.ok()) return more.status();
  if (*more != 0) return Corrupt(offset_, "unexpected bytes after the end of the dump");
  done_ = true;
  return Status::OK();
}

Result<bool> DumpReader::Next(DumpRecord* record) {
  if (!status_.ok()) return status_;
  while (block_records_left_ == 0) {
    if (done_) return false;
    if (!raw_.empty()) {
      return Fail(Corrupt(block_offset_, "block " + Str(blocks_ - 1) + " has " + Str(raw_.size()) +
                                             " bytes after its last record"));
    }
    Status s = ReadSection();
    if (!s.ok()) return Fail(s);
  }
  // Inside a block whose crc matched: a malformed record here is a writer bug or a
  // collision, still reported, never trusted.
  const uint64_t rec_at = raw_size_ - raw_.size();
  auto bad = [&](std::string_view what) {
    return Fail(Corrupt(block_offset_, "block " + Str(blocks_ - 1) + ", record at raw offset " +
                                           Str(rec_at) + ": " + std::string(what)));
  };
  uint32_t key_len = 0;
  uint32_t value_len = 0;
  uint64_t created = 0;
  uint64_t expire = 0;
  if (!GetVarint32(&raw_, &key_len)) return bad("bad key length");
  if (key_len > kMaxKeySize || key_len > raw_.size()) return bad("key length out of range");
  record->key = raw_.substr(0, key_len);
  raw_.remove_prefix(key_len);
  if (!GetVarint32(&raw_, &value_len)) return bad("bad value length");
  if (value_len > kMaxValueSize || value_len > raw_.size()) {
    return bad("value length out of range");
  }
  record->value = raw_.substr(0, value_len);
  raw_.remove_prefix(value_len);
  if (!GetFixed64(&raw_, &created) || !GetFixed64(&raw_, &expire)) return bad("truncated record");
  record->created_ms = static_cast<int64_t>(created);
  record->expire_ms = static_cast<int64_t>(expire);
  if (record->expire_ms < kNoExpiry) return bad("negative expiry time");
  --block_records_left_;
  ++records_;
  data_bytes_ += key_len + value_len;
  return true;
}

}  // namespace memento::dump
