#include "tools/benchmark/reply_parser.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace memento::benchmark {
namespace {

// A reply as the test compares it: type, text (copied), elements.
struct Parsed {
  ReplyType type;
  std::string text;
  int64_t elements;
  bool operator==(const Parsed&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Parsed& p) {
  return os << ReplyTypeName(p.type) << " '" << p.text << "' " << p.elements;
}

// Feeds `stream` all at once; returns every reply parsed and sets *error on kError.
std::vector<Parsed> ParseAll(ReplyParser* parser, const std::string& stream, std::string* error,
                             size_t* left_over = nullptr) {
  std::vector<Parsed> out;
  std::string_view rest = stream;
  for (;;) {
    Reply reply;
    ParseResult r = parser->Parse(rest, &reply);
    if (r.status == ParseStatus::kError) {
      *error = r.error;
      return out;
    }
    if (r.status == ParseStatus::kNeedMore) break;
    out.push_back({reply.type, std::string(reply.text), reply.elements});
    rest.remove_prefix(r.consumed);
  }
  if (left_over != nullptr) *left_over = rest.size();
  return out;
}

// Feeds `stream` one byte at a time, as a receive buffer that only grows at the end and
// loses replies at the front once parsed.
std::vector<Parsed> ParseByteByByte(ReplyParser* parser, const std::string& stream,
                                    std::string* error) {
  std::vector<Parsed> out;
  std::string buffer;
  for (char c : stream) {
    buffer.push_back(c);
    for (;;) {
      Reply reply;
      ParseResult r = parser->Parse(buffer, &reply);
      if (r.status == ParseStatus::kError) {
        *error = r.error;
        return out;
      }
      if (r.status == ParseStatus::kNeedMore) break;
      out.push_back({reply.type, std::string(reply.text), reply.elements});
      buffer.erase(0, r.consumed);
    }
  }
  return out;
}

const std::string kRespStream =
    "+OK\r\n"
    "-ERR unknown command 'FOO'\r\n"
    ":-42\r\n"
    "$5\r\nhello\r\n"
    "$0\r\n\r\n"
    "$-1\r\n"
    "$13\r\nwith\r\nCRLF in\r\n"
    "*-1\r\n"
    "*0\r\n"
    "*3\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n+x\r\n"
    "+PONG\r\n";

const std::vector<Parsed> kRespExpected = {
    {ReplyType::kStatus, "OK", 0},
    {ReplyType::kError, "ERR unknown command 'FOO'", 0},
    {ReplyType::kInteger, "-42", 0},
    {ReplyType::kBulk, "hello", 0},
    {ReplyType::kBulk, "", 0},
    {ReplyType::kNil, "", 0},
    {ReplyType::kBulk, "with\r\nCRLF in", 0},
    {ReplyType::kNil, "", 0},
    {ReplyType::kArray, "", 0},
    {ReplyType::kArray, "", 3},
    {ReplyType::kStatus, "PONG", 0},
};

TEST(RespReplyParserTest, ParsesEveryReplyTypeWhole) {
  RespReplyParser parser(1 << 20);
  std::string error;
  size_t left = 99;
  EXPECT_EQ(ParseAll(&parser, kRespStream, &error, &left), kRespExpected);
  EXPECT_EQ(error, "");
  EXPECT_EQ(left, 0u);
}

TEST(RespReplyParserTest, ParsesEveryReplyTypeByteByByte) {
  RespReplyParser parser(1 << 20);
  std::string error;
  EXPECT_EQ(ParseByteByByte(&parser, kRespStream, &error), kRespExpected);
  EXPECT_EQ(error, "");
}

TEST(RespReplyParserTest, EverySplitPointGivesTheSameReplies) {
  for (size_t split = 1; split < kRespStream.size(); split++) {
    RespReplyParser parser(1 << 20);
    std::vector<Parsed> out;
    std::string buffer = kRespStream.substr(0, split);
    auto drain = [&] {
      for (;;) {
        Reply reply;
        ParseResult r = parser.Parse(buffer, &reply);
        ASSERT_NE(r.status, ParseStatus::kError) << r.error;
        if (r.status == ParseStatus::kNeedMore) return;
        out.push_back({reply.type, std::string(reply.text), reply.elements});
        buffer.erase(0, r.consumed);
      }
    };
    drain();
    buffer += kRespStream.substr(split);
    drain();
    EXPECT_EQ(out, kRespExpected) << "split at " << split;
  }
}

TEST(RespReplyParserTest, IncompleteReplyNeedsMore) {
  RespReplyParser parser(1 << 20);
  Reply reply;
  EXPECT_EQ(parser.Parse("$5\r\nhel", &reply).status, ParseStatus::kNeedMore);
  EXPECT_EQ(parser.Parse("$5\r\nhello\r", &reply).status, ParseStatus::kNeedMore);
  ParseResult r = parser.Parse("$5\r\nhello\r\n+OK", &reply);
  EXPECT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.consumed, 11u);
  EXPECT_EQ(reply.text, "hello");
}

TEST(RespReplyParserTest, GarbageIsAnError) {
  for (const char* bad : {"hello\r\n", "$abc\r\n", "$-2\r\n", "*x\r\n", ":12a\r\n",
                          "+OK\n", "$3\r\nabcXY", "\r\n"}) {
    RespReplyParser parser(1 << 20);
    std::string error;
    ParseAll(&parser, bad, &error);
    EXPECT_NE(error, "") << "accepted: " << bad;
  }
}

TEST(RespReplyParserTest, OversizedRepliesAreErrors) {
  RespReplyParser parser(100);
  std::string error;
  ParseAll(&parser, "$1000\r\n", &error);
  EXPECT_NE(error.find("over the limit"), std::string::npos) << error;
  RespReplyParser parser2(100);
  error.clear();
  ParseAll(&parser2, "+" + std::string(200, 'a'), &error);
  EXPECT_NE(error.find("without a line end"), std::string::npos) << error;
}

TEST(RespReplyParserTest, DeepNestingIsAnError) {
  RespReplyParser parser(1 << 20);
  std::string stream;
  for (size_t i = 0; i <= RespReplyParser::kMaxDepth; i++) stream += "*1\r\n";
  std::string error;
  ParseAll(&parser, stream, &error);
  EXPECT_NE(error.find("nested"), std::string::npos) << error;
}

const std::string kTextStream =
    "OK\r\n"
    "(null)\r\n"
    "mb:keyone:0123456789\r\n"
    "(error) ERR wrong number of arguments for 'set' command\r\n"
    "(Unknown command)\r\n"
    "-2\r\n"
    "\r\n";

const std::vector<Parsed> kTextExpected = {
    {ReplyType::kLine, "OK", 0},
    {ReplyType::kNil, "", 0},
    {ReplyType::kLine, "mb:keyone:0123456789", 0},
    {ReplyType::kError, "ERR wrong number of arguments for 'set' command", 0},
    {ReplyType::kError, "Unknown command", 0},
    {ReplyType::kLine, "-2", 0},
    {ReplyType::kLine, "", 0},
};

TEST(TextReplyParserTest, ParsesReplyShapesWhole) {
  TextReplyParser parser(1 << 20);
  std::string error;
  EXPECT_EQ(ParseAll(&parser, kTextStream, &error), kTextExpected);
  EXPECT_EQ(error, "");
}

TEST(TextReplyParserTest, ParsesReplyShapesByteByByte) {
  TextReplyParser parser(1 << 20);
  std::string error;
  EXPECT_EQ(ParseByteByByte(&parser, kTextStream, &error), kTextExpected);
  EXPECT_EQ(error, "");
}

TEST(TextReplyParserTest, BareLineFeedAndEndlessLinesAreErrors) {
  TextReplyParser parser(1 << 20);
  std::string error;
  ParseAll(&parser, "OK\n", &error);
  EXPECT_NE(error.find("CRLF"), std::string::npos) << error;
  TextReplyParser small(10);
  error.clear();
  ParseAll(&small, std::string(50, 'x'), &error);
  EXPECT_NE(error.find("longer than 10"), std::string::npos) << error;
}

TEST(ReplyParserTest, CreatePicksTheProtocol) {
  auto resp = ReplyParser::Create(Protocol::kResp, 1024);
  auto text = ReplyParser::Create(Protocol::kText, 1024);
  Reply reply;
  ASSERT_EQ(resp->Parse("+OK\r\n", &reply).status, ParseStatus::kOk);
  EXPECT_EQ(reply.type, ReplyType::kStatus);
  ASSERT_EQ(text->Parse("+OK\r\n", &reply).status, ParseStatus::kOk);
  EXPECT_EQ(reply.type, ReplyType::kLine);
}

}  // namespace
}  // namespace memento::benchmark
