// ReplyReader: cuts whole replies out of the bytes a Memento daemon sends, in either
// protocol (docs/protocol.md). Pure: no sockets; the caller feeds whatever it read,
// split anywhere, and asks for the next whole reply.
//
// RESP2 replies frame themselves. Text-protocol replies do not: how many lines make
// one reply depends on the request, so the caller says which shape to expect
// (TextShapeOf(command name) gives it):
//   kLine   one line                         (almost every command)
//   kBlock  "<N>" then N lines, or one line  (KEYS, INFO, MGET, TIME, VALUES, PREFSCAN,
//                                             FUZZYSCAN, KEYSPACE; an error is one line)
//   kGetp   "key: ..." then 3 lines, or one  (GETP; "(null)" and errors are one line)
//   kNone   no reply: the server closes      (QUIT, EXIT; the Client handles it)
//   kResp   a RESP2 reply                    (PING, ECHO, AUTH: Redis inline commands,
//                                             answered as Redis answers them)
// (CLUSTERINFO and CLUSTER INFO/NODES/HELP are blocks too.)
// A text value holding "\r\n" (written over RESP) cannot be framed by any client: the
// text protocol is line based. Use RESP for binary values.
//
// Work is linear in the bytes fed, however they are split: a reply's finished
// elements are kept between calls and the search for a line end resumes where it
// stopped.
//
// Thread-safety: one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "net/proto/text_commands.h"
#include "tools/cli/reply.h"

namespace memento::client {

// The shapes, and which command has which, are net/proto/text_commands.h's.
// kUnframable is read as one line (EncodeRequest refuses such requests).
using TextShape = proto::TextReplyShape;

// The shape of the text-protocol reply to a request whose first word is `command`
// (any case).
TextShape TextShapeOf(std::string_view command);
// The same for a whole request, subcommands included (CLUSTER INFO, NODES and HELP
// are blocks; CLUSTER KEYSLOT and MYID one line). REQUIRES: !argv.empty().
TextShape TextShapeOfRequest(const std::vector<std::string>& argv);
// True for requests whose text reply nests arrays (CLUSTER SLOTS, CLUSTER SHARDS):
// a count line cannot be told from a value line there, so no client can frame them.
bool TextReplyUnframable(const std::vector<std::string>& argv);

class ReplyReader {
 public:
  explicit ReplyReader(Dialect dialect) : dialect_(dialect) {}

  Dialect dialect() const { return dialect_; }

  // Appends bytes received from the server.
  void Feed(std::string_view bytes);

  // Takes the next whole reply from the bytes fed so far.
  //   a Reply       : one whole reply; its bytes are consumed
  //   std::nullopt  : more bytes are needed (nothing is lost: call again after Feed)
  //   Corruption    : the bytes are not a valid RESP2 reply; the message names the
  //                   byte offset in the stream. The reader is then unusable (Reset()).
  // `shape` is used in the text dialect only; REQUIRES: the same shape on every call
  // until a reply comes back.
  Result<std::optional<Reply>> Next(TextShape shape = TextShape::kLine);

  // Bytes fed and not yet part of a returned reply.
  size_t buffered() const { return buf_.size() - pos_; }
  // Forgets everything (after the connection is replaced).
  void Reset();

 private:
  // One RESP array being filled.
  struct Frame {
    Reply array;
    int64_t remaining;
  };
  enum class Step : uint8_t { kNeedMore, kValue, kArrayStart, kBad };

  Result<std::optional<Reply>> NextResp();
  Result<std::optional<Reply>> NextText(TextShape shape);
  // Parses one RESP value header (and, for scalars, the whole value) at pos_.
  Step ParseOne(Reply* out, int64_t* array_len, std::string* error);
  // Position of the "\r" of the first "\r\n" at or after `from`, or npos.
  size_t FindLineEnd(size_t from);
  // Drops consumed bytes once they are the larger part of the buffer.
  void Compact();
  Status Bad(std::string_view what) const;

  Dialect dialect_;
  std::string buf_;
  size_t pos_ = 0;            // first unconsumed byte of buf_
  size_t scan_from_ = 0;      // FindLineEnd need not look before this (no "\r\n" there)
  uint64_t stream_offset_ = 0;  // bytes dropped from the front of buf_ so far
  std::vector<Frame> stack_;  // RESP: arrays being filled, outermost first
  Reply text_;                // text: lines of the reply being read
  int64_t text_remaining_ = -1;  // text: lines still to come; -1 before the first line
};

}  // namespace memento::client
