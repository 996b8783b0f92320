// The boundary between LMDB's C API and the store: LMDB's int return codes become
// Status here (LmdbStatus) and nowhere else, and transactions and cursors are closed by
// RAII so that no early return leaks one.
//
// Thread-safety: a Txn or Cursor belongs to the thread that uses it; LMDB's own rules
// apply (a write transaction stays on its thread; with MDB_NOTLS a read transaction may
// move between threads if the caller synchronises).
#pragma once

#include <lmdb.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace memento::snapshot {

// Maps an LMDB (or errno) return code to a Status whose message reads
// "<op> <path>: <LMDB's text><advice>". REQUIRES: rc != MDB_SUCCESS.
//   MDB_CORRUPTED, MDB_INVALID, MDB_PAGE_NOTFOUND -> Corruption (restore from a backup)
//   MDB_VERSION_MISMATCH, MDB_INCOMPATIBLE       -> NotSupported
//   MDB_READERS_FULL, EAGAIN, EBUSY              -> Busy
//   MDB_NOTFOUND, ENOENT                         -> NotFound
//   anything else (ENOSPC, EIO, MDB_MAP_FULL...) -> IOError
Status LmdbStatus(int rc, std::string_view op, std::string_view path);

inline MDB_val ToVal(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};  // LMDB never writes through it
}
inline std::string_view FromVal(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

// A transaction that is aborted on destruction unless committed.
class Txn {
 public:
  Txn() = default;
  ~Txn() { Abort(); }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  // Returns the raw LMDB code, because callers react to MDB_MAP_RESIZED.
  int Begin(MDB_env* env, unsigned flags) { return mdb_txn_begin(env, nullptr, flags, &txn_); }
  // Commits (the handle is freed whatever the outcome). Returns the raw LMDB code, because
  // callers react to MDB_MAP_FULL.
  int Commit() {
    MDB_txn* t = txn_;
    txn_ = nullptr;
    return mdb_txn_commit(t);
  }
  void Abort() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    txn_ = nullptr;
  }
  MDB_txn* get() const { return txn_; }

 private:
  MDB_txn* txn_ = nullptr;
};

// A cursor closed on destruction. REQUIRES: destroyed before its transaction ends.
class Cursor {
 public:
  Cursor() = default;
  ~Cursor() {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
  }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  int Open(MDB_txn* txn, MDB_dbi dbi) { return mdb_cursor_open(txn, dbi, &cursor_); }
  MDB_cursor* get() const { return cursor_; }

 private:
  MDB_cursor* cursor_ = nullptr;
};

}  // namespace memento::snapshot
