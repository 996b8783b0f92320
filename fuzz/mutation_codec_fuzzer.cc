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
#include <vector>

#include "fuzz/fuzz_util.h"
#include "storage/mutation.h"
#include "storage/wal/mutation_codec.h"

namespace memento::fuzz {
namespace {

bool Same(const storage::Mutation& a, const storage::Mutation& b) {
  return a.type == b.type && a.key == b.key && a.value == b.value &&
         a.created_ms == b.created_ms && a.expire_ms == b.expire_ms && a.number == b.number &&
         a.reason == b.reason;
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
    const bool has_bytes = m.type == MutationType::kPut || m.type == MutationType::kAppend ||
                           m.type == MutationType::kPrepend || m.type == MutationType::kSetRange;
    if (!has_bytes) FUZZ_CHECK(m.value.empty());
    if (m.type == MutationType::kSetRange) FUZZ_CHECK(m.number >= 0);
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
  f.type = static_cast<MutationType>(1 + in.Below(8));
  if (f.type != MutationType::kClear) f.key = in.Bytes(64);
  if (f.type == MutationType::kPut || f.type == MutationType::kAppend ||
      f.type == MutationType::kPrepend || f.type == MutationType::kSetRange) {
    f.value = in.Bytes(255);
  }
  if (f.type == MutationType::kPut) f.created_ms = static_cast<int64_t>(in.U64());
  if (f.type == MutationType::kPut || f.type == MutationType::kExpire) {
    f.expire_ms = static_cast<int64_t>(in.U64());
  }
  if (f.type == MutationType::kSetRange) f.number = static_cast<int64_t>(in.U64() >> 1);
  if (f.type == MutationType::kIncrBy) f.number = static_cast<int64_t>(in.U64());
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

  // 3. Version 2's records: the fields as a kChange (with a reason), and a unit of it
  // and the input's own mutation, decode back whole; every strict prefix of the unit
  // is refused with nothing decoded (all or nothing).
  f.reason = static_cast<storage::ChangeReason>(in.Below(storage::kMaxChangeReason + 1));
  std::string change;
  wal::EncodeChange(f, &change);
  FUZZ_CHECK(change.size() == wal::EncodedChangeSize(f));
  std::vector<Mutation> changes;
  FUZZ_CHECK(wal::DecodeRecordPayload(wal::RecordType::kChange, change, &changes).ok());
  FUZZ_CHECK(changes.size() == 1 && Same(f, changes[0]));
  std::vector<Mutation> unit = {f};
  if (s.ok()) unit.push_back(m);
  std::string unit_bytes;
  wal::EncodeUnit(unit, &unit_bytes);
  FUZZ_CHECK(unit_bytes.size() == wal::EncodedUnitSize(unit));
  FUZZ_CHECK(wal::DecodeRecordPayload(wal::RecordType::kUnit, unit_bytes, &changes).ok());
  FUZZ_CHECK(changes.size() == unit.size());
  for (size_t i = 0; i < unit.size(); ++i) FUZZ_CHECK(Same(unit[i], changes[i]));
  for (size_t n = 0; n < unit_bytes.size(); ++n) {
    const Status cut =
        wal::DecodeRecordPayload(wal::RecordType::kUnit, unit_bytes.substr(0, n), &changes);
    FUZZ_CHECK(!cut.ok() && changes.empty());
  }
  // The input itself as each record type's payload: decodes whole or not at all.
  for (const wal::RecordType type :
       {wal::RecordType::kMutation, wal::RecordType::kChange, wal::RecordType::kUnit}) {
    const Status r = wal::DecodeRecordPayload(type, input, &changes);
    FUZZ_CHECK(r.ok() ? !changes.empty() : (changes.empty() && r.IsCorruption()));
  }
  return 0;
}
