// Fuzz target: wal::Reader (storage/wal/log_reader.h) over one fuzzed segment file,
// in memory, with every record's payload decoded by wal::DecodeRecordPayload (every record type).
//
// Input layout:
//   byte 0   repair bits (wal_fuzz_util.h: magic, checksums, LSNs, number)
//   byte 1   bit 0: FindValidRecordAfterDamage looks for any LSN (else >= next LSN)
//   byte 2   where the second, shorter read stops (a file still being written)
//   rest     the segment file
//
// Checked: records come in file order with consecutive LSNs starting at the header's
// first_lsn, each one ending where the next begins; reading stops with kEof exactly
// at the end of the file and with a non-OK status otherwise; the damage scan returns
// an offset past the good end holding a record with a valid checksum, or -1; a
// decoded payload re-encodes to the same mutation; and a reader given only a prefix
// of the file sees a prefix of the same records and stops no later.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/coding.h"
#include "common/crc32c.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/in_memory_fs.h"
#include "fuzz/wal_fuzz_util.h"
#include "storage/mutation.h"
#include "storage/wal/log_reader.h"
#include "storage/wal/mutation_codec.h"
#include "storage/wal/wal_format.h"

namespace memento::fuzz {
namespace {

struct Outcome {
  bool header_ok = false;
  std::vector<std::string> payloads;
  std::vector<uint64_t> offsets;
  wal::Reader::End end = wal::Reader::End::kNone;
  uint64_t good_end = 0;
};

bool SameMutation(const storage::Mutation& a, const storage::Mutation& b) {
  return a.type == b.type && a.key == b.key && a.value == b.value &&
         a.created_ms == b.created_ms && a.expire_ms == b.expire_ms && a.number == b.number &&
         a.reason == b.reason;
}

// A payload that decodes (any record type) re-encodes, as the writer would write it
// (kChange, or kUnit for several), to the same changes.
void CheckPayload(wal::RecordType type, std::string_view payload) {
  std::vector<storage::Mutation> changes;
  if (!wal::DecodeRecordPayload(type, payload, &changes).ok()) {
    FUZZ_CHECK(changes.empty());  // all or nothing
    return;
  }
  FUZZ_CHECK(!changes.empty());
  if (type != wal::RecordType::kUnit) FUZZ_CHECK(changes.size() == 1);
  std::string again;
  std::vector<storage::Mutation> back;
  if (changes.size() == 1 && type != wal::RecordType::kUnit) {
    wal::EncodeChange(changes[0], &again);
    FUZZ_CHECK(again.size() == wal::EncodedChangeSize(changes[0]));
    FUZZ_CHECK(wal::DecodeRecordPayload(wal::RecordType::kChange, again, &back).ok());
  } else {
    wal::EncodeUnit(changes, &again);
    FUZZ_CHECK(again.size() == wal::EncodedUnitSize(changes));
    FUZZ_CHECK(wal::DecodeRecordPayload(wal::RecordType::kUnit, again, &back).ok());
  }
  FUZZ_CHECK(back.size() == changes.size());
  for (size_t i = 0; i < back.size(); ++i) FUZZ_CHECK(SameMutation(changes[i], back[i]));
}

Outcome Read(std::string_view file_bytes, uint64_t file_size, bool scan_any_lsn) {
  Outcome out;
  StringFile file(file_bytes);
  wal::Reader reader(&file, file_size, "fuzz.wal");
  wal::SegmentHeader header;
  const Status hs = reader.ReadHeader(&header);
  out.header_ok = hs.ok();
  if (!hs.ok()) {
    FUZZ_CHECK(reader.end() != wal::Reader::End::kNone && reader.end() != wal::Reader::End::kEof);
    FUZZ_CHECK(reader.end() != wal::Reader::End::kTruncated ||
               file_size < wal::kSegmentHeaderSize);
    out.end = reader.end();
    return out;
  }
  FUZZ_CHECK(header.version >= wal::kOldestReadVersion && header.version <= wal::kFormatVersion);
  FUZZ_CHECK(reader.good_end() == wal::kSegmentHeaderSize);
  uint64_t expect_offset = wal::kSegmentHeaderSize;
  uint64_t expect_lsn = header.first_lsn;
  wal::Reader::Record record;
  while (reader.ReadRecord(&record)) {
    FUZZ_CHECK(record.offset == expect_offset);
    FUZZ_CHECK(record.lsn == expect_lsn);
    FUZZ_CHECK(static_cast<uint8_t>(record.type) >= 1 &&
               static_cast<uint8_t>(record.type) <= wal::kMaxRecordType);
    expect_offset += wal::kRecordHeaderSize + record.payload.size();
    ++expect_lsn;
    FUZZ_CHECK(reader.good_end() == expect_offset);
    FUZZ_CHECK(expect_offset <= file_size);
    CheckPayload(record.type, record.payload);
    out.payloads.emplace_back(record.payload);
    out.offsets.push_back(record.offset);
  }
  FUZZ_CHECK(!reader.ReadRecord(&record));  // stays stopped
  out.end = reader.end();
  out.good_end = reader.good_end();
  FUZZ_CHECK(reader.good_end() == expect_offset);
  FUZZ_CHECK(reader.next_lsn() == expect_lsn);
  FUZZ_CHECK((out.end == wal::Reader::End::kEof) == reader.status().ok());
  FUZZ_CHECK((out.end == wal::Reader::End::kEof) == (reader.good_end() == file_size));
  FUZZ_CHECK(out.end != wal::Reader::End::kNone && out.end != wal::Reader::End::kIOError &&
             out.end != wal::Reader::End::kUnsupported);

  if (out.end != wal::Reader::End::kEof) {
    const uint64_t min_lsn = scan_any_lsn ? 0 : reader.next_lsn();
    Result<int64_t> next = reader.FindValidRecordAfterDamage(min_lsn);
    FUZZ_CHECK(next.ok());
    if (*next >= 0) {
      const auto q = static_cast<uint64_t>(*next);
      FUZZ_CHECK(q > reader.good_end());
      FUZZ_CHECK(q + wal::kRecordHeaderSize <= file_size);
      const char* r = file_bytes.data() + q;
      const uint32_t length = DecodeFixed32(r + wal::kRecordLengthOffset);
      FUZZ_CHECK(q + wal::kRecordHeaderSize + length <= file_size);
      FUZZ_CHECK(static_cast<uint8_t>(r[wal::kRecordTypeOffset]) >= 1 &&
                 static_cast<uint8_t>(r[wal::kRecordTypeOffset]) <= wal::kMaxRecordType);
      const uint32_t crc = crc32c::Value(r + wal::kRecordLengthOffset,
                                         wal::kRecordHeaderSize - wal::kRecordLengthOffset + length);
      FUZZ_CHECK(crc32c::Mask(crc) == DecodeFixed32(r));
      if (min_lsn != 0) FUZZ_CHECK(DecodeFixed64(r + wal::kRecordLsnOffset) >= min_lsn);
    }
  }
  return out;
}

}  // namespace
}  // namespace memento::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memento;        // NOLINT
  using namespace memento::fuzz;  // NOLINT
  FuzzInput in(data, size);
  const uint8_t fixes = in.Byte();
  const bool scan_any_lsn = in.Bool();
  const uint8_t cut_byte = in.Byte();
  std::string seg(in.Rest());
  uint64_t next_lsn = 1;
  RepairSegment(&seg, fixes, 1, &next_lsn);

  const Outcome full = Read(seg, seg.size(), scan_any_lsn);
  // A reader that sees only a prefix (the file as it was while being written).
  const uint64_t cut = seg.empty() ? 0 : (cut_byte * uint64_t{seg.size()}) / 255;
  const Outcome part = Read(seg, cut, scan_any_lsn);
  if (!full.header_ok) return 0;
  if (cut < wal::kSegmentHeaderSize) {
    FUZZ_CHECK(!part.header_ok && part.end == wal::Reader::End::kTruncated);
    return 0;
  }
  FUZZ_CHECK(part.header_ok);
  FUZZ_CHECK(part.payloads.size() <= full.payloads.size());
  for (size_t i = 0; i < part.payloads.size(); ++i) {
    FUZZ_CHECK(part.payloads[i] == full.payloads[i]);
    FUZZ_CHECK(part.offsets[i] == full.offsets[i]);
  }
  FUZZ_CHECK(part.good_end <= full.good_end);
  if (part.end != wal::Reader::End::kEof && part.end != wal::Reader::End::kTruncated) {
    // Damage inside the prefix is found at the same place either way.
    FUZZ_CHECK(part.end == full.end && part.good_end == full.good_end);
  }
  return 0;
}
