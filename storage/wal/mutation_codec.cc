// Mutation payload grammar (all integers little-endian; varint32 is LEB128):
//
//   mutation := put | delete | expire | clear
//   put      := 0x01 key value created_ms:fixed64 expire_ms:fixed64
//   delete   := 0x02 key
//   expire   := 0x03 key expire_ms:fixed64
//   clear    := 0x04
//   key      := len:varint32 bytes[len]
//   value    := len:varint32 bytes[len]
//
// Times are int64 stored as their two's-complement uint64 (expire_ms -1 = no expiry
// is ff ff ff ff ff ff ff ff). Nothing may follow the last field.
//
// When you change this grammar, update docs/formats/wal.md and kFormatVersion
// (wal_format.h).
#include "storage/wal/mutation_codec.h"

#include <cstdint>

#include "common/coding.h"
#include "storage/wal/wal_format.h"

namespace memento::wal {

using storage::Mutation;
using storage::MutationType;

static_assert(static_cast<uint8_t>(MutationType::kPut) == kTagPut);
static_assert(static_cast<uint8_t>(MutationType::kDelete) == kTagDelete);
static_assert(static_cast<uint8_t>(MutationType::kExpire) == kTagExpire);
static_assert(static_cast<uint8_t>(MutationType::kClear) == kTagClear);

namespace {

size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

size_t LengthPrefixedSize(std::string_view s) { return VarintLength(s.size()) + s.size(); }

Status Malformed(const char* what) {
  return Status::Corruption(std::string("malformed mutation: ") + what);
}

}  // namespace

size_t EncodedMutationSize(const Mutation& m) {
  switch (m.type) {
    case MutationType::kPut:
      return 1 + LengthPrefixedSize(m.key) + LengthPrefixedSize(m.value) + 16;
    case MutationType::kDelete:
      return 1 + LengthPrefixedSize(m.key);
    case MutationType::kExpire:
      return 1 + LengthPrefixedSize(m.key) + 8;
    case MutationType::kClear:
      return 1;
  }
  return 1;
}

void EncodeMutation(const Mutation& m, std::string* dst) {
  dst->push_back(static_cast<char>(m.type));
  switch (m.type) {
    case MutationType::kPut:
      PutLengthPrefixed(dst, m.key);
      PutLengthPrefixed(dst, m.value);
      PutFixed64(dst, static_cast<uint64_t>(m.created_ms));
      PutFixed64(dst, static_cast<uint64_t>(m.expire_ms));
      break;
    case MutationType::kDelete:
      PutLengthPrefixed(dst, m.key);
      break;
    case MutationType::kExpire:
      PutLengthPrefixed(dst, m.key);
      PutFixed64(dst, static_cast<uint64_t>(m.expire_ms));
      break;
    case MutationType::kClear:
      break;
  }
}

Status DecodeMutation(std::string_view input, Mutation* m) {
  if (input.empty()) return Malformed("empty payload");
  const auto tag = static_cast<uint8_t>(input[0]);
  input.remove_prefix(1);
  *m = Mutation{};
  uint64_t created = 0;
  uint64_t expire = 0;
  switch (tag) {
    case kTagPut:
      m->type = MutationType::kPut;
      if (!GetLengthPrefixed(&input, &m->key)) return Malformed("put: bad key");
      if (!GetLengthPrefixed(&input, &m->value)) return Malformed("put: bad value");
      if (!GetFixed64(&input, &created) || !GetFixed64(&input, &expire)) {
        return Malformed("put: truncated times");
      }
      m->created_ms = static_cast<int64_t>(created);
      m->expire_ms = static_cast<int64_t>(expire);
      break;
    case kTagDelete:
      m->type = MutationType::kDelete;
      if (!GetLengthPrefixed(&input, &m->key)) return Malformed("delete: bad key");
      break;
    case kTagExpire:
      m->type = MutationType::kExpire;
      if (!GetLengthPrefixed(&input, &m->key)) return Malformed("expire: bad key");
      if (!GetFixed64(&input, &expire)) return Malformed("expire: truncated time");
      m->expire_ms = static_cast<int64_t>(expire);
      break;
    case kTagClear:
      m->type = MutationType::kClear;
      break;
    default:
      return Status::Corruption("malformed mutation: unknown tag " + std::to_string(tag));
  }
  if (!input.empty()) {
    return Status::Corruption("malformed mutation: " + std::to_string(input.size()) +
                              " trailing bytes");
  }
  return Status::OK();
}

}  // namespace memento::wal
