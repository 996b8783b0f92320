// Explicit fixed-width and varint integer encoding for the on-disk formats.
//
// Never memcpy an integer or a struct to disk: these helpers give the same bytes on
// every host. Little-endian everywhere, except the big-endian helpers, used where
// LMDB's memcmp key order must be numeric order (the snapshot's long-key slots).
// Decoders take a std::string_view cursor, consume what they parse and return false
// when the input is too short or malformed (callers turn that into a Corruption
// Status naming the file and offset). Shared by storage/wal/ and storage/snapshot/
// (and the tools that read their files).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace memento {


inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>((v >> (8 * i)) & 0xffu);
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>((v >> (8 * i)) & 0xffu);
}
// REQUIRES: src has 4 (8) readable bytes.
inline uint32_t DecodeFixed32(const char* src) {
  const auto* p = reinterpret_cast<const unsigned char*>(src);
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
inline uint64_t DecodeFixed64(const char* src) {
  return static_cast<uint64_t>(DecodeFixed32(src)) |
         (static_cast<uint64_t>(DecodeFixed32(src + 4)) << 32);
}

inline void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  EncodeFixed32(buf, v);
  dst->append(buf, sizeof(buf));
}
inline void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  EncodeFixed64(buf, v);
  dst->append(buf, sizeof(buf));
}

// LEB128: 7 bits per byte, low groups first, high bit set on every byte but the last.
inline constexpr size_t kMaxVarint32Bytes = 5;
inline void PutVarint32(std::string* dst, uint32_t v) {
  char buf[kMaxVarint32Bytes];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7fu) | 0x80u);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  dst->append(buf, n);
}

inline bool GetFixed64(std::string_view* input, uint64_t* v) {
  if (input->size() < 8) return false;
  *v = DecodeFixed64(input->data());
  input->remove_prefix(8);
  return true;
}

// Rejects encodings longer than 5 bytes and values that do not fit 32 bits.
inline bool GetVarint32(std::string_view* input, uint32_t* v) {
  uint64_t result = 0;
  for (size_t i = 0; i < kMaxVarint32Bytes && i < input->size(); ++i) {
    const auto byte = static_cast<unsigned char>((*input)[i]);
    result |= static_cast<uint64_t>(byte & 0x7fu) << (7 * i);
    if ((byte & 0x80u) == 0) {
      if (result > UINT32_MAX) return false;
      *v = static_cast<uint32_t>(result);
      input->remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

// A varint32 length followed by that many bytes. *out views into *input's memory.
inline bool GetLengthPrefixed(std::string_view* input, std::string_view* out) {
  uint32_t len = 0;
  if (!GetVarint32(input, &len) || input->size() < len) return false;
  *out = input->substr(0, len);
  input->remove_prefix(len);
  return true;
}
inline void PutLengthPrefixed(std::string* dst, std::string_view value) {
  PutVarint32(dst, static_cast<uint32_t>(value.size()));
  dst->append(value.data(), value.size());
}


inline void EncodeBigEndian32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>((v >> (8 * (3 - i))) & 0xff);
}

inline void EncodeBigEndian64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>((v >> (8 * (7 - i))) & 0xff);
}

inline uint32_t DecodeBigEndian32(const char* src) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(src[i]);
  return v;
}

inline uint64_t DecodeBigEndian64(const char* src) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(src[i]);
  return v;
}

inline std::string Fixed32String(uint32_t v) {
  std::string s(4, '\0');
  EncodeFixed32(s.data(), v);
  return s;
}

inline std::string Fixed64String(uint64_t v) {
  std::string s(8, '\0');
  EncodeFixed64(s.data(), v);
  return s;
}

}  // namespace memento
