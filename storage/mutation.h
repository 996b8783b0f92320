// Mutation: the resulting state of one change to the table, as the write-ahead log
// records it and the snapshot store applies it.
//
// The log records what a command *did*, not the command: INCF's new value, EXPIRE's
// absolute expiry time. Replaying mutations is therefore deterministic (no clocks,
// no floating point re-evaluated).
//
// The numeric values of MutationType are written to disk (docs/formats/wal.md).
// DO NOT CHANGE THEM; add new types with new numbers.
#pragma once

#include <cstdint>
#include <string_view>

namespace memento::storage {

enum class MutationType : uint8_t {
  kPut = 1,     // key now holds value, created_ms, expire_ms (replaces any old entry)
  kDelete = 2,  // key is gone (DEL, expiry reclaim)
  kExpire = 3,  // key's expiry is now expire_ms (-1: none); value unchanged
  kClear = 4,   // every key is gone (FLUSH)
};

// Why a change happened. In memory only: it is NOT written to the log (a kDelete
// from an expiry and one from DEL look the same on disk, docs/formats/wal.md), so
// readers of the log files learn it only from the Wal's ring of recent reasons
// (storage/wal/wal.h, Wal::ReadFrom). kFlush goes with kClear, kCommand with the rest.
enum class ChangeReason : uint8_t {
  kCommand = 0,      // a client's command (SET, DEL, EXPIRE...)
  kExpiry = 1,       // the key's TTL passed (Table's lazy or background removal)
  kEviction = 2,     // memory pressure (not produced yet)
  kReplication = 3,  // applied from a primary (not produced yet)
  kFlush = 4,        // FLUSHALL / FLUSHDB
};

// Views into memory owned by the producer; valid only as long as it says.
struct Mutation {
  MutationType type = MutationType::kPut;
  std::string_view key;    // all but kClear
  std::string_view value;  // kPut
  int64_t created_ms = 0;  // kPut: ms since epoch
  int64_t expire_ms = -1;  // kPut, kExpire: absolute ms since epoch, -1 = none
  ChangeReason reason = ChangeReason::kCommand;  // in memory only (see above)
};

}  // namespace memento::storage
