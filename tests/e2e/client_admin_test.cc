// End-to-end tests of the connection and server administration commands against the
// real daemon with several event loops: CLIENT LIST / INFO / KILL across loops,
// CLIENT REPLY, MONITOR (every loop's commands, a slow monitor), SHUTDOWN (exit 0,
// data there after a restart, NOSAVE recovering from the log). Reply bytes are
// compared with a real redis-server in tests/clients/redis_compat_test.py.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/daemon_process.h"

namespace memento::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

std::string Resp(const std::vector<std::string>& words) {
  std::string out = "*" + std::to_string(words.size()) + "\r\n";
  for (const std::string& w : words) out += "$" + std::to_string(w.size()) + "\r\n" + w + "\r\n";
  return out;
}

// One reply: a status, error or integer line as sent ("+OK", ":1"), or a bulk's
// contents; nullopt on time-out or EOF.
std::optional<std::string> ReadReply(Client& client) {
  std::optional<std::string> line = client.ReadLine();
  if (!line || line->empty() || (*line)[0] != '$') return line;
  const long n = std::stol(line->substr(1));
  if (n < 0) return "(nil)";
  std::optional<std::string> body = client.ReadBytes(static_cast<size_t>(n) + 2);
  if (!body) return std::nullopt;
  return body->substr(0, static_cast<size_t>(n));
}

std::string Call(Client& client, const std::vector<std::string>& words) {
  if (!client.Send(Resp(words))) return "(send failed)";
  return ReadReply(client).value_or("(no reply)");
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(text.substr(start, nl - start));
  }
  return lines;
}

// The value of `field` in a CLIENT LIST line ("" if absent).
std::string Field(const std::string& line, const std::string& field) {
  const std::string key = field + "=";
  size_t at = line.rfind(" " + key);
  at = line.compare(0, key.size(), key) == 0 ? 0 : (at == std::string::npos ? at : at + 1);
  if (at == std::string::npos) return "";
  const size_t end = line.find(' ', at);
  return line.substr(at + key.size(), end == std::string::npos ? end : end - at - key.size());
}

// The field names of a line, in order.
std::vector<std::string> FieldNames(const std::string& line) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start < line.size()) {
    size_t end = line.find(' ', start);
    if (end == std::string::npos) end = line.size();
    const std::string pair = line.substr(start, end - start);
    names.push_back(pair.substr(0, pair.find('=')));
    start = end + 1;
  }
  return names;
}

class ClientAdminTest : public ::testing::Test {
 protected:
  void StartDaemon(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"-p", "0", "--data-dir", dir_.path(), "--threads", "4"};
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_TRUE(daemon_.Start(args)) << daemon_.Log();
  }
  // `n` RESP connections named c0, c1, ... (handed to the 4 loops round-robin).
  void Connect(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      clients_.emplace_back();
      ASSERT_TRUE(clients_.back().Connect(daemon_.port()));
      ASSERT_EQ(Call(clients_.back(), {"CLIENT", "SETNAME", "c" + std::to_string(i)}), "+OK");
    }
  }
  std::string Id(size_t i) { return Call(clients_[i], {"CLIENT", "ID"}).substr(1); }

  TempDir dir_;
  DaemonProcess daemon_;
  std::vector<Client> clients_;
};

// Redis 7.0.15's CLIENT LIST fields, in its order.
const std::vector<std::string> kRedisFields = {
    "id",        "addr",     "laddr",     "fd",   "name", "age",   "idle",
    "flags",     "db",       "sub",       "psub", "ssub", "multi", "qbuf",
    "qbuf-free", "argv-mem", "multi-mem", "rbs",  "rbp",  "obl",   "oll",
    "omem",      "tot-mem",  "events",    "cmd",  "user", "redir", "resp"};

TEST_F(ClientAdminTest, ClientListShowsTheConnectionsOfEveryLoop) {
  StartDaemon();
  Connect(6);
  const std::vector<std::string> lines = Lines(Call(clients_[0], {"CLIENT", "LIST"}));
  ASSERT_EQ(lines.size(), 6u);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(FieldNames(lines[i]), kRedisFields) << lines[i];
    EXPECT_EQ(Field(lines[i], "name"), "c" + std::to_string(i)) << lines[i];
    EXPECT_EQ(Field(lines[i], "id"), Id(i));
    EXPECT_EQ(Field(lines[i], "laddr"), "127.0.0.1:" + std::to_string(daemon_.port()));
    EXPECT_EQ(Field(lines[i], "flags"), "N");
    EXPECT_EQ(Field(lines[i], "resp"), "2");
    EXPECT_EQ(Field(lines[i], "user"), "default");
  }
  EXPECT_EQ(Field(lines[0], "cmd"), "client|list");
  EXPECT_EQ(Field(lines[1], "cmd"), "client|setname");

  // CLIENT INFO is this connection's line; LIST ID picks in the order given.
  const std::string info = Call(clients_[2], {"CLIENT", "INFO"});
  EXPECT_EQ(Field(info, "name"), "c2");
  EXPECT_EQ(Field(info, "cmd"), "client|info");
  EXPECT_EQ(info.back(), '\n');
  const std::vector<std::string> picked =
      Lines(Call(clients_[0], {"CLIENT", "LIST", "ID", Id(4), "999999", Id(1)}));
  ASSERT_EQ(picked.size(), 2u);
  EXPECT_EQ(Field(picked[0], "name"), "c4");
  EXPECT_EQ(Field(picked[1], "name"), "c1");
  EXPECT_EQ(Call(clients_[0], {"CLIENT", "LIST", "TYPE", "pubsub"}), "");
  EXPECT_EQ(Lines(Call(clients_[0], {"CLIENT", "LIST", "TYPE", "normal"})).size(), 6u);
}

TEST_F(ClientAdminTest, ClientKillClosesConnectionsOnOtherLoops) {
  StartDaemon();
  Connect(6);
  // By id (c3 is on another loop than c0).
  EXPECT_EQ(Call(clients_[0], {"CLIENT", "KILL", "ID", Id(3)}), ":1");
  EXPECT_TRUE(clients_[3].WaitForEof());
  EXPECT_EQ(Call(clients_[0], {"CLIENT", "KILL", "ID", "999999"}), ":0");
  // The old form, by address: +OK, then -ERR No such client once it is gone.
  const std::string addr = Field(Call(clients_[1], {"CLIENT", "INFO"}), "addr");
  EXPECT_EQ(Call(clients_[0], {"CLIENT", "KILL", addr}), "+OK");
  EXPECT_TRUE(clients_[1].WaitForEof());
  EXPECT_EQ(Call(clients_[0], {"CLIENT", "KILL", addr}), "-ERR No such client");
  // Every connection to our address but the caller's (SKIPME yes is the default).
  const std::string laddr = "127.0.0.1:" + std::to_string(daemon_.port());
  EXPECT_EQ(Call(clients_[0], {"CLIENT", "KILL", "LADDR", laddr, "USER", "default"}), ":3");
  for (size_t i : {2, 4, 5}) EXPECT_TRUE(clients_[i].WaitForEof()) << "c" << i;
  EXPECT_EQ(Call(clients_[0], {"PING"}), "+PONG");
  EXPECT_EQ(Lines(Call(clients_[0], {"CLIENT", "LIST"})).size(), 1u);
  // SKIPME no: the caller gets its reply, then its connection closes.
  EXPECT_EQ(Call(clients_[0], {"CLIENT", "KILL", "LADDR", laddr, "SKIPME", "no"}), ":1");
  EXPECT_TRUE(clients_[0].WaitForEof());
}

TEST_F(ClientAdminTest, ClientReplyOffSkipAndOn) {
  StartDaemon();
  Connect(1);
  Client& c = clients_[0];
  ASSERT_TRUE(c.Send(Resp({"CLIENT", "REPLY", "OFF"}) + Resp({"SET", "k", "1"}) +
                     Resp({"INCR", "k"}) + Resp({"CLIENT", "REPLY", "ON"}) + Resp({"GET", "k"})));
  EXPECT_THAT(ReadReply(c), Optional(std::string("+OK")));  // ON's reply, nothing before
  EXPECT_THAT(ReadReply(c), Optional(std::string("2")));    // the writes happened
  ASSERT_TRUE(
      c.Send(Resp({"CLIENT", "REPLY", "SKIP"}) + Resp({"INCR", "k"}) + Resp({"ECHO", "after"})));
  EXPECT_THAT(ReadReply(c), Optional(std::string("after")));
  EXPECT_EQ(Call(c, {"GET", "k"}), "3");
  // A deferred reply (CLIENT LIST) under OFF is dropped too.
  ASSERT_TRUE(c.Send(Resp({"CLIENT", "REPLY", "OFF"}) + Resp({"CLIENT", "LIST"}) +
                     Resp({"CLIENT", "REPLY", "ON"})));
  EXPECT_THAT(ReadReply(c), Optional(std::string("+OK")));
  EXPECT_EQ(Call(c, {"PING"}), "+PONG");
}

TEST_F(ClientAdminTest, MonitorFeedsTheCommandsOfEveryLoop) {
  StartDaemon();
  Connect(5);
  Client& monitor = clients_[0];
  ASSERT_EQ(Call(monitor, {"MONITOR"}), "+OK");
  EXPECT_THAT(Lines(Call(clients_[1], {"CLIENT", "LIST"}))[0], HasSubstr(" flags=O "));
  for (size_t i = 1; i < 5; ++i) {
    ASSERT_EQ(Call(clients_[i], {"SET", "k" + std::to_string(i), std::string("a\0\"\n\xff", 5)}),
              "+OK");
  }
  EXPECT_EQ(Call(clients_[2], {"AUTH", "secret"}).substr(0, 4), "-ERR");
  EXPECT_EQ(Call(clients_[2], {"CONFIG", "SET", "loglevel", "info"}), "+OK");  // admin: hidden
  EXPECT_EQ(Call(clients_[2], {"NOSUCHCOMMAND"}).substr(0, 4), "-ERR");        // not run: hidden
  ASSERT_EQ(Call(clients_[3], {"GET", "k3"}).size(), 5u);

  const std::regex shape(R"(\+\d{10}\.\d{6} \[0 127\.0\.0\.1:\d+\] (.*))");
  std::vector<std::string> commands;
  for (int i = 0; i < 6; ++i) {
    std::optional<std::string> line = monitor.ReadLine();
    ASSERT_TRUE(line.has_value()) << "after " << commands.size() << " lines";
    std::smatch m;
    ASSERT_TRUE(std::regex_match(*line, m, shape)) << *line;
    commands.push_back(m[1]);
  }
  for (size_t i = 1; i < 5; ++i) {
    EXPECT_EQ(commands[i - 1], "\"SET\" \"k" + std::to_string(i) + "\" \"a\\x00\\\"\\n\\xff\"");
  }
  EXPECT_EQ(commands[4], "\"AUTH\" \"(redacted)\"");
  EXPECT_EQ(commands[5], "\"GET\" \"k3\"");
  EXPECT_EQ(monitor.ReadLine(std::chrono::milliseconds(200)), std::nullopt);
  // As in Redis 7, a monitor may not read or write keys.
  EXPECT_EQ(Call(monitor, {"GET", "k1"}), "-ERR Replica can't interact with the keyspace");
}

TEST_F(ClientAdminTest, ASlowMonitorIsClosedAtTheOutputLimitWithoutSlowingOthers) {
  StartDaemon({"--max-output-buffer", "1000000"});
  Connect(2);
  Client& monitor = clients_[0];
  ASSERT_EQ(Call(monitor, {"MONITOR"}), "+OK");
  // The monitor never reads; each SET puts 8 KB of quoted value in its output: 40 MB
  // in all, more than the kernel's socket buffers and the limit.
  const std::string value(2000, '\x01');
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 5000; ++i) {
    ASSERT_EQ(Call(clients_[1], {"SET", "k", value}), "+OK") << "SET #" << i;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
  const std::string info = Call(clients_[1], {"INFO", "stats"});
  EXPECT_THAT(info, HasSubstr("client_output_buffer_limit_disconnections:1\r\n"));
  EXPECT_TRUE(monitor.WaitForEof());
  EXPECT_EQ(Lines(Call(clients_[1], {"CLIENT", "LIST"})).size(), 1u);
}

TEST_F(ClientAdminTest, ShutdownCheckpointsClosesWithoutReplyAndExitsZero) {
  StartDaemon();
  Connect(2);
  ASSERT_EQ(Call(clients_[0], {"SET", "kept", "yes"}), "+OK");
  EXPECT_EQ(Call(clients_[0], {"SHUTDOWN", "ABORT"}), "-ERR No shutdown in progress.");
  EXPECT_EQ(Call(clients_[0], {"SHUTDOWN", "NOSAVE", "SAVE"}), "-ERR syntax error");
  ASSERT_TRUE(clients_[0].Send(Resp({"SHUTDOWN"})));
  EXPECT_EQ(clients_[0].ReadLine(), std::nullopt);  // EOF, no reply
  EXPECT_THAT(daemon_.Wait(), Optional(0));
  EXPECT_THAT(daemon_.Log(), HasSubstr("SHUTDOWN from client"));

  DaemonProcess again;
  ASSERT_TRUE(again.Start({"-p", "0", "--data-dir", dir_.path()})) << again.Log();
  // The final checkpoint covered the write: nothing to replay.
  EXPECT_THAT(again.Log(), HasSubstr(" 0 log records replayed"));
  Client c;
  ASSERT_TRUE(c.Connect(again.port()));
  EXPECT_EQ(Call(c, {"GET", "kept"}), "yes");
}

TEST_F(ClientAdminTest, ShutdownNosaveLeavesTheWritesInTheLog) {
  StartDaemon();
  Connect(1);
  ASSERT_EQ(Call(clients_[0], {"SET", "a", "1"}), "+OK");
  ASSERT_EQ(Call(clients_[0], {"SET", "b", "2"}), "+OK");
  ASSERT_TRUE(clients_[0].Send(Resp({"SHUTDOWN", "NOSAVE", "NOW", "FORCE"})));
  EXPECT_EQ(clients_[0].ReadLine(), std::nullopt);
  EXPECT_THAT(daemon_.Wait(), Optional(0));

  DaemonProcess again;
  ASSERT_TRUE(again.Start({"-p", "0", "--data-dir", dir_.path()})) << again.Log();
  EXPECT_THAT(again.Log(), HasSubstr(" 2 log records replayed"));
  Client c;
  ASSERT_TRUE(c.Connect(again.port()));
  EXPECT_EQ(Call(c, {"GET", "a"}), "1");
  EXPECT_EQ(Call(c, {"GET", "b"}), "2");
}

}  // namespace
}  // namespace memento::testing
