// RespParser: incremental parser for RESP2 requests (Redis's protocol).
//
// A request is a multibulk: "*<count>\r\n" then <count> bulk strings
// "$<len>\r\n<len bytes>\r\n". A request that does not start with '*' is an inline
// command, as Redis accepts: one line split on spaces/tabs (used by `redis-cli` only
// when typing by hand; e.g. "PING\r\n").
//
// Lengths are never trusted: the parser allocates nothing and reserves nothing on a
// header's say-so; the caller's buffer holds only bytes actually received. Counts and
// lengths are checked against Limits and a violation is a protocol error (the caller
// replies "-ERR Protocol error: ..." and closes the connection, as Redis does).
//
// The parser keeps its progress through a partially received request (which
// elements are complete, as offsets from the request's first byte), so a request fed
// in many pieces is parsed in linear time overall, provided the caller keeps the
// request's bytes at the front of `input` between calls (appending new bytes only).
//
// Thread-safety: an instance belongs to one connection; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/proto/text_parser.h"  // ParseStatus, ParseResult

namespace memento::proto {

struct RespLimits {
  size_t max_bulk = 512u * 1024 * 1024;  // proto-max-bulk-len, as Redis
  size_t max_multibulk = 1024 * 1024;    // elements in one request, as Redis
  size_t max_inline = 64 * 1024;         // an inline request line, as Redis
  // The limits are the pre-AUTH ones (net::ServerOptions::preauth_*): a count or a
  // length over them is refused with Redis's "unauthenticated multibulk length" /
  // "unauthenticated bulk length" wording, so the client learns that AUTH comes first.
  bool unauthenticated = false;
};

class RespParser {
 public:
  explicit RespParser(RespLimits limits = RespLimits());

  // Parses the first request at the front of `input`. Same contract as
  // TextParser::Parse: kOk fills *argv (views into `input`) and `consumed`;
  // kNeedMore asks for more bytes; kError carries the message to reply with
  // (e.g. "ERR Protocol error: invalid bulk length"), after which the connection
  // must be closed. An empty multibulk (any count <= 0: "*0\r\n", "*-1\r\n",
  // "*-10\r\n") or a blank inline line gives kOk with an empty argv (no reply, as
  // Redis).
  ParseResult Parse(std::string_view input, std::vector<std::string_view>* argv);

  // Bytes the pending request still needs at least (0 if unknown): lets a caller
  // size reads for a large bulk it has begun to receive. Never more than the bytes
  // of the bulk being received plus its terminator.
  size_t MinBytesWanted() const;

 private:
  // Where the pending request's parse stands. Offsets are from the request's first
  // byte (the front of `input`), never pointers: the caller's buffer may move between
  // calls as it grows.
  enum class State {
    kRequestStart,  // nothing parsed yet; the first byte picks multibulk or inline
    kBulkHeader,    // expecting "$<len>\r\n" at pos_
    kBulkData,      // expecting bulk_len_ bytes and "\r\n" at pos_
    kInline,        // an inline line; its first scanned_ bytes hold no '\n'
  };

  // A complete bulk string of the pending request: input.substr(offset, size).
  struct Element {
    size_t offset;
    size_t size;
  };

  ParseResult ParseInline(std::string_view input, std::vector<std::string_view>* argv);
  // Forgets the pending request (after kOk or kError, or if the input shrank).
  void Reset();
  // Resets and returns kError with `message`.
  ParseResult Fail(std::string_view message);

  RespLimits limits_;
  State state_ = State::kRequestStart;
  size_t pos_ = 0;        // next byte to parse, from the request's start
  size_t remaining_ = 0;  // elements still to come (kBulkHeader, kBulkData)
  size_t bulk_len_ = 0;   // length of the bulk being received (kBulkData)
  size_t scanned_ = 0;    // kInline: bytes of the line already searched for '\n'
  size_t seen_ = 0;       // input.size() at the last call, for MinBytesWanted()
  // Elements complete so far. Grows only as elements actually arrive (never reserved
  // from the declared count) and keeps its capacity from request to request.
  std::vector<Element> elements_;
  // "ERR Protocol error: expected '$', got 'X'", built once; Parse() rewrites the X.
  // The kError result's `error` views it, so stays valid until the next Parse() call
  // (the other messages are static).
  std::string expected_dollar_error_;
};

}  // namespace memento::proto
