// Grammar of one request (RESP2, as Redis reads it):
//
//   request   := multibulk | inline
//   multibulk := "*" count CRLF bulk{count}      -- count <= 0: no bulks, empty argv
//   bulk      := "$" len CRLF byte{len} CRLF     -- binary-safe; CR, LF, NUL are data
//   count     := "-" number | number             -- number <= max_multibulk if positive
//   len       := number                          -- number <= max_bulk
//   number    := "0" | [1-9] [0-9]*              -- as Redis's string2ll: no sign, no
//                                                   leading zero, no spaces
//   inline    := line ("\r\n" | "\n")            -- first byte is not '*'
//   line      := up to max_inline bytes, split on runs of " " and "\t" (quotes are
//                bytes like any other: redis-cli-style quoting is not interpreted)
//
// A header line ("*" count or "$" len, CRLF excluded) holds at most kMaxHeaderLine
// bytes; a longer one is rejected as soon as it is seen, so a peer cannot make us
// buffer or scan an unbounded header.
//
// Error replies (each leads to closing the connection):
//   ERR Protocol error: too big inline request
//   ERR Protocol error: too big mbulk count string
//   ERR Protocol error: invalid multibulk length
//   ERR Protocol error: expected '$', got 'X'
//   ERR Protocol error: too big bulk count string
//   ERR Protocol error: invalid bulk length
//   ERR Protocol error: expected CRLF after bulk data
//   ERR Protocol error: unauthenticated multibulk length   (limits.unauthenticated)
//   ERR Protocol error: unauthenticated bulk length        (limits.unauthenticated)
// All but the last are Redis's own texts (networking.c); Redis skips the two bytes
// after a bulk without looking at them, we check them so that a length mismatch
// between client and server is reported instead of silently desynchronising.

#include "net/proto/resp_parser.h"

#include <cstdint>
#include <cstring>

namespace memento::proto {

namespace {

// Longest header line accepted, type byte included, CRLF excluded. A valid one needs at
// most 21 ("*" or "$" and the 20 characters of INT64_MIN); "$536870912" needs 10.
constexpr size_t kMaxHeaderLine = 32;

constexpr std::string_view kTooBigInline = "ERR Protocol error: too big inline request";
constexpr std::string_view kTooBigCount = "ERR Protocol error: too big mbulk count string";
constexpr std::string_view kInvalidCount = "ERR Protocol error: invalid multibulk length";
constexpr std::string_view kTooBigLen = "ERR Protocol error: too big bulk count string";
constexpr std::string_view kInvalidLen = "ERR Protocol error: invalid bulk length";
constexpr std::string_view kBadBulkEnd = "ERR Protocol error: expected CRLF after bulk data";
constexpr std::string_view kUnauthCount = "ERR Protocol error: unauthenticated multibulk length";
constexpr std::string_view kUnauthLen = "ERR Protocol error: unauthenticated bulk length";
// The byte that replaces the 'X' sits two bytes from the end.
constexpr std::string_view kExpectedDollar = "ERR Protocol error: expected '$', got ' '";

inline bool IsSeparator(char c) { return c == ' ' || c == '\t'; }

// Parses `text` as Redis's string2ll does: "-"? digits, no leading zero ("0" alone
// is fine, "-0" is not), nothing else, no overflow. Returns false if it is not one.
bool ParseInt64(std::string_view text, int64_t* value) {
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  if (text.empty()) return false;
  if (text.front() == '0') {
    if (text.size() != 1 || negative) return false;
    *value = 0;
    return true;
  }
  // Accumulate the magnitude unsigned so INT64_MIN's does not overflow.
  constexpr uint64_t kMaxMagnitude = uint64_t{1} << 63;  // |INT64_MIN|
  uint64_t magnitude = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (magnitude > (kMaxMagnitude - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
  }
  if (negative) {
    // -kMaxMagnitude is INT64_MIN; 0 - magnitude in uint64_t then cast is well defined
    // in C++20 (two's complement).
    *value = static_cast<int64_t>(0 - magnitude);
  } else {
    if (magnitude == kMaxMagnitude) return false;
    *value = static_cast<int64_t>(magnitude);
  }
  return true;
}

enum class HeaderStatus {
  kOk,        // *value and *next (first byte after the CRLF) are set
  kNeedMore,  // no CR yet, and the line is still short enough to be valid
  kTooLong,   // more than kMaxHeaderLine bytes and still no CR
  kInvalid,   // not a number, or CR not followed by LF
};

// Reads the header line starting at input[start] (its type byte, '*' or '$', is not
// checked here). Looks at kMaxHeaderLine + 2 bytes at most, so re-reading a partial
// header on every call costs O(1) and needs no saved scan position.
HeaderStatus ParseHeader(std::string_view input, size_t start, int64_t* value, size_t* next) {
  const size_t available = input.size() - start;
  const size_t window = available < kMaxHeaderLine + 1 ? available : kMaxHeaderLine + 1;
  const char* line = input.data() + start;
  const void* cr = std::memchr(line, '\r', window);
  if (cr == nullptr) {
    return available > kMaxHeaderLine ? HeaderStatus::kTooLong : HeaderStatus::kNeedMore;
  }
  const size_t cr_pos = static_cast<const char*>(cr) - line;
  if (cr_pos + 1 == available) return HeaderStatus::kNeedMore;
  if (line[cr_pos + 1] != '\n') return HeaderStatus::kInvalid;
  if (!ParseInt64(std::string_view(line + 1, cr_pos - 1), value)) return HeaderStatus::kInvalid;
  *next = start + cr_pos + 2;
  return HeaderStatus::kOk;
}

}  // namespace

RespParser::RespParser(RespLimits limits)
    : limits_(limits),
      // Built once here so that the error path of Parse() does not allocate.
      expected_dollar_error_(kExpectedDollar) {}

void RespParser::Reset() {
  state_ = State::kRequestStart;
  pos_ = 0;
  remaining_ = 0;
  bulk_len_ = 0;
  scanned_ = 0;
  elements_.clear();  // keeps the capacity for the next request
}

ParseResult RespParser::Fail(std::string_view message) {
  Reset();
  return ParseResult{ParseStatus::kError, 0, message};
}

size_t RespParser::MinBytesWanted() const {
  if (state_ != State::kBulkData) return 0;
  const size_t end = pos_ + bulk_len_ + 2;
  return end > seen_ ? end - seen_ : 0;
}

ParseResult RespParser::Parse(std::string_view input, std::vector<std::string_view>* argv) {
  argv->clear();  // keeps the capacity: the vector is reused request after request

  // The caller promised to only append between calls. If the buffer is shorter than
  // what we already parsed it broke that promise; start over rather than read past
  // its end (the saved offsets would point beyond it).
  if (input.size() < pos_ || (state_ == State::kInline && input.size() < scanned_)) Reset();
  seen_ = input.size();

  while (true) {
    switch (state_) {
      case State::kRequestStart: {
        if (input.empty()) return ParseResult{};
        if (input.front() != '*') {
          state_ = State::kInline;
          return ParseInline(input, argv);
        }
        int64_t count = 0;
        size_t next = 0;
        switch (ParseHeader(input, 0, &count, &next)) {
          case HeaderStatus::kNeedMore:
            return ParseResult{};
          case HeaderStatus::kTooLong:
            return Fail(kTooBigCount);
          case HeaderStatus::kInvalid:
            return Fail(kInvalidCount);
          case HeaderStatus::kOk:
            break;
        }
        // Any count <= 0 is an empty request, ignored without a reply, as Redis does
        // (redis-server 7.0 skips "*0", "*-1" and "*-10" alike).
        if (count > 0 && static_cast<uint64_t>(count) > limits_.max_multibulk) {
          return Fail(limits_.unauthenticated ? kUnauthCount : kInvalidCount);
        }
        if (count <= 0) {
          Reset();
          return ParseResult{ParseStatus::kOk, next, {}};
        }
        pos_ = next;
        remaining_ = static_cast<size_t>(count);
        state_ = State::kBulkHeader;
        break;
      }

      case State::kBulkHeader: {
        if (pos_ == input.size()) return ParseResult{};
        const char type = input[pos_];
        if (type != '$') {
          // A CR or LF in an error reply would end it early; Redis blanks them too.
          expected_dollar_error_[expected_dollar_error_.size() - 2] =
              (type == '\r' || type == '\n') ? ' ' : type;
          return Fail(expected_dollar_error_);
        }
        int64_t len = 0;
        size_t next = 0;
        switch (ParseHeader(input, pos_, &len, &next)) {
          case HeaderStatus::kNeedMore:
            return ParseResult{};
          case HeaderStatus::kTooLong:
            return Fail(kTooBigLen);
          case HeaderStatus::kInvalid:
            return Fail(kInvalidLen);
          case HeaderStatus::kOk:
            break;
        }
        if (len < 0) return Fail(kInvalidLen);
        if (static_cast<uint64_t>(len) > limits_.max_bulk) {
          return Fail(limits_.unauthenticated ? kUnauthLen : kInvalidLen);
        }
        pos_ = next;
        bulk_len_ = static_cast<size_t>(len);
        state_ = State::kBulkData;
        break;
      }

      case State::kBulkData: {
        // Nothing is copied or reserved: the bulk accumulates in the caller's buffer and
        // a partial one costs O(1) per call, however large it is.
        const size_t available = input.size() - pos_;
        if (available > bulk_len_ && input[pos_ + bulk_len_] != '\r') return Fail(kBadBulkEnd);
        if (available < bulk_len_ + 2) return ParseResult{};
        if (input[pos_ + bulk_len_ + 1] != '\n') return Fail(kBadBulkEnd);
        elements_.push_back(Element{pos_, bulk_len_});
        pos_ += bulk_len_ + 2;
        if (--remaining_ > 0) {
          state_ = State::kBulkHeader;
          break;
        }
        // Views are made only now, from offsets, because the caller's buffer may have
        // moved since earlier elements were parsed.
        argv->reserve(elements_.size());
        for (const Element& e : elements_) argv->push_back(input.substr(e.offset, e.size));
        const size_t consumed = pos_;
        Reset();
        return ParseResult{ParseStatus::kOk, consumed, {}};
      }

      case State::kInline:
        return ParseInline(input, argv);
    }
  }
}

ParseResult RespParser::ParseInline(std::string_view input, std::vector<std::string_view>* argv) {
  // The longest acceptable line is max_inline bytes, "\r", "\n": no need to look for
  // '\n' further than that. Saturate in case max_inline is near SIZE_MAX.
  const size_t max_line = limits_.max_inline;
  const size_t window_limit = max_line > SIZE_MAX - 2 ? SIZE_MAX : max_line + 2;
  const size_t window = input.size() < window_limit ? input.size() : window_limit;

  // Resume where the previous call stopped: those bytes held no '\n'.
  const void* newline = std::memchr(input.data() + scanned_, '\n', window - scanned_);
  if (newline == nullptr) {
    scanned_ = window;
    // With max_inline bytes and a trailing '\r' the line may still be exactly
    // max_inline long once its '\n' comes; anything longer can never fit.
    const bool may_fit =
        input.size() <= max_line || (input.size() == max_line + 1 && input[max_line] == '\r');
    if (may_fit) return ParseResult{};
    return Fail(kTooBigInline);
  }

  const size_t newline_pos = static_cast<const char*>(newline) - input.data();
  size_t line_len = newline_pos;
  if (line_len > 0 && input[line_len - 1] == '\r') --line_len;
  // Only reachable when a byte other than '\r' sits at max_inline and '\n' right after.
  if (line_len > max_line) return Fail(kTooBigInline);

  size_t i = 0;
  while (true) {
    while (i < line_len && IsSeparator(input[i])) ++i;
    if (i == line_len) break;
    const size_t start = i;
    while (i < line_len && !IsSeparator(input[i])) ++i;
    argv->push_back(input.substr(start, i - start));
  }
  Reset();
  return ParseResult{ParseStatus::kOk, newline_pos + 1, {}};
}

}  // namespace memento::proto
