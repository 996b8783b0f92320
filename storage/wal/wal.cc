// The running log: segment names, Append, group commit, the background flusher, sticky
// errors and what the checkpointer calls. Open and recovery are in wal_recovery.cc.
#include "storage/wal/wal.h"

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <utility>
#include <vector>

#include "common/logging.h"
#include "storage/wal/log_reader.h"
#include "storage/wal/mutation_codec.h"
#include "storage/wal/wal_format.h"

namespace memento::wal {

using internal::MutexLock;

namespace {

// A batch buffer that grew past this many times flush_buffer_bytes (one huge value, a
// stalled disk) is released after use rather than kept, as redis does with aof_buf.
constexpr size_t kRetainedBufferFactor = 4;

std::string Str(uint64_t v) { return std::to_string(v); }

}  // namespace

// ---------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------

const char* SyncPolicyName(SyncPolicy policy) {
  switch (policy) {
    case SyncPolicy::kAlways: return "always";
    case SyncPolicy::kEverySec: return "everysec";
    case SyncPolicy::kNo: return "no";
  }
  return "?";
}

bool ParseSyncPolicy(std::string_view text, SyncPolicy* policy) {
  for (SyncPolicy p : {SyncPolicy::kAlways, SyncPolicy::kEverySec, SyncPolicy::kNo}) {
    if (text == SyncPolicyName(p)) {
      *policy = p;
      return true;
    }
  }
  return false;
}

const char* RecoveryModeName(RecoveryMode mode) {
  return mode == RecoveryMode::kStrict ? "strict" : "truncate";
}

bool ParseRecoveryMode(std::string_view text, RecoveryMode* mode) {
  for (RecoveryMode m : {RecoveryMode::kStrict, RecoveryMode::kTruncate}) {
    if (text == RecoveryModeName(m)) {
      *mode = m;
      return true;
    }
  }
  return false;
}

std::string WalDirectory(std::string_view data_dir) { return JoinPath(data_dir, kWalDirName); }

std::string SegmentFileName(uint64_t number) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%0*" PRIu64 "%s", kSegmentNumberDigits, number,
                kSegmentSuffix);
  return buf;
}

bool ParseSegmentFileName(std::string_view name, uint64_t* number) {
  const std::string_view suffix(kSegmentSuffix);
  if (name.size() <= suffix.size() || !name.ends_with(suffix)) return false;
  const std::string_view digits = name.substr(0, name.size() - suffix.size());
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *number);
  return ec == std::errc() && end == digits.data() + digits.size() && *number > 0;
}

// ---------------------------------------------------------------------------------
// Construction and close
// ---------------------------------------------------------------------------------

Wal::Wal(const Options& options)
    : options_(options), fs_(options.fs != nullptr ? options.fs : PosixFileSystem()) {
  // Room for a full batch in both buffers, so that steady-state appends never
  // reallocate (the memory is only touched as records arrive).
  MutexLock lock(&mu_);
  buf_.reserve(2 * options_.flush_buffer_bytes);
  io_buf_.reserve(2 * options_.flush_buffer_bytes);
}

Wal::~Wal() { (void)Close(); }

Status Wal::Close() {
  {
    MutexLock lock(&mu_);
    if (closed_) return close_status_;
    closing_ = true;
    flusher_wake_.SignalAll();
  }
  if (flusher_.joinable()) flusher_.join();
  bool writable = false;
  {
    MutexLock lock(&mu_);
    writable = current_ != nullptr;
  }
  Status s = writable ? Sync() : Status::OK();
  MutexLock lock(&mu_);
  if (current_ != nullptr) {
    Status c = current_->Close();
    if (s.ok()) s = std::move(c);
    current_.reset();
  }
  closed_ = true;
  close_status_ = s;
  return s;
}

std::string Wal::SegmentPath(uint64_t number) const {
  return JoinPath(options_.dir, SegmentFileName(number));
}

// ---------------------------------------------------------------------------------
// Append and durability
// ---------------------------------------------------------------------------------

Result<uint64_t> Wal::Append(const storage::Mutation& m) {
  // Sized before the lock: an oversized mutation is the caller's problem, not a
  // failure of the log, so it is not sticky.
  const size_t payload = EncodedMutationSize(m);
  if (payload > kMaxRecordPayload) {
    return Status::InvalidArgument("a mutation of " + Str(payload) +
                                   " bytes exceeds the WAL record limit of " +
                                   Str(kMaxRecordPayload) + " bytes");
  }
  MutexLock lock(&mu_);
  if (!error_.ok()) return error_;
  if (current_ == nullptr || closing_) {
    return Status::NotSupported(options_.read_only ? "the WAL is open read-only"
                                                   : "the WAL is closed");
  }
  const uint64_t lsn = ++last_lsn_;
  const size_t start = BeginRecord(&buf_);
  EncodeMutation(m, &buf_);
  FinishRecord(&buf_, start, lsn, RecordType::kMutation);
  NoteReason(lsn, m.reason);
  ++stats_.records_appended;
  if (buf_.size() >= options_.flush_buffer_bytes && !flusher_kicked_) {
    flusher_kicked_ = true;
    flusher_wake_.Signal();
  }
  return lsn;
}

Status Wal::WaitDurable(uint64_t lsn) {
  return WaitFor(lsn, options_.sync_policy == SyncPolicy::kAlways);
}

Status Wal::Sync() {
  uint64_t target = 0;
  {
    MutexLock lock(&mu_);
    target = last_lsn_;
  }
  return WaitFor(target, /*sync=*/true);
}

Status Wal::WaitFor(uint64_t lsn, bool sync) {
  MutexLock lock(&mu_);
  for (;;) {
    if (lsn <= durable_lsn_) return Status::OK();
    // After a failure nothing that is not durable is acknowledged, not even a record
    // write(2) accepted before it: the failed fdatasync may have lost it.
    if (!error_.ok()) return error_;
    if (!sync && lsn <= written_lsn_) return Status::OK();
    if (lsn > last_lsn_) {
      return Status::InvalidArgument("WaitDurable(" + Str(lsn) + "): LSN not appended yet (last " +
                                     Str(last_lsn_) + ")");
    }
    if (current_ == nullptr) return Status::NotSupported("the WAL is closed");
    if (!io_busy_) {
      // Become the leader: write (and sync) everything pending, for every thread.
      (void)LeadIo(sync);
      continue;  // re-check: the outcome is in durable_lsn_ / written_lsn_ / error_
    }
    // Someone else is writing; wait for their batch, then re-check (maybe lead the
    // next one, which covers everything appended meanwhile: group commit).
    io_done_.Wait();
  }
}

Status Wal::Rotate(SegmentWriter* old_segment, uint64_t first_lsn,
                   std::shared_ptr<SegmentWriter>* next) {
  // The old segment is made durable before the next exists: after any crash, under any
  // policy, the log has no hole, and damage in any segment but the newest is
  // corruption, never a torn write.
  MEMENTO_RETURN_IF_ERROR(old_segment->Sync());
  const uint64_t number = old_segment->number() + 1;
  Result<std::unique_ptr<SegmentWriter>> created =
      SegmentWriter::Create(fs_, SegmentPath(number), number, first_lsn);
  if (!created.ok()) return created.status();
  MEMENTO_RETURN_IF_ERROR(fs_->SyncDir(options_.dir));
  *next = std::move(created).value();
  return Status::OK();
}

Status Wal::LeadIo(bool sync) {
  io_busy_ = true;
  io_buf_.swap(buf_);  // appends go on into the (empty) other buffer meanwhile
  const uint64_t batch_last = last_lsn_;
  const uint64_t written_before = written_lsn_;
  const bool need_sync = sync && durable_lsn_ < batch_last;
  std::shared_ptr<SegmentWriter> segment = current_;
  mu_.Unlock();

  // The I/O, without the mutex: Append keeps running. Only this thread writes.
  Status s;
  std::shared_ptr<SegmentWriter> rotated;
  uint64_t syncs = 0;
  if (!io_buf_.empty()) {
    if (segment->size() > kSegmentHeaderSize &&
        segment->size() + io_buf_.size() > options_.segment_size) {
      s = Rotate(segment.get(), written_before + 1, &rotated);
      if (s.ok()) {
        ++syncs;
        segment = rotated;
      }
    }
    if (s.ok()) s = segment->Append(io_buf_);
  }
  if (s.ok() && need_sync) {
    s = segment->Sync();
    if (s.ok()) ++syncs;
  }
  const uint64_t bytes = io_buf_.size();
  io_buf_.clear();
  if (io_buf_.capacity() > kRetainedBufferFactor * options_.flush_buffer_bytes) {
    std::string().swap(io_buf_);
  }

  mu_.Lock();
  io_busy_ = false;
  if (rotated != nullptr) {
    segments_.push_back(SegmentInfo{rotated->number(), rotated->first_lsn()});
    stats_.current_segment = rotated->number();
    current_ = std::move(rotated);
    durable_lsn_ = std::max(durable_lsn_, written_before);  // the old segment was synced
  }
  stats_.sync_calls += syncs;
  if (s.ok()) {
    written_lsn_ = batch_last;
    if (need_sync) durable_lsn_ = std::max(durable_lsn_, batch_last);
    if (bytes > 0) {
      stats_.bytes_written += bytes;
      ++stats_.write_calls;
    }
  } else {
    SetStickyError(s);
  }
  io_done_.SignalAll();
  return s;
}

void Wal::SetStickyError(const Status& cause) {
  if (!error_.ok()) return;
  error_ = Status::IOError(
      std::string(cause.message()) +
      "; the write-ahead log has stopped: no write is acknowledged from now on (a failed "
      "write or fdatasync is never retried, the data may be gone). Check the disk (dmesg, "
      "free space in " + options_.dir + "), then restart memento: recovery truncates the "
      "partial record");
  stats_.failed = true;
  log::Error("WAL: %s", std::string(error_.message()).c_str());
  io_done_.SignalAll();
}

// ---------------------------------------------------------------------------------
// Background flusher
// ---------------------------------------------------------------------------------

void Wal::BackgroundSync() {
  if (!error_.ok() || durable_lsn_ >= written_lsn_ || current_ == nullptr) return;
  // Everything up to written_lsn_ is in current_ or in an older segment, which was
  // synced when it was rotated away.
  const uint64_t target = written_lsn_;
  std::shared_ptr<SegmentWriter> segment = current_;
  mu_.Unlock();
  // Not under the I/O token: leaders keep writing while this fdatasync runs (redis
  // moves its everysec fsync to a background thread for the same reason).
  Status s = segment->Sync();
  mu_.Lock();
  if (s.ok()) {
    ++stats_.sync_calls;
    durable_lsn_ = std::max(durable_lsn_, target);
  } else {
    SetStickyError(s);
  }
  io_done_.SignalAll();
}

void Wal::FlusherLoop() {
  using Clock = std::chrono::steady_clock;
  MutexLock lock(&mu_);
  Clock::time_point next_tick = Clock::now() + options_.flush_interval;
  while (!closing_) {
    const Clock::time_point now = Clock::now();
    if (!flusher_kicked_ && now < next_tick) {
      flusher_wake_.WaitFor(next_tick - now);
      continue;
    }
    flusher_kicked_ = false;
    const bool tick = now >= next_tick;
    if (tick) next_tick = now + options_.flush_interval;
    if (!error_.ok()) continue;
    // Records nobody waits for (expiry deletes, a client that hung up) still reach the
    // file. If a leader is at work, it or the next one will take them.
    if (!buf_.empty() && !io_busy_) (void)LeadIo(/*sync=*/false);
    if (tick && options_.sync_policy != SyncPolicy::kNo) BackgroundSync();
  }
}

// ---------------------------------------------------------------------------------
// Checkpointer support and accessors
// ---------------------------------------------------------------------------------

Status Wal::ReadRecords(uint64_t after_lsn, uint64_t up_to_lsn, const ReplayFn& fn) {
  ReadPosition pos;
  pos.next_lsn = after_lsn + 1;
  Status s = ReadFrom(&pos, up_to_lsn, SIZE_MAX, fn);
  // For the checkpointer a missing segment is damage, not a reader left behind.
  if (s.IsNotFound()) return Status::Corruption(options_.dir + ": " + std::string(s.message()));
  return s;
}

Status Wal::ReadFrom(ReadPosition* pos, uint64_t up_to_lsn, size_t max_records,
                     const ReplayFn& fn, size_t max_bytes) {
  std::vector<SegmentInfo> segments;
  uint64_t limit = 0;
  {
    MutexLock lock(&mu_);
    segments.assign(segments_.begin(), segments_.end());
    limit = std::min(up_to_lsn, written_lsn_);
  }
  if (pos->next_lsn > limit || max_records == 0) return Status::OK();
  if (segments.empty() || pos->next_lsn < segments.front().first_lsn) {
    return Status::NotFound("LSN " + Str(pos->next_lsn) + " is no longer in the log (oldest " +
                            Str(segments.empty() ? limit + 1 : segments.front().first_lsn) +
                            ")");
  }
  // The segment holding next_lsn: the last one starting at or before it.
  size_t i = 0;
  while (i + 1 < segments.size() && segments[i + 1].first_lsn <= pos->next_lsn) ++i;
  size_t delivered = 0;
  size_t bytes = 0;
  for (; i < segments.size(); ++i) {
    const std::string path = SegmentPath(segments[i].number);
    Result<uint64_t> size = fs_->GetFileSize(path);
    if (!size.ok()) return size.status();
    Result<std::unique_ptr<RandomAccessFile>> file = fs_->NewRandomAccessFile(path);
    if (!file.ok()) return file.status();
    Reader reader(file->get(), *size, path);
    SegmentHeader header;
    MEMENTO_RETURN_IF_ERROR(reader.ReadHeader(&header));
    if (header.first_lsn > pos->next_lsn) {
      return Status::Corruption(path + ": starts at LSN " + Str(header.first_lsn) + ", but LSN " +
                                Str(pos->next_lsn) + " is needed");
    }
    // Where this reader stopped last time (else: skip from the segment's start).
    if (pos->segment == segments[i].number && pos->offset != 0) {
      reader.ResumeAt(pos->offset, pos->next_lsn);
    }
    Reader::Record record;
    storage::Mutation mutation;
    while (pos->next_lsn <= limit && delivered < max_records && bytes < max_bytes &&
           reader.ReadRecord(&record)) {
      if (record.lsn < pos->next_lsn) continue;
      if (Status d = DecodeMutation(record.payload, &mutation); !d.ok()) {
        return Status::Corruption(path + " at offset " + Str(record.offset) + ": " +
                                  std::string(d.message()));
      }
      bytes += record.payload.size();
      mutation.reason = ReasonOf(record.lsn, mutation.type);
      MEMENTO_RETURN_IF_ERROR(fn(record.lsn, mutation));
      pos->next_lsn = record.lsn + 1;
      pos->segment = segments[i].number;
      pos->offset = reader.good_end();
      ++delivered;
    }
    if (pos->next_lsn > limit || delivered >= max_records || bytes >= max_bytes) {
      return Status::OK();
    }
    if (reader.end() != Reader::End::kEof) return reader.status();
  }
  return Status::Corruption(options_.dir + ": the log ends before LSN " + Str(pos->next_lsn));
}

void Wal::NoteReason(uint64_t lsn, storage::ChangeReason reason) {
  // Only the unusual reasons are noted: a slot holding another LSN reads as kCommand.
  if (reason == storage::ChangeReason::kCommand || reason == storage::ChangeReason::kFlush) return;
  reasons_[lsn % kReasonRing].store(lsn << 8 | static_cast<uint8_t>(reason),
                                    std::memory_order_relaxed);
}

storage::ChangeReason Wal::ReasonOf(uint64_t lsn, storage::MutationType type) const {
  if (type == storage::MutationType::kClear) return storage::ChangeReason::kFlush;
  const uint64_t noted = reasons_[lsn % kReasonRing].load(std::memory_order_relaxed);
  if (noted >> 8 != lsn) return storage::ChangeReason::kCommand;
  return static_cast<storage::ChangeReason>(noted & 0xff);
}

uint64_t Wal::FeedLsnLocked() const {
  // After a failure only what was synced counts (WaitFor acknowledges no more).
  if (options_.sync_policy == SyncPolicy::kNo && error_.ok()) return written_lsn_;
  return durable_lsn_;
}

uint64_t Wal::feed_lsn() const {
  MutexLock lock(&mu_);
  return FeedLsnLocked();
}

uint64_t Wal::WaitFeedPast(uint64_t lsn, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&mu_);
  // Every I/O batch and background sync signals io_done_.
  while (FeedLsnLocked() <= lsn && !closed_ && error_.ok()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    io_done_.WaitFor(deadline - now);
  }
  return FeedLsnLocked();
}

uint64_t Wal::oldest_lsn() const {
  MutexLock lock(&mu_);
  return segments_.empty() ? last_lsn_ + 1 : std::min(segments_.front().first_lsn, last_lsn_ + 1);
}

std::vector<SegmentSummary> Wal::Segments() const {
  std::vector<SegmentSummary> out;
  {
    MutexLock lock(&mu_);
    for (const SegmentInfo& s : segments_) out.push_back({s.number, s.first_lsn, 0});
  }
  for (SegmentSummary& s : out) {
    Result<uint64_t> size = fs_->GetFileSize(SegmentPath(s.number));
    if (size.ok()) s.bytes = *size;
  }
  return out;
}

Status Wal::RemoveSegmentsUpTo(uint64_t lsn) {
  MutexLock remove_lock(&remove_mu_);
  std::vector<uint64_t> doomed;
  {
    MutexLock lock(&mu_);
    // Segment i holds LSNs [first_lsn(i), first_lsn(i + 1)): all <= lsn when the next
    // one starts at or below lsn + 1. The last segment is being written: never.
    for (size_t i = 0; i + 1 < segments_.size() && segments_[i + 1].first_lsn <= lsn + 1; ++i) {
      doomed.push_back(segments_[i].number);
    }
  }
  // Oldest first, so that a crash half-way leaves the numbers contiguous.
  size_t removed = 0;
  Status s;
  for (uint64_t number : doomed) {
    s = fs_->RemoveFile(SegmentPath(number));
    if (!s.ok()) break;
    ++removed;
  }
  if (removed > 0) {
    Status d = fs_->SyncDir(options_.dir);
    if (s.ok()) s = std::move(d);
    MutexLock lock(&mu_);
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(removed));
  }
  return s;
}

Status Wal::error() const {
  MutexLock lock(&mu_);
  return error_;
}

uint64_t Wal::last_lsn() const {
  MutexLock lock(&mu_);
  return last_lsn_;
}

uint64_t Wal::durable_lsn() const {
  MutexLock lock(&mu_);
  return durable_lsn_;
}

WalStats Wal::stats() const {
  MutexLock lock(&mu_);
  WalStats s = stats_;
  s.last_lsn = last_lsn_;
  s.written_lsn = written_lsn_;
  s.durable_lsn = durable_lsn_;
  s.segments = segments_.size();
  return s;
}

}  // namespace memento::wal
