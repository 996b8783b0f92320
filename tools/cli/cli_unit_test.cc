// Unit tests of memento-cli's parts: flags, quoting, reply printing, help from
// docs/protocol.md, cluster init's files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/cli/cli_options.h"
#include "tools/cli/cluster_init.h"
#include "tools/cli/command_help.h"
#include "tools/cli/reply_format.h"
#include "tools/cli/split_args.h"

namespace memento::cli {
namespace {

using client::Reply;

std::vector<std::string> Split(std::string_view line) {
  Result<std::vector<std::string>> words = SplitArgs(line);
  EXPECT_TRUE(words.ok()) << line << ": " << words.status().ToString();
  return words.ok() ? *words : std::vector<std::string>{};
}

// ---- flags ----------------------------------------------------------------------

TEST(CliOptionsTest, DefaultsAndFlags) {
  Result<CliOptions> o = ParseCliArgs({});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->host, "127.0.0.1");
  EXPECT_EQ(o->port, 6737);
  EXPECT_EQ(o->dialect, client::Dialect::kResp);  // as redis-cli
  o = ParseCliArgs({"-h", "::1", "-p", "7001", "--text", "-a", "pw", "SET", "k", "-5"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->host, "::1");
  EXPECT_EQ(o->port, 7001);
  EXPECT_EQ(o->dialect, client::Dialect::kText);
  // --resp, once needed for RESP2, still selects it (scripts that pass it keep working);
  // the last of --text and --resp wins.
  EXPECT_EQ(ParseCliArgs({"--resp"})->dialect, client::Dialect::kResp);
  EXPECT_EQ(ParseCliArgs({"--text", "--resp"})->dialect, client::Dialect::kResp);
  EXPECT_EQ(ParseCliArgs({"--resp", "--text"})->dialect, client::Dialect::kText);
  // The output form follows stdout unless --raw or --no-raw says (the last wins).
  EXPECT_EQ(ParseCliArgs({})->output, OutputForm::kAuto);
  EXPECT_EQ(ParseCliArgs({"--raw"})->output, OutputForm::kRaw);
  EXPECT_EQ(ParseCliArgs({"--raw", "--no-raw"})->output, OutputForm::kTerminal);
  EXPECT_EQ(o->password, "pw");
  EXPECT_EQ(o->command, (std::vector<std::string>{"SET", "k", "-5"}));
}

TEST(CliOptionsTest, BadFlagsNameTheProblem) {
  EXPECT_FALSE(ParseCliArgs({"-p", "0"}).ok());
  EXPECT_FALSE(ParseCliArgs({"-p", "65536"}).ok());
  EXPECT_FALSE(ParseCliArgs({"-p", "12x"}).ok());
  EXPECT_FALSE(ParseCliArgs({"--bogus"}).ok());
  Result<CliOptions> h = ParseCliArgs({"-h"});
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("--help"), std::string_view::npos);
  EXPECT_NE(CliUsage().find("-h is the host"), std::string::npos);
}

// ---- quoting --------------------------------------------------------------------

TEST(SplitArgsTest, WordsAndQuotes) {
  EXPECT_EQ(Split("  SET  k   v "), (std::vector<std::string>{"SET", "k", "v"}));
  EXPECT_EQ(Split("SET k \"a b\""), (std::vector<std::string>{"SET", "k", "a b"}));
  EXPECT_EQ(Split("SET k 'a b'"), (std::vector<std::string>{"SET", "k", "a b"}));
  EXPECT_EQ(Split("SET k \"\""), (std::vector<std::string>{"SET", "k", ""}));
  EXPECT_TRUE(Split("   ").empty());
}

TEST(SplitArgsTest, EscapesInDoubleQuotesOnly) {
  EXPECT_EQ(Split(R"(SET k "a\x00b\n\"\\\xff")"),
            (std::vector<std::string>{"SET", "k", std::string("a\0b\n\"\\\xff", 7)}));
  EXPECT_EQ(Split(R"(SET k 'it\'s \n')"), (std::vector<std::string>{"SET", "k", "it's \\n"}));
  EXPECT_EQ(Split(R"(GET a\x00)"), (std::vector<std::string>{"GET", "a\\x00"}));
}

TEST(SplitArgsTest, UnbalancedQuotesAreErrors) {
  Result<std::vector<std::string>> r = SplitArgs("SET k \"abc");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("column 7"), std::string_view::npos) << r.status().message();
  EXPECT_FALSE(SplitArgs("SET k 'abc").ok());
  EXPECT_FALSE(SplitArgs("SET k \"a\"b").ok());
}

// ---- reply printing -------------------------------------------------------------

TEST(ReplyFormatTest, LikeRedisCli) {
  EXPECT_EQ(FormatReply(Reply::Status("OK")), "OK\n");
  EXPECT_EQ(FormatReply(Reply::Error("ERR bad")), "(error) ERR bad\n");
  EXPECT_EQ(FormatReply(Reply::Integer(5)), "(integer) 5\n");
  EXPECT_EQ(FormatReply(Reply::Bulk(std::string("a\"b\\\n\x01\xff", 7))),
            "\"a\\\"b\\\\\\n\\x01\\xff\"\n");
  Reply nil;
  nil.type = Reply::Type::kNil;
  EXPECT_EQ(FormatReply(nil), "(nil)\n");
  EXPECT_EQ(FormatReply(Reply::Array({})), "(empty array)\n");
  EXPECT_EQ(FormatReply(Reply::Array({Reply::Bulk("a"), Reply::Integer(2)})),
            "1) \"a\"\n2) (integer) 2\n");
}

TEST(ReplyFormatTest, NestedAndWideArrays) {
  EXPECT_EQ(FormatReply(Reply::Array(
                {Reply::Bulk("0"), Reply::Array({Reply::Bulk("a"), Reply::Bulk("b")})})),
            "1) \"0\"\n2) 1) \"a\"\n   2) \"b\"\n");
  std::vector<Reply> ten(10, Reply::Bulk("x"));
  const std::string out = FormatReply(Reply::Array(ten));
  EXPECT_EQ(out.substr(0, 8), " 1) \"x\"\n");
  EXPECT_NE(out.find("\n10) \"x\"\n"), std::string::npos);
}

TEST(ReplyFormatTest, RawLikeRedisCliOffATerminal) {
  // What redis-cli 7 prints into a pipe (checked against it end to end in cli_test).
  EXPECT_EQ(FormatReplyRaw(Reply::Status("OK")), "OK\n");
  EXPECT_EQ(FormatReplyRaw(Reply::Error("ERR bad")), "ERR bad\n\n");
  EXPECT_EQ(FormatReplyRaw(Reply::Integer(-5)), "-5\n");
  EXPECT_EQ(FormatReplyRaw(Reply::Bulk(std::string("a \"b\"\x00\xff\r\n", 9))),
            std::string("a \"b\"\x00\xff\r\n\n", 10));
  Reply nil;
  nil.type = Reply::Type::kNil;
  EXPECT_EQ(FormatReplyRaw(nil), "\n");
  EXPECT_EQ(FormatReplyRaw(Reply::Array({})), "\n");
  EXPECT_EQ(FormatReplyRaw(Reply::Array(
                {Reply::Bulk("a"), nil, Reply::Array({Reply::Integer(1), Reply::Bulk("b")})})),
            "a\n\n1\nb\n");
  EXPECT_EQ(FormatReplyRaw(Reply::Text({"2", "a", "b"})), "2\na\nb\n");
  Reply none;
  none.type = Reply::Type::kNone;
  EXPECT_EQ(FormatReplyRaw(none), "");
}

TEST(ReplyFormatTest, TextRepliesAsSent) {
  EXPECT_EQ(FormatReply(Reply::Text({"2", "a", "b"})), "2\na\nb\n");
  Reply none;
  none.type = Reply::Type::kNone;
  EXPECT_EQ(FormatReply(none), "");
}

// ---- help -----------------------------------------------------------------------

TEST(CommandHelpTest, ParsesBothProtocolsTables) {
  const HelpTable table = HelpTable::Parse(
      "## Commands\n"
      "| request | reply | notes |\n|---|---|---|\n"
      "| `SET <key> <value>` | `OK` | Replaces the key. |\n"
      "| `QUIT` / `EXIT` | none | closes |\n"
      "| ok | `OK\\r\\n` | not a command row |\n"
      "## RESP2\n#### Strings\n"
      "| command | reply | notes |\n|---|---|---|\n"
      "| `SET key value [NX\\|XX]` | `+OK` | see [Expiry](#expiry) |\n"
      "| `INCR key` / `DECR key` | integer | |\n");
  EXPECT_EQ(table.Names(), (std::vector<std::string>{"DECR", "EXIT", "INCR", "QUIT", "SET"}));
  const std::string set = table.HelpFor("set");
  EXPECT_NE(set.find("SET <key> <value>"), std::string::npos) << set;
  EXPECT_NE(set.find("SET key value [NX|XX]"), std::string::npos) << set;
  EXPECT_NE(set.find("see Expiry"), std::string::npos) << set;
  EXPECT_NE(table.HelpFor("INCR").find("Not served over the text protocol"), std::string::npos);
  EXPECT_NE(table.HelpFor("EXIT").find("text protocol only"), std::string::npos);
  EXPECT_EQ(table.HelpFor("OK"), "");
  EXPECT_NE(table.Overview().find("Strings: SET INCR DECR"), std::string::npos) << table.Overview();
  // RESP2, the default, comes first, in the overview and in each command's help.
  EXPECT_LT(table.Overview().find("RESP2 (the default):"),
            table.Overview().find("Text protocol (memento-cli --text):"));
  EXPECT_LT(set.find("SET key value [NX|XX]"), set.find("SET <key> <value>")) << set;
}

TEST(CommandHelpTest, BuiltinHelpCoversTheReference) {
  const HelpTable& help = BuiltinHelp();
  for (const char* name : {"SET", "GET", "GETP", "KEYS", "INFO", "QUIT", "EXIT", "SCAN", "CLIENT",
                           "COMMAND", "CONFIG", "HELLO", "PREPEND", "INCRBYFLOAT"}) {
    EXPECT_NE(help.HelpFor(name), "") << name;
  }
  EXPECT_GT(help.Names().size(), 60u);
}

// ---- cluster init ---------------------------------------------------------------

TEST(ClusterInitTest, ParsesHostPort) {
  EXPECT_EQ(*ParseHostPort("127.0.0.1:7001"), (NodeAddress{"127.0.0.1", 7001}));
  EXPECT_EQ(*ParseHostPort("node-1.example:7001"), (NodeAddress{"node-1.example", 7001}));
  EXPECT_EQ(*ParseHostPort("[::1]:7001"), (NodeAddress{"::1", 7001}));
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", ":7001", "h:0", "h:65500", "h:07001",
                          "h:70x", "::1:7001", "[::1]7001", "a\"b:7001", "a b:7001"}) {
    Result<NodeAddress> r = ParseHostPort(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find(bad), std::string_view::npos);
    }
  }
}

TEST(ClusterInitTest, RefusesCollisions) {
  Result<std::vector<NodeAddress>> dup =
      ParseClusterNodes({"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7001"});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("node2's client port 127.0.0.1:7001 is also node0's"),
            std::string_view::npos)
      << dup.status().message();
  // 7101 is node0's bus port.
  EXPECT_FALSE(ParseClusterNodes({"127.0.0.1:7001", "127.0.0.1:7101"}).ok());
  EXPECT_TRUE(ParseClusterNodes({"10.0.0.1:7001", "10.0.0.2:7001"}).ok());
  EXPECT_FALSE(ParseClusterNodes({}).ok());
}

TEST(ClusterInitTest, RendersTheNodeFile) {
  const std::vector<NodeAddress> nodes = {{"127.0.0.1", 7001}, {"127.0.0.1", 7002}};
  const std::string text = RenderNodeConfig(nodes, 1);
  const std::string expected_tail =
      "[server]\n"
      "bind = \"127.0.0.1\"\n"
      "port = 7002\n"
      "[storage]\n"
      "data_dir = \"./data-node1\"\n"
      "[cluster]\n"
      "enabled = true\n"
      "name = \"node1\"            # this node\n"
      "[[cluster.nodes]]\n"
      "name = \"node0\"\n"
      "host = \"127.0.0.1\"\n"
      "port = 7001               # client port; bus_port defaults to port + 100\n"
      "[[cluster.nodes]]\n"
      "name = \"node1\"\n"
      "host = \"127.0.0.1\"\n"
      "port = 7002               # client port; bus_port defaults to port + 100\n";
  ASSERT_GE(text.size(), expected_tail.size());
  EXPECT_EQ(text.substr(text.size() - expected_tail.size()), expected_tail) << text;
  // Everything before [server] is comments.
  std::istringstream head(text.substr(0, text.size() - expected_tail.size()));
  for (std::string line; std::getline(head, line);) EXPECT_EQ(line.rfind("# ", 0), 0u) << line;
}

TEST(ClusterInitTest, WritesOneFilePerNodeAndRefusesToOverwrite) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("cli_unit_test_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  const std::vector<NodeAddress> nodes = {{"127.0.0.1", 7001}, {"127.0.0.1", 7002},
                                          {"127.0.0.1", 7003}};
  std::vector<std::string> written;
  ASSERT_TRUE(WriteClusterConfigs(nodes, (dir / "sub").string(), false, &written).ok());
  ASSERT_EQ(written.size(), 3u);
  std::ifstream in(dir / "sub" / "node2.toml");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), RenderNodeConfig(nodes, 2));
  std::vector<std::string> again;
  Status s = WriteClusterConfigs(nodes, (dir / "sub").string(), false, &again);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("node0.toml already exists"), std::string_view::npos);
  EXPECT_TRUE(again.empty());
  EXPECT_TRUE(WriteClusterConfigs(nodes, (dir / "sub").string(), true, &again).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace memento::cli
