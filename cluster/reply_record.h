// A reply captured as data: the proto::ReplyBuilder calls a command made, serialised,
// so that a node can execute a request forwarded by a peer and send back exactly the
// reply the command described, and the forwarding node can replay it into its client's
// own encoder (text or RESP), or merge several (multi-key commands split by owner).
//
//   record := op*
//   op     := 'O'                           Ok()
//           | 'N'                           Null()
//           | 'S' varint32 len, bytes       Status(bytes)
//           | 'E' varint32 len, bytes       Error(bytes)
//           | 'I' fixed64 (two's complement)  Integer(v)
//           | 'B' varint32 len, bytes       Bulk(bytes)
//           | 'A' varint64 count            ArrayHeader(count)
//           | 'Z'                           NullArray()
// (docs/formats/cluster-bus.md; varints and fixed64 as common/coding.h)
//
// Thread-safety: a RecordingReplyBuilder belongs to one thread; the functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "net/proto/reply_builder.h"

namespace memento::cluster {

// Appends each call, encoded as above, to *out ("*out" must outlive the builder).
class RecordingReplyBuilder final : public proto::ReplyBuilder {
 public:
  explicit RecordingReplyBuilder(std::string* out) : out_(out) {}
  void Ok() override;
  void Null() override;
  void Status(std::string_view status) override;
  void Error(std::string_view message) override;
  void Integer(int64_t value) override;
  void Bulk(std::string_view value) override;
  void ArrayHeader(size_t count) override;
  void NullArray() override;

 private:
  std::string* out_;
};

// Replays `record` into `builder`. Returns Corruption (naming the offset) for an
// unknown op, a length past the end, a Status/Error holding CR or LF, or an array
// announcing more elements than follow (nothing is trusted); the calls made before
// the damage have been made. Used on bytes from the network: never crashes.
Status ReplayReply(std::string_view record, proto::ReplyBuilder& builder);

// A decoded reply value, for merging replies of several nodes (MGET, DEL, KEYS...).
struct ReplyValue {
  enum class Kind : uint8_t { kOk, kNull, kStatus, kError, kInteger, kBulk, kArray, kNullArray };
  Kind kind = Kind::kNull;
  int64_t integer = 0;
  std::string text;                 // kStatus, kError, kBulk
  std::vector<ReplyValue> elements;  // kArray
};

// Decodes exactly one complete reply (a value, arrays nested) from the whole `record`.
// Corruption if it is damaged, holds less, or more than one reply. Nesting deeper than
// 8 levels is refused.
Status DecodeReply(std::string_view record, ReplyValue* value);
// Emits `value` through `builder`.
void EmitReply(const ReplyValue& value, proto::ReplyBuilder& builder);

}  // namespace memento::cluster
