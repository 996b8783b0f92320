#include "net/proto/resp_reply.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace memento::proto {
namespace {

using std::string_literals::operator""s;

class RespReplyTest : public ::testing::Test {
 protected:
  std::string out_;
  RespReplyBuilder builder_{&out_};
};

TEST_F(RespReplyTest, Ok) {
  builder_.Ok();
  EXPECT_EQ(out_, "+OK\r\n");
}

TEST_F(RespReplyTest, NullIsTheNullBulkString) {
  builder_.Null();
  EXPECT_EQ(out_, "$-1\r\n");
}

TEST_F(RespReplyTest, Status) {
  builder_.Status("PONG");
  EXPECT_EQ(out_, "+PONG\r\n");
}

TEST_F(RespReplyTest, Error) {
  builder_.Error("ERR value is not an integer or out of range");
  EXPECT_EQ(out_, "-ERR value is not an integer or out of range\r\n");
}

TEST_F(RespReplyTest, IntegerZero) {
  builder_.Integer(0);
  EXPECT_EQ(out_, ":0\r\n");
}

TEST_F(RespReplyTest, IntegerNegative) {
  builder_.Integer(-42);
  EXPECT_EQ(out_, ":-42\r\n");
}

TEST_F(RespReplyTest, IntegerInt64Max) {
  builder_.Integer(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(out_, ":9223372036854775807\r\n");
}

TEST_F(RespReplyTest, IntegerInt64Min) {
  builder_.Integer(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(out_, ":-9223372036854775808\r\n");
}

TEST_F(RespReplyTest, Bulk) {
  builder_.Bulk("hello");
  EXPECT_EQ(out_, "$5\r\nhello\r\n");
}

TEST_F(RespReplyTest, EmptyBulk) {
  builder_.Bulk("");
  EXPECT_EQ(out_, "$0\r\n\r\n");
}

TEST_F(RespReplyTest, BulkIsBinarySafe) {
  const std::string value = "a\r\nb\0c\xff"s;
  builder_.Bulk(value);
  EXPECT_EQ(out_, "$7\r\n" + value + "\r\n");
}

TEST_F(RespReplyTest, LargeBulkLengthHasAllItsDigits) {
  const std::string value(123456, 'v');
  builder_.Bulk(value);
  EXPECT_EQ(out_, "$123456\r\n" + value + "\r\n");
}

TEST_F(RespReplyTest, ArrayHeader) {
  builder_.ArrayHeader(3);
  EXPECT_EQ(out_, "*3\r\n");
}

TEST_F(RespReplyTest, EmptyArrayHeader) {
  builder_.ArrayHeader(0);
  EXPECT_EQ(out_, "*0\r\n");
}

TEST_F(RespReplyTest, ArrayHeaderSizeMax) {
  builder_.ArrayHeader(std::numeric_limits<size_t>::max());
  EXPECT_EQ(out_, "*" + std::to_string(std::numeric_limits<size_t>::max()) + "\r\n");
}

TEST_F(RespReplyTest, NullArray) {
  builder_.NullArray();
  EXPECT_EQ(out_, "*-1\r\n");
}

TEST_F(RespReplyTest, RepliesAreAppended) {
  out_ = "prior";
  builder_.ArrayHeader(2);
  builder_.Bulk("a");
  builder_.Null();
  builder_.Integer(7);
  EXPECT_EQ(out_, "prior*2\r\n$1\r\na\r\n$-1\r\n:7\r\n");
}

TEST_F(RespReplyTest, WorksThroughTheReplyBuilderInterface) {
  ReplyBuilder& builder = builder_;
  builder.Ok();
  builder.Status("PONG");
  builder.Error("ERR x");
  EXPECT_EQ(out_, "+OK\r\n+PONG\r\n-ERR x\r\n");
}

}  // namespace
}  // namespace memento::proto
