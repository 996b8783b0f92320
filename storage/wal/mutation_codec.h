// The on-disk encoding of storage::Mutation: the payloads of the WAL's record types
// (grammar in mutation_codec.cc and docs/formats/wal.md).
//
//   kMutation (version 1)  one mutation, tags 1-4, no reason byte
//   kChange   (version 2)  reason:u8 + one mutation (tags 1-8)
//   kUnit     (version 2)  several changes that replay all or nothing
//
// Thread-safety: pure functions.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/mutation.h"
#include "storage/wal/wal_format.h"

namespace memento::wal {

// The mutation body (tag and fields), without a reason. Appends the encoding of m to
// *dst (dst is not cleared). Fields a type does not use are not written (a kDelete's
// value, a kClear's key).
// REQUIRES: m.key.size() and m.value.size() fit in 32 bits.
void EncodeMutation(const storage::Mutation& m, std::string* dst);

// Exact size EncodeMutation would append (lets callers reject oversized records
// before taking a lock).
size_t EncodedMutationSize(const storage::Mutation& m);

// Parses exactly one mutation body (any tag, 1-8) from input. On OK, *m's key and
// value view into input's memory: they are valid as long as the bytes of input are;
// m->reason is kCommand. Returns Corruption (unknown tag, too short, trailing bytes)
// with *m unspecified.
Status DecodeMutation(std::string_view input, storage::Mutation* m);

// A kChange payload: m.reason, then the mutation body.
void EncodeChange(const storage::Mutation& m, std::string* dst);
size_t EncodedChangeSize(const storage::Mutation& m);

// A kUnit payload: the count, then each change length-prefixed.
// REQUIRES: !changes.empty().
void EncodeUnit(std::span<const storage::Mutation> changes, std::string* dst);
size_t EncodedUnitSize(std::span<const storage::Mutation> changes);

// Decodes the payload of a record of `type` into its changes, in order (one for
// kMutation and kChange, all of a unit's), replacing *out's contents. A kMutation
// (version 1, no reason byte) reads as reason kCommand, or kFlush for a kClear. The views point
// into payload. All or nothing: on any error (Corruption: an unknown record type or
// reason, a version-2 tag in a version-1 kMutation record, an empty unit, a change
// that does not decode, trailing bytes) *out is empty.
Status DecodeRecordPayload(RecordType type, std::string_view payload,
                           std::vector<storage::Mutation>* out);

}  // namespace memento::wal
