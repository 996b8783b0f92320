// Fuzz target: snapshot::DecodeRecord (storage/snapshot/record_codec.h), the value
// record read back from the LMDB snapshot, followed (for a compressed record) by the
// zstd decompression that SnapshotStore::Load does with it.
//
// The whole input is one record. Checked: a record that decodes re-encodes to exactly
// the input bytes (the format has one spelling per record: fixed-width fields, no
// padding, reserved flag bits refused), EncodedRecordSize agrees, the views lie inside
// the input, and the sanity limits hold. Every error is a Corruption naming an offset.
// A compressed payload is handed to ZstdDecompressor::Decompress with the record's
// raw_len; a frame that decompresses must give exactly raw_len bytes.
//
// raw_len is capped at kMaxFuzzRawLen before decompressing: the decompressor sizes its
// buffer from raw_len (up to 512 MiB by design), which would only slow the fuzzer
// down without reaching new code.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "storage/snapshot/record_codec.h"
#include "storage/snapshot/snapshot_format.h"
#include "storage/snapshot/zstd_codec.h"

namespace {

constexpr size_t kMaxFuzzRawLen = 1 << 20;

memento::snapshot::ZstdDecompressor* Decompressor() {
  static memento::snapshot::ZstdDecompressor* const d =
      memento::snapshot::ZstdDecompressor::Create().value().release();
  return d;
}

bool Inside(std::string_view view, std::string_view buf) {
  return view.empty() ||
         (view.data() >= buf.data() && view.data() + view.size() <= buf.data() + buf.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memento;  // NOLINT
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Result<snapshot::RecordView> decoded = snapshot::DecodeRecord(input);
  if (!decoded.ok()) {
    FUZZ_CHECK(decoded.status().IsCorruption());
    FUZZ_CHECK(decoded.status().message().substr(0, 7) == "offset ");
    return 0;
  }
  const snapshot::RecordView& r = *decoded;
  FUZZ_CHECK(Inside(r.full_key, input) && Inside(r.payload, input));
  FUZZ_CHECK(r.has_full_key || r.full_key.empty());
  FUZZ_CHECK(r.compressed || r.raw_len == 0);
  FUZZ_CHECK(r.full_key.size() <= snapshot::kMaxKeySize);
  FUZZ_CHECK(r.raw_len <= snapshot::kMaxValueSize);
  FUZZ_CHECK(snapshot::EncodedRecordSize(r) == input.size());
  std::string again(input.size(), '\0');
  snapshot::EncodeRecord(r, again.data());
  FUZZ_CHECK(again == input);

  // PatchRecordExpiry changes exactly the expiry.
  std::string patched(input);
  snapshot::PatchRecordExpiry(&patched, r.expire_ms == -1 ? 12345 : -1);
  Result<snapshot::RecordView> p = snapshot::DecodeRecord(patched);
  FUZZ_CHECK(p.ok() && p->expire_ms == (r.expire_ms == -1 ? 12345 : -1));
  FUZZ_CHECK(p->created_ms == r.created_ms && p->payload == r.payload);

  if (r.compressed && r.raw_len <= kMaxFuzzRawLen) {
    Result<std::string_view> value = Decompressor()->Decompress(r.payload, r.raw_len);
    if (value.ok()) {
      FUZZ_CHECK(value->size() == r.raw_len);
    } else {
      FUZZ_CHECK(value.status().IsCorruption());
    }
  }
  (void)snapshot::DescribeKey(r.full_key);
  return 0;
}
