// SnapshotStore: the durable image of the key space, an LMDB environment maintained as
// a checkpoint of the write-ahead log (design: issue 3; format: docs/formats/snapshot.md).
//
// The daemon's snapshot thread calls Apply with the mutations logged since the last
// checkpoint; Apply writes them and the new LSN in ONE LMDB write transaction, so the
// committed state is always "every mutation up to lsn()" and never a mix. Its cost grows
// with the writes since the last checkpoint, not with the data set. At start-up, Load
// reads every live entry back and the WAL is replayed from lsn() + 1.
//
// Ownership: the store owns its LMDB environment; one process at a time may open a
// snapshot directory (the daemon's data-directory lock guarantees it; the offline tools
// take the same lock).
//
// Thread-safety: every method may be called from any thread. Apply and Compact are
// serialised with each other (one writer). Load, Stats, CopyCompacted and lsn() run
// concurrently with each other and with Apply: LMDB's MVCC gives each reader the state
// of the last commit before it started. Two things make a writer wait for readers: the
// map growing (mdb_env_set_mapsize needs no transaction open in the process) and the
// environment swap at the end of Compact.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>

#include "common/mutex.h"
#include "common/result.h"
#include "common/status.h"
#include "storage/mutation.h"
#include "storage/snapshot/zstd_codec.h"

// Forward declarations from <lmdb.h>, kept out of this header.
struct MDB_env;
struct MDB_txn;

namespace memento::snapshot {

namespace internal {

using ::memento::Mutex;
using ::memento::SharedMutex;
}  // namespace internal

struct SnapshotOptions {
  // LMDB map size of a new environment, and the starting point when an existing one is
  // opened (LMDB raises it to the size already in use). The map grows (at least doubles)
  // when a write transaction runs out of room. Virtual address space only: the file grows
  // with the data, not with the map.
  size_t initial_map_size = size_t{64} << 20;
  // Growth stops here: Apply then fails with IOError (and changes nothing).
  size_t max_map_size = size_t{1} << 40;
  // Values of at least this many bytes are zstd-compressed (kept raw if that does not
  // save anything). SIZE_MAX: never compress.
  size_t compress_min_size = 256;
  int compression_level = 3;  // zstd level; 1 is faster, 19 smaller
  // Testing only: replaces the long-key hash (SipHash-2-4 with the stored seed) so that
  // tests can force collisions. A store written with one hash must not be written with
  // another (Load does not depend on it).
  uint64_t (*long_key_hash_for_testing)(std::string_view key) = nullptr;
  // Testing only: called between the steps of Compact ("copied": the new environment is
  // written under its .tmp name; "renamed": it has its final name, CURRENT still names
  // the old one; "published": CURRENT names it, the old one is not deleted yet) so that
  // crash tests can end the process there (memento-compact's MEMENTO_COMPACT_CRASH_AT).
  void (*compact_step_for_testing)(const char* step) = nullptr;
  // For tools reading a snapshot that a running daemon may be writing (memento-dump):
  // Open creates, removes and writes nothing (no new environment, no CURRENT, no
  // clean-up of compaction leftovers: those belong to the writer) and opens the LMDB
  // environment MDB_RDONLY (LMDB's multi-process readers: no lock on the writer beyond
  // a reader slot). Open returns NotFound if `dir` or its CURRENT is missing. Apply and
  // Compact return NotSupported.
  bool read_only = false;
};

struct LoadStats {
  uint64_t lsn = 0;              // the LSN of the state Load read (same transaction)
  uint64_t loaded = 0;           // entries passed to fn
  uint64_t expired_skipped = 0;  // entries already expired at now_ms, not passed
  uint64_t compressed = 0;       // loaded entries whose value was decompressed
  uint64_t key_bytes = 0;        // of the loaded entries
  uint64_t value_bytes = 0;      // of the loaded entries, decompressed
};

struct SnapshotStats {
  uint64_t lsn = 0;
  uint64_t entries = 0;     // stored entries, expired ones included
  uint64_t long_keys = 0;   // of which are stored under long-key slots
  uint64_t file_bytes = 0;  // size of data.mdb
  uint64_t used_bytes = 0;  // up to LMDB's last page in use, free pages included
  uint64_t map_size = 0;    // current LMDB map size
  std::string env_dir;      // the live environment, e.g. <dir>/snap-000001
};

class SnapshotStore {
 public:
  using LoadFn = std::function<void(std::string_view key, std::string_view value,
                                    int64_t created_ms, int64_t expire_ms)>;
  // Scan's callbacks: a non-OK Status stops the scan and is returned.
  using ScanBeginFn = std::function<Status(uint64_t lsn)>;
  using ScanFn = std::function<Status(std::string_view key, std::string_view value,
                                      int64_t created_ms, int64_t expire_ms)>;

  // Opens the snapshot directory `dir` (e.g. <data-dir>/snapshot), creating it and an
  // empty environment (lsn() == 0) if absent; its parent must exist. Removes what an
  // interrupted compaction left behind. Errors name the path:
  //   IOError       the directory or LMDB files cannot be created or read
  //   Busy          LMDB's lock is held by another process
  //   NotSupported  the meta format version is not kFormatVersion
  //   Corruption    CURRENT, the meta records or the LMDB file are damaged, or
  //                 snap-* directories exist without a CURRENT naming one of them
  //   InvalidArgument  bad options
  static Result<std::unique_ptr<SnapshotStore>> Open(const std::string& dir,
                                                     const SnapshotOptions& options);

  ~SnapshotStore();  // REQUIRES: no call on this store in progress
  SnapshotStore(const SnapshotStore&) = delete;
  SnapshotStore& operator=(const SnapshotStore&) = delete;

  // The LSN the committed state covers (0 for a new store).
  uint64_t lsn() const { return lsn_.load(std::memory_order_acquire); }

  // Applies `mutations` (in log order, all with LSN <= lsn) and sets the meta LSN to
  // `lsn`, in ONE write transaction: on return either everything is committed and durable
  // or nothing is (lsn() and the data are unchanged). When the map is full, the
  // transaction is aborted, the map grown (up to max_map_size) and the whole batch
  // retried. The views in `mutations` need only live for the call.
  // Returns InvalidArgument for lsn < lsn(), an unknown mutation type or an oversized
  // key or value; IOError for disk errors or max_map_size reached; Corruption if a
  // long-key chain it must update is damaged.
  // Batch size: one transaction holds at most ~512 MiB of dirty pages (LMDB's
  // MDB_TXN_FULL); the checkpointer should cut larger backlogs into several Applys.
  Status Apply(std::span<const storage::Mutation> mutations, uint64_t lsn);

  // Calls fn for every stored entry not expired at now_ms (an entry is expired when
  // expire_ms != -1 and expire_ms <= now_ms; those are skipped and counted), in one read
  // transaction: a consistent point-in-time view even while Apply runs on another thread.
  // The views passed to fn are valid only during that call. fn must not call Apply or
  // Compact on this store. Returns Corruption naming the path and the key at the first
  // damaged record (entries before it have been passed to fn). `stats` may be null.
  Status Load(int64_t now_ms, const LoadFn& fn, LoadStats* stats = nullptr) const;

  // Load for memento-dump: the same read transaction and the same entries, but
  // begin(lsn) is called first, inside the transaction, with the LSN of the state that
  // follows (so the caller can read the log after it while that state stays pinned),
  // and begin or fn can stop the scan by returning an error, which Scan returns.
  Status Scan(int64_t now_ms, const ScanBeginFn& begin, const ScanFn& fn,
              LoadStats* stats = nullptr) const;

  // Writes the committed state, compacted (free pages omitted: LMDB's mdb_env_copy2 with
  // MDB_CP_COMPACT), as a complete snapshot directory `dest_dir` (CURRENT + snap-000001/)
  // that Open accepts: for backups and memento-compact. `dest_dir` must be absent or an
  // empty directory. Runs alongside Apply (but blocks map growth while it copies).
  Status CopyCompacted(const std::string& dest_dir) const;

  // Compacts in place: copies the environment compacted to the next snap-N directory,
  // publishes it through CURRENT (temp + fsync + rename) and switches to it, then
  // deletes the old one. A crash at any point leaves either the old or the new one
  // named by CURRENT, both complete. Waits for readers before the switch. If the new
  // environment was published but cannot be opened, the store refuses further Applys
  // (restart to recover; the data on disk is complete).
  Status Compact();

  // Entries, sizes and the live environment's path.
  Result<SnapshotStats> Stats() const;

 private:
  // One open LMDB environment and its databases.
  struct Env;

  SnapshotStore(std::string dir, const SnapshotOptions& options, std::unique_ptr<Env> env,
                std::unique_ptr<ZstdCompressor> compressor);

  static Result<std::unique_ptr<Env>> OpenEnv(const std::string& env_dir,
                                              const SnapshotOptions& options);

  // One attempt of Apply. Sets *map_full (grow the map and retry) or *map_resized
  // (another process grew it: adopt its size and retry) besides returning the error.
  Status ApplyOnce(std::span<const storage::Mutation> mutations, uint64_t lsn, bool* map_full,
                   bool* map_resized) MEMENTO_TSA(requires_capability(write_mu_))
      MEMENTO_TSA(requires_shared_capability(env_mu_));
  Status ApplyMutation(MDB_txn* txn, const storage::Mutation& m, bool* map_full)
      MEMENTO_TSA(requires_capability(write_mu_)) MEMENTO_TSA(requires_shared_capability(env_mu_));
  Status PutValue(MDB_txn* txn, const storage::Mutation& m, bool* map_full)
      MEMENTO_TSA(requires_capability(write_mu_)) MEMENTO_TSA(requires_shared_capability(env_mu_));
  Status DeleteKey(MDB_txn* txn, std::string_view key, bool* map_full)
      MEMENTO_TSA(requires_shared_capability(env_mu_));
  Status SetExpiry(MDB_txn* txn, std::string_view key, int64_t expire_ms, bool* map_full)
      MEMENTO_TSA(requires_capability(write_mu_)) MEMENTO_TSA(requires_shared_capability(env_mu_));
  // A delta (kAppend, kSetRange, kIncrBy...): reads the key's record, applies the delta
  // to its value (storage::ApplyDeltaToValue) and writes it back with its times.
  Status ApplyDelta(MDB_txn* txn, const storage::Mutation& m, bool* map_full)
      MEMENTO_TSA(requires_capability(write_mu_)) MEMENTO_TSA(requires_shared_capability(env_mu_));

  struct LongKeyLookup;
  // Finds `key`'s slot in the long-key database, or the slot a new entry would take.
  Status FindLongKey(MDB_txn* txn, std::string_view key, LongKeyLookup* out) const
      MEMENTO_TSA(requires_shared_capability(env_mu_));

  Status LoadLocked(int64_t now_ms, const ScanBeginFn* begin, const ScanFn& fn, LoadStats* stats,
                    bool* map_resized) const MEMENTO_TSA(requires_shared_capability(env_mu_));
  Status CopyEnvCompacted(const std::string& env_dir) const
      MEMENTO_TSA(requires_shared_capability(env_mu_));
  // Raises the map size: doubles it, or more if the failed batch of `batch_bytes` key
  // and value bytes needs more; IOError at max_map_size.
  Status GrowMap(uint64_t batch_bytes) MEMENTO_TSA(requires_capability(env_mu_));

  // "snapshot <env dir>, <what>: " + s's message, with s's code (plus restore advice
  // for Corruption). `what` names the record: key "k", or a long-key slot.
  Status RecordError(const Status& s, std::string_view what) const
      MEMENTO_TSA(requires_shared_capability(env_mu_));

  const std::string dir_;
  const SnapshotOptions options_;

  // Writer state: Apply and Compact hold write_mu_ throughout.
  mutable internal::Mutex write_mu_;
  std::unique_ptr<ZstdCompressor> compressor_ MEMENTO_TSA(guarded_by(write_mu_));
  std::string scratch_ MEMENTO_TSA(guarded_by(write_mu_));  // kExpire's record copy
  // ApplyDelta's: created on its first use, and the value being changed.
  std::unique_ptr<ZstdDecompressor> decompressor_ MEMENTO_TSA(guarded_by(write_mu_));
  std::string delta_value_ MEMENTO_TSA(guarded_by(write_mu_));
  Status broken_ MEMENTO_TSA(guarded_by(write_mu_));        // set by a half-failed Compact

  // Shared by every transaction; exclusive to change the map size or swap environments.
  mutable internal::SharedMutex env_mu_;
  std::unique_ptr<Env> env_ MEMENTO_TSA(guarded_by(env_mu_));

  std::atomic<uint64_t> lsn_{0};
};

}  // namespace memento::snapshot
