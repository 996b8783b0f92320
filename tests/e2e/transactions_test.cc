// End-to-end tests of MULTI/EXEC/DISCARD/WATCH/UNWATCH against the real daemon with
// four event loops: every scenario's reply bytes are compared with a real
// redis-server 7's, run the same way; then WATCH-based optimistic locking under 20
// contending clients, and isolation (no client sees a state between a transaction's
// commands). The text protocol's MULTI/EXEC/DISCARD lines are checked too.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <optional>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/daemon_process.h"

namespace memento::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// One RESP reply, exactly the bytes sent ("" on time-out or EOF).
std::string RawReply(Client& c) {
  std::optional<std::string> line = c.ReadLine(std::chrono::seconds(10));
  if (!line || line->empty()) return "";
  std::string out = *line + "\r\n";
  const char type = (*line)[0];
  if (type == '+' || type == '-' || type == ':') return out;
  long n = 0;
  std::from_chars(line->data() + 1, line->data() + line->size(), n);
  if (type == '$') {
    if (n < 0) return out;
    std::optional<std::string> data = c.ReadBytes(static_cast<size_t>(n) + 2);
    return data ? out + *data : "";
  }
  for (long i = 0; i < n; ++i) out += RawReply(c);  // '*'; n < 0: the nil array
  return out;
}

std::string RawCall(Client& c, const std::vector<std::string>& words) {
  if (!c.Send(Resp(words))) return "(send failed)";
  return RawReply(c);
}

// One request of a scenario: which client sends it, and a pause before it (for
// expiry).
struct Step {
  int client;
  std::vector<std::string> words;
  int sleep_ms = 0;
};

struct Scenario {
  std::string name;
  std::vector<Step> steps;
};

// Every case of the transactions' Redis 7 semantics; client 1 plays "another client"
// (on another event loop of the daemon).
const std::vector<Scenario>& Scenarios() {
  static const std::vector<Scenario> scenarios = {
      {"queued and executed",
       {{0, {"MULTI"}}, {0, {"SET", "k", "v"}}, {0, {"INCR", "n"}}, {0, {"GET", "k"}},
        {0, {"EXEC"}}}},
      {"runtime error stays in its slot",
       {{0, {"SET", "s", "abc"}}, {0, {"MULTI"}}, {0, {"INCR", "s"}}, {0, {"SET", "t", "x"}},
        {0, {"GET", "t"}}, {0, {"SET", "a", "b", "c"}}, {0, {"EXEC"}}, {0, {"GET", "t"}}}},
      {"unknown command aborts",
       {{0, {"MULTI"}}, {0, {"SET", "k", "1"}}, {0, {"FOO", "bar", "baz"}}, {0, {"EXEC"}},
        {0, {"EXISTS", "k"}}}},
      {"wrong arity aborts",
       {{0, {"MULTI"}}, {0, {"SET", "k", "1"}}, {0, {"GET"}}, {0, {"EXEC"}},
        {0, {"EXISTS", "k"}}}},
      {"command not allowed inside a transaction aborts",
       {{0, {"MULTI"}}, {0, {"SAVE"}}, {0, {"EXEC"}}, {0, {"MULTI"}}, {0, {"SHUTDOWN"}},
        {0, {"EXEC"}}}},
      {"MONITOR inside EXEC",
       {{0, {"MULTI"}}, {0, {"SET", "k", "v"}}, {0, {"MONITOR"}}, {0, {"EXEC"}}}},
      {"nested MULTI does not abort",
       {{0, {"MULTI"}}, {0, {"MULTI"}}, {0, {"SET", "k", "2"}}, {0, {"EXEC"}}}},
      {"EXEC and DISCARD without MULTI",
       {{0, {"EXEC"}}, {0, {"DISCARD"}}, {0, {"MULTI"}}, {0, {"EXEC"}}}},
      {"DISCARD drops the queue",
       {{0, {"MULTI"}}, {0, {"SET", "k", "3"}}, {0, {"DISCARD"}}, {0, {"EXISTS", "k"}},
        {0, {"EXEC"}}}},
      {"WATCH inside MULTI is refused but does not abort",
       {{0, {"MULTI"}}, {0, {"WATCH", "k"}}, {0, {"SET", "k", "1"}}, {0, {"EXEC"}}}},
      {"arity of the transaction commands",
       {{0, {"WATCH"}}, {0, {"UNWATCH", "x"}}, {0, {"MULTI", "x"}}, {0, {"DISCARD", "x"}},
        {0, {"EXEC", "x"}}, {0, {"MULTI"}}, {0, {"SET", "k", "v"}}, {0, {"EXEC", "x"}},
        {0, {"EXEC"}}, {0, {"EXISTS", "k"}}}},
      {"WATCH: another client's write aborts",
       {{0, {"SET", "w", "1"}}, {0, {"WATCH", "w"}}, {1, {"SET", "w", "2"}}, {0, {"MULTI"}},
        {0, {"SET", "w", "3"}}, {0, {"EXEC"}}, {0, {"GET", "w"}}}},
      {"WATCH: same value written still aborts",
       {{0, {"SET", "w", "v"}}, {0, {"WATCH", "w"}}, {1, {"SET", "w", "v"}}, {0, {"MULTI"}},
        {0, {"PING"}}, {0, {"EXEC"}}}},
      {"WATCH: own write aborts",
       {{0, {"WATCH", "w"}}, {0, {"SET", "w", "1"}}, {0, {"MULTI"}}, {0, {"PING"}},
        {0, {"EXEC"}}}},
      {"WATCH: unchanged key executes",
       {{0, {"SET", "w", "1"}}, {0, {"WATCH", "w", "other"}}, {1, {"GET", "w"}},
        {1, {"SET", "unrelated", "1"}}, {0, {"MULTI"}}, {0, {"INCR", "w"}}, {0, {"EXEC"}}}},
      {"WATCH: DEL of a missing key is no change",
       {{0, {"WATCH", "gone"}}, {1, {"DEL", "gone"}}, {0, {"MULTI"}}, {0, {"PING"}},
        {0, {"EXEC"}}}},
      {"WATCH: EXPIRE, RENAME onto it abort",
       {{0, {"SET", "e", "1"}}, {0, {"WATCH", "e"}}, {1, {"EXPIRE", "e", "100"}},
        {0, {"MULTI"}}, {0, {"PING"}}, {0, {"EXEC"}}, {0, {"SET", "r1", "1"}},
        {0, {"WATCH", "r2"}}, {1, {"RENAME", "r1", "r2"}}, {0, {"MULTI"}}, {0, {"PING"}},
        {0, {"EXEC"}}}},
      {"WATCH: expiry aborts",
       {{0, {"SET", "t", "1", "PX", "100"}}, {0, {"WATCH", "t"}}, {0, {"MULTI"}},
        {0, {"PING"}}, {0, {"EXEC"}, 300}}},
      {"WATCH: a key expired before WATCH is no change",
       {{0, {"SET", "t", "1", "PX", "50"}}, {0, {"WATCH", "t"}, 200}, {0, {"MULTI"}},
        {0, {"PING"}}, {0, {"EXEC"}}}},
      {"WATCH: FLUSHALL aborts a watch of an existing key only",
       {{0, {"SET", "f", "1"}}, {0, {"WATCH", "f"}}, {1, {"FLUSHALL"}}, {0, {"MULTI"}},
        {0, {"PING"}}, {0, {"EXEC"}}, {0, {"WATCH", "nx"}}, {1, {"FLUSHALL"}},
        {0, {"MULTI"}}, {0, {"PING"}}, {0, {"EXEC"}}}},
      {"WATCH: FLUSHALL after a watched key expired",
       {{0, {"SET", "fx", "1", "PX", "100"}}, {0, {"WATCH", "fx", "fy"}},
        {1, {"FLUSHALL"}, 300}, {0, {"MULTI"}}, {0, {"PING"}}, {0, {"EXEC"}}}},
      {"WATCH: EXEC and DISCARD unwatch, UNWATCH too",
       {{0, {"WATCH", "u"}}, {0, {"MULTI"}}, {0, {"EXEC"}}, {1, {"SET", "u", "1"}},
        {0, {"MULTI"}}, {0, {"PING"}}, {0, {"EXEC"}}, {0, {"WATCH", "u"}}, {0, {"MULTI"}},
        {0, {"DISCARD"}}, {1, {"SET", "u", "2"}}, {0, {"MULTI"}}, {0, {"PING"}},
        {0, {"EXEC"}}, {0, {"WATCH", "u"}}, {0, {"UNWATCH"}}, {1, {"SET", "u", "3"}},
        {0, {"MULTI"}}, {0, {"PING"}}, {0, {"EXEC"}}}},
      {"WATCH: a broken watch with an empty transaction, and with a queue error",
       {{0, {"WATCH", "q"}}, {1, {"SET", "q", "1"}}, {0, {"MULTI"}}, {0, {"EXEC"}},
        {0, {"WATCH", "q"}}, {1, {"SET", "q", "2"}}, {0, {"MULTI"}}, {0, {"FOO"}},
        {0, {"EXEC"}}}},
      {"FLUSHALL, KEYS, DBSIZE inside a transaction",
       {{0, {"SET", "a", "1"}}, {0, {"MULTI"}}, {0, {"DBSIZE"}}, {0, {"KEYS", "*"}},
        {0, {"FLUSHALL"}}, {0, {"DBSIZE"}}, {0, {"RENAME", "a", "b"}}, {0, {"EXEC"}}}},
      {"QUIT is not queued", {{0, {"MULTI"}}, {0, {"SET", "k", "v"}}, {0, {"QUIT"}}}},
  };
  return scenarios;
}

class TransactionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(daemon_.Start({"-p", "0", "--data-dir", dir_.path(), "--threads", "4"}))
        << daemon_.Log();
  }

  // Runs `scenario` on fresh connections to `port` (after a FLUSHALL): the replies.
  static std::vector<std::string> Run(uint16_t port, const Scenario& scenario) {
    Client c[2];
    for (Client& client : c) {
      if (!client.Connect(port)) return {"(connect failed)"};
    }
    RawCall(c[0], {"FLUSHALL"});
    std::vector<std::string> replies;
    for (const Step& step : scenario.steps) {
      if (step.sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(step.sleep_ms));
      replies.push_back(RawCall(c[step.client], step.words));
    }
    return replies;
  }

  // Starts a real redis-server to compare with; false (a failure recorded) if it
  // cannot be run.
  bool StartRedis(RedisServer* redis) {
    if (!RedisServer::Available()) {
      ADD_FAILURE() << RedisServer::kBinary << " is missing (scripts/install-deps.sh)";
      return false;
    }
    redis->Spawn(redis_dir_.path());
    Client ping;
    const bool up = redis->WaitForPong(&ping);
    EXPECT_TRUE(up) << "redis-server did not start";
    return up;
  }

  TempDir dir_;
  TempDir redis_dir_;
  DaemonProcess daemon_;
};

TEST_F(TransactionsTest, RepliesAreRedisBytesInEveryCase) {
  RedisServer redis;
  if (!StartRedis(&redis)) return;
  for (const Scenario& scenario : Scenarios()) {
    const std::vector<std::string> ours = Run(daemon_.port(), scenario);
    const std::vector<std::string> theirs = Run(redis.port(), scenario);
    EXPECT_EQ(ours, theirs) << scenario.name;
  }
}

// What a monitor sees of a transaction: the queued commands when EXEC runs them, then
// EXEC; nothing of a discarded one. The lines' commands (after "] ") as Redis's.
TEST_F(TransactionsTest, MonitorShowsTheCommandsWhenExecRunsThem) {
  RedisServer redis;
  if (!StartRedis(&redis)) return;
  auto watch = [](uint16_t port) {
    Client monitor;
    Client c;
    std::vector<std::string> seen;
    if (!monitor.Connect(port) || !c.Connect(port)) return seen;
    RawCall(monitor, {"MONITOR"});
    for (const auto& words : std::vector<std::vector<std::string>>{
             {"MULTI"}, {"SET", "mk", "1"}, {"DISCARD"}, {"MULTI"}, {"SET", "mk", "2"},
             {"GET", "mk"}, {"EXEC"}, {"PING"}}) {
      RawCall(c, words);
    }
    for (;;) {
      std::optional<std::string> line = monitor.ReadLine(std::chrono::seconds(5));
      if (!line) break;
      seen.push_back(line->substr(line->find("] ") + 2));
      if (seen.back() == "\"PING\"") break;
    }
    return seen;
  };
  const std::vector<std::string> ours = watch(daemon_.port());
  EXPECT_EQ(ours, watch(redis.port()));
  EXPECT_EQ(ours, (std::vector<std::string>{"\"MULTI\"", "\"DISCARD\"", "\"MULTI\"",
                                            "\"SET\" \"mk\" \"2\"", "\"GET\" \"mk\"",
                                            "\"EXEC\"", "\"PING\""}));
}

// The scenarios above compare with Redis; these pin the bytes themselves, so a
// change in both (a Redis upgrade) is noticed.
TEST_F(TransactionsTest, KeyRepliesSpelledOut) {
  Client a;
  Client b;
  ASSERT_TRUE(a.Connect(daemon_.port()));
  ASSERT_TRUE(b.Connect(daemon_.port()));
  EXPECT_EQ(RawCall(a, {"MULTI"}), "+OK\r\n");
  EXPECT_EQ(RawCall(a, {"MULTI"}), "-ERR MULTI calls can not be nested\r\n");
  EXPECT_EQ(RawCall(a, {"SET", "k", "x"}), "+QUEUED\r\n");
  EXPECT_EQ(RawCall(a, {"INCR", "k"}), "+QUEUED\r\n");
  EXPECT_EQ(RawCall(a, {"WATCH", "k"}), "-ERR WATCH inside MULTI is not allowed\r\n");
  EXPECT_EQ(RawCall(a, {"EXEC"}), "*2\r\n+OK\r\n-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(RawCall(a, {"EXEC"}), "-ERR EXEC without MULTI\r\n");
  EXPECT_EQ(RawCall(a, {"DISCARD"}), "-ERR DISCARD without MULTI\r\n");
  EXPECT_EQ(RawCall(a, {"MULTI"}), "+OK\r\n");
  EXPECT_THAT(RawCall(a, {"NOPE"}), StartsWith("-ERR unknown command 'NOPE'"));
  EXPECT_EQ(RawCall(a, {"EXEC"}), "-EXECABORT Transaction discarded because of previous errors.\r\n");
  EXPECT_EQ(RawCall(a, {"WATCH", "k"}), "+OK\r\n");
  EXPECT_EQ(RawCall(b, {"SET", "k", "y"}), "+OK\r\n");
  EXPECT_EQ(RawCall(a, {"MULTI"}), "+OK\r\n");
  EXPECT_EQ(RawCall(a, {"GET", "k"}), "+QUEUED\r\n");
  EXPECT_EQ(RawCall(a, {"EXEC"}), "*-1\r\n");
  EXPECT_EQ(RawCall(a, {"MULTI"}), "+OK\r\n");
  EXPECT_EQ(RawCall(a, {"SAVE"}), "-ERR Command not allowed inside a transaction\r\n");
  EXPECT_EQ(RawCall(a, {"DISCARD"}), "+OK\r\n");
  // CLIENT LIST inside MULTI: flags=x and the queue's length, as Redis (whose EXEC
  // still counts the queue).
  EXPECT_EQ(RawCall(a, {"MULTI"}), "+OK\r\n");
  EXPECT_EQ(RawCall(a, {"SET", "k", "1"}), "+QUEUED\r\n");
  EXPECT_EQ(RawCall(a, {"CLIENT", "INFO"}), "+QUEUED\r\n");
  const std::string info = RawCall(a, {"EXEC"});
  EXPECT_THAT(info, HasSubstr(" flags=x db=0 sub=0 psub=0 ssub=0 multi=2 ")) << info;
  EXPECT_THAT(RespCall(a, {"CLIENT", "INFO"}), HasSubstr(" flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 "));
  // COMMAND reports SAVE as Redis 7 does.
  EXPECT_THAT(RespCall(a, {"COMMAND", "INFO", "save"}), HasSubstr("no_multi"));
}

TEST_F(TransactionsTest, TextProtocolMultiExecDiscard) {
  Client t;
  ASSERT_TRUE(t.Connect(daemon_.port()));
  EXPECT_EQ(t.Call("MULTI"), "OK");
  EXPECT_EQ(t.Call("SET tk hello world"), "QUEUED");
  EXPECT_EQ(t.Call("INC tn 5"), "QUEUED");
  EXPECT_EQ(t.Call("GET tk"), "QUEUED");
  // Only one-line commands can be queued over text: EXEC's reply is a block.
  EXPECT_EQ(t.Call("KEYS"), "(error) ERR only commands replying one line can be queued in a "
                            "text-protocol transaction");
  EXPECT_EQ(t.Call("EXEC"), "(error) EXECABORT Transaction discarded because of previous errors.");
  EXPECT_EQ(t.Call("MULTI"), "OK");
  EXPECT_EQ(t.Call("SET tk hello world"), "QUEUED");
  EXPECT_EQ(t.Call("INC tn 5"), "QUEUED");
  EXPECT_EQ(t.Call("GET tk"), "QUEUED");
  std::optional<std::vector<std::string>> block = t.CallBlock("EXEC");
  ASSERT_TRUE(block.has_value());
  // Each slot is what the command replies alone (the text INC replies OK).
  EXPECT_EQ(*block, (std::vector<std::string>{"OK", "OK", "hello world"}));
  EXPECT_EQ(t.Call("GET tn"), "5");
  EXPECT_EQ(t.Call("MULTI"), "OK");
  EXPECT_EQ(t.Call("DEL tk"), "QUEUED");
  EXPECT_EQ(t.Call("DISCARD"), "OK");
  EXPECT_EQ(t.Call("GET tk"), "hello world");
  EXPECT_EQ(t.Call("EXEC"), "(error) ERR EXEC without MULTI");
}

// The acceptance test of issue 14: 20 clients increment one counter by WATCH, GET,
// MULTI, SET, EXEC, retrying when EXEC says the counter changed. Lost updates would
// leave it short of 20 x kIncrements.
TEST_F(TransactionsTest, WatchOptimisticLockingUnderTwentyClients) {
  constexpr int kClients = 20;
  constexpr int kIncrements = 1000;
  std::atomic<int> failures{0};
  std::atomic<long> retries{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&] {
      Client c;
      if (!c.Connect(daemon_.port())) {
        ++failures;
        return;
      }
      for (int done = 0; done < kIncrements;) {
        // WATCH and GET in one round trip, then MULTI SET EXEC in another.
        c.Send(Resp({"WATCH", "counter"}) + Resp({"GET", "counter"}));
        if (RawReply(c) != "+OK\r\n") {
          ++failures;
          return;
        }
        const std::string got = RawReply(c);
        long value = 0;
        if (got.starts_with("$") && got != "$-1\r\n") {
          const size_t body = got.find("\r\n") + 2;
          value = std::stol(got.substr(body));
        }
        c.Send(Resp({"MULTI"}) + Resp({"SET", "counter", std::to_string(value + 1)}) +
               Resp({"EXEC"}));
        const std::string multi = RawReply(c);
        const std::string queued = RawReply(c);
        const std::string exec = RawReply(c);
        if (multi != "+OK\r\n" || queued != "+QUEUED\r\n") {
          ++failures;
          return;
        }
        if (exec == "*1\r\n+OK\r\n") {
          ++done;
        } else if (exec == "*-1\r\n") {
          ++retries;
        } else {
          ++failures;
          return;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(failures.load(), 0);
  Client c;
  ASSERT_TRUE(c.Connect(daemon_.port()));
  EXPECT_EQ(RespCall(c, {"GET", "counter"}), "$" + std::to_string(kClients * kIncrements));
  std::printf("%d x %d WATCH/MULTI/EXEC increments in %.2f s, %ld retries\n", kClients,
              kIncrements, seconds, retries.load());
}

// Isolation: a writer moves two keys together in transactions (a = b at every
// boundary), readers read both in transactions from other event loops; no reader may
// see them apart.
TEST_F(TransactionsTest, NoClientSeesAStateBetweenATransactionsCommands) {
  constexpr int kRounds = 3000;
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      Client c;
      if (!c.Connect(daemon_.port())) return;
      while (!stop.load()) {
        c.Send(Resp({"MULTI"}) + Resp({"GET", "iso-a"}) + Resp({"GET", "iso-b"}) +
               Resp({"EXEC"}));
        RawReply(c);
        RawReply(c);
        RawReply(c);
        const std::string exec = RawReply(c);
        // "*2\r\n" then two equal bulks: the halves after the header must match.
        const std::string body = exec.substr(4);
        if (body.substr(0, body.size() / 2) != body.substr(body.size() / 2)) ++torn;
        ++reads;
      }
    });
  }
  Client w;
  ASSERT_TRUE(w.Connect(daemon_.port()));
  // Other writes between the two widen the window a reader could fall into.
  constexpr int kPad = 40;
  std::string round = Resp({"MULTI"}) + Resp({"INCR", "iso-a"});
  for (int p = 0; p < kPad; ++p) round += Resp({"INCR", "iso-pad" + std::to_string(p)});
  round += Resp({"INCR", "iso-b"}) + Resp({"EXEC"});
  for (int i = 0; i < kRounds; ++i) {
    w.Send(round);
    for (int r = 0; r < kPad + 4; ++r) RawReply(w);
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0) << "of " << reads.load() << " reads";
  std::printf("%d transactions read while %d wrote, %d torn\n", reads.load(), kRounds,
              torn.load());
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(RespCall(w, {"MGET", "iso-a", "iso-b"}),
            "[$" + std::to_string(kRounds) + ",$" + std::to_string(kRounds) + "]");
}

// A transaction's writes are in the log (one unit record): after a restart they are
// all there, deltas on existing keys (INCRBY, APPEND: logged as the change) included.
TEST_F(TransactionsTest, ExecutedTransactionSurvivesARestart) {
  {
    Client c;
    ASSERT_TRUE(c.Connect(daemon_.port()));
    EXPECT_EQ(RespCall(c, {"SET", "p4", "35"}), "+OK");
    EXPECT_EQ(RespCall(c, {"SET", "p5", "ab"}), "+OK");
    c.Send(Resp({"MULTI"}) + Resp({"SET", "p1", "a"}) + Resp({"INCRBY", "p2", "7"}) +
           Resp({"DEL", "p3"}) + Resp({"INCRBY", "p4", "7"}) + Resp({"APPEND", "p5", "c"}) +
           Resp({"EXEC"}));
    for (int r = 0; r < 6; ++r) RawReply(c);
    EXPECT_EQ(RawReply(c), "*5\r\n+OK\r\n:7\r\n:0\r\n:42\r\n:3\r\n");
  }
  ASSERT_TRUE(daemon_.Signal(SIGKILL));
  daemon_.Wait();
  DaemonProcess again;
  ASSERT_TRUE(again.Start({"-p", "0", "--data-dir", dir_.path()})) << again.Log();
  Client c;
  ASSERT_TRUE(c.Connect(again.port()));
  EXPECT_EQ(RespCall(c, {"MGET", "p1", "p2", "p4", "p5"}), "[$a,$7,$42,$abc]");
}

}  // namespace
}  // namespace memento::testing
