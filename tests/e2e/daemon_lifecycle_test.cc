// End-to-end tests of the daemon's life: flags, config file, refusing to start, logs
// and clean shutdown on SIGTERM/SIGINT.

#include <signal.h>

#include <chrono>
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
using ::testing::Optional;

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

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
  EXPECT_THAT(second.Log(), HasSubstr("already in use"));
  EXPECT_THAT(second.Log(), HasSubstr(std::to_string(first.port())));
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
