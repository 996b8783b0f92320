// Permissions of what memento writes in a data directory (docs/security.md, "The data
// directory"): every file it creates is 0600 and every directory 0700, whatever the
// umask, because the files hold every key and value unencrypted. The one place that
// says so; the WAL, the snapshot store, the LOCK files and the tools all go through it.
//
// An existing directory is left as the operator set it (a backup agent may have been
// given group access on purpose); a file memento creates or rewrites is always 0600.
//
// Thread-safety: plain system calls; any thread.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/status.h"

namespace memento::storage {

inline constexpr mode_t kPrivateFileMode = 0600;
inline constexpr mode_t kPrivateDirMode = 0700;

// open(path, flags | O_CREAT | O_CLOEXEC, 0600), then fchmod to exactly 0600 (an
// open's mode is filtered by the umask; fchmod's is not). Returns the descriptor, or
// -1 with errno set (the fd is closed if the fchmod fails).
int OpenPrivateFile(const std::string& path, int flags);

// mkdir(path, 0700) and chmod to exactly 0700. OK if `path` already is a directory,
// whose mode is then left alone.
Status CreatePrivateDir(const std::string& path);

// CreatePrivateDir for `path` and each missing parent (mkdir -p).
Status CreatePrivateDirs(const std::string& path);

// chmod(path, 0600): for files a library created with its own mode (LMDB's data.mdb
// and lock.mdb, mdb_env_copy2's copy).
Status MakeFilePrivate(const std::string& path);

}  // namespace memento::storage
