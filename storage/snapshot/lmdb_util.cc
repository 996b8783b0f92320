#include "storage/snapshot/lmdb_util.h"

#include <cerrno>

namespace memento::snapshot {

Status LmdbStatus(int rc, std::string_view op, std::string_view path) {
  std::string msg(op);
  msg += ' ';
  msg += path;
  msg += ": ";
  msg += mdb_strerror(rc);  // LMDB's text for its codes, strerror() for errno values
  switch (rc) {
    case MDB_CORRUPTED:
    case MDB_INVALID:
    case MDB_PAGE_NOTFOUND:
      msg += "; the LMDB file is damaged: restore the snapshot directory from a backup";
      return Status::Corruption(msg);
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE:
      msg += "; the file was written by an incompatible LMDB build";
      return Status::NotSupported(msg);
    case MDB_READERS_FULL:
    case EAGAIN:
    case EBUSY:
      return Status::Busy(msg);
    case MDB_NOTFOUND:
    case ENOENT:
      return Status::NotFound(msg);
    case ENOSPC:
      msg += "; free disk space (the last committed snapshot is intact)";
      return Status::IOError(msg);
    default:
      return Status::IOError(msg);
  }
}

}  // namespace memento::snapshot
