#include "net/proto/text_parser.h"

#include <gtest/gtest.h>

#include "net/proto/resp_parser.h"

#include <string>
#include <string_view>
#include <vector>

namespace memento::proto {
namespace {

using std::string_literals::operator""s;
using std::string_view_literals::operator""sv;

// argv copied out of the input buffer, so it can outlive it and be compared.
using Argv = std::vector<std::string>;

constexpr size_t kDefaultMaxLine = 65536;

Argv Copy(const std::vector<std::string_view>& argv) { return Argv(argv.begin(), argv.end()); }

// Feeds `stream` to a fresh parser the way a connection does: the bytes arrive in
// pieces ending at each offset in `cuts` (ascending) and then the rest; each piece is
// appended to an input buffer, every complete request in it is parsed and dropped from
// its front. Returns the requests in order. Expects no error and no leftover bytes.
std::vector<Argv> Feed(std::string_view stream, const std::vector<size_t>& cuts,
                       size_t max_line = kDefaultMaxLine) {
  TextParser parser(max_line);
  std::string buffer;
  std::vector<std::string_view> argv;
  std::vector<Argv> requests;
  auto drain = [&] {
    while (true) {
      const ParseResult r = parser.Parse(buffer, &argv);
      if (r.status != ParseStatus::kOk) {
        EXPECT_EQ(r.status, ParseStatus::kNeedMore) << r.error;
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

class TextParserTest : public ::testing::Test {
 protected:
  ParseResult Parse(std::string_view input) { return parser_.Parse(input, &argv_); }

  // Parses `line`, which must be exactly one complete request, and returns its argv.
  Argv ParseOne(std::string_view line) {
    const ParseResult r = Parse(line);
    EXPECT_EQ(r.status, ParseStatus::kOk) << r.error;
    EXPECT_EQ(r.consumed, line.size());
    return Copy(argv_);
  }

  TextParser parser_{kDefaultMaxLine};
  std::vector<std::string_view> argv_;
};

TEST_F(TextParserTest, SimpleCommand) {
  const ParseResult r = Parse("GET key\r\n");
  EXPECT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.consumed, 9u);
  EXPECT_EQ(Copy(argv_), (Argv{"GET", "key"}));
}

TEST_F(TextParserTest, CommandWithoutArguments) {
  EXPECT_EQ(ParseOne("FLUSH\r\n"), (Argv{"FLUSH"}));
}

TEST_F(TextParserTest, LfAloneEndsTheLineLikeCrlf) {
  EXPECT_EQ(ParseOne("DEL a b\n"), (Argv{"DEL", "a", "b"}));
  EXPECT_EQ(ParseOne("DEL a b\r\n"), (Argv{"DEL", "a", "b"}));
}

TEST_F(TextParserTest, RunsOfSpacesAndTabsSeparateTokens) {
  EXPECT_EQ(ParseOne(" \tDEL  a\t\tb \t c \t\r\n"), (Argv{"DEL", "a", "b", "c"}));
}

TEST_F(TextParserTest, SetTakesRestOfLine) {
  EXPECT_EQ(ParseOne("SET k hello world\r\n"), (Argv{"SET", "k", "hello world"}));
}

TEST_F(TextParserTest, LowerCaseAppendTakesRestOfLine) {
  EXPECT_EQ(ParseOne("append k hello world\r\n"), (Argv{"append", "k", "hello world"}));
}

TEST_F(TextParserTest, MixedCasePrependTakesRestOfLine) {
  EXPECT_EQ(ParseOne("Prepend k hello world\r\n"), (Argv{"Prepend", "k", "hello world"}));
}

TEST_F(TextParserTest, OtherCommandsSplitEveryToken) {
  EXPECT_EQ(ParseOne("SETX k a b\r\n"), (Argv{"SETX", "k", "a", "b"}));
  EXPECT_EQ(ParseOne("GET k a b\r\n"), (Argv{"GET", "k", "a", "b"}));
}

TEST_F(TextParserTest, ValueKeepsInnerAndTrailingSpaces) {
  EXPECT_EQ(ParseOne("SET \tk \t a  b\t c \t \r\n"), (Argv{"SET", "k", "a  b\t c \t "}));
}

TEST_F(TextParserTest, SetWithoutValueGivesTwoTokens) {
  EXPECT_EQ(ParseOne("SET k\r\n"), (Argv{"SET", "k"}));
}

TEST_F(TextParserTest, SetWithOnlySeparatorsAfterKeyGivesTwoTokens) {
  EXPECT_EQ(ParseOne("SET k  \t \r\n"), (Argv{"SET", "k"}));
}

TEST_F(TextParserTest, BlankLineGivesEmptyArgv) {
  EXPECT_TRUE(ParseOne("\r\n").empty());
  EXPECT_TRUE(ParseOne("\n").empty());
}

TEST_F(TextParserTest, LineOfSeparatorsGivesEmptyArgv) {
  EXPECT_TRUE(ParseOne(" \t  \r\n").empty());
}

// A text connection hands the lines of commands the text protocol lacks to the command
// layer as Redis inline commands (docs/protocol.md, "One port, two protocols"): their
// words must be exactly what the RESP2 parser's inline path (a RESP connection's
// inline line) gives, blank lines included. Only SET, APPEND and PREPEND (text
// commands) keep the rest of the line.
TEST_F(TextParserTest, InlineLinesGiveTheWordsRespInlineParsingGives) {
  for (std::string_view line :
       {"PING\r\n"sv, "ping\n"sv, "PING hello\r\n"sv, "ECHO  a\tb \r\n"sv, "\r\n"sv, " \t \n"sv,
        "FROB x y\r\n"sv, "INCR counter:__rand_int__\r\n"sv, "ECHO \"a b\"\r\n"sv,
        "AUTH default s3cret\r\n"sv, "ECHO a\rb\r\n"sv}) {
    RespParser resp;
    std::vector<std::string_view> resp_argv;
    const ParseResult expected = resp.Parse(line, &resp_argv);
    ASSERT_EQ(expected.status, ParseStatus::kOk) << line;
    const ParseResult r = Parse(line);
    ASSERT_EQ(r.status, ParseStatus::kOk) << line;
    EXPECT_EQ(r.consumed, expected.consumed) << line;
    EXPECT_EQ(Copy(argv_), Copy(resp_argv)) << line;
  }
}

TEST_F(TextParserTest, PipelinedRequestsParseOneAfterAnother) {
  std::string_view input = "SET a 1 2\r\nGET a\n\r\nDEL a\r\nGET";
  ParseResult r = Parse(input);
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.consumed, 11u);
  EXPECT_EQ(Copy(argv_), (Argv{"SET", "a", "1 2"}));
  input.remove_prefix(r.consumed);

  r = Parse(input);
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.consumed, 6u);
  EXPECT_EQ(Copy(argv_), (Argv{"GET", "a"}));
  input.remove_prefix(r.consumed);

  r = Parse(input);
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.consumed, 2u);
  EXPECT_TRUE(argv_.empty());
  input.remove_prefix(r.consumed);

  r = Parse(input);
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.consumed, 7u);
  EXPECT_EQ(Copy(argv_), (Argv{"DEL", "a"}));
  input.remove_prefix(r.consumed);

  r = Parse(input);
  EXPECT_EQ(r.status, ParseStatus::kNeedMore);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_EQ(input, "GET");
}

TEST_F(TextParserTest, PartialLineNeedsMore) {
  for (std::string_view partial : {"", "G", "GET ke", "GET key\r"}) {
    const ParseResult r = Parse(partial);
    EXPECT_EQ(r.status, ParseStatus::kNeedMore) << partial;
    EXPECT_EQ(r.consumed, 0u) << partial;
  }
  EXPECT_EQ(ParseOne("GET key\r\n"), (Argv{"GET", "key"}));
}

TEST_F(TextParserTest, ArgvPointsIntoInput) {
  const std::string input = "SET key some value\r\n";
  ASSERT_EQ(Parse(input).status, ParseStatus::kOk);
  ASSERT_EQ(argv_.size(), 3u);
  EXPECT_EQ(argv_[0].data(), input.data());
  EXPECT_EQ(argv_[1].data(), input.data() + 4);
  EXPECT_EQ(argv_[2].data(), input.data() + 8);
}

TEST_F(TextParserTest, ArgvCapacityIsReused) {
  ASSERT_EQ(Parse("a b c d e f g h i j\n").status, ParseStatus::kOk);
  const size_t capacity = argv_.capacity();
  ASSERT_EQ(Parse("x\n").status, ParseStatus::kOk);
  EXPECT_EQ(argv_.size(), 1u);
  EXPECT_EQ(argv_.capacity(), capacity);
}

TEST_F(TextParserTest, LoneCrInsideValueIsKept) {
  EXPECT_EQ(ParseOne("SET k a\rb\r\n"), (Argv{"SET", "k", "a\rb"}));
}

TEST_F(TextParserTest, CrBeforeTheTerminatorIsPartOfTheValue) {
  EXPECT_EQ(ParseOne("SET k v\r\r\n"), (Argv{"SET", "k", "v\r"}));
}

TEST_F(TextParserTest, LoneCrInOtherTokensIsPartOfTheToken) {
  EXPECT_EQ(ParseOne("GET\r a\rb\r\n"), (Argv{"GET\r", "a\rb"}));
}

TEST_F(TextParserTest, BinaryBytesInsideTokens) {
  const std::string line = "SET k\0\xff\xfe v\0al\x80\xc3\r\n"s;
  EXPECT_EQ(ParseOne(line), (Argv{"SET", "k\0\xff\xfe"s, "v\0al\x80\xc3"s}));
}

TEST_F(TextParserTest, NulIsNotASeparator) {
  EXPECT_EQ(ParseOne("DEL a\0b\n"s), (Argv{"DEL", "a\0b"s}));
}

// ---------------------------------------------------------------------------------------
// Line length limit

class TextParserLimitTest : public ::testing::Test {
 protected:
  static constexpr size_t kMaxLine = 16;

  ParseResult Parse(std::string_view input) { return parser_.Parse(input, &argv_); }

  TextParser parser_{kMaxLine};
  std::vector<std::string_view> argv_;
};

TEST_F(TextParserLimitTest, LineOfExactlyMaxLineWithLfIsAccepted) {
  const std::string line = "GET " + std::string(kMaxLine - 4, 'k');
  ASSERT_EQ(line.size(), kMaxLine);
  const std::string request = line + "\n";  // outlives argv_, which points into it
  const ParseResult r = Parse(request);
  ASSERT_EQ(r.status, ParseStatus::kOk) << r.error;
  EXPECT_EQ(r.consumed, kMaxLine + 1);
  EXPECT_EQ(Copy(argv_), (Argv{"GET", line.substr(4)}));
}

TEST_F(TextParserLimitTest, LineOfExactlyMaxLineWithCrlfIsAcceptedByteByByte) {
  const std::string request = "SET k " + std::string(kMaxLine - 6, 'v') + "\r\n";
  ASSERT_EQ(request.size(), kMaxLine + 2);
  for (size_t len = 0; len < request.size(); ++len) {
    EXPECT_EQ(Parse(std::string_view(request).substr(0, len)).status, ParseStatus::kNeedMore)
        << len;
  }
  const ParseResult r = Parse(request);
  ASSERT_EQ(r.status, ParseStatus::kOk) << r.error;
  EXPECT_EQ(r.consumed, request.size());
  EXPECT_EQ(Copy(argv_), (Argv{"SET", "k", std::string(kMaxLine - 6, 'v')}));
}

TEST_F(TextParserLimitTest, OverMaxLineWithoutNewlineIsErrorAtOnce) {
  const std::string bytes(kMaxLine + 1, 'a');
  EXPECT_EQ(Parse(std::string_view(bytes).substr(0, kMaxLine)).status, ParseStatus::kNeedMore);
  const ParseResult r = Parse(bytes);
  EXPECT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_EQ(r.error, "ERR line too long (over 16 bytes)");
}

TEST_F(TextParserLimitTest, OverMaxLineInOneLargeReadIsError) {
  const std::string bytes(10 * kMaxLine, 'a');
  EXPECT_EQ(Parse(bytes).status, ParseStatus::kError);
}

TEST_F(TextParserLimitTest, MaxLineThenCrThenOtherByteIsError) {
  const std::string bytes = std::string(kMaxLine, 'a') + "\rb";
  EXPECT_EQ(Parse(bytes).status, ParseStatus::kError);
}

TEST_F(TextParserLimitTest, OverMaxLineEndingInLfIsError) {
  const std::string bytes = std::string(kMaxLine + 1, 'a') + "\n";
  EXPECT_EQ(Parse(bytes).status, ParseStatus::kError);
}

TEST_F(TextParserLimitTest, LimitAppliesToEachPipelinedLine) {
  const std::string first = std::string(kMaxLine, 'a') + "\r\n";
  const std::string input = first + std::string(kMaxLine + 1, 'b');
  const ParseResult r = Parse(input);
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.consumed, first.size());
  EXPECT_EQ(Parse(std::string_view(input).substr(r.consumed)).status, ParseStatus::kError);
}

TEST(TextParserErrorTest, MessageNamesTheLimit) {
  TextParser parser(65536);
  std::vector<std::string_view> argv;
  const ParseResult r = parser.Parse(std::string(65537, 'x'), &argv);
  EXPECT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.error, "ERR line too long (over 65536 bytes)");
}

// ---------------------------------------------------------------------------------------
// Property: however the bytes are split into reads, the requests are the same.

constexpr size_t kMixedMaxLine = 32;

// Many kinds of request back to back, including one of exactly kMixedMaxLine bytes.
std::string MixedRequests() {
  std::string s;
  s += "SET k1 hello world\r\n";
  s += "GET k1\n";
  s += "\r\n";
  s += " \t \n";
  s += "append\tk1  tail  \r\n";
  s += "\n";
  s += "DEL a b\t c\r\n";
  s += "Prepend k2 \t\r\n";
  s += "set k3 a\rb\r\n";
  s += "GET bin\0\xff\xfe"s + "key\n";
  s += "INC n 5\r\n";
  s += "SET k4 v\r\r\n";
  s += "GET\r k\n";
  s += "SET k5 " + std::string(kMixedMaxLine - 7, 'x') + "\r\n";
  s += "  PING  \r\n";
  return s;
}

std::vector<Argv> MixedRequestsArgv() {
  return {
      {"SET", "k1", "hello world"},
      {"GET", "k1"},
      {},
      {},
      {"append", "k1", "tail  "},
      {},
      {"DEL", "a", "b", "c"},
      {"Prepend", "k2"},
      {"set", "k3", "a\rb"},
      {"GET", "bin\0\xff\xfe"s + "key"},
      {"INC", "n", "5"},
      {"SET", "k4", "v\r"},
      {"GET\r", "k"},
      {"SET", "k5", std::string(kMixedMaxLine - 7, 'x')},
      {"PING"},
  };
}

TEST(TextParserSplitTest, WholeBufferGivesExpectedRequests) {
  EXPECT_EQ(Feed(MixedRequests(), {}, kMixedMaxLine), MixedRequestsArgv());
}

TEST(TextParserSplitTest, SplitAtEveryOffsetGivesSameRequests) {
  const std::string stream = MixedRequests();
  const std::vector<Argv> whole = Feed(stream, {}, kMixedMaxLine);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    EXPECT_EQ(Feed(stream, {cut}, kMixedMaxLine), whole) << "split at " << cut;
  }
}

TEST(TextParserSplitTest, ByteByByteGivesSameRequests) {
  const std::string stream = MixedRequests();
  std::vector<size_t> cuts;
  for (size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(Feed(stream, cuts, kMixedMaxLine), Feed(stream, {}, kMixedMaxLine));
}

}  // namespace
}  // namespace memento::proto
