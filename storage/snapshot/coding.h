// Explicit fixed-width integer encoding for the snapshot format: little-endian for
// every field of a record and of the meta values, big-endian only for the long-key slot
// (so that LMDB's memcmp order is numeric order). Byte-by-byte shifts, never a memcpy
// of an integer, so the bytes are the same on every host.
//
// TODO: move to common/coding.h once the write-ahead log needs the same helpers.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace memento::snapshot {

// REQUIRES: dst has room for 4 (8) bytes.
inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
inline void EncodeBigEndian32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>((v >> (8 * (3 - i))) & 0xff);
}
inline void EncodeBigEndian64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>((v >> (8 * (7 - i))) & 0xff);
}

// REQUIRES: src has 4 (8) readable bytes.
inline uint32_t DecodeFixed32(const char* src) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<unsigned char>(src[i])} << (8 * i);
  return v;
}
inline uint64_t DecodeFixed64(const char* src) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(src[i])} << (8 * i);
  return v;
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

}  // namespace memento::snapshot
