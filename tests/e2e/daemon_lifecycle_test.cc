// End-to-end tests of the daemon's life: flags, config file, refusing to start, logs
// and clean shutdown on SIGTERM/SIGINT.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/util/daemon_process.h"

namespace memento::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Optional;

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

size_t CountOccurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// The entries of a directory ("" when it does not exist).
std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(e.path().filename().string());
  }
  return names;
}

// Keeps a daemon's recovery waiting while it is alive: holds an exclusive fcntl lock
// on the first byte of the current snapshot's lock.mdb (docs/formats/snapshot.md:
// snapshot/CURRENT names the LMDB environment). LMDB's mdb_env_open tries that lock
// exclusively and, failing, waits for it shared, so the daemon waits right at the
// start of recovery, with its port already served, for as long as the test needs.
class SnapshotOpenBlocker {
 public:
  explicit SnapshotOpenBlocker(const std::string& data_dir) {
    std::ifstream current(data_dir + "/snapshot/CURRENT");
    std::string name;
    current >> name;
    path_ = data_dir + "/snapshot/" + name + "/lock.mdb";
    fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) return;
    struct flock lock{};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = 0;
    lock.l_len = 1;
    locked_ = ::fcntl(fd_, F_SETLK, &lock) == 0;
  }
  ~SnapshotOpenBlocker() { Release(); }
  SnapshotOpenBlocker(const SnapshotOpenBlocker&) = delete;
  SnapshotOpenBlocker& operator=(const SnapshotOpenBlocker&) = delete;

  bool locked() const { return locked_; }
  const std::string& path() const { return path_; }
  void Release() {
    if (fd_ >= 0) ::close(fd_);  // drops the lock
    fd_ = -1;
    locked_ = false;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool locked_ = false;
};

// A real redis-server in the middle of loading its data set (20000 keys, each
// delayed by its hidden key-load-delay setting, about 10 s in all): what Redis answers
// while loading, to compare with Memento byte for byte.
class LoadingRedis {
 public:
  // False, with *why, if redis-server is missing or does not get there.
  bool Start(const std::string& dir, std::string* why) {
    if (!RedisServer::Available()) {
      *why = std::string("redis-server is not installed at ") + RedisServer::kBinary +
             " (scripts/install-deps.sh installs it)";
      return false;
    }
    // First a server that writes the data set to dump.rdb.
    redis_.Spawn(dir, {"--enable-debug-command", "yes"});
    Client c;
    if (!redis_.WaitForPong(&c)) return Fail("the first redis-server did not answer PING", why);
    if (RespCall(c, {"DEBUG", "POPULATE", "20000"}) != "+OK" || RespCall(c, {"SAVE"}) != "+OK") {
      return Fail("DEBUG POPULATE or SAVE failed", why);
    }
    // Then one that loads it slowly, answering clients every 1 KiB of the file.
    redis_.Spawn(dir, {"--key-load-delay", "500", "--loading-process-events-interval-bytes",
                       "1024"});
    for (int i = 0; i < 400; ++i) {
      if (client_.Connect(redis_.port())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return Fail("the second redis-server did not listen", why);
  }
  // A connection made while it loads.
  Client& client() { return client_; }

 private:
  bool Fail(const std::string& what, std::string* why) {
    *why = what;
    redis_.Kill();
    return false;
  }

  RedisServer redis_;
  Client client_;
};

TEST(DaemonLifecycleTest, HelpListsFlagsAndExitsZero) {
  std::string out;
  EXPECT_EQ(RunToCompletion({"--help"}, &out), 0);
  for (const char* flag : {"-a", "-p", "-c", "-f", "-i", "--data-dir", "--threads", "--log-level",
                           "--version"}) {
    EXPECT_THAT(out, HasSubstr(flag));
  }
}

TEST(DaemonLifecycleTest, VersionPrintsTheVersion) {
  std::string out;
  EXPECT_EQ(RunToCompletion({"--version"}, &out), 0);
  EXPECT_THAT(out, ::testing::StartsWith("memento "));
}

TEST(DaemonLifecycleTest, UnknownFlagIsAUsageError) {
  std::string out;
  EXPECT_EQ(RunToCompletion({"--frobnicate"}, &out), 2);
  EXPECT_THAT(out, HasSubstr("--frobnicate"));
}

TEST(DaemonLifecycleTest, BadConfigKeyStopsStartupNamingFileLineAndKey) {
  TempDir dir;
  std::string path = dir.path() + "/memento.toml";
  WriteFile(path, "[server]\nport = 0\nprot = 6737\n");
  std::string out;
  EXPECT_EQ(RunToCompletion({"-f", path, "--data-dir", dir.path() + "/data"}, &out), 2);
  EXPECT_THAT(out, HasSubstr("memento.toml:3"));
  EXPECT_THAT(out, HasSubstr("server.prot"));
}

TEST(DaemonLifecycleTest, WrongTypeInConfigStopsStartup) {
  TempDir dir;
  std::string path = dir.path() + "/memento.toml";
  WriteFile(path, "[server]\nport = \"6737\"\n");
  std::string out;
  EXPECT_EQ(RunToCompletion({"-f", path, "--data-dir", dir.path() + "/data"}, &out), 2);
  EXPECT_THAT(out, HasSubstr("memento.toml:2"));
  EXPECT_THAT(out, HasSubstr("server.port"));
}

TEST(DaemonLifecycleTest, ConfigFileIsUsedAndFlagsOverrideIt) {
  TempDir dir;
  std::string path = dir.path() + "/memento.toml";
  WriteFile(path, "[server]\nport = 0\nthreads = 3\n[storage]\ndata_dir = \"" + dir.path() +
                      "/data\"\n");
  {
    DaemonProcess daemon;
    ASSERT_TRUE(daemon.Start({"-f", path})) << daemon.Log();
    Client c;
    ASSERT_TRUE(c.Connect(daemon.port()));
    EXPECT_THAT(c.CallBlock("INFO server"), Optional(Contains("event_loop_threads:3")));
    EXPECT_THAT(c.CallBlock("INFO server"), Optional(Contains("data_dir:" + dir.path() + "/data")));
  }
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start({"-f", path, "--threads", "1"})) << daemon.Log();
  Client c;
  ASSERT_TRUE(c.Connect(daemon.port()));
  EXPECT_THAT(c.CallBlock("INFO server"), Optional(Contains("event_loop_threads:1")));
}

TEST(DaemonLifecycleTest, SecondDaemonOnTheSameDataDirIsRefused) {
  TempDir dir;
  DaemonProcess first;
  ASSERT_TRUE(first.Start({"-p", "0", "--data-dir", dir.path()})) << first.Log();
  DaemonProcess second;
  EXPECT_FALSE(second.Start({"-p", "0", "--data-dir", dir.path()}));
  EXPECT_THAT(second.Wait(), Optional(1));
  EXPECT_THAT(second.Log(), HasSubstr("in use by another memento"));
  EXPECT_THAT(second.Log(), HasSubstr(dir.path()));
  // The first one is unharmed.
  Client c;
  ASSERT_TRUE(c.Connect(first.port()));
  EXPECT_EQ(c.Call("PING"), "+PONG");
}

TEST(DaemonLifecycleTest, TakenPortIsRefused) {
  TempDir dir1, dir2;
  DaemonProcess first;
  ASSERT_TRUE(first.Start({"-p", "0", "--data-dir", dir1.path()})) << first.Log();
  DaemonProcess second;
  EXPECT_FALSE(second.Start({"-p", std::to_string(first.port()), "--data-dir", dir2.path()}));
  EXPECT_THAT(second.Wait(), Optional(1));
  EXPECT_THAT(second.Log(),
              HasSubstr("127.0.0.1:" + std::to_string(first.port()) + " is already in use"));
}

// The port is checked before the data directory is touched: a daemon that cannot
// serve leaves nothing behind, neither a new directory nor a LOCK file in an empty one.
TEST(DaemonLifecycleTest, TakenPortLeavesTheDataDirUntouched) {
  TempDir dir;
  DaemonProcess first;
  ASSERT_TRUE(first.Start({"-p", "0", "--data-dir", dir.path() + "/first"})) << first.Log();
  const std::string port = std::to_string(first.port());
  const std::string missing = dir.path() + "/missing";
  const std::string empty = dir.path() + "/empty";
  ASSERT_TRUE(std::filesystem::create_directory(empty));
  for (const std::string& data_dir : {missing, empty}) {
    std::string out;
    EXPECT_EQ(RunToCompletion({"-p", port, "--data-dir", data_dir}, &out), 1) << out;
    EXPECT_THAT(out, HasSubstr("cannot start: 127.0.0.1:" + port + " is already in use"));
    EXPECT_THAT(out, Not(HasSubstr("listening")));
  }
  EXPECT_FALSE(std::filesystem::exists(missing));
  EXPECT_THAT(Entries(empty), IsEmpty());
}

TEST(DaemonLifecycleTest, NodeNameWithoutClusterModeIsAUsageError) {
  TempDir dir;
  std::string out;
  EXPECT_EQ(RunToCompletion({"-p", "0", "-i", "node1", "--data-dir", dir.path() + "/data"}, &out),
            2);
  EXPECT_THAT(out, HasSubstr("-i node1: a node name only means something in cluster mode; "
                             "add -c"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/data"));
}

// While the data set loads, the port answers: LOADING for everything but what Redis
// runs while loading (ECHO, INFO, ...), byte for byte as a loading redis-server does;
// the same connections get real replies once it is loaded.
TEST(DaemonLifecycleTest, ClientsDuringRecoveryGetLoadingThenRealReplies) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  {
    DaemonProcess d;
    ASSERT_TRUE(d.Start({"-p", "0", "--data-dir", data})) << d.Log();
    Client c;
    ASSERT_TRUE(c.Connect(d.port()));
    ASSERT_EQ(c.Call("SET k v"), "OK");
    ASSERT_TRUE(d.Signal(SIGTERM));
    ASSERT_THAT(d.Wait(), Optional(0));
  }
  SnapshotOpenBlocker blocker(data);
  ASSERT_TRUE(blocker.locked()) << blocker.path();
  DaemonProcess d;
  ASSERT_TRUE(d.Start({"-p", "0", "--data-dir", data}, std::chrono::seconds(10),
                      DaemonProcess::Until::kListening))
      << d.Log();
  Client resp, text;
  ASSERT_TRUE(resp.Connect(d.port()));
  ASSERT_TRUE(text.Connect(d.port()));

  // What Redis 7 answers while loading, compared with what Memento answers.
  const std::vector<std::vector<std::string>> requests = {
      {"PING"}, {"GET", "k"}, {"SET", "k", "w"}, {"DBSIZE"}, {"CLUSTER", "KEYSLOT", "k"},
      {"ECHO", "hi"}, {"SELECT", "0"}, {"GET"}, {"NOSUCH", "x"}};
  std::vector<std::string> memento_replies;
  for (const auto& request : requests) memento_replies.push_back(RespCall(resp, request));
  const std::string loading = "-LOADING Redis is loading the dataset in memory";
  EXPECT_EQ(memento_replies[0], loading);
  EXPECT_EQ(memento_replies[1], loading);
  EXPECT_EQ(memento_replies[2], loading);
  EXPECT_EQ(memento_replies[5], "$hi");
  ASSERT_TRUE(resp.Send(Resp({"PING"})));
  EXPECT_EQ(resp.ReadBytes(loading.size() + 2), loading + "\r\n");  // the exact bytes
  EXPECT_THAT(RespCall(resp, {"INFO", "persistence"}), HasSubstr("\r\nloading:1\r\n"));
  EXPECT_EQ(text.Call("GET k"),
            "(error) LOADING memento is loading its data (snapshot, then write-ahead log) into "
            "memory; retry in a moment");
  {
    TempDir redis_dir;
    LoadingRedis redis;
    std::string why;
    if (redis.Start(redis_dir.path(), &why)) {
      for (size_t i = 0; i < requests.size(); ++i) {
        EXPECT_EQ(RespCall(redis.client(), requests[i]), memento_replies[i])
            << "request " << requests[i][0];
      }
      ASSERT_TRUE(redis.client().Send(Resp({"PING"})));
      EXPECT_EQ(redis.client().ReadBytes(loading.size() + 2), loading + "\r\n");
    } else {
      ADD_FAILURE() << "no loading redis-server to compare with: " << why;
    }
  }
  EXPECT_THAT(d.Log(), Not(HasSubstr("Ready to accept commands")));

  blocker.Release();
  ASSERT_TRUE(d.WaitForLog("Ready to accept commands")) << d.Log();
  EXPECT_EQ(RespCall(resp, {"PING"}), "+PONG");
  EXPECT_EQ(RespCall(resp, {"GET", "k"}), "$v");
  EXPECT_EQ(text.Call("GET k"), "v");
  EXPECT_THAT(RespCall(resp, {"INFO", "persistence"}), HasSubstr("\r\nloading:0\r\n"));
  EXPECT_EQ(text.Call("SET k w"), "OK");
}

// One "listening" line, logged when the port is bound (before the data is loaded, so
// that the port is known while clients get LOADING), then one "Ready" line.
TEST(DaemonLifecycleTest, ListeningIsLoggedOnceThenReady) {
  TempDir dir;
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start({"-p", "0", "--data-dir", dir.path()})) << daemon.Log();
  std::string log = daemon.Log();
  std::string lower = log;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  EXPECT_EQ(CountOccurrences(lower, "listening"), 1u) << log;
  EXPECT_EQ(CountOccurrences(log, "Ready to accept commands"), 1u) << log;
  const size_t listening = log.find("listening on 127.0.0.1:" + std::to_string(daemon.port()));
  const size_t recovered = log.find("recovered ");
  const size_t ready = log.find("Ready to accept commands");
  ASSERT_NE(listening, std::string::npos) << log;
  ASSERT_NE(recovered, std::string::npos) << log;
  EXPECT_LT(listening, recovered) << log;
  EXPECT_LT(recovered, ready) << log;
}

// tests/e2e/cluster_test.cc covers cluster mode; -c alone lacks the node list.
TEST(DaemonLifecycleTest, ClusterModeWithoutNodesIsRefusedClearly) {
  TempDir dir;
  DaemonProcess daemon;
  EXPECT_FALSE(daemon.Start({"-p", "0", "-c", "--data-dir", dir.path()}));
  EXPECT_THAT(daemon.Wait(), Optional(1));
  EXPECT_THAT(daemon.Log(), HasSubstr("cluster mode needs the list of nodes"));
}

TEST(DaemonLifecycleTest, LogLinesCarryLevelAndTimestamp) {
  TempDir dir;
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start({"-p", "0", "--data-dir", dir.path()})) << daemon.Log();
  std::regex line(R"(\[INF\]\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] memento .* listening on)");
  EXPECT_TRUE(std::regex_search(daemon.Log(), line)) << daemon.Log();
}

TEST(DaemonLifecycleTest, SigtermWithClientsConnectedStopsCleanly) {
  TempDir dir;
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start({"-p", "0", "--data-dir", dir.path(), "--threads", "2"})) << daemon.Log();
  std::vector<Client> idle(10);
  for (Client& c : idle) ASSERT_TRUE(c.Connect(daemon.port()));
  Client busy;
  ASSERT_TRUE(busy.Connect(daemon.port()));
  std::string batch;
  for (int i = 0; i < 2000; ++i) batch += "SET k" + std::to_string(i) + " v\r\n";
  ASSERT_TRUE(busy.Send(batch));
  ASSERT_EQ(busy.ReadLine(), "OK");  // the batch is being executed
  ASSERT_TRUE(daemon.Signal(SIGTERM));
  EXPECT_THAT(daemon.Wait(), Optional(0));
  EXPECT_THAT(daemon.Log(), HasSubstr("received SIGTERM, shutting down"));
  // Every reply that arrived is whole; then the connection ends.
  for (;;) {
    auto line = busy.ReadLine(std::chrono::seconds(2));
    if (!line) break;
    ASSERT_EQ(*line, "OK");
  }
  for (Client& c : idle) EXPECT_TRUE(c.WaitForEof());
}

TEST(DaemonLifecycleTest, SigintStopsCleanlyAndReleasesTheDataDir) {
  TempDir dir;
  {
    DaemonProcess daemon;
    ASSERT_TRUE(daemon.Start({"-p", "0", "--data-dir", dir.path()})) << daemon.Log();
    ASSERT_TRUE(daemon.Signal(SIGINT));
    EXPECT_THAT(daemon.Wait(), Optional(0));
  }
  DaemonProcess again;
  EXPECT_TRUE(again.Start({"-p", "0", "--data-dir", dir.path()})) << again.Log();
}

}  // namespace
}  // namespace memento::testing
