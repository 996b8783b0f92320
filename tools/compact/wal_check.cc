#include "tools/compact/wal_check.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "storage/mutation.h"
#include "storage/wal/file.h"
#include "storage/wal/log_reader.h"
#include "storage/wal/mutation_codec.h"
#include "storage/wal/wal.h"

namespace memento::tools {
namespace {

struct SegmentFile {
  uint64_t number = 0;
  std::string path;
  uint64_t size = 0;
  bool gone = false;  // removed between the listing and the read (live only)
};

std::string Str(uint64_t v) { return std::to_string(v); }

}  // namespace

Status CheckWal(const std::string& wal_dir, uint64_t snapshot_lsn, bool live,
                const std::function<void(uint64_t done, uint64_t total)>& progress,
                WalCheckReport* report) {
  *report = WalCheckReport();
  wal::FileSystem* fs = wal::PosixFileSystem();
  if (!fs->GetFileSize(wal_dir).ok()) return Status::OK();  // no log yet
  std::vector<std::string> names;
  MEMENTO_RETURN_IF_ERROR(fs->GetChildren(wal_dir, &names));
  std::vector<SegmentFile> segs;
  uint64_t total = 0;
  for (const std::string& name : names) {
    SegmentFile s;
    if (!wal::ParseSegmentFileName(name, &s.number)) continue;  // *.dropped, strangers
    s.path = wal::JoinPath(wal_dir, name);
    Result<uint64_t> size = fs->GetFileSize(s.path);
    if (!size.ok()) {
      if (!live || !size.status().IsNotFound()) return size.status();
      continue;  // the daemon's checkpointer removed it meanwhile
    }
    s.size = *size;
    total += s.size;
    segs.push_back(std::move(s));
  }
  std::sort(segs.begin(), segs.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.number < b.number; });

  bool have_prev = false;     // a segment was read just before this one
  bool prev_damaged = false;  // and it ended in damage: its last LSN is unknown
  uint64_t prev_number = 0;
  uint64_t next_lsn = 0;  // the LSN the next segment must start at
  uint64_t done = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    SegmentFile& seg = segs[i];
    const bool newest = i + 1 == segs.size();
    auto problem = [&](const std::string& what) { report->problems.push_back(what); };
    Result<std::unique_ptr<wal::RandomAccessFile>> file = fs->NewRandomAccessFile(seg.path);
    if (!file.ok()) {
      if (live && file.status().IsNotFound()) {
        report->notes.push_back(seg.path +
                                " was removed by the running daemon's checkpointer "
                                "during the check");
        have_prev = false;
        continue;
      }
      problem(file.status().ToString());
      have_prev = false;
      continue;
    }
    ++report->segments;
    report->bytes += seg.size;
    wal::Reader reader(file->get(), seg.size, seg.path);
    wal::SegmentHeader header;
    const Status header_status = reader.ReadHeader(&header);
    if (!header_status.ok()) {
      if (newest && reader.end() == wal::Reader::End::kTruncated) {
        // A crash while the segment was being created; recovery replaces it.
        report->notes.push_back(std::string(header_status.message()) +
                                " (the newest segment, cut short while being created: the "
                                "daemon replaces it at start-up)");
      } else {
        problem(std::string(header_status.message()));
      }
      have_prev = true;
      prev_damaged = true;
      prev_number = seg.number;
      continue;
    }
    if (header.number != seg.number) {
      problem(seg.path + " at offset 0: the header says segment " + Str(header.number));
    }
    if (have_prev && seg.number != prev_number + 1) {
      problem(wal_dir + ": segment " + wal::SegmentFileName(prev_number + 1) +
              " is missing (the log goes from " + wal::SegmentFileName(prev_number) + " to " +
              wal::SegmentFileName(seg.number) + ")");
    } else if (have_prev && !prev_damaged && header.first_lsn != next_lsn) {
      problem(seg.path + " at offset 0: gap in LSNs: the previous segment ends at LSN " +
              Str(next_lsn - 1) + ", this one starts at LSN " + Str(header.first_lsn));
    }
    if (!have_prev && i == 0 && !live && header.first_lsn > snapshot_lsn + 1) {
      problem(seg.path + " at offset 0: the log starts at LSN " + Str(header.first_lsn) +
              " but the snapshot covers only up to LSN " + Str(snapshot_lsn) + ": records " +
              Str(snapshot_lsn + 1) + " to " + Str(header.first_lsn - 1) + " are missing");
    }

    wal::Reader::Record record;
    std::vector<storage::Mutation> mutation;  // the record's changes
    uint64_t since_progress = 0;
    while (reader.ReadRecord(&record)) {
      ++report->records;
      if (report->first_lsn == 0) report->first_lsn = record.lsn;
      report->last_lsn = record.lsn;
      if (Status d = wal::DecodeRecordPayload(record.type, record.payload, &mutation); !d.ok()) {
        problem(seg.path + " at offset " + Str(record.offset) + ": LSN " + Str(record.lsn) + ": " +
                std::string(d.message()));
      }
      if (progress && ++since_progress == 4096) {
        since_progress = 0;
        progress(done + reader.good_end(), total);
      }
    }
    done += seg.size;
    if (progress) progress(done, total);
    switch (reader.end()) {
      case wal::Reader::End::kEof:
        break;
      case wal::Reader::End::kTruncated:
      case wal::Reader::End::kBadRecord: {
        if (newest) {
          // As recovery: damage followed by no valid record is a torn tail.
          Result<int64_t> next = reader.FindValidRecordAfterDamage(reader.next_lsn());
          if (!next.ok()) {
            problem(next.status().ToString());
          } else if (*next < 0) {
            report->notes.push_back(
                std::string(reader.status().message()) + ": " + Str(seg.size - reader.good_end()) +
                (live ? " bytes at the end of the newest segment (a write in progress, or a "
                        "torn tail the daemon dropped at its start)"
                      : " bytes of torn tail at the end of the newest segment (a crash during "
                        "a write: the daemon drops them at start-up)"));
          } else {
            problem(std::string(reader.status().message()) +
                    "; a valid record follows at "
                    "offset " +
                    Str(static_cast<uint64_t>(*next)) +
                    ", so this is damage inside the log, not a torn write");
          }
        } else {
          problem(std::string(reader.status().message()));
        }
        break;
      }
      default:
        problem(std::string(reader.status().message()));
        break;
    }
    have_prev = true;
    prev_damaged = reader.end() != wal::Reader::End::kEof;
    prev_number = seg.number;
    next_lsn = reader.next_lsn();
  }
  return Status::OK();
}

}  // namespace memento::tools
