// The dump encoder. Grammar (docs/formats/dump.md; constants in dump_format.h):
//
//   dump    := header block* trailer
//   header  := "MEMDUMP\0" version:u32 flags:u32 body_len:u32 body crc:u32
//   body    := node_len:varint32 node created_ms:i64 data_lsn:u64 key_count:u64
//   block   := 'B' raw_len:u32 zlen:u32 records:u32 crc:u32 zstd_frame[zlen]
//   trailer := 'T' records:u64 data_bytes:u64 blocks:u64 data_crc:u32 crc:u32 "MEMDEND\0"
//   record  := key_len:varint32 key value_len:varint32 value created_ms:i64 expire_ms:i64
//
// Why blocks of ~1 MiB compressed as one zstd frame each, rather than one frame for the
// whole file: a reader checks each block's CRC before decompressing it (damage is
// reported at the block's byte offset, and no decompressor ever sees unchecked bytes),
// and memory stays bounded by one block on both sides. Compression suffers little:
// zstd's window is smaller than a block at the default level anyway.
#include "storage/dump/dump_writer.h"

#include "common/coding.h"
#include "common/crc32c.h"
#include "storage/dump/dump_format.h"

namespace memento::dump {

std::string EncodeHeader(const DumpHeader& header) {
  std::string body;
  PutVarint32(&body, static_cast<uint32_t>(header.node.size()));
  body.append(header.node);
  PutFixed64(&body, static_cast<uint64_t>(header.created_ms));
  PutFixed64(&body, header.data_lsn);
  PutFixed64(&body, header.key_count);

  std::string out(kMagic, kMagicSize);
  PutFixed32(&out, kFormatVersion);
  PutFixed32(&out, header.flags);
  PutFixed32(&out, static_cast<uint32_t>(body.size()));
  out.append(body);
  // The crc covers everything before it: magic, version, flags, body_len and body.
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

Result<std::unique_ptr<DumpWriter>> DumpWriter::Create(Sink* sink, const DumpHeader& header,
                                                       int level) {
  if (header.node.size() > kMaxNodeNameSize) {
    return Status::InvalidArgument("dump: node name of " + std::to_string(header.node.size()) +
                                   " bytes, the format allows " + std::to_string(kMaxNodeNameSize));
  }
  if ((header.flags & ~kKnownHeaderFlags) != 0) {
    return Status::InvalidArgument("dump: unknown header flags");
  }
  auto compressor = snapshot::ZstdCompressor::Create(level);
  if (!compressor.ok()) return compressor.status();
  std::unique_ptr<DumpWriter> w(new DumpWriter(sink, std::move(*compressor)));
  w->block_.reserve(kTargetBlockSize + 4096);
  MEMENTO_RETURN_IF_ERROR(w->Write(EncodeHeader(header)));
  return w;
}

Status DumpWriter::Write(std::string_view bytes) {
  MEMENTO_RETURN_IF_ERROR(sink_->Append(bytes));
  bytes_written_ += bytes.size();
  return Status::OK();
}

Status DumpWriter::Add(std::string_view key, std::string_view value, int64_t created_ms,
                       int64_t expire_ms) {
  if (key.size() > kMaxKeySize || value.size() > kMaxValueSize) {
    return Status::InvalidArgument("dump: a key of " + std::to_string(key.size()) +
                                   " bytes with a value of " + std::to_string(value.size()) +
                                   " bytes is over the format's limits (512 MiB each)");
  }
  // Records never span blocks: close the open block first if this one would push it
  // past the target (a record larger than the target gets a block of its own).
  const size_t record_size = 2 * kMaxVarint32Bytes + key.size() + value.size() + 16;
  if (!block_.empty() && block_.size() + record_size > kTargetBlockSize) {
    MEMENTO_RETURN_IF_ERROR(FlushBlock());
  }
  PutVarint32(&block_, static_cast<uint32_t>(key.size()));
  block_.append(key);
  PutVarint32(&block_, static_cast<uint32_t>(value.size()));
  block_.append(value);
  PutFixed64(&block_, static_cast<uint64_t>(created_ms));
  PutFixed64(&block_, static_cast<uint64_t>(expire_ms));
  ++block_records_;
  ++totals_.records;
  totals_.data_bytes += key.size() + value.size();
  if (block_.size() >= kTargetBlockSize) return FlushBlock();
  return Status::OK();
}

Status DumpWriter::FlushBlock() {
  if (block_records_ == 0) return Status::OK();
  auto frame = compressor_->Compress(block_);
  if (!frame.ok()) return frame.status();
  totals_.data_crc = crc32c::Extend(totals_.data_crc, block_.data(), block_.size());
  scratch_.clear();
  scratch_.push_back(kBlockTag);
  PutFixed32(&scratch_, static_cast<uint32_t>(block_.size()));
  PutFixed32(&scratch_, static_cast<uint32_t>(frame->size()));
  PutFixed32(&scratch_, block_records_);
  // The crc covers raw_len, zlen, records (not the tag: a wrong tag is caught by its
  // value) and the compressed frame.
  uint32_t crc = crc32c::Value(scratch_.data() + 1, scratch_.size() - 1);
  crc = crc32c::Extend(crc, frame->data(), frame->size());
  PutFixed32(&scratch_, crc32c::Mask(crc));
  MEMENTO_RETURN_IF_ERROR(Write(scratch_));
  MEMENTO_RETURN_IF_ERROR(Write(*frame));
  ++totals_.blocks;
  block_.clear();
  block_records_ = 0;
  return Status::OK();
}

Status DumpWriter::Finish(DumpTrailer* trailer) {
  if (finished_) return Status::InvalidArgument("dump: Finish called twice");
  finished_ = true;
  MEMENTO_RETURN_IF_ERROR(FlushBlock());
  std::string t;
  t.push_back(kTrailerTag);
  PutFixed64(&t, totals_.records);
  PutFixed64(&t, totals_.data_bytes);
  PutFixed64(&t, totals_.blocks);
  PutFixed32(&t, crc32c::Mask(totals_.data_crc));
  PutFixed32(&t, crc32c::Mask(crc32c::Value(t)));  // covers the tag through data_crc
  t.append(kEndMagic, kMagicSize);
  MEMENTO_RETURN_IF_ERROR(Write(t));
  if (trailer != nullptr) *trailer = totals_;
  return Status::OK();
}

}  // namespace memento::dump
