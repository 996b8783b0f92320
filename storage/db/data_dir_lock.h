// DataDirLock: who owns a data directory. The ONE implementation of the LOCK protocol,
// used by the daemon (through Db), memento-compact and memento-restore.
//
// <data-dir>/LOCK is flock(2)ed; flock is released when the process ends in any way,
// kill -9 included, so a stale LOCK file never blocks anyone, and the file itself is
// never deleted.
//
//   Exclusive  for whoever changes the directory: the daemon, memento-compact,
//              memento-restore. Refused (Busy) while anyone else holds the lock, with a
//              message naming the pid written in the file; once held, the holder's own
//              pid is written into the file, so that whoever is refused next names it.
//   Shared     for read-only checks (memento-compact --check): never creates or writes
//              the file. If nobody holds the lock, a shared lock is taken so that a
//              daemon cannot start (and write) during the check; if a daemon holds it,
//              the check runs alongside it and owner_pid() names the daemon.
//
// memento-dump takes no lock at all: its view (storage/dump/dump_source.h) is consistent
// while a daemon writes, and a long dump must not stop a daemon from starting.
//
// Thread-safety: none needed; one object per owner, released by the destructor.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"

namespace memento::db {

// What a refused Exclusive says:
//   "data directory <dir> is in use by <holder> (pid <pid>); <advice>"
// Tests and docs quote these messages: keep each caller's words byte for byte.
struct ExclusiveLockOptions {
  std::string holder = "another memento";
  std::string advice;
  // Create the directory (and its parents) and the LOCK file if missing. When false, a
  // missing directory or LOCK file gives a lock that is not held() (nobody can be
  // running there).
  bool create = true;
};

class DataDirLock {
 public:
  // Errors: Busy (the message above) when another process holds the lock; IOError
  // naming the path when the directory or the file cannot be created, opened, locked or
  // written.
  static Result<std::unique_ptr<DataDirLock>> Exclusive(const std::string& data_dir,
                                                        const ExclusiveLockOptions& options);
  // Never fails because of another process: held() tells whether the shared lock was
  // taken (false: a daemon holds the directory, or there is no LOCK file yet). IOError
  // when LOCK exists but cannot be opened or locked.
  static Result<std::unique_ptr<DataDirLock>> Shared(const std::string& data_dir);

  ~DataDirLock();  // releases the flock
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

  // Whether this process holds the lock (exclusive or shared).
  bool held() const { return held_; }
  // When not held because someone else holds it: the pid written in LOCK ("unknown" if
  // the file holds none). Empty otherwise.
  const std::string& owner_pid() const { return owner_pid_; }

 private:
  DataDirLock() = default;

  int fd_ = -1;
  bool held_ = false;
  std::string owner_pid_;
};

}  // namespace memento::db
