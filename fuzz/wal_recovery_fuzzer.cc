// Fuzz target: wal::Wal::Open (storage/wal/wal.h), the recovery of a whole log
// directory of fuzzed segment files, on an in-memory file system.
//
// Input layout:
//   byte 0   bit 0: RecoveryMode::kTruncate (else strict); bit 1: read-only;
//            bit 2: a gap in the segment numbers; bit 3: a stray file in the directory
//   byte 1   repair bits for every segment (wal_fuzz_util.h)
//   byte 2   after_lsn (the snapshot's LSN), 0-255
//   byte 3   the first segment's number - 1, 0-3
//   rest     the segment files, separated by "#SEG#"
//
// Checked, when Open succeeds: the replayed LSNs are consecutive and start at
// after_lsn + 1; last_lsn() is the last one (or at least after_lsn); ReadRecords (the
// checkpointer's path over the same files) returns exactly the replayed records; a
// read-only Open changed no file; and the recovered log is clean: after appending one
// more record, a second, strict Open succeeds without dropping anything and replays
// the same records plus the new one. When Open fails: the status is Corruption or
// NotSupported (truncate mode: NotSupported only), and no file was changed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/coding.h"
#include "common/logging.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/in_memory_fs.h"
#include "fuzz/wal_fuzz_util.h"
#include "storage/mutation.h"
#include "storage/wal/wal.h"
#include "storage/wal/wal_format.h"

namespace memento::fuzz {
namespace {

constexpr std::string_view kSeparator = "#SEG#";
const std::string kDir = "/data/wal";

struct Replayed {
  uint64_t lsn;
  storage::MutationType type;
  std::string key;
  std::string value;
  int64_t created_ms;
  int64_t expire_ms;
  bool operator==(const Replayed&) const = default;
};

class CountingReporter final : public wal::Reporter {
 public:
  void Dropped(const std::string&, uint64_t, uint64_t, const Status& reason) override {
    FUZZ_CHECK(!reason.ok());
    ++drops;
  }
  int drops = 0;
};

wal::ReplayFn Collect(std::vector<Replayed>* out) {
  return [out](uint64_t lsn, const storage::Mutation& m) {
    out->push_back(Replayed{lsn, m.type, std::string(m.key), std::string(m.value), m.created_ms,
                            m.expire_ms});
    return Status::OK();
  };
}

wal::Options MakeOptions(InMemoryFileSystem* fs, wal::Reporter* reporter, bool truncate,
                         bool read_only) {
  wal::Options o;
  o.dir = kDir;
  o.fs = fs;
  o.reporter = reporter;
  o.sync_policy = wal::SyncPolicy::kNo;
  o.recovery_mode = truncate ? wal::RecoveryMode::kTruncate : wal::RecoveryMode::kStrict;
  o.read_only = read_only;
  o.flush_interval = std::chrono::milliseconds(60000);  // Close wakes the thread anyway
  return o;
}

// FIXED (fuzz/regressions/wal_recovery/first-lsn-zero-wraps-last-lsn): recovery now
// refuses a first_lsn of 0 or above 2^62 as damage. Was:
// recovery trusts a segment header's first_lsn, and LSNs start at 1. A header with a
// valid checksum and first_lsn 0 (and no records) makes Recovery::Run compute
// log_last = next_lsn_ - 1 = 2^64 - 1: last_lsn() is UINT64_MAX, the new segment
// starts at LSN 0, and ReadRecords fails with "the log ends before LSN 1" (so would
// every checkpoint). A first_lsn near 2^64 wraps the same way. Until recovery refuses
// such headers, inputs holding one are skipped. Set to false once fixed.
constexpr bool kSkipKnownLsnWrapBug = false;

bool AbsurdFirstLsn(std::string_view seg) {
  if (seg.size() < wal::kSegmentHeaderSize) return false;
  const uint64_t first = DecodeFixed64(seg.data() + wal::kHeaderFirstLsnOffset);
  return first == 0 || first >= (uint64_t{1} << 62);
}

const bool kQuiet = [] {
  log::SetLevel(log::Level::kError);  // recovery warns about every drop
  return true;
}();

}  // namespace
}  // namespace memento::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memento;        // NOLINT
  using namespace memento::fuzz;  // NOLINT
  (void)kQuiet;
  FuzzInput in(data, size);
  const uint8_t mode = in.Byte();
  const uint8_t fixes = in.Byte();
  const uint64_t after_lsn = in.Byte();
  const uint64_t first_number = 1 + in.Below(4);
  const bool truncate = (mode & 1) != 0;
  const bool read_only = (mode & 2) != 0;
  const std::string_view rest = in.Rest();

  InMemoryFileSystem fs;
  if (!fs.CreateDirIfMissing("/data").ok() || !fs.CreateDirIfMissing(kDir).ok()) return 0;
  uint64_t number = first_number;
  uint64_t next_lsn = 1;
  int count = 0;
  std::string_view segments = rest;
  while (count < 8) {
    const size_t at = segments.find(kSeparator);
    std::string seg(segments.substr(0, at));
    RepairSegment(&seg, fixes, number, &next_lsn);
    if (kSkipKnownLsnWrapBug && AbsurdFirstLsn(seg)) return 0;
    fs.Put(wal::JoinPath(kDir, wal::SegmentFileName(number)), seg);
    ++count;
    number += (count == 1 && (mode & 4) != 0) ? 2 : 1;
    if (at == std::string_view::npos) break;
    segments.remove_prefix(at + kSeparator.size());
  }
  if ((mode & 8) != 0) {
    fs.Put(wal::JoinPath(kDir, "notes.txt"), "not a segment");
    fs.Put(wal::JoinPath(kDir, "00000009.wal.0.dropped"), "old damage");
  }
  const std::map<std::string, std::string> before = fs.Files();

  CountingReporter reporter;
  std::vector<Replayed> replayed;
  Result<std::unique_ptr<wal::Wal>> opened = wal::Wal::Open(
      MakeOptions(&fs, &reporter, truncate, read_only), after_lsn, Collect(&replayed));
  if (!opened.ok()) {
    const Status& s = opened.status();
    FUZZ_CHECK(s.IsCorruption() || s.code() == Status::Code::kNotSupported);
    if (truncate) FUZZ_CHECK(s.code() == Status::Code::kNotSupported);
    FUZZ_CHECK(fs.Files() == before);  // a failed Open changes nothing on disk
    return 0;
  }
  std::unique_ptr<wal::Wal> log = std::move(opened).value();

  // LSNs from after_lsn + 1 with no gap; a unit's changes share one.
  for (size_t i = 0; i < replayed.size(); ++i) {
    const uint64_t prev = i == 0 ? after_lsn : replayed[i - 1].lsn;
    FUZZ_CHECK(replayed[i].lsn == prev + 1 || (i > 0 && replayed[i].lsn == prev));
  }
  const uint64_t last = log->last_lsn();
  if (replayed.empty()) {
    FUZZ_CHECK(last >= after_lsn);
  } else {
    FUZZ_CHECK(last == replayed.back().lsn);
  }
  if (read_only) FUZZ_CHECK(fs.Files() == before);

  // The checkpointer reads the same records back from the recovered files.
  std::vector<Replayed> reread;
  const Status rr = log->ReadRecords(after_lsn, last, Collect(&reread));
  if (!rr.ok()) {
    std::fprintf(stderr, "last_lsn %llu; ReadRecords(%llu, %llu): %s\n",
                 static_cast<unsigned long long>(last), static_cast<unsigned long long>(after_lsn),
                 static_cast<unsigned long long>(last), rr.ToString().c_str());
  }
  FUZZ_CHECK(rr.ok());
  FUZZ_CHECK(reread == replayed);
  if (read_only) return 0;

  // The recovered log takes new records, and is clean for the next start.
  storage::Mutation m;
  m.type = storage::MutationType::kPut;
  m.key = "fuzz-key";
  m.value = "fuzz-value";
  m.created_ms = 7;
  Result<uint64_t> lsn = log->Append(m);
  FUZZ_CHECK(lsn.ok() && *lsn == last + 1);
  // And a unit: two changes, one LSN, replayed together.
  storage::Mutation unit[2];
  unit[0].type = storage::MutationType::kAppend;
  unit[0].key = "fuzz-key";
  unit[0].value = "+";
  unit[1].type = storage::MutationType::kDelete;
  unit[1].key = "other";
  unit[1].reason = storage::ChangeReason::kExpiry;
  Result<uint64_t> unit_lsn = log->AppendUnit(unit);
  FUZZ_CHECK(unit_lsn.ok() && *unit_lsn == last + 2);
  FUZZ_CHECK(log->Sync().ok());
  FUZZ_CHECK(log->Close().ok());
  log.reset();

  CountingReporter reporter2;
  std::vector<Replayed> replayed2;
  Result<std::unique_ptr<wal::Wal>> reopened = wal::Wal::Open(
      MakeOptions(&fs, &reporter2, /*truncate=*/false, /*read_only=*/false), after_lsn,
      Collect(&replayed2));
  FUZZ_CHECK(reopened.ok());
  FUZZ_CHECK(reporter2.drops == 0);
  replayed.push_back(Replayed{last + 1, m.type, "fuzz-key", "fuzz-value", 7, -1});
  replayed.push_back(Replayed{last + 2, unit[0].type, "fuzz-key", "+", 0, -1});
  replayed.push_back(Replayed{last + 2, unit[1].type, "other", "", 0, -1});
  FUZZ_CHECK(replayed2 == replayed);
  FUZZ_CHECK((*reopened)->last_lsn() == last + 2);
  FUZZ_CHECK((*reopened)->Close().ok());
  return 0;
}
