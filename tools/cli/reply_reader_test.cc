#include "tools/cli/reply_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tools/cli/client.h"

namespace memento::client {
namespace {

using namespace std::string_literals;

// Feeds `bytes` cut at every position in `cuts` (and, with `one_by_one`, a byte at
// a time) and collects the replies; fails the test on a reader error.
std::vector<Reply> ReadAll(Dialect dialect, const std::string& bytes, std::vector<TextShape> shapes,
                           size_t step) {
  ReplyReader reader(dialect);
  std::vector<Reply> replies;
  size_t shape_index = 0;
  for (size_t at = 0; at < bytes.size(); at += step) {
    reader.Feed(std::string_view(bytes).substr(at, step));
    for (;;) {
      const TextShape shape = shape_index < shapes.size() ? shapes[shape_index] : TextShape::kLine;
      Result<std::optional<Reply>> next = reader.Next(shape);
      EXPECT_TRUE(next.ok()) << next.status().ToString();
      if (!next.ok() || !next->has_value()) break;
      replies.push_back(std::move(**next));
      shape_index++;
    }
  }
  EXPECT_EQ(reader.buffered(), 0u);
  return replies;
}

// The same bytes give the same replies whatever the chunk size, 1 byte included.
void ExpectSameAtEverySplit(Dialect dialect, const std::string& bytes,
                            const std::vector<TextShape>& shapes,
                            const std::vector<Reply>& expected) {
  for (size_t step = 1; step <= bytes.size(); step++) {
    EXPECT_EQ(ReadAll(dialect, bytes, shapes, step), expected) << "chunks of " << step << " bytes";
  }
}

Reply Nil() {
  Reply r;
  r.type = Reply::Type::kNil;
  return r;
}

TEST(ReplyReaderTest, RespScalarsAtEverySplit) {
  const std::string bytes = "+OK\r\n-ERR no\r\n:-42\r\n$5\r\na\r\nb\0\r\n$0\r\n\r\n$-1\r\n*-1\r\n"s;
  Reply nil_array;
  nil_array.type = Reply::Type::kNilArray;
  ExpectSameAtEverySplit(Dialect::kResp, bytes, {},
                         {Reply::Status("OK"), Reply::Error("ERR no"), Reply::Integer(-42),
                          Reply::Bulk(std::string("a\r\nb\0", 5)), Reply::Bulk(""), Nil(),
                          nil_array});
}

TEST(ReplyReaderTest, RespNestedArraysAtEverySplit) {
  // SCAN's shape, an empty array, and GETP's.
  const std::string bytes =
      "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n*0\r\n"
      "*4\r\n$1\r\nk\r\n$1\r\nv\r\n:1700000000000\r\n:-1\r\n";
  ExpectSameAtEverySplit(
      Dialect::kResp, bytes, {},
      {Reply::Array({Reply::Bulk("0"), Reply::Array({Reply::Bulk("a"), Reply::Bulk("b")})}),
       Reply::Array({}),
       Reply::Array({Reply::Bulk("k"), Reply::Bulk("v"), Reply::Integer(1700000000000),
                     Reply::Integer(-1)})});
}

TEST(ReplyReaderTest, RespManyElementsInOneReply) {
  std::string bytes = "*1000\r\n";
  std::vector<Reply> elements;
  for (int i = 0; i < 1000; i++) {
    const std::string key = "key:" + std::to_string(i);
    bytes += "$" + std::to_string(key.size()) + "\r\n" + key + "\r\n";
    elements.push_back(Reply::Bulk(key));
  }
  for (size_t step : {1, 7, 100, 4096}) {
    EXPECT_EQ(ReadAll(Dialect::kResp, bytes, {}, step), std::vector<Reply>{Reply::Array(elements)});
  }
}

TEST(ReplyReaderTest, RespUnknownTypeByteIsCorruptionWithOffset) {
  ReplyReader reader(Dialect::kResp);
  reader.Feed("+OK\r\n?what\r\n");
  ASSERT_TRUE(reader.Next().ok());
  Result<std::optional<Reply>> bad = reader.Next();
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsCorruption());
  EXPECT_NE(bad.status().message().find("byte 5 of the stream"), std::string_view::npos)
      << bad.status().message();
}

TEST(ReplyReaderTest, RespBulkWithoutCrlfIsCorruption) {
  ReplyReader reader(Dialect::kResp);
  reader.Feed("$3\r\nabcXY");
  Result<std::optional<Reply>> bad = reader.Next();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not followed by CRLF"), std::string_view::npos);
}

TEST(ReplyReaderTest, RespBadLengthsAreCorruption) {
  for (const char* bytes : {"$-2\r\n", "*x\r\n", ":12a\r\n"}) {
    ReplyReader reader(Dialect::kResp);
    reader.Feed(bytes);
    EXPECT_FALSE(reader.Next().ok()) << bytes;
  }
}

TEST(ReplyReaderTest, RespIncompleteReplyWaits) {
  ReplyReader reader(Dialect::kResp);
  reader.Feed("*2\r\n$3\r\nab");
  Result<std::optional<Reply>> next = reader.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  reader.Feed("c\r\n:1\r");
  next = reader.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  reader.Feed("\n");
  next = reader.Next();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ(**next, Reply::Array({Reply::Bulk("abc"), Reply::Integer(1)}));
}

TEST(ReplyReaderTest, TextShapesAtEverySplit) {
  // SET -> OK; KEYS -> a block of 3; GETP -> 4 lines; GETP miss -> (null); INFO ->
  // an empty block; KEYS with a wrong arity -> one error line; a line with a bare LF.
  const std::string bytes =
      "OK\r\n3\r\na\r\n12\r\n\r\nkey: k\r\nvalue: v w\r\ncreation_time: 1\r\nexpire_time: -1\r\n"
      "(null)\r\n0\r\n(error) ERR wrong number of arguments for 'keys' command\r\nx\ny\r\n";
  ExpectSameAtEverySplit(
      Dialect::kText, bytes,
      {TextShape::kLine, TextShape::kBlock, TextShape::kGetp, TextShape::kGetp, TextShape::kBlock,
       TextShape::kBlock, TextShape::kLine},
      {Reply::Text({"OK"}), Reply::Text({"3", "a", "12", ""}),
       Reply::Text({"key: k", "value: v w", "creation_time: 1", "expire_time: -1"}),
       Reply::Text({"(null)"}), Reply::Text({"0"}),
       Reply::Text({"(error) ERR wrong number of arguments for 'keys' command"}),
       Reply::Text({"x\ny"})});
}

// The shapes themselves are net/proto/text_commands_test.cc's; here, that a request's
// words reach that table (the subcommand included) and that unframable ones are refused.
TEST(ReplyReaderTest, TextShapeOfRequests) {
  EXPECT_EQ(TextShapeOf("Info"), TextShape::kBlock);
  EXPECT_EQ(TextShapeOfRequest({"keys", "*"}), TextShape::kBlock);
  EXPECT_EQ(TextShapeOfRequest({"cluster", "nodes"}), TextShape::kBlock);
  EXPECT_EQ(TextShapeOfRequest({"CLUSTER", "KEYSLOT", "k"}), TextShape::kLine);
  EXPECT_EQ(TextShapeOfRequest({"GETP", "k"}), TextShape::kGetp);
  EXPECT_TRUE(TextReplyUnframable({"cluster", "slots"}));
  EXPECT_FALSE(TextReplyUnframable({"cluster", "info"}));
  EXPECT_FALSE(EncodeRequest(Dialect::kText, {"CLUSTER", "SHARDS"}).ok());
  EXPECT_TRUE(EncodeRequest(Dialect::kResp, {"CLUSTER", "SHARDS"}).ok());
}

TEST(ReplyReaderTest, TextErrorsAreErrors) {
  EXPECT_TRUE(Reply::Text({"(error) ERR x"}).IsError());
  EXPECT_TRUE(Reply::Text({"(Unknown command)"}).IsError());
  EXPECT_TRUE(Reply::Text({"-ERR max number of clients reached"}).IsError());
  EXPECT_FALSE(Reply::Text({"-2"}).IsError());
  EXPECT_FALSE(Reply::Text({"(null)"}).IsError());
  EXPECT_FALSE(Reply::Text({"OK"}).IsError());
  EXPECT_TRUE(Reply::Error("ERR x").IsError());
}

TEST(EncodeRequestTest, RespIsAnArrayOfBulks) {
  Result<std::string> r = EncodeRequest(Dialect::kResp, {"SET", "k", std::string("a\0b", 3)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\0b\r\n"s);
}

TEST(EncodeRequestTest, TextJoinsWordsAndAllowsSpacesInValuesOnly) {
  EXPECT_EQ(*EncodeRequest(Dialect::kText, {"GET", "k"}), "GET k\r\n");
  EXPECT_EQ(*EncodeRequest(Dialect::kText, {"set", "k", "hello  world "}),
            "set k hello  world \r\n");
  EXPECT_FALSE(EncodeRequest(Dialect::kText, {"GET", "a b"}).ok());
  EXPECT_FALSE(EncodeRequest(Dialect::kText, {"SET", "k", " leading"}).ok());
  EXPECT_FALSE(EncodeRequest(Dialect::kText, {"SET", "k", ""}).ok());
  Result<std::string> newline = EncodeRequest(Dialect::kText, {"SET", "k", "a\nb"});
  ASSERT_FALSE(newline.ok());
  EXPECT_TRUE(newline.status().IsInvalidArgument());
  EXPECT_NE(newline.status().message().find("argument 3 of SET"), std::string_view::npos);
}

}  // namespace
}  // namespace memento::client
