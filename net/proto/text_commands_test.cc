#include "net/proto/text_commands.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace memento::proto {
namespace {

TEST(TextCommandsTest, FindsACommandInAnyCase) {
  const TextCommand* get = FindTextCommand("GeT");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->name, "get");
  EXPECT_EQ(FindTextCommand("getx"), nullptr);
  EXPECT_EQ(FindTextCommand(""), nullptr);
  // Served over RESP only: not a text command.
  EXPECT_EQ(FindTextCommand("setnx"), nullptr);
}

TEST(TextCommandsTest, OnlySetAppendPrependTakeTheRestOfTheLine) {
  EXPECT_TRUE(TakesRestOfLine("set"));
  EXPECT_TRUE(TakesRestOfLine("APPEND"));
  EXPECT_TRUE(TakesRestOfLine("Prepend"));
  EXPECT_FALSE(TakesRestOfLine("get"));
  EXPECT_FALSE(TakesRestOfLine("setx"));
  std::set<std::string> rest;
  for (const TextCommand& command : kTextCommands) {
    if (command.args == TextArgs::kRestOfLine) rest.emplace(command.name);
  }
  EXPECT_EQ(rest, (std::set<std::string>{"append", "prepend", "set"}));
}

TEST(TextCommandsTest, ReplyShapes) {
  EXPECT_EQ(TextReplyShapeOf("keys"), TextReplyShape::kBlock);
  EXPECT_EQ(TextReplyShapeOf("INFO"), TextReplyShape::kBlock);
  EXPECT_EQ(TextReplyShapeOf("mget"), TextReplyShape::kBlock);
  EXPECT_EQ(TextReplyShapeOf("time"), TextReplyShape::kBlock);
  EXPECT_EQ(TextReplyShapeOf("clusterinfo"), TextReplyShape::kBlock);
  EXPECT_EQ(TextReplyShapeOf("getp"), TextReplyShape::kGetp);
  EXPECT_EQ(TextReplyShapeOf("quit"), TextReplyShape::kNone);
  EXPECT_EQ(TextReplyShapeOf("exit"), TextReplyShape::kNone);
  EXPECT_EQ(TextReplyShapeOf("get"), TextReplyShape::kLine);
  for (const char* block : {"values", "PREFSCAN", "FuzzyScan", "KEYSPACE"}) {
    EXPECT_EQ(TextReplyShapeOf(block), TextReplyShape::kBlock) << block;
  }
  // Not text commands: answered in RESP2 as Redis answers inline commands, unknown
  // names included (their "unknown command" error is a RESP error line).
  for (const char* resp : {"ping", "ECHO", "Auth", "incr", "nosuch"}) {
    EXPECT_EQ(TextReplyShapeOf(resp), TextReplyShape::kResp) << resp;
  }
}

TEST(TextCommandsTest, SubcommandsOverrideTheirCommandsShape) {
  EXPECT_EQ(TextReplyShapeOf("cluster", "info"), TextReplyShape::kBlock);
  EXPECT_EQ(TextReplyShapeOf("CLUSTER", "Nodes"), TextReplyShape::kBlock);
  EXPECT_EQ(TextReplyShapeOf("cluster", "help"), TextReplyShape::kBlock);
  EXPECT_EQ(TextReplyShapeOf("cluster", "slots"), TextReplyShape::kUnframable);
  EXPECT_EQ(TextReplyShapeOf("cluster", "shards"), TextReplyShape::kUnframable);
  EXPECT_EQ(TextReplyShapeOf("cluster", "keyslot"), TextReplyShape::kLine);
  EXPECT_EQ(TextReplyShapeOf("cluster"), TextReplyShape::kLine);
  // A second word of a command without subcommands changes nothing.
  EXPECT_EQ(TextReplyShapeOf("keys", "info"), TextReplyShape::kBlock);
}

TEST(TextCommandsTest, EachCommandOnceInLowerCase) {
  std::set<std::string> seen;
  for (const TextCommand& command : kTextCommands) {
    const std::string name(command.name);
    EXPECT_TRUE(seen.insert(name).second) << name << " listed twice";
    for (char ch : name) EXPECT_FALSE(ch >= 'A' && ch <= 'Z') << name;
  }
}

}  // namespace
}  // namespace memento::proto
