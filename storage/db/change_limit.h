// The size limit of one change, shared by the Db (what the log can hold), the
// daemon's commands (which refuse a bigger change before it touches the table) and
// its configuration (server.max_bulk is capped to it). Constants only.
#pragma once

#include <cstdint>

#include "storage/wal/wal_format.h"

namespace memento::db {

// The largest change the log holds, counted as key bytes + value bytes: the WAL's
// record limit (wal::kMaxRecordPayload) less the record's own fields (type, two length
// prefixes, the timestamps: under 64 bytes). A change over it must be refused before
// it touches the table (the daemon's commands do; OnMutation treats one that gets
// through as a log failure). server.max_bulk is capped to it (docs/configuration.md).
inline constexpr uint64_t kMaxChangeBytes = wal::kMaxRecordPayload - 64;

}  // namespace memento::db
