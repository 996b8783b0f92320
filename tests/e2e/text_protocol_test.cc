// End-to-end tests of Memento's text protocol against the real daemon on a loopback
// port: every command and reply of docs/protocol.md, pipelining, split requests,
// concurrency and slow readers; and how Redis inline commands share the port, compared
// byte for byte with a real redis-server (InlineVsRedisTest).

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/util/daemon_process.h"
#include "tests/util/redis_server.h"

namespace memento::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class TextProtocolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    daemon_ = new DaemonProcess();
    ASSERT_TRUE(daemon_->Start({"-p", "0", "--data-dir", dir_->path() + "/data", "--threads",
                                "2", "--max-line", "1024"}))
        << daemon_->Log();
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_TRUE(client_.Connect(daemon_->port()));
    ASSERT_EQ(client_.Call("FLUSH"), "OK");
  }

  static Client NewClient() {
    Client c;
    EXPECT_TRUE(c.Connect(daemon_->port()));
    return c;
  }

  static TempDir* dir_;
  static DaemonProcess* daemon_;
  Client client_;
};

TempDir* TextProtocolTest::dir_ = nullptr;
DaemonProcess* TextProtocolTest::daemon_ = nullptr;

TEST_F(TextProtocolTest, SetThenGetReturnsTheValue) {
  EXPECT_EQ(client_.Call("SET greeting hello"), "OK");
  EXPECT_EQ(client_.Call("GET greeting"), "hello");
}

TEST_F(TextProtocolTest, GetOfAMissingKeyIsNullOnOneLine) {
  EXPECT_EQ(client_.Call("GET nothing"), "(null)");
  // The original sent a second CRLF after a miss; the next reply must follow directly.
  EXPECT_EQ(client_.Call("GET nothing"), "(null)");
}

TEST_F(TextProtocolTest, SetKeepsTheRestOfTheLineWithInnerSpaces) {
  EXPECT_EQ(client_.Call("SET k  hello   big world "), "OK");
  EXPECT_EQ(client_.Call("GET k"), "hello   big world ");
}

TEST_F(TextProtocolTest, CommandsAreCaseInsensitive) {
  EXPECT_EQ(client_.Call("set k v"), "OK");
  EXPECT_EQ(client_.Call("gEt k"), "v");
  EXPECT_EQ(client_.Call("Del k"), "OK");
}

TEST_F(TextProtocolTest, BareLineFeedAndTabsWork) {
  ASSERT_TRUE(client_.Send("SET\tk\tv1\nGET   k\n"));
  EXPECT_EQ(client_.ReadLine(), "OK");
  EXPECT_EQ(client_.ReadLine(), "v1");
}

TEST_F(TextProtocolTest, OverwriteReplacesValue) {
  EXPECT_EQ(client_.Call("SET k first"), "OK");
  EXPECT_EQ(client_.Call("SET k second"), "OK");
  EXPECT_EQ(client_.Call("GET k"), "second");
}

TEST_F(TextProtocolTest, DelReportsOkWhenAnyKeyWasDeleted) {
  client_.Call("SET a 1");
  client_.Call("SET c 3");
  EXPECT_EQ(client_.Call("DEL a b c"), "OK");
  EXPECT_EQ(client_.Call("GET a"), "(null)");
  EXPECT_EQ(client_.Call("GET c"), "(null)");
  EXPECT_EQ(client_.Call("DEL a b"), "(null)");
}

TEST_F(TextProtocolTest, IncAndDecCountFromZeroAndStoreDecimalText) {
  EXPECT_EQ(client_.Call("INC n"), "OK");
  EXPECT_EQ(client_.Call("GET n"), "1");
  EXPECT_EQ(client_.Call("INC n 5"), "OK");  // the original added 1 here over CRLF
  EXPECT_EQ(client_.Call("GET n"), "6");
  EXPECT_EQ(client_.Call("DEC n 10"), "OK");
  EXPECT_EQ(client_.Call("GET n"), "-4");
  EXPECT_EQ(client_.Call("DEC n"), "OK");
  EXPECT_EQ(client_.Call("GET n"), "-5");
  EXPECT_EQ(client_.Call("INC n -3"), "OK");  // negative amounts work
  EXPECT_EQ(client_.Call("GET n"), "-8");
}

TEST_F(TextProtocolTest, IncIsSigned64BitAndOverflowIsAnError) {
  EXPECT_EQ(client_.Call("SET n 9223372036854775806"), "OK");
  EXPECT_EQ(client_.Call("INC n"), "OK");
  EXPECT_EQ(client_.Call("GET n"), "9223372036854775807");
  EXPECT_THAT(client_.Call("INC n"), StartsWith("(error) ERR increment or decrement would overflow"));
  EXPECT_EQ(client_.Call("GET n"), "9223372036854775807");
  EXPECT_EQ(client_.Call("SET m -9223372036854775808"), "OK");
  EXPECT_THAT(client_.Call("DEC m"), StartsWith("(error) ERR increment or decrement would overflow"));
}

TEST_F(TextProtocolTest, IncOfANonNumberIsAnError) {
  client_.Call("SET s hello");
  EXPECT_EQ(client_.Call("INC s"), "(error) ERR value is not an integer or out of range");
  EXPECT_EQ(client_.Call("INC n abc"), "(error) ERR value is not an integer or out of range");
  EXPECT_EQ(client_.Call("GET s"), "hello");
}

TEST_F(TextProtocolTest, IncfAndDecfUseDoubles) {
  EXPECT_EQ(client_.Call("INCF f"), "OK");
  EXPECT_EQ(client_.Call("GET f"), "1");
  EXPECT_EQ(client_.Call("INCF f 0.5"), "OK");
  EXPECT_EQ(client_.Call("GET f"), "1.5");
  EXPECT_EQ(client_.Call("DECF f 2.25"), "OK");
  EXPECT_EQ(client_.Call("GET f"), "-0.75");
  EXPECT_EQ(client_.Call("DECF f"), "OK");
  EXPECT_EQ(client_.Call("GET f"), "-1.75");
}

TEST_F(TextProtocolTest, IncfRejectsInfinityAndNan) {
  EXPECT_EQ(client_.Call("INCF f inf"), "(error) ERR value is not a valid float");
  EXPECT_EQ(client_.Call("INCF f nan"), "(error) ERR value is not a valid float");
  client_.Call("SET big 1.7e308");
  EXPECT_EQ(client_.Call("INCF big 1.7e308"), "(error) ERR increment would produce NaN or Infinity");
  client_.Call("SET s text");
  EXPECT_EQ(client_.Call("INCF s"), "(error) ERR value is not a valid float");
}

TEST_F(TextProtocolTest, GetpReturnsFourLines) {
  auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  client_.Call("SET k some value");
  ASSERT_TRUE(client_.Send("GETP k\r\n"));
  EXPECT_EQ(client_.ReadLine(), "key: k");
  EXPECT_EQ(client_.ReadLine(), "value: some value");
  std::string created = client_.ReadLine().value_or("");
  ASSERT_THAT(created, StartsWith("creation_time: "));
  long long created_ms = std::stoll(created.substr(15));
  EXPECT_GE(created_ms, before - 1000);
  EXPECT_LE(created_ms, before + 60000);
  EXPECT_EQ(client_.ReadLine(), "expire_time: -1");
  EXPECT_EQ(client_.Call("GETP missing"), "(null)");
}

TEST_F(TextProtocolTest, GetpShowsAbsoluteExpireTime) {
  client_.Call("SET k v");
  client_.Call("EXPIRE k 100");
  ASSERT_TRUE(client_.Send("GETP k\r\n"));
  client_.ReadLine();
  client_.ReadLine();
  std::string created = client_.ReadLine().value_or("");
  std::string expires = client_.ReadLine().value_or("");
  ASSERT_THAT(expires, StartsWith("expire_time: "));
  long long created_ms = std::stoll(created.substr(15));
  long long expire_ms = std::stoll(expires.substr(13));
  EXPECT_GE(expire_ms, created_ms + 99000);
  EXPECT_LE(expire_ms, created_ms + 101000);
}

TEST_F(TextProtocolTest, AppendAndPrependKeepNoLineTerminator) {
  client_.Call("SET k middle");
  EXPECT_EQ(client_.Call("APPEND k  end"), "OK");
  EXPECT_EQ(client_.Call("PREPEND k start "), "OK");
  EXPECT_EQ(client_.Call("GET k"), "start middleend");
}

TEST_F(TextProtocolTest, AppendCreatesAMissingKey) {
  EXPECT_EQ(client_.Call("APPEND fresh abc"), "OK");
  EXPECT_EQ(client_.Call("GET fresh"), "abc");
  EXPECT_EQ(client_.Call("PREPEND fresh2 xyz"), "OK");
  EXPECT_EQ(client_.Call("GET fresh2"), "xyz");
}

TEST_F(TextProtocolTest, FlushRemovesEverything) {
  client_.Call("SET a 1");
  client_.Call("SET b 2");
  EXPECT_EQ(client_.Call("FLUSH"), "OK");
  EXPECT_EQ(client_.Call("COUNT"), "0");
  EXPECT_EQ(client_.Call("GET a"), "(null)");
}

TEST_F(TextProtocolTest, CountReturnsTheNumberOfKeys) {
  EXPECT_EQ(client_.Call("COUNT"), "0");
  client_.Call("SET a 1");
  client_.Call("SET b 2");
  client_.Call("SET a 3");
  EXPECT_EQ(client_.Call("COUNT"), "2");
}

TEST_F(TextProtocolTest, KeysListsKeysWithPrefixAsACountedBlock) {
  client_.Call("SET user:1 a");
  client_.Call("SET user:2 b");
  client_.Call("SET other c");
  EXPECT_THAT(client_.CallBlock("KEYS user:"), ::testing::Optional(ElementsAre("user:1", "user:2")));
  EXPECT_THAT(client_.CallBlock("KEYS"), ::testing::Optional(ElementsAre("other", "user:1", "user:2")));
  EXPECT_THAT(client_.CallBlock("KEYS nomatch"), ::testing::Optional(ElementsAre()));
}

TEST_F(TextProtocolTest, ExpireTtlAndPersist) {
  EXPECT_EQ(client_.Call("TTL missing"), "-2");
  client_.Call("SET k v");
  EXPECT_EQ(client_.Call("TTL k"), "-1");
  EXPECT_EQ(client_.Call("EXPIRE k 100"), "OK");
  EXPECT_EQ(client_.Call("TTL k"), "100");
  EXPECT_EQ(client_.Call("PERSIST k"), "OK");
  EXPECT_EQ(client_.Call("TTL k"), "-1");
  EXPECT_EQ(client_.Call("PERSIST k"), "(null)");
  EXPECT_EQ(client_.Call("EXPIRE missing 10"), "(null)");
  EXPECT_EQ(client_.Call("PERSIST missing"), "(null)");
  EXPECT_EQ(client_.Call("EXPIRE k soon"), "(error) ERR invalid expire time in 'expire' command");
}

TEST_F(TextProtocolTest, ExpiredKeysAreNeverReturned) {
  client_.Call("SET k v");
  EXPECT_EQ(client_.Call("EXPIRE k 1"), "OK");
  EXPECT_EQ(client_.Call("GET k"), "v");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(client_.Call("GET k"), "(null)");
  EXPECT_EQ(client_.Call("TTL k"), "-2");
}

TEST_F(TextProtocolTest, ExpiredKeysAreReclaimedInTheBackground) {
  for (int i = 0; i < 100; ++i) client_.Call("SET tmp:" + std::to_string(i) + " v");
  for (int i = 0; i < 100; ++i) client_.Call("EXPIRE tmp:" + std::to_string(i) + " 1");
  client_.Call("SET keep v");
  EXPECT_EQ(client_.Call("COUNT"), "101");
  // Nobody reads the expired keys: only the background reaper can remove them.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::string count;
  while (std::chrono::steady_clock::now() < deadline) {
    count = client_.Call("COUNT");
    if (count == "1") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(count, "1");
}

TEST_F(TextProtocolTest, ExpireWithNonPositiveTimeDeletesTheKey) {
  client_.Call("SET k v");
  EXPECT_EQ(client_.Call("EXPIRE k 0"), "OK");
  EXPECT_EQ(client_.Call("GET k"), "(null)");
}

TEST_F(TextProtocolTest, SetClearsAnExpiry) {
  client_.Call("SET k v");
  client_.Call("EXPIRE k 100");
  client_.Call("SET k w");
  EXPECT_EQ(client_.Call("TTL k"), "-1");
}

TEST_F(TextProtocolTest, IncKeepsAnExpiry) {
  client_.Call("SET n 1");
  client_.Call("EXPIRE n 100");
  client_.Call("INC n");
  EXPECT_EQ(client_.Call("TTL n"), "100");
}

TEST_F(TextProtocolTest, SaveAndBgsaveCheckpointTheLog) {
  client_.Call("SET saved value");
  EXPECT_EQ(client_.Call("SAVE"), "OK");
  auto lines = client_.CallBlock("INFO persistence");
  ASSERT_TRUE(lines.has_value());
  EXPECT_THAT(*lines, Contains("aof_enabled:1"));
  EXPECT_THAT(*lines, Contains("rdb_last_bgsave_status:ok"));
  // The snapshot now covers everything written so far.
  std::string last, snap;
  for (const std::string& l : *lines) {
    if (l.rfind("wal_last_lsn:", 0) == 0) last = l.substr(13);
    if (l.rfind("snapshot_lsn:", 0) == 0) snap = l.substr(13);
  }
  EXPECT_FALSE(last.empty());
  EXPECT_EQ(snap, last);
  std::string bg = client_.Call("BGSAVE");
  EXPECT_TRUE(bg == "Background saving started" ||
              bg == "(error) ERR Background save already in progress")
      << bg;
}

TEST_F(TextProtocolTest, InfoHasEverySectionAsACountedBlock) {
  client_.Call("SET a 1");
  client_.Call("GET a");
  client_.Call("GET missing");
  auto lines = client_.CallBlock("INFO");
  ASSERT_TRUE(lines.has_value());
  for (const char* header : {"# Server", "# Clients", "# Memory", "# Stats", "# Keyspace"}) {
    EXPECT_THAT(*lines, Contains(header));
  }
  EXPECT_THAT(*lines, Contains("db0:keys=1,expires=0"));
  EXPECT_THAT(*lines, Contains("tcp_port:" + std::to_string(daemon_->port())));
  EXPECT_THAT(*lines, Contains(StartsWith("connected_clients:")));
  EXPECT_THAT(*lines, Contains(StartsWith("keyspace_hits:")));
  EXPECT_THAT(*lines, Contains(StartsWith("used_memory:")));
  // The connection still works after a multi-line reply.
  EXPECT_EQ(client_.Call("PING"), "+PONG");
}

TEST_F(TextProtocolTest, InfoSectionSelectsOneSection) {
  auto lines = client_.CallBlock("INFO keyspace");
  ASSERT_TRUE(lines.has_value());
  EXPECT_THAT(*lines, ElementsAre("# Keyspace", "db0:keys=0,expires=0"));
}

TEST_F(TextProtocolTest, UnknownCommandGetsRedisInlineError) {
  // Not the original's "(Unknown command)": an unknown name is a Redis inline command
  // (docs/protocol.md, "One port, two protocols"); InlineVsRedisTest compares bytes.
  EXPECT_EQ(client_.Call("FROB x"), "-ERR unknown command 'FROB', with args beginning with: 'x' ");
  EXPECT_EQ(client_.Call("SET k v"), "OK");  // and the connection stays a text one
}

TEST_F(TextProtocolTest, WrongArityIsAnError) {
  EXPECT_EQ(client_.Call("GET"), "(error) ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(client_.Call("SET k"), "(error) ERR wrong number of arguments for 'set' command");
  EXPECT_EQ(client_.Call("GET a b"), "(error) ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(client_.Call("INC a 1 2"), "(error) ERR wrong number of arguments for 'inc' command");
}

TEST_F(TextProtocolTest, BlankLinesAreIgnored) {
  ASSERT_TRUE(client_.Send("\r\n\n   \r\nGET nothing\r\n"));
  EXPECT_EQ(client_.ReadLine(), "(null)");
}

TEST_F(TextProtocolTest, QuitAndExitCloseWithoutReply) {
  ASSERT_TRUE(client_.Send("QUIT\r\n"));
  EXPECT_TRUE(client_.WaitForEof());
  Client other = NewClient();
  ASSERT_TRUE(other.Send("SET after-exit 1\r\nexit\r\nSET after-exit 2\r\n"));
  EXPECT_EQ(other.ReadLine(), "OK");
  EXPECT_TRUE(other.WaitForEof());
  Client check = NewClient();
  EXPECT_EQ(check.Call("GET after-exit"), "1");  // nothing after EXIT was executed
}

TEST_F(TextProtocolTest, TooLongLineIsAnErrorAndClosesTheConnection) {
  // This daemon runs with --max-line 1024.
  ASSERT_TRUE(client_.Send("SET k " + std::string(2000, 'x')));  // no newline: not buffered
  EXPECT_THAT(client_.ReadLine().value_or(""), StartsWith("(error) ERR line too long"));
  EXPECT_TRUE(client_.WaitForEof());
  Client other = NewClient();
  EXPECT_EQ(other.Call("GET k"), "(null)");
}

TEST_F(TextProtocolTest, TenThousandPipelinedRequestsInOneWrite) {
  std::string batch;
  for (int i = 0; i < 5000; ++i) {
    batch += "SET key:" + std::to_string(i) + " value-" + std::to_string(i) + "\r\n";
    batch += "GET key:" + std::to_string(i) + "\r\n";
  }
  ASSERT_TRUE(client_.Send(batch));
  for (int i = 0; i < 5000; ++i) {
    ASSERT_EQ(client_.ReadLine(), "OK") << i;
    ASSERT_EQ(client_.ReadLine(), "value-" + std::to_string(i)) << i;
  }
  EXPECT_EQ(client_.Call("COUNT"), "5000");
}

TEST_F(TextProtocolTest, RequestSplitByteByByte) {
  std::string request = "SET split hello world\r\nGET split\r\n";
  for (char ch : request) {
    ASSERT_TRUE(client_.Send(std::string(1, ch)));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(client_.ReadLine(), "OK");
  EXPECT_EQ(client_.ReadLine(), "hello world");
}

TEST_F(TextProtocolTest, FiftyConcurrentClientsIncrementOneKeyExactly) {
  constexpr int kClients = 50;
  constexpr int kIncrements = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&] {
      Client c;
      if (!c.Connect(daemon_->port())) {
        failures++;
        return;
      }
      for (int i = 0; i < kIncrements; ++i) {
        if (c.Call("INC counter") != "OK") failures++;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(client_.Call("GET counter"), std::to_string(kClients * kIncrements));
}

TEST_F(TextProtocolTest, ClientThatNeverReadsDoesNotBlockOthers) {
  // A 64 KiB value, requested many times without reading: megabytes of replies pile
  // up for this client. The value is built with APPEND, each request well under this
  // daemon's 1 KiB line limit.
  std::string chunk(512, 'v');
  for (int i = 0; i < 128; ++i) ASSERT_EQ(client_.Call("APPEND big " + chunk), "OK");
  Client hog = NewClient();
  std::string requests;
  constexpr int kRequests = 400;  // 400 x 64 KiB = 25 MiB of replies
  for (int i = 0; i < kRequests; ++i) requests += "GET big\r\n";
  ASSERT_TRUE(hog.Send(requests));
  // Meanwhile others are served promptly.
  Client other = NewClient();
  for (int i = 0; i < 50; ++i) {
    auto start = std::chrono::steady_clock::now();
    ASSERT_EQ(other.Call("PING"), "+PONG");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  }
  // And the hog gets every byte of every reply, in order, when it finally reads.
  for (int i = 0; i < kRequests; ++i) {
    auto line = hog.ReadLine(std::chrono::seconds(10));
    ASSERT_TRUE(line.has_value()) << "reply " << i;
    ASSERT_EQ(line->size(), 64u * 1024u) << "reply " << i;
  }
}

// ---------------------------------------------------------------------------
// The original Memento's listings: VALUES, PREFSCAN, FUZZYSCAN, KEYSPACE

TEST_F(TextProtocolTest, ValuesListsEveryValueSortedAsABlock) {
  client_.Call("SET user:2 Grace Hopper");
  client_.Call("SET user:1 Ada Lovelace");
  client_.Call("SET visits 7");
  EXPECT_EQ(client_.CallBlock("VALUES"),
            (std::vector<std::string>{"7", "Ada Lovelace", "Grace Hopper"}));
  EXPECT_EQ(client_.Call("values extra"),
            "(error) ERR wrong number of arguments for 'values' command");
  client_.Call("FLUSH");
  EXPECT_EQ(client_.CallBlock("VALUES"), std::vector<std::string>{});
}

TEST_F(TextProtocolTest, PrefscanListsTheValuesOfKeysWithThePrefix) {
  client_.Call("SET user:2 Grace");
  client_.Call("SET user:1 Ada");
  client_.Call("SET usage 99");
  EXPECT_EQ(client_.CallBlock("PREFSCAN user:"), (std::vector<std::string>{"Ada", "Grace"}));
  EXPECT_EQ(client_.CallBlock("PREFSCAN us"), (std::vector<std::string>{"99", "Ada", "Grace"}));
  EXPECT_EQ(client_.CallBlock("PREFSCAN nobody"), std::vector<std::string>{});
  EXPECT_EQ(client_.Call("PREFSCAN"),
            "(error) ERR wrong number of arguments for 'prefscan' command");
}

TEST_F(TextProtocolTest, FuzzyscanMatchesThePatternsBytesInOrder) {
  client_.Call("SET user:1 Ada");
  client_.Call("SET team:1 core");
  client_.Call("SET other zed");
  // "ur1" is in "user:1" (u, r, 1 with gaps); "t:1" in "team:1"; "1u" nowhere.
  EXPECT_EQ(client_.CallBlock("FUZZYSCAN ur1"), std::vector<std::string>{"Ada"});
  EXPECT_EQ(client_.CallBlock("FUZZYSCAN t:1"), std::vector<std::string>{"core"});
  EXPECT_EQ(client_.CallBlock("FUZZYSCAN e"), (std::vector<std::string>{"Ada", "core", "zed"}));
  EXPECT_EQ(client_.CallBlock("FUZZYSCAN 1u"), std::vector<std::string>{});
}

TEST_F(TextProtocolTest, KeyspaceReportsKeysAndSpace) {
  for (int i = 0; i < 10; ++i) client_.Call("SET k" + std::to_string(i) + " value");
  auto lines = client_.CallBlock("KEYSPACE");
  ASSERT_TRUE(lines.has_value());
  ASSERT_EQ(lines->size(), 1u);
  EXPECT_THAT(lines->front(), ::testing::MatchesRegex("Keys: 10\tSpace: [0-9]+\\.[0-9][0-9] Kb"));
}

TEST_F(TextProtocolTest, TheListingsAreArraysOverResp) {
  client_.Call("SET user:1 Ada");
  client_.Call("SET user:2 Grace");
  Client resp = NewClient();
  ASSERT_TRUE(resp.Send("*1\r\n$6\r\nVALUES\r\n*2\r\n$8\r\nPREFSCAN\r\n$6\r\nuser:2\r\n"
                        "*2\r\n$9\r\nFUZZYSCAN\r\n$2\r\nu1\r\n*1\r\n$8\r\nKEYSPACE\r\n"));
  const std::string values = "*2\r\n$3\r\nAda\r\n$5\r\nGrace\r\n";
  const std::string grace = "*1\r\n$5\r\nGrace\r\n";
  const std::string ada = "*1\r\n$3\r\nAda\r\n";
  EXPECT_EQ(resp.ReadBytes(values.size()), values);
  EXPECT_EQ(resp.ReadBytes(grace.size()), grace);
  EXPECT_EQ(resp.ReadBytes(ada.size()), ada);
  EXPECT_EQ(resp.ReadLine(), "*1");
  EXPECT_THAT(resp.ReadLine().value_or(""), StartsWith("$"));
  EXPECT_THAT(resp.ReadLine().value_or(""), StartsWith("Keys: 2\tSpace: "));
}

// ---------------------------------------------------------------------------
// One port, two protocols (docs/protocol.md): Redis inline commands on a text
// connection, and the switch to RESP2 at the first multibulk.

TEST_F(TextProtocolTest, TextCommandsKeepTheirRepliesBetweenInlineOnes) {
  EXPECT_EQ(client_.Call("SET k hello world"), "OK");
  EXPECT_EQ(client_.Call("PING"), "+PONG");
  EXPECT_EQ(client_.Call("GET k"), "hello world");
  EXPECT_EQ(client_.Call("INCR n"), ":1");  // a Redis-only command: Redis's reply
  EXPECT_EQ(client_.Call("GET n"), "1");
  EXPECT_EQ(client_.Call("INC n"), "OK");
  EXPECT_EQ(client_.Call("DEL k"), "OK");
  EXPECT_EQ(client_.Call("GET k"), "(null)");
  EXPECT_EQ(client_.Call("GETRANGE n 0 -1"), "2");  // Memento's text additions stay text
}

TEST_F(TextProtocolTest, AMultibulkTurnsTheConnectionToResp) {
  EXPECT_EQ(client_.Call("SET a 1 2"), "OK");  // text: the value is the rest of the line
  ASSERT_TRUE(client_.Send("*2\r\n$3\r\nGET\r\n$1\r\na\r\n"));
  EXPECT_EQ(client_.ReadBytes(9), "$3\r\n1 2\r\n");
  // From now on inline lines are Redis's too: "SET a 1 2" is a syntax error, GET a bulk.
  EXPECT_EQ(client_.Call("SET a 1 2"), "-ERR syntax error");
  ASSERT_TRUE(client_.Send("GET a\r\n"));
  EXPECT_EQ(client_.ReadBytes(9), "$3\r\n1 2\r\n");
  EXPECT_EQ(client_.Call("DEL a"), ":1");
}

TEST_F(TextProtocolTest, AuthIsARedisInlineCommandWhenAPasswordIsSet) {
  TempDir dir;
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start({"-p", "0", "--data-dir", dir.path() + "/data", "--requirepass",
                            "s3cret"}))
      << daemon.Log();
  Client c;
  ASSERT_TRUE(c.Connect(daemon.port()));
  EXPECT_EQ(c.Call("GET k"), "(error) NOAUTH Authentication required.");
  EXPECT_EQ(c.Call("PING"), "-NOAUTH Authentication required.");
  EXPECT_EQ(c.Call("AUTH nope"),
            "-WRONGPASS invalid username-password pair or user is disabled.");
  // HAProxy's Redis check: "AUTH <password>" expecting +OK, then "PING" expecting +PONG.
  EXPECT_EQ(c.Call("AUTH s3cret"), "+OK");
  EXPECT_EQ(c.Call("PING"), "+PONG");
  EXPECT_EQ(c.Call("GET k"), "(null)");
}

class InlineVsRedisTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    memento_ = new DaemonProcess();
    ASSERT_TRUE(memento_->Start({"-p", "0", "--data-dir", dir_->path() + "/data"}))
        << memento_->Log();
    redis_ = new RedisServer();
    std::string why;
    ASSERT_TRUE(redis_->Start(dir_->path(), &why)) << why;
  }
  static void TearDownTestSuite() {
    delete redis_;
    delete memento_;
    delete dir_;
  }

  // Sends `bytes` on a fresh connection, then (unless the server is expected to
  // close) an inline "ECHO <end marker>", and returns every byte received before the
  // marker's reply, or up to EOF.
  static std::string Exchange(uint16_t port, const std::string& bytes, bool until_eof = false) {
    static const std::string kMarker = "end-of-exchange";
    static const std::string kMarkerReply = "$15\r\nend-of-exchange\r\n";
    Client c;
    if (!c.Connect(port)) return "<no connection>";
    if (!c.Send(until_eof ? bytes : bytes + "ECHO " + kMarker + "\r\n")) return "<send failed>";
    std::string got;
    while (true) {
      std::optional<std::string> byte = c.ReadBytes(1, std::chrono::seconds(2));
      if (!byte.has_value()) return until_eof ? got : got + "<time-out or EOF>";
      got += *byte;
      if (!until_eof && got.ends_with(kMarkerReply)) {
        return got.substr(0, got.size() - kMarkerReply.size());
      }
    }
  }

  // The bytes memento answers, after checking they are redis-server's.
  static std::string Compare(const std::string& bytes, bool until_eof = false) {
    const std::string redis = Exchange(redis_->port(), bytes, until_eof);
    const std::string memento = Exchange(memento_->port(), bytes, until_eof);
    EXPECT_EQ(memento, redis) << "for the request bytes [" << bytes << "]";
    return memento;
  }

  static TempDir* dir_;
  static DaemonProcess* memento_;
  static RedisServer* redis_;
};

TempDir* InlineVsRedisTest::dir_ = nullptr;
DaemonProcess* InlineVsRedisTest::memento_ = nullptr;
RedisServer* InlineVsRedisTest::redis_ = nullptr;

TEST_F(InlineVsRedisTest, PingIsPong) {
  EXPECT_EQ(Compare("PING\r\n"), "+PONG\r\n");
  EXPECT_EQ(Compare("ping\n"), "+PONG\r\n");  // what `echo PING | nc` sends, in any case
}

TEST_F(InlineVsRedisTest, PingWithAMessageIsABulk) {
  EXPECT_EQ(Compare("PING hello\r\n"), "$5\r\nhello\r\n");
  Compare("PING a b\r\n");  // too many arguments
}

TEST_F(InlineVsRedisTest, EchoIsABulk) {
  EXPECT_EQ(Compare("ECHO hello\r\n"), "$5\r\nhello\r\n");
  EXPECT_EQ(Compare("ECHO\r\n"), "-ERR wrong number of arguments for 'echo' command\r\n");
}

TEST_F(InlineVsRedisTest, UnknownCommandIsRedisError) {
  EXPECT_EQ(Compare("FROB x y\r\n"),
            "-ERR unknown command 'FROB', with args beginning with: 'x' 'y' \r\n");
  Compare("frob\r\n");
}

TEST_F(InlineVsRedisTest, EmptyLinesAreIgnored) {
  EXPECT_EQ(Compare("\r\n   \r\n\t\n\n"), "");
  EXPECT_EQ(Compare("\r\nPING\r\n\r\n"), "+PONG\r\n");
}

TEST_F(InlineVsRedisTest, EmptyAndNegativeMultibulksAreIgnored) {
  EXPECT_EQ(Compare("*-10\r\n"), "");
  EXPECT_EQ(Compare("*0\r\n*-1\r\nPING\r\n"), "+PONG\r\n");
}

TEST_F(InlineVsRedisTest, InlineAndMultibulkMixOnOneConnection) {
  EXPECT_EQ(Compare("PING\r\n*1\r\n$4\r\nPING\r\nPING again\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n"),
            "+PONG\r\n+PONG\r\n$5\r\nagain\r\n$1\r\nx\r\n");
}

TEST_F(InlineVsRedisTest, RedisOnlyCommandsGetRedisReplies) {
  EXPECT_EQ(Compare("INCR inline-vs-redis:counter\r\n"), ":1\r\n");
  Compare("INCR\r\n");                    // wrong arity, Redis's text
  Compare("AUTH secret\r\n");             // no password configured on either
  Compare("*1\r\n$4\r\nPING\r\nSET a b c\r\n");  // inline after a multibulk: Redis's SET
}

TEST_F(InlineVsRedisTest, ABadMultibulkHeaderIsAProtocolErrorThatCloses) {
  EXPECT_EQ(Compare("*foo\r\nPING\r\n", /*until_eof=*/true),
            "-ERR Protocol error: invalid multibulk length\r\n");
}

}  // namespace
}  // namespace memento::testing
