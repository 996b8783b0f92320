// Fuzz target: wal::DecodeMutation (storage/wal/mutation_codec.h), the payload of
// every WAL record, read back at recovery.
//
// The whole input is one payload. Checked: a payload that decodes re-encodes to a
// mutation that decodes to the same fields, EncodedMutationSize agrees with
// EncodeMutation, the re-encoding is never longer than the input and is the input
// itself when it is as long (the canonical form is the shortest; overlong varints
// are accepted on read), and the views point into the input.
//
// Then the input is read the other way, as the fields of a mutation to encode
// (type, key, value, times); encoding then decoding must give them back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "storage/mutation.h"
#include "storage/wal/mutation_codec.h"

namespace memento::fuzz {
namespace {

bool Same(const storage::Mutation& a, const storage::Mutation& b) {
  return a.type == b.type && a.key == b.key && a.value == b.value &&
         a.created_ms == b.created_ms && a.expire_ms == b.expire_ms;
}

bool Inside(std::string_view view, std::string_view buf) {
  return view.empty() ||
         (view.data() >= buf.data() && view.data() + view.size() <= buf.data() + buf.size());
}

}  // namespace
}  // namespace memento::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memento;        // NOLINT
  using namespace memento::fuzz;  // NOLINT
  using storage::Mutation;
  using storage::MutationType;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // 1. The input as a payload.
  Mutation m;
  const Status s = wal::DecodeMutation(input, &m);
  if (s.ok()) {
    FUZZ_CHECK(Inside(m.key, input) && Inside(m.value, input));
    if (m.type != MutationType::kPut) FUZZ_CHECK(m.value.empty());
    if (m.type == MutationType::kClear) FUZZ_CHECK(m.key.empty() && input.size() == 1);
    std::string again;
    wal::EncodeMutation(m, &again);
    FUZZ_CHECK(again.size() == wal::EncodedMutationSize(m));
    FUZZ_CHECK(again.size() <= input.size());
    if (again.size() == input.size()) FUZZ_CHECK(again == input);
    Mutation m2;
    FUZZ_CHECK(wal::DecodeMutation(again, &m2).ok());
    FUZZ_CHECK(Same(m, m2));
  } else {
    FUZZ_CHECK(s.IsCorruption());
  }

  // 2. The input as fields to encode.
  FuzzInput in(data, size);
  Mutation f;
  f.type = static_cast<MutationType>(1 + in.Below(4));
  if (f.type != MutationType::kClear) f.key = in.Bytes(64);
  if (f.type == MutationType::kPut) {
    f.value = in.Bytes(255);
    f.created_ms = static_cast<int64_t>(in.U64());
  }
  if (f.type == MutationType::kPut || f.type == MutationType::kExpire) {
    f.expire_ms = static_cast<int64_t>(in.U64());
  }
  std::string encoded = "prefix";  // EncodeMutation appends
  wal::EncodeMutation(f, &encoded);
  const std::string_view payload = std::string_view(encoded).substr(6);
  FUZZ_CHECK(payload.size() == wal::EncodedMutationSize(f));
  Mutation back;
  FUZZ_CHECK(wal::DecodeMutation(payload, &back).ok());
  FUZZ_CHECK(Same(f, back));
  // Every strict prefix is refused (nothing is optional at the end).
  for (size_t n = 0; n < payload.size(); ++n) {
    FUZZ_CHECK(!wal::DecodeMutation(payload.substr(0, n), &back).ok());
  }
  return 0;
}
