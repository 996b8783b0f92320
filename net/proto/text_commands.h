// The text protocol's per-command facts that both ends of a connection need, in one
// table: how a request line is split into arguments (the daemon's TextParser, and a
// client writing a request) and how many lines the reply takes (a client framing it:
// text replies do not frame themselves). docs/protocol.md describes both.
//
// This is the one place these facts live. The daemon's command table
// (daemon/commands.cc) holds everything else about a command (arity, handler, flags)
// and checks at compile time that the commands it serves over the text protocol are
// exactly the ones listed here: adding a text command means adding its row here too.
// The tools (memento-cli) read this table and never link daemon/.
//
// Thread-safety: constant data and pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/strings.h"

namespace memento::proto {

// How the text protocol splits a request line into arguments.
enum class TextArgs : uint8_t {
  kWords,       // every argument is one token (runs of spaces and tabs separate them)
  kRestOfLine,  // the third argument is the rest of the line after the key, spaces kept
};

// How many lines a text-protocol reply takes.
enum class TextReplyShape : uint8_t {
  kLine,        // one line
  kBlock,       // "<N>" then N lines, or one line (an error, "(null)")
  kGetp,        // "key: ..." then 3 lines, or one line ("(null)", an error)
  kNone,        // no reply: the server closes the connection
  kUnframable,  // nested arrays: a count line cannot be told from a value line
  kFeed,        // TAIL: a block as kBlock, then one line per change for as long as
                // the connection lives
  kResp,        // not a text command: answered in RESP2, as Redis answers an inline
                // command (docs/protocol.md, "One port, two protocols")
};

// A subcommand whose reply shape differs from its command's.
struct TextSubcommand {
  std::string_view name;  // lower case
  TextReplyShape reply;
};

struct TextCommand {
  std::string_view name;  // lower case, as in the daemon's command table
  TextArgs args;
  TextReplyShape reply;   // for any subcommand not listed below
  std::span<const TextSubcommand> subcommands = {};
};

inline constexpr TextSubcommand kClusterSubcommands[] = {
    {"info", TextReplyShape::kBlock},        {"nodes", TextReplyShape::kBlock},
    {"help", TextReplyShape::kBlock},        {"slots", TextReplyShape::kUnframable},
    {"shards", TextReplyShape::kUnframable},
};

// Every command served over the text protocol, in the daemon table's order.
inline constexpr TextCommand kTextCommands[] = {
    // Strings
    {"get", TextArgs::kWords, TextReplyShape::kLine},
    {"set", TextArgs::kRestOfLine, TextReplyShape::kLine},
    {"mget", TextArgs::kWords, TextReplyShape::kBlock},
    {"append", TextArgs::kRestOfLine, TextReplyShape::kLine},
    {"prepend", TextArgs::kRestOfLine, TextReplyShape::kLine},
    {"strlen", TextArgs::kWords, TextReplyShape::kLine},
    {"getrange", TextArgs::kWords, TextReplyShape::kLine},
    {"inc", TextArgs::kWords, TextReplyShape::kLine},
    {"dec", TextArgs::kWords, TextReplyShape::kLine},
    {"incf", TextArgs::kWords, TextReplyShape::kLine},
    {"decf", TextArgs::kWords, TextReplyShape::kLine},
    {"getp", TextArgs::kWords, TextReplyShape::kGetp},
    // The key space
    {"del", TextArgs::kWords, TextReplyShape::kLine},
    {"exists", TextArgs::kWords, TextReplyShape::kLine},
    {"type", TextArgs::kWords, TextReplyShape::kLine},
    {"expire", TextArgs::kWords, TextReplyShape::kLine},
    {"ttl", TextArgs::kWords, TextReplyShape::kLine},
    {"pttl", TextArgs::kWords, TextReplyShape::kLine},
    {"persist", TextArgs::kWords, TextReplyShape::kLine},
    {"keys", TextArgs::kWords, TextReplyShape::kBlock},
    {"randomkey", TextArgs::kWords, TextReplyShape::kLine},
    {"dbsize", TextArgs::kWords, TextReplyShape::kLine},
    {"count", TextArgs::kWords, TextReplyShape::kLine},
    {"flush", TextArgs::kWords, TextReplyShape::kLine},
    {"values", TextArgs::kWords, TextReplyShape::kBlock},
    {"prefscan", TextArgs::kWords, TextReplyShape::kBlock},
    {"fuzzyscan", TextArgs::kWords, TextReplyShape::kBlock},
    {"keyspace", TextArgs::kWords, TextReplyShape::kBlock},
    // Connection and server
    {"quit", TextArgs::kWords, TextReplyShape::kNone},
    {"exit", TextArgs::kWords, TextReplyShape::kNone},
    {"info", TextArgs::kWords, TextReplyShape::kBlock},
    {"save", TextArgs::kWords, TextReplyShape::kLine},
    {"bgsave", TextArgs::kWords, TextReplyShape::kLine},
    {"lastsave", TextArgs::kWords, TextReplyShape::kLine},
    {"time", TextArgs::kWords, TextReplyShape::kBlock},
    {"tail", TextArgs::kWords, TextReplyShape::kFeed},
    // The cluster
    {"cluster", TextArgs::kWords, TextReplyShape::kLine, kClusterSubcommands},
    {"clusterinfo", TextArgs::kWords, TextReplyShape::kBlock},
};

// The row of the command named `name` (any case), or nullptr if the text protocol does
// not serve it.
const TextCommand* FindTextCommand(std::string_view name);

namespace internal {
// The names of kTextCommands' kRestOfLine rows, picked out at compile time: the parser
// asks for every request, and a scan of these few is as cheap as the literal compares
// it replaced (a scan of the whole table measured ~10% slower on
// bench/text_parser_bench.cc BM_ParsePipelined).
constexpr size_t CountRestOfLine() {
  size_t n = 0;
  for (const TextCommand& command : kTextCommands) n += command.args == TextArgs::kRestOfLine;
  return n;
}
constexpr std::array<std::string_view, CountRestOfLine()> RestOfLineNames() {
  std::array<std::string_view, CountRestOfLine()> names{};
  size_t n = 0;
  for (const TextCommand& command : kTextCommands) {
    if (command.args == TextArgs::kRestOfLine) names[n++] = command.name;
  }
  return names;
}
inline constexpr auto kRestOfLineNames = RestOfLineNames();
}  // namespace internal

// True if the third argument of `command` (any case) is the rest of the line.
constexpr bool TakesRestOfLine(std::string_view command) {
  for (std::string_view name : internal::kRestOfLineNames) {
    if (EqualsIgnoreCase(command, name)) return true;
  }
  return false;
}

// The shape of the text reply to a request whose first two words are `command` and
// `subcommand` (any case; subcommand empty if there is none). kResp for a command the
// text protocol does not serve (PING, ECHO, AUTH, any Redis command, an unknown name):
// the server answers it in RESP2, as Redis answers an inline command.
TextReplyShape TextReplyShapeOf(std::string_view command, std::string_view subcommand = {});

}  // namespace memento::proto
