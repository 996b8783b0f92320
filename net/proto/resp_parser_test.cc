#include "net/proto/resp_parser.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <vector>

// ---------------------------------------------------------------------------------------
// Allocation counting: every operator new in this binary adds its size here, so a test
// can check that the parser allocated nothing while reading a header that declares a
// huge length. The full non-aligned set is replaced so that news and deletes always pair
// (ASan reports a malloc/operator delete mismatch otherwise).

namespace {
std::atomic<size_t> g_allocated_bytes{0};

void* CountedAlloc(size_t size) {
  g_allocated_bytes.fetch_add(size, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}

// Out of line so that g++ does not inline it into a caller that got the pointer from
// operator new and then warn (-Wmismatched-new-delete) about the free() it sees there.
[[gnu::noinline]] void CountedFree(void* p) noexcept { std::free(p); }
}  // namespace

void* operator new(size_t size) {
  void* p = CountedAlloc(size);
  if (p == nullptr) std::abort();  // this binary never expects to run out of memory
  return p;
}
void* operator new[](size_t size) { return operator new(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return CountedAlloc(size); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return CountedAlloc(size); }
void operator delete(void* p) noexcept { CountedFree(p); }
void operator delete[](void* p) noexcept { CountedFree(p); }
void operator delete(void* p, size_t) noexcept { CountedFree(p); }
void operator delete[](void* p, size_t) noexcept { CountedFree(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { CountedFree(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { CountedFree(p); }

namespace memento::proto {
namespace {

using std::string_literals::operator""s;

// argv copied out of the input buffer, so it can outlive it and be compared.
using Argv = std::vector<std::string>;

Argv Copy(const std::vector<std::string_view>& argv) { return Argv(argv.begin(), argv.end()); }

// Encodes `args` as a multibulk request, the way clients send commands.
std::string Multibulk(const Argv& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& arg : args) {
    out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  }
  return out;
}

// Feeds `stream` to a fresh parser the way a connection does: the bytes arrive in
// pieces ending at each offset in `cuts` (ascending) and then the rest; each piece is
// appended to an input buffer, every complete request in it is parsed and erased from
// its front. Returns the requests in order. Expects no error and no leftover bytes.
std::vector<Argv> Feed(std::string_view stream, const std::vector<size_t>& cuts,
                       RespLimits limits = RespLimits()) {
  RespParser parser(limits);
  std::string buffer;
  std::vector<std::string_view> argv;
  std::vector<Argv> requests;
  auto drain = [&] {
    while (true) {
      const ParseResult r = parser.Parse(buffer, &argv);
      if (r.status != ParseStatus::kOk) {
        EXPECT_EQ(r.status, ParseStatus::kNeedMore) << r.error;
        EXPECT_EQ(r.consumed, 0u);
        return;
      }
      requests.push_back(Copy(argv));
      buffer.erase(0, r.consumed);
    }
  };
  size_t fed = 0;
  for (size_t cut : cuts) {
    buffer.append(stream.substr(fed, cut - fed));
    fed = cut;
    drain();
  }
  buffer.append(stream.substr(fed));
  drain();
  EXPECT_TRUE(buffer.empty()) << "unparsed tail: " << buffer;
  return requests;
}

class RespParserTest : public ::testing::Test {
 protected:
  ParseResult Parse(std::string_view input) { return parser_.Parse(input, &argv_); }

  // Parses `request`, which must be exactly one complete request, and returns its argv.
  Argv ParseOne(std::string_view request) {
    const ParseResult r = Parse(request);
    EXPECT_EQ(r.status, ParseStatus::kOk) << r.error;
    EXPECT_EQ(r.consumed, request.size());
    return Copy(argv_);
  }

  // Parses `input`, which must be rejected, and returns the error text.
  std::string ParseError(std::string_view input) {
    const ParseResult r = Parse(input);
    EXPECT_EQ(r.status, ParseStatus::kError);
    EXPECT_EQ(r.consumed, 0u);
    return std::string(r.error);
  }

  RespParser parser_;
  std::vector<std::string_view> argv_;
};

// ---------------------------------------------------------------------------------------
// Well-formed multibulk requests

TEST_F(RespParserTest, SimpleMultibulk) {
  const ParseResult r = Parse("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
  ASSERT_EQ(r.status, ParseStatus::kOk) << r.error;
  EXPECT_EQ(r.consumed, 22u);
  EXPECT_EQ(Copy(argv_), (Argv{"GET", "key"}));
}

TEST_F(RespParserTest, BulkIsBinarySafe) {
  const std::string value = "a\r\nb\rc\nd\0e\r\n\xff"s;
  EXPECT_EQ(ParseOne(Multibulk({"SET", "k", value})), (Argv{"SET", "k", value}));
}

TEST_F(RespParserTest, EmptyBulk) {
  EXPECT_EQ(ParseOne("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"), (Argv{"SET", "k", ""}));
}

TEST_F(RespParserTest, ZeroCountGivesEmptyArgv) {
  const ParseResult r = Parse("*0\r\n*1\r\n");
  ASSERT_EQ(r.status, ParseStatus::kOk) << r.error;
  EXPECT_EQ(r.consumed, 4u);
  EXPECT_TRUE(argv_.empty());
}

TEST_F(RespParserTest, NullCountGivesEmptyArgv) {
  const ParseResult r = Parse("*-1\r\n*1\r\n");
  ASSERT_EQ(r.status, ParseStatus::kOk) << r.error;
  EXPECT_EQ(r.consumed, 5u);
  EXPECT_TRUE(argv_.empty());
}

TEST_F(RespParserTest, PipelinedRequestsParseOneAfterAnother) {
  const std::string first = Multibulk({"SET", "a", "1"});
  const std::string second = Multibulk({"GET", "a"});
  const std::string third = "*0\r\n";
  const std::string fourth = Multibulk({"DEL", "a", "b"});
  const std::string all = first + second + third + fourth + "*2\r\n$3\r\nGE";
  std::string_view input = all;

  ParseResult r = Parse(input);
  ASSERT_EQ(r.status, ParseStatus::kOk) << r.error;
  EXPECT_EQ(r.consumed, first.size());
  EXPECT_EQ(Copy(argv_), (Argv{"SET", "a", "1"}));
  input.remove_prefix(r.consumed);

  r = Parse(input);
  ASSERT_EQ(r.status, ParseStatus::kOk) << r.error;
  EXPECT_EQ(r.consumed, second.size());
  EXPECT_EQ(Copy(argv_), (Argv{"GET", "a"}));
  input.remove_prefix(r.consumed);

  r = Parse(input);
  ASSERT_EQ(r.status, ParseStatus::kOk) << r.error;
  EXPECT_EQ(r.consumed, third.size());
  EXPECT_TRUE(argv_.empty());
  input.remove_prefix(r.consumed);

  r = Parse(input);
  ASSERT_EQ(r.status, ParseStatus::kOk) << r.error;
  EXPECT_EQ(r.consumed, fourth.size());
  EXPECT_EQ(Copy(argv_), (Argv{"DEL", "a", "b"}));
  input.remove_prefix(r.consumed);

  r = Parse(input);
  EXPECT_EQ(r.status, ParseStatus::kNeedMore);
  EXPECT_EQ(r.consumed, 0u);
}

TEST_F(RespParserTest, ArgvPointsIntoInput) {
  const std::string input = Multibulk({"GET", "key"});
  ASSERT_EQ(Parse(input).status, ParseStatus::kOk);
  ASSERT_EQ(argv_.size(), 2u);
  EXPECT_EQ(argv_[0].data(), input.data() + 8);
  EXPECT_EQ(argv_[1].data(), input.data() + 17);
}

TEST_F(RespParserTest, ArgvPointsIntoTheLatestBufferAfterItMoved) {
  // The caller's buffer may be reallocated between calls as it grows: elements parsed
  // in an earlier call must be re-pointed at the buffer of the final call.
  const std::string request = Multibulk({"SET", "key", "value"});
  const std::string first_piece = request.substr(0, 20);  // "SET" and "key" complete
  ASSERT_EQ(Parse(first_piece).status, ParseStatus::kNeedMore);
  const std::string moved = request;  // same bytes at another address
  ASSERT_EQ(Parse(moved).status, ParseStatus::kOk);
  ASSERT_EQ(argv_.size(), 3u);
  for (std::string_view arg : argv_) {
    EXPECT_GE(arg.data(), moved.data());
    EXPECT_LE(arg.data() + arg.size(), moved.data() + moved.size());
  }
  EXPECT_EQ(Copy(argv_), (Argv{"SET", "key", "value"}));
}

TEST_F(RespParserTest, ArgvCapacityIsReused) {
  ASSERT_EQ(Parse(Multibulk({"a", "b", "c", "d", "e", "f", "g", "h"})).status, ParseStatus::kOk);
  const size_t capacity = argv_.capacity();
  ASSERT_EQ(Parse(Multibulk({"x"})).status, ParseStatus::kOk);
  EXPECT_EQ(argv_.size(), 1u);
  EXPECT_EQ(argv_.capacity(), capacity);
}

// ---------------------------------------------------------------------------------------
// Incomplete input

TEST_F(RespParserTest, EveryProperPrefixNeedsMoreOnAFreshParser) {
  const std::string request = Multibulk({"SET", "key", "a\r\nb"});
  for (size_t len = 0; len < request.size(); ++len) {
    RespParser parser;
    const ParseResult r = parser.Parse(std::string_view(request).substr(0, len), &argv_);
    EXPECT_EQ(r.status, ParseStatus::kNeedMore) << "prefix of " << len << " bytes";
    EXPECT_EQ(r.consumed, 0u) << "prefix of " << len << " bytes";
  }
}

TEST_F(RespParserTest, EveryProperPrefixNeedsMoreWhenFedIncrementally) {
  const std::string request = Multibulk({"SET", "key", "a\r\nb"});
  for (size_t len = 0; len < request.size(); ++len) {
    const ParseResult r = Parse(std::string_view(request).substr(0, len));
    EXPECT_EQ(r.status, ParseStatus::kNeedMore) << "prefix of " << len << " bytes";
    EXPECT_EQ(r.consumed, 0u) << "prefix of " << len << " bytes";
  }
  EXPECT_EQ(ParseOne(request), (Argv{"SET", "key", "a\r\nb"}));
}

TEST_F(RespParserTest, MinBytesWantedCountsTheRestOfTheBulkAndItsCrlf) {
  EXPECT_EQ(parser_.MinBytesWanted(), 0u);
  ASSERT_EQ(Parse("*2\r\n$3\r\nGET\r\n$10\r\n").status, ParseStatus::kNeedMore);
  EXPECT_EQ(parser_.MinBytesWanted(), 12u);
  ASSERT_EQ(Parse("*2\r\n$3\r\nGET\r\n$10\r\n0123").status, ParseStatus::kNeedMore);
  EXPECT_EQ(parser_.MinBytesWanted(), 8u);
  ASSERT_EQ(Parse("*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r").status, ParseStatus::kNeedMore);
  EXPECT_EQ(parser_.MinBytesWanted(), 1u);
  ASSERT_EQ(Parse("*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n").status, ParseStatus::kOk);
  EXPECT_EQ(parser_.MinBytesWanted(), 0u);
}

TEST_F(RespParserTest, MinBytesWantedIsZeroWhileAHeaderIsIncomplete) {
  ASSERT_EQ(Parse("*2\r\n$3").status, ParseStatus::kNeedMore);
  EXPECT_EQ(parser_.MinBytesWanted(), 0u);
}

TEST_F(RespParserTest, HugeDeclaredBulkAllocatesNothing) {
  // A peer declares a bulk just under the 512 MiB limit and sends three bytes of it:
  // the parser must wait without reserving anything; the test's buffer is all the
  // storage there is.
  const std::string input = "*1\r\n$536870000\r\nabc";
  const size_t before = g_allocated_bytes.load();
  const ParseResult r = Parse(input);
  const size_t allocated = g_allocated_bytes.load() - before;
  EXPECT_EQ(r.status, ParseStatus::kNeedMore);
  EXPECT_EQ(allocated, 0u);
  EXPECT_EQ(parser_.MinBytesWanted(), 536870000u - 3 + 2);
}

TEST_F(RespParserTest, HugeDeclaredCountAllocatesNothing) {
  // Likewise a count of a million elements: storage grows with elements received only.
  const std::string input = "*1048576\r\n$1\r\na\r\n$1\r\nb\r\n$1";
  RespParser parser;  // fresh: its element list has no capacity yet
  const size_t before = g_allocated_bytes.load();
  const ParseResult r = parser.Parse(input, &argv_);
  const size_t allocated = g_allocated_bytes.load() - before;
  EXPECT_EQ(r.status, ParseStatus::kNeedMore);
  EXPECT_LT(allocated, 1024u);
}

TEST_F(RespParserTest, ShorterInputThanBeforeStartsOver) {
  // Breaks the caller contract (bytes must only be appended): the parser must not read
  // past the new, shorter input, and parses it from its start instead.
  ASSERT_EQ(Parse(Multibulk({"SET", "key", "value"}).substr(0, 30)).status, ParseStatus::kNeedMore);
  EXPECT_EQ(ParseOne(Multibulk({"GET"})), (Argv{"GET"}));
}

TEST_F(RespParserTest, LargeBulkInSmallPiecesTakesOneCallPerPiece) {
  // 8 MiB arriving 1 KiB at a time: each call must do O(piece) work, not rescan what it
  // has seen (which would be quadratic). The parser is told only prefixes of one buffer,
  // so any rescanning would show up as time, and MinBytesWanted must track every piece.
  constexpr size_t kBulkSize = 8u << 20;
  constexpr size_t kPiece = 1024;
  const std::string header = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$8388608\r\n";
  std::string stream = header;
  stream.append(kBulkSize, 'v');
  stream.append("\r\n");
  const std::string_view view = stream;

  size_t calls = 0;
  ParseResult r;
  for (size_t len = kPiece; r.status == ParseStatus::kNeedMore; len += kPiece) {
    len = len < stream.size() ? len : stream.size();
    r = Parse(view.substr(0, len));
    ++calls;
    if (r.status == ParseStatus::kNeedMore && len > header.size()) {
      ASSERT_EQ(parser_.MinBytesWanted(), stream.size() - len);
    }
  }
  ASSERT_EQ(r.status, ParseStatus::kOk) << r.error;
  EXPECT_EQ(r.consumed, stream.size());
  EXPECT_EQ(calls, (stream.size() + kPiece - 1) / kPiece);
  ASSERT_EQ(argv_.size(), 3u);
  EXPECT_EQ(argv_[2].size(), kBulkSize);
  EXPECT_EQ(argv_[2].data(), stream.data() + header.size());
}

// ---------------------------------------------------------------------------------------
// Property: how the bytes are split does not change what is parsed

// Requests of every kind back to back, including values holding CRLF and headers that
// themselves get split.
std::string MixedStream() {
  std::string s;
  s += Multibulk({"SET", "key:1", "hello"});
  s += Multibulk({"GET", "key:1"});
  s += "*0\r\n";
  s += Multibulk({"SET", "bin", "\r\n\0*$\r\n"s});
  s += "PING\r\n";
  s += "*-1\r\n";
  s += Multibulk({"APPEND", "k", ""});
  s += "\r\n";  // blank inline line
  s += Multibulk({"SET", "big", std::string(300, 'x')});
  s += "  SET\tk  v \n";
  s += Multibulk({"MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"});
  s += Multibulk({"GET", std::string(1000, 'y')});
  return s;
}

TEST(RespParserPropertyTest, SplitAtEveryOffsetParsesAsWhole) {
  const std::string stream = MixedStream();
  const std::vector<Argv> whole = Feed(stream, {});
  ASSERT_EQ(whole.size(), 12u);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    ASSERT_EQ(Feed(stream, {cut}), whole) << "split at " << cut;
  }
}

TEST(RespParserPropertyTest, ByteByByteParsesAsWhole) {
  const std::string stream = MixedStream();
  std::vector<size_t> cuts;
  for (size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(Feed(stream, cuts), Feed(stream, {}));
}

TEST(RespParserPropertyTest, SplitAtEveryPairOfOffsetsParsesAsWhole) {
  // Two cuts reach states one cut cannot, e.g. resuming twice inside one header.
  std::string stream = Multibulk({"SET", "k", "v\r\n"}) + "PING\r\n" + Multibulk({"GET", "k"});
  const std::vector<Argv> whole = Feed(stream, {});
  ASSERT_EQ(whole.size(), 3u);
  for (size_t a = 0; a <= stream.size(); ++a) {
    for (size_t b = a; b <= stream.size(); ++b) {
      ASSERT_EQ(Feed(stream, {a, b}), whole) << "split at " << a << " and " << b;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Protocol errors

TEST_F(RespParserTest, CountAboveLimitIsInvalidMultibulkLength) {
  EXPECT_EQ(ParseError("*3000000000\r\n"), "ERR Protocol error: invalid multibulk length");
}

TEST_F(RespParserTest, CountOneAboveCustomLimitIsInvalid) {
  RespParser parser(RespLimits{.max_multibulk = 2});
  EXPECT_EQ(parser.Parse("*2\r\n$1\r\na\r\n$1\r\nb\r\n", &argv_).status, ParseStatus::kOk);
  const ParseResult r = parser.Parse("*3\r\n", &argv_);
  EXPECT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.error, "ERR Protocol error: invalid multibulk length");
}

TEST_F(RespParserTest, CountOverflowingInt64IsInvalid) {
  EXPECT_EQ(ParseError("*99999999999999999999\r\n"),
            "ERR Protocol error: invalid multibulk length");
}

TEST_F(RespParserTest, AnyNegativeCountIsAnEmptyRequestAsInRedis) {
  // redis-server 7.0 skips "*-5" and "*-10" as it skips "*-1": no reply.
  for (std::string_view input : {"*-5\r\n", "*-10\r\n", "*-9223372036854775808\r\n"}) {
    std::vector<std::string_view> argv{"stale"};
    RespParser parser;
    const ParseResult r = parser.Parse(input, &argv);
    EXPECT_EQ(r.status, ParseStatus::kOk) << input;
    EXPECT_EQ(r.consumed, input.size()) << input;
    EXPECT_TRUE(argv.empty()) << input;
  }
}

TEST_F(RespParserTest, NonNumericCountIsInvalid) {
  EXPECT_EQ(ParseError("*abc\r\n"), "ERR Protocol error: invalid multibulk length");
}

TEST_F(RespParserTest, EmptyCountIsInvalid) {
  EXPECT_EQ(ParseError("*\r\n"), "ERR Protocol error: invalid multibulk length");
}

TEST_F(RespParserTest, CountWithSignOrSpaceOrLeadingZeroIsInvalid) {
  // Strict decimal as Redis's string2ll: clients never send these forms.
  for (std::string_view input : {"*+1\r\n", "*01\r\n", "* 1\r\n", "*1 \r\n", "*-0\r\n"}) {
    EXPECT_EQ(ParseError(input), "ERR Protocol error: invalid multibulk length") << input;
  }
}

TEST_F(RespParserTest, CountLineWithCrNotFollowedByLfIsInvalid) {
  EXPECT_EQ(ParseError("*1\rx$1\r\na\r\n"), "ERR Protocol error: invalid multibulk length");
}

TEST_F(RespParserTest, OverLongCountLineIsRejectedBeforeItsEnd) {
  EXPECT_EQ(ParseError("*" + std::string(40, '1')),
            "ERR Protocol error: too big mbulk count string");
}

TEST_F(RespParserTest, CountLineOfThirtyTwoBytesWithoutCrStillNeedsMore) {
  // 32 bytes is the longest header line accepted; only the 33rd byte decides.
  EXPECT_EQ(Parse("*" + std::string(31, '1')).status, ParseStatus::kNeedMore);
}

TEST_F(RespParserTest, BulkLengthAboveLimitIsInvalid) {
  EXPECT_EQ(ParseError("*1\r\n$2147483648\r\n"), "ERR Protocol error: invalid bulk length");
}

TEST_F(RespParserTest, BulkLengthOneAboveCustomLimitIsInvalid) {
  RespParser parser(RespLimits{.max_bulk = 4});
  EXPECT_EQ(parser.Parse("*1\r\n$4\r\nabcd\r\n", &argv_).status, ParseStatus::kOk);
  const ParseResult r = parser.Parse("*1\r\n$5\r\n", &argv_);
  EXPECT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.error, "ERR Protocol error: invalid bulk length");
}

TEST_F(RespParserTest, OverThePreAuthLimitsTheErrorSaysUnauthenticated) {
  RespParser parser(RespLimits{.max_bulk = 4, .max_multibulk = 2, .unauthenticated = true});
  ParseResult r = parser.Parse("*3\r\n", &argv_);
  EXPECT_EQ(r.error, "ERR Protocol error: unauthenticated multibulk length");
  RespParser bulk(RespLimits{.max_bulk = 4, .max_multibulk = 2, .unauthenticated = true});
  r = bulk.Parse("*1\r\n$5\r\n", &argv_);
  EXPECT_EQ(r.error, "ERR Protocol error: unauthenticated bulk length");
  // Malformed is malformed, authenticated or not.
  RespParser negative(RespLimits{.max_bulk = 4, .max_multibulk = 2, .unauthenticated = true});
  EXPECT_EQ(negative.Parse("*1\r\n$-10\r\n", &argv_).error,
            "ERR Protocol error: invalid bulk length");
}

TEST_F(RespParserTest, NegativeBulkLengthIsInvalid) {
  EXPECT_EQ(ParseError("*1\r\n$-10\r\n"), "ERR Protocol error: invalid bulk length");
}

TEST_F(RespParserTest, NullBulkInARequestIsInvalid) {
  EXPECT_EQ(ParseError("*1\r\n$-1\r\n"), "ERR Protocol error: invalid bulk length");
}

TEST_F(RespParserTest, NonNumericBulkLengthIsInvalid) {
  EXPECT_EQ(ParseError("*1\r\n$abc\r\n"), "ERR Protocol error: invalid bulk length");
}

TEST_F(RespParserTest, OverLongBulkLengthLineIsRejectedBeforeItsEnd) {
  EXPECT_EQ(ParseError("*1\r\n$" + std::string(40, '1')),
            "ERR Protocol error: too big bulk count string");
}

TEST_F(RespParserTest, ElementNotStartingWithDollarIsRejected) {
  EXPECT_EQ(ParseError("*1\r\n:5\r\n"), "ERR Protocol error: expected '$', got ':'");
}

TEST_F(RespParserTest, LineBreakInPlaceOfDollarIsBlankedInTheError) {
  // The error becomes a one-line reply: a CR or LF in it would forge reply lines.
  EXPECT_EQ(ParseError("*1\r\n\r\n"), "ERR Protocol error: expected '$', got ' '");
}

TEST_F(RespParserTest, BulkDataNotFollowedByCrlfIsRejected) {
  EXPECT_EQ(ParseError("*1\r\n$3\r\nabcd\r\n"),
            "ERR Protocol error: expected CRLF after bulk data");
}

TEST_F(RespParserTest, BulkDataFollowedByCrWithoutLfIsRejected) {
  EXPECT_EQ(ParseError("*1\r\n$3\r\nabc\rX"), "ERR Protocol error: expected CRLF after bulk data");
}

TEST_F(RespParserTest, BadByteAfterBulkDataIsRejectedWithoutWaitingForMore) {
  EXPECT_EQ(ParseError("*1\r\n$3\r\nabcd"), "ERR Protocol error: expected CRLF after bulk data");
}

TEST_F(RespParserTest, ErrorInSecondElementIsReported) {
  EXPECT_EQ(ParseError("*2\r\n$3\r\nGET\r\n$x\r\n"), "ERR Protocol error: invalid bulk length");
}

TEST_F(RespParserTest, ParserStartsAfreshAfterAnError) {
  ASSERT_EQ(ParseError("*1\r\n$3\r\nabcd"), "ERR Protocol error: expected CRLF after bulk data");
  EXPECT_EQ(ParseOne(Multibulk({"PING"})), (Argv{"PING"}));
}

// ---------------------------------------------------------------------------------------
// Inline commands

TEST_F(RespParserTest, InlineCommand) { EXPECT_EQ(ParseOne("PING\r\n"), (Argv{"PING"})); }

TEST_F(RespParserTest, InlineSplitsOnRunsOfSpacesAndTabs) {
  EXPECT_EQ(ParseOne(" \tSET  k\t\tv \t\r\n"), (Argv{"SET", "k", "v"}));
}

TEST_F(RespParserTest, InlineEndsAtLfAlone) { EXPECT_EQ(ParseOne("GET k\n"), (Argv{"GET", "k"})); }

TEST_F(RespParserTest, InlineBlankLineGivesEmptyArgv) {
  EXPECT_TRUE(ParseOne("\r\n").empty());
  EXPECT_TRUE(ParseOne("\n").empty());
  EXPECT_TRUE(ParseOne(" \t \r\n").empty());
}

TEST_F(RespParserTest, InlineWithoutLfNeedsMore) {
  EXPECT_EQ(Parse("GET k").status, ParseStatus::kNeedMore);
  EXPECT_EQ(Parse("GET k\r").status, ParseStatus::kNeedMore);
  EXPECT_EQ(ParseOne("GET k\r\n"), (Argv{"GET", "k"}));
}

TEST_F(RespParserTest, InlineOfExactlyMaxInlineIsAccepted) {
  RespParser parser(RespLimits{.max_inline = 16});
  const std::string request = "GET " + std::string(12, 'k') + "\r\n";
  const ParseResult r = parser.Parse(request, &argv_);
  ASSERT_EQ(r.status, ParseStatus::kOk) << r.error;
  EXPECT_EQ(Copy(argv_), (Argv{"GET", std::string(12, 'k')}));
}

TEST_F(RespParserTest, TooBigInlineIsRejectedBeforeItsLf) {
  RespParser parser(RespLimits{.max_inline = 16});
  const ParseResult r = parser.Parse("GET " + std::string(13, 'k'), &argv_);
  EXPECT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.error, "ERR Protocol error: too big inline request");
}

TEST_F(RespParserTest, TooBigInlineAtDefaultLimit) {
  EXPECT_EQ(ParseError(std::string(64 * 1024 + 2, 'a')),
            "ERR Protocol error: too big inline request");
}

}  // namespace
}  // namespace memento::proto
