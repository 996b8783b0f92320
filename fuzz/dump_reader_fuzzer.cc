// Fuzz target: dump::DumpReader (storage/dump/dump_reader.h) over one fuzzed dump file,
// in memory.
//
// Input layout:
//   byte 0   bit 0: the source reports its size (a file) or not (a pipe)
//            bit 1: repair the checksums (header, every block, trailer) before reading,
//                   so that mutations reach the record parser and the trailer checks
//   rest     the dump file
//
// Checked: the reader never crashes, hangs or allocates more than the options allow;
// every error is a Corruption or NotSupported naming the file, or "byte offset"; a
// reader that says the dump is complete agrees with its trailer; the records of a
// complete dump, written again with DumpWriter, read back identical; and the same
// bytes read with and without a known size give the same records and the same
// verdict.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/coding.h"
#include "common/crc32c.h"
#include "fuzz/fuzz_util.h"
#include "storage/dump/dump_format.h"
#include "storage/dump/dump_io.h"
#include "storage/dump/dump_reader.h"
#include "storage/dump/dump_writer.h"

namespace memento::fuzz {
namespace {

// Small enough for libFuzzer's memory limit, large enough for the seeds.
constexpr uint64_t kMaxBlockRaw = 4u << 20;

struct Rec {
  std::string key;
  std::string value;
  int64_t created_ms;
  int64_t expire_ms;
  bool operator==(const Rec&) const = default;
};

struct Outcome {
  bool complete = false;
  bool header_ok = false;
  dump::DumpHeader header;
  dump::DumpTrailer trailer;
  std::vector<Rec> records;
};

Outcome Read(std::string_view bytes, bool known_size) {
  Outcome out;
  dump::StringSource source(bytes, known_size);
  dump::ReaderOptions options;
  options.max_block_raw_size = kMaxBlockRaw;
  auto reader = dump::DumpReader::Open(&source, "fuzz.mdump", options);
  if (!reader.ok()) {
    const Status& s = reader.status();
    FUZZ_CHECK(s.IsCorruption() || s.code() == Status::Code::kNotSupported);
    FUZZ_CHECK(s.ToString().find("dump fuzz.mdump") != std::string::npos);
    return out;
  }
  out.header_ok = true;
  out.header = (*reader)->header();
  dump::DumpRecord rec;
  while (true) {
    Result<bool> more = (*reader)->Next(&rec);
    if (!more.ok()) {
      FUZZ_CHECK(more.status().IsCorruption());
      FUZZ_CHECK(more.status().ToString().find("byte offset") != std::string::npos);
      FUZZ_CHECK(!(*reader)->Next(&rec).ok());  // stays failed
      return out;
    }
    if (!*more) break;
    FUZZ_CHECK(rec.key.size() <= dump::kMaxKeySize && rec.value.size() <= dump::kMaxValueSize);
    FUZZ_CHECK(rec.expire_ms >= dump::kNoExpiry);
    out.records.push_back(
        {std::string(rec.key), std::string(rec.value), rec.created_ms, rec.expire_ms});
  }
  out.complete = true;
  out.trailer = (*reader)->trailer();
  FUZZ_CHECK(out.trailer.records == out.records.size());
  FUZZ_CHECK((*reader)->offset() == bytes.size());
  Result<bool> again = (*reader)->Next(&rec);
  FUZZ_CHECK(again.ok() && !*again);  // stays at the end
  return out;
}

// Recomputes the header, block and trailer checksums in place, walking the sections
// as far as their lengths allow.
void RepairChecksums(std::string* b) {
  if (b->size() < dump::kHeaderFixedSize) return;
  const uint64_t body_len = DecodeFixed32(b->data() + 16);
  size_t pos = dump::kHeaderFixedSize + body_len;
  if (body_len > dump::kMaxHeaderBodySize || pos + 4 > b->size()) return;
  EncodeFixed32(b->data() + pos, crc32c::Mask(crc32c::Value(b->data(), pos)));
  pos += 4;
  while (pos < b->size()) {
    const char tag = (*b)[pos];
    if (tag == dump::kBlockTag) {
      if (pos + dump::kBlockHeaderSize > b->size()) return;
      const uint64_t zlen = DecodeFixed32(b->data() + pos + 5);
      if (zlen > b->size() - pos - dump::kBlockHeaderSize) return;
      uint32_t crc = crc32c::Value(b->data() + pos + 1, 12);
      crc = crc32c::Extend(crc, b->data() + pos + dump::kBlockHeaderSize, zlen);
      EncodeFixed32(b->data() + pos + 13, crc32c::Mask(crc));
      pos += dump::kBlockHeaderSize + zlen;
    } else if (tag == dump::kTrailerTag) {
      if (pos + dump::kTrailerSize > b->size()) return;
      EncodeFixed32(b->data() + pos + 29, crc32c::Mask(crc32c::Value(b->data() + pos, 29)));
      return;
    } else {
      return;
    }
  }
}

}  // namespace
}  // namespace memento::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memento;        // NOLINT
  using namespace memento::fuzz;  // NOLINT
  FuzzInput in(data, size);
  const uint8_t mode = in.Byte();
  std::string file(in.Rest());
  if ((mode & 2) != 0) RepairChecksums(&file);

  const Outcome known = Read(file, /*known_size=*/true);
  const Outcome piped = Read(file, /*known_size=*/false);
  FUZZ_CHECK(known.complete == piped.complete);
  FUZZ_CHECK(known.header_ok == piped.header_ok);
  // A reader may stop a little earlier when it knows the size (a length past the end
  // is refused before reading), never later, and never with other records.
  FUZZ_CHECK(known.records.size() <= piped.records.size());
  for (size_t i = 0; i < known.records.size(); ++i)
    FUZZ_CHECK(known.records[i] == piped.records[i]);
  if (!known.complete) return 0;
  FUZZ_CHECK(known.records == piped.records);

  // A complete dump, written again, reads back the same.
  dump::StringSink sink;
  dump::DumpHeader header = known.header;
  auto writer = dump::DumpWriter::Create(&sink, header);
  FUZZ_CHECK(writer.ok());
  for (const Rec& r : known.records) {
    FUZZ_CHECK((*writer)->Add(r.key, r.value, r.created_ms, r.expire_ms).ok());
  }
  dump::DumpTrailer trailer;
  FUZZ_CHECK((*writer)->Finish(&trailer).ok());
  FUZZ_CHECK(trailer.records == known.trailer.records);
  FUZZ_CHECK(trailer.data_bytes == known.trailer.data_bytes);
  const Outcome again = Read(sink.contents(), true);
  FUZZ_CHECK(again.complete);
  FUZZ_CHECK(again.records == known.records);
  FUZZ_CHECK(again.header.node == header.node && again.header.data_lsn == header.data_lsn &&
             again.header.created_ms == header.created_ms);
  return 0;
}
