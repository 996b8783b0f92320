// Grammar of the replies this file writes (docs/protocol.md):
//
//   reply   := line "\r\n"
//   line    := "OK" | "(null)" | status | "(error) " message | integer | bulk | count
//   integer := "-"? digit+            -- decimal, INT64_MIN..INT64_MAX
//   count   := digit+                 -- an array header; `count` reply lines follow
//
// Every method appends to *out_ only: no temporary strings, so the only allocations are
// the string's own geometric growth (amortised to nothing once the connection's output
// buffer has reached its working size).

#include "net/proto/text_reply.h"

#include <cassert>
#include <charconv>
#include <limits>
#include <system_error>

namespace memento::proto {

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kErrorPrefix = "(error) ";

// Enough for "-9223372036854775808" and for SIZE_MAX (20 digits).
constexpr size_t kMaxDecimalDigits = 21;

// Only used by asserts, hence maybe_unused in NDEBUG builds.
[[maybe_unused]] bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != s.npos; }

template <typename Int>
void AppendDecimalLine(Int value, std::string* out) {
  // digits10 + 1 digits, plus a sign.
  static_assert(std::numeric_limits<Int>::digits10 + 2 <= kMaxDecimalDigits);
  char buf[kMaxDecimalDigits];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), value);
  // Invariant: buf holds any value of Int (static_assert above), so to_chars cannot
  // run out of room.
  assert(r.ec == std::errc());
  out->append(buf, r.ptr - buf);
  out->append(kCrlf);
}

}  // namespace

void TextReplyBuilder::Ok() { out_->append("OK\r\n"); }

void TextReplyBuilder::Null() { out_->append("(null)\r\n"); }

void TextReplyBuilder::Status(std::string_view status) {
  // A line break would let the text end this reply early and forge another one.
  assert(!HasLineBreak(status));
  out_->append(status);
  out_->append(kCrlf);
}

void TextReplyBuilder::Error(std::string_view message) {
  assert(!HasLineBreak(message));
  out_->append(kErrorPrefix);
  out_->append(message);
  out_->append(kCrlf);
}

void TextReplyBuilder::Integer(int64_t value) { AppendDecimalLine(value, out_); }

void TextReplyBuilder::Bulk(std::string_view value) {
  out_->append(value);
  out_->append(kCrlf);
}

void TextReplyBuilder::ArrayHeader(size_t count) { AppendDecimalLine(count, out_); }

}  // namespace memento::proto
