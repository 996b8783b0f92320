// End-to-end tests of memento-compact (docs/tools/compact.md): the real daemon writes a
// data directory (overwrites, deletes, expired and live TTLs, long keys, compressed and
// 1 MB values), is stopped, memento-compact runs on the directory, and the daemon is
// started again: every key must read back as it was, expired keys gone. Then the
// refusals (a running daemon, a damaged log), crash safety (the tool killed at every
// step, and at random moments), --check's verdicts and that it changes no byte, and the
// command line.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/daemon_process.h"
#include "tests/util/wal_files.h"

namespace memento::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------
// Running memento-compact
// ---------------------------------------------------------------------------------

struct ToolRun {
  int code = -1000;    // exit code, or -signal
  std::string output;  // stdout + stderr
};

// Runs memento-compact with `args` and extra environment entries ("NAME=value");
// `while_running` (if set) is called with its pid once it is started.
ToolRun RunCompact(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                   const std::function<void(pid_t)>& while_running = {}) {
  ToolRun run;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return run;
  const std::string binary = BinaryPath("memento-compact");
  std::vector<std::string> storage = {binary};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = env;
  const pid_t pid = ::fork();
  if (pid < 0) return run;
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    for (std::string& e : env_storage) ::putenv(e.data());
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(fds[1]);
  std::thread reader([&] {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof(buf))) > 0)
      run.output.append(buf, static_cast<size_t>(n));
  });
  if (while_running) while_running(pid);
  int status = 0;
  ::waitpid(pid, &status, 0);
  reader.join();
  ::close(fds[0]);
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return run;
}

// ---------------------------------------------------------------------------------
// Talking RESP to the daemon (binary-safe: values with any bytes, 1 MB values)
// ---------------------------------------------------------------------------------

std::string Resp(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

// One reply: a bulk string (nullopt for a null bulk), or the text of a status, integer
// or error line prefixed by its type byte. "<eof>" when the connection failed.
std::optional<std::string> ReadReply(Client& c) {
  std::optional<std::string> line = c.ReadLine(seconds(30));
  if (!line || line->empty()) return std::string("<eof>");
  if ((*line)[0] != '$') return *line;
  const long long n = std::stoll(line->substr(1));
  if (n < 0) return std::nullopt;
  std::optional<std::string> data = c.ReadBytes(static_cast<size_t>(n) + 2, seconds(30));
  if (!data) return std::string("<eof>");
  data->resize(static_cast<size_t>(n));
  return data;
}

// Pipelines commands in chunks; every reply must be +OK or an integer.
void Pipeline(Client& c, const std::vector<std::vector<std::string>>& commands) {
  constexpr size_t kChunk = 500;
  for (size_t i = 0; i < commands.size(); i += kChunk) {
    const size_t end = std::min(commands.size(), i + kChunk);
    std::string out;
    for (size_t j = i; j < end; ++j) out += Resp(commands[j]);
    ASSERT_TRUE(c.Send(out));
    for (size_t j = i; j < end; ++j) {
      std::optional<std::string> reply = ReadReply(c);
      ASSERT_TRUE(reply && (*reply == "+OK" || (*reply)[0] == ':'))
          << commands[j][0] << " " << commands[j][1].substr(0, 40) << ": "
          << reply.value_or("(nil)");
    }
  }
}

// What the data set must be: key -> value; absent keys must read as nil.
using Model = std::map<std::string, std::optional<std::string>>;

void ExpectServes(uint16_t port, const Model& model) {
  Client c;
  ASSERT_TRUE(c.Connect(port));
  std::vector<const Model::value_type*> entries;
  for (const auto& e : model) entries.push_back(&e);
  constexpr size_t kChunk = 500;
  size_t wrong = 0;
  for (size_t i = 0; i < entries.size(); i += kChunk) {
    const size_t end = std::min(entries.size(), i + kChunk);
    std::string out;
    for (size_t j = i; j < end; ++j) out += Resp({"GET", entries[j]->first});
    ASSERT_TRUE(c.Send(out));
    for (size_t j = i; j < end; ++j) {
      std::optional<std::string> got = ReadReply(c);
      if (got != entries[j]->second && ++wrong <= 5) {
        ADD_FAILURE() << "key " << entries[j]->first.substr(0, 60) << " ("
                      << entries[j]->first.size() << " bytes): got "
                      << (got ? std::to_string(got->size()) + " bytes" : "nil") << ", want "
                      << (entries[j]->second ? std::to_string(entries[j]->second->size()) + " bytes"
                                             : "nil");
      }
    }
  }
  EXPECT_EQ(wrong, 0u);
}

std::vector<std::string> DaemonArgs(const std::string& data_dir) {
  return {"-p", "0", "--threads", "2", "--data-dir", data_dir, "--snapshot-interval", "0"};
}

std::string Compressible(size_t n, int seed) {
  std::string s;
  while (s.size() < n)
    s += "value " + std::to_string(seed) + " part " + std::to_string(s.size() % 97) + "; ";
  s.resize(n);
  return s;
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// The test data set: `keys` keys written three times each (a checkpoint after the first
// two rounds, so the LMDB file holds freed pages), every 10th deleted, keys with a TTL
// that will have expired by the time the tool runs and keys with a long one, long keys,
// compressible values, a 1 MB value. The last round is left in the log only. Fills
// *model and returns the wall-clock time (ms) after which the short TTLs have expired.
int64_t WriteDataSet(uint16_t port, size_t keys, Model* model) {
  Client c;
  EXPECT_TRUE(c.Connect(port));
  for (int round = 0; round < 3; ++round) {
    std::vector<std::vector<std::string>> commands;
    for (size_t i = 0; i < keys; ++i) {
      const std::string key = "key:" + std::to_string(i);
      std::string value = "round " + std::to_string(round) + " " +
                          RandomBytes(80, static_cast<uint32_t>(i * 3 + round));
      commands.push_back({"SET", key, value});
      (*model)[key] = value;
    }
    if (round == 0) {
      // Keys only the snapshot holds when the log's deltas over them are folded.
      commands.push_back({"SET", "counter", "100"});
      commands.push_back({"SET", "grown", Compressible(4096, 3)});
    }
    Pipeline(c, commands);
    if (round < 2) {
      Pipeline(c, {{"SAVE"}});
    }
  }
  // WAL version 2's deltas, left in the log over the snapshot's values: compaction folds
  // them (the snapshot store reads, changes and rewrites each record).
  Pipeline(c, {{"INCRBY", "counter", "5"},
               {"APPEND", "grown", "+tail"},
               {"SETRANGE", "grown", "0", "X"},
               {"PREPEND", "grown", "<"},
               {"APPEND", "key:1", "!"}});
  (*model)["counter"] = "105";
  std::string grown = Compressible(4096, 3) + "+tail";
  grown[0] = 'X';
  (*model)["grown"] = "<" + grown;
  *(*model)["key:1"] += "!";
  std::vector<std::vector<std::string>> commands;
  for (size_t i = 0; i < keys; i += 10) {
    const std::string key = "key:" + std::to_string(i);
    commands.push_back({"DEL", key});
    (*model)[key] = std::nullopt;
  }
  for (int i = 0; i < 5; ++i) {
    const std::string key =
        std::string(512 + static_cast<size_t>(i) * 300, static_cast<char>('a' + i)) +
        std::to_string(i);
    const std::string value = "long key value " + std::to_string(i);
    commands.push_back({"SET", key, value});
    (*model)[key] = value;
  }
  for (int i = 0; i < 50; ++i) {
    const std::string key = "zipped:" + std::to_string(i);
    const std::string value = Compressible(300 + static_cast<size_t>(i) * 100, i);
    commands.push_back({"SET", key, value});
    (*model)[key] = value;
  }
  const std::string big = Compressible(1 << 20, 7);
  commands.push_back({"SET", "big", big});
  (*model)["big"] = big;
  const std::string big_raw = RandomBytes(1 << 20, 99);
  commands.push_back({"SET", "big-raw", big_raw});
  (*model)["big-raw"] = big_raw;
  for (int i = 0; i < 30; ++i) {
    const std::string key = "ttl-long:" + std::to_string(i);
    commands.push_back({"SET", key, "stays", "EX", "3600"});
    (*model)[key] = "stays";
  }
  for (int i = 0; i < 30; ++i) {
    const std::string key = "ttl-short:" + std::to_string(i);
    commands.push_back({"SET", key, "goes", "PX", "1500"});
    (*model)[key] = std::nullopt;
  }
  Pipeline(c, commands);
  // Every SET ... PX ran before its reply came back: they all expire before now + 1500.
  const auto replied_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  return replied_ms + 1500;
}

void WaitUntilWallMs(int64_t wall_ms) {
  for (;;) {
    const auto now = std::chrono::duration_cast<milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    if (now > wall_ms + 50) return;
    std::this_thread::sleep_for(milliseconds(50));
  }
}

// The numbers on memento-compact's summary line that starts with `label`, in order:
// "total" -> {before, after, percent...}; "keys" -> {keys, expired dropped, folded, LSN}.
std::vector<uint64_t> SummaryNumbers(const std::string& output, const std::string& label) {
  std::vector<uint64_t> out;
  const size_t at = output.find("\n  " + label + " ");
  if (at == std::string::npos) return out;
  const size_t end = output.find('\n', at + 1);
  std::string line = output.substr(at + 1, end - at - 1);
  std::string digits;
  for (size_t i = 0; i <= line.size(); ++i) {
    const char ch = i < line.size() ? line[i] : ' ';
    if (ch >= '0' && ch <= '9') {
      digits += ch;
    } else if (ch == ',' && !digits.empty()) {
      continue;
    } else {
      if (!digits.empty()) out.push_back(std::stoull(digits));
      digits.clear();
    }
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every regular file under `dir` and a hash of its bytes.
std::map<std::string, size_t> FileHashes(const std::string& dir) {
  std::map<std::string, size_t> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      out[e.path().string()] = std::hash<std::string>()(ReadFile(e.path().string()));
    }
  }
  return out;
}

std::string LiveDataFile(const std::string& data_dir) {
  std::string name = ReadFile(data_dir + "/snapshot/CURRENT");
  while (!name.empty() && name.back() == '\n') name.pop_back();
  return data_dir + "/snapshot/" + name + "/data.mdb";
}

// A data directory written by the daemon and left by a kill -9 (the last round in the
// log only), with the model of what it holds once the short TTLs have expired.
class CompactTest : public ::testing::Test {
 protected:
  void MakeDataDir(size_t keys, bool clean_stop = false) {
    dir_ = tmp_.path() + "/data";
    DaemonProcess daemon;
    ASSERT_TRUE(daemon.Start(DaemonArgs(dir_))) << daemon.Log();
    expired_at_ms_ = WriteDataSet(daemon.port(), keys, &model_);
    daemon.Signal(clean_stop ? SIGTERM : SIGKILL);
    ASSERT_TRUE(daemon.Wait().has_value());
    WaitUntilWallMs(expired_at_ms_);
  }

  void ExpectDaemonServesModel(const std::string& dir) {
    DaemonProcess daemon;
    ASSERT_TRUE(daemon.Start(DaemonArgs(dir))) << daemon.Log();
    ExpectServes(daemon.port(), model_);
    daemon.Signal(SIGTERM);
    EXPECT_EQ(daemon.Wait(), 0);
  }

  TempDir tmp_;
  std::string dir_;
  Model model_;
  int64_t expired_at_ms_ = 0;
};

// ---------------------------------------------------------------------------------
// Compaction
// ---------------------------------------------------------------------------------

TEST_F(CompactTest, KeepsEveryKeyDropsExpiredAndShrinks) {
  MakeDataDir(3000);
  ToolRun run = RunCompact({"--data-dir", dir_});
  ASSERT_EQ(run.code, 0) << run.output;
  const std::vector<uint64_t> total = SummaryNumbers(run.output, "total");
  ASSERT_GE(total.size(), 2u) << run.output;
  EXPECT_LT(total[1], total[0]) << run.output;
  // The totals also as people read them, in the unit that fits (3,000 small keys: KB
  // or MB, never "0.0 MB").
  std::smatch human;
  ASSERT_TRUE(std::regex_search(
      run.output, human,
      std::regex("\\((\\d+\\.\\d) ([KMG]B) -> (\\d+\\.\\d) ([KMG]B), \\d+\\.\\d% of before\\)")))
      << run.output;
  // Each within half a tenth of its unit of the exact figure.
  const auto expect_about = [&](const std::string& figure, const std::string& unit,
                                uint64_t exact) {
    const double scale = unit == "KB" ? 1e3 : unit == "MB" ? 1e6 : 1e9;
    EXPECT_NEAR(std::stod(figure) * scale, static_cast<double>(exact), scale / 20 + 1)
        << run.output;
  };
  expect_about(human[1], human[2], total[0]);
  expect_about(human[3], human[4], total[1]);
  EXPECT_EQ(run.output.find("(0.0 "), std::string::npos) << run.output;
  const std::vector<uint64_t> snapshot = SummaryNumbers(run.output, "snapshot");
  ASSERT_EQ(snapshot.size(), 2u) << run.output;
  const std::vector<uint64_t> wal = SummaryNumbers(run.output, "wal");
  ASSERT_GE(wal.size(), 2u) << run.output;
  EXPECT_LE(wal[1], 32u) << "only an empty segment is left: " << run.output;
  // The 30 short TTLs expired after the daemon stopped, so their entries are on disk
  // (unless the daemon's expiry cycle caught some first, on a very slow machine).
  const std::vector<uint64_t> keys = SummaryNumbers(run.output, "keys");
  ASSERT_GE(keys.size(), 2u) << run.output;
  EXPECT_GT(keys[1], 0u) << run.output;
  EXPECT_LE(keys[1], 30u) << run.output;
  // The LMDB file on disk is the compacted one.
  EXPECT_EQ(static_cast<uint64_t>(FileSize(LiveDataFile(dir_))), snapshot[1]);
  EXPECT_EQ(LiveDataFile(dir_), dir_ + "/snapshot/snap-000002/data.mdb");

  ExpectDaemonServesModel(dir_);
  ToolRun check = RunCompact({"--check", "--data-dir", dir_});
  EXPECT_EQ(check.code, 0) << check.output;
}

TEST_F(CompactTest, AfterACleanStopAndTwice) {
  MakeDataDir(1000, /*clean_stop=*/true);
  ToolRun first = RunCompact({"--data-dir", dir_});
  ASSERT_EQ(first.code, 0) << first.output;
  EXPECT_NE(first.output.find(" 0 log records folded"), std::string::npos) << first.output;
  ToolRun second = RunCompact({"--data-dir", dir_});
  ASSERT_EQ(second.code, 0) << second.output;
  EXPECT_NE(second.output.find("(0 expired keys dropped)"), std::string::npos) << second.output;
  ExpectDaemonServesModel(dir_);
}

TEST_F(CompactTest, RefusedWhileTheDaemonRunsNamingItsPid) {
  dir_ = tmp_.path() + "/data";
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start(DaemonArgs(dir_))) << daemon.Log();
  Client c;
  ASSERT_TRUE(c.Connect(daemon.port()));
  Pipeline(c, {{"SET", "a", "1"}});
  ToolRun run = RunCompact({"--data-dir", dir_});
  EXPECT_EQ(run.code, 1) << run.output;
  EXPECT_NE(run.output.find("in use by another memento (pid " + std::to_string(daemon.pid()) + ")"),
            std::string::npos)
      << run.output;
  // --check runs alongside it.
  ToolRun check = RunCompact({"--check", "--data-dir", dir_});
  EXPECT_EQ(check.code, 0) << check.output;
  EXPECT_NE(check.output.find("running memento (pid " + std::to_string(daemon.pid()) + ")"),
            std::string::npos)
      << check.output;
  Pipeline(c, {{"SET", "b", "2"}});
  c.Close();
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(), 0);
}

TEST_F(CompactTest, TheDaemonCannotStartWhileItWorks) {
  MakeDataDir(200);
  // MEMENTO_COMPACT_STOP_AT=recovered: the tool stops itself (SIGSTOP) holding the lock,
  // in the middle of its work.
  std::string daemon_log;
  bool daemon_started = true;
  ToolRun run =
      RunCompact({"--data-dir", dir_}, {"MEMENTO_COMPACT_STOP_AT=recovered"}, [&](pid_t pid) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, WUNTRACED), pid);
        ASSERT_TRUE(WIFSTOPPED(status));
        DaemonProcess daemon;
        daemon_started = daemon.Start(DaemonArgs(dir_));
        daemon_log = daemon.Log();
        ::kill(pid, SIGCONT);
      });
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_FALSE(daemon_started);
  EXPECT_NE(daemon_log.find("is in use by another memento (pid "), std::string::npos) << daemon_log;
  ExpectDaemonServesModel(dir_);
}

// ---------------------------------------------------------------------------------
// Crash safety
// ---------------------------------------------------------------------------------

TEST_F(CompactTest, KilledAtEveryStepTheDaemonServesTheSameData) {
  // More than one fold batch (20,000 records each): 3 rounds of 9,000 keys in the log
  // after the last checkpoint is one round, plus the other writes.
  MakeDataDir(25000);
  const std::string pristine = tmp_.path() + "/pristine";
  ASSERT_TRUE(CopyTree(dir_, pristine));
  for (const char* step : {"locked", "recovered", "fold-batch", "folded", "expired", "copied",
                           "renamed", "published", "compacted"}) {
    SCOPED_TRACE(step);
    const std::string dir = tmp_.path() + "/crash-" + step;
    ASSERT_TRUE(CopyTree(pristine, dir));
    ToolRun run =
        RunCompact({"--data-dir", dir}, {std::string("MEMENTO_COMPACT_CRASH_AT=") + step});
    ASSERT_EQ(run.code, -SIGKILL) << run.output;
    ExpectDaemonServesModel(dir);
    // And a later run finishes the job.
    ToolRun again = RunCompact({"--data-dir", dir});
    ASSERT_EQ(again.code, 0) << again.output;
    ExpectDaemonServesModel(dir);
    std::filesystem::remove_all(dir);
  }
}

TEST_F(CompactTest, KilledAtRandomMomentsTheDaemonServesTheSameData) {
  MakeDataDir(25000);
  const std::string pristine = tmp_.path() + "/pristine";
  ASSERT_TRUE(CopyTree(dir_, pristine));
  // How long an uninterrupted run takes, on a copy.
  const std::string timing = tmp_.path() + "/timing";
  ASSERT_TRUE(CopyTree(pristine, timing));
  const auto t0 = Clock::now();
  ASSERT_EQ(RunCompact({"--data-dir", timing}).code, 0);
  const auto full = std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
  std::filesystem::remove_all(timing);
  std::mt19937 rng(12345);
  for (int round = 0; round < 6; ++round) {
    const milliseconds delay(
        std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(full, 1))(rng));
    SCOPED_TRACE("killed after " + std::to_string(delay.count()) + " ms of ~" +
                 std::to_string(full));
    const std::string dir = tmp_.path() + "/kill-" + std::to_string(round);
    ASSERT_TRUE(CopyTree(pristine, dir));
    ToolRun run = RunCompact({"--data-dir", dir}, {}, [delay](pid_t pid) {
      std::this_thread::sleep_for(delay);
      ::kill(pid, SIGKILL);
    });
    EXPECT_TRUE(run.code == 0 || run.code == -SIGKILL) << run.output;
    ExpectDaemonServesModel(dir);
    std::filesystem::remove_all(dir);
  }
}

// ---------------------------------------------------------------------------------
// A damaged log
// ---------------------------------------------------------------------------------

TEST_F(CompactTest, DamagedLogIsRefusedUnlessTruncate) {
  MakeDataDir(2000);
  const std::string segment = NewestWalSegment(dir_);
  ASSERT_FALSE(segment.empty());
  const std::vector<WalRecordExtent> records = ListWalRecords(segment);
  ASSERT_GT(records.size(), 100u);
  const WalRecordExtent& victim = records[records.size() / 2];
  ASSERT_TRUE(FlipByte(segment, victim.payload_offset()));
  const auto before = FileHashes(dir_ + "/wal");

  ToolRun strict = RunCompact({"--data-dir", dir_});
  EXPECT_EQ(strict.code, 1) << strict.output;
  EXPECT_NE(strict.output.find(segment + " at offset " + std::to_string(victim.offset)),
            std::string::npos)
      << strict.output;
  EXPECT_NE(strict.output.find("--wal-recovery=truncate"), std::string::npos) << strict.output;
  EXPECT_EQ(FileHashes(dir_ + "/wal"), before) << "strict mode changed the log";

  ToolRun truncate = RunCompact({"--data-dir", dir_, "--wal-recovery=truncate"});
  EXPECT_EQ(truncate.code, 0) << truncate.output;
  EXPECT_TRUE(std::filesystem::exists(segment + "." + std::to_string(victim.offset) + ".dropped"));
  // The daemon starts on the result; the records before the damage are there.
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start(DaemonArgs(dir_))) << daemon.Log();
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(), 0);
}

// ---------------------------------------------------------------------------------
// --check
// ---------------------------------------------------------------------------------

TEST_F(CompactTest, CheckCleanDirectoryExitsZeroAndChangesNoByte) {
  MakeDataDir(2000);
  const auto before = FileHashes(dir_);
  ToolRun run = RunCompact({"--check", "--data-dir", dir_});
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_NE(run.output.find("result    clean"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("records, LSN "), std::string::npos) << run.output;
  EXPECT_EQ(FileHashes(dir_), before);
}

TEST_F(CompactTest, BothModesRefuseADirectoryThatIsNotADataDirectory) {
  // An operator's typo (the parent of the data directory, say): --check must not call
  // it clean, and neither mode may create anything in it.
  const std::string other = dir_ + "-not-data";
  ASSERT_TRUE(std::filesystem::create_directory(other));
  for (const char* mode : {"--check", ""}) {
    std::vector<std::string> args = {"--data-dir", other};
    if (*mode != '\0') args.insert(args.begin(), mode);
    ToolRun run = RunCompact(args);
    EXPECT_EQ(run.code, 1) << mode << ": " << run.output;
    EXPECT_NE(run.output.find(other + " is not a memento data directory"), std::string::npos)
        << mode << ": " << run.output;
    EXPECT_TRUE(std::filesystem::is_empty(other)) << mode;
  }
  std::filesystem::remove_all(other);
}

TEST_F(CompactTest, CheckFindsAFlippedByteInTheLogWithFileAndOffset) {
  MakeDataDir(2000);
  const std::string segment = NewestWalSegment(dir_);
  const std::vector<WalRecordExtent> records = ListWalRecords(segment);
  ASSERT_GT(records.size(), 100u);
  const WalRecordExtent& victim = records[records.size() / 2];
  ASSERT_TRUE(FlipByte(segment, victim.payload_offset() + 3));
  const auto before = FileHashes(dir_);
  ToolRun run = RunCompact({"--check", "--data-dir", dir_});
  EXPECT_EQ(run.code, 1) << run.output;
  EXPECT_NE(run.output.find(segment + " at offset " + std::to_string(victim.offset)),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("PROBLEM"), std::string::npos) << run.output;
  EXPECT_EQ(FileHashes(dir_), before);
}

TEST_F(CompactTest, CheckFindsADamagedSnapshotValue) {
  MakeDataDir(1000, /*clean_stop=*/true);
  // The 1 MB compressible value is one zstd frame: flip a byte inside it.
  const std::string data_file = LiveDataFile(dir_);
  const std::string bytes = ReadFile(data_file);
  size_t magic = std::string::npos;
  size_t largest_gap = 0;
  // The frame of "big" is the longest run between two zstd magics (or to the end).
  for (size_t at = bytes.find(std::string("\x28\xb5\x2f\xfd", 4)); at != std::string::npos;) {
    const size_t next = bytes.find(std::string("\x28\xb5\x2f\xfd", 4), at + 4);
    const size_t gap = (next == std::string::npos ? bytes.size() : next) - at;
    if (gap > largest_gap) {
      largest_gap = gap;
      magic = at;
    }
    at = next;
  }
  ASSERT_NE(magic, std::string::npos);
  ASSERT_TRUE(FlipByte(data_file, magic + 20));
  const auto before = FileHashes(dir_);
  ToolRun run = RunCompact({"--check", "--data-dir", dir_});
  EXPECT_EQ(run.code, 1) << run.output;
  EXPECT_NE(run.output.find(data_file + " offset "), std::string::npos) << run.output;
  EXPECT_EQ(FileHashes(dir_), before);
}

// ---------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------

TEST(CompactCommandLineTest, HelpVersionAndUsageErrors) {
  ToolRun help = RunCompact({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.output.find("Usage: memento-compact"), std::string::npos) << help.output;
  ToolRun version = RunCompact({"--version"});
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.output.rfind("memento-compact ", 0), 0u) << version.output;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"--bogus"},
           {"--data-dir"},
           {"--data-dir", "/x", "extra"},
           {"--data-dir", "/x", "--wal-recovery=sometimes"},
           {"--check", "--data-dir", "/x", "--wal-recovery=truncate"},
           {"--check=yes", "--data-dir", "/x"}}) {
    ToolRun run = RunCompact(args);
    EXPECT_EQ(run.code, 2) << run.output;
    EXPECT_NE(run.output.find("--help"), std::string::npos) << run.output;
  }
  TempDir tmp;
  ToolRun missing = RunCompact({"--data-dir", tmp.path() + "/nothing"});
  EXPECT_EQ(missing.code, 1) << missing.output;
  EXPECT_NE(missing.output.find(tmp.path() + "/nothing"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace memento::testing
