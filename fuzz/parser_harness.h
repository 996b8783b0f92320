// The connection-buffer simulation shared by the request-parser targets
// (text_parser_fuzzer.cc, resp_parser_fuzzer.cc).
//
// A stream of bytes is fed to a fresh parser in chunks, the way net/connection.cc does
// it: append the chunk to the input buffer, call Parse until it wants more, erase what
// each request consumed. The outcome (every request's argv, the error that ended the
// stream if any, the bytes left over) is a Transcript. The property the targets check:
// however the stream is cut into chunks, the transcript is the same.
//
// Thread-safety: none.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "net/proto/text_parser.h"

namespace memento::fuzz {

struct Transcript {
  std::vector<std::vector<std::string>> requests;
  bool failed = false;
  std::string error;     // when failed
  std::string leftover;  // unparsed bytes at the end (when !failed)

  bool operator==(const Transcript&) const = default;
};

// How a stream is cut into chunks.
enum class Plan : uint8_t {
  kWhole,       // one chunk
  kByteByByte,  // every offset is a cut
  kRandom,      // chunks of 1..32 bytes from a PRNG seeded by the input
  kOneCut,      // two chunks, cut at an offset picked by the seed
};

// xorshift64*: deterministic, so a crash reproduces from the input alone.
class Prng {
 public:
  explicit Prng(uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15ull + 1) {}
  uint64_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545f4914f6cdd1dull;
  }

 private:
  uint64_t state_;
};

// Runs `stream` through `parser` cut by `plan`. check(buffer, result, argv) runs after
// every Parse call, before the buffer is changed, to verify what the parser returned.
template <typename Parser, typename Check>
Transcript Feed(Parser& parser, std::string_view stream, Plan plan, uint64_t seed, Check&& check) {
  Transcript t;
  std::string buf;
  std::vector<std::string_view> argv;
  Prng prng(seed);
  size_t fed = 0;
  const size_t one_cut = stream.empty() ? 0 : static_cast<size_t>(seed % (stream.size() + 1));
  while (true) {
    size_t chunk = 0;
    switch (plan) {
      case Plan::kWhole: chunk = stream.size(); break;
      case Plan::kByteByByte: chunk = 1; break;
      case Plan::kRandom: chunk = 1 + static_cast<size_t>(prng.Next() % 32); break;
      case Plan::kOneCut: chunk = fed < one_cut ? one_cut - fed : stream.size() - fed; break;
    }
    chunk = std::min(chunk, stream.size() - fed);
    buf.append(stream.substr(fed, chunk));
    fed += chunk;
    while (true) {
      const proto::ParseResult r = parser.Parse(buf, &argv);
      check(std::string_view(buf), r, argv);
      if (r.status == proto::ParseStatus::kError) {
        t.failed = true;
        t.error = std::string(r.error);
        return t;
      }
      if (r.status == proto::ParseStatus::kNeedMore) break;
      std::vector<std::string>& req = t.requests.emplace_back();
      for (std::string_view a : argv) req.emplace_back(a);
      buf.erase(0, r.consumed);
    }
    if (fed == stream.size()) break;
  }
  t.leftover = buf;
  return t;
}

// True if `view` lies inside `buf` (a view into the parser's input, as promised).
inline bool Within(std::string_view view, std::string_view buf) {
  if (view.empty()) return true;
  return view.data() >= buf.data() && view.data() + view.size() <= buf.data() + buf.size();
}

inline bool IsSep(char c) { return c == ' ' || c == '\t'; }

}  // namespace memento::fuzz
