// record := flags:u8 created_ms:fixed64 expire_ms:fixed64 [key_len:fixed32 key] payload
// payload := value                       (flags & kRecordCompressed == 0; to end of record)
//          | raw_len:fixed32 zstd_frame   (flags & kRecordCompressed; frame to end of record)
//
// All integers little-endian; created_ms and expire_ms are two's complement. The
// [key_len key] part is present iff flags & kRecordFullKey. See docs/formats/snapshot.md.
#include "storage/snapshot/record_codec.h"

#include <cstdio>
#include <cstring>

#include "common/coding.h"

namespace memento::snapshot {
namespace {

Status CorruptAt(size_t offset, std::string_view what) {
  std::string msg = "offset " + std::to_string(offset) + ": ";
  msg += what;
  return Status::Corruption(msg);
}

}  // namespace

size_t EncodedRecordSize(const RecordView& record) {
  size_t n = kRecordHeaderSize;
  if (record.has_full_key) n += 4 + record.full_key.size();
  if (record.compressed) n += 4;
  return n + record.payload.size();
}

void EncodeRecord(const RecordView& record, char* dst) {
  uint8_t flags = 0;
  if (record.compressed) flags |= kRecordCompressed;
  if (record.has_full_key) flags |= kRecordFullKey;
  *dst++ = static_cast<char>(flags);
  EncodeFixed64(dst, static_cast<uint64_t>(record.created_ms));
  dst += 8;
  EncodeFixed64(dst, static_cast<uint64_t>(record.expire_ms));
  dst += 8;
  if (record.has_full_key) {
    EncodeFixed32(dst, static_cast<uint32_t>(record.full_key.size()));
    dst += 4;
    if (!record.full_key.empty()) std::memcpy(dst, record.full_key.data(), record.full_key.size());
    dst += record.full_key.size();
  }
  if (record.compressed) {
    EncodeFixed32(dst, record.raw_len);
    dst += 4;
  }
  if (!record.payload.empty()) std::memcpy(dst, record.payload.data(), record.payload.size());
}

Result<RecordView> DecodeRecord(std::string_view bytes) {
  if (bytes.size() < kRecordHeaderSize) {
    return CorruptAt(0, "record of " + std::to_string(bytes.size()) +
                            " bytes is shorter than its " + std::to_string(kRecordHeaderSize) +
                            "-byte header");
  }
  RecordView r;
  const auto flags = static_cast<uint8_t>(bytes[0]);
  if ((flags & ~kRecordKnownFlags) != 0) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "0x%02x", flags);
    return CorruptAt(0, std::string("flags ") + hex +
                            " has reserved bits set (written by a newer memento, or damaged)");
  }
  r.compressed = (flags & kRecordCompressed) != 0;
  r.has_full_key = (flags & kRecordFullKey) != 0;
  r.created_ms = static_cast<int64_t>(DecodeFixed64(bytes.data() + 1));
  r.expire_ms = static_cast<int64_t>(DecodeFixed64(bytes.data() + kRecordExpireOffset));
  size_t pos = kRecordHeaderSize;

  if (r.has_full_key) {
    if (bytes.size() - pos < 4) return CorruptAt(pos, "key length field is cut off");
    const uint32_t key_len = DecodeFixed32(bytes.data() + pos);
    if (key_len > kMaxKeySize) {
      return CorruptAt(pos, "key length " + std::to_string(key_len) + " exceeds the limit of " +
                                std::to_string(kMaxKeySize));
    }
    pos += 4;
    if (bytes.size() - pos < key_len) {
      return CorruptAt(pos, "key length " + std::to_string(key_len) + " exceeds the " +
                                std::to_string(bytes.size() - pos) + " bytes left");
    }
    r.full_key = bytes.substr(pos, key_len);
    pos += key_len;
  }

  if (r.compressed) {
    if (bytes.size() - pos < 4) return CorruptAt(pos, "raw length field is cut off");
    r.raw_len = DecodeFixed32(bytes.data() + pos);
    if (r.raw_len > kMaxValueSize) {
      return CorruptAt(pos, "raw value length " + std::to_string(r.raw_len) +
                                " exceeds the limit of " + std::to_string(kMaxValueSize));
    }
    pos += 4;
  }
  r.payload = bytes.substr(pos);
  if (!r.compressed && r.payload.size() > kMaxValueSize) {
    return CorruptAt(pos, "value of " + std::to_string(r.payload.size()) +
                              " bytes exceeds the limit of " + std::to_string(kMaxValueSize));
  }
  return r;
}

void PatchRecordExpiry(std::string* record, int64_t expire_ms) {
  EncodeFixed64(record->data() + kRecordExpireOffset, static_cast<uint64_t>(expire_ms));
}

std::string DescribeKey(std::string_view key) {
  constexpr size_t kShown = 64;
  std::string out = "\"";
  for (size_t i = 0; i < key.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char esc[8];
      std::snprintf(esc, sizeof(esc), "\\x%02x", c);
      out += esc;
    }
  }
  out += '"';
  if (key.size() > kShown) out += "... (" + std::to_string(key.size()) + " bytes)";
  return out;
}

}  // namespace memento::snapshot
