// Fuzz target: proto::RespParser (net/proto/resp_parser.h), the RESP2 request parser,
// which reads bytes straight from the network.
//
// Input layout:
//   byte 0   bits 0-1: limits profile (kProfiles below); bit 2: generated mode
//   byte 1   seed for the chunking plans
//   rest     raw mode: the byte stream a client sends
//            generated mode: requests separated by '\n', arguments by ' ', encoded
//            as multibulks, so the parse is known in advance (binary bytes survive:
//            only the two separators cannot appear inside an argument)
//
// Checked for every Parse call: views stay inside the input; a multibulk kOk consumed
// exactly the canonical encoding of its argv ("*N\r\n" then "$len\r\n<bytes>\r\n" per
// argument: the grammar admits no other spelling) and respects the limits; an inline
// kOk consumed one line and split it on separators; kError carries one of the
// documented messages (no CR or LF in it); MinBytesWanted() never exceeds the bulk
// being received. Checked for every input: the same transcript whether the stream
// arrives whole, byte by byte, in random chunks or cut once.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "fuzz/parser_harness.h"
#include "net/proto/resp_parser.h"

namespace memento::fuzz {
namespace {

// Small limits make every limit reachable with short inputs.
const proto::RespLimits kProfiles[4] = {
    {/*max_bulk=*/512u * 1024 * 1024, /*max_multibulk=*/1024 * 1024, /*max_inline=*/64 * 1024},
    {/*max_bulk=*/4, /*max_multibulk=*/3, /*max_inline=*/6},
    {/*max_bulk=*/0, /*max_multibulk=*/1, /*max_inline=*/0},
    {/*max_bulk=*/64, /*max_multibulk=*/16, /*max_inline=*/32},
};

std::string Encode(const std::vector<std::string_view>& argv) {
  std::string out = "*" + std::to_string(argv.size()) + "\r\n";
  for (std::string_view a : argv) {
    out += "$" + std::to_string(a.size()) + "\r\n";
    out += a;
    out += "\r\n";
  }
  return out;
}

bool KnownError(std::string_view e) {
  static constexpr std::string_view kFixed[] = {
      "ERR Protocol error: too big inline request",
      "ERR Protocol error: too big mbulk count string",
      "ERR Protocol error: invalid multibulk length",
      "ERR Protocol error: too big bulk count string",
      "ERR Protocol error: invalid bulk length",
      "ERR Protocol error: expected CRLF after bulk data",
  };
  for (std::string_view k : kFixed) {
    if (e == k) return true;
  }
  constexpr std::string_view kDollar = "ERR Protocol error: expected '$', got '";
  return e.size() == kDollar.size() + 2 && e.substr(0, kDollar.size()) == kDollar &&
         e.back() == '\'';
}

void CheckResult(const proto::RespLimits& limits, const proto::RespParser& parser,
                 std::string_view buf, const proto::ParseResult& r,
                 const std::vector<std::string_view>& argv) {
  switch (r.status) {
    case proto::ParseStatus::kNeedMore:
      FUZZ_CHECK(r.consumed == 0 && argv.empty());
      FUZZ_CHECK(parser.MinBytesWanted() <= limits.max_bulk + 2);
      if (!buf.empty() && buf[0] != '*') FUZZ_CHECK(buf.find('\n') == std::string_view::npos);
      return;
    case proto::ParseStatus::kError:
      FUZZ_CHECK(KnownError(r.error));
      FUZZ_CHECK(r.error.find_first_of("\r\n") == std::string_view::npos);
      return;
    case proto::ParseStatus::kOk:
      break;
  }
  FUZZ_CHECK(r.consumed > 0 && r.consumed <= buf.size());
  const std::string_view request = buf.substr(0, r.consumed);
  for (std::string_view a : argv) FUZZ_CHECK(Within(a, request));
  if (buf[0] == '*') {
    if (argv.empty()) {
      // "*0" or a negative count ("*-1", "*-10"): an empty request, as Redis.
      FUZZ_CHECK(request.size() >= 4 && request.ends_with("\r\n"));
      const std::string_view count = request.substr(1, request.size() - 3);
      const bool zero = count == "0";
      const bool negative = count.size() >= 2 && count[0] == '-' && count[1] >= '1' &&
                            count[1] <= '9' &&
                            count.find_first_not_of("0123456789", 1) == std::string_view::npos;
      FUZZ_CHECK(zero || negative);
    } else {
      FUZZ_CHECK(argv.size() <= limits.max_multibulk);
      for (std::string_view a : argv) FUZZ_CHECK(a.size() <= limits.max_bulk);
      FUZZ_CHECK(Encode(argv) == request);
    }
    return;
  }
  // Inline: one line, split on runs of separators.
  FUZZ_CHECK(request.back() == '\n');
  FUZZ_CHECK(request.find('\n') == request.size() - 1);
  size_t line_len = request.size() - 1;
  if (line_len > 0 && request[line_len - 1] == '\r') --line_len;
  FUZZ_CHECK(line_len <= limits.max_inline);
  const std::string_view line = request.substr(0, line_len);
  size_t pos = 0;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string_view a = argv[i];
    FUZZ_CHECK(!a.empty() && Within(a, line));
    const size_t start = static_cast<size_t>(a.data() - line.data());
    FUZZ_CHECK(start >= pos && (i == 0 || start > pos));
    for (size_t k = pos; k < start; ++k) FUZZ_CHECK(IsSep(line[k]));
    for (char c : a) FUZZ_CHECK(!IsSep(c));
    pos = start + a.size();
  }
  for (size_t k = pos; k < line.size(); ++k) FUZZ_CHECK(IsSep(line[k]));
}

Transcript Run(std::string_view stream, const proto::RespLimits& limits, Plan plan,
               uint64_t seed) {
  proto::RespParser parser(limits);
  return Feed(parser, stream, plan, seed,
              [&](std::string_view buf, const proto::ParseResult& r,
                  const std::vector<std::string_view>& argv) {
                CheckResult(limits, parser, buf, r, argv);
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

  memento::proto::RespLimits limits = kProfiles[config & 3];
  std::string generated;
  Transcript want;
  std::string_view stream = rest;
  const bool generate = (config & 4) != 0;
  if (generate) {
    limits = kProfiles[0];
    SplitOn(rest, '\n', [&](std::string_view request) {
      std::vector<std::string_view> argv;
      SplitOn(request, ' ', [&](std::string_view a) { argv.push_back(a); });
      generated += Encode(argv);
      std::vector<std::string>& req = want.requests.emplace_back();
      for (std::string_view a : argv) req.emplace_back(a);
    });
    stream = generated;
  }

  const Transcript whole = Run(stream, limits, Plan::kWhole, seed);
  if (generate) FUZZ_CHECK(whole == want);
  FUZZ_CHECK(Run(stream, limits, Plan::kByteByByte, seed) == whole);
  FUZZ_CHECK(Run(stream, limits, Plan::kRandom, seed) == whole);
  FUZZ_CHECK(Run(stream, limits, Plan::kOneCut, seed) == whole);
  return 0;
}
