// Reply: one whole reply of the Memento daemon, in either of its protocols
// (docs/protocol.md). A plain value type; ReplyReader builds them, the CLI prints them.
//
// Thread-safety: a value type; a const Reply may be read from several threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace memento::client {

// The protocol a connection speaks, fixed when it is opened: the daemon picks RESP2
// for a connection whose first byte is '*', the text protocol otherwise.
enum class Dialect : uint8_t { kText, kResp };

struct Reply {
  enum class Type : uint8_t {
    // RESP2 reply types.
    kStatus,    // +OK            -> str
    kError,     // -ERR ...       -> str (without the '-')
    kInteger,   // :5             -> integer
    kBulk,      // $3 abc         -> str
    kNil,       // $-1
    kArray,     // *N ...         -> elements
    kNilArray,  // *-1
    // Text-protocol replies: the lines as the daemon sent them, without "\r\n".
    kText,  // -> lines
    // Text protocol QUIT/EXIT: the daemon closed the connection without a reply.
    kNone,
  };

  Type type = Type::kNil;
  std::string str;
  int64_t integer = 0;
  std::vector<Reply> elements;
  std::vector<std::string> lines;

  // True for a RESP error, and for a text reply whose first line is an error
  // ("(error) ...", "(Unknown command)", or a "-ERR ..."-style line the daemon sends
  // before closing a connection it refuses).
  bool IsError() const;

  static Reply Status(std::string_view s) { return Make(Type::kStatus, s); }
  static Reply Error(std::string_view s) { return Make(Type::kError, s); }
  static Reply Bulk(std::string_view s) { return Make(Type::kBulk, s); }
  static Reply Integer(int64_t n) {
    Reply r;
    r.type = Type::kInteger;
    r.integer = n;
    return r;
  }
  static Reply Array(std::vector<Reply> elements) {
    Reply r;
    r.type = Type::kArray;
    r.elements = std::move(elements);
    return r;
  }
  static Reply Text(std::vector<std::string> lines) {
    Reply r;
    r.type = Type::kText;
    r.lines = std::move(lines);
    return r;
  }

  bool operator==(const Reply&) const = default;

 private:
  static Reply Make(Type type, std::string_view s) {
    Reply r;
    r.type = type;
    r.str = s;
    return r;
  }
};

// True if a text-protocol reply line is an error line (see Reply::IsError).
bool IsTextErrorLine(std::string_view line);

}  // namespace memento::client
