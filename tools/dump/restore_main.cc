// memento-restore: turns a dump file (docs/formats/dump.md) back into a data directory
// that memento starts from. User guide: docs/tools/dump.md.
//
// Order of work, so that a bad dump or a crash never damages the target:
//   1. read the whole dump and check every checksum and count (nothing written yet);
//   2. refuse a target that a running memento holds (its LOCK), or that is not empty
//      without --force; hold the target's LOCK from here on;
//   3. write a fresh snapshot into a temporary directory beside the target
//      (.NAME.restore-PID): SnapshotStore::Apply in batches, meta LSN = the dump's LSN,
//      no wal/ (the daemon creates it and continues the log at LSN + 1);
//   4. swap it into place: rename(2) if the target does not exist, else an atomic
//      exchange (renameat2 RENAME_EXCHANGE) and the old contents are deleted.
// A crash before 4 leaves the target as it was, plus the temporary directory (never
// read by anything; delete it).
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/logging.h"
#include "storage/db/data_dir_lock.h"
#include "storage/db/layout.h"
#include "storage/dump/dump_io.h"
#include "storage/dump/dump_reader.h"
#include "storage/file_modes.h"
#include "storage/mutation.h"
#include "storage/snapshot/snapshot_files.h"
#include "storage/snapshot/snapshot_store.h"
#include "tools/common/tool_common.h"

namespace memento::tools {
namespace {

constexpr char kProgram[] = "memento-restore";

// One LMDB write transaction per this many records or bytes (what the daemon's
// checkpointer uses): bounded memory, and far below LMDB's dirty-page limit.
constexpr size_t kBatchRecords = 20000;
constexpr size_t kBatchBytes = 32u << 20;

constexpr char kUsage[] =
    "Usage: memento-restore -i FILE --data-dir DIR [options]\n"
    "\n"
    "Checks the whole dump FILE (written by memento-dump), then builds the data directory\n"
    "DIR from it: memento started with --data-dir DIR serves exactly the dumped keys (keys\n"
    "whose expiry time has passed are dropped; TTLs are absolute times and are kept).\n"
    "DIR is replaced in one rename at the end; a failure leaves it as it was.\n"
    "\n"
    "  -i, --input FILE    the dump file\n"
    "  --data-dir DIR      the data directory to create (absent or empty)\n"
    "  --force             replace DIR even if it holds data (never while memento runs on it)\n"
    "  --check             only check FILE, write nothing\n"
    "  --progress          always show progress on stderr (default: only on a terminal)\n"
    "  -q, --quiet         no progress, no summary\n"
    "  --help, --version\n"
    "\n"
    "Exit status: 0 done, 1 error (DIR unchanged), 2 bad usage.\n"
    "Docs: docs/tools/dump.md\n";

struct Flags {
  std::string input;
  std::string data_dir;
  bool force = false;
  bool check_only = false;
  ProgressMode progress = ProgressMode::kAuto;
};

int Usage(const std::string& why) {
  fprintf(stderr, "%s: %s\nTry '%s --help'.\n", kProgram, why.c_str(), kProgram);
  return kExitUsage;
}

int Fail(const std::string& what) {
  fprintf(stderr, "%s: %s\n", kProgram, what.c_str());
  return kExitFailure;
}

std::optional<int> ParseFlags(int argc, char** argv, Flags* f) {
  FlagWalker flags(argc, argv);
  std::string_view a;
  while (flags.Next(&a)) {
    std::string_view v;
    if (a == "--help") {
      fputs(kUsage, stdout);
      return kExitOk;
    } else if (a == "--version") {
      fputs(VersionLine(kProgram).c_str(), stdout);
      return kExitOk;
    } else if (a == "-i" || a == "--input") {
      if (!flags.Value(&v)) return Usage("-i needs a dump file");
      f->input = v;
    } else if (a == "--data-dir") {
      if (!flags.Value(&v)) return Usage("--data-dir needs a directory");
      f->data_dir = v;
    } else if (a == "--force") {
      f->force = true;
    } else if (a == "--check") {
      f->check_only = true;
    } else if (a == "--progress") {
      f->progress = ProgressMode::kAlways;
    } else if (a == "-q" || a == "--quiet") {
      f->progress = ProgressMode::kNever;
    } else {
      return Usage("unknown argument '" + std::string(a) + "'");
    }
  }
  if (f->input.empty()) return Usage("-i FILE is required");
  if (f->input == "-") {
    return Usage("-i needs a file: the dump is read twice (checked before anything is written)");
  }
  if (f->data_dir.empty() && !f->check_only) return Usage("--data-dir is required");
  while (f->data_dir.size() > 1 && f->data_dir.back() == '/') f->data_dir.pop_back();
  return std::nullopt;
}

// ---------------------------------------------------------------------------------
// Reading the dump
// ---------------------------------------------------------------------------------

struct OpenDump {
  int fd = -1;
  std::unique_ptr<dump::FdSource> source;
  std::unique_ptr<dump::DumpReader> reader;
  ~OpenDump() {
    reader.reset();
    if (fd >= 0) ::close(fd);
  }
};

Status Open(const std::string& path, OpenDump* d) {
  d->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (d->fd < 0) return Status::FromErrno("open " + path, errno);
  d->source = std::make_unique<dump::FdSource>(d->fd, path);
  auto r = dump::DumpReader::Open(d->source.get(), path);
  if (!r.ok()) return r.status();
  d->reader = std::move(*r);
  return Status::OK();
}

// Pass 1: every check of the format, nothing written. Counts what would be restored.
Status Verify(const Flags& f, int64_t now_ms, uint64_t* live, uint64_t* expired,
              dump::DumpHeader* header, dump::DumpTrailer* trailer) {
  OpenDump d;
  MEMENTO_RETURN_IF_ERROR(Open(f.input, &d));
  *header = d.reader->header();
  Progress progress("check", header->key_count == dump::kUnknownKeyCount ? 0 : header->key_count,
                    "keys", f.progress);
  dump::DumpRecord rec;
  while (true) {
    Result<bool> more = d.reader->Next(&rec);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (rec.expire_ms != dump::kNoExpiry && rec.expire_ms <= now_ms) {
      ++*expired;
    } else {
      ++*live;
    }
    progress.Add(1, rec.key.size() + rec.value.size());
  }
  *trailer = d.reader->trailer();
  return Status::OK();
}

// ---------------------------------------------------------------------------------
// The target directory
// ---------------------------------------------------------------------------------

// The target's LOCK, held the way memento holds it (db::DataDirLock), so that no
// memento starts on the directory while it is being replaced. Busy names the running
// memento's pid. A target without a LOCK file has never been served: nothing to hold.
Result<std::unique_ptr<db::DataDirLock>> LockTarget(const std::string& dir) {
  db::ExclusiveLockOptions options;
  options.holder = "a running memento";
  options.advice =
      "stop it first: a restore never replaces a live directory (--force does not change "
      "that)";
  options.create = false;
  return db::DataDirLock::Exclusive(dir, options);
}

// True if `dir` holds nothing but (possibly) a LOCK file.
bool IsEmptyDataDir(const std::string& dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename() != db::kLockFileName) return false;
  }
  return !ec;
}

Status SyncDir(const std::string& dir) { return snapshot::SyncPath(dir); }

std::string ParentOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Pass 2: the dump into a fresh snapshot in `tmp_dir`/snapshot.
Status Build(const Flags& f, const std::string& tmp_dir, int64_t now_ms, uint64_t total,
             uint64_t* restored) {
  OpenDump d;
  MEMENTO_RETURN_IF_ERROR(Open(f.input, &d));
  const uint64_t lsn = d.reader->header().data_lsn;
  auto store =
      snapshot::SnapshotStore::Open(db::SnapshotPath(tmp_dir), snapshot::SnapshotOptions());
  if (!store.ok()) return store.status();

  struct Owned {
    std::string key;
    std::string value;
    int64_t created_ms;
    int64_t expire_ms;
  };
  std::vector<Owned> batch;
  size_t batch_bytes = 0;
  std::vector<storage::Mutation> views;
  auto apply = [&]() -> Status {
    views.clear();
    for (const Owned& o : batch) {
      views.push_back({storage::MutationType::kPut, o.key, o.value, o.created_ms, o.expire_ms});
    }
    // Every batch at the dump's LSN: Apply accepts an equal LSN, and the restored
    // directory's log continues after it.
    Status s = (*store)->Apply(views, lsn);
    batch.clear();
    batch_bytes = 0;
    return s;
  };
  Progress progress("restore", total, "keys", f.progress);
  dump::DumpRecord rec;
  while (true) {
    Result<bool> more = d.reader->Next(&rec);
    if (!more.ok()) return more.status();  // the file changed since pass 1
    if (!*more) break;
    if (rec.expire_ms != dump::kNoExpiry && rec.expire_ms <= now_ms) continue;
    batch.push_back({std::string(rec.key), std::string(rec.value), rec.created_ms, rec.expire_ms});
    batch_bytes += rec.key.size() + rec.value.size();
    ++*restored;
    progress.Add(1, rec.key.size() + rec.value.size());
    if (batch.size() >= kBatchRecords || batch_bytes >= kBatchBytes) {
      MEMENTO_RETURN_IF_ERROR(apply());
    }
  }
  MEMENTO_RETURN_IF_ERROR(apply());  // also stores the LSN when the dump is empty
  progress.Finish();
  // LMDB's commits are fsynced; the directory entries too.
  store->reset();
  MEMENTO_RETURN_IF_ERROR(SyncDir(db::SnapshotPath(tmp_dir)));
  return SyncDir(tmp_dir);
}

// Puts `tmp_dir` at `target`. The old target (if any) ends up at `tmp_dir` and is
// deleted by the caller.
Status SwapIntoPlace(const std::string& tmp_dir, const std::string& target, bool target_exists) {
  if (!target_exists) {
    if (::rename(tmp_dir.c_str(), target.c_str()) != 0) {
      return Status::FromErrno("rename " + tmp_dir + " to " + target, errno);
    }
    return Status::OK();
  }
  if (::renameat2(AT_FDCWD, tmp_dir.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
    return Status::FromErrno("exchange " + tmp_dir + " with " + target +
                                 " (renameat2 RENAME_EXCHANGE; the target must be on the same "
                                 "file system and not a mount point)",
                             errno);
  }
  return Status::OK();
}

int Run(const Flags& f) {
  const int64_t started_us = MonotonicMicros();
  const int64_t now_ms = NowMillis();

  // 1. The whole dump is checked before anything is touched.
  uint64_t live = 0;
  uint64_t expired = 0;
  dump::DumpHeader header;
  dump::DumpTrailer trailer;
  if (Status s = Verify(f, now_ms, &live, &expired, &header, &trailer); !s.ok()) {
    return Fail(s.ToString() + "; nothing was written");
  }
  if (f.check_only) {
    if (f.progress != ProgressMode::kNever) {
      fprintf(stderr,
              "%s: %s is a valid dump: %s keys (%s already expired), %s of keys and "
              "values, from %s, consistent at LSN %" PRIu64 "\n",
              kProgram, f.input.c_str(), WithThousands(trailer.records).c_str(),
              WithThousands(expired).c_str(), HumanBytes(trailer.data_bytes).c_str(),
              header.node.empty() ? "an unnamed node" : header.node.c_str(), header.data_lsn);
    }
    return kExitOk;
  }

  // 2. The target: never a live one; an occupied one only with --force.
  struct stat st;
  const bool exists = ::stat(f.data_dir.c_str(), &st) == 0;
  if (exists && !S_ISDIR(st.st_mode)) return Fail(f.data_dir + " exists and is not a directory");
  std::unique_ptr<db::DataDirLock> target_lock;
  if (exists) {
    Result<std::unique_ptr<db::DataDirLock>> locked = LockTarget(f.data_dir);
    if (!locked.ok()) return Fail(locked.status().ToString());
    target_lock = std::move(*locked);
    if (!f.force && !IsEmptyDataDir(f.data_dir)) {
      return Fail("data directory " + f.data_dir +
                  " is not empty; restore into a new directory, or add --force to replace "
                  "its contents (they are deleted once the restore is complete)");
    }
  }
  const std::string parent = ParentOf(f.data_dir);
  const std::string tmp_dir =
      parent + "/." + BaseOf(f.data_dir) + ".restore-" + std::to_string(getpid());

  // 3. The new directory, beside the target.
  (void)snapshot::RemoveTree(tmp_dir);
  if (Status made = storage::CreatePrivateDir(tmp_dir); !made.ok()) {
    return Fail("cannot create " + tmp_dir + ": " + made.ToString());
  }
  uint64_t restored = 0;
  Status s = Build(f, tmp_dir, now_ms, live, &restored);
  // 4. Into place, then the old contents go.
  if (s.ok()) s = SwapIntoPlace(tmp_dir, f.data_dir, exists);
  if (s.ok()) s = SyncDir(parent);
  if (!s.ok()) {
    (void)snapshot::RemoveTree(tmp_dir);
    return Fail(s.ToString() + "; " + f.data_dir + " is unchanged");
  }
  if (exists) {
    if (Status r = snapshot::RemoveTree(tmp_dir); !r.ok()) {
      fprintf(stderr, "%s: warning: the old contents of %s are left in %s: %s\n", kProgram,
              f.data_dir.c_str(), tmp_dir.c_str(), r.ToString().c_str());
    }
  }
  if (f.progress != ProgressMode::kNever) {
    fprintf(stderr,
            "%s: restored %s keys into %s (%s expired keys dropped) in %.1f s; consistent at "
            "LSN %" PRIu64 " of %s\n",
            kProgram, WithThousands(restored).c_str(), f.data_dir.c_str(),
            WithThousands(expired + (live - restored)).c_str(),
            static_cast<double>(MonotonicMicros() - started_us) / 1e6, header.data_lsn,
            header.node.empty() ? "an unnamed node" : header.node.c_str());
  }
  return kExitOk;
}

}  // namespace
}  // namespace memento::tools

int main(int argc, char** argv) {
  using namespace memento::tools;  // NOLINT
  memento::log::SetLevel(memento::log::Level::kWarning);
  Flags flags;
  if (auto code = ParseFlags(argc, argv, &flags)) return *code;
  return Run(flags);
}
