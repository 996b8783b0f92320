// ReplyBuilder: how the command layer says what a reply is, independent of the wire.
//
// Commands are implemented once and describe their reply through this interface;
// each protocol has an encoder (TextReplyBuilder for Memento's text protocol, a RESP2
// one later) that turns the calls into bytes appended to a caller-owned buffer.
//
// Thread-safety: an instance belongs to one connection; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace memento::proto {

class ReplyBuilder {
 public:
  virtual ~ReplyBuilder() = default;

  // Success without data. Text: "OK". RESP: "+OK".
  virtual void Ok() = 0;
  // A miss: no such key, nothing done. Text: "(null)". RESP: "$-1".
  virtual void Null() = 0;
  // A one-line status such as "PONG". REQUIRES: no CR or LF in `status`.
  virtual void Status(std::string_view status) = 0;
  // An error. `message` starts with an upper-case code as Redis does
  // ("ERR value is not an integer or out of range"). Text: "(error) <message>".
  // REQUIRES: no CR or LF in `message`.
  virtual void Error(std::string_view message) = 0;
  // A signed integer. Text: its decimal digits. RESP: ":<n>".
  virtual void Integer(int64_t value) = 0;
  // A string value (binary-safe in RESP). Text: the bytes as they are.
  virtual void Bulk(std::string_view value) = 0;
  // Announces `count` elements, each sent by a following call. Text: a line holding
  // the decimal count. RESP: "*<count>".
  virtual void ArrayHeader(size_t count) = 0;
  // A missing array (e.g. a blocking pop that timed out). Text: "(null)".
  // RESP: "*-1".
  virtual void NullArray() = 0;
};

}  // namespace memento::proto
