// SnapshotStore over LMDB. Layout (docs/formats/snapshot.md, constants in
// snapshot_format.h):
//
//   <dir>/CURRENT -> snap-N/   one LMDB environment with three named databases:
//     meta       "format_version" -> fixed32, "lsn" -> fixed64, "long_key_seed" -> 16 bytes
//     keys       key (1..511 bytes)           -> record
//     long_keys  hash:BE64 chain:BE32 (slot)   -> record with the full key
//
//   record := flags:u8 created_ms:fixed64 expire_ms:fixed64 [key_len:fixed32 key] payload
//
// Why one LMDB write transaction per checkpoint, not a fresh snapshot file per
// checkpoint (redis's RDB): a checkpoint then costs what changed since the last one,
// and LMDB's commit is the atomic publish (the meta page flip). The rejected
// alternative, rewriting the whole data set to a temp file and renaming it, costs
// O(data set) per checkpoint and needs double the disk space.
#include "storage/snapshot/snapshot_store.h"

#include <lmdb.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include "common/logging.h"
#include "common/coding.h"
#include "storage/file_modes.h"
#include "storage/snapshot/lmdb_util.h"
#include "storage/snapshot/long_key.h"
#include "storage/snapshot/record_codec.h"
#include "storage/snapshot/snapshot_files.h"
#include "storage/snapshot/snapshot_format.h"
#include "storage/wal/file.h"

namespace memento::snapshot {

using storage::Mutation;
using storage::MutationType;

// ============================================================================
// Locks and small helpers
// ============================================================================
namespace {

using WriterLock = ::memento::MutexLock;
using ReaderLock = ::memento::SharedLock;
using ExclusiveLock = ::memento::ExclusiveLock;

constexpr char kDamagedAdvice[] =
    "; the snapshot is damaged: restore the snapshot directory from a backup";

// A Status with s's code and `prefix` + s's message.
Status Rewrap(const Status& s, std::string_view prefix) {
  std::string msg(prefix);
  msg += s.message();
  switch (s.code()) {
    case Status::Code::kOk:
      return Status::OK();
    case Status::Code::kNotFound:
      return Status::NotFound(msg);
    case Status::Code::kCorruption:
      return Status::Corruption(msg);
    case Status::Code::kIOError:
      return Status::IOError(msg);
    case Status::Code::kInvalidArgument:
      return Status::InvalidArgument(msg);
    case Status::Code::kNotSupported:
      return Status::NotSupported(msg);
    case Status::Code::kBusy:
      return Status::Busy(msg);
  }
  return Status::IOError(msg);
}

// For a write operation: flags MDB_MAP_FULL for the retry loop, then converts.
Status WriteRc(int rc, std::string_view op, std::string_view path, bool* map_full) {
  if (rc == MDB_SUCCESS) return Status::OK();
  if (rc == MDB_MAP_FULL) *map_full = true;
  return LmdbStatus(rc, op, path);
}

std::string SlotName(std::string_view slot) {
  std::string out = "long-key slot ";
  char hex[4];
  for (char c : slot) {
    std::snprintf(hex, sizeof(hex), "%02x", static_cast<unsigned char>(c));
    out += hex;
  }
  return out;
}

const char* MutationTypeName(MutationType type) {
  switch (type) {
    case MutationType::kPut:
      return "put";
    case MutationType::kDelete:
      return "delete";
    case MutationType::kExpire:
      return "expire";
    case MutationType::kClear:
      return "clear";
    case MutationType::kAppend:
      return "append";
    case MutationType::kPrepend:
      return "prepend";
    case MutationType::kSetRange:
      return "setrange";
    case MutationType::kIncrBy:
      return "incrby";
  }
  return "unknown";
}

bool Expired(int64_t expire_ms, int64_t now_ms) {
  return expire_ms != kNoExpiry && expire_ms <= now_ms;
}

size_t RoundUpToPage(size_t n) {
  const long page = ::sysconf(_SC_PAGESIZE);
  const size_t p = page > 0 ? static_cast<size_t>(page) : 4096;
  return (n + p - 1) / p * p;
}

// Reads meta record `name`, which must be exactly `size` bytes.
Result<std::string_view> GetMeta(MDB_txn* txn, MDB_dbi meta, const char* name, size_t size,
                                 const std::string& env_dir) {
  MDB_val k = ToVal(name);
  MDB_val v;
  const int rc = mdb_get(txn, meta, &k, &v);
  if (rc == MDB_NOTFOUND) {
    return Status::Corruption("snapshot " + env_dir + ": meta record \"" + name + "\" is missing" +
                              kDamagedAdvice);
  }
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, std::string("mdb_get meta ") + name, env_dir);
  if (v.mv_size != size) {
    return Status::Corruption("snapshot " + env_dir + ": meta record \"" + name + "\" has " +
                              std::to_string(v.mv_size) + " bytes, expected " +
                              std::to_string(size) + kDamagedAdvice);
  }
  return FromVal(v);
}

Status PutMeta(MDB_txn* txn, MDB_dbi meta, const char* name, std::string_view value,
               const std::string& env_dir, bool* map_full) {
  MDB_val k = ToVal(name);
  MDB_val v = ToVal(value);
  return WriteRc(mdb_put(txn, meta, &k, &v, 0), std::string("mdb_put meta ") + name, env_dir,
                 map_full);
}

// Removes what a crashed compaction or publication left next to the live environment
// `live`: other snap-* directories (older, or newer but never published) and CURRENT.tmp.
void RemoveObsolete(const std::string& dir, const std::string& live) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  const std::filesystem::directory_iterator end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const bool obsolete_env = name.rfind(kEnvDirPrefix, 0) == 0 && name != live;
    const bool stale_current = name == std::string(kCurrentFileName) + kTempSuffix;
    if (!obsolete_env && !stale_current) continue;
    const Status s = RemoveTree(it->path().string());
    if (s.ok()) {
      log::Info("snapshot %s: removed obsolete %s", dir.c_str(), name.c_str());
    } else {
      log::Warning("snapshot %s: %s", dir.c_str(), s.ToString().c_str());
    }
  }
}

}  // namespace

struct SnapshotStore::Env {
  MDB_env* env = nullptr;
  MDB_dbi meta = 0;
  MDB_dbi keys = 0;
  MDB_dbi long_keys = 0;
  LongKeySeed seed;
  uint64_t lsn = 0;     // at open
  uint64_t number = 0;  // N of snap-N
  std::string dir;      // <dir>/snap-N

  Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  ~Env() {
    if (env != nullptr) mdb_env_close(env);
  }
};

struct SnapshotStore::LongKeyLookup {
  bool found = false;
  std::string slot;         // the key's slot if found, else the free slot for it
  std::string_view record;  // found only: valid until the next write in the transaction
};

// ============================================================================
// Open
// ============================================================================

Result<std::unique_ptr<SnapshotStore::Env>> SnapshotStore::OpenEnv(const std::string& env_dir,
                                                                   const SnapshotOptions& options) {
  auto e = std::make_unique<Env>();
  e->dir = env_dir;
  const size_t slash = env_dir.find_last_of('/');
  e->number =
      ParseEnvDirName(env_dir.substr(slash == std::string::npos ? 0 : slash + 1)).value_or(0);

  int rc = mdb_env_create(&e->env);
  if (rc != MDB_SUCCESS) {
    e->env = nullptr;
    return LmdbStatus(rc, "mdb_env_create for", env_dir);
  }
  rc = mdb_env_set_maxdbs(e->env, kNumDbs);
  if (rc == MDB_SUCCESS) rc = mdb_env_set_mapsize(e->env, RoundUpToPage(options.initial_map_size));
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_env_set_mapsize", env_dir);
  // MDB_NOTLS: reader slots belong to transactions, not threads, so Load may run on any
  // thread (and a thread may hold two read transactions). Default durability: a commit
  // returns once the data is fsynced.
  // read_only: MDB_RDONLY, so that a tool can read while the daemon writes (LMDB
  // supports readers in other processes; they only take a slot in lock.mdb).
  rc = mdb_env_open(e->env, env_dir.c_str(), MDB_NOTLS | (options.read_only ? MDB_RDONLY : 0),
                    storage::kPrivateFileMode);
  if (rc != MDB_SUCCESS) {
    if (rc == EAGAIN) {
      return Status::Busy("mdb_env_open " + env_dir +
                          ": the LMDB lock is held by another process; stop it first");
    }
    return LmdbStatus(rc, "mdb_env_open", env_dir);
  }
  if (!options.read_only) {
    // LMDB's mode argument goes through the umask: make it exactly 0600.
    MEMENTO_RETURN_IF_ERROR(storage::MakeFilePrivate(env_dir + "/data.mdb"));
    MEMENTO_RETURN_IF_ERROR(storage::MakeFilePrivate(env_dir + "/lock.mdb"));
  }
  if (mdb_env_get_maxkeysize(e->env) < static_cast<int>(kMaxShortKeySize)) {
    return Status::NotSupported(
        "snapshot " + env_dir + ": this LMDB build stores keys of at most " +
        std::to_string(mdb_env_get_maxkeysize(e->env)) + " bytes; the format needs " +
        std::to_string(kMaxShortKeySize) + " (LMDB's default MDB_MAXKEYSIZE)");
  }

  Txn txn;
  rc = txn.Begin(e->env, options.read_only ? MDB_RDONLY : 0);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_txn_begin", env_dir);
  rc = mdb_dbi_open(txn.get(), kMetaDb, 0, &e->meta);
  bool map_full = false;
  if (rc == MDB_NOTFOUND && options.read_only) {
    return Status::Corruption("snapshot " + env_dir +
                              ": no memento meta database (not a memento snapshot, or one "
                              "still being created)");
  }
  if (rc == MDB_NOTFOUND) {
    // A new environment, unless it holds something else.
    MDB_dbi main_db;
    MDB_stat st;
    rc = mdb_dbi_open(txn.get(), nullptr, 0, &main_db);
    if (rc == MDB_SUCCESS) rc = mdb_stat(txn.get(), main_db, &st);
    if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_stat", env_dir);
    if (st.ms_entries != 0) {
      return Status::Corruption("snapshot " + env_dir +
                                ": an LMDB environment without a memento meta database; it is "
                                "not a memento snapshot: move it out of the snapshot directory");
    }
    rc = mdb_dbi_open(txn.get(), kMetaDb, MDB_CREATE, &e->meta);
    if (rc == MDB_SUCCESS) rc = mdb_dbi_open(txn.get(), kKeysDb, MDB_CREATE, &e->keys);
    if (rc == MDB_SUCCESS) rc = mdb_dbi_open(txn.get(), kLongKeysDb, MDB_CREATE, &e->long_keys);
    if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_dbi_open (create)", env_dir);
    char seed[kLongKeySeedSize];
    if (::getrandom(seed, sizeof(seed), 0) != static_cast<ssize_t>(sizeof(seed))) {
      return Status::FromErrno("getrandom for the long-key seed of " + env_dir, errno);
    }
    e->seed = LongKeySeed{DecodeFixed64(seed), DecodeFixed64(seed + 8)};
    MEMENTO_RETURN_IF_ERROR(PutMeta(txn.get(), e->meta, kMetaFormatVersion,
                                    Fixed32String(kFormatVersion), env_dir, &map_full));
    MEMENTO_RETURN_IF_ERROR(
        PutMeta(txn.get(), e->meta, kMetaLsn, Fixed64String(0), env_dir, &map_full));
    MEMENTO_RETURN_IF_ERROR(PutMeta(txn.get(), e->meta, kMetaLongKeySeed,
                                    std::string_view(seed, sizeof(seed)), env_dir, &map_full));
    e->lsn = 0;
  } else if (rc != MDB_SUCCESS) {
    return LmdbStatus(rc, "mdb_dbi_open meta", env_dir);
  } else {
    auto version = GetMeta(txn.get(), e->meta, kMetaFormatVersion, 4, env_dir);
    if (!version.ok()) return version.status();
    const uint32_t v = DecodeFixed32(version->data());
    if (v != kFormatVersion) {
      return Status::NotSupported(
          "snapshot " + env_dir + ": format version " + std::to_string(v) +
          ", this memento reads version " + std::to_string(kFormatVersion) +
          ": open it with the memento release that wrote it, or restore a backup taken by this "
          "release (docs/formats/snapshot.md)");
    }
    auto lsn = GetMeta(txn.get(), e->meta, kMetaLsn, 8, env_dir);
    if (!lsn.ok()) return lsn.status();
    e->lsn = DecodeFixed64(lsn->data());
    auto seed = GetMeta(txn.get(), e->meta, kMetaLongKeySeed, kLongKeySeedSize, env_dir);
    if (!seed.ok()) return seed.status();
    e->seed = LongKeySeed{DecodeFixed64(seed->data()), DecodeFixed64(seed->data() + 8)};
    rc = mdb_dbi_open(txn.get(), kKeysDb, 0, &e->keys);
    if (rc == MDB_SUCCESS) rc = mdb_dbi_open(txn.get(), kLongKeysDb, 0, &e->long_keys);
    if (rc == MDB_NOTFOUND) {
      return Status::Corruption("snapshot " + env_dir + ": database \"" + kKeysDb + "\" or \"" +
                                kLongKeysDb + "\" is missing" + kDamagedAdvice);
    }
    if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_dbi_open", env_dir);
  }
  // Committing keeps the database handles open for the environment's lifetime.
  rc = txn.Commit();
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_txn_commit (open)", env_dir);
  return e;
}

Result<std::unique_ptr<SnapshotStore>> SnapshotStore::Open(const std::string& dir,
                                                           const SnapshotOptions& options) {
  if (options.initial_map_size == 0 || options.initial_map_size > options.max_map_size) {
    return Status::InvalidArgument("snapshot " + dir +
                                   ": initial_map_size must be > 0 and <= max_map_size");
  }
  auto compressor = ZstdCompressor::Create(options.compression_level);
  if (!compressor.ok()) return Rewrap(compressor.status(), "snapshot " + dir + ": ");
  if (options.read_only) {
    // Nothing is created or cleaned up: the directory may belong to a running daemon.
    if (!PathExists(dir)) return Status::NotFound("snapshot directory " + dir + " does not exist");
    Result<std::string> named = ReadCurrentFile(dir);
    if (!named.ok()) return named.status();
    auto env = OpenEnv(dir + "/" + *named, options);
    if (!env.ok()) return env.status();
    const uint64_t lsn = (*env)->lsn;
    std::unique_ptr<SnapshotStore> store(
        new SnapshotStore(dir, options, std::move(*env), std::move(*compressor)));
    store->lsn_.store(lsn, std::memory_order_release);
    return store;
  }
  MEMENTO_RETURN_IF_ERROR(CreateDir(dir));

  std::string live;
  Result<std::string> current = ReadCurrentFile(dir);
  if (current.ok()) {
    live = *current;
    if (!PathExists(dir + "/" + live)) {
      return Status::Corruption(dir + "/" + kCurrentFileName + " names " + live + ", but " + dir +
                                "/" + live + " does not exist; restore the snapshot directory " +
                                "from a backup");
    }
    // CURRENT must be durable before what it replaced is deleted.
    MEMENTO_RETURN_IF_ERROR(SyncPath(dir));
    RemoveObsolete(dir, live);
  } else if (!current.status().IsNotFound()) {
    return current.status();
  } else {
    // No CURRENT: a new snapshot, or a first Open that crashed before writing CURRENT,
    // which leaves at most an empty snap-000001/. An environment with data but no
    // CURRENT is not ours to guess about (CURRENT was deleted by hand?).
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (ParseEnvDirName(name) && PathExists(it->path().string() + "/data.mdb")) {
        return Status::Corruption(dir + " holds " + name + " but no " + kCurrentFileName +
                                  " file naming it; if " + name +
                                  " is the newest snap-* directory, run: printf '" + name +
                                  "\\n' > " + dir + "/" + kCurrentFileName);
      }
    }
    RemoveObsolete(dir, "");
    live = EnvDirName(1);
    MEMENTO_RETURN_IF_ERROR(CreateDir(dir + "/" + live));
    MEMENTO_RETURN_IF_ERROR(SyncPath(dir));
    MEMENTO_RETURN_IF_ERROR(WriteCurrentFile(dir, live));
  }

  auto env = OpenEnv(dir + "/" + live, options);
  if (!env.ok()) return env.status();
  const uint64_t lsn = (*env)->lsn;
  std::unique_ptr<SnapshotStore> store(
      new SnapshotStore(dir, options, std::move(*env), std::move(*compressor)));
  store->lsn_.store(lsn, std::memory_order_release);
  return store;
}

SnapshotStore::SnapshotStore(std::string dir, const SnapshotOptions& options,
                             std::unique_ptr<Env> env, std::unique_ptr<ZstdCompressor> compressor)
    : dir_(std::move(dir)),
      options_(options),
      compressor_(std::move(compressor)),
      env_(std::move(env)) {}

SnapshotStore::~SnapshotStore() = default;

// ============================================================================
// Apply
// ============================================================================

Status SnapshotStore::Apply(std::span<const Mutation> mutations, uint64_t lsn) {
  if (options_.read_only) return Status::NotSupported("snapshot " + dir_ + " is open read-only");
  WriterLock writer(&write_mu_);
  if (!broken_.ok()) return broken_;
  const uint64_t covered = lsn_.load(std::memory_order_acquire);
  if (lsn < covered) {
    return Status::InvalidArgument("snapshot " + dir_ + ": Apply up to LSN " + std::to_string(lsn) +
                                   ", but the snapshot already covers LSN " +
                                   std::to_string(covered));
  }
  if (mutations.empty() && lsn == covered) return Status::OK();

  // Each round either commits, fails for good, or makes the map bigger; growth is capped
  // by max_map_size, so the loop ends. The cap on rounds guards against another process
  // resizing the map forever.
  constexpr int kMaxRounds = 64;
  uint64_t batch_bytes = 0;
  for (const Mutation& m : mutations) batch_bytes += m.key.size() + m.value.size();
  for (int round = 0; round < kMaxRounds; ++round) {
    bool map_full = false;
    bool map_resized = false;
    {
      ReaderLock reader(&env_mu_);
      Status s = ApplyOnce(mutations, lsn, &map_full, &map_resized);
      if (s.ok()) {
        lsn_.store(lsn, std::memory_order_release);
        return s;
      }
      if (!map_full && !map_resized) return s;
    }
    // mdb_env_set_mapsize needs every transaction of this process closed: the
    // exclusive lock waits for running Loads and keeps new ones out.
    ExclusiveLock exclusive(&env_mu_);
    if (map_resized) {
      const int rc = mdb_env_set_mapsize(env_->env, 0);  // adopt the other process's size
      if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_env_set_mapsize", env_->dir);
    } else {
      MEMENTO_RETURN_IF_ERROR(GrowMap(batch_bytes));
    }
  }
  return Status::IOError("snapshot " + dir_ + ": Apply gave up after " +
                         std::to_string(kMaxRounds) + " map resizes");
}

Status SnapshotStore::ApplyOnce(std::span<const Mutation> mutations, uint64_t lsn, bool* map_full,
                                bool* map_resized) {
  Txn txn;
  int rc = txn.Begin(env_->env, 0);
  if (rc == MDB_MAP_RESIZED) *map_resized = true;
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_txn_begin", env_->dir);

  for (size_t i = 0; i < mutations.size(); ++i) {
    const Mutation& m = mutations[i];
    Status s = ApplyMutation(txn.get(), m, map_full);
    if (!s.ok()) {
      if (*map_full) return s;  // the caller grows the map and retries; no context needed
      return Rewrap(s, "snapshot " + env_->dir + ": Apply up to LSN " + std::to_string(lsn) +
                           ", mutation " + std::to_string(i) + " of " +
                           std::to_string(mutations.size()) + " (" + MutationTypeName(m.type) +
                           " " + DescribeKey(m.key) + "): ");
    }
  }
  // The LSN goes into the same transaction as the data: both commit or neither does.
  MEMENTO_RETURN_IF_ERROR(
      PutMeta(txn.get(), env_->meta, kMetaLsn, Fixed64String(lsn), env_->dir, map_full));
  rc = txn.Commit();
  return WriteRc(rc, "mdb_txn_commit", env_->dir, map_full);
}

Status SnapshotStore::ApplyMutation(MDB_txn* txn, const Mutation& m, bool* map_full) {
  switch (m.type) {
    case MutationType::kPut:
      return PutValue(txn, m, map_full);
    case MutationType::kDelete:
      return DeleteKey(txn, m.key, map_full);
    case MutationType::kExpire:
      return SetExpiry(txn, m.key, m.expire_ms, map_full);
    case MutationType::kClear: {
      MEMENTO_RETURN_IF_ERROR(
          WriteRc(mdb_drop(txn, env_->keys, 0), "mdb_drop keys", env_->dir, map_full));
      return WriteRc(mdb_drop(txn, env_->long_keys, 0), "mdb_drop long_keys", env_->dir, map_full);
    }
    case MutationType::kAppend:
    case MutationType::kPrepend:
    case MutationType::kSetRange:
    case MutationType::kIncrBy:
      return ApplyDelta(txn, m, map_full);
  }
  return Status::InvalidArgument("unknown mutation type " +
                                 std::to_string(static_cast<int>(m.type)));
}

Status SnapshotStore::PutValue(MDB_txn* txn, const Mutation& m, bool* map_full) {
  if (m.key.size() > kMaxKeySize) {
    return Status::InvalidArgument("key of " + std::to_string(m.key.size()) +
                                   " bytes exceeds the limit of " + std::to_string(kMaxKeySize));
  }
  if (m.value.size() > kMaxValueSize) {
    return Status::InvalidArgument("value of " + std::to_string(m.value.size()) +
                                   " bytes exceeds the limit of " + std::to_string(kMaxValueSize));
  }
  RecordView rec;
  rec.created_ms = m.created_ms;
  rec.expire_ms = m.expire_ms;
  rec.payload = m.value;
  if (m.value.size() >= options_.compress_min_size) {
    auto frame = compressor_->Compress(m.value);
    if (!frame.ok()) return frame.status();
    // Keep the value raw unless compression saves something after its 4-byte raw_len.
    if (frame->size() + 4 < m.value.size()) {
      rec.compressed = true;
      rec.raw_len = static_cast<uint32_t>(m.value.size());
      rec.payload = *frame;
    }
  }

  MDB_dbi dbi = env_->keys;
  std::string slot;
  std::string_view lmdb_key = m.key;
  if (IsLongKey(m.key)) {
    LongKeyLookup lookup;
    MEMENTO_RETURN_IF_ERROR(FindLongKey(txn, m.key, &lookup));
    slot = std::move(lookup.slot);
    lmdb_key = slot;
    dbi = env_->long_keys;
    rec.has_full_key = true;
    rec.full_key = m.key;
  }
  // MDB_RESERVE: LMDB hands out the space in its page and the record is encoded straight
  // into it, so the value is copied once.
  MDB_val k = ToVal(lmdb_key);
  MDB_val v{EncodedRecordSize(rec), nullptr};
  MEMENTO_RETURN_IF_ERROR(
      WriteRc(mdb_put(txn, dbi, &k, &v, MDB_RESERVE), "mdb_put", env_->dir, map_full));
  EncodeRecord(rec, static_cast<char*>(v.mv_data));
  return Status::OK();
}

Status SnapshotStore::DeleteKey(MDB_txn* txn, std::string_view key, bool* map_full) {
  MDB_dbi dbi = env_->keys;
  std::string slot;
  std::string_view lmdb_key = key;
  if (IsLongKey(key)) {
    LongKeyLookup lookup;
    MEMENTO_RETURN_IF_ERROR(FindLongKey(txn, key, &lookup));
    if (!lookup.found) return Status::OK();
    slot = std::move(lookup.slot);
    lmdb_key = slot;
    dbi = env_->long_keys;
  }
  MDB_val k = ToVal(lmdb_key);
  const int rc = mdb_del(txn, dbi, &k, nullptr);
  if (rc == MDB_NOTFOUND) return Status::OK();  // deleting an absent key is not an error
  return WriteRc(rc, "mdb_del", env_->dir, map_full);
}

Status SnapshotStore::SetExpiry(MDB_txn* txn, std::string_view key, int64_t expire_ms,
                                bool* map_full) {
  MDB_dbi dbi = env_->keys;
  std::string slot;
  std::string_view lmdb_key = key;
  std::string_view existing;
  if (IsLongKey(key)) {
    LongKeyLookup lookup;
    MEMENTO_RETURN_IF_ERROR(FindLongKey(txn, key, &lookup));
    if (!lookup.found) return Status::OK();
    slot = std::move(lookup.slot);
    lmdb_key = slot;
    dbi = env_->long_keys;
    existing = lookup.record;
  } else {
    MDB_val k = ToVal(key);
    MDB_val v;
    const int rc = mdb_get(txn, dbi, &k, &v);
    // The log records resulting states; an expiry for a key that is not there has
    // nothing to act on (its key was deleted later in the same batch, say).
    if (rc == MDB_NOTFOUND) return Status::OK();
    if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_get", env_->dir);
    existing = FromVal(v);
  }
  auto rec = DecodeRecord(existing);
  if (!rec.ok()) return RecordError(rec.status(), DescribeKey(key));
  // Only the 8 expiry bytes change: no decoding of the value, no recompression.
  scratch_.assign(existing);
  PatchRecordExpiry(&scratch_, expire_ms);
  MDB_val k = ToVal(lmdb_key);
  MDB_val v = ToVal(scratch_);
  return WriteRc(mdb_put(txn, dbi, &k, &v, 0), "mdb_put", env_->dir, map_full);
}

Status SnapshotStore::ApplyDelta(MDB_txn* txn, const Mutation& m, bool* map_full) {
  std::string_view existing;
  if (IsLongKey(m.key)) {
    LongKeyLookup lookup;
    MEMENTO_RETURN_IF_ERROR(FindLongKey(txn, m.key, &lookup));
    if (!lookup.found) return Status::OK();
    scratch_.assign(lookup.record);
    existing = scratch_;
  } else {
    MDB_val k = ToVal(m.key);
    MDB_val v;
    const int rc = mdb_get(txn, env_->keys, &k, &v);
    // As in storage/db/apply.h: a delta on an absent key does nothing.
    if (rc == MDB_NOTFOUND) return Status::OK();
    if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_get", env_->dir);
    existing = FromVal(v);
  }
  auto rec = DecodeRecord(existing);
  if (!rec.ok()) return RecordError(rec.status(), DescribeKey(m.key));
  // Dead at the replay clock (time zero, storage/db/apply.h): absent to the delta.
  if (rec->expire_ms != kNoExpiry && rec->expire_ms <= 0) return Status::OK();
  if (rec->compressed) {
    if (decompressor_ == nullptr) {
      auto d = ZstdDecompressor::Create();
      if (!d.ok()) return d.status();
      decompressor_ = std::move(*d);
    }
    auto raw = decompressor_->Decompress(rec->payload, rec->raw_len);
    if (!raw.ok()) return RecordError(raw.status(), "key " + DescribeKey(m.key));
    delta_value_.assign(*raw);
  } else {
    delta_value_.assign(rec->payload);
  }
  // Copied out of LMDB's page before PutValue overwrites it.
  const int64_t created_ms = rec->created_ms;
  const int64_t expire_ms = rec->expire_ms;
  if (!storage::ApplyDeltaToValue(m, &delta_value_)) return Status::OK();
  Mutation put;
  put.type = MutationType::kPut;
  put.key = m.key;
  put.value = delta_value_;
  put.created_ms = created_ms;
  put.expire_ms = expire_ms;
  return PutValue(txn, put, map_full);
}

Status SnapshotStore::FindLongKey(MDB_txn* txn, std::string_view key, LongKeyLookup* out) const {
  const uint64_t hash = options_.long_key_hash_for_testing != nullptr
                            ? options_.long_key_hash_for_testing(key)
                            : SipHash24(env_->seed, key);
  Cursor cursor;
  int rc = cursor.Open(txn, env_->long_keys);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_cursor_open long_keys", env_->dir);
  const std::string first = EncodeLongKeySlot(hash, 0);
  MDB_val k = ToVal(first);
  MDB_val v;
  // Slots of one hash are adjacent and ordered by chain number (big-endian keys), so a
  // range scan from (hash, 0) visits exactly the collision chain.
  int64_t last_chain = -1;
  for (rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_SET_RANGE); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
    const std::string_view slot = FromVal(k);
    if (slot.size() != kLongKeySlotSize) {
      return RecordError(Status::Corruption("slot of " + std::to_string(slot.size()) +
                                            " bytes, expected " + std::to_string(kLongKeySlotSize)),
                         SlotName(slot));
    }
    const LongKeySlot s = DecodeLongKeySlot(slot);
    if (s.hash != hash) break;
    auto rec = DecodeRecord(FromVal(v));
    if (!rec.ok()) return RecordError(rec.status(), SlotName(slot));
    if (!rec->has_full_key) {
      return RecordError(Status::Corruption("long-key record without its full key"),
                         SlotName(slot));
    }
    if (rec->full_key == key) {
      out->found = true;
      out->slot.assign(slot);
      out->record = FromVal(v);
      return Status::OK();
    }
    last_chain = s.chain;
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
    return LmdbStatus(rc, "mdb_cursor_get long_keys", env_->dir);
  }
  if (last_chain >= int64_t{UINT32_MAX}) {
    return Status::IOError("long-key chain of hash " + std::to_string(hash) + " is full");
  }
  out->found = false;
  out->slot = EncodeLongKeySlot(hash, static_cast<uint32_t>(last_chain + 1));
  return Status::OK();
}

Status SnapshotStore::GrowMap(uint64_t batch_bytes) {
  MDB_envinfo info;
  MDB_stat env_stat;
  int rc = mdb_env_info(env_->env, &info);
  if (rc == MDB_SUCCESS) rc = mdb_env_stat(env_->env, &env_stat);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_env_info", env_->dir);
  const size_t current = info.me_mapsize;
  const uint64_t used = (uint64_t{info.me_last_pgno} + 1) * env_stat.ms_psize;
  if (current >= options_.max_map_size) {
    return Status::IOError("snapshot " + env_->dir + ": the LMDB map is full at " +
                           std::to_string(current) +
                           " bytes, the max_map_size limit; raise the limit and check free "
                           "disk space (the last committed snapshot is intact)");
  }
  // Doubling keeps the number of growths logarithmic; the batch-based estimate makes one
  // growth enough for a big first checkpoint (copy-on-write can dirty about twice the
  // batch's bytes in pages, plus B-tree overhead).
  const uint64_t wanted = std::max<uint64_t>(uint64_t{current} * 2, used + 3 * batch_bytes);
  const size_t next =
      RoundUpToPage(static_cast<size_t>(std::min<uint64_t>(wanted, options_.max_map_size)));
  rc = mdb_env_set_mapsize(env_->env, next);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_env_set_mapsize", env_->dir);
  log::Info("snapshot %s: LMDB map grown from %zu to %zu bytes", env_->dir.c_str(), current, next);
  return Status::OK();
}

// ============================================================================
// Load
// ============================================================================

Status SnapshotStore::Load(int64_t now_ms, const LoadFn& fn, LoadStats* stats) const {
  return Scan(
      now_ms, nullptr,
      [&fn](std::string_view key, std::string_view value, int64_t created_ms, int64_t expire_ms) {
        fn(key, value, created_ms, expire_ms);
        return Status::OK();
      },
      stats);
}

Status SnapshotStore::Scan(int64_t now_ms, const ScanBeginFn& begin, const ScanFn& fn,
                           LoadStats* stats) const {
  LoadStats local;
  for (int round = 0; round < 2; ++round) {
    bool map_resized = false;
    {
      ReaderLock reader(&env_mu_);
      Status s = LoadLocked(now_ms, begin ? &begin : nullptr, fn, &local, &map_resized);
      if (!map_resized) {
        if (stats != nullptr) *stats = local;
        return s;
      }
    }
    ExclusiveLock exclusive(&env_mu_);
    const int rc = mdb_env_set_mapsize(env_->env, 0);  // adopt another process's growth
    if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_env_set_mapsize", env_->dir);
  }
  return Status::IOError("snapshot " + dir_ + ": the map keeps being resized by another process");
}

Status SnapshotStore::LoadLocked(int64_t now_ms, const ScanBeginFn* begin, const ScanFn& fn,
                                 LoadStats* stats, bool* map_resized) const {
  auto decompressor = ZstdDecompressor::Create();
  if (!decompressor.ok()) return decompressor.status();
  Txn txn;
  int rc = txn.Begin(env_->env, MDB_RDONLY);
  if (rc == MDB_MAP_RESIZED) *map_resized = true;
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_txn_begin (read)", env_->dir);
  auto lsn = GetMeta(txn.get(), env_->meta, kMetaLsn, 8, env_->dir);
  if (!lsn.ok()) return lsn.status();
  stats->lsn = DecodeFixed64(lsn->data());
  if (begin != nullptr) MEMENTO_RETURN_IF_ERROR((*begin)(stats->lsn));

  for (const bool long_db : {false, true}) {
    Cursor cursor;
    rc = cursor.Open(txn.get(), long_db ? env_->long_keys : env_->keys);
    if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_cursor_open", env_->dir);
    MDB_val k;
    MDB_val v;
    for (rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
      const std::string_view lmdb_key = FromVal(k);
      // Built only when a record is bad: formatting it for every record cost ~4% of a
      // 1M-key load.
      auto where = [&] { return long_db ? SlotName(lmdb_key) : "key " + DescribeKey(lmdb_key); };
      if (long_db && lmdb_key.size() != kLongKeySlotSize) {
        return RecordError(
            Status::Corruption("slot of " + std::to_string(lmdb_key.size()) + " bytes, expected " +
                               std::to_string(kLongKeySlotSize)),
            where());
      }
      auto rec = DecodeRecord(FromVal(v));
      if (!rec.ok()) return RecordError(rec.status(), where());
      if (rec->has_full_key != long_db) {
        return RecordError(Status::Corruption(long_db ? "long-key record without its full key"
                                                      : "record carries a full key but is "
                                                        "stored under a short key"),
                           where());
      }
      const std::string_view key = long_db ? rec->full_key : lmdb_key;
      if (Expired(rec->expire_ms, now_ms)) {
        ++stats->expired_skipped;  // skipped before decompression: costs no CPU
        continue;
      }
      std::string_view value = rec->payload;
      if (rec->compressed) {
        auto raw = (*decompressor)->Decompress(rec->payload, rec->raw_len);
        if (!raw.ok()) return RecordError(raw.status(), "key " + DescribeKey(key));
        value = *raw;
        ++stats->compressed;
      }
      MEMENTO_RETURN_IF_ERROR(fn(key, value, rec->created_ms, rec->expire_ms));
      ++stats->loaded;
      stats->key_bytes += key.size();
      stats->value_bytes += value.size();
    }
    if (rc != MDB_NOTFOUND) return LmdbStatus(rc, "mdb_cursor_get", env_->dir);
  }
  return Status::OK();
}

Status SnapshotStore::RecordError(const Status& s, std::string_view what) const {
  std::string prefix = "snapshot " + env_->dir + ", ";
  prefix += what;
  prefix += ": ";
  Status out = Rewrap(s, prefix);
  if (!out.IsCorruption()) return out;
  return Status::Corruption(std::string(out.message()) + kDamagedAdvice);
}

// ============================================================================
// Copies, compaction, stats
// ============================================================================

Status SnapshotStore::CopyEnvCompacted(const std::string& env_dir) const {
  // MDB_CP_COMPACT walks the B-trees in a read transaction and writes only live pages,
  // renumbered, so the copy is as small as the data. LMDB does not fsync the copy.
  const int rc = mdb_env_copy2(env_->env, env_dir.c_str(), MDB_CP_COMPACT);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_env_copy2 (compact) to", env_dir);
  // mdb_env_copy2 creates the copy 0666 minus the umask.
  MEMENTO_RETURN_IF_ERROR(storage::MakeFilePrivate(env_dir + "/data.mdb"));
  MEMENTO_RETURN_IF_ERROR(SyncPath(env_dir + "/data.mdb"));
  return SyncPath(env_dir);
}

Status SnapshotStore::CopyCompacted(const std::string& dest_dir) const {
  if (PathExists(dest_dir)) {
    std::error_code ec;
    const bool empty = std::filesystem::is_empty(dest_dir, ec);
    if (ec || !empty) {
      return Status::InvalidArgument("copy destination " + dest_dir +
                                     " must be absent or an empty directory");
    }
  } else {
    MEMENTO_RETURN_IF_ERROR(CreateDir(dest_dir));
  }
  const std::string name = EnvDirName(1);
  const std::string env_dir = dest_dir + "/" + name;
  MEMENTO_RETURN_IF_ERROR(CreateDir(env_dir));
  Status s;
  {
    ReaderLock reader(&env_mu_);
    s = CopyEnvCompacted(env_dir);
  }
  if (s.ok()) s = SyncPath(dest_dir);
  if (s.ok()) s = WriteCurrentFile(dest_dir, name);
  if (!s.ok()) (void)RemoveTree(env_dir);
  return s;
}

Status SnapshotStore::Compact() {
  if (options_.read_only) return Status::NotSupported("snapshot " + dir_ + " is open read-only");
  WriterLock writer(&write_mu_);
  if (!broken_.ok()) return broken_;
  std::string old_dir;
  uint64_t next = 0;
  size_t map_size = options_.initial_map_size;
  {
    ReaderLock reader(&env_mu_);
    old_dir = env_->dir;
    next = env_->number + 1;
    MDB_envinfo info;
    if (mdb_env_info(env_->env, &info) == MDB_SUCCESS) map_size = info.me_mapsize;
  }
  const std::string name = EnvDirName(next);
  const std::string new_dir = dir_ + "/" + name;
  const std::string tmp_dir = new_dir + kTempSuffix;

  // 1. Write the compacted copy under a temporary name, fsynced.
  MEMENTO_RETURN_IF_ERROR(RemoveTree(tmp_dir));
  MEMENTO_RETURN_IF_ERROR(CreateDir(tmp_dir));
  Status s;
  {
    ReaderLock reader(&env_mu_);
    s = CopyEnvCompacted(tmp_dir);
  }
  auto step = [this](const char* what) {
    if (options_.compact_step_for_testing != nullptr) options_.compact_step_for_testing(what);
  };
  if (s.ok()) step("copied");
  // 2. Give it its final name, then 3. point CURRENT at it.
  if (s.ok()) s = wal::RenameAndSyncDir(wal::PosixFileSystem(), tmp_dir, new_dir);
  if (s.ok()) step("renamed");
  bool current_durable = true;
  if (s.ok()) {
    s = WriteCurrentFile(dir_, name);
    if (s.ok()) step("published");
    if (!s.ok()) {
      // The rename may have happened with only the directory fsync failing: then CURRENT
      // already names the new environment, and neither one may be deleted.
      auto now_current = ReadCurrentFile(dir_);
      if (now_current.ok() && *now_current == name) current_durable = false;
    }
  }
  if (!s.ok() && current_durable) {
    (void)RemoveTree(tmp_dir);
    (void)RemoveTree(new_dir);
    return s;
  }
  const Status publish_status = s;

  // 4. Switch to the new environment. Readers finish first (exclusive lock).
  SnapshotOptions reopen = options_;
  reopen.initial_map_size = std::max(map_size, options_.initial_map_size);
  auto env = OpenEnv(new_dir, reopen);
  if (!env.ok()) {
    broken_ = Rewrap(env.status(), "snapshot " + dir_ + ": compaction published " + new_dir +
                                       " but cannot open it; restart memento (the published "
                                       "environment is complete): ");
    return broken_;
  }
  {
    ExclusiveLock exclusive(&env_mu_);
    std::swap(env_, *env);
  }
  env->reset();  // closes the old environment; nothing can reach it any more

  // 5. Delete the old environment, unless CURRENT might still revert to it after a crash.
  if (!publish_status.ok()) return publish_status;
  const Status removed = RemoveTree(old_dir);
  if (!removed.ok()) log::Warning("snapshot %s: %s", dir_.c_str(), removed.ToString().c_str());
  return Status::OK();
}

Result<SnapshotStats> SnapshotStore::Stats() const {
  ReaderLock reader(&env_mu_);
  SnapshotStats out;
  out.lsn = lsn_.load(std::memory_order_acquire);
  out.env_dir = env_->dir;
  Txn txn;
  int rc = txn.Begin(env_->env, MDB_RDONLY);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_txn_begin (read)", env_->dir);
  MDB_stat keys;
  MDB_stat long_keys;
  rc = mdb_stat(txn.get(), env_->keys, &keys);
  if (rc == MDB_SUCCESS) rc = mdb_stat(txn.get(), env_->long_keys, &long_keys);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_stat", env_->dir);
  out.entries = keys.ms_entries + long_keys.ms_entries;
  out.long_keys = long_keys.ms_entries;
  MDB_envinfo info;
  MDB_stat env_stat;
  rc = mdb_env_info(env_->env, &info);
  if (rc == MDB_SUCCESS) rc = mdb_env_stat(env_->env, &env_stat);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_env_info", env_->dir);
  out.map_size = info.me_mapsize;
  out.used_bytes = (uint64_t{info.me_last_pgno} + 1) * env_stat.ms_psize;
  struct stat st;
  const std::string data_file = env_->dir + "/data.mdb";
  if (::stat(data_file.c_str(), &st) != 0) return Status::FromErrno("stat " + data_file, errno);
  out.file_bytes = static_cast<uint64_t>(st.st_size);
  return out;
}

}  // namespace memento::snapshot
