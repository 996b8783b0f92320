// Wal::Open and recovery: reading a log directory back after a restart or a crash.
// The rules are the recovery table of docs/formats/wal.md; keep the two in step.
#include <algorithm>
#include <cinttypes>
#include <optional>
#include <utility>
#include <vector>

#include "common/logging.h"
#include "storage/wal/log_reader.h"
#include "storage/wal/mutation_codec.h"
#include "storage/wal/wal.h"
#include "storage/wal/wal_format.h"

namespace memento::wal {

// No log gets near this many records (2^62: a million a second for 146,000 years);
// a header claiming more is damage.
constexpr uint64_t kMaxPlausibleLsn = uint64_t{1} << 62;

using internal::MutexLock;

namespace {

class LogReporter final : public Reporter {
 public:
  void Dropped(const std::string& file, uint64_t offset, uint64_t bytes,
               const Status& reason) override {
    log::Warning("WAL: dropped %" PRIu64 " bytes of %s from offset %" PRIu64 ": %s", bytes,
                 file.c_str(), offset, reason.ToString().c_str());
  }
};

LogReporter* DefaultReporter() {
  static LogReporter* const reporter = new LogReporter();
  return reporter;
}

std::string Str(uint64_t v) { return std::to_string(v); }

}  // namespace

// ---------------------------------------------------------------------------------
// Recovery
// ---------------------------------------------------------------------------------
//
// What recovery does with each finding (docs/formats/wal.md has the operator's table):
//
//   newest segment ends in a torn record, bad checksum or zero/garbage bytes, and no
//   valid record follows                        -> truncated, reported, start-up goes on
//   the same, but a valid record follows         -> corruption
//   damage of any kind in an older segment       -> corruption
//   missing segment number, LSN gap, log starting
//   after the snapshot's LSN + 1                 -> corruption
//   newer format version                         -> NotSupported (no repair)
//
// Corruption stops Open in strict mode. In truncate mode the log is cut at the first
// damage: the damaged segment is truncated there (the cut bytes saved to a
// *.dropped file) and every later segment is renamed to *.dropped.
//
// Invariant relied on: every segment but the newest is complete and durable, because
// a segment is synced before the next is created (Wal::Rotate, and Run below for the
// segment recovered as newest). So only the newest can legitimately end torn.

class Wal::Recovery {
 public:
  Recovery(Wal* wal, uint64_t after_lsn, const ReplayFn& replay)
      : wal_(wal),
        opts_(wal->options_),
        fs_(wal->fs_),
        reporter_(opts_.reporter != nullptr ? opts_.reporter : DefaultReporter()),
        after_lsn_(after_lsn),
        replay_(replay) {}

  Status Run();

 private:
  struct Segment {
    uint64_t number = 0;
    std::string name;
    std::string path;
    uint64_t size = 0;
    std::unique_ptr<RandomAccessFile> file;
    SegmentHeader header;
    Status header_status;
    Reader::End header_end = Reader::End::kNone;
  };
  // Where the valid log ends early.
  struct Cut {
    size_t index;     // segment
    uint64_t offset;  // first byte not kept
    bool torn;        // a torn tail (always truncated) rather than repaired damage
  };

  Status ListSegments();
  Status ReadSegment(size_t i, bool* stop);
  // Classifies damage found in segment i at offset; see the table above. Sets cut_
  // and returns OK when start-up may go on, else the error for Open.
  Status Damage(size_t i, uint64_t offset, const Status& reason, bool torn_candidate,
                Reader* reader);
  // Truncate mode: fills the Wal's RecoveryDrop for a cut at segment i, offset
  // (reader: positioned at the damage in segment i, or nullptr).
  Status NoteDrop(size_t i, uint64_t offset, const std::string& why, Reader* reader);
  void LogDrop() const;
  Status ApplyCut();
  Status SaveDroppedBytes(const Segment& s, uint64_t offset);
  std::string DroppedPath(const Segment& s, uint64_t offset) const {
    return s.path + "." + Str(offset) + kDroppedSuffix;
  }

  Wal* const wal_;
  const Options& opts_;
  FileSystem* const fs_;
  Reporter* const reporter_;
  const uint64_t after_lsn_;
  const ReplayFn& replay_;

  std::vector<Segment> segs_;
  bool started_ = false;  // a segment has been read
  uint64_t next_lsn_ = 0;  // once started_: the LSN the next record must have
  std::optional<Cut> cut_;
  uint64_t replayed_ = 0;
};

Status Wal::Recovery::ListSegments() {
  std::vector<std::string> names;
  if (opts_.read_only) {
    if (!fs_->GetFileSize(opts_.dir).ok()) return Status::OK();  // no log yet: empty
  } else {
    MEMENTO_RETURN_IF_ERROR(fs_->CreateDirIfMissing(opts_.dir));
  }
  MEMENTO_RETURN_IF_ERROR(fs_->GetChildren(opts_.dir, &names));
  for (std::string& name : names) {
    uint64_t number = 0;
    if (ParseSegmentFileName(name, &number)) {
      Segment s;
      s.number = number;
      s.path = JoinPath(opts_.dir, name);
      s.name = std::move(name);
      segs_.push_back(std::move(s));
    } else if (!std::string_view(name).ends_with(kDroppedSuffix)) {
      log::Warning("WAL: ignoring %s in %s: not a segment file name", name.c_str(),
                   opts_.dir.c_str());
    }
  }
  std::sort(segs_.begin(), segs_.end(),
            [](const Segment& a, const Segment& b) { return a.number < b.number; });
  for (Segment& s : segs_) {
    Result<uint64_t> size = fs_->GetFileSize(s.path);
    if (!size.ok()) return size.status();
    s.size = *size;
    Result<std::unique_ptr<RandomAccessFile>> file = fs_->NewRandomAccessFile(s.path);
    if (!file.ok()) return file.status();
    s.file = std::move(file).value();
    Reader reader(s.file.get(), s.size, s.path);
    s.header_status = reader.ReadHeader(&s.header);
    s.header_end = reader.end();
    if (s.header_end == Reader::End::kIOError) return s.header_status;
  }
  return Status::OK();
}

Status Wal::Recovery::Damage(size_t i, uint64_t offset, const Status& reason,
                             bool torn_candidate, Reader* reader) {
  const Segment& s = segs_[i];
  std::string why(reason.message());
  if (torn_candidate && i + 1 == segs_.size()) {
    // A crash can leave the newest segment ending in a partial record, or in zeros or
    // garbage where the file system extended the file but the data never arrived. If
    // nothing valid follows the damage, that is what this is: drop it. If a valid
    // record follows, something damaged bytes that had been written whole.
    Result<int64_t> next = reader->FindValidRecordAfterDamage(started_ ? next_lsn_ : 0);
    if (!next.ok()) return next.status();
    if (*next < 0) {
      reporter_->Dropped(s.path, offset, s.size - offset,
                         Status::Corruption(why + " (a torn write at the end of the newest "
                                            "segment, expected after a crash: nothing to do)"));
      cut_ = Cut{i, offset, /*torn=*/true};
      return Status::OK();
    }
    why += "; a valid record follows at offset " + Str(static_cast<uint64_t>(*next)) +
           ", so this is damage inside the log, not a torn write";
  }
  if (opts_.recovery_mode == RecoveryMode::kStrict) {
    return Status::Corruption(why + "; " + opts_.repair_hint);
  }
  reporter_->Dropped(s.path, offset, s.size - offset, Status::Corruption(why));
  for (size_t j = i + 1; j < segs_.size(); ++j) {
    reporter_->Dropped(segs_[j].path, 0, segs_[j].size,
                       Status::Corruption("follows the damage in " + s.path));
  }
  cut_ = Cut{i, offset, /*torn=*/false};
  return NoteDrop(i, offset, why, reader);
}

Status Wal::Recovery::NoteDrop(size_t i, uint64_t offset, const std::string& why,
                               Reader* reader) {
  RecoveryDrop& drop = wal_->recovery_drop_;
  drop.truncated = true;
  drop.damage = why;
  // The first LSN not replayed; whatever the snapshot holds is not lost.
  drop.first_lsn = std::max(started_ ? next_lsn_ : 0, after_lsn_ + 1);
  uint64_t last = 0;
  if (reader != nullptr) {
    Result<uint64_t> found = reader->HighestLsnAfterDamage(drop.first_lsn);
    if (!found.ok()) return found.status();
    last = *found;
  }
  drop.bytes = segs_[i].size - std::min(offset, segs_[i].size);
  for (size_t j = i + 1; j < segs_.size(); ++j) drop.bytes += segs_[j].size;
  // Without a reader (a missing segment before segment i), segment i is read whole.
  for (size_t j = reader != nullptr ? i + 1 : i; j < segs_.size(); ++j) {
    const Segment& later = segs_[j];
    if (!later.header_status.ok() || later.header.first_lsn == 0 ||
        later.header.first_lsn > kMaxPlausibleLsn) {
      continue;
    }
    // The LSNs before a later segment's first were in the log too.
    last = std::max(last, later.header.first_lsn - 1);
    Reader scan(later.file.get(), later.size, later.path);
    SegmentHeader header;
    if (!scan.ReadHeader(&header).ok()) continue;
    Result<uint64_t> found = scan.HighestLsnAfterDamage(header.first_lsn);
    if (!found.ok()) return found.status();
    last = std::max(last, *found);
  }
  drop.last_lsn = last;
  return Status::OK();
}

void Wal::Recovery::LogDrop() const {
  const RecoveryDrop& drop = wal_->recovery_drop_;
  const char* where = opts_.read_only ? "left unread (nothing changed on disk)"
                                      : "set aside as *.dropped files";
  if (drop.records() > 0) {
    log::Warning("WAL: --wal-recovery=truncate dropped %" PRIu64 " log records, LSNs %" PRIu64
                 " to %" PRIu64 ", at and after the damage (%" PRIu64 " bytes in %s, %s); "
                 "the data is as of LSN %" PRIu64 ". The damage: %s",
                 drop.records(), drop.first_lsn, drop.last_lsn, drop.bytes, opts_.dir.c_str(),
                 where, drop.first_lsn - 1, drop.damage.c_str());
  } else {
    log::Warning("WAL: --wal-recovery=truncate dropped %" PRIu64 " bytes in %s (%s) holding no "
                 "readable log record after LSN %" PRIu64 "; the data is as of LSN %" PRIu64
                 ". The damage: %s",
                 drop.bytes, opts_.dir.c_str(), where, drop.first_lsn - 1, drop.first_lsn - 1,
                 drop.damage.c_str());
  }
}

Status Wal::Recovery::ReadSegment(size_t i, bool* stop) {
  Segment& s = segs_[i];
  Reader reader(s.file.get(), s.size, s.path);
  *stop = true;
  if (!s.header_status.ok()) {
    if (s.header_end == Reader::End::kUnsupported) return s.header_status;  // never repaired
    (void)reader.ReadHeader(&s.header);  // positions the reader for the damage scan
    return Damage(i, 0, s.header_status, /*torn_candidate=*/true, &reader);
  }
  if (s.header.number != s.number) {
    return Damage(i, 0,
                  Status::Corruption(s.path + " at offset 0: the header says segment " +
                                     Str(s.header.number)),
                  false, &reader);
  }
  if (s.header.first_lsn == 0 || s.header.first_lsn > kMaxPlausibleLsn) {
    // LSNs start at 1 and never come near 2^64; a checksum-valid header saying
    // otherwise would make the LSN arithmetic wrap around
    // (fuzz/regressions/wal_recovery/first-lsn-zero-wraps-last-lsn).
    return Damage(i, 0,
                  Status::Corruption(s.path + " at offset 0: the header says the segment "
                                     "starts at LSN " + Str(s.header.first_lsn) +
                                     ", which is impossible (LSNs run from 1 to 2^62)"),
                  false, &reader);
  }
  if (!started_ && s.header.first_lsn > after_lsn_ + 1) {
    return Damage(i, 0,
                  Status::Corruption(
                      s.path + " at offset 0: the log starts at LSN " +
                      Str(s.header.first_lsn) + " but the snapshot covers only up to LSN " +
                      Str(after_lsn_) + ": records " + Str(after_lsn_ + 1) + " to " +
                      Str(s.header.first_lsn - 1) +
                      " are missing (were segments deleted before a snapshot covered them?)"),
                  false, &reader);
  }
  if (started_ && s.header.first_lsn != next_lsn_) {
    return Damage(i, 0,
                  Status::Corruption(s.path + " at offset 0: gap in LSNs: the previous "
                                     "segment ends at LSN " + Str(next_lsn_ - 1) +
                                     ", this one starts at LSN " + Str(s.header.first_lsn)),
                  false, &reader);
  }
  MEMENTO_RETURN_IF_ERROR(reader.ReadHeader(&s.header));
  started_ = true;
  next_lsn_ = s.header.first_lsn;

  Reader::Record record;
  std::vector<storage::Mutation> changes;
  while (reader.ReadRecord(&record)) {
    next_lsn_ = record.lsn + 1;
    if (record.lsn <= after_lsn_) continue;  // already in the snapshot
    // A whole record, checksum and all, or none of it: a unit torn at the tail fails
    // ReadRecord and none of its changes is replayed.
    if (Status d = DecodeRecordPayload(record.type, record.payload, &changes); !d.ok()) {
      // The checksum matched, so these bytes are what was written: a bug or a format
      // mismatch, never a torn write.
      next_lsn_ = record.lsn;
      return Damage(i, record.offset,
                    Status::Corruption(s.path + " at offset " + Str(record.offset) + ": LSN " +
                                       Str(record.lsn) + ": " + std::string(d.message())),
                    false, &reader);
    }
    for (const storage::Mutation& m : changes) {
      if (Status r = replay_(record.lsn, m); !r.ok()) return r;
    }
    ++replayed_;
  }
  next_lsn_ = reader.next_lsn();
  switch (reader.end()) {
    case Reader::End::kEof:
      *stop = false;
      return Status::OK();
    case Reader::End::kIOError:
      return reader.status();
    case Reader::End::kTruncated:
    case Reader::End::kBadRecord:
      return Damage(i, reader.good_end(), reader.status(), true, &reader);
    default:  // kLsnMismatch: a whole record with the wrong LSN is never a torn write
      return Damage(i, reader.good_end(), reader.status(), false, &reader);
  }
}

Status Wal::Recovery::SaveDroppedBytes(const Segment& s, uint64_t offset) {
  if (offset >= s.size) return Status::OK();
  const std::string path = DroppedPath(s, offset);
  std::string bytes(static_cast<size_t>(s.size - offset), '\0');
  std::string_view got;
  MEMENTO_RETURN_IF_ERROR(s.file->Read(offset, bytes.size(), bytes.data(), &got));
  Result<std::unique_ptr<WritableFile>> out = fs_->NewWritableFile(path);
  if (!out.ok()) return out.status();
  MEMENTO_RETURN_IF_ERROR((*out)->Append(got));
  MEMENTO_RETURN_IF_ERROR((*out)->Sync());
  return (*out)->Close();
}

Status Wal::Recovery::ApplyCut() {
  const Cut cut = *cut_;
  // Repaired damage: move aside every later segment first, newest first, so that a
  // crash in the middle leaves a log that is a prefix of the original.
  if (!cut.torn) {
    for (size_t j = segs_.size(); j-- > cut.index + 1;) {
      MEMENTO_RETURN_IF_ERROR(fs_->RenameFile(segs_[j].path, DroppedPath(segs_[j], 0)));
    }
  }
  Segment& s = segs_[cut.index];
  if (cut.offset < kSegmentHeaderSize) {
    // Nothing usable in it (its header is bad or the log must restart here).
    if (cut.torn) {
      MEMENTO_RETURN_IF_ERROR(fs_->RemoveFile(s.path));
    } else {
      MEMENTO_RETURN_IF_ERROR(fs_->RenameFile(s.path, DroppedPath(s, 0)));
    }
    segs_.resize(cut.index);
  } else {
    if (!cut.torn) MEMENTO_RETURN_IF_ERROR(SaveDroppedBytes(s, cut.offset));
    MEMENTO_RETURN_IF_ERROR(fs_->Truncate(s.path, cut.offset));
    s.size = cut.offset;
    segs_.resize(cut.index + 1);
  }
  return Status::OK();
}

Status Wal::Recovery::Run() {
  MEMENTO_RETURN_IF_ERROR(ListSegments());

  // Segments whose successor starts at or below after_lsn + 1 hold only records the
  // snapshot has: start reading at the last segment that begins at or below it.
  size_t start = 0;
  for (size_t i = 0; i < segs_.size(); ++i) {
    const Segment& s = segs_[i];
    if (s.header_status.ok() && s.header.number == s.number &&
        s.header.first_lsn <= after_lsn_ + 1) {
      start = i;
    }
  }
  const uint64_t next_number_before_cut = segs_.empty() ? 1 : segs_.back().number + 1;
  for (size_t i = start; i < segs_.size(); ++i) {
    if (i > start && segs_[i].number != segs_[i - 1].number + 1) {
      MEMENTO_RETURN_IF_ERROR(Damage(
          i, 0,
          Status::Corruption(opts_.dir + ": segment " + SegmentFileName(segs_[i - 1].number + 1) +
                             " is missing (the log goes from " + segs_[i - 1].name + " to " +
                             segs_[i].name + "); restore it from a backup if you have one"),
          false, nullptr));
      break;
    }
    bool stop = false;
    MEMENTO_RETURN_IF_ERROR(ReadSegment(i, &stop));
    if (stop) break;
  }

  // The log's last LSN, and where appends continue.
  const uint64_t log_last = started_ ? next_lsn_ - 1 : after_lsn_;
  if (started_ && log_last < after_lsn_) {
    log::Warning("WAL: the log in %s ends at LSN %" PRIu64 " but the snapshot covers up to "
                 "LSN %" PRIu64 " (the records in between were lost from the log after a "
                 "crash, but the snapshot has them); continuing at LSN %" PRIu64,
                 opts_.dir.c_str(), log_last, after_lsn_, after_lsn_ + 1);
  }
  const uint64_t last_lsn = std::max(log_last, after_lsn_);

  uint64_t new_number = next_number_before_cut;
  std::shared_ptr<SegmentWriter> current;
  if (!opts_.read_only) {
    if (cut_) {
      new_number = segs_[cut_->index].number;
      MEMENTO_RETURN_IF_ERROR(ApplyCut());
    }
    if (!segs_.empty()) {
      Segment& newest = segs_.back();
      if (newest.header_status.ok() && newest.size <= kSegmentHeaderSize) {
        // No records: replace it rather than leave an empty segment per restart.
        MEMENTO_RETURN_IF_ERROR(fs_->RemoveFile(newest.path));
        new_number = newest.number;
        segs_.pop_back();
      } else {
        // It is about to stop being the newest: make it durable first (the invariant
        // above; the last process may have crashed before syncing it). Truncate to
        // its own size is the FileSystem's way to fsync a file it did not open.
        MEMENTO_RETURN_IF_ERROR(fs_->Truncate(newest.path, newest.size));
        new_number = newest.number + 1;
      }
    }
    Result<std::unique_ptr<SegmentWriter>> created = SegmentWriter::Create(
        fs_, JoinPath(opts_.dir, SegmentFileName(new_number)), new_number, last_lsn + 1);
    if (!created.ok()) return created.status();
    current = std::move(created).value();
    MEMENTO_RETURN_IF_ERROR(fs_->SyncDir(opts_.dir));
  } else if (cut_) {
    segs_.resize(cut_->offset < kSegmentHeaderSize ? cut_->index : cut_->index + 1);
  }

  if (cut_ && !cut_->torn) LogDrop();

  MutexLock lock(&wal_->mu_);
  for (const Segment& s : segs_) {
    wal_->segments_.push_back(SegmentInfo{s.number, s.header_status.ok() ? s.header.first_lsn : 0});
  }
  if (current != nullptr) {
    wal_->segments_.push_back(SegmentInfo{current->number(), current->first_lsn()});
    wal_->stats_.current_segment = current->number();
  }
  wal_->current_ = std::move(current);
  wal_->last_lsn_ = wal_->written_lsn_ = wal_->durable_lsn_ = last_lsn;
  if (replayed_ > 0 || cut_) {
    log::Info("WAL: recovered %s: replayed %" PRIu64 " records after LSN %" PRIu64
              ", next LSN %" PRIu64,
              opts_.dir.c_str(), replayed_, after_lsn_, last_lsn + 1);
  }
  return Status::OK();
}

Result<std::unique_ptr<Wal>> Wal::Open(const Options& options, uint64_t after_lsn,
                                       const ReplayFn& replay) {
  if (options.dir.empty()) return Status::InvalidArgument("WAL directory not set");
  if (options.segment_size == 0) return Status::InvalidArgument("WAL segment size is 0");
  std::unique_ptr<Wal> wal(new Wal(options));
  Recovery recovery(wal.get(), after_lsn, replay);
  MEMENTO_RETURN_IF_ERROR(recovery.Run());
  if (!options.read_only) wal->flusher_ = std::thread(&Wal::FlusherLoop, wal.get());
  return wal;
}

}  // namespace memento::wal
