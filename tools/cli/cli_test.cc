// End-to-end tests of memento-cli: the real binary, run as a subprocess, against a
// real daemon (tests/util/daemon_process.h) on a port the kernel picks.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/daemon_process.h"

namespace memento::cli {
namespace {

using memento::testing::BinaryPath;
using memento::testing::DaemonProcess;
using memento::testing::PickFreePort;
using memento::testing::TempDir;
using Clock = std::chrono::steady_clock;

// ---- running memento-cli ---------------------------------------------------------

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// memento-cli (or `program`, found on PATH unless it holds a '/') as a child process
// with pipes for stdin, stdout and stderr.
class CliProcess {
 public:
  explicit CliProcess(const std::vector<std::string>& args,
                      const std::string& program = BinaryPath("memento-cli")) {
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2 failed";
      return;
    }
    std::vector<std::string> storage = {program};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], STDIN_FILENO);
      dup2(out[1], STDOUT_FILENO);
      dup2(err[1], STDERR_FILENO);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    in_ = in[1];
    out_ = out[0];
    err_ = err[0];
  }
  ~CliProcess() {
    CloseStdin();
    if (pid_ > 0 && !exit_code_) {
      kill(pid_, SIGKILL);
      Finish();
    }
    if (out_ >= 0) close(out_);
    if (err_ >= 0) close(err_);
  }

  void Write(const std::string& data) {
    ASSERT_EQ(write(in_, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  }
  void CloseStdin() {
    if (in_ >= 0) close(in_);
    in_ = -1;
  }

  // Waits until stdout holds `lines` complete lines (or 20 s pass); returns them all.
  std::vector<std::string> WaitForLines(size_t lines) {
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      std::vector<std::string> got = Lines(out_text_);
      if (got.size() >= lines && !out_text_.empty() && out_text_.back() == '\n') return got;
      Pump(100);
    }
    return Lines(out_text_);
  }

  // Closes stdin, reads everything and waits for the exit (20 s at most).
  CliRun Finish() {
    CloseStdin();
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while ((out_ >= 0 || err_ >= 0) && Clock::now() < deadline) Pump(100);
    if (out_ >= 0 || err_ >= 0) kill(pid_, SIGKILL);
    int status = 0;
    if (!exit_code_) {
      waitpid(pid_, &status, 0);
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    return CliRun{*exit_code_, out_text_, err_text_};
  }

  const std::string& err_text() {
    Pump(0);
    return err_text_;
  }

 private:
  void Pump(int timeout_ms) {
    pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
    if (poll(fds, 2, timeout_ms) <= 0) return;
    for (int i = 0; i < 2; i++) {
      int& fd = i == 0 ? out_ : err_;
      if (fd < 0 || fds[i].revents == 0) continue;
      char buf[65536];
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n <= 0) {
        close(fd);
        fd = -1;
        continue;
      }
      (i == 0 ? out_text_ : err_text_).append(buf, static_cast<size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  std::string out_text_, err_text_;
  std::optional<int> exit_code_;
};

CliRun RunCli(const std::vector<std::string>& args, const std::string& input = "",
              const std::string& program = BinaryPath("memento-cli")) {
  CliProcess cli(args, program);
  if (!input.empty()) cli.Write(input);
  return cli.Finish();
}

// A real redis-server 7 (scripts/install-deps.sh installs it) on a free loopback port,
// without persistence; SIGKILLed when this goes away.
class RedisServer {
 public:
  RedisServer() : port_(PickFreePort()) {
    pid_ = fork();
    if (pid_ == 0) {
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, STDOUT_FILENO);
      const std::string port = std::to_string(port_);
      execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", static_cast<char*>(nullptr));
      _exit(127);
    }
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      memento::testing::Client probe;
      if (probe.Connect(port_)) {
        ready_ = true;
        return;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;  // exited: not installed, or the port was taken
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~RedisServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool ready() const { return ready_; }
  uint16_t port() const { return port_; }

 private:
  uint16_t port_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

// ---- fixture: one daemon for the whole suite --------------------------------------

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    daemon_ = new DaemonProcess();
    ASSERT_TRUE(daemon_->Start({"-p", "0", "--data-dir", dir_->path() + "/data", "--threads",
                                "2"}))
        << daemon_->Log();
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_EQ(Cli({"--resp", "FLUSHALL"}).out, "OK\n");
  }

  // memento-cli -p <daemon's port> --no-raw args...: replies in the form printed on a
  // terminal, though stdout is a pipe here (RawOffATerminalAsRedisCli tests the form a
  // pipe gets by default).
  static CliRun Cli(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"-p", std::to_string(daemon_->port()), "--no-raw"});
    return RunCli(args, input);
  }
  // The same without --no-raw: what a script reading memento-cli's stdout gets.
  static CliRun CliPiped(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"-p", std::to_string(daemon_->port())});
    return RunCli(args, input);
  }

  // Stores `n` keys "key:0".. through piped RESP commands.
  static void FillKeys(int n) {
    std::string input;
    for (int i = 0; i < n; i++) input += "SET key:" + std::to_string(i) + " v" + std::to_string(i) + "\n";
    CliRun run = Cli({"--resp"}, input);
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }

  static TempDir* dir_;
  static DaemonProcess* daemon_;
};

TempDir* CliTest::dir_ = nullptr;
DaemonProcess* CliTest::daemon_ = nullptr;

// ---- one-shot --------------------------------------------------------------------

TEST_F(CliTest, OneShotSetGetInTheTextProtocol) {
  CliRun set = Cli({"--text", "SET", "greeting", "hello world"});
  EXPECT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(set.out, "OK\n");
  CliRun get = Cli({"--text", "GET", "greeting"});
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_EQ(get.out, "hello world\n");  // as the daemon sends it
  EXPECT_EQ(Cli({"--text", "GET", "missing"}).out, "(null)\n");
}

TEST_F(CliTest, OneShotSpeaksRespByDefaultAndPrintsLikeRedisCli) {
  EXPECT_EQ(Cli({"SET", "k", "v"}).out, "OK\n");
  EXPECT_EQ(Cli({"GET", "k"}).out, "\"v\"\n");
  EXPECT_EQ(Cli({"GET", "missing"}).out, "(nil)\n");
  EXPECT_EQ(Cli({"INCRBY", "n", "5"}).out, "(integer) 5\n");
  EXPECT_EQ(Cli({"MGET", "k", "missing"}).out, "1) \"v\"\n2) (nil)\n");
  EXPECT_EQ(Cli({"KEYS", "nothing*"}).out, "(empty array)\n");
  // --resp, once the way to get RESP2, still is.
  EXPECT_EQ(Cli({"--resp", "GET", "k"}).out, "\"v\"\n");
}

TEST_F(CliTest, RedisHabitsDoWhatTheyDoInRedis) {
  // Each of these did something else in the text protocol, once the default: the
  // value stored was "abc EX 60", KEYS took "*" as a prefix, MGET printed a count.
  EXPECT_EQ(Cli({"SET", "session", "abc", "EX", "60"}).out, "OK\n");
  EXPECT_EQ(Cli({"GET", "session"}).out, "\"abc\"\n");
  EXPECT_EQ(Cli({"TTL", "session"}).out, "(integer) 60\n");
  ASSERT_EQ(Cli({"SET", "other", "x"}).exit_code, 0);
  EXPECT_EQ(Cli({"KEYS", "*"}).out, "1) \"other\"\n2) \"session\"\n");
  EXPECT_EQ(Cli({"MGET", "session", "nope"}).out, "1) \"abc\"\n2) (nil)\n");
}

TEST_F(CliTest, RawOffATerminalAsRedisCli) {
  // stdout is a pipe here: replies come raw, as from redis-cli, for $(...) in scripts.
  ASSERT_EQ(CliPiped({"SET", "greeting", "hello world"}).out, "OK\n");
  EXPECT_EQ(CliPiped({"GET", "greeting"}).out, "hello world\n");
  EXPECT_EQ(CliPiped({"GET", "missing"}).out, "\n");
  EXPECT_EQ(CliPiped({"INC", "n", "5"}).out, "5\n");
  EXPECT_EQ(CliPiped({"MGET", "greeting", "missing", "n"}).out, "hello world\n\n5\n");
  CliRun error = CliPiped({"INCR", "greeting"});
  EXPECT_EQ(error.exit_code, 1);  // redis-cli 7.0 exits 0 here; memento-cli keeps 1
  EXPECT_EQ(error.out, "ERR value is not an integer or out of range\n\n");
  // --no-raw and --raw choose; the last one wins.
  EXPECT_EQ(CliPiped({"--no-raw", "GET", "greeting"}).out, "\"hello world\"\n");
  EXPECT_EQ(CliPiped({"--no-raw", "--raw", "GET", "greeting"}).out, "hello world\n");
  // The text protocol's replies are lines in either form.
  EXPECT_EQ(CliPiped({"--text", "GET", "greeting"}).out, "hello world\n");
}

TEST_F(CliTest, PrintsWhatRedisCliPrintsAgainstRedis) {
  // The same lines piped into memento-cli against memento, into memento-cli against a
  // real redis-server, and into redis-cli against that redis-server: the same output,
  // byte for byte, in the terminal form (--no-raw) and in the raw form a pipe gets.
  RedisServer redis;
  ASSERT_TRUE(redis.ready()) << "redis-server did not start (scripts/install-deps.sh "
                                "installs it)";
  const std::string redis_port = std::to_string(redis.port());
  const std::string script =
      "SET session abc EX 60\n"
      "GET session\n"
      "TTL session\n"
      "SET session:2 \"caf\xc3\xa9 \\x00\\n\"\n"
      "GET session:2\n"
      "KEYS session:*\n"
      "MGET session nope session:2\n"
      "SET n 10 NX\n"
      "SET n 11 NX\n"
      "INCRBY n 5\n"
      "INCRBYFLOAT n 0.5\n"
      "GETDEL n\n"
      "EXISTS session nope session\n"
      "DEL session nope\n"
      "GET nope\n"
      "INCR session:2\n"
      "ECHO \"two words\"\n"
      "PING\n"
      "DBSIZE\n";
  for (const std::string form : {"--no-raw", "--raw"}) {
    SCOPED_TRACE(form);
    ASSERT_EQ(RunCli({"-p", redis_port, "FLUSHALL"}).out, "OK\n");
    ASSERT_EQ(Cli({"FLUSHALL"}).out, "OK\n");
    // --raw is redis-cli's default here, and memento-cli's: given explicitly only for
    // the trace.
    CliRun memento = CliPiped({form}, script);
    CliRun against_redis = RunCli({"-p", redis_port, form}, script);
    CliRun redis_cli = RunCli({"-p", redis_port, form}, script, "redis-cli");
    ASSERT_EQ(redis_cli.exit_code, 0) << "redis-cli: " << redis_cli.err;
    EXPECT_EQ(against_redis.out, redis_cli.out);
    EXPECT_EQ(memento.out, redis_cli.out);
    const std::string ttl = form == "--raw" ? "abc\n60\n" : "\"abc\"\n(integer) 60\n";
    EXPECT_NE(memento.out.find(ttl), std::string::npos) << memento.out;
  }
  // Without a flag, into a pipe: the raw form, as redis-cli.
  ASSERT_EQ(Cli({"FLUSHALL"}).out, "OK\n");
  ASSERT_EQ(RunCli({"-p", redis_port, "FLUSHALL"}).out, "OK\n");
  EXPECT_EQ(CliPiped({}, script).out, RunCli({"-p", redis_port}, script, "redis-cli").out);
}

TEST_F(CliTest, MementosOwnCommandsWorkByDefault) {
  EXPECT_EQ(Cli({"INC", "n", "5"}).out, "(integer) 5\n");
  EXPECT_EQ(Cli({"DEC", "n"}).out, "(integer) 4\n");
  EXPECT_EQ(Cli({"INCF", "f", "1.5"}).out, "\"1.5\"\n");
  ASSERT_EQ(Cli({"SET", "s", "world"}).exit_code, 0);
  EXPECT_EQ(Cli({"PREPEND", "s", "hello "}).out, "(integer) 11\n");
  CliRun getp = Cli({"GETP", "s"});
  EXPECT_EQ(getp.exit_code, 0) << getp.err;
  std::vector<std::string> lines = Lines(getp.out);
  ASSERT_EQ(lines.size(), 4u) << getp.out;
  EXPECT_EQ(lines[0], "1) \"s\"");
  EXPECT_EQ(lines[1], "2) \"hello world\"");
  EXPECT_EQ(lines[2].rfind("3) (integer) ", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3], "4) (integer) -1");
  EXPECT_EQ(Cli({"GETP", "missing"}).out, "(nil)\n");
  EXPECT_EQ(Cli({"COUNT"}).out, "(integer) 3\n");
  EXPECT_EQ(Cli({"FLUSH"}).out, "OK\n");
}

TEST_F(CliTest, ErrorReplyExitsOne) {
  ASSERT_EQ(Cli({"SET", "text", "abc"}).exit_code, 0);
  CliRun text = Cli({"--text", "INC", "text"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_EQ(text.out, "(error) ERR value is not an integer or out of range\n");
  CliRun resp = Cli({"INCR", "text"});
  EXPECT_EQ(resp.exit_code, 1);
  EXPECT_EQ(resp.out, "(error) ERR value is not an integer or out of range\n");
  CliRun unknown = Cli({"--text", "NOSUCHCOMMAND"});
  EXPECT_EQ(unknown.exit_code, 1);
  // An unknown name is a Redis inline command on a text connection: the server answers
  // in RESP2 (net/proto/text_commands.h kResp) and the CLI prints it as an error.
  EXPECT_EQ(unknown.out,
            "(error) ERR unknown command 'NOSUCHCOMMAND', with args beginning with: \n");
  CliRun unknown_resp = Cli({"NOSUCHCOMMAND"});
  EXPECT_EQ(unknown_resp.exit_code, 1);
  EXPECT_EQ(unknown_resp.out.rfind("(error) ERR unknown command 'NOSUCHCOMMAND'", 0), 0u)
      << unknown_resp.out;
}

TEST_F(CliTest, TextProtocolRefusesWordsItCannotCarry) {
  CliRun run = Cli({"--text", "GET", "a b"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("use --resp"), std::string::npos) << run.out;
  // The value of SET may hold spaces: it is the rest of the line.
  EXPECT_EQ(Cli({"--text", "SET", "k", "a  b "}).out, "OK\n");
  EXPECT_EQ(Cli({"GET", "k"}).out, "\"a  b \"\n");
  // RESP2, the default, carries any word.
  EXPECT_EQ(Cli({"SET", "a b", ""}).out, "OK\n");
  EXPECT_EQ(Cli({"STRLEN", "a b"}).out, "(integer) 0\n");
}

// ---- piped -----------------------------------------------------------------------

TEST_F(CliTest, PipedCommandsWithQuotingAndBinaryEscapes) {
  const std::string input =
      "SET spaced \"a b  c\"\n"
      "SET single 'it is'\n"
      "SET bin \"\\x00\\xff\\r\\n\\\"q\\\"\"\n"
      "\n"
      "GET spaced\n"
      "GET single\n"
      "GET bin\n"
      "STRLEN bin\n";
  CliRun run = Cli({"--resp"}, input);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "OK\nOK\nOK\n\"a b  c\"\n\"it is\"\n\"\\x00\\xff\\r\\n\\\"q\\\"\"\n(integer) 7\n");
}

TEST_F(CliTest, PipedExitsOneIfAnyReplyWasAnError) {
  CliRun run = Cli({"--resp"}, "SET a 1\nINCRBY a x\nGET a\n");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "OK\n(error) ERR value is not an integer or out of range\n\"1\"\n");
  CliRun quote = Cli({"--resp"}, "SET a \"unbalanced\nGET a\n");
  EXPECT_EQ(quote.exit_code, 1);
  EXPECT_NE(quote.out.find("(error) invalid arguments: unbalanced double quote"),
            std::string::npos)
      << quote.out;
  EXPECT_NE(quote.out.find("\"1\"\n"), std::string::npos);
  CliRun text = Cli({"--text"}, "SET t 1\nINC t\nGET t\n");
  EXPECT_EQ(text.exit_code, 0) << text.out;
  EXPECT_EQ(text.out, "OK\nOK\n2\n");
}

// ---- multi-line replies, read whole -----------------------------------------------

TEST_F(CliTest, TextMultiLineRepliesAreReadWhole) {
  FillKeys(2000);
  // Each multi-line reply is followed by a PING: its PONG comes right after the
  // reply's last line only if the reply was framed exactly.
  CliRun run = Cli({"--text"}, "KEYS\nPING\nGETP key:7\nPING\nGETP missing\nPING\nINFO\nPING\n"
                       "MGET key:1 nope\nPING\nTIME\nPING\nKEYS nope\nPING\n"
                       "PREFSCAN key:199\nPING\nKEYSPACE\nPING\n");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<std::string> lines = Lines(run.out);
  ASSERT_GT(lines.size(), 2002u);
  EXPECT_EQ(lines[0], "2000");
  std::set<std::string> keys(lines.begin() + 1, lines.begin() + 2001);
  EXPECT_EQ(keys.size(), 2000u);
  EXPECT_TRUE(keys.count("key:1999"));
  EXPECT_EQ(lines[2001], "PONG");
  size_t at = 2002;
  EXPECT_EQ(lines[at++], "key: key:7");
  EXPECT_EQ(lines[at++], "value: v7");
  EXPECT_EQ(lines[at++].rfind("creation_time: ", 0), 0u);
  EXPECT_EQ(lines[at++], "expire_time: -1");
  EXPECT_EQ(lines[at++], "PONG");
  EXPECT_EQ(lines[at++], "(null)");
  EXPECT_EQ(lines[at++], "PONG");
  // INFO: a count, then that many lines, sections included.
  const int info_lines = std::stoi(lines[at++]);
  EXPECT_GT(info_lines, 20);
  EXPECT_EQ(lines[at], "# Server");
  at += static_cast<size_t>(info_lines);
  EXPECT_EQ(lines[at++], "PONG");
  EXPECT_EQ(lines[at++], "2");
  EXPECT_EQ(lines[at++], "v1");
  EXPECT_EQ(lines[at++], "(null)");
  EXPECT_EQ(lines[at++], "PONG");
  EXPECT_EQ(lines[at++], "2");
  at += 2;
  EXPECT_EQ(lines[at++], "PONG");
  EXPECT_EQ(lines[at++], "0");
  EXPECT_EQ(lines[at++], "PONG");
  // PREFSCAN: the values of key:199 and key:1990..key:1999, sorted.
  EXPECT_EQ(lines[at++], "11");
  EXPECT_EQ(lines[at++], "v199");
  EXPECT_EQ(lines[at++], "v1990");
  at += 9;
  EXPECT_EQ(lines[at++], "PONG");
  EXPECT_EQ(lines[at++], "1");
  EXPECT_EQ(lines[at++].rfind("Keys: ", 0), 0u);
  EXPECT_EQ(lines[at++], "PONG");
  EXPECT_EQ(at, lines.size());
}

TEST_F(CliTest, RespMultiLineRepliesAreReadWhole) {
  FillKeys(2000);
  CliRun run = Cli({}, "KEYS *\nPING\nGETP key:7\nPING\nINFO\nPING\n");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<std::string> lines = Lines(run.out);
  ASSERT_GT(lines.size(), 2001u);
  // Sorted bytewise; numbers right-aligned to the widest.
  EXPECT_EQ(lines[0], "   1) \"key:0\"");
  EXPECT_EQ(lines[1999].substr(0, 6), "2000) ");
  EXPECT_EQ(lines[2000], "PONG");
  EXPECT_EQ(lines[2001], "1) \"key:7\"");
  EXPECT_EQ(lines[2002], "2) \"v7\"");
  EXPECT_EQ(lines[2003].rfind("3) (integer) ", 0), 0u);
  EXPECT_EQ(lines[2004], "4) (integer) -1");
  EXPECT_EQ(lines[2005], "PONG");
  // INFO prints as its lines (as redis-cli does), then the PONG.
  EXPECT_EQ(lines[2006], "# Server");
  EXPECT_EQ(lines.back(), "PONG");
  EXPECT_NE(run.out.find("db0:keys=2000,"), std::string::npos);
}

// ---- reconnecting ------------------------------------------------------------------

TEST(CliReconnectTest, ReconnectsAfterTheDaemonRestartsOnTheSamePort) {
  TempDir dir;
  auto daemon = std::make_unique<DaemonProcess>();
  // A port outside the ephemeral range: no other process's connection can take it
  // while the daemon is down.
  const std::string port = std::to_string(PickFreePort());
  ASSERT_TRUE(daemon->Start({"-p", port, "--data-dir", dir.path() + "/data"})) << daemon->Log();

  CliProcess cli({"-p", port, "--resp"});
  cli.Write("SET a 1\n");
  EXPECT_EQ(cli.WaitForLines(1), std::vector<std::string>{"OK"});

  ASSERT_TRUE(daemon->Signal(SIGTERM));
  ASSERT_EQ(daemon->Wait(), 0) << daemon->Log();
  daemon = std::make_unique<DaemonProcess>();
  ASSERT_TRUE(daemon->Start({"-p", port, "--data-dir", dir.path() + "/data"})) << daemon->Log();

  cli.Write("GET a\nPING\n");
  EXPECT_EQ(cli.WaitForLines(3), (std::vector<std::string>{"OK", "1", "PONG"}));
  CliRun run = cli.Finish();
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("reconnected to 127.0.0.1:" + port), std::string::npos) << run.err;
}

TEST(CliReconnectTest, ADeadServerIsAnErrorNotACrash) {
  TempDir dir;
  auto daemon = std::make_unique<DaemonProcess>();
  ASSERT_TRUE(daemon->Start({"-p", "0", "--data-dir", dir.path() + "/data"})) << daemon->Log();
  const std::string port = std::to_string(daemon->port());
  CliProcess cli({"-p", port});
  cli.Write("PING\n");
  EXPECT_EQ(cli.WaitForLines(1), std::vector<std::string>{"PONG"});
  ASSERT_TRUE(daemon->Signal(SIGKILL));
  daemon->Wait();
  cli.Write("PING\n");
  CliRun run = cli.Finish();
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("could not connect to Memento: connect to 127.0.0.1:" + port),
            std::string::npos)
      << run.err;
}

// ---- authentication -----------------------------------------------------------------

TEST(CliAuthTest, PasswordFlagAuthenticatesEveryConnection) {
  TempDir dir;
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start({"-p", "0", "--data-dir", dir.path() + "/data", "--requirepass",
                            "s3cret"}))
      << daemon.Log();
  const std::string port = std::to_string(daemon.port());
  for (const char* dialect : {"--text", "--resp"}) {
    CliRun ok = RunCli({"-p", port, dialect, "-a", "s3cret", "PING"});
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_EQ(ok.out, "PONG\n");
    CliRun none = RunCli({"-p", port, dialect, "PING"});
    EXPECT_EQ(none.exit_code, 1);
    EXPECT_NE(none.out.find("NOAUTH"), std::string::npos) << none.out;
    CliRun wrong = RunCli({"-p", port, dialect, "-a", "nope", "PING"});
    EXPECT_EQ(wrong.exit_code, 1);
    EXPECT_NE(wrong.err.find("AUTH at 127.0.0.1:" + port + " refused"), std::string::npos)
        << wrong.err;
  }
}

// ---- help ----------------------------------------------------------------------------

// Every command docs/protocol.md documents, read here independently of the CLI's own
// parser: the first word of each `...` span in the first cell of a table row.
std::set<std::string> CommandsInProtocolDoc() {
  std::ifstream in(MEMENTO_PROTOCOL_DOC_PATH);
  std::set<std::string> names;
  const std::regex span("`([A-Za-z]+)[^`]*`");
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("| `")) continue;
    const std::string first_cell = line.substr(1, line.find(" | ", 1));
    for (auto it = std::sregex_iterator(first_cell.begin(), first_cell.end(), span);
         it != std::sregex_iterator(); ++it) {
      std::string name = (*it)[1];
      for (char& c : name) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
      names.insert(name);
    }
  }
  return names;
}

TEST_F(CliTest, EveryCommandTheDaemonServesIsInTheReference) {
  // memento-cli's help comes from docs/protocol.md, so a command the daemon serves
  // (its own table, COMMAND LIST) but the reference lacks would have no help.
  const std::set<std::string> names = CommandsInProtocolDoc();
  CliRun list = Cli({"--resp", "COMMAND", "LIST"});
  ASSERT_EQ(list.exit_code, 0);
  const std::regex item("^\\s*\\d+\\) \"([a-z|]+)\"$");
  size_t served = 0;
  for (const std::string& line : Lines(list.out)) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, item)) << line;
    std::string name = m[1];
    for (char& c : name) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
    EXPECT_TRUE(names.count(name)) << name << " is served but docs/protocol.md lacks it";
    served++;
  }
  EXPECT_GT(served, 60u);
}

TEST_F(CliTest, HelpForEveryCommandOfBothProtocols) {
  const std::set<std::string> names = CommandsInProtocolDoc();
  ASSERT_GT(names.size(), 60u);
  for (const std::string& name : names) {
    CliRun help = RunCli({"help", name});
    EXPECT_EQ(help.exit_code, 0) << name << ": " << help.out;
    EXPECT_NE(help.out.find("  " + name), std::string::npos) << name << ": " << help.out;
    EXPECT_NE(help.out.find("reply: "), std::string::npos) << name << ": " << help.out;
  }
  // Help in any case, without a server, at the prompt's piped form too.
  CliRun piped = RunCli({"-p", "1"}, "help get\nhelp\n");
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_NE(piped.out.find("GET <key>"), std::string::npos);
  EXPECT_NE(piped.out.find("GET key\n"), std::string::npos);
  EXPECT_NE(piped.out.find("RESP2 (the default):"), std::string::npos);
  EXPECT_NE(piped.out.find("Text protocol (memento-cli --text):"), std::string::npos);
  CliRun unknown = RunCli({"help", "nosuch"});
  EXPECT_EQ(unknown.exit_code, 1);
}

// ---- flags and exit codes --------------------------------------------------------------

TEST(CliFlagsTest, HelpVersionAndBadFlags) {
  CliRun help = RunCli({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_EQ(help.out.rfind("Usage: memento-cli", 0), 0u);
  EXPECT_NE(help.out.find("-h is the host"), std::string::npos);
  CliRun version = RunCli({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(std::regex_match(version.out, std::regex("memento-cli \\d+\\.\\d+\\.\\d+\n")))
      << version.out;
  for (const std::vector<std::string>& bad :
       std::vector<std::vector<std::string>>{{"--bogus"}, {"-p", "x"}, {"-p", "70000"}, {"-h"}}) {
    CliRun run = RunCli(bad);
    EXPECT_EQ(run.exit_code, 2) << bad[0];
    EXPECT_EQ(run.err.rfind("memento-cli: ", 0), 0u) << run.err;
  }
}

TEST(CliFlagsTest, NoServerExitsOne) {
  // Port 1 on loopback: nothing listens there.
  CliRun run = RunCli({"-p", "1", "PING"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("could not connect"), std::string::npos) << run.err;
}

// ---- cluster init ---------------------------------------------------------------------

TEST(CliClusterInitTest, WritesOneConfigPerNode) {
  TempDir dir;
  const std::string out_dir = dir.path() + "/cluster";
  CliRun run = RunCli({"cluster", "init", "127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003",
                       "--dir", out_dir});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (int i = 0; i < 3; i++) {
    const std::string path = out_dir + "/node" + std::to_string(i) + ".toml";
    EXPECT_NE(run.out.find("wrote " + path), std::string::npos) << run.out;
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_NE(text.str().find("port = " + std::to_string(7001 + i) + "\n"), std::string::npos);
    EXPECT_NE(text.str().find("data_dir = \"./data-node" + std::to_string(i) + "\"\n"),
              std::string::npos);
    EXPECT_NE(text.str().find("name = \"node" + std::to_string(i) + "\"            # this node"),
              std::string::npos)
        << text.str();
  }
  // Again: the files exist.
  CliRun again = RunCli({"cluster", "init", "127.0.0.1:7001", "--dir", out_dir});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  EXPECT_EQ(RunCli({"cluster", "init", "127.0.0.1:7001", "--dir", out_dir, "--force"}).exit_code,
            0);
}

TEST(CliClusterInitTest, BadAddressesAndCollisionsExitTwo) {
  TempDir dir;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"cluster", "init"},
           {"cluster", "init", "127.0.0.1"},
           {"cluster", "init", "127.0.0.1:99999"},
           {"cluster", "init", "127.0.0.1:7001", "127.0.0.1:7001"},
           {"cluster", "init", "127.0.0.1:7001", "127.0.0.1:7101"},
           {"cluster", "init", "127.0.0.1:7001", "--bogus"}}) {
    std::vector<std::string> with_dir = args;
    with_dir.insert(with_dir.end(), {"--dir", dir.path()});
    CliRun run = RunCli(with_dir);
    EXPECT_EQ(run.exit_code, 2) << args.back();
    EXPECT_EQ(run.err.rfind("memento-cli: cluster init: ", 0), 0u) << run.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/node0.toml"));
}

}  // namespace
}  // namespace memento::cli
