// Grammar of a reply record (docs/formats/cluster-bus.md, "Reply records"):
//
//   record := op*
//   op     := 'O' | 'N' | 'Z'
//           | ('S' | 'E' | 'B') len:varint32 byte[len]
//           | 'I' value:fixed64            -- two's complement, little-endian
//           | 'A' count:varint64
//
// The bytes come from the network: every length and count is checked against what is
// left before it is used (storage/wal/log_reader.cc is the model), and an array may
// not announce more elements than bytes follow (each element takes at least one), so
// a hostile count never reaches a builder or an allocation.

#include "cluster/reply_record.h"

#include <string>

#include "common/coding.h"

namespace memento::cluster {

namespace {

// Record op codes. DO NOT CHANGE: they travel between nodes (cluster-bus.md).
constexpr char kOpOk = 'O';
constexpr char kOpNull = 'N';
constexpr char kOpStatus = 'S';
constexpr char kOpError = 'E';
constexpr char kOpInteger = 'I';
constexpr char kOpBulk = 'B';
constexpr char kOpArray = 'A';
constexpr char kOpNullArray = 'Z';

constexpr int kMaxDecodeDepth = 8;

void PutVarint64(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>((v & 0x7fu) | 0x80u));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

bool GetVarint64(std::string_view* input, uint64_t* v) {
  uint64_t result = 0;
  for (size_t i = 0; i < 10 && i < input->size(); ++i) {
    const auto byte = static_cast<unsigned char>((*input)[i]);
    // The 10th byte may only hold the top bit of a 64-bit value.
    if (i == 9 && byte > 1) return false;
    result |= static_cast<uint64_t>(byte & 0x7fu) << (7 * i);
    if ((byte & 0x80u) == 0) {
      *v = result;
      input->remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

void PutOp(std::string* out, char op, std::string_view bytes) {
  out->push_back(op);
  PutLengthPrefixed(out, bytes);
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != s.npos; }

// Reads ops one at a time from a record, checking each.
class OpReader {
 public:
  explicit OpReader(std::string_view record) : all_(record), rest_(record) {}

  bool done() const { return rest_.empty(); }
  size_t offset() const { return all_.size() - rest_.size(); }
  size_t remaining() const { return rest_.size(); }

  // Reads one op into *value (elements not filled for kArray: *count says how many
  // follow). Returns Corruption naming the offset of the damaged op.
  Status Next(ReplyValue* value, uint64_t* count) {
    const size_t at = offset();
    const char op = rest_.front();
    rest_.remove_prefix(1);
    *count = 0;
    value->text.clear();
    value->elements.clear();
    value->integer = 0;
    switch (op) {
      case kOpOk:
        value->kind = ReplyValue::Kind::kOk;
        return Status::OK();
      case kOpNull:
        value->kind = ReplyValue::Kind::kNull;
        return Status::OK();
      case kOpNullArray:
        value->kind = ReplyValue::Kind::kNullArray;
        return Status::OK();
      case kOpStatus:
      case kOpError:
      case kOpBulk: {
        std::string_view bytes;
        if (!GetLengthPrefixed(&rest_, &bytes)) {
          return Damaged(at, "a length past the end of the record");
        }
        if (op != kOpBulk && HasLineBreak(bytes)) {
          return Damaged(at, op == kOpStatus ? "a status holding CR or LF"
                                             : "an error holding CR or LF");
        }
        value->kind = op == kOpStatus  ? ReplyValue::Kind::kStatus
                      : op == kOpError ? ReplyValue::Kind::kError
                                       : ReplyValue::Kind::kBulk;
        value->text.assign(bytes);
        return Status::OK();
      }
      case kOpInteger: {
        uint64_t raw = 0;
        if (!GetFixed64(&rest_, &raw)) return Damaged(at, "an integer cut short");
        value->kind = ReplyValue::Kind::kInteger;
        value->integer = static_cast<int64_t>(raw);
        return Status::OK();
      }
      case kOpArray: {
        if (!GetVarint64(&rest_, count)) return Damaged(at, "a bad array count");
        // Every element takes at least one byte.
        if (*count > rest_.size()) {
          return Damaged(at, "an array of " + std::to_string(*count) + " elements with " +
                                 std::to_string(rest_.size()) + " bytes left");
        }
        value->kind = ReplyValue::Kind::kArray;
        return Status::OK();
      }
      default: {
        char hex[8];
        std::snprintf(hex, sizeof(hex), "0x%02x", static_cast<unsigned char>(op));
        return Damaged(at, std::string("unknown op ") + hex);
      }
    }
  }

  Status Damaged(size_t at, std::string_view what) const {
    return Status::Corruption("reply record (" + std::to_string(all_.size()) +
                              " bytes) damaged at offset " + std::to_string(at) + ": " +
                              std::string(what));
  }

 private:
  std::string_view all_;
  std::string_view rest_;
};

void Emit(const ReplyValue& v, uint64_t count, proto::ReplyBuilder& builder) {
  switch (v.kind) {
    case ReplyValue::Kind::kOk:
      builder.Ok();
      break;
    case ReplyValue::Kind::kNull:
      builder.Null();
      break;
    case ReplyValue::Kind::kStatus:
      builder.Status(v.text);
      break;
    case ReplyValue::Kind::kError:
      builder.Error(v.text);
      break;
    case ReplyValue::Kind::kInteger:
      builder.Integer(v.integer);
      break;
    case ReplyValue::Kind::kBulk:
      builder.Bulk(v.text);
      break;
    case ReplyValue::Kind::kArray:
      builder.ArrayHeader(static_cast<size_t>(count));
      break;
    case ReplyValue::Kind::kNullArray:
      builder.NullArray();
      break;
  }
}

Status DecodeOne(OpReader& reader, int depth, ReplyValue* value) {
  if (reader.done()) return reader.Damaged(reader.offset(), "a reply cut short");
  const size_t at = reader.offset();
  uint64_t count = 0;
  MEMENTO_RETURN_IF_ERROR(reader.Next(value, &count));
  if (value->kind != ReplyValue::Kind::kArray) return Status::OK();
  if (depth >= kMaxDecodeDepth) {
    return reader.Damaged(at, "arrays nested deeper than " + std::to_string(kMaxDecodeDepth) +
                                  " levels");
  }
  value->elements.resize(static_cast<size_t>(count));  // count <= bytes left: bounded
  for (ReplyValue& element : value->elements) {
    MEMENTO_RETURN_IF_ERROR(DecodeOne(reader, depth + 1, &element));
  }
  return Status::OK();
}

}  // namespace

void RecordingReplyBuilder::Ok() { out_->push_back(kOpOk); }
void RecordingReplyBuilder::Null() { out_->push_back(kOpNull); }
void RecordingReplyBuilder::Status(std::string_view status) { PutOp(out_, kOpStatus, status); }
void RecordingReplyBuilder::Error(std::string_view message) { PutOp(out_, kOpError, message); }
void RecordingReplyBuilder::Integer(int64_t value) {
  out_->push_back(kOpInteger);
  PutFixed64(out_, static_cast<uint64_t>(value));
}
void RecordingReplyBuilder::Bulk(std::string_view value) { PutOp(out_, kOpBulk, value); }
void RecordingReplyBuilder::ArrayHeader(size_t count) {
  out_->push_back(kOpArray);
  PutVarint64(out_, count);
}
void RecordingReplyBuilder::NullArray() { out_->push_back(kOpNullArray); }

Status ReplayReply(std::string_view record, proto::ReplyBuilder& builder) {
  OpReader reader(record);
  // Elements announced by array headers and not yet replayed. Bounded by the record
  // size: each header's count was checked against the bytes left.
  uint64_t owed = 0;
  ReplyValue op;
  while (!reader.done()) {
    const size_t at = reader.offset();
    uint64_t count = 0;
    MEMENTO_RETURN_IF_ERROR(reader.Next(&op, &count));
    if (owed > 0) --owed;
    if (op.kind == ReplyValue::Kind::kArray) {
      owed += count;
      if (owed > reader.remaining()) {
        return reader.Damaged(at, "arrays announcing " + std::to_string(owed) +
                                      " more elements than the " +
                                      std::to_string(reader.remaining()) + " bytes left");
      }
    }
    Emit(op, count, builder);
  }
  if (owed > 0) {
    return reader.Damaged(reader.offset(),
                          "the record ends " + std::to_string(owed) + " array elements short");
  }
  return Status::OK();
}

Status DecodeReply(std::string_view record, ReplyValue* value) {
  OpReader reader(record);
  MEMENTO_RETURN_IF_ERROR(DecodeOne(reader, 0, value));
  if (!reader.done()) {
    return reader.Damaged(reader.offset(), "bytes after the end of the reply");
  }
  return Status::OK();
}

void EmitReply(const ReplyValue& value, proto::ReplyBuilder& builder) {
  if (value.kind == ReplyValue::Kind::kArray) {
    builder.ArrayHeader(value.elements.size());
    for (const ReplyValue& element : value.elements) EmitReply(element, builder);
    return;
  }
  Emit(value, 0, builder);
}

}  // namespace memento::cluster
