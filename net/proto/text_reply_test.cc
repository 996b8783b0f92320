#include "net/proto/text_reply.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace memento::proto {
namespace {

using std::string_literals::operator""s;

class TextReplyTest : public ::testing::Test {
 protected:
  std::string out_;
  TextReplyBuilder builder_{&out_};
};

TEST_F(TextReplyTest, Ok) {
  builder_.Ok();
  EXPECT_EQ(out_, "OK\r\n");
}

TEST_F(TextReplyTest, Null) {
  builder_.Null();
  EXPECT_EQ(out_, "(null)\r\n");
}

TEST_F(TextReplyTest, Status) {
  builder_.Status("PONG");
  EXPECT_EQ(out_, "PONG\r\n");
}

TEST_F(TextReplyTest, ErrorIsPrefixed) {
  builder_.Error("ERR value is not an integer or out of range");
  EXPECT_EQ(out_, "(error) ERR value is not an integer or out of range\r\n");
}

TEST_F(TextReplyTest, IntegerZero) {
  builder_.Integer(0);
  EXPECT_EQ(out_, "0\r\n");
}

TEST_F(TextReplyTest, IntegerNegative) {
  builder_.Integer(-42);
  EXPECT_EQ(out_, "-42\r\n");
}

TEST_F(TextReplyTest, IntegerInt64Max) {
  builder_.Integer(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(out_, "9223372036854775807\r\n");
}

TEST_F(TextReplyTest, IntegerInt64Min) {
  builder_.Integer(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(out_, "-9223372036854775808\r\n");
}

TEST_F(TextReplyTest, BulkIsSentAsItIs) {
  builder_.Bulk("hello  world ");
  EXPECT_EQ(out_, "hello  world \r\n");
}

TEST_F(TextReplyTest, EmptyBulkIsAnEmptyLine) {
  builder_.Bulk("");
  EXPECT_EQ(out_, "\r\n");
}

TEST_F(TextReplyTest, BulkKeepsBinaryBytes) {
  builder_.Bulk("a\0\xff"s);
  EXPECT_EQ(out_, "a\0\xff\r\n"s);
}

TEST_F(TextReplyTest, ArrayHeaderIsTheCount) {
  builder_.ArrayHeader(3);
  EXPECT_EQ(out_, "3\r\n");
}

TEST_F(TextReplyTest, EmptyArrayHeader) {
  builder_.ArrayHeader(0);
  EXPECT_EQ(out_, "0\r\n");
}

TEST_F(TextReplyTest, ArrayHeaderSizeMax) {
  builder_.ArrayHeader(std::numeric_limits<size_t>::max());
  EXPECT_EQ(out_, std::to_string(std::numeric_limits<size_t>::max()) + "\r\n");
}

TEST_F(TextReplyTest, RepliesAreAppendedInOrder) {
  out_ = "pending\r\n";
  builder_.ArrayHeader(2);
  builder_.Bulk("v");
  builder_.Null();
  builder_.Ok();
  EXPECT_EQ(out_, "pending\r\n2\r\nv\r\n(null)\r\nOK\r\n");
}

}  // namespace
}  // namespace memento::proto
