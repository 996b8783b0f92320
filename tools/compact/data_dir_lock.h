// The data directory's LOCK file, as the offline tools take it. The daemon holds an
// exclusive flock on <data-dir>/LOCK (holding its pid) while it runs (daemon/daemon.cc,
// Daemon::LockDataDir); flock is released when a process ends in any way, kill -9
// included, so a stale LOCK file never blocks anyone.
//
//   Exclusive  for tools that change the directory (memento-compact): refused while a
//              daemon holds it, with a message naming its pid; then holds it and writes
//              the tool's own pid, so a daemon started meanwhile refuses to start.
//   Shared     for read-only checks (memento-compact --check): never creates or writes
//              the file. If no daemon holds the lock, a shared lock is taken so that a
//              daemon cannot start (and write) during the check; if one does, the check
//              runs alongside it (owner_pid() says who).
//
// Thread-safety: none needed; one object per process, released by the destructor.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"

namespace memento::tools {

class DataDirLock {
 public:
  // Busy naming the holder's pid when a daemon holds the directory; IOError naming the
  // path otherwise. `program` appears in the message ("memento-compact").
  static Result<std::unique_ptr<DataDirLock>> Exclusive(const std::string& data_dir,
                                                        const std::string& program);
  // Never fails because of another process: held() tells whether the shared lock was taken
  // (false: a daemon holds the directory, or there is no LOCK file yet).
  static Result<std::unique_ptr<DataDirLock>> Shared(const std::string& data_dir);

  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

  // Whether this process holds the lock (exclusive or shared).
  bool held() const { return held_; }
  // Shared only, when not held: the pid written in LOCK by the daemon that holds it.
  const std::string& owner_pid() const { return owner_pid_; }

 private:
  DataDirLock() = default;

  int fd_ = -1;
  bool held_ = false;
  std::string owner_pid_;
};

}  // namespace memento::tools
