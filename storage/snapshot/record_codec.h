// The snapshot's value record: encoding into a caller-provided buffer (an LMDB
// MDB_RESERVE region, so a put copies the value once) and bounds-checked decoding of
// bytes read back from disk. Grammar in snapshot_format.h and docs/formats/snapshot.md.
//
// Decoding never trusts a stored length: every length is checked against the bytes that
// are actually there and against the sanity limits before it is used. Errors are
// Corruption statuses naming the byte offset inside the record; the caller adds the
// path and the key (see DescribeKey).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/snapshot/snapshot_format.h"

namespace memento::snapshot {

// A record's fields. The views point into the buffer the record was decoded from (or
// into the caller's memory when encoding) and live as long as it.
struct RecordView {
  bool compressed = false;    // payload is a zstd frame of raw_len bytes
  bool has_full_key = false;  // full_key is present (the record lives in kLongKeysDb)
  int64_t created_ms = 0;
  int64_t expire_ms = kNoExpiry;
  std::string_view full_key;  // has_full_key only
  uint32_t raw_len = 0;       // compressed only: the value's length once decompressed
  std::string_view payload;   // the value, or its zstd frame
};

// Bytes EncodeRecord writes for `record`.
size_t EncodedRecordSize(const RecordView& record);

// Writes `record` to dst. REQUIRES: dst has EncodedRecordSize(record) writable bytes;
// full_key.size() <= kMaxKeySize; raw_len <= kMaxValueSize (the caller validates them).
void EncodeRecord(const RecordView& record, char* dst);

// Parses `bytes` (a whole record). Returns Corruption "offset N: ..." when a field
// does not fit, a reserved flag bit is set, or a length exceeds its sanity limit.
Result<RecordView> DecodeRecord(std::string_view bytes);

// Overwrites the expiry of an encoded record in place.
// REQUIRES: record->size() >= kRecordHeaderSize.
void PatchRecordExpiry(std::string* record, int64_t expire_ms);

// The key as an operator can read it in an error message: quoted, printable ASCII kept,
// other bytes as \xNN, cut after 64 bytes with the total length appended.
std::string DescribeKey(std::string_view key);

}  // namespace memento::snapshot
