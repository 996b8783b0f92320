// Fuzz target: snapshot::ZstdDecompressor (storage/snapshot/zstd_codec.h) on fuzzed
// frames, and the compressor/decompressor round trip.
//
// Input layout:
//   bytes 0-2  raw_len, the length the record claims (little-endian, 0 to 16 MiB)
//   byte 3     bit 0: also compress the frame bytes and decompress them back
//   rest       the zstd frame
//
// Checked: Decompress either returns exactly raw_len bytes or a Corruption (never
// another code, never a crash, never more memory than raw_len asks for); a value that
// decompressed compresses and decompresses back to itself; any bytes survive a
// compress/decompress round trip, and decompressing with a wrong length fails.
// Frames come from fuzz/corpus/zstd_codec/ (real frames written by ZstdCompressor).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "storage/snapshot/zstd_codec.h"

namespace {

memento::snapshot::ZstdDecompressor* Decompressor() {
  static memento::snapshot::ZstdDecompressor* const d =
      memento::snapshot::ZstdDecompressor::Create().value().release();
  return d;
}

memento::snapshot::ZstdCompressor* Compressor() {
  // Level 1: the daemon's default level is low too, and it keeps the fuzzer fast.
  static memento::snapshot::ZstdCompressor* const c =
      memento::snapshot::ZstdCompressor::Create(1).value().release();
  return c;
}

// Compresses then decompresses `value` and checks it comes back.
void RoundTrip(std::string_view value) {
  using namespace memento;  // NOLINT
  Result<std::string_view> frame = Compressor()->Compress(value);
  FUZZ_CHECK(frame.ok());
  const std::string copy(*frame);  // the view dies with the next Compress
  Result<std::string_view> back = Decompressor()->Decompress(copy, value.size());
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(*back == value);
  Result<std::string_view> wrong = Decompressor()->Decompress(copy, value.size() + 1);
  FUZZ_CHECK(!wrong.ok() && wrong.status().IsCorruption());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memento;  // NOLINT
  fuzz::FuzzInput in(data, size);
  const size_t raw_len = (in.Byte() | (in.Byte() << 8) | (in.Byte() << 16)) & ((1 << 24) - 1);
  const bool round_trip = in.Bool();
  const std::string frame(in.Rest());

  Result<std::string_view> value = Decompressor()->Decompress(frame, raw_len);
  if (value.ok()) {
    FUZZ_CHECK(value->size() == raw_len);
    const std::string copy(*value);
    RoundTrip(copy);
  } else {
    FUZZ_CHECK(value.status().IsCorruption());
  }
  if (round_trip) RoundTrip(frame);
  return 0;
}
