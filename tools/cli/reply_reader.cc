// Grammar of what the reader accepts (docs/protocol.md):
//
//   RESP2:  reply  := '+' line | '-' line | ':' int CRLF | '$' len CRLF bytes CRLF
//                   | '$-1' CRLF | '*' count CRLF reply{count} | '*-1' CRLF
//   text:   line   := bytes CRLF          (a bare LF is part of the line)
//           block  := N CRLF line{N} | line          (N a decimal >= 0)
//           getp   := "key: " bytes CRLF line{3} | line

#include "tools/cli/reply_reader.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "common/numbers.h"

namespace memento::client {
namespace {

// Deeper nesting than any daemon reply has (SCAN's is 2): refuse it rather than
// recurse without bound on a hostile or broken peer.
constexpr size_t kMaxDepth = 64;
// A reply never announces more than this many elements up front to be reserved.
constexpr int64_t kMaxReserve = 1024;

std::optional<int64_t> ParseInteger(std::string_view text) {
  int64_t value = 0;
  if (!ParseInt64(text, &value)) return std::nullopt;
  return value;
}

}  // namespace

// The shapes are net/proto/text_commands.h's: the table the daemon's is checked
// against, so the CLI cannot drift from what the server sends.
TextShape TextShapeOf(std::string_view command) { return proto::TextReplyShapeOf(command); }

TextShape TextShapeOfRequest(const std::vector<std::string>& argv) {
  return proto::TextReplyShapeOf(argv[0], argv.size() >= 2 ? argv[1] : std::string_view());
}

bool TextReplyUnframable(const std::vector<std::string>& argv) {
  return TextShapeOfRequest(argv) == TextShape::kUnframable;
}

void ReplyReader::Feed(std::string_view bytes) {
  Compact();
  buf_.append(bytes);
}

void ReplyReader::Reset() {
  buf_.clear();
  pos_ = 0;
  scan_from_ = 0;
  stream_offset_ = 0;
  stack_.clear();
  text_ = Reply();
  text_remaining_ = -1;
}

void ReplyReader::Compact() {
  // Finished elements are copies, so dropping consumed bytes is always safe; doing
  // it only when they outweigh the rest keeps the cost linear.
  if (pos_ == 0 || pos_ < buf_.size() - pos_) return;
  buf_.erase(0, pos_);
  stream_offset_ += pos_;
  scan_from_ = scan_from_ > pos_ ? scan_from_ - pos_ : 0;
  pos_ = 0;
}

Status ReplyReader::Bad(std::string_view what) const {
  return Status::Corruption("bad RESP reply at byte " + std::to_string(stream_offset_ + pos_) +
                            " of the stream: " + std::string(what));
}

size_t ReplyReader::FindLineEnd(size_t from) {
  size_t at = std::max(from, scan_from_);
  while (at < buf_.size()) {
    const void* lf = memchr(buf_.data() + at, '\n', buf_.size() - at);
    if (lf == nullptr) break;
    const size_t nl = static_cast<size_t>(static_cast<const char*>(lf) - buf_.data());
    if (nl > from && buf_[nl - 1] == '\r') {
      scan_from_ = 0;
      return nl - 1;
    }
    at = nl + 1;
  }
  // Nothing up to the end; a '\r' as the last byte may still be completed.
  scan_from_ = buf_.empty() ? 0 : buf_.size() - 1;
  return std::string::npos;
}

Result<std::optional<Reply>> ReplyReader::Next(TextShape shape) {
  if (dialect_ == Dialect::kResp || shape == TextShape::kResp) return NextResp();
  return NextText(shape);
}

// ---------------------------------------------------------------------------------
// RESP2

ReplyReader::Step ReplyReader::ParseOne(Reply* out, int64_t* array_len, std::string* error) {
  if (pos_ >= buf_.size()) return Step::kNeedMore;
  const size_t end = FindLineEnd(pos_ + 1);
  if (end == std::string::npos) return Step::kNeedMore;
  const char type = buf_[pos_];
  const std::string_view line(buf_.data() + pos_ + 1, end - pos_ - 1);
  const size_t after_line = end + 2;
  switch (type) {
    case '+':
      *out = Reply::Status(line);
      pos_ = after_line;
      return Step::kValue;
    case '-':
      *out = Reply::Error(line);
      pos_ = after_line;
      return Step::kValue;
    case ':': {
      std::optional<int64_t> n = ParseInteger(line);
      if (!n) {
        *error = "integer reply ':" + std::string(line.substr(0, 32)) + "' is not a 64-bit integer";
        return Step::kBad;
      }
      *out = Reply::Integer(*n);
      pos_ = after_line;
      return Step::kValue;
    }
    case '$': {
      std::optional<int64_t> len = ParseInteger(line);
      if (!len || *len < -1) {
        *error = "bulk length '" + std::string(line.substr(0, 32)) + "' is not -1 or a length";
        return Step::kBad;
      }
      if (*len == -1) {
        *out = Reply();
        out->type = Reply::Type::kNil;
        pos_ = after_line;
        return Step::kValue;
      }
      const auto n = static_cast<uint64_t>(*len);
      if (buf_.size() - after_line < n + 2) return Step::kNeedMore;
      if (buf_[after_line + n] != '\r' || buf_[after_line + n + 1] != '\n') {
        *error = "bulk of " + std::to_string(n) + " bytes is not followed by CRLF";
        return Step::kBad;
      }
      *out = Reply::Bulk(std::string_view(buf_.data() + after_line, n));
      pos_ = after_line + n + 2;
      scan_from_ = 0;
      return Step::kValue;
    }
    case '*': {
      std::optional<int64_t> count = ParseInteger(line);
      if (!count || *count < -1) {
        *error = "array length '" + std::string(line.substr(0, 32)) + "' is not -1 or a count";
        return Step::kBad;
      }
      pos_ = after_line;
      if (*count == -1) {
        *out = Reply();
        out->type = Reply::Type::kNilArray;
        return Step::kValue;
      }
      if (*count == 0) {
        *out = Reply::Array({});
        return Step::kValue;
      }
      *array_len = *count;
      return Step::kArrayStart;
    }
    default: {
      char hex[8];
      snprintf(hex, sizeof(hex), "0x%02x", static_cast<unsigned char>(type));
      *error = std::string("unknown type byte ") + hex + " (expected one of + - : $ *)";
      return Step::kBad;
    }
  }
}

Result<std::optional<Reply>> ReplyReader::NextResp() {
  for (;;) {
    Reply value;
    int64_t array_len = 0;
    std::string error;
    switch (ParseOne(&value, &array_len, &error)) {
      case Step::kNeedMore:
        return std::optional<Reply>();
      case Step::kBad:
        return Bad(error);
      case Step::kArrayStart: {
        if (stack_.size() >= kMaxDepth) return Bad("arrays nested more than 64 deep");
        Frame frame{Reply::Array({}), array_len};
        frame.array.elements.reserve(static_cast<size_t>(std::min(array_len, kMaxReserve)));
        stack_.push_back(std::move(frame));
        continue;
      }
      case Step::kValue:
        break;
    }
    // Hand the finished value to the arrays it completes, innermost first.
    while (!stack_.empty()) {
      Frame& top = stack_.back();
      top.array.elements.push_back(std::move(value));
      if (--top.remaining > 0) break;
      value = std::move(top.array);
      stack_.pop_back();
    }
    if (stack_.empty()) return std::optional<Reply>(std::move(value));
  }
}

// ---------------------------------------------------------------------------------
// Text protocol

Result<std::optional<Reply>> ReplyReader::NextText(TextShape shape) {
  for (;;) {
    const size_t end = FindLineEnd(pos_);
    if (end == std::string::npos) return std::optional<Reply>();
    std::string line(buf_.data() + pos_, end - pos_);
    pos_ = end + 2;
    if (text_remaining_ < 0) {
      // The first line decides how many follow.
      text_remaining_ = 0;
      if (shape == TextShape::kBlock || shape == TextShape::kFeed) {
        std::optional<int64_t> n = ParseInteger(line);
        if (n && *n >= 0) text_remaining_ = *n;
      } else if (shape == TextShape::kGetp && line.starts_with("key: ")) {
        text_remaining_ = 3;
      }
      text_.type = Reply::Type::kText;
      text_.lines.reserve(static_cast<size_t>(std::min(text_remaining_ + 1, kMaxReserve)));
    } else {
      text_remaining_--;
    }
    text_.lines.push_back(std::move(line));
    if (text_remaining_ == 0) {
      Reply done = std::move(text_);
      text_ = Reply();
      text_remaining_ = -1;
      return std::optional<Reply>(std::move(done));
    }
  }
}

}  // namespace memento::client
