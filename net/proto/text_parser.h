// TextParser: incremental parser for Memento's text protocol (docs/protocol.md).
//
// A request is one line ending in "\r\n" or "\n". Tokens are split on runs of spaces
// and tabs. For SET, APPEND and PREPEND (command name matched case-insensitively; the
// rows of text_commands.h marked TextArgs::kRestOfLine) the third token is the rest of the line after the key: the separator run after the key
// is skipped and everything up to the line terminator is kept, inner and trailing
// spaces included. A bare "\r" before "\n" belongs to the terminator; a "\r" elsewhere
// is an ordinary byte.
//
// The parser works over a byte span owned by the caller (the connection's input
// buffer) and never copies: argument views point into that span.
//
// Thread-safety: an instance belongs to one connection; not thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace memento::proto {

enum class ParseStatus {
  kOk,        // one request parsed (possibly empty: a blank line gives argv.empty())
  kNeedMore,  // no complete line yet; call again with more bytes appended
  kError,     // the line exceeds the limit; reply with the error, then close
};

struct ParseResult {
  ParseStatus status = ParseStatus::kNeedMore;
  // Bytes of `input` the request took, terminator included (0 unless kOk).
  size_t consumed = 0;
  // For kError: what was wrong, e.g. "ERR line too long (over 65536 bytes)".
  std::string_view error;
};

class TextParser {
 public:
  // `max_line`: the longest line accepted, terminator excluded.
  explicit TextParser(size_t max_line);

  // Parses the first request at the front of `input`.
  // On kOk, *argv holds the tokens (views into `input`, valid while those bytes
  // are) and the result says how many bytes to drop from the front of the buffer.
  // The parser remembers how far it has scanned an incomplete line, so feeding a
  // long line in many small pieces costs linear time; after kOk the next call
  // starts afresh at the front of the (now shifted) input.
  // kError is returned as soon as more than max_line bytes are seen with no
  // terminator, without waiting for the rest of the line.
  ParseResult Parse(std::string_view input, std::vector<std::string_view>* argv);

 private:
  size_t max_line_;
  size_t scanned_ = 0;  // bytes of the pending line already searched for '\n'
  std::string error_;
};

}  // namespace memento::proto
