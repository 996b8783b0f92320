// Incremental parsers for the replies memento-benchmark reads: RESP2 (Redis's
// protocol: + - : $ *) and Memento's text protocol (docs/protocol.md, "Replies").
//
// A parser works over the caller's receive buffer and never copies: it is given the
// unparsed bytes (the front of which is the start of the next reply) and either cuts
// one complete reply off the front (kOk: `consumed` bytes; the Reply's text is a view
// into the input, valid while those bytes are) or asks for more (kNeedMore). It
// remembers how far it scanned a partial reply, so a reply fed one byte at a time is
// parsed in linear time, provided the caller keeps the partial reply's bytes at the
// front of the input and only appends. kError means the bytes are not a reply of the
// protocol at all (the stream cannot be resynchronised): the caller closes the
// connection.
//
// Thread-safety: an instance belongs to one connection; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace memento::benchmark {

enum class Protocol { kText, kResp };

enum class ReplyType : uint8_t {
  kStatus,   // RESP "+OK": text is "OK"
  kError,    // RESP "-ERR x": text "ERR x"; text "(error) ERR x": text "ERR x";
             // text "(Unknown command)": text "Unknown command"
  kInteger,  // RESP ":5": text "5" (checked to be a decimal integer)
  kBulk,     // RESP "$3\r\nabc": text "abc"
  kNil,      // RESP "$-1" or "*-1"; text "(null)"
  kArray,    // RESP "*N": the whole array was consumed; text is empty, elements = N
  kLine,     // text protocol: any other line (OK, a GET value, a number); text is the
             // line without its "\r\n"
};

std::string_view ReplyTypeName(ReplyType type);

struct Reply {
  ReplyType type = ReplyType::kNil;
  std::string_view text;
  int64_t elements = 0;  // kArray only
};

enum class ParseStatus { kOk, kNeedMore, kError };

struct ParseResult {
  ParseStatus status = ParseStatus::kNeedMore;
  size_t consumed = 0;  // kOk: bytes of the reply, terminator included
  std::string error;    // kError: what was wrong and at which byte of the reply
};

class ReplyParser {
 public:
  virtual ~ReplyParser() = default;
  // Parses the reply at the front of `input` (see the file comment).
  virtual ParseResult Parse(std::string_view input, Reply* reply) = 0;

  // `max_reply`: the largest reply accepted (a longer one is kError, so a server that
  // sends endless bytes cannot make the benchmark buffer them all).
  static std::unique_ptr<ReplyParser> Create(Protocol protocol, size_t max_reply);
};

// RESP2 replies. Nested arrays are consumed whole (up to kMaxDepth levels); the
// benchmark never expects one, so only their element count is reported.
class RespReplyParser final : public ReplyParser {
 public:
  static constexpr size_t kMaxDepth = 32;
  explicit RespReplyParser(size_t max_reply) : max_reply_(max_reply) {}
  ParseResult Parse(std::string_view input, Reply* reply) override;

 private:
  ParseResult Fail(std::string message);
  void Reset();

  size_t max_reply_;
  size_t pos_ = 0;      // start of the element being parsed, from the reply's start
  size_t scanned_ = 0;  // bytes from pos_ already searched for '\n'
  bool in_bulk_ = false;
  size_t bulk_start_ = 0;  // where the pending bulk's data starts
  size_t bulk_len_ = 0;
  ReplyType top_type_ = ReplyType::kNil;  // a top-level array's type, once known
  int64_t top_elements_ = 0;
  std::vector<int64_t> remaining_;  // elements still to come, per open array
};

// Memento's text protocol. Every reply to SET and GET is one line ending in "\r\n":
// "(null)" is kNil, "(error) <msg>" and "(Unknown command)" are kError, any other
// line is kLine. A line ending in a bare "\n" is kError (not this protocol).
class TextReplyParser final : public ReplyParser {
 public:
  explicit TextReplyParser(size_t max_reply) : max_reply_(max_reply) {}
  ParseResult Parse(std::string_view input, Reply* reply) override;

 private:
  size_t max_reply_;
  size_t scanned_ = 0;  // bytes of the pending line already searched for '\n'
};

}  // namespace memento::benchmark
