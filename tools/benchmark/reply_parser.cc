// Grammar of what the two parsers accept:
//
//   RESP2:  reply   := '+' line | '-' line | ':' integer CRLF
//                    | '$' length CRLF (bytes[length] CRLF)?     ; length -1: nil
//                    | '*' count CRLF reply[count]               ; count -1: nil
//   text:   reply   := line                                     ; SET and GET only
//           line    := byte* CRLF                                ; no LF inside
#include "tools/benchmark/reply_parser.h"

#include <cassert>
#include <cstdio>

#include "common/numbers.h"

namespace memento::benchmark {

namespace {

// A printable rendering of up to 32 bytes, for error messages.
std::string Shown(std::string_view bytes) {
  std::string out;
  for (char c : bytes.substr(0, 32)) {
    if (c >= 0x20 && c < 0x7f) {
      out += c;
    } else {
      char hex[8];
      snprintf(hex, sizeof(hex), "\\x%02x", static_cast<unsigned char>(c));
      out += hex;
    }
  }
  if (bytes.size() > 32) out += "...";
  return out;
}

}  // namespace

std::string_view ReplyTypeName(ReplyType type) {
  switch (type) {
    case ReplyType::kStatus: return "status";
    case ReplyType::kError: return "error";
    case ReplyType::kInteger: return "integer";
    case ReplyType::kBulk: return "bulk";
    case ReplyType::kNil: return "nil";
    case ReplyType::kArray: return "array";
    case ReplyType::kLine: return "line";
  }
  return "?";
}

std::unique_ptr<ReplyParser> ReplyParser::Create(Protocol protocol, size_t max_reply) {
  if (protocol == Protocol::kResp) return std::make_unique<RespReplyParser>(max_reply);
  return std::make_unique<TextReplyParser>(max_reply);
}

// ---- RESP2 ---------------------------------------------------------------------------

void RespReplyParser::Reset() {
  pos_ = 0;
  scanned_ = 0;
  in_bulk_ = false;
  bulk_start_ = 0;
  bulk_len_ = 0;
  top_type_ = ReplyType::kNil;
  top_elements_ = 0;
  remaining_.clear();
}

ParseResult RespReplyParser::Fail(std::string message) {
  Reset();
  ParseResult result;
  result.status = ParseStatus::kError;
  result.error = std::move(message);
  return result;
}

ParseResult RespReplyParser::Parse(std::string_view input, Reply* reply) {
  // The caller drops bytes only after kOk, so a shorter input than last time means a
  // new stream: start over rather than read past its end.
  if (input.size() < pos_ + scanned_ || (in_bulk_ && input.size() < bulk_start_)) Reset();
  for (;;) {
    Reply element;
    size_t element_end = 0;
    if (in_bulk_) {
      const size_t need = bulk_start_ + bulk_len_ + 2;
      if (input.size() < need) return ParseResult{};
      if (input[need - 2] != '\r' || input[need - 1] != '\n') {
        return Fail("bulk string of " + std::to_string(bulk_len_) +
                    " bytes not followed by CRLF at byte " + std::to_string(need - 2) +
                    " of the reply");
      }
      element.type = ReplyType::kBulk;
      element.text = input.substr(bulk_start_, bulk_len_);
      element_end = need;
      in_bulk_ = false;
    } else {
      const size_t from = pos_ + scanned_;
      const size_t nl = input.find('\n', from);
      if (nl == std::string_view::npos) {
        scanned_ = input.size() - pos_;
        if (input.size() > max_reply_) {
          return Fail("reply longer than " + std::to_string(max_reply_) +
                      " bytes without a line end: " + Shown(input.substr(pos_)));
        }
        return ParseResult{};
      }
      scanned_ = 0;
      const std::string_view line = input.substr(pos_, nl - pos_);  // without '\n'
      if (line.empty() || line.back() != '\r') {
        return Fail("line not ended by CRLF at byte " + std::to_string(nl) +
                    " of the reply: '" + Shown(line) + "'");
      }
      const std::string_view body = line.substr(1, line.size() - 2);
      element_end = nl + 1;
      const char type = line[0];
      if (type == '+' || type == '-') {
        element.type = type == '+' ? ReplyType::kStatus : ReplyType::kError;
        element.text = body;
      } else if (type == ':') {
        int64_t value = 0;
        if (!ParseInt64(body, &value)) {
          return Fail("integer reply ':" + Shown(body) + "' is not a decimal integer");
        }
        element.type = ReplyType::kInteger;
        element.text = body;
      } else if (type == '$' || type == '*') {
        int64_t n = 0;
        if (!ParseInt64(body, &n) || n < -1) {
          return Fail(std::string(type == '$' ? "bulk length" : "array count") + " '" +
                      Shown(body) + "' is not -1 or a count");
        }
        if (n == -1) {
          element.type = ReplyType::kNil;
        } else if (type == '$') {
          if (static_cast<uint64_t>(n) > max_reply_) {
            return Fail("bulk length " + std::to_string(n) + " is over the limit of " +
                        std::to_string(max_reply_) + " bytes");
          }
          in_bulk_ = true;
          bulk_start_ = element_end;
          bulk_len_ = static_cast<size_t>(n);
          continue;
        } else if (n == 0) {
          element.type = ReplyType::kArray;
        } else {
          if (remaining_.size() >= kMaxDepth) {
            return Fail("arrays nested deeper than " + std::to_string(kMaxDepth));
          }
          if (remaining_.empty()) {
            top_type_ = ReplyType::kArray;
            top_elements_ = n;
          }
          remaining_.push_back(n);
          pos_ = element_end;
          continue;
        }
      } else {
        return Fail("unexpected byte '" + Shown(line.substr(0, 1)) +
                    "' at the start of a reply: '" + Shown(line) + "'");
      }
    }

    // One element is complete: a whole reply, or one more element of an open array.
    if (remaining_.empty()) {
      *reply = element;
      ParseResult result;
      result.status = ParseStatus::kOk;
      result.consumed = element_end;
      Reset();
      return result;
    }
    while (!remaining_.empty() && --remaining_.back() == 0) remaining_.pop_back();
    if (remaining_.empty()) {
      assert(top_type_ == ReplyType::kArray);
      reply->type = ReplyType::kArray;
      reply->text = {};
      reply->elements = top_elements_;
      ParseResult result;
      result.status = ParseStatus::kOk;
      result.consumed = element_end;
      Reset();
      return result;
    }
    if (element_end > max_reply_) {
      return Fail("array reply longer than " + std::to_string(max_reply_) + " bytes");
    }
    pos_ = element_end;
  }
}

// ---- text protocol -------------------------------------------------------------------

ParseResult TextReplyParser::Parse(std::string_view input, Reply* reply) {
  if (input.size() < scanned_) scanned_ = 0;  // a new stream (see RespReplyParser)
  const size_t nl = input.find('\n', scanned_);
  if (nl == std::string_view::npos) {
    scanned_ = input.size();
    if (input.size() > max_reply_) {
      scanned_ = 0;
      ParseResult result;
      result.status = ParseStatus::kError;
      result.error = "reply line longer than " + std::to_string(max_reply_) +
                     " bytes: '" + Shown(input) + "'";
      return result;
    }
    return ParseResult{};
  }
  scanned_ = 0;
  std::string_view line = input.substr(0, nl);
  if (line.empty() || line.back() != '\r') {
    ParseResult result;
    result.status = ParseStatus::kError;
    result.error = "reply line not ended by CRLF: '" + Shown(line) + "'";
    return result;
  }
  line.remove_suffix(1);
  constexpr std::string_view kErrorPrefix = "(error) ";
  if (line == "(null)") {
    reply->type = ReplyType::kNil;
    reply->text = {};
  } else if (line.substr(0, kErrorPrefix.size()) == kErrorPrefix) {
    reply->type = ReplyType::kError;
    reply->text = line.substr(kErrorPrefix.size());
  } else if (line == "(Unknown command)") {
    reply->type = ReplyType::kError;
    reply->text = line.substr(1, line.size() - 2);
  } else {
    reply->type = ReplyType::kLine;
    reply->text = line;
  }
  reply->elements = 0;
  ParseResult result;
  result.status = ParseStatus::kOk;
  result.consumed = nl + 1;
  return result;
}

}  // namespace memento::benchmark
