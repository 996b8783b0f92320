// Mutation: one change to the table, as the write-ahead log records it and the
// snapshot store applies it.
//
// The log records what a command *did*, not the command: EXPIRE's absolute expiry
// time, INCRBYFLOAT's resulting text. A change to part of a value is recorded as that
// part (kAppend's bytes, kSetRange's offset and bytes, kIncrBy's integer delta), so
// that its log cost follows its own size and not the value's. Replaying mutations is
// deterministic (no clocks, no floating point re-evaluated): a delta's result depends
// only on the bytes it applies to (ApplyDeltaToValue below).
//
// The numeric values of MutationType and ChangeReason are written to disk
// (docs/formats/wal.md). DO NOT CHANGE THEM; add new ones with new numbers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace memento::storage {

enum class MutationType : uint8_t {
  kPut = 1,     // key now holds value, created_ms, expire_ms (replaces any old entry)
  kDelete = 2,  // key is gone (DEL, expiry reclaim)
  kExpire = 3,  // key's expiry is now expire_ms (-1: none); value unchanged
  kClear = 4,   // every key is gone (FLUSH)
  // Deltas (WAL format version 2): the key's live entry's value changes in place; its
  // created_ms and expire_ms stay. On an absent key a delta does nothing (the live
  // table logs one only for a key that exists; a new key is a kPut).
  kAppend = 5,    // value += this value (APPEND)
  kPrepend = 6,   // value = this value + value (PREPEND)
  kSetRange = 7,  // bytes [number, number + size) = this value, zero-padded (SETRANGE)
  kIncrBy = 8,    // the value as a decimal int64, plus number (INCR, INCRBY, DECR...)
};

// True for the delta types (kAppend .. kIncrBy).
constexpr bool IsDelta(MutationType type) {
  return type >= MutationType::kAppend && type <= MutationType::kIncrBy;
}

// Why a change happened. Written in every version-2 log record (one byte, the
// change's first: docs/formats/wal.md "Reasons"), so a reader of the log files (TAIL,
// Wal::ReadFrom, after a restart too) can tell an expiry from a DEL. A version-1
// record carries none: it reads as kCommand, except through the Wal's ring of recent
// reasons (storage/wal/wal.h), which knows the changes this process appended. kFlush
// goes with kClear.
enum class ChangeReason : uint8_t {
  kCommand = 0,      // a client's command (SET, DEL, EXPIRE...)
  kExpiry = 1,       // the key's TTL passed (Table's lazy or background removal)
  kEviction = 2,     // memory pressure (not produced yet)
  kReplication = 3,  // applied from a primary (not produced yet)
  kFlush = 4,        // FLUSHALL / FLUSHDB
};
inline constexpr uint8_t kMaxChangeReason = 4;

// Views into memory owned by the producer; valid only as long as it says.
struct Mutation {
  MutationType type = MutationType::kPut;
  std::string_view key;    // all but kClear
  std::string_view value;  // kPut; the bytes of kAppend, kPrepend, kSetRange
  int64_t created_ms = 0;  // kPut: ms since epoch
  int64_t expire_ms = -1;  // kPut, kExpire: absolute ms since epoch, -1 = none
  int64_t number = 0;      // kSetRange: the offset (>= 0); kIncrBy: the delta
  ChangeReason reason = ChangeReason::kCommand;  // on disk from format version 2
};

// The largest value a delta may produce: the daemon's limit on a value (512 MiB, as
// Redis's proto-max-bulk-len and the snapshot's kMaxValueSize). A delta whose result
// would be longer does not apply, so that no log, however damaged or hostile, makes a
// reader allocate more.
inline constexpr uint64_t kMaxDeltaResultBytes = uint64_t{512} << 20;

// What a delta does to a value: the ONE definition of the bytes, used by the live
// table (table::Slot::ApplyDelta), replay (db::ApplyToTable), the log fold
// (db::KeyChange) and the snapshot store. Returns false, leaving *value unchanged,
// if the delta cannot apply: a kIncrBy on a value that is not a decimal int64
// (common/numbers.h ParseInt64) or whose sum overflows, a kSetRange with a negative
// offset, a result longer than kMaxDeltaResultBytes. The live table never logs such
// a delta; a log that holds one is applied as if it did nothing, the same way by
// every reader.
// REQUIRES: IsDelta(m.type).
bool ApplyDeltaToValue(const Mutation& m, std::string* value);

}  // namespace memento::storage
