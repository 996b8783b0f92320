// The on-disk encoding of a storage::Mutation: the payload of a kMutation WAL record
// (grammar in mutation_codec.cc and docs/formats/wal.md).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/mutation.h"

namespace memento::wal {

// Appends the encoding of m to *dst (dst is not cleared). Fields a type does not use
// are not written (a kDelete's value, a kClear's key).
// REQUIRES: m.key.size() and m.value.size() fit in 32 bits.
void EncodeMutation(const storage::Mutation& m, std::string* dst);

// Exact size EncodeMutation would append (lets callers reject oversized records
// before taking a lock).
size_t EncodedMutationSize(const storage::Mutation& m);

// Parses exactly one mutation from input. On OK, *m's key and value view into
// input's memory: they are valid as long as the bytes of input are. Returns
// Corruption (unknown tag, too short, trailing bytes) with *m unspecified.
Status DecodeMutation(std::string_view input, storage::Mutation* m);

}  // namespace memento::wal
