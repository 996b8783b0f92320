// Grammar of the replies this file writes (RESP2, as Redis writes them):
//
//   reply   := status | error | integer | bulk | null | array | null-array
//   status  := "+" line CRLF               -- Ok() is "+OK\r\n"
//   error   := "-" line CRLF               -- line starts with its code: "ERR ..."
//   integer := ":" "-"? digit+ CRLF        -- decimal, INT64_MIN..INT64_MAX
//   bulk    := "$" digit+ CRLF byte* CRLF  -- the digits count the bytes; binary-safe
//   null    := "$-1" CRLF                  -- the null bulk string
//   array   := "*" digit+ CRLF             -- that many replies follow
//   null-array := "*-1" CRLF
//   line    := bytes other than CR and LF
//
// Every method appends to *out_ only: no temporary strings, so the only allocations are
// the string's own geometric growth (amortised to nothing once the connection's output
// buffer has reached its working size).

#include "net/proto/resp_reply.h"

#include <cassert>
#include <charconv>
#include <limits>
#include <system_error>

namespace memento::proto {

namespace {

constexpr std::string_view kCrlf = "\r\n";

// Enough for "-9223372036854775808" and for SIZE_MAX (20 digits).
constexpr size_t kMaxDecimalDigits = 21;

// Only used by asserts, hence maybe_unused in NDEBUG builds.
[[maybe_unused]] bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != s.npos; }

// Appends `prefix`, the decimal digits of `value`, then CRLF.
template <typename Int>
void AppendPrefixedDecimal(char prefix, Int value, std::string* out) {
  // digits10 + 1 digits, plus a sign.
  static_assert(std::numeric_limits<Int>::digits10 + 2 <= kMaxDecimalDigits);
  char buf[1 + kMaxDecimalDigits + 2];
  buf[0] = prefix;
  const std::to_chars_result r = std::to_chars(buf + 1, buf + 1 + kMaxDecimalDigits, value);
  // Invariant: kMaxDecimalDigits holds any value of Int (static_assert above), so
  // to_chars cannot run out of room.
  assert(r.ec == std::errc());
  char* end = r.ptr;
  *end++ = '\r';
  *end++ = '\n';
  out->append(buf, end - buf);  // one append, one capacity check
}

}  // namespace

void RespReplyBuilder::Ok() { out_->append("+OK\r\n"); }

void RespReplyBuilder::Null() { out_->append("$-1\r\n"); }

void RespReplyBuilder::Status(std::string_view status) {
  // A line break would let the text end this reply early and forge another one.
  assert(!HasLineBreak(status));
  out_->push_back('+');
  out_->append(status);
  out_->append(kCrlf);
}

void RespReplyBuilder::Error(std::string_view message) {
  assert(!HasLineBreak(message));
  out_->push_back('-');
  out_->append(message);
  out_->append(kCrlf);
}

void RespReplyBuilder::Integer(int64_t value) { AppendPrefixedDecimal(':', value, out_); }

void RespReplyBuilder::Bulk(std::string_view value) {
  AppendPrefixedDecimal('$', value.size(), out_);
  out_->append(value);
  out_->append(kCrlf);
}

void RespReplyBuilder::ArrayHeader(size_t count) { AppendPrefixedDecimal('*', count, out_); }

void RespReplyBuilder::NullArray() { out_->append("*-1\r\n"); }

}  // namespace memento::proto
