// Command tests without sockets: requests go straight into Commands::Execute and the
// text-protocol reply bytes come back.

#include "daemon/commands.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "net/proto/text_reply.h"

namespace memento::daemon {
namespace {

class CommandsTest : public ::testing::Test {
 protected:
  // Executes one request and returns the reply bytes.
  std::string Run(std::vector<std::string> words) {
    std::vector<std::string_view> argv(words.begin(), words.end());
    std::string out;
    proto::TextReplyBuilder reply(&out);
    commands_.Execute(session_, argv, reply);
    return out;
  }

  table::Table table_;
  Commands commands_{&table_};
  net::Session session_;
};

TEST_F(CommandsTest, SetGetDel) {
  EXPECT_EQ(Run({"SET", "k", "v w"}), "OK\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "v w\r\n");
  EXPECT_EQ(Run({"DEL", "k", "x"}), "OK\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "(null)\r\n");
  EXPECT_EQ(Run({"DEL", "k"}), "(null)\r\n");
}

TEST_F(CommandsTest, BinaryKeysAndValuesRoundTrip) {
  std::string key("k\0ey", 4), value("\xff\x00\x01", 3);
  EXPECT_EQ(Run({"SET", key, value}), "OK\r\n");
  EXPECT_EQ(Run({"GET", key}), value + "\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "(null)\r\n");
}

TEST_F(CommandsTest, HitsAndMissesAreCounted) {
  Run({"SET", "k", "v"});
  Run({"GET", "k"});
  Run({"GET", "nope"});
  Run({"GETP", "nope"});
  EXPECT_EQ(commands_.keyspace_hits(), 1u);
  EXPECT_EQ(commands_.keyspace_misses(), 2u);
}

TEST_F(CommandsTest, IncDecArithmetic) {
  EXPECT_EQ(Run({"INC", "n", "40"}), "OK\r\n");
  EXPECT_EQ(Run({"INC", "n", "2"}), "OK\r\n");
  EXPECT_EQ(Run({"GET", "n"}), "42\r\n");
  EXPECT_EQ(Run({"DEC", "n", "-8"}), "OK\r\n");
  EXPECT_EQ(Run({"GET", "n"}), "50\r\n");
}

TEST_F(CommandsTest, DecByInt64MinOverflows) {
  EXPECT_EQ(Run({"DEC", "n", "-9223372036854775808"}),
            "(error) ERR increment or decrement would overflow\r\n");
  EXPECT_EQ(Run({"GET", "n"}), "(null)\r\n");
}

TEST_F(CommandsTest, IncRejectsNumbersWithSpacesOrLeadingZeros) {
  Run({"SET", "n", "007"});
  EXPECT_EQ(Run({"INC", "n"}), "(error) ERR value is not an integer or out of range\r\n");
  Run({"SET", "n", "5\n"});
  EXPECT_EQ(Run({"INC", "n"}), "(error) ERR value is not an integer or out of range\r\n");
}

TEST_F(CommandsTest, IncfFormatsShortestDecimal) {
  Run({"SET", "f", "10.5"});
  EXPECT_EQ(Run({"INCF", "f", "0.1"}), "OK\r\n");
  EXPECT_EQ(Run({"GET", "f"}), "10.6\r\n");
  Run({"SET", "g", "1e20"});
  EXPECT_EQ(Run({"INCF", "g", "0"}), "OK\r\n");
  EXPECT_EQ(Run({"GET", "g"}), "100000000000000000000\r\n");
}

TEST_F(CommandsTest, GetpLinesAreFramedWithoutCountLine) {
  Run({"SET", "k", "v"});
  std::string reply = Run({"GETP", "k"});
  EXPECT_THAT(reply, ::testing::StartsWith("key: k\r\nvalue: v\r\ncreation_time: "));
  EXPECT_THAT(reply, ::testing::EndsWith("\r\nexpire_time: -1\r\n"));
}

TEST_F(CommandsTest, KeysAreSortedAndFilteredByPrefix) {
  Run({"SET", "b:2", "x"});
  Run({"SET", "a:1", "x"});
  Run({"SET", "b:1", "x"});
  EXPECT_EQ(Run({"KEYS", "b:"}), "2\r\nb:1\r\nb:2\r\n");
  EXPECT_EQ(Run({"KEYS"}), "3\r\na:1\r\nb:1\r\nb:2\r\n");
}

TEST_F(CommandsTest, ExpireOverflowIsAnError) {
  Run({"SET", "k", "v"});
  EXPECT_EQ(Run({"EXPIRE", "k", "9223372036854775807"}),
            "(error) ERR invalid expire time in 'expire' command\r\n");
  EXPECT_EQ(Run({"TTL", "k"}), "-1\r\n");
}

TEST_F(CommandsTest, QuitSetsCloseWithoutReply) {
  EXPECT_EQ(Run({"QUIT"}), "");
  EXPECT_TRUE(session_.close_after_reply);
}

TEST_F(CommandsTest, UnknownAndOverlongCommandNames) {
  EXPECT_EQ(Run({"NOPE"}), "(Unknown command)\r\n");
  EXPECT_EQ(Run({std::string(100, 'G')}), "(Unknown command)\r\n");
}

TEST_F(CommandsTest, ArityIsCheckedForEveryCommand) {
  for (const char* name : {"GET", "SET", "DEL", "INC", "DEC", "INCF", "DECF", "GETP", "APPEND",
                           "PREPEND", "EXPIRE", "TTL", "PERSIST"}) {
    EXPECT_THAT(Run({name}), ::testing::StartsWith("(error) ERR wrong number of arguments"))
        << name;
  }
  for (const char* name : {"FLUSH", "COUNT", "QUIT"}) {
    EXPECT_THAT(Run({name, "extra"}), ::testing::StartsWith("(error) ERR wrong number"))
        << name;
  }
}

}  // namespace
}  // namespace memento::daemon
