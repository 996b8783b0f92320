// End-to-end tests of memento-benchmark: short runs against the real daemon (text and
// RESP2), against redis-server when it is installed, and against tiny fake servers
// that answer wrongly; output formats and exit codes.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/util/daemon_process.h"
#include "tools/benchmark/workload.h"

namespace memento::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct RunOutput {
  int exit_code = -1;  // -signal if a signal ended it, -1000 on a time-out
  std::string out;
  std::string err;
};

// Runs `binary` with `args`, collecting stdout and stderr apart.
RunOutput RunProgram(const std::string& binary, const std::vector<std::string>& args,
                     std::chrono::seconds timeout = std::chrono::seconds(120)) {
  RunOutput result;
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) return result;
  std::vector<std::string> storage = {binary};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  bool timed_out = false;
  char buf[4096];
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, static_cast<int>(left.count())) <= 0) continue;
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        open_fds--;
      } else {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (timed_out) {
    result.exit_code = -1000;
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = -WTERMSIG(status);
  }
  return result;
}

RunOutput RunBenchmark(const std::vector<std::string>& args) {
  return RunProgram(BinaryPath("memento-benchmark"), args);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string f; std::getline(in, f, ',');) fields.push_back(f);
  return fields;
}

// A port nobody listens on (bound, read, released).
uint16_t FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// Checks one CSV data line of a run with no errors: `requests` replies, sane figures.
void ExpectSaneCsvLine(const std::string& line, const std::string& phase, uint64_t requests) {
  const std::vector<std::string> f = SplitCsv(line);
  ASSERT_EQ(f.size(), 10u) << line;
  EXPECT_EQ(f[0], phase);
  EXPECT_EQ(std::stoull(f[1]), requests) << line;
  EXPECT_EQ(f[2], "0") << line;
  EXPECT_GT(std::stod(f[3]), 0) << line;  // seconds
  EXPECT_GT(std::stod(f[4]), 0) << line;  // ops/s
  const uint64_t p50 = std::stoull(f[5]);
  const uint64_t p99 = std::stoull(f[6]);
  const uint64_t p999 = std::stoull(f[7]);
  const uint64_t max = std::stoull(f[8]);
  EXPECT_LE(p50, p99) << line;
  EXPECT_LE(p99, p999) << line;
  EXPECT_LE(p999, max) << line;
}

class BenchmarkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    daemon_ = new DaemonProcess();
    ASSERT_TRUE(daemon_->Start({"-p", "0", "--data-dir", dir_->path() + "/data"}))
        << daemon_->Log();
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete dir_;
  }
  static std::string Port() { return std::to_string(daemon_->port()); }

  static TempDir* dir_;
  static DaemonProcess* daemon_;
};

TempDir* BenchmarkTest::dir_ = nullptr;
DaemonProcess* BenchmarkTest::daemon_ = nullptr;

TEST_F(BenchmarkTest, TextProtocolRunOfEveryPhaseHasNoErrors) {
  RunOutput r = RunBenchmark({"-p", Port(), "--protocol", "text", "--requests", "3000",
                              "--threads", "2", "--connections", "5", "--pipeline", "4",
                              "--keyspace", "500", "--value-size", "40", "--csv", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0],
            "phase,requests,errors,seconds,ops_per_sec,p50_us,p99_us,p999_us,max_us,mean_us");
  ExpectSaneCsvLine(lines[1], "set", 3000);
  ExpectSaneCsvLine(lines[2], "get", 3000);
  ExpectSaneCsvLine(lines[3], "grow", 3000);
  ExpectSaneCsvLine(lines[4], "mixed", 3000);
  EXPECT_EQ(r.err, "");  // --quiet: nothing on stderr when all went well

  // What the phases wrote is in the server, as the checker expects it.
  Client client;
  ASSERT_TRUE(client.Connect(daemon_->port()));
  EXPECT_EQ(client.Call("GET mb:keyone"), benchmark::MakeValue("mb:keyone", 40));
  EXPECT_EQ(client.Call("GET mb:grow:0"), benchmark::MakeValue("mb:grow:0", 40));
  EXPECT_EQ(client.Call("GET mb:grow:2999"), benchmark::MakeValue("mb:grow:2999", 40));
  EXPECT_EQ(client.Call("GET mb:grow:3000"), "(null)");  // exactly 3000 grow keys
}

TEST_F(BenchmarkTest, RespRunWithJsonOutputParses) {
  const std::string json_path = dir_->path() + "/run.json";
  RunOutput r = RunBenchmark({"-p", Port(), "--protocol=resp", "--requests", "2000",
                              "--connections", "3", "--pipeline", "8", "--json", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::ofstream(json_path) << r.out;
  // python3's json module is the independent parser; every key a user reads is there.
  const std::string check = R"(
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tool"] == "memento-benchmark", d
assert d["errors"] == 0, d
assert d["config"]["protocol"] == "resp" and d["config"]["pipeline"] == 8, d
assert [p["phase"] for p in d["phases"]] == ["set", "get", "grow", "mixed"], d
for p in d["phases"]:
    for k in ("requests", "errors", "seconds", "ops_per_sec", "latency_us", "sets", "gets",
              "get_misses", "error_samples"):
        assert k in p, (k, p)
    l = p["latency_us"]
    assert p["requests"] == 2000 and p["errors"] == 0 and p["ops_per_sec"] > 0, p
    assert l["p50"] <= l["p99"] <= l["p99_9"] <= l["max"], p
print("ok")
)";
  RunOutput py = RunProgram("/usr/bin/python3", {"-c", check, json_path});
  if (py.exit_code == 127) GTEST_SKIP() << "python3 not installed";
  EXPECT_EQ(py.exit_code, 0) << py.err << "\n" << r.out;
  EXPECT_EQ(py.out, "ok\n");
}

TEST_F(BenchmarkTest, DefaultTableNamesEveryPhase) {
  RunOutput r = RunBenchmark({"-p", Port(), "--requests", "500", "--connections", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 6u) << r.out;
  EXPECT_THAT(lines[0], StartsWith("memento-benchmark: 127.0.0.1:" + Port() + ", text protocol"));
  EXPECT_THAT(lines[1], HasSubstr("p99.9 ms"));
  EXPECT_THAT(lines[2], StartsWith("set "));
  EXPECT_THAT(lines[5], StartsWith("mixed "));
}

TEST_F(BenchmarkTest, GetsOfNeverWrittenKeysAreNilAndAccepted) {
  // GET only over a million keys: most were never written (nil, "(null)" in the text
  // protocol); the few that other tests' mixed phases wrote hold benchmark values of
  // those keys, which are accepted too.
  RunOutput r = RunBenchmark({"-p", Port(), "--phase", "mixed", "--ratio", "0:1",
                              "--keyspace", "1000000", "--requests", "1000", "--json",
                              "--quiet", "--seed", "77"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"sets\":0,\"gets\":1000"));
}

TEST_F(BenchmarkTest, DurationModeRunsForAboutThatLong) {
  RunOutput r = RunBenchmark({"-p", Port(), "--phase", "mixed", "--duration", "0.5",
                              "--connections", "4", "--csv", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  const std::vector<std::string> f = SplitCsv(lines[1]);
  ASSERT_EQ(f.size(), 10u);
  EXPECT_GT(std::stoull(f[1]), 0u);
  EXPECT_GE(std::stod(f[3]), 0.5);
}

TEST_F(BenchmarkTest, ProgressLineWhenAsked) {
  RunOutput r = RunBenchmark({"-p", Port(), "--phase", "mixed", "--duration", "1.5",
                              "--connections", "2", "--progress", "--csv"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("mixed  "));
  EXPECT_THAT(r.err, HasSubstr("requests/s"));
}

// ---- redis-server ---------------------------------------------------------------------

TEST(BenchmarkRedisTest, RespRunAgainstRedisServerHasNoErrors) {
  const char* redis = "/usr/bin/redis-server";
  if (access(redis, X_OK) != 0) {
    GTEST_SKIP() << "redis-server is not installed at " << redis
                 << " (scripts/install-deps.sh installs it): skipping the Redis run";
  }
  TempDir dir;
  const uint16_t port = FreePort();
  const pid_t pid = fork();
  if (pid == 0) {
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    execl(redis, redis, "--port", std::to_string(port).c_str(), "--bind", "127.0.0.1",
          "--save", "", "--appendonly", "no", "--dir", dir.path().c_str(), nullptr);
    _exit(127);
  }
  ASSERT_GT(pid, 0);
  bool up = false;
  for (int i = 0; i < 200 && !up; i++) {
    Client c;
    if (c.Connect(port) && c.Send("*1\r\n$4\r\nPING\r\n")) {
      auto line = c.ReadLine(std::chrono::milliseconds(500));
      up = line.has_value() && *line == "+PONG";
    }
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  if (up) {
    RunOutput r = RunBenchmark({"-p", std::to_string(port), "--protocol", "resp",
                                "--requests", "3000", "--connections", "4", "--pipeline",
                                "4", "--csv", "--quiet"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::vector<std::string> lines = Lines(r.out);
    EXPECT_EQ(lines.size(), 5u) << r.out;
    for (size_t i = 1; i < lines.size(); i++) {
      ExpectSaneCsvLine(lines[i], SplitCsv(lines[i])[0], 3000);
    }
  }
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(up) << "redis-server did not answer PING on port " << port;
}

// ---- servers that answer wrongly ------------------------------------------------------

// A loopback server that answers every request with `reply` (or closes each connection
// at once when `reply` is empty). A request is counted at each line start: any line in
// text mode, a line starting with '*' in RESP mode (the benchmark's keys and values
// never start with '*').
class FakeServer {
 public:
  FakeServer(std::string reply, bool resp) : reply_(std::move(reply)), resp_(resp) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(listen_fd_, 64);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
  }
  std::string port() const { return std::to_string(port_); }

 private:
  struct Conn {
    int fd;
    bool line_start = true;
  };

  void Serve() {
    std::vector<Conn> conns;
    char buf[65536];
    while (!stop_) {
      std::vector<pollfd> fds = {{listen_fd_, POLLIN, 0}};
      for (const Conn& c : conns) fds.push_back({c.fd, POLLIN, 0});
      if (poll(fds.data(), fds.size(), 20) <= 0) continue;
      if ((fds[0].revents & POLLIN) != 0) {
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
          if (reply_.empty()) {
            close(fd);
          } else {
            conns.push_back({fd});
          }
        }
      }
      for (size_t i = fds.size() - 1; i >= 1; i--) {
        if (fds[i].revents == 0) continue;
        Conn& c = conns[i - 1];
        const ssize_t n = read(c.fd, buf, sizeof(buf));
        if (n <= 0) {
          close(c.fd);
          conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i - 1));
          continue;
        }
        std::string out;
        for (ssize_t j = 0; j < n; j++) {
          if (c.line_start && (!resp_ || buf[j] == '*')) out += reply_;
          c.line_start = buf[j] == '\n';
        }
        if (!out.empty() && send(c.fd, out.data(), out.size(), MSG_NOSIGNAL) < 0) {
          close(c.fd);
          conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i - 1));
        }
      }
    }
    for (const Conn& c : conns) close(c.fd);
  }

  std::string reply_;
  bool resp_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(BenchmarkFakeServerTest, ErrorRepliesAreCountedAndExitOne) {
  FakeServer server("-ERR x\r\n", /*resp=*/true);
  RunOutput r = RunBenchmark({"-p", server.port(), "--protocol", "resp", "--phase", "set",
                              "--requests", "200", "--connections", "2", "--csv", "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("SET mb:keyone: expected OK, got error 'ERR x'"));
  EXPECT_THAT(r.err, HasSubstr("200 wrong or missing replies"));
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(SplitCsv(lines[1])[2], "200");  // the errors column
}

TEST(BenchmarkFakeServerTest, WrongValuesAreErrorsInTextMode) {
  // "OK" to everything: the get phase's first SET passes, every GET's value is wrong.
  FakeServer server("OK\r\n", /*resp=*/false);
  RunOutput r = RunBenchmark({"-p", server.port(), "--phase", "get", "--requests", "100",
                              "--connections", "2", "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("GET mb:keyone: expected the value written (100 bytes), got 2 "
                               "bytes 'OK'"));
}

TEST(BenchmarkFakeServerTest, GarbageEndsTheConnectionAndExitsOne) {
  FakeServer server("garbage\r\n", /*resp=*/true);
  RunOutput r = RunBenchmark({"-p", server.port(), "--protocol", "resp", "--phase", "mixed",
                              "--requests", "100", "--connections", "2", "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("not a reply of the protocol"));
  EXPECT_THAT(r.err, HasSubstr("unexpected byte 'g'"));
}

TEST(BenchmarkFakeServerTest, ClosedConnectionsAreFailures) {
  FakeServer server("", /*resp=*/false);
  RunOutput r = RunBenchmark({"-p", server.port(), "--phase", "set", "--requests", "100",
                              "--connections", "2", "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  // A server that closes with our request unread makes the kernel send RST instead of
  // FIN, so either way of seeing it is right.
  EXPECT_THAT(r.err, ::testing::AnyOf(HasSubstr("connection closed by the server"),
                                      HasSubstr("Connection reset by peer")));
}

TEST(BenchmarkFakeServerTest, SilentServerTimesOut) {
  // A listener that never accepts: connect succeeds (backlog), no reply ever comes.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  RunOutput r = RunBenchmark({"-p", std::to_string(ntohs(addr.sin_port)), "--phase", "set",
                              "--requests", "10", "--connections", "1", "--timeout", "0.5",
                              "--quiet"});
  close(fd);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("no reply within"));
}

TEST(BenchmarkFakeServerTest, NothingListeningIsAFailure) {
  RunOutput r = RunBenchmark({"-p", std::to_string(FreePort()), "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("cannot connect to 127.0.0.1:"));
  EXPECT_THAT(r.err, HasSubstr("Connection refused"));
}

// ---- flags ----------------------------------------------------------------------------

TEST(BenchmarkFlagsTest, HelpVersionAndBadFlags) {
  RunOutput help = RunBenchmark({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, StartsWith("Usage: memento-benchmark"));
  EXPECT_THAT(help.out, HasSubstr("--pipeline N"));

  RunOutput version = RunBenchmark({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, StartsWith("memento-benchmark "));

  RunOutput bad = RunBenchmark({"--frobnicate"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("unknown flag '--frobnicate'"));
  EXPECT_THAT(bad.err, HasSubstr("--help"));
  EXPECT_EQ(bad.out, "");

  // -h is the host, not help: without a value it is a usage error.
  RunOutput h = RunBenchmark({"-h"});
  EXPECT_EQ(h.exit_code, 2);
  EXPECT_THAT(h.err, HasSubstr("-h needs a value"));

  RunOutput ratio = RunBenchmark({"--ratio", "ten"});
  EXPECT_EQ(ratio.exit_code, 2);
  EXPECT_THAT(ratio.err, HasSubstr("--ratio: 'ten'"));
}

}  // namespace
}  // namespace memento::testing
