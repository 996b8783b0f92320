// Wal: the write-ahead log. Every table mutation is appended here, as a record with a
// log sequence number (LSN), before its reply leaves; at start-up the records after
// the snapshot's LSN are replayed. The log is a directory (<data-dir>/wal/) of
// numbered segment files; the format is in docs/formats/wal.md.
//
// Life cycle:
//   1. Wal::Open recovers the directory: it checks every segment, truncates a torn
//      tail, replays the records with LSN > after_lsn (the snapshot's) in LSN order,
//      then starts a fresh segment for new records.
//   2. The daemon calls Append with the key's shard lock held, so that LSN order is
//      the order in which the table changed; Append only encodes into a shared buffer
//      under a short mutex (no syscall). Then, with no lock held and before the reply
//      is written, it calls WaitDurable(lsn). An event loop should append every
//      request of one read batch first and wait once for the highest LSN.
//   3. The checkpointer applies ReadRecords(snapshot_lsn, ...) to the snapshot, and
//      once that snapshot is durable calls RemoveSegmentsUpTo(its LSN).
//   4. Close (or the destructor) writes and syncs whatever is pending.
//
// Durability (Options::sync_policy) -- what WaitDurable(lsn) waits for:
//   kAlways    the record is on disk (fdatasync returned). GROUP COMMIT: the first
//              waiter becomes the leader and writes + syncs every record appended so
//              far, by any thread, with one write(2) and one fdatasync; waiters
//              arriving meanwhile queue behind it and the next leader covers them
//              all. No thread hand-off: a waiter does the I/O itself.
//   kEverySec  the record was handed to the kernel (write(2) returned), as in Redis;
//              a background thread fdatasyncs once a second, so a power loss may
//              lose about the last second. The background fdatasync does not block
//              writers.
//   kNo        the record was handed to the kernel; the kernel decides when it
//              reaches the disk.
//   Whatever the policy, the background thread also writes records nobody waits for
//   (at most flush_interval late), a segment is synced before the next one is
//   started (so the log never has a hole), and Close syncs.
//
// Errors are sticky: once a write or an fdatasync fails (EIO, ENOSPC...), no later
// record is ever acknowledged. Append and WaitDurable return the error (with a message
// for the operator) until the process restarts, and a failed fdatasync is never
// retried: after EIO the kernel may have dropped the dirty pages and a retry could
// "succeed" without the data (PostgreSQL's fsyncgate). Records already durable stay
// acknowledged. Recovery at the next start truncates the torn record.
//
// Thread-safety: Append, WaitDurable, Sync, ReadRecords, RemoveSegmentsUpTo and the
// accessors may be called from any thread concurrently. Close must not race with any
// other call. ReadRecords and RemoveSegmentsUpTo are meant for one checkpointer thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "storage/mutation.h"
#include "storage/wal/file.h"
#include "storage/wal/log_writer.h"
#include "storage/wal/mutex.h"

namespace memento::wal {

enum class SyncPolicy : uint8_t { kAlways, kEverySec, kNo };
// "always", "everysec", "no" (the Redis appendfsync words).
const char* SyncPolicyName(SyncPolicy policy);
// Parses the names above (case-sensitive). False if unknown.
bool ParseSyncPolicy(std::string_view text, SyncPolicy* policy);

// What recovery does with damage that is not a torn tail (see docs/formats/wal.md).
enum class RecoveryMode : uint8_t {
  kStrict,    // default: Open fails with a message naming the file, the offset and
              // the repair option; nothing on disk is changed
  kTruncate,  // keep the valid prefix of the log; set everything after the first
              // damage aside as *.dropped files (nothing is deleted) and start
};
// "strict", "truncate" (the values of the daemon's --wal-recovery option).
const char* RecoveryModeName(RecoveryMode mode);
bool ParseRecoveryMode(std::string_view text, RecoveryMode* mode);

// Receives what recovery drops, so that the daemon and the tools choose how to tell
// the operator (leveldb's log::Reader::Reporter idea). The default logs a warning.
class Reporter {
 public:
  virtual ~Reporter() = default;
  // Bytes [offset, offset + bytes) of `file` are no longer part of the log: a torn
  // tail truncated at start-up, or (RecoveryMode::kTruncate) the damage and
  // everything after it. `reason` says what was wrong there.
  virtual void Dropped(const std::string& file, uint64_t offset, uint64_t bytes,
                       const Status& reason) = 0;
};

struct Options {
  // The log's directory, normally WalDirectory(data_dir). Created if missing (not its
  // parents).
  std::string dir;
  SyncPolicy sync_policy = SyncPolicy::kEverySec;
  // A new segment is started before a batch of records would push the current one
  // past this size (a single batch larger than this still goes in whole).
  uint64_t segment_size = 64ull << 20;
  RecoveryMode recovery_mode = RecoveryMode::kStrict;
  // Recover and replay only: change nothing on disk (no truncation, no new segment);
  // Append fails. For offline tools.
  bool read_only = false;
  // How often the background thread writes pending records and (kEverySec, kAlways)
  // syncs them.
  std::chrono::milliseconds flush_interval{1000};
  // The background thread is woken early when this many bytes are pending.
  size_t flush_buffer_bytes = 1 << 20;
  // Appended to every error that a repair can get past (strict recovery): tell the
  // operator how to start anyway. The default names the daemon's option.
  std::string repair_hint =
      "to start anyway, keeping the log before this point and moving the rest aside "
      "into *.dropped files, restart with --wal-recovery=truncate";
  FileSystem* fs = nullptr;     // nullptr: PosixFileSystem(). Must outlive the Wal.
  Reporter* reporter = nullptr;  // nullptr: log a warning. Must outlive Open.
};

// Called for each replayed record, in LSN order. The mutation's views are valid only
// during the call. A non-OK return stops Open (or ReadRecords) with that Status.
using ReplayFn = std::function<Status(uint64_t lsn, const storage::Mutation& mutation)>;

struct WalStats {
  uint64_t last_lsn = 0;     // last LSN appended (or recovered)
  uint64_t written_lsn = 0;  // every LSN up to this was handed to write(2)
  uint64_t durable_lsn = 0;  // every LSN up to this is on disk
  uint64_t records_appended = 0;  // by this process
  uint64_t bytes_written = 0;
  uint64_t write_calls = 0;  // batches written (each one or a few write(2) calls)
  uint64_t sync_calls = 0;   // fdatasync calls on segments (header syncs excluded)
  uint64_t segments = 0;     // segment files in the log
  uint64_t current_segment = 0;
  bool failed = false;  // a sticky error is set
};

// What Wal::Open's recovery cut out of the log because of damage in the middle
// (RecoveryMode::kTruncate; a torn tail is not counted here). LSNs run without gaps,
// so every LSN from the first one not kept to the highest one found in the dropped
// bytes was in them, readable or damaged: that range is what was lost.
struct RecoveryDrop {
  bool truncated = false;  // damage was cut out; the fields below describe it
  uint64_t first_lsn = 0;  // the first LSN lost (after the snapshot, not replayed)
  uint64_t last_lsn = 0;   // the highest LSN lost; < first_lsn if none was found
  uint64_t records() const {
    return truncated && last_lsn >= first_lsn ? last_lsn - first_lsn + 1 : 0;
  }
  uint64_t bytes = 0;      // set aside as *.dropped files (or, read-only, left unread)
  std::string damage;      // "<file> at offset N: <what is wrong>"
};

// "<data_dir>/wal".
std::string WalDirectory(std::string_view data_dir);
// "00000042.wal".
std::string SegmentFileName(uint64_t number);
// Parses a segment file name; false for anything else (including *.dropped).
bool ParseSegmentFileName(std::string_view name, uint64_t* number);

// Where a reader of the log stands (Wal::ReadFrom): the next LSN it wants, and, once
// it has read some, the segment and offset where that record starts.
struct ReadPosition {
  uint64_t next_lsn = 1;
  uint64_t segment = 0;  // 0: not known yet (found from the segments' first LSNs)
  uint64_t offset = 0;
};

// One segment of the log, for retention decisions.
struct SegmentSummary {
  uint64_t number = 0;
  uint64_t first_lsn = 0;  // its first record's LSN (it holds first_lsn..next's - 1)
  uint64_t bytes = 0;      // file size
};

class Wal {
 public:
  // Opens (creating if needed) the log in options.dir and recovers it: replays every
  // record with LSN > after_lsn through `replay`, then starts a new segment so that
  // Append continues at max(last LSN in the log, after_lsn) + 1.
  //
  // Returns:
  //   the Wal        recovery succeeded; torn tails were truncated (and reported);
  //   Corruption     damage that is not a torn tail in strict mode: a bad record or
  //                  header in the middle of the log, a missing segment, a gap in
  //                  LSNs, or a log that starts after after_lsn + 1. The message names
  //                  the file and the offset and ends with options.repair_hint;
  //   NotSupported   a segment of a newer format version;
  //   IOError        the directory or a file could not be read or written;
  //   replay's Status, if it returned one.
  // Records are replayed as they are read, so a failed Open may already have replayed
  // some: discard whatever replay built.
  static Result<std::unique_ptr<Wal>> Open(const Options& options, uint64_t after_lsn,
                                           const ReplayFn& replay);

  ~Wal();  // Close(), ignoring its Status
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Appends m and returns its LSN. No syscall: the record is encoded into a buffer
  // that a later WaitDurable/Sync or the background thread writes. Fails with the
  // sticky error, with InvalidArgument for a mutation over the record size limit (not
  // sticky), or when the log is closed or read-only. m's views need only be valid
  // during the call.
  Result<uint64_t> Append(const storage::Mutation& m);

  // Blocks until record `lsn` is as durable as the sync policy promises (see the top
  // of this file), doing the I/O itself if no other thread is. Returns OK, or the
  // sticky error if the record is not on disk. Do not hold a table shard lock: this
  // may take milliseconds. REQUIRES: lsn was returned by Append (or is below it).
  Status WaitDurable(uint64_t lsn);

  // Writes and fdatasyncs every record appended so far, whatever the policy.
  Status Sync();

  // For the checkpointer: calls fn for each record with after_lsn < LSN <= up_to_lsn
  // (clipped to what is written), reading the segment files while appends go on.
  // Returns Corruption if the records in that range are not all there.
  Status ReadRecords(uint64_t after_lsn, uint64_t up_to_lsn, const ReplayFn& fn);

  // For change-stream readers (any number, any thread): calls fn for the records from
  // pos->next_lsn on, in LSN order, up to up_to_lsn (clipped to what is written) and
  // at most max_records (and no more once the payloads delivered reach max_bytes), then
  // leaves *pos after the last one delivered. Reads the
  // segment files (resuming at pos's offset, so a reader that keeps up reads each
  // record once). Returns NotFound if pos->next_lsn is older than the oldest segment
  // (removed), Corruption if the records are not all there.
  Status ReadFrom(ReadPosition* pos, uint64_t up_to_lsn, size_t max_records, const ReplayFn& fn,
                  size_t max_bytes = SIZE_MAX);

  // The last LSN a change-stream reader may see: what survives a crash. kAlways and
  // kEverySec: durable_lsn() (fdatasync returned); kNo: what was handed to write(2)
  // (the kernel decides when it reaches the disk; nothing later is ever promised).
  uint64_t feed_lsn() const;
  // Blocks until feed_lsn() > lsn, the log is closed or failed, or `timeout` passes.
  // Returns feed_lsn().
  uint64_t WaitFeedPast(uint64_t lsn, std::chrono::milliseconds timeout);

  // The LSN of the oldest record the segment files hold (the first LSN of the oldest
  // segment; a log with no records: last_lsn() + 1).
  uint64_t oldest_lsn() const;
  // Every segment, oldest first, with its size (for retention).
  std::vector<SegmentSummary> Segments() const;

  // For the checkpointer: deletes the oldest segments whose records all have
  // LSN <= lsn (a snapshot covering lsn is durable), oldest first, then syncs the
  // directory. The segment being written is never deleted.
  Status RemoveSegmentsUpTo(uint64_t lsn);

  // Stops the background thread, writes and syncs what is pending, closes the file.
  // Returns the sticky error if there is one. Later calls return the same Status.
  Status Close();

  // The sticky error (OK if none): its message says what failed and what to do.
  Status error() const;
  uint64_t last_lsn() const;
  uint64_t durable_lsn() const;
  WalStats stats() const;
  const Options& options() const { return options_; }
  // What recovery cut out of the log (RecoveryMode::kTruncate), for the caller's log
  // line and INFO; `truncated` is false when nothing was.
  const RecoveryDrop& recovery_drop() const { return recovery_drop_; }

 private:
  struct SegmentInfo {
    uint64_t number;
    uint64_t first_lsn;
  };
  class Recovery;

  explicit Wal(const Options& options);

  std::string SegmentPath(uint64_t number) const;
  // Waits until lsn is written (sync: synced), leading the I/O if no one is.
  Status WaitFor(uint64_t lsn, bool sync);
  // Takes the I/O token, writes the pending buffer (rotating first if the segment is
  // full) and, if sync, fdatasyncs; then publishes the new LSNs. Unlocks mu_ during
  // the I/O. Returns the I/O's Status (a failure is also made sticky).
  Status LeadIo(bool sync) MEMENTO_REQUIRES(mu_);
  // Syncs the finished segment, then creates the next one starting at first_lsn.
  Status Rotate(SegmentWriter* old_segment, uint64_t first_lsn,
                std::shared_ptr<SegmentWriter>* next);
  // Background fdatasync of what is written, without holding the I/O token.
  void BackgroundSync() MEMENTO_REQUIRES(mu_);
  void SetStickyError(const Status& cause) MEMENTO_REQUIRES(mu_);
  void FlusherLoop();
  uint64_t FeedLsnLocked() const MEMENTO_REQUIRES(mu_);
  // The reasons ring (see reasons_). NoteReason: REQUIRES mu_ (called by Append before
  // the record can be written, so a reader never finds the record without its reason).
  void NoteReason(uint64_t lsn, storage::ChangeReason reason) MEMENTO_REQUIRES(mu_);
  storage::ChangeReason ReasonOf(uint64_t lsn, storage::MutationType type) const;

  const Options options_;
  FileSystem* const fs_;
  RecoveryDrop recovery_drop_;  // written by Recovery before Open returns; then const

  mutable internal::Mutex mu_;
  internal::CondVar io_done_{&mu_};       // an I/O batch finished (or failed)
  internal::CondVar flusher_wake_{&mu_};  // wakes the background thread
  // Encoded records not yet handed to write(2), in LSN order.
  std::string buf_ MEMENTO_GUARDED_BY(mu_);
  uint64_t last_lsn_ MEMENTO_GUARDED_BY(mu_) = 0;
  uint64_t written_lsn_ MEMENTO_GUARDED_BY(mu_) = 0;
  uint64_t durable_lsn_ MEMENTO_GUARDED_BY(mu_) = 0;
  // The I/O token: the thread that set it is the only one writing to a segment or
  // rotating. It owns io_buf_ and the current segment's Append until it clears it.
  bool io_busy_ MEMENTO_GUARDED_BY(mu_) = false;
  bool flusher_kicked_ MEMENTO_GUARDED_BY(mu_) = false;
  bool closing_ MEMENTO_GUARDED_BY(mu_) = false;
  bool closed_ MEMENTO_GUARDED_BY(mu_) = false;
  Status error_ MEMENTO_GUARDED_BY(mu_);
  Status close_status_ MEMENTO_GUARDED_BY(mu_);
  // The segment being written (shared with a background sync in flight).
  std::shared_ptr<SegmentWriter> current_ MEMENTO_GUARDED_BY(mu_);
  // Every segment in the log, oldest first; the last one is current_.
  std::deque<SegmentInfo> segments_ MEMENTO_GUARDED_BY(mu_);
  WalStats stats_ MEMENTO_GUARDED_BY(mu_);

  // The batch being written: owned by the I/O token holder, accessed without mu_.
  // Swapped with buf_ so both keep their capacity (no allocation in steady state).
  std::string io_buf_;

  // Why the last kReasonRing changes happened, when not kCommand: slot lsn % size
  // holds lsn << 8 | reason. The log records do not carry the reason (format v1), so
  // a reader of the files (ReadFrom) learns it here; for an older LSN, or after a
  // restart, an expiry's kDelete reads as kCommand (a kClear is always kFlush).
  static constexpr size_t kReasonRing = size_t{1} << 16;
  std::unique_ptr<std::atomic<uint64_t>[]> reasons_{new std::atomic<uint64_t>[kReasonRing]()};

  internal::Mutex remove_mu_;  // serialises RemoveSegmentsUpTo
  std::thread flusher_;
};

}  // namespace memento::wal
