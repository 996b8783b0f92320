// Fuzz target: proto::TextParser (net/proto/text_parser.h), the text protocol's
// request parser, which reads bytes straight from the network.
//
// Input layout:
//   byte 0   bits 0-2: the line limit (kMaxLines below); bit 3: generated mode
//   byte 1   seed for the chunking plans
//   rest     raw mode: the byte stream a client sends
//            generated mode: lines ('\n') of tokens (' ', '\t') to build a valid
//            stream from, whose parse is known in advance
//
// Checked for every Parse call: views stay inside the input; kOk consumed exactly one
// line with its terminator, and the tokens are that line split as the grammar in
// text_parser.cc says (separators between them, none inside, the rest-of-line rule of
// SET/APPEND/PREPEND); kNeedMore only when no terminator is buffered; kError only when
// the pending line really is too long. Checked for every input: the transcript is the
// same whether the stream arrives whole, byte by byte, in random chunks or cut once.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "fuzz/parser_harness.h"
#include "net/proto/text_commands.h"
#include "net/proto/text_parser.h"

namespace memento::fuzz {
namespace {

constexpr size_t kMaxLines[8] = {1, 2, 3, 5, 8, 16, 64, 65536};

void CheckResult(size_t max_line, std::string_view buf, const proto::ParseResult& r,
                 const std::vector<std::string_view>& argv) {
  const size_t nl = buf.find('\n');
  switch (r.status) {
    case proto::ParseStatus::kNeedMore:
      FUZZ_CHECK(nl == std::string_view::npos);
      FUZZ_CHECK(r.consumed == 0 && argv.empty());
      // A line that can no longer fit must have been refused.
      FUZZ_CHECK(buf.size() <= max_line || (buf.size() == max_line + 1 && buf[max_line] == '\r'));
      return;
    case proto::ParseStatus::kError: {
      FUZZ_CHECK(r.error == "ERR line too long (over " + std::to_string(max_line) + " bytes)");
      if (nl == std::string_view::npos) {
        FUZZ_CHECK(buf.size() > max_line);
        FUZZ_CHECK(!(buf.size() == max_line + 1 && buf[max_line] == '\r'));
      } else {
        const size_t line_len = nl > 0 && buf[nl - 1] == '\r' ? nl - 1 : nl;
        FUZZ_CHECK(line_len > max_line);
      }
      return;
    }
    case proto::ParseStatus::kOk:
      break;
  }
  FUZZ_CHECK(nl != std::string_view::npos && r.consumed == nl + 1);
  const size_t line_len = nl > 0 && buf[nl - 1] == '\r' ? nl - 1 : nl;
  FUZZ_CHECK(line_len <= max_line);
  const std::string_view line = buf.substr(0, line_len);
  // Walk the line: separators, a token, separators, ... exactly as argv says.
  const bool rest_of_line = !argv.empty() && proto::TakesRestOfLine(argv[0]);
  size_t pos = 0;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string_view a = argv[i];
    FUZZ_CHECK(!a.empty());
    FUZZ_CHECK(Within(a, line));
    const size_t start = static_cast<size_t>(a.data() - line.data());
    FUZZ_CHECK(start >= pos);
    for (size_t k = pos; k < start; ++k) FUZZ_CHECK(IsSep(line[k]));
    FUZZ_CHECK(i == 0 || start > pos);  // tokens are separated
    if (rest_of_line && i == 2) {
      FUZZ_CHECK(!IsSep(a.front()));
      FUZZ_CHECK(start + a.size() == line.size());  // to the end, separators included
      FUZZ_CHECK(argv.size() == 3);
    } else {
      for (char c : a) FUZZ_CHECK(!IsSep(c));
    }
    pos = start + a.size();
  }
  for (size_t k = pos; k < line.size(); ++k) FUZZ_CHECK(IsSep(line[k]));
}

Transcript Run(std::string_view stream, size_t max_line, Plan plan, uint64_t seed) {
  proto::TextParser parser(max_line);
  return Feed(parser, stream, plan, seed,
              [max_line](std::string_view buf, const proto::ParseResult& r,
                         const std::vector<std::string_view>& argv) {
                CheckResult(max_line, buf, r, argv);
              });
}

// Builds a valid stream from `material` and the transcript its parse must give.
void Generate(std::string_view material, uint64_t seed, std::string* stream, Transcript* want) {
  Prng prng(seed);
  SplitOn(material, '\n', [&](std::string_view text) {
    std::vector<std::string_view> tokens;
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && IsSep(text[i])) ++i;
      const size_t start = i;
      while (i < text.size() && !IsSep(text[i])) ++i;
      if (i > start) tokens.push_back(text.substr(start, i - start));
    }
    std::string line;
    std::vector<std::string>& req = want->requests.emplace_back();
    size_t rest_at = std::string::npos;
    auto seps = [&] {
      const size_t n = prng.Next() % 3;
      for (size_t k = 0; k < n; ++k) line += (prng.Next() & 1) != 0 ? ' ' : '\t';
    };
    seps();
    for (size_t t = 0; t < tokens.size(); ++t) {
      if (t > 0) line += ' ';
      if (t > 0) seps();
      if (t == 2) rest_at = line.size();
      line += tokens[t];
    }
    seps();
    const bool rest = tokens.size() >= 3 && proto::TakesRestOfLine(tokens[0]);
    for (size_t t = 0; t < tokens.size() && !(rest && t == 2); ++t) req.emplace_back(tokens[t]);
    if (rest) req.push_back(line.substr(rest_at));
    // A '\r' at the end of the line is taken as part of a "\r\n" terminator.
    const bool crlf = (prng.Next() & 1) != 0 || (!line.empty() && line.back() == '\r');
    *stream += line;
    *stream += crlf ? "\r\n" : "\n";
  });
}

}  // namespace
}  // namespace memento::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memento::fuzz;  // NOLINT
  FuzzInput in(data, size);
  const uint8_t config = in.Byte();
  const uint64_t seed = in.Byte() + (uint64_t{size} << 8);
  const std::string_view rest = in.Rest();

  size_t max_line = kMaxLines[config & 7];
  std::string generated;
  Transcript want;
  std::string_view stream = rest;
  const bool generate = (config & 8) != 0;
  if (generate) {
    max_line = 1 << 20;  // larger than any input: every generated line fits
    Generate(rest, seed, &generated, &want);
    stream = generated;
  }

  const Transcript whole = Run(stream, max_line, Plan::kWhole, seed);
  if (generate) FUZZ_CHECK(whole == want);
  FUZZ_CHECK(Run(stream, max_line, Plan::kByteByByte, seed) == whole);
  FUZZ_CHECK(Run(stream, max_line, Plan::kRandom, seed) == whole);
  FUZZ_CHECK(Run(stream, max_line, Plan::kOneCut, seed) == whole);
  return 0;
}
