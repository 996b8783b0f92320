// What memento-benchmark sends and what it accepts back: the phases, key names,
// verifiable values, request encoding (text or RESP2) and the check of every reply.
//
// Values are verifiable without remembering them: the value of a key is a function of
// the key and the value size, MakeValue(key, size) = key + ':' + a fixed filler,
// cut to `size` bytes. Every SET of one key in one run writes the same bytes, so a GET
// can only legitimately see nil (never written) or those bytes, however the
// connections interleave. A value left by an earlier run with another --value-size is
// still recognisable as a benchmark value (IsValueOf) and accepted unless this run
// has itself written the key before the GET was sent.
//
// Every key starts with "mb:" so a benchmark never reads or overwrites keys of
// redis-benchmark ("key:...") or of the user, unless they use that prefix.
//
// Pure functions over strings; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tools/benchmark/reply_parser.h"

namespace memento::benchmark {

// The phases, in the order a default run takes them.
enum class PhaseKind {
  kSet,    // SET one key (mb:keyone) over and over: the original's phase 1
  kGet,    // GET that key: phase 2 (the key is written once first, untimed)
  kGrow,   // SET a new key each time (mb:grow:0, mb:grow:1, ...): phase 3
  kMixed,  // SET and GET in --ratio over random keys of --keyspace: the concurrent phase
};

std::string_view PhaseName(PhaseKind kind);
// "set", "get", "grow", "mixed"; false for anything else.
bool ParsePhaseName(std::string_view name, PhaseKind* kind);

enum class Op : uint8_t { kSet, kGet };

inline constexpr std::string_view kKeyOne = "mb:keyone";

// Appends the key of request `index` of a phase to *out: kKeyOne for kSet/kGet,
// "mb:grow:<index>" for kGrow, "mb:<index, 12 digits>" for kMixed (index is then the
// key's number in the key space).
void AppendKey(PhaseKind kind, uint64_t index, std::string* out);

// Appends MakeValue(key, size) to *out: key + ':' + "0123456789abcdef..." repeated,
// cut to `size` bytes. No byte is a space, CR or LF, so the text protocol carries it.
void AppendValue(std::string_view key, size_t size, std::string* out);
std::string MakeValue(std::string_view key, size_t size);
// True if `value` == MakeValue(key, value.size()) and is not empty.
bool IsValueOf(std::string_view key, std::string_view value);

// Appends one request in the protocol's encoding: text "SET <key> <value>\r\n" and
// "GET <key>\r\n"; RESP2 arrays of bulk strings.
void AppendSet(Protocol protocol, std::string_view key, std::string_view value,
               std::string* out);
void AppendGet(Protocol protocol, std::string_view key, std::string* out);

// Checks a reply. SET must get OK (RESP "+OK", text "OK"). GET must get the value
// MakeValue(key, value_size) when `written` (this run's SET of the key was answered
// before the GET was sent); otherwise nil or any value IsValueOf the key. Returns ""
// when the reply is right, else what was wrong, e.g.
//   "GET mb:000000000042: expected nil or its value (100 bytes), got error 'ERR x'".
std::string CheckReply(Protocol protocol, Op op, std::string_view key, size_t value_size,
                       bool written, const Reply& reply);

}  // namespace memento::benchmark
