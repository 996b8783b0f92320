// The files of a snapshot directory and their atomic publication (leveldb's
// db/filename.cc SetCurrentFile is the model):
//
//   <dir>/CURRENT        "snap-000001\n": names the live environment directory
//   <dir>/snap-000001/   an LMDB environment (data.mdb, lock.mdb)
//
// A new environment is written completely (and fsynced) under its own name before
// CURRENT is switched to it with temp file + fsync + rename + fsync of the directory, so
// a crash at any point leaves CURRENT naming a complete environment.
//
// Thread-safety: pure functions over the file system; callers serialise writers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace memento::snapshot {

// "snap-000042" for 42.
std::string EnvDirName(uint64_t number);
// 42 for "snap-000042"; nullopt for anything else (including "snap-000042.tmp").
std::optional<uint64_t> ParseEnvDirName(std::string_view name);

// Returns the environment name CURRENT holds. NotFound if there is no CURRENT;
// Corruption (naming the file and what to do) if it is not one valid name and '\n'.
Result<std::string> ReadCurrentFile(const std::string& dir);
// Atomically points CURRENT at `env_name`: writes CURRENT.tmp, fsyncs it, renames it
// over CURRENT and fsyncs `dir`.
Status WriteCurrentFile(const std::string& dir, std::string_view env_name);

// mkdir with mode 0700 (storage/file_modes.h); OK if `path` already is a directory.
Status CreateDir(const std::string& path);
// fsync of a file or a directory (a directory's fsync makes its entries durable).
Status SyncPath(const std::string& path);
// Removes `path` and everything under it; OK if it does not exist.
Status RemoveTree(const std::string& path);
// True if `path` exists (any type).
bool PathExists(const std::string& path);


}  // namespace memento::snapshot
