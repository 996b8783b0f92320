// Command tests without sockets: requests go straight into Commands::Execute and the
// reply bytes come back. CommandsTest speaks the text protocol; RespCommandsTest
// (below) speaks RESP2 and checks each command's replies byte for byte against what
// Redis 7.0 sends.

#include "daemon/commands.h"

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/logging.h"
#include "net/proto/resp_reply.h"
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

TEST_F(CommandsTest, RespOnlyCommandsAreUnknownInText) {
  // What the command layer answers when handed a text session's non-text command; the
  // server never does that: it runs them as Redis inline commands (next test).
  EXPECT_EQ(Run({"INCR", "n"}), "(Unknown command)\r\n");
  EXPECT_EQ(Run({"CONFIG", "GET", "*"}), "(Unknown command)\r\n");
}

TEST_F(CommandsTest, OnlyTextCommandsAreTextCommands) {
  // The rest are Redis inline commands on a text connection (docs/protocol.md, "One
  // port, two protocols"): PING, ECHO and AUTH among them, for health checks.
  for (const char* name : {"SET", "get", "DEL", "INC", "GETP", "FLUSH", "QUIT", "EXIT", "KEYS",
                           "VALUES", "PREFSCAN", "FUZZYSCAN", "KEYSPACE", "INFO", "MGET"}) {
    EXPECT_TRUE(commands_.IsTextCommand(name)) << name;
  }
  const std::string overlong(100, 'G');
  for (std::string_view name : {std::string_view("PING"), std::string_view("ping"),
                                std::string_view("ECHO"), std::string_view("AUTH"),
                                std::string_view("INCR"), std::string_view("CONFIG"),
                                std::string_view("HELLO"), std::string_view("FROB"),
                                std::string_view(), std::string_view(overlong)}) {
    EXPECT_FALSE(commands_.IsTextCommand(name)) << name;
  }
}

TEST_F(CommandsTest, ValuesPrefscanFuzzyscanListSortedValues) {
  Run({"SET", "user:2", "bob"});
  Run({"SET", "user:1", "ada"});
  Run({"SET", "team:1", "core"});
  Run({"SET", "other", "zed"});
  EXPECT_EQ(Run({"VALUES"}), "4\r\nada\r\nbob\r\ncore\r\nzed\r\n");
  EXPECT_EQ(Run({"PREFSCAN", "user:"}), "2\r\nada\r\nbob\r\n");
  EXPECT_EQ(Run({"PREFSCAN", "nothing"}), "0\r\n");
  // The pattern's bytes in order, gaps allowed: "ue1" is in "user:1" but not "team:1".
  EXPECT_EQ(Run({"FUZZYSCAN", "ue1"}), "1\r\nada\r\n");
  EXPECT_EQ(Run({"FUZZYSCAN", "t1"}), "1\r\ncore\r\n");
  EXPECT_EQ(Run({"FUZZYSCAN", "1u"}), "0\r\n");
  EXPECT_THAT(Run({"VALUES", "x"}), ::testing::StartsWith("(error) ERR wrong number"));
  EXPECT_THAT(Run({"PREFSCAN"}), ::testing::StartsWith("(error) ERR wrong number"));
}

TEST_F(CommandsTest, KeyspaceCountsKeysAndMemory) {
  // "<KiB with 2 decimals> Kb": the table's memory (its empty buckets included).
  auto space = [](const std::string& reply) {
    return std::stod(reply.substr(reply.find("Space: ") + 7));
  };
  const std::string empty = Run({"KEYSPACE"});
  EXPECT_THAT(empty, ::testing::MatchesRegex("1\r\nKeys: 0\tSpace: [0-9]+\\.[0-9][0-9] Kb\r\n"));
  for (int i = 0; i < 100; ++i) Run({"SET", "k" + std::to_string(i), std::string(100, 'v')});
  const std::string full = Run({"KEYSPACE"});
  EXPECT_THAT(full, ::testing::StartsWith("1\r\nKeys: 100\tSpace: "));
  // 100 values of 100 bytes: at least 9.77 KiB more.
  EXPECT_GE(space(full) - space(empty), 100 * 100 / 1024.0);
}

TEST_F(CommandsTest, ReadOnlyExtrasAreServedInText) {
  Run({"SET", "k", "hello"});
  EXPECT_EQ(Run({"EXISTS", "k", "nope"}), "1\r\n");
  EXPECT_EQ(Run({"STRLEN", "k"}), "5\r\n");
  EXPECT_EQ(Run({"DBSIZE"}), "1\r\n");
  EXPECT_EQ(Run({"MGET", "k", "nope"}), "2\r\nhello\r\n(null)\r\n");
  EXPECT_EQ(Run({"GETRANGE", "k", "1", "3"}), "ell\r\n");
  EXPECT_EQ(Run({"TYPE", "k"}), "string\r\n");
}

TEST_F(CommandsTest, ExpireAndPersistKeepTheOriginalTokens) {
  Run({"SET", "k", "v"});
  EXPECT_EQ(Run({"EXPIRE", "k", "100"}), "OK\r\n");
  EXPECT_EQ(Run({"EXPIRE", "nope", "100"}), "(null)\r\n");
  EXPECT_EQ(Run({"EXPIRE", "k", "x"}), "(error) ERR invalid expire time in 'expire' command\r\n");
  EXPECT_EQ(Run({"PERSIST", "k"}), "OK\r\n");
  EXPECT_EQ(Run({"PERSIST", "k"}), "(null)\r\n");
}

TEST_F(CommandsTest, IncAppendAndIncfReplyOkInText) {
  EXPECT_EQ(Run({"INC", "n", "5"}), "OK\r\n");
  EXPECT_EQ(Run({"APPEND", "s", "ab"}), "OK\r\n");
  EXPECT_EQ(Run({"PREPEND", "s", "x"}), "OK\r\n");
  EXPECT_EQ(Run({"INCF", "f", "1.5"}), "OK\r\n");
  EXPECT_EQ(Run({"GET", "s"}), "xab\r\n");
}

TEST_F(CommandsTest, TextProtocolAlsoRequiresAuth) {
  commands_.SetRequirePass("pw");
  EXPECT_EQ(Run({"GET", "k"}), "(error) NOAUTH Authentication required.\r\n");
  // AUTH is a Redis inline command on a text connection: the server runs it as RESP.
  auto run_inline = [this](std::vector<std::string> words) {
    std::vector<std::string_view> argv(words.begin(), words.end());
    std::string out;
    proto::RespReplyBuilder reply(&out);
    session_.dialect = net::Dialect::kResp;
    commands_.Execute(session_, argv, reply);
    session_.dialect = net::Dialect::kText;
    return out;
  };
  EXPECT_EQ(run_inline({"AUTH", "nope"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(run_inline({"AUTH", "pw"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "k"}), "(null)\r\n");
}

// ---------------------------------------------------------------------------
// RESP2

class RespCommandsTest : public ::testing::Test {
 protected:
  RespCommandsTest() {
    session_.dialect = net::Dialect::kResp;
    session_.id = 7;
  }

  // Executes one request on `session` and returns the reply bytes.
  std::string RunOn(net::Session& session, std::vector<std::string> words) {
    std::vector<std::string_view> argv(words.begin(), words.end());
    std::string out;
    proto::RespReplyBuilder reply(&out);
    commands_.Execute(session, argv, reply);
    return out;
  }
  std::string Run(std::vector<std::string> words) { return RunOn(session_, std::move(words)); }

  // A second connection speaking RESP.
  static net::Session OtherSession() {
    net::Session session;
    session.dialect = net::Dialect::kResp;
    session.id = 8;
    return session;
  }

  static std::string Bulk(std::string_view v) {
    return "$" + std::to_string(v.size()) + "\r\n" + std::string(v) + "\r\n";
  }
  static std::string Int(int64_t n) { return ":" + std::to_string(n) + "\r\n"; }
  static std::string Err(std::string_view m) { return "-" + std::string(m) + "\r\n"; }
  static std::string Arr(size_t n) { return "*" + std::to_string(n) + "\r\n"; }
  static constexpr char kOk[] = "+OK\r\n";
  static constexpr char kNil[] = "$-1\r\n";

  // The keys of a complete SCAN (every call until the cursor is 0).
  std::set<std::string> ScanAll(const std::string& count, std::vector<std::string> extra = {});

  table::Table table_;
  Commands commands_{&table_};
  net::Session session_;
};

// Parses one SCAN reply: "*2 $<cursor> *<n> $key..." (no nested nulls).
std::set<std::string> RespCommandsTest::ScanAll(const std::string& count,
                                                std::vector<std::string> extra) {
  std::set<std::string> keys;
  std::string cursor = "0";
  for (int round = 0; round < 10000; ++round) {
    std::vector<std::string> words = {"SCAN", cursor, "COUNT", count};
    words.insert(words.end(), extra.begin(), extra.end());
    std::string reply = Run(words);
    size_t pos = reply.find("\r\n", 4);  // after "*2\r\n$<len>"
    size_t cursor_end = reply.find("\r\n", pos + 2);
    cursor = reply.substr(pos + 2, cursor_end - pos - 2);
    pos = reply.find("\r\n", cursor_end + 2);  // after "*<n>"
    size_t n = std::stoul(reply.substr(cursor_end + 3, pos - cursor_end - 3));
    for (size_t i = 0; i < n; ++i) {
      size_t len_end = reply.find("\r\n", pos + 2);
      size_t len = std::stoul(reply.substr(pos + 3, len_end - pos - 3));
      keys.insert(reply.substr(len_end + 2, len));
      pos = len_end + 2 + len;
    }
    if (cursor == "0") break;
  }
  return keys;
}

// --- Dispatch ------------------------------------------------------------------

TEST_F(RespCommandsTest, UnknownCommandEchoesItsArgumentsAsRedis) {
  EXPECT_EQ(Run({"foo", "a", "b"}),
            "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
}

TEST_F(RespCommandsTest, UnknownCommandWithoutArguments) {
  EXPECT_EQ(Run({"foo"}), "-ERR unknown command 'foo', with args beginning with: \r\n");
}

TEST_F(RespCommandsTest, UnknownCommandNeverEchoesLineBreaks) {
  EXPECT_EQ(Run({"fo\r\no", "a\r\nb"}),
            "-ERR unknown command 'fo  o', with args beginning with: 'a  b' \r\n");
}

TEST_F(RespCommandsTest, UnknownCommandArgumentsStopAt128Bytes) {
  std::string reply = Run({"foo", std::string(200, 'x'), "next"});
  EXPECT_EQ(reply, "-ERR unknown command 'foo', with args beginning with: '" +
                       std::string(128, 'x') + "' \r\n");
}

TEST_F(RespCommandsTest, NamesAreCaseInsensitive) {
  EXPECT_EQ(Run({"sEt", "k", "v"}), kOk);
  EXPECT_EQ(Run({"GeT", "k"}), Bulk("v"));
}

TEST_F(RespCommandsTest, WrongArityNamesTheCommandInLowerCase) {
  EXPECT_EQ(Run({"GET"}), Err("ERR wrong number of arguments for 'get' command"));
  EXPECT_EQ(Run({"Ping", "a", "b"}), Err("ERR wrong number of arguments for 'ping' command"));
}

TEST_F(RespCommandsTest, TextOnlyExitIsUnknownOverResp) {
  EXPECT_EQ(Run({"EXIT"}), "-ERR unknown command 'EXIT', with args beginning with: \r\n");
}

TEST_F(RespCommandsTest, EveryCommandInTheTableIsFoundByName) {
  std::string list = Run({"COMMAND", "LIST"});
  for (const char* name : {"get", "set", "incrbyfloat", "pexpiretime", "getp", "flushall",
                           "randomkey", "config", "hello"}) {
    EXPECT_THAT(list, ::testing::HasSubstr(Bulk(name))) << name;
  }
}

// --- Authentication -------------------------------------------------------------

TEST_F(RespCommandsTest, CommandsNeedAuthWhenAPasswordIsSet) {
  commands_.SetRequirePass("pw");
  EXPECT_EQ(Run({"GET", "k"}), Err("NOAUTH Authentication required."));
  EXPECT_EQ(Run({"PING"}), Err("NOAUTH Authentication required."));
}

TEST_F(RespCommandsTest, AuthWithTheRightPasswordUnlocks) {
  commands_.SetRequirePass("pw");
  EXPECT_EQ(Run({"AUTH", "pw"}), kOk);
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
}

TEST_F(RespCommandsTest, AuthAsDefaultUserUnlocks) {
  commands_.SetRequirePass("pw");
  EXPECT_EQ(Run({"AUTH", "default", "pw"}), kOk);
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
}

TEST_F(RespCommandsTest, AuthWithAWrongPasswordIsWrongPass) {
  commands_.SetRequirePass("pw");
  EXPECT_EQ(Run({"AUTH", "pX"}),
            Err("WRONGPASS invalid username-password pair or user is disabled."));
  EXPECT_EQ(Run({"AUTH", "someone", "pw"}),
            Err("WRONGPASS invalid username-password pair or user is disabled."));
  EXPECT_EQ(Run({"GET", "k"}), Err("NOAUTH Authentication required."));
}

TEST_F(RespCommandsTest, AuthWithoutAConfiguredPasswordIsAnError) {
  EXPECT_EQ(Run({"AUTH", "x"}),
            Err("ERR AUTH <password> called without any password configured for the default "
                "user. Are you sure your configuration is correct?"));
  EXPECT_EQ(Run({"AUTH", "default", "anything"}), kOk);  // "nopass" takes any password
}

TEST_F(RespCommandsTest, AuthWithTooManyArgumentsIsASyntaxError) {
  EXPECT_EQ(Run({"AUTH", "a", "b", "c"}), Err("ERR syntax error"));
}

TEST_F(RespCommandsTest, UnknownCommandAndArityAreCheckedBeforeAuth) {
  commands_.SetRequirePass("pw");
  EXPECT_EQ(Run({"foo"}), "-ERR unknown command 'foo', with args beginning with: \r\n");
  EXPECT_EQ(Run({"GET"}), Err("ERR wrong number of arguments for 'get' command"));
}

TEST_F(RespCommandsTest, QuitIsAllowedBeforeAuth) {
  commands_.SetRequirePass("pw");
  EXPECT_EQ(Run({"QUIT"}), kOk);
  EXPECT_TRUE(session_.close_after_reply);
}

TEST_F(RespCommandsTest, HelloWithoutAuthIsRefusedWhenAPasswordIsSet) {
  commands_.SetRequirePass("pw");
  EXPECT_THAT(Run({"HELLO", "2"}),
              ::testing::StartsWith("-NOAUTH HELLO must be called with the client already"));
}

TEST_F(RespCommandsTest, HelloWithAuthAuthenticates) {
  commands_.SetRequirePass("pw");
  EXPECT_THAT(Run({"HELLO", "2", "AUTH", "default", "pw"}), ::testing::StartsWith(Arr(14)));
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
}

TEST_F(RespCommandsTest, ConnectionsActiveBeforeThePasswordStayAuthenticated) {
  EXPECT_EQ(Run({"CONFIG", "SET", "requirepass", "pw"}), kOk);
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");  // as Redis: the setter is not locked out
  net::Session other = OtherSession();
  EXPECT_EQ(RunOn(other, {"PING"}), Err("NOAUTH Authentication required."));
  EXPECT_EQ(RunOn(other, {"AUTH", "pw"}), kOk);
  EXPECT_EQ(RunOn(other, {"PING"}), "+PONG\r\n");
}

TEST_F(RespCommandsTest, ClearingThePasswordUnlocksEveryone) {
  commands_.SetRequirePass("pw");
  EXPECT_EQ(Run({"PING"}), Err("NOAUTH Authentication required."));
  commands_.SetRequirePass("");
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
}

// --- Connection -------------------------------------------------------------------

TEST_F(RespCommandsTest, PingIsPongOrABulkOfTheMessage) {
  EXPECT_EQ(Run({"PING"}), "+PONG\r\n");
  EXPECT_EQ(Run({"PING", "hi there"}), Bulk("hi there"));
}

TEST_F(RespCommandsTest, EchoRepliesABulk) { EXPECT_EQ(Run({"ECHO", "a\r\nb"}), Bulk("a\r\nb")); }

TEST_F(RespCommandsTest, QuitRepliesOkThenCloses) {
  EXPECT_EQ(Run({"QUIT"}), kOk);
  EXPECT_TRUE(session_.close_after_reply);
}

TEST_F(RespCommandsTest, SelectZeroIsOk) { EXPECT_EQ(Run({"SELECT", "0"}), kOk); }

TEST_F(RespCommandsTest, SelectAnotherDbIsOutOfRange) {
  EXPECT_EQ(Run({"SELECT", "1"}), Err("ERR DB index is out of range"));
  EXPECT_EQ(Run({"SELECT", "-1"}), Err("ERR DB index is out of range"));
}

TEST_F(RespCommandsTest, SelectNeedsAnInt) {
  EXPECT_EQ(Run({"SELECT", "x"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"SELECT", "4294967296"}),
            Err("ERR value is out of range, value must between -2147483648 and 2147483647"));
}

TEST_F(RespCommandsTest, HelloRepliesTheServerFieldsFlat) {
  commands_.SetServerFacts(ServerFacts{.version = "1.2.3"});
  EXPECT_EQ(Run({"HELLO", "2"}), Arr(14) + Bulk("server") + Bulk("memento") + Bulk("version") +
                                     Bulk("1.2.3") + Bulk("proto") + Int(2) + Bulk("id") +
                                     Int(7) + Bulk("mode") + Bulk("standalone") + Bulk("role") +
                                     Bulk("master") + Bulk("modules") + Arr(0));
}

TEST_F(RespCommandsTest, HelloThreeIsNoProto) {
  EXPECT_EQ(Run({"HELLO", "3"}), Err("NOPROTO unsupported protocol version"));
}

TEST_F(RespCommandsTest, HelloVersionMustBeAnInteger) {
  EXPECT_EQ(Run({"HELLO", "x"}), Err("ERR Protocol version is not an integer or out of range"));
}

TEST_F(RespCommandsTest, HelloSetnameNamesTheConnection) {
  EXPECT_THAT(Run({"HELLO", "2", "SETNAME", "worker-1"}), ::testing::StartsWith(Arr(14)));
  EXPECT_EQ(Run({"CLIENT", "GETNAME"}), Bulk("worker-1"));
}

TEST_F(RespCommandsTest, HelloUnknownOptionIsASyntaxError) {
  EXPECT_EQ(Run({"HELLO", "2", "foo"}), Err("ERR Syntax error in HELLO option 'foo'"));
}

TEST_F(RespCommandsTest, ClientIdIsTheSessionId) { EXPECT_EQ(Run({"CLIENT", "ID"}), Int(7)); }

TEST_F(RespCommandsTest, ClientSetnameThenGetname) {
  EXPECT_EQ(Run({"CLIENT", "GETNAME"}), kNil);
  EXPECT_EQ(Run({"CLIENT", "SETNAME", "conn-a"}), kOk);
  EXPECT_EQ(Run({"CLIENT", "GETNAME"}), Bulk("conn-a"));
  EXPECT_EQ(Run({"CLIENT", "SETNAME", ""}), kOk);  // empty: no name
  EXPECT_EQ(Run({"CLIENT", "GETNAME"}), kNil);
}

TEST_F(RespCommandsTest, ClientSetnameRefusesSpaces) {
  EXPECT_EQ(Run({"CLIENT", "SETNAME", "a b"}),
            Err("ERR Client names cannot contain spaces, newlines or special characters."));
}

TEST_F(RespCommandsTest, ClientSetinfoIsAccepted) {
  EXPECT_EQ(Run({"CLIENT", "SETINFO", "LIB-NAME", "redis-py"}), kOk);
  EXPECT_EQ(Run({"CLIENT", "SETINFO", "lib-ver", "5.0.1"}), kOk);
}

TEST_F(RespCommandsTest, ClientSetinfoUnknownAttributeIsRefused) {
  EXPECT_EQ(Run({"CLIENT", "SETINFO", "color", "red"}), Err("ERR Unrecognized option 'color'"));
}

TEST_F(RespCommandsTest, ClientUnknownSubcommand) {
  EXPECT_EQ(Run({"CLIENT", "foo"}), Err("ERR unknown subcommand 'foo'. Try CLIENT HELP."));
}

TEST_F(RespCommandsTest, ClientSubcommandArityNamesTheSubcommand) {
  EXPECT_EQ(Run({"CLIENT", "SETNAME"}),
            Err("ERR wrong number of arguments for 'client|setname' command"));
  EXPECT_EQ(Run({"CLIENT"}), Err("ERR wrong number of arguments for 'client' command"));
}

// --- COMMAND, CONFIG, INFO and friends --------------------------------------------------

TEST_F(RespCommandsTest, CommandCountMatchesCommandList) {
  std::string count = Run({"COMMAND", "COUNT"});
  std::string list = Run({"COMMAND", "LIST"});
  EXPECT_EQ(count, ":" + list.substr(1, list.find("\r\n") - 1) + "\r\n");
}

TEST_F(RespCommandsTest, CommandInfoDescribesGetAsRedisDoes) {
  EXPECT_EQ(Run({"COMMAND", "INFO", "get"}),
            Arr(1) + Arr(10) + Bulk("get") + Int(2) + Arr(2) + "+readonly\r\n+fast\r\n" +
                Int(1) + Int(1) + Int(1) + Arr(3) + "+@read\r\n+@string\r\n+@fast\r\n" +
                Arr(0) + Arr(0) + Arr(0));
}

TEST_F(RespCommandsTest, CommandInfoOfAnUnknownCommandIsNull) {
  EXPECT_EQ(Run({"COMMAND", "INFO", "nosuch"}), Arr(1) + kNil);
}

TEST_F(RespCommandsTest, CommandDocsGivesWhatRedisCliNeeds) {
  EXPECT_EQ(Run({"COMMAND", "DOCS", "mget"}),
            Arr(2) + Bulk("mget") + Arr(8) + Bulk("summary") +
                Bulk("Returns the values of several keys.") + Bulk("since") + Bulk("1.0.0") +
                Bulk("group") + Bulk("string") + Bulk("arguments") + Arr(2) +  //
                Arr(4) + Bulk("name") + Bulk("key") + Bulk("type") + Bulk("key") +  //
                Arr(6) + Bulk("name") + Bulk("key ...") + Bulk("type") + Bulk("string") +
                Bulk("flags") + Arr(1) + "+optional\r\n");
}

TEST_F(RespCommandsTest, CommandUnknownSubcommand) {
  EXPECT_EQ(Run({"COMMAND", "foo"}), Err("ERR unknown subcommand 'foo'. Try COMMAND HELP."));
}

TEST_F(RespCommandsTest, ConfigGetAnswersWhatRedisBenchmarkAsks) {
  EXPECT_EQ(Run({"CONFIG", "GET", "save"}), Arr(2) + Bulk("save") + Bulk(""));
  EXPECT_EQ(Run({"CONFIG", "GET", "appendonly"}), Arr(2) + Bulk("appendonly") + Bulk("no"));
}

TEST_F(RespCommandsTest, ConfigGetGlobIgnoresCase) {
  EXPECT_EQ(Run({"CONFIG", "GET", "S?VE"}), Arr(2) + Bulk("save") + Bulk(""));
}

TEST_F(RespCommandsTest, ConfigGetLiteralNameIsAnsweredAsSent) {
  EXPECT_EQ(Run({"CONFIG", "GET", "SAVE"}), Arr(2) + Bulk("SAVE") + Bulk(""));
}

TEST_F(RespCommandsTest, ConfigGetReportsTheServerFacts) {
  commands_.SetServerFacts(ServerFacts{.port = 7000, .data_dir = "/srv/m"});
  EXPECT_EQ(Run({"CONFIG", "GET", "port", "dir", "nosuch"}),
            Arr(4) + Bulk("port") + Bulk("7000") + Bulk("dir") + Bulk("/srv/m"));
}

TEST_F(RespCommandsTest, ConfigSetRequirepassTakesEffect) {
  EXPECT_EQ(Run({"CONFIG", "SET", "requirepass", "pw"}), kOk);
  EXPECT_EQ(Run({"CONFIG", "GET", "requirepass"}), Arr(2) + Bulk("requirepass") + Bulk("pw"));
  net::Session other = OtherSession();
  EXPECT_EQ(RunOn(other, {"GET", "k"}), Err("NOAUTH Authentication required."));
}

TEST_F(RespCommandsTest, ConfigSetLoglevel) {
  const log::Level before = log::GetLevel();
  EXPECT_EQ(Run({"CONFIG", "SET", "loglevel", "warning"}), kOk);
  EXPECT_EQ(Run({"CONFIG", "GET", "loglevel"}), Arr(2) + Bulk("loglevel") + Bulk("warning"));
  EXPECT_THAT(Run({"CONFIG", "SET", "loglevel", "loud"}),
              ::testing::StartsWith(
                  "-ERR CONFIG SET failed (possibly related to argument 'loglevel') - "));
  log::SetLevel(before);
}

TEST_F(RespCommandsTest, ConfigSetRefusesImmutableSettings) {
  EXPECT_EQ(Run({"CONFIG", "SET", "port", "7000"}),
            Err("ERR CONFIG SET failed (possibly related to argument 'port') - can't set "
                "immutable config"));
}

TEST_F(RespCommandsTest, ConfigSetUnknownSetting) {
  EXPECT_EQ(Run({"CONFIG", "SET", "foo", "1"}),
            Err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'"));
}

TEST_F(RespCommandsTest, ConfigSetIsAllOrNothing) {
  EXPECT_THAT(Run({"CONFIG", "SET", "requirepass", "pw", "port", "1"}),
              ::testing::StartsWith("-ERR CONFIG SET failed"));
  EXPECT_EQ(Run({"CONFIG", "GET", "requirepass"}), Arr(2) + Bulk("requirepass") + Bulk(""));
}

TEST_F(RespCommandsTest, ConfigSetAcceptsTheDefaultsRedisToolsSet) {
  EXPECT_EQ(Run({"CONFIG", "SET", "save", "", "appendonly", "no"}), kOk);
}

TEST_F(RespCommandsTest, ConfigSetNameWithoutValueIsASyntaxError) {
  EXPECT_EQ(Run({"CONFIG", "SET", "save", "", "appendonly"}), Err("ERR syntax error"));
}

TEST_F(RespCommandsTest, InfoIsOneBulkOfCrlfTerminatedLines) {
  std::string body = "# Keyspace\r\ndb0:keys=0,expires=0\r\n";
  EXPECT_EQ(Run({"INFO", "keyspace"}), Bulk(body));
}

TEST_F(RespCommandsTest, InfoSectionsAreSeparatedByABlankLine) {
  std::string reply = Run({"INFO", "clients", "keyspace"});
  EXPECT_THAT(reply, ::testing::HasSubstr("connected_clients:0\r\n\r\n# Keyspace\r\n"));
}

TEST_F(RespCommandsTest, InfoOfAnUnknownSectionIsAnEmptyBulk) {
  EXPECT_EQ(Run({"INFO", "nosuch"}), Bulk(""));
}

TEST_F(RespCommandsTest, SaveAndBgsaveNeedPersistence) {
  // This fixture has no data directory (the daemon always has one).
  EXPECT_EQ(Run({"SAVE"}), Err("ERR persistence is not enabled in this process"));
  EXPECT_EQ(Run({"BGSAVE"}), Err("ERR persistence is not enabled in this process"));
}

TEST_F(RespCommandsTest, LastsaveIsTheStartTime) {
  commands_.SetServerFacts(ServerFacts{.started_ms = 1700000000999});
  EXPECT_EQ(Run({"LASTSAVE"}), Int(1700000000));
}

TEST_F(RespCommandsTest, TimeIsSecondsAndMicroseconds) {
  EXPECT_THAT(Run({"TIME"}),
              ::testing::MatchesRegex("\\*2\r\n\\$10\r\n[0-9]+\r\n\\$[1-6]\r\n[0-9]+\r\n"));
}

TEST_F(RespCommandsTest, DbsizeAndCountAreTheNumberOfKeys) {
  Run({"MSET", "a", "1", "b", "2"});
  EXPECT_EQ(Run({"DBSIZE"}), Int(2));
  EXPECT_EQ(Run({"COUNT"}), Int(2));
}

TEST_F(RespCommandsTest, FlushallAndFlushdbEmptyTheTable) {
  Run({"SET", "a", "1"});
  EXPECT_EQ(Run({"FLUSHALL", "ASYNC"}), kOk);
  Run({"SET", "a", "1"});
  EXPECT_EQ(Run({"FLUSHDB"}), kOk);
  EXPECT_EQ(Run({"FLUSH"}), kOk);
  EXPECT_EQ(Run({"DBSIZE"}), Int(0));
}

TEST_F(RespCommandsTest, FlushallWithABadOptionIsASyntaxError) {
  EXPECT_EQ(Run({"FLUSHALL", "x"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"FLUSHALL", "sync", "x"}), Err("ERR syntax error"));
}

// --- Strings ----------------------------------------------------------------------

TEST_F(RespCommandsTest, GetOfAMissingKeyIsTheNullBulk) { EXPECT_EQ(Run({"GET", "k"}), kNil); }

TEST_F(RespCommandsTest, SetAndGetAreBinarySafe) {
  std::string value("a\r\n\0b", 5);
  EXPECT_EQ(Run({"SET", "k", value}), kOk);
  EXPECT_EQ(Run({"GET", "k"}), Bulk(value));
}

TEST_F(RespCommandsTest, SetNxOnlySetsAMissingKey) {
  EXPECT_EQ(Run({"SET", "k", "1", "NX"}), kOk);
  EXPECT_EQ(Run({"SET", "k", "2", "nx"}), kNil);
  EXPECT_EQ(Run({"GET", "k"}), Bulk("1"));
}

TEST_F(RespCommandsTest, SetXxOnlySetsAnExistingKey) {
  EXPECT_EQ(Run({"SET", "k", "1", "XX"}), kNil);
  Run({"SET", "k", "1"});
  EXPECT_EQ(Run({"SET", "k", "2", "XX"}), kOk);
  EXPECT_EQ(Run({"GET", "k"}), Bulk("2"));
}

TEST_F(RespCommandsTest, SetNxWithXxIsASyntaxError) {
  EXPECT_EQ(Run({"SET", "k", "v", "NX", "XX"}), Err("ERR syntax error"));
}

TEST_F(RespCommandsTest, SetGetRepliesTheOldValue) {
  EXPECT_EQ(Run({"SET", "k", "1", "GET"}), kNil);
  EXPECT_EQ(Run({"SET", "k", "2", "GET"}), Bulk("1"));
  EXPECT_EQ(Run({"SET", "k", "3", "NX", "GET"}), Bulk("2"));  // not set, old value still told
  EXPECT_EQ(Run({"GET", "k"}), Bulk("2"));
}

TEST_F(RespCommandsTest, SetExSetsATimeToLive) {
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "100"}), kOk);
  EXPECT_EQ(Run({"TTL", "k"}), Int(100));
}

TEST_F(RespCommandsTest, SetRepeatedExpiryOptionTakesTheLast) {
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "10", "EX", "20"}), kOk);
  EXPECT_EQ(Run({"TTL", "k"}), Int(20));
}

TEST_F(RespCommandsTest, SetMixedExpiryOptionsAreASyntaxError) {
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "10", "PX", "20"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "10", "KEEPTTL"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SET", "k", "v", "KEEPTTL", "EX", "10"}), Err("ERR syntax error"));
}

TEST_F(RespCommandsTest, SetExWithoutItsValueIsASyntaxError) {
  EXPECT_EQ(Run({"SET", "k", "v", "EX"}), Err("ERR syntax error"));
}

TEST_F(RespCommandsTest, SetKeepTtlKeepsTheExpiry) {
  Run({"SET", "k", "v", "EX", "100"});
  EXPECT_EQ(Run({"SET", "k", "w", "KEEPTTL"}), kOk);
  EXPECT_EQ(Run({"TTL", "k"}), Int(100));
}

TEST_F(RespCommandsTest, PlainSetClearsTheExpiry) {
  Run({"SET", "k", "v", "EX", "100"});
  Run({"SET", "k", "w"});
  EXPECT_EQ(Run({"TTL", "k"}), Int(-1));
}

TEST_F(RespCommandsTest, SetExpiryMustBePositive) {
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "0"}), Err("ERR invalid expire time in 'set' command"));
  EXPECT_EQ(Run({"SET", "k", "v", "PX", "-1"}), Err("ERR invalid expire time in 'set' command"));
  EXPECT_EQ(Run({"GET", "k"}), kNil);
}

TEST_F(RespCommandsTest, SetExpiryThatOverflowsIsInvalid) {
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "9223372036854775"}),
            Err("ERR invalid expire time in 'set' command"));
}

TEST_F(RespCommandsTest, SetExpiryMustBeAnInteger) {
  EXPECT_EQ(Run({"SET", "k", "v", "EX", "1.5"}),
            Err("ERR value is not an integer or out of range"));
}

TEST_F(RespCommandsTest, SetExatInThePastDeletesTheKey) {
  Run({"SET", "k", "old"});
  EXPECT_EQ(Run({"SET", "k", "v", "EXAT", "1"}), kOk);
  EXPECT_EQ(Run({"EXISTS", "k"}), Int(0));
  EXPECT_EQ(Run({"DBSIZE"}), Int(0));
}

TEST_F(RespCommandsTest, SetPxatSetsAnAbsoluteExpiry) {
  EXPECT_EQ(Run({"SET", "k", "v", "PXAT", "99999999999999"}), kOk);
  EXPECT_EQ(Run({"PEXPIRETIME", "k"}), Int(99999999999999));
}

TEST_F(RespCommandsTest, SetnxRepliesOneThenZero) {
  EXPECT_EQ(Run({"SETNX", "k", "1"}), Int(1));
  EXPECT_EQ(Run({"SETNX", "k", "2"}), Int(0));
  EXPECT_EQ(Run({"GET", "k"}), Bulk("1"));
}

TEST_F(RespCommandsTest, SetexAndPsetexSetValueAndExpiry) {
  EXPECT_EQ(Run({"SETEX", "k", "100", "v"}), kOk);
  EXPECT_EQ(Run({"TTL", "k"}), Int(100));
  EXPECT_EQ(Run({"PSETEX", "p", "100000", "v"}), kOk);
  EXPECT_EQ(Run({"TTL", "p"}), Int(100));
  EXPECT_EQ(Run({"GET", "p"}), Bulk("v"));
}

TEST_F(RespCommandsTest, SetexZeroIsAnInvalidExpireTime) {
  EXPECT_EQ(Run({"SETEX", "k", "0", "v"}), Err("ERR invalid expire time in 'setex' command"));
  EXPECT_EQ(Run({"PSETEX", "k", "-5", "v"}), Err("ERR invalid expire time in 'psetex' command"));
}

TEST_F(RespCommandsTest, GetsetRepliesTheOldValueAndClearsTheExpiry) {
  EXPECT_EQ(Run({"GETSET", "k", "1"}), kNil);
  Run({"EXPIRE", "k", "100"});
  EXPECT_EQ(Run({"GETSET", "k", "2"}), Bulk("1"));
  EXPECT_EQ(Run({"TTL", "k"}), Int(-1));
}

TEST_F(RespCommandsTest, GetdelRepliesAndDeletes) {
  Run({"SET", "k", "v"});
  EXPECT_EQ(Run({"GETDEL", "k"}), Bulk("v"));
  EXPECT_EQ(Run({"GETDEL", "k"}), kNil);
}

TEST_F(RespCommandsTest, MgetRepliesNullForMissingKeys) {
  Run({"SET", "a", "1"});
  Run({"SET", "c", "3"});
  EXPECT_EQ(Run({"MGET", "a", "b", "c"}), Arr(3) + Bulk("1") + kNil + Bulk("3"));
}

TEST_F(RespCommandsTest, MsetSetsEveryPair) {
  EXPECT_EQ(Run({"MSET", "a", "1", "b", "2"}), kOk);
  EXPECT_EQ(Run({"MGET", "a", "b"}), Arr(2) + Bulk("1") + Bulk("2"));
}

TEST_F(RespCommandsTest, MsetWithAnOddArgumentIsWrongArity) {
  EXPECT_EQ(Run({"MSET", "a", "1", "b"}), Err("ERR wrong number of arguments for 'mset' command"));
  EXPECT_EQ(Run({"MSETNX", "a"}), Err("ERR wrong number of arguments for 'msetnx' command"));
}

TEST_F(RespCommandsTest, MsetnxSetsAllOrNothing) {
  EXPECT_EQ(Run({"MSETNX", "a", "1", "b", "2"}), Int(1));
  EXPECT_EQ(Run({"MSETNX", "b", "3", "c", "4"}), Int(0));
  EXPECT_EQ(Run({"MGET", "a", "b", "c"}), Arr(3) + Bulk("1") + Bulk("2") + kNil);
}

TEST_F(RespCommandsTest, MsetnxRepeatedKeyTakesTheLastValue) {
  EXPECT_EQ(Run({"MSETNX", "q", "1", "q", "2"}), Int(1));
  EXPECT_EQ(Run({"GET", "q"}), Bulk("2"));
}

TEST_F(RespCommandsTest, AppendAndPrependReplyTheNewLength) {
  EXPECT_EQ(Run({"APPEND", "k", "Hello"}), Int(5));
  EXPECT_EQ(Run({"APPEND", "k", " World"}), Int(11));
  EXPECT_EQ(Run({"PREPEND", "k", ">"}), Int(12));
  EXPECT_EQ(Run({"GET", "k"}), Bulk(">Hello World"));
}

TEST_F(RespCommandsTest, StrlenOfAMissingKeyIsZero) {
  EXPECT_EQ(Run({"STRLEN", "k"}), Int(0));
  Run({"SET", "k", "abc"});
  EXPECT_EQ(Run({"STRLEN", "k"}), Int(3));
}

TEST_F(RespCommandsTest, GetrangeFollowsRedisIndexRules) {
  Run({"SET", "s", "Hello World"});
  EXPECT_EQ(Run({"GETRANGE", "s", "0", "3"}), Bulk("Hell"));
  EXPECT_EQ(Run({"GETRANGE", "s", "-3", "-1"}), Bulk("rld"));
  EXPECT_EQ(Run({"GETRANGE", "s", "0", "-1"}), Bulk("Hello World"));
  EXPECT_EQ(Run({"GETRANGE", "s", "10", "100"}), Bulk("d"));
  EXPECT_EQ(Run({"GETRANGE", "s", "5", "3"}), Bulk(""));
  EXPECT_EQ(Run({"GETRANGE", "s", "-1", "-5"}), Bulk(""));
  EXPECT_EQ(Run({"GETRANGE", "s", "-100", "2"}), Bulk("Hel"));
  EXPECT_EQ(Run({"GETRANGE", "nope", "0", "-1"}), Bulk(""));
}

TEST_F(RespCommandsTest, GetrangeIndexesMustBeIntegers) {
  EXPECT_EQ(Run({"GETRANGE", "s", "x", "1"}), Err("ERR value is not an integer or out of range"));
}

TEST_F(RespCommandsTest, SetrangePadsWithZeroBytes) {
  EXPECT_EQ(Run({"SETRANGE", "k", "3", "x"}), Int(4));
  EXPECT_EQ(Run({"GET", "k"}), Bulk(std::string("\0\0\0x", 4)));
  Run({"SET", "s", "Hello World"});
  EXPECT_EQ(Run({"SETRANGE", "s", "6", "Redis"}), Int(11));
  EXPECT_EQ(Run({"GET", "s"}), Bulk("Hello Redis"));
}

TEST_F(RespCommandsTest, SetrangeNegativeOffsetIsOutOfRange) {
  EXPECT_EQ(Run({"SETRANGE", "k", "-1", "x"}), Err("ERR offset is out of range"));
}

TEST_F(RespCommandsTest, SetrangeBeyond512MiBIsRefused) {
  EXPECT_EQ(Run({"SETRANGE", "k", "536870912", "x"}),
            Err("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
  EXPECT_EQ(Run({"EXISTS", "k"}), Int(0));
}

TEST_F(RespCommandsTest, SetrangeWithNothingDoesNotCreateTheKey) {
  EXPECT_EQ(Run({"SETRANGE", "k", "5", ""}), Int(0));
  EXPECT_EQ(Run({"EXISTS", "k"}), Int(0));
}

TEST_F(RespCommandsTest, IncrDecrIncrbyDecrbyReplyTheNewValue) {
  EXPECT_EQ(Run({"INCR", "n"}), Int(1));
  EXPECT_EQ(Run({"INCRBY", "n", "10"}), Int(11));
  EXPECT_EQ(Run({"DECR", "n"}), Int(10));
  EXPECT_EQ(Run({"DECRBY", "n", "15"}), Int(-5));
  EXPECT_EQ(Run({"GET", "n"}), Bulk("-5"));
}

TEST_F(RespCommandsTest, IncrOfANonIntegerIsAnError) {
  Run({"SET", "n", "007"});
  EXPECT_EQ(Run({"INCR", "n"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"INCRBY", "m", "x"}), Err("ERR value is not an integer or out of range"));
}

TEST_F(RespCommandsTest, IncrOverflowIsAnError) {
  Run({"SET", "n", "9223372036854775807"});
  EXPECT_EQ(Run({"INCR", "n"}), Err("ERR increment or decrement would overflow"));
  EXPECT_EQ(Run({"GET", "n"}), Bulk("9223372036854775807"));
}

TEST_F(RespCommandsTest, DecrbyInt64MinIsDecrementOverflow) {
  EXPECT_EQ(Run({"DECRBY", "n", "-9223372036854775808"}), Err("ERR decrement would overflow"));
}

TEST_F(RespCommandsTest, IncrKeepsTheExpiry) {
  Run({"SET", "n", "1", "EX", "100"});
  Run({"INCR", "n"});
  EXPECT_EQ(Run({"TTL", "n"}), Int(100));
}

TEST_F(RespCommandsTest, IncrbyfloatPrintsAsRedisDoes) {
  EXPECT_EQ(Run({"INCRBYFLOAT", "f", "0.1"}), Bulk("0.1"));
  EXPECT_EQ(Run({"INCRBYFLOAT", "f", "0.2"}), Bulk("0.3"));  // long double, not 0.30000000000000004
  Run({"SET", "g", "10.50"});
  EXPECT_EQ(Run({"INCRBYFLOAT", "g", "0.1"}), Bulk("10.6"));
  EXPECT_EQ(Run({"INCRBYFLOAT", "g", "-5"}), Bulk("5.6"));
  Run({"SET", "h", "5.0e3"});
  EXPECT_EQ(Run({"INCRBYFLOAT", "h", "2.0e2"}), Bulk("5200"));
  EXPECT_EQ(Run({"INCRBYFLOAT", "h", "-5200"}), Bulk("0"));
  EXPECT_EQ(Run({"GET", "h"}), Bulk("0"));
}

TEST_F(RespCommandsTest, IncrbyfloatToInfinityIsAnError) {
  EXPECT_EQ(Run({"INCRBYFLOAT", "f", "inf"}), Err("ERR increment would produce NaN or Infinity"));
  EXPECT_EQ(Run({"EXISTS", "f"}), Int(0));
}

TEST_F(RespCommandsTest, IncrbyfloatOfANonNumberIsAnError) {
  EXPECT_EQ(Run({"INCRBYFLOAT", "f", "x"}), Err("ERR value is not a valid float"));
  Run({"SET", "s", " 1"});
  EXPECT_EQ(Run({"INCRBYFLOAT", "s", "1"}), Err("ERR value is not a valid float"));
}

TEST_F(RespCommandsTest, IncAndDecReplyTheNewValueOverResp) {
  EXPECT_EQ(Run({"INC", "n"}), Int(1));
  EXPECT_EQ(Run({"INC", "n", "41"}), Int(42));
  EXPECT_EQ(Run({"DEC", "n", "2"}), Int(40));
}

TEST_F(RespCommandsTest, IncfAndDecfReplyABulkOfTheNewValue) {
  EXPECT_EQ(Run({"INCF", "f", "10.5"}), Bulk("10.5"));
  EXPECT_EQ(Run({"DECF", "f"}), Bulk("9.5"));
}

TEST_F(RespCommandsTest, GetpIsAnArrayOfKeyValueAndTimes) {
  Run({"SET", "k", "v", "PXAT", "99999999999999"});
  std::string reply = Run({"GETP", "k"});
  EXPECT_THAT(reply, ::testing::StartsWith(Arr(4) + Bulk("k") + Bulk("v") + ":"));
  EXPECT_THAT(reply, ::testing::EndsWith("\r\n:99999999999999\r\n"));
}

TEST_F(RespCommandsTest, GetpOfAMissingKeyIsTheNullArray) {
  EXPECT_EQ(Run({"GETP", "k"}), "*-1\r\n");
}

// --- The key space ------------------------------------------------------------------

TEST_F(RespCommandsTest, DelAndUnlinkCountWhatTheyDeleted) {
  Run({"MSET", "a", "1", "b", "2", "c", "3"});
  EXPECT_EQ(Run({"DEL", "a", "b", "nope"}), Int(2));
  EXPECT_EQ(Run({"UNLINK", "c", "c"}), Int(1));
  EXPECT_EQ(Run({"DEL", "a"}), Int(0));
}

TEST_F(RespCommandsTest, ExistsCountsAKeyNamedTwiceTwice) {
  Run({"SET", "a", "1"});
  EXPECT_EQ(Run({"EXISTS", "a", "a", "nope"}), Int(2));
}

TEST_F(RespCommandsTest, TypeIsStringOrNone) {
  Run({"SET", "a", "1"});
  EXPECT_EQ(Run({"TYPE", "a"}), "+string\r\n");
  EXPECT_EQ(Run({"TYPE", "nope"}), "+none\r\n");
}

TEST_F(RespCommandsTest, RenameMovesTheValueAndItsExpiry) {
  Run({"SET", "a", "v", "EX", "100"});
  Run({"SET", "b", "old"});
  EXPECT_EQ(Run({"RENAME", "a", "b"}), kOk);
  EXPECT_EQ(Run({"GET", "b"}), Bulk("v"));
  EXPECT_EQ(Run({"TTL", "b"}), Int(100));
  EXPECT_EQ(Run({"EXISTS", "a"}), Int(0));
  EXPECT_EQ(Run({"DBSIZE"}), Int(1));
}

TEST_F(RespCommandsTest, RenameOfAMissingKeyIsNoSuchKey) {
  EXPECT_EQ(Run({"RENAME", "nope", "b"}), Err("ERR no such key"));
  EXPECT_EQ(Run({"RENAME", "nope", "nope"}), Err("ERR no such key"));
}

TEST_F(RespCommandsTest, RenameToItselfIsOk) {
  Run({"SET", "a", "v"});
  EXPECT_EQ(Run({"RENAME", "a", "a"}), kOk);
  EXPECT_EQ(Run({"RENAMENX", "a", "a"}), Int(0));
  EXPECT_EQ(Run({"GET", "a"}), Bulk("v"));
}

TEST_F(RespCommandsTest, RenamenxRefusesAnExistingTarget) {
  Run({"MSET", "a", "1", "b", "2"});
  EXPECT_EQ(Run({"RENAMENX", "a", "b"}), Int(0));
  EXPECT_EQ(Run({"RENAMENX", "a", "c"}), Int(1));
  EXPECT_EQ(Run({"MGET", "a", "b", "c"}), Arr(3) + kNil + Bulk("2") + Bulk("1"));
}

TEST_F(RespCommandsTest, RenameBackAndForthFromManyThreadsNeverDeadlocks) {
  // Keys in different shards renamed both ways at once: WriteMulti's fixed lock
  // order must keep this from deadlocking, and the value must never be lost.
  Run({"SET", "x", "v"});
  std::atomic<int> renamed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      net::Session session = OtherSession();
      for (int i = 0; i < 2000; ++i) {
        const bool forward = (i + t) % 2 == 0;
        std::string reply = RunOn(session, {"RENAME", forward ? "x" : "y", forward ? "y" : "x"});
        if (reply == kOk) renamed.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_GT(renamed.load(), 0);
  EXPECT_EQ(Run({"EXISTS", "x", "y"}), Int(1));
  EXPECT_EQ(Run({"DBSIZE"}), Int(1));
}

TEST_F(RespCommandsTest, ExpireRepliesOneAndSetsTheTtl) {
  Run({"SET", "k", "v"});
  EXPECT_EQ(Run({"EXPIRE", "k", "100"}), Int(1));
  EXPECT_EQ(Run({"TTL", "k"}), Int(100));
  EXPECT_EQ(Run({"EXPIRE", "nope", "100"}), Int(0));
}

TEST_F(RespCommandsTest, ExpireInThePastDeletesTheKey) {
  Run({"SET", "k", "v"});
  EXPECT_EQ(Run({"EXPIRE", "k", "-5"}), Int(1));
  EXPECT_EQ(Run({"EXISTS", "k"}), Int(0));
  Run({"SET", "k", "v"});
  EXPECT_EQ(Run({"EXPIREAT", "k", "1"}), Int(1));
  EXPECT_EQ(Run({"EXISTS", "k"}), Int(0));
}

TEST_F(RespCommandsTest, ExpireNxAndXxLookAtTheCurrentExpiry) {
  Run({"SET", "k", "v"});
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "XX"}), Int(0));
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "NX"}), Int(1));
  EXPECT_EQ(Run({"EXPIRE", "k", "200", "NX"}), Int(0));
  EXPECT_EQ(Run({"EXPIRE", "k", "200", "xx"}), Int(1));
  EXPECT_EQ(Run({"TTL", "k"}), Int(200));
}

TEST_F(RespCommandsTest, ExpireGtAndLtCompareWithTheCurrentExpiry) {
  Run({"SET", "k", "v"});
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "GT"}), Int(0));  // none counts as infinite
  EXPECT_EQ(Run({"EXPIRE", "k", "100", "LT"}), Int(1));
  EXPECT_EQ(Run({"EXPIRE", "k", "50", "GT"}), Int(0));
  EXPECT_EQ(Run({"EXPIRE", "k", "200", "GT"}), Int(1));
  EXPECT_EQ(Run({"EXPIRE", "k", "300", "LT"}), Int(0));
  EXPECT_EQ(Run({"TTL", "k"}), Int(200));
}

TEST_F(RespCommandsTest, ExpireConflictingOptionsAreErrors) {
  Run({"SET", "k", "v"});
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "NX", "XX"}),
            Err("ERR NX and XX, GT or LT options at the same time are not compatible"));
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "GT", "LT"}),
            Err("ERR GT and LT options at the same time are not compatible"));
}

TEST_F(RespCommandsTest, ExpireUnknownOptionIsUnsupported) {
  EXPECT_EQ(Run({"EXPIRE", "k", "10", "foo"}), Err("ERR Unsupported option foo"));
}

TEST_F(RespCommandsTest, ExpireTimeMustBeAnInteger) {
  EXPECT_EQ(Run({"EXPIRE", "k", "x"}), Err("ERR value is not an integer or out of range"));
}

TEST_F(RespCommandsTest, ExpireOverflowIsAnInvalidExpireTime) {
  Run({"SET", "k", "v"});
  EXPECT_EQ(Run({"EXPIRE", "k", "9223372036854775807"}),
            Err("ERR invalid expire time in 'expire' command"));
  EXPECT_EQ(Run({"PEXPIRE", "k", "9223372036854775807"}),
            Err("ERR invalid expire time in 'pexpire' command"));
}

TEST_F(RespCommandsTest, PexpireatAndExpiretimeReportAbsoluteTimes) {
  Run({"SET", "k", "v"});
  EXPECT_EQ(Run({"PEXPIREAT", "k", "1999999999999"}), Int(1));
  EXPECT_EQ(Run({"PEXPIRETIME", "k"}), Int(1999999999999));
  EXPECT_EQ(Run({"EXPIRETIME", "k"}), Int(2000000000));  // rounded, as Redis
}

TEST_F(RespCommandsTest, TtlFamilyOfMissingAndPersistentKeys) {
  Run({"SET", "k", "v"});
  for (const char* cmd : {"TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"}) {
    EXPECT_EQ(Run({cmd, "nope"}), Int(-2)) << cmd;
    EXPECT_EQ(Run({cmd, "k"}), Int(-1)) << cmd;
  }
}

TEST_F(RespCommandsTest, PersistRepliesOneThenZero) {
  Run({"SET", "k", "v", "EX", "100"});
  EXPECT_EQ(Run({"PERSIST", "k"}), Int(1));
  EXPECT_EQ(Run({"PERSIST", "k"}), Int(0));
  EXPECT_EQ(Run({"TTL", "k"}), Int(-1));
}

TEST_F(RespCommandsTest, KeysTakesAGlobOverResp) {
  Run({"MSET", "user:1", "a", "user:2", "b", "user:10", "c", "other", "d"});
  EXPECT_EQ(Run({"KEYS", "user:?"}), Arr(2) + Bulk("user:1") + Bulk("user:2"));
  EXPECT_EQ(Run({"KEYS", "*"}),
            Arr(4) + Bulk("other") + Bulk("user:1") + Bulk("user:10") + Bulk("user:2"));
  EXPECT_EQ(Run({"KEYS", "[ou]*1"}), Arr(1) + Bulk("user:1"));
}

TEST_F(RespCommandsTest, ScanWithALargeCountReturnsEverythingAndCursorZero) {
  Run({"MSET", "a", "1", "b", "2"});
  EXPECT_EQ(ScanAll("1000"), (std::set<std::string>{"a", "b"}));
  EXPECT_THAT(Run({"SCAN", "0", "COUNT", "1000"}), ::testing::StartsWith(Arr(2) + Bulk("0")));
}

TEST_F(RespCommandsTest, ScanWithCountOneStillVisitsEveryKey) {
  std::set<std::string> expected;
  for (int i = 0; i < 200; ++i) {
    std::string key = "key:" + std::to_string(i);
    Run({"SET", key, "v"});
    expected.insert(key);
  }
  EXPECT_EQ(ScanAll("1"), expected);
}

TEST_F(RespCommandsTest, ScanMatchFilters) {
  Run({"MSET", "user:1", "a", "user:2", "b", "other", "c"});
  EXPECT_EQ(ScanAll("1000", {"MATCH", "user:*"}), (std::set<std::string>{"user:1", "user:2"}));
}

TEST_F(RespCommandsTest, ScanTypeOtherThanStringFindsNothing) {
  Run({"SET", "a", "1"});
  EXPECT_EQ(ScanAll("1000", {"TYPE", "hash"}), std::set<std::string>{});
  EXPECT_EQ(ScanAll("1000", {"TYPE", "string"}), std::set<std::string>{"a"});
}

TEST_F(RespCommandsTest, ScanBadCursorIsInvalid) {
  EXPECT_EQ(Run({"SCAN", "x"}), Err("ERR invalid cursor"));
  EXPECT_EQ(Run({"SCAN", "18446744073709551616"}), Err("ERR invalid cursor"));
}

TEST_F(RespCommandsTest, ScanBadOptionsAreErrors) {
  EXPECT_EQ(Run({"SCAN", "0", "COUNT", "0"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SCAN", "0", "COUNT", "x"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"SCAN", "0", "MATCH"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"SCAN", "0", "foo", "bar"}), Err("ERR syntax error"));
}

TEST_F(RespCommandsTest, RandomkeyOfAnEmptyTableIsNull) { EXPECT_EQ(Run({"RANDOMKEY"}), kNil); }

TEST_F(RespCommandsTest, RandomkeyReturnsAnExistingKey) {
  Run({"MSET", "a", "1", "b", "2", "c", "3"});
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) seen.insert(Run({"RANDOMKEY"}));
  EXPECT_GE(seen.size(), 2u);  // not always the same one
  for (const std::string& reply : seen) {
    EXPECT_TRUE(reply == Bulk("a") || reply == Bulk("b") || reply == Bulk("c")) << reply;
  }
}

}  // namespace
}  // namespace memento::daemon
