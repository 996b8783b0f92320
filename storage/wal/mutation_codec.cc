// Record payload grammar (all integers little-endian; varint32 is LEB128):
//
//   kMutation payload := mutation                    ; version 1, tags 1-4 only
//   kChange payload   := change                      ; version 2
//   kUnit payload     := count:varint32 (len:varint32 change[len]){count}   ; count >= 1
//
//   change   := reason:u8 mutation                   ; reason: storage::ChangeReason, 0-4
//   mutation := put | delete | expire | clear | append | prepend | setrange | incrby
//   put      := 0x01 key value created_ms:fixed64 expire_ms:fixed64
//   delete   := 0x02 key
//   expire   := 0x03 key expire_ms:fixed64
//   clear    := 0x04
//   append   := 0x05 key value
//   prepend  := 0x06 key value
//   setrange := 0x07 key offset:fixed64 value         ; offset < 2^63
//   incrby   := 0x08 key delta:fixed64                ; delta: int64
//   key      := len:varint32 bytes[len]
//   value    := len:varint32 bytes[len]
//
// Times and deltas are int64 stored as their two's-complement uint64 (expire_ms -1 =
// no expiry is ff ff ff ff ff ff ff ff). Nothing may follow the last field.
//
// When you change this grammar, update docs/formats/wal.md and kFormatVersion
// (wal_format.h), and add a golden segment under tests/testdata/.
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
static_assert(static_cast<uint8_t>(MutationType::kAppend) == kTagAppend);
static_assert(static_cast<uint8_t>(MutationType::kPrepend) == kTagPrepend);
static_assert(static_cast<uint8_t>(MutationType::kSetRange) == kTagSetRange);
static_assert(static_cast<uint8_t>(MutationType::kIncrBy) == kTagIncrBy);
static_assert(storage::kMaxChangeReason == kMaxReason);

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
    case MutationType::kIncrBy:
      return 1 + LengthPrefixedSize(m.key) + 8;
    case MutationType::kClear:
      return 1;
    case MutationType::kAppend:
    case MutationType::kPrepend:
      return 1 + LengthPrefixedSize(m.key) + LengthPrefixedSize(m.value);
    case MutationType::kSetRange:
      return 1 + LengthPrefixedSize(m.key) + 8 + LengthPrefixedSize(m.value);
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
    case MutationType::kAppend:
    case MutationType::kPrepend:
      PutLengthPrefixed(dst, m.key);
      PutLengthPrefixed(dst, m.value);
      break;
    case MutationType::kSetRange:
      PutLengthPrefixed(dst, m.key);
      PutFixed64(dst, static_cast<uint64_t>(m.number));
      PutLengthPrefixed(dst, m.value);
      break;
    case MutationType::kIncrBy:
      PutLengthPrefixed(dst, m.key);
      PutFixed64(dst, static_cast<uint64_t>(m.number));
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
  uint64_t number = 0;
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
    case kTagAppend:
    case kTagPrepend:
      m->type = tag == kTagAppend ? MutationType::kAppend : MutationType::kPrepend;
      if (!GetLengthPrefixed(&input, &m->key)) return Malformed("append/prepend: bad key");
      if (!GetLengthPrefixed(&input, &m->value)) return Malformed("append/prepend: bad bytes");
      break;
    case kTagSetRange:
      m->type = MutationType::kSetRange;
      if (!GetLengthPrefixed(&input, &m->key)) return Malformed("setrange: bad key");
      if (!GetFixed64(&input, &number)) return Malformed("setrange: truncated offset");
      if (number > static_cast<uint64_t>(INT64_MAX)) return Malformed("setrange: offset >= 2^63");
      m->number = static_cast<int64_t>(number);
      if (!GetLengthPrefixed(&input, &m->value)) return Malformed("setrange: bad bytes");
      break;
    case kTagIncrBy:
      m->type = MutationType::kIncrBy;
      if (!GetLengthPrefixed(&input, &m->key)) return Malformed("incrby: bad key");
      if (!GetFixed64(&input, &number)) return Malformed("incrby: truncated delta");
      m->number = static_cast<int64_t>(number);
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

size_t EncodedChangeSize(const Mutation& m) { return 1 + EncodedMutationSize(m); }

void EncodeChange(const Mutation& m, std::string* dst) {
  dst->push_back(static_cast<char>(m.reason));
  EncodeMutation(m, dst);
}

size_t EncodedUnitSize(std::span<const Mutation> changes) {
  size_t n = VarintLength(changes.size());
  for (const Mutation& m : changes) {
    const size_t change = EncodedChangeSize(m);
    n += VarintLength(change) + change;
  }
  return n;
}

void EncodeUnit(std::span<const Mutation> changes, std::string* dst) {
  PutVarint32(dst, static_cast<uint32_t>(changes.size()));
  for (const Mutation& m : changes) {
    PutVarint32(dst, static_cast<uint32_t>(EncodedChangeSize(m)));
    EncodeChange(m, dst);
  }
}

namespace {

Status DecodeChange(std::string_view input, Mutation* m) {
  if (input.empty()) return Malformed("empty change");
  const auto reason = static_cast<uint8_t>(input[0]);
  if (reason > kMaxReason) {
    return Status::Corruption("malformed change: unknown reason " + std::to_string(reason));
  }
  MEMENTO_RETURN_IF_ERROR(DecodeMutation(input.substr(1), m));
  m->reason = static_cast<storage::ChangeReason>(reason);
  return Status::OK();
}

Status DecodeInto(RecordType type, std::string_view payload, std::vector<Mutation>* out) {
  Mutation m;
  switch (type) {
    case RecordType::kMutation:
      MEMENTO_RETURN_IF_ERROR(DecodeMutation(payload, &m));
      if (storage::IsDelta(m.type)) {
        return Status::Corruption("malformed mutation: version-2 tag " +
                                  std::to_string(static_cast<int>(m.type)) +
                                  " in a version-1 record");
      }
      // Version 1 wrote no reason: a clear was always a flush, anything else reads as
      // a command (an expiry's delete cannot be told from a DEL).
      if (m.type == MutationType::kClear) m.reason = storage::ChangeReason::kFlush;
      out->push_back(m);
      return Status::OK();
    case RecordType::kChange:
      MEMENTO_RETURN_IF_ERROR(DecodeChange(payload, &m));
      out->push_back(m);
      return Status::OK();
    case RecordType::kUnit: {
      uint32_t count = 0;
      if (!GetVarint32(&payload, &count)) return Malformed("unit: bad count");
      if (count == 0) return Malformed("unit: no changes");
      // Each change takes at least 3 bytes (length, reason, tag): a count the payload
      // cannot hold is corruption, not a reason to reserve memory.
      if (count > payload.size() / 3) return Malformed("unit: count exceeds the payload");
      out->reserve(count);
      for (uint32_t i = 0; i < count; ++i) {
        std::string_view change;
        if (!GetLengthPrefixed(&payload, &change)) return Malformed("unit: truncated change");
        Status s = DecodeChange(change, &m);
        if (!s.ok()) {
          return Status::Corruption("unit change " + std::to_string(i) + " of " +
                                    std::to_string(count) + ": " + std::string(s.message()));
        }
        out->push_back(m);
      }
      if (!payload.empty()) {
        return Status::Corruption("malformed unit: " + std::to_string(payload.size()) +
                                  " trailing bytes");
      }
      return Status::OK();
    }
    case RecordType::kZero:
      break;
  }
  return Status::Corruption("unknown record type " + std::to_string(static_cast<int>(type)));
}

}  // namespace

Status DecodeRecordPayload(RecordType type, std::string_view payload, std::vector<Mutation>* out) {
  out->clear();
  Status s = DecodeInto(type, payload, out);
  if (!s.ok()) out->clear();
  return s;
}

}  // namespace memento::wal
