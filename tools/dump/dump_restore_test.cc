// End-to-end tests of memento-dump and memento-restore: real daemons on loopback ports,
// the real tool binaries, and what a client of the restored daemon sees.
//
//   RoundTrip*               keys written through a daemon -> dump (daemon running) ->
//                            restore -> a second daemon serves identical data
//   DumpWhileClientsWrite*   20 writers: every dump is a consistent prefix per writer,
//                            and (no checkpoints) exactly the log replayed to its LSN
//   Corrupt/Truncated*       every truncation and many byte flips: exit 1, an offset,
//                            the target untouched
//   Refuses*, Force*, Usage* the target rules and the command line
//
// MEMENTO_BIG_TESTS=1 adds RoundTripOneMillionKeys.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "storage/dump/dump_io.h"
#include "storage/dump/dump_reader.h"
#include "storage/dump/dump_writer.h"
#include "storage/mutation.h"
#include "storage/wal/wal.h"
#include "tests/util/daemon_process.h"

namespace memento::testing {
namespace {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------
// Helpers: running the tools, a binary-safe RESP client
// ---------------------------------------------------------------------------------

struct ToolRun {
  int code = -1;
  std::string output;  // stdout + stderr
};

// Runs build/bin/<tool> with args to completion.
ToolRun RunTool(const std::string& tool, const std::vector<std::string>& args) {
  ToolRun run;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return run;
  std::vector<std::string> all = {BinaryPath(tool)};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) > 0) run.output.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return run;
}

std::string Resp(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

// One RESP reply: a bulk string (nullopt for nil), an integer or status as text, or the
// elements of an array of bulk strings.
struct Reply {
  char type = 0;
  std::optional<std::string> str;
  std::vector<std::string> array;
};

Reply ReadReply(Client* c) {
  Reply r;
  auto line = c->ReadLine(30s);
  if (!line || line->empty()) return r;
  r.type = (*line)[0];
  const std::string rest = line->substr(1);
  if (r.type == '$') {
    const long len = std::stol(rest);
    if (len < 0) return r;
    auto bytes = c->ReadBytes(static_cast<size_t>(len) + 2, 30s);
    if (bytes) r.str = bytes->substr(0, static_cast<size_t>(len));
  } else if (r.type == '*') {
    const long n = std::stol(rest);
    for (long i = 0; i < n; ++i) {
      Reply e = ReadReply(c);
      r.array.push_back(e.str.value_or(""));
    }
  } else {
    r.str = rest;
  }
  return r;
}

struct Entry {
  std::string value;
  int64_t expire_ms;  // absolute; -1 none
  bool operator==(const Entry&) const = default;
};
using Data = std::map<std::string, Entry>;

// Writes `data` through the daemon: SET, and PEXPIREAT for entries with an expiry.
// Pipelined in batches.
void WriteAll(uint16_t port, const Data& data) {
  Client c;
  ASSERT_TRUE(c.Connect(port));
  std::string batch;
  size_t pending = 0;
  auto flush = [&] {
    ASSERT_TRUE(c.Send(batch));
    for (size_t i = 0; i < pending; ++i) {
      Reply r = ReadReply(&c);
      ASSERT_TRUE(r.type == '+' || r.type == ':')
          << "reply " << r.type << " " << r.str.value_or("");
    }
    batch.clear();
    pending = 0;
  };
  for (const auto& [k, e] : data) {
    batch += Resp({"SET", k, e.value});
    ++pending;
    if (e.expire_ms != -1) {
      batch += Resp({"PEXPIREAT", k, std::to_string(e.expire_ms)});
      ++pending;
    }
    if (pending >= 500 || batch.size() > (4u << 20)) flush();
  }
  if (pending > 0) flush();
}

// Everything the daemon serves: KEYS *, then GET and PEXPIRETIME of each (pipelined).
Data ReadAll(uint16_t port) {
  Data out;
  Client c;
  EXPECT_TRUE(c.Connect(port));
  EXPECT_TRUE(c.Send(Resp({"KEYS", "*"})));
  const std::vector<std::string> keys = ReadReply(&c).array;
  for (size_t i = 0; i < keys.size(); i += 500) {
    const size_t end = std::min(keys.size(), i + 500);
    std::string batch;
    for (size_t j = i; j < end; ++j) {
      batch += Resp({"GET", keys[j]});
      batch += Resp({"PEXPIRETIME", keys[j]});
    }
    EXPECT_TRUE(c.Send(batch));
    for (size_t j = i; j < end; ++j) {
      Reply v = ReadReply(&c);
      Reply t = ReadReply(&c);
      EXPECT_TRUE(v.str.has_value()) << "GET of a listed key returned nil";
      out[keys[j]] = Entry{v.str.value_or(""), std::stoll(t.str.value_or("-99"))};
    }
  }
  return out;
}

// Every live entry of a dump file, read with the library.
Data ReadDumpFile(const std::string& path, dump::DumpHeader* header = nullptr) {
  Data out;
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  dump::StringSource source(bytes);
  auto r = dump::DumpReader::Open(&source, path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return out;
  if (header != nullptr) *header = (*r)->header();
  dump::DumpRecord rec;
  while (true) {
    Result<bool> more = (*r)->Next(&rec);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    EXPECT_TRUE(
        out.emplace(std::string(rec.key), Entry{std::string(rec.value), rec.expire_ms}).second)
        << "key twice in the dump";
  }
  return out;
}

std::string Describe(const Data& want, const Data& got) {
  std::string out =
      "want " + std::to_string(want.size()) + " keys, got " + std::to_string(got.size());
  int shown = 0;
  for (const auto& [k, e] : want) {
    auto it = got.find(k);
    if (it == got.end() || !(it->second == e)) {
      out +=
          "\n  differs: key of " + std::to_string(k.size()) + " bytes \"" + k.substr(0, 40) + "\"";
      if (it == got.end()) {
        out += " missing";
      } else {
        out += " value sizes " + std::to_string(e.value.size()) + "/" +
               std::to_string(it->second.value.size()) + " expiry " + std::to_string(e.expire_ms) +
               "/" + std::to_string(it->second.expire_ms);
      }
      if (++shown == 5) break;
    }
  }
  for (const auto& [k, e] : got) {
    if (!want.contains(k) && shown++ < 10) out += "\n  extra: \"" + k.substr(0, 40) + "\"";
  }
  return out;
}

bool BigTests() {
  const char* v = getenv("MEMENTO_BIG_TESTS");
  return v != nullptr && std::string(v) == "1";
}

// Mixed data: empty key, long keys, binary bytes (\0, \r\n) in keys and values, values
// from 0 bytes to 1 MiB, absolute expiries an hour or more ahead.
Data MixedData(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  Data data;
  const int64_t now = NowMillis();
  data[""] = Entry{"the empty key", -1};
  data[std::string("bin\0key\r\n", 9)] = Entry{std::string("v\0\r\n\0", 5), -1};
  data[std::string(600, 'L')] = Entry{"long key", now + 7200000};
  data[std::string(5000, 'M') + "x"] = Entry{std::string(1, '\0'), -1};
  data["empty-value"] = Entry{"", -1};
  for (int i = 0; i < 3; ++i) {
    std::string big(1u << 20, '\0');
    for (char& ch : big) ch = static_cast<char>(rng());
    data["big" + std::to_string(i)] = Entry{std::move(big), i == 1 ? now + 3600000 : -1};
  }
  while (data.size() < n) {
    std::string key = "k" + std::to_string(data.size());
    if (data.size() % 97 == 0) key += std::string("\0\r\n", 3);
    size_t len = rng() % 200;
    if (data.size() % 1000 == 0) len = 1000 + rng() % 100000;
    std::string value(len, '\0');
    for (char& ch : value) ch = static_cast<char>(rng() % 3 == 0 ? '\n' : rng());
    const int64_t expire =
        rng() % 4 == 0 ? now + 3600000 + static_cast<int64_t>(rng() % 1000000) : -1;
    data[key] = Entry{std::move(value), expire};
  }
  return data;
}

class DumpRestoreTest : public ::testing::Test {
 protected:
  std::string Dir(const std::string& name) { return tmp_.path() + "/" + name; }

  // Starts a daemon on `dir` with extra TOML settings (may be empty).
  void Start(DaemonProcess* d, const std::string& dir, const std::string& toml = "") {
    std::vector<std::string> args = {"-p", "0", "--data-dir", dir};
    if (!toml.empty()) {
      const std::string conf = dir + ".toml";
      std::ofstream(conf) << "[storage]\n" << toml;
      args.insert(args.begin(), {"-f", conf});
    }
    ASSERT_TRUE(d->Start(args)) << d->Log();
  }
  static void Stop(DaemonProcess* d) {
    d->Signal(SIGTERM);
    EXPECT_EQ(d->Wait(30s), 0) << d->Log();
  }

  // dump -> restore -> a daemon on the restored directory -> what it serves.
  Data DumpRestoreServe(const std::string& source_dir, const std::string& name,
                        std::vector<std::string> dump_flags = {}) {
    const std::string file = Dir(name + ".mdump");
    std::vector<std::string> args = {"--data-dir", source_dir, "-o", file};
    args.insert(args.end(), dump_flags.begin(), dump_flags.end());
    ToolRun dumped = RunTool("memento-dump", args);
    EXPECT_EQ(dumped.code, 0) << dumped.output;
    ToolRun restored = RunTool("memento-restore", {"-i", file, "--data-dir", Dir(name)});
    EXPECT_EQ(restored.code, 0) << restored.output;
    DaemonProcess d;
    Start(&d, Dir(name));
    Data served = ReadAll(d.port());
    Stop(&d);
    return served;
  }

  TempDir tmp_;
};

// ---------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------

TEST_F(DumpRestoreTest, RoundTripMixedKeysWhileTheDaemonRuns) {
  const Data data = MixedData(20000, 1);
  DaemonProcess source;
  Start(&source, Dir("src"));
  WriteAll(source.port(), data);
  // Keys that expire before the dump: not dumped.
  {
    Client c;
    ASSERT_TRUE(c.Connect(source.port()));
    ASSERT_TRUE(c.Send(Resp({"SET", "short-lived", "x", "PX", "1"})));
    ASSERT_EQ(ReadReply(&c).type, '+');
  }
  std::this_thread::sleep_for(20ms);
  ASSERT_EQ(ReadAll(source.port()), data);  // what the daemon serves is the model
  // The daemon keeps running (half the data still only in the log: no checkpoint yet).
  const Data served = DumpRestoreServe(Dir("src"), "restored");
  EXPECT_TRUE(served == data) << Describe(data, served);
  // After a checkpoint (SAVE) the data is in the snapshot: same result.
  {
    Client c;
    ASSERT_TRUE(c.Connect(source.port()));
    ASSERT_TRUE(c.Send(Resp({"SAVE"})));
    ASSERT_EQ(ReadReply(&c).type, '+');
  }
  const Data served2 = DumpRestoreServe(Dir("src"), "restored2");
  EXPECT_TRUE(served2 == data) << Describe(data, served2);
  Stop(&source);
  // And from the stopped daemon's directory.
  const Data served3 = DumpRestoreServe(Dir("src"), "restored3");
  EXPECT_TRUE(served3 == data) << Describe(data, served3);
}

TEST_F(DumpRestoreTest, RoundTripOneMillionKeys) {
  if (!BigTests()) GTEST_SKIP() << "set MEMENTO_BIG_TESTS=1";
  Data data;
  std::mt19937_64 rng(7);
  const int64_t now = NowMillis();
  for (int i = 0; i < 1000000; ++i) {
    std::string value(100, '\0');
    for (char& ch : value) ch = static_cast<char>(rng());
    data["key:" + std::to_string(i)] = Entry{std::move(value), i % 10 == 0 ? now + 86400000 : -1};
  }
  DaemonProcess source;
  Start(&source, Dir("src"));
  WriteAll(source.port(), data);
  const Data served = DumpRestoreServe(Dir("src"), "restored");
  EXPECT_TRUE(served == data) << Describe(data, served);
  Stop(&source);
}

TEST_F(DumpRestoreTest, PrefixDumpsASubsetAndJsonlIsReadable) {
  Data data;
  data["user:1"] = Entry{"a", -1};
  data["user:2"] = Entry{std::string("b\0\"\\\xff", 5), -1};
  data["order:1"] = Entry{"c", -1};
  DaemonProcess source;
  Start(&source, Dir("src"));
  WriteAll(source.port(), data);
  const Data served = DumpRestoreServe(Dir("src"), "users", {"--prefix", "user:"});
  EXPECT_EQ(served.size(), 2u);
  EXPECT_EQ(served.at("user:2").value, std::string("b\0\"\\\xff", 5));

  const std::string jsonl = Dir("users.jsonl");
  ToolRun r = RunTool("memento-dump", {"--data-dir", Dir("src"), "-o", jsonl, "--format", "jsonl",
                                       "--prefix", "user:2"});
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream in(jsonl);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line.substr(0, 50),
            "{\"key\":\"user:2\",\"value\":\"b\\u0000\\\"\\\\\\u00ff\",\"creat");
  EXPECT_FALSE(std::getline(in, line));
  Stop(&source);
}

TEST_F(DumpRestoreTest, SummariesPrintSmallSizesInBytesAndKilobytes) {
  // Sizes below 1 MB were once printed "(0.0 MB)".
  DaemonProcess source;
  Start(&source, Dir("src"));
  WriteAll(source.port(), Data{{"k", Entry{"v", -1}}});
  const std::string file = Dir("small.mdump");
  ToolRun r = RunTool("memento-dump", {"--data-dir", Dir("src"), "-o", file});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find(": 1 keys (2 B of keys and values) consistent at LSN "),
            std::string::npos)
      << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex(" written to .* \\((\\d+) B\\) in ")))
      << r.output;
  EXPECT_EQ(std::stoull(m[1]), std::filesystem::file_size(file)) << r.output;
  ToolRun check = RunTool("memento-restore", {"-i", file, "--check"});
  ASSERT_EQ(check.code, 0) << check.output;
  EXPECT_NE(check.output.find("1 keys (0 already expired), 2 B of keys and values"),
            std::string::npos)
      << check.output;

  WriteAll(source.port(), Data{{"k", Entry{std::string(1499, 'x'), -1}}});
  r = RunTool("memento-dump", {"--data-dir", Dir("src"), "-o", file});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find(": 1 keys (1.5 KB of keys and values)"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("0.0 MB"), std::string::npos) << r.output;
  Stop(&source);
}

// ---------------------------------------------------------------------------------
// Consistency while clients write
// ---------------------------------------------------------------------------------

constexpr int kWriters = 20;

// Each writer c: SET k<c>-<n> <n>, then SET last<c> <n>, n = 0, 1, 2... on its own
// connection, each reply awaited. Stops when *stop is set.
class Writers {
 public:
  explicit Writers(uint16_t port) {
    for (int c = 0; c < kWriters; ++c) {
      threads_.emplace_back([this, port, c] {
        Client client;
        if (!client.Connect(port)) return;
        for (int64_t n = 0; !stop_.load(); ++n) {
          const std::string v = std::to_string(n);
          if (!client.Send(Resp({"SET", "k" + std::to_string(c) + "-" + v, v}) +
                           Resp({"SET", "last" + std::to_string(c), v}))) {
            return;
          }
          if (ReadReply(&client).type != '+' || ReadReply(&client).type != '+') return;
          written_.fetch_add(1);
        }
      });
    }
  }
  ~Writers() { StopAll(); }
  void StopAll() {
    stop_.store(true);
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  int64_t written() const { return written_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> written_{0};
  std::vector<std::thread> threads_;
};

// What a point-in-time state of the Writers must look like: per writer, keys
// k<c>-0..k<c>-(m-1) and nothing else, and last<c> = m-1 or m-2 (it is written after
// k<c>-(m-1)). Returns the number of writer keys.
size_t CheckWriterPrefixes(const Data& d) {
  size_t total = 0;
  for (int c = 0; c < kWriters; ++c) {
    const std::string prefix = "k" + std::to_string(c) + "-";
    int64_t m = 0;
    while (d.contains(prefix + std::to_string(m))) ++m;
    size_t count = 0;
    for (auto it = d.lower_bound(prefix); it != d.end() && it->first.starts_with(prefix); ++it) {
      ++count;
    }
    EXPECT_EQ(count, static_cast<size_t>(m)) << "writer " << c << ": keys beyond a gap";
    auto last = d.find("last" + std::to_string(c));
    if (m <= 1) {
      EXPECT_TRUE(last == d.end() || last->second.value == "0") << "writer " << c;
    } else {
      EXPECT_NE(last, d.end()) << "writer " << c;
      if (last == d.end()) continue;
      const int64_t l = std::stoll(last->second.value);
      EXPECT_TRUE(l == m - 1 || l == m - 2)
          << "writer " << c << ": last " << l << ", keys 0.." << m - 1;
    }
    total += count;
  }
  return total;
}

// Checkpoints every 2,000 writes and 64 KiB log segments, no log retention: the
// checkpointer folds the log into the snapshot and deletes segments while the dumps
// read.
TEST_F(DumpRestoreTest, DumpWhileClientsWriteIsAConsistentPrefix) {
  DaemonProcess source;
  Start(&source, Dir("src"),
        "snapshot_after_writes = 2000\nwal_segment_bytes = 65536\nsnapshot_interval_s = 1\n"
        "wal_retention_mb = 0\n");
  Writers writers(source.port());
  std::vector<std::string> files;
  uint64_t previous_lsn = 0;
  size_t previous_keys = 0;
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(300ms);
    const std::string file = Dir("live" + std::to_string(i) + ".mdump");
    ToolRun r = RunTool("memento-dump", {"--data-dir", Dir("src"), "-o", file});
    ASSERT_EQ(r.code, 0) << r.output;
    std::fprintf(stderr, "%s", r.output.c_str());
    dump::DumpHeader header;
    const Data d = ReadDumpFile(file, &header);
    const size_t keys = CheckWriterPrefixes(d);
    EXPECT_GE(header.data_lsn, previous_lsn);
    EXPECT_GE(keys, previous_keys);
    previous_lsn = header.data_lsn;
    previous_keys = keys;
    files.push_back(file);
  }
  writers.StopAll();
  EXPECT_GT(previous_keys, 1000u) << "the writers wrote too little to test anything";
  // The checkpointer did run and delete log segments while the dumps read.
  EXPECT_NE(source.Log().find("checkpoint: log records"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(Dir("src") + "/wal/00000001.wal"));
  // The last dump restored serves the same prefix-consistent data.
  ToolRun r = RunTool("memento-restore", {"-i", files.back(), "--data-dir", Dir("restored")});
  ASSERT_EQ(r.code, 0) << r.output;
  DaemonProcess restored;
  Start(&restored, Dir("restored"));
  const Data served = ReadAll(restored.port());
  EXPECT_TRUE(served == ReadDumpFile(files.back())) << "restored data differs from the dump";
  Stop(&restored);
  Stop(&source);
}

// No checkpoints: the log holds every write from LSN 1, so the state at the dump's LSN
// can be computed independently by replaying the log up to it, and must equal the dump.
TEST_F(DumpRestoreTest, DumpWhileClientsWriteEqualsTheLogReplayedToItsLsn) {
  DaemonProcess source;
  Start(&source, Dir("src"), "snapshot_after_writes = 0\nsnapshot_interval_s = 0\n");
  Writers writers(source.port());
  std::this_thread::sleep_for(500ms);
  const std::string file = Dir("live.mdump");
  ToolRun r = RunTool("memento-dump", {"--data-dir", Dir("src"), "-o", file});
  ASSERT_EQ(r.code, 0) << r.output;
  std::this_thread::sleep_for(200ms);  // more writes after the dump
  writers.StopAll();
  // SIGKILL: no final checkpoint, the log stays as it is.
  source.Signal(SIGKILL);
  source.Wait(10s);

  dump::DumpHeader header;
  const Data dumped = ReadDumpFile(file, &header);
  Data replayed;
  uint64_t max_lsn = 0;
  wal::Options o;
  o.dir = wal::WalDirectory(Dir("src"));
  o.read_only = true;
  auto log = wal::Wal::Open(o, 0, [&](uint64_t lsn, const storage::Mutation& m) {
    max_lsn = lsn;
    if (lsn > header.data_lsn) return Status::OK();
    EXPECT_EQ(m.type, storage::MutationType::kPut);
    replayed[std::string(m.key)] = Entry{std::string(m.value), m.expire_ms};
    return Status::OK();
  });
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_GT(max_lsn, header.data_lsn) << "no write after the dump: the test proves less";
  EXPECT_GT(header.data_lsn, 1000u);
  EXPECT_TRUE(dumped == replayed) << Describe(replayed, dumped);
  CheckWriterPrefixes(dumped);
}

// ---------------------------------------------------------------------------------
// Damaged dumps, target rules, command line
// ---------------------------------------------------------------------------------

// A small valid dump file made with the library.
std::string SmallDump() {
  dump::StringSink sink;
  dump::DumpHeader h;
  h.node = "test";
  h.created_ms = NowMillis();
  h.data_lsn = 9;
  h.key_count = 3;
  auto w = dump::DumpWriter::Create(&sink, h);
  EXPECT_TRUE(w.ok());
  EXPECT_TRUE((*w)->Add("a", "1", 1, -1).ok());
  EXPECT_TRUE((*w)->Add("b", std::string(300, 'b'), 1, -1).ok());
  EXPECT_TRUE((*w)->Add("", std::string("\0\r\n", 3), 1, -1).ok());
  EXPECT_TRUE((*w)->Finish().ok());
  return sink.contents();
}

void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The target holds a marker; after a refused restore it must be exactly as before and
// no temporary directory may be left beside it.
class TargetGuard {
 public:
  explicit TargetGuard(std::string dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_ + "/snapshot");
    WriteFile(dir_ + "/marker", "keep me");
  }
  void ExpectUntouched() const {
    std::ifstream in(dir_ + "/marker");
    std::string s;
    std::getline(in, s);
    EXPECT_EQ(s, "keep me");
    size_t entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      (void)e;
      ++entries;
    }
    EXPECT_EQ(entries, 2u);
    const std::string parent = std::filesystem::path(dir_).parent_path().string();
    for (const auto& e : std::filesystem::directory_iterator(parent)) {
      EXPECT_EQ(e.path().filename().string().find(".restore-"), std::string::npos)
          << "left behind: " << e.path();
    }
  }

 private:
  std::string dir_;
};

TEST_F(DumpRestoreTest, TruncatedDumpsAreRefusedAtEveryLength) {
  const std::string good = SmallDump();
  const TargetGuard target(Dir("target"));
  const std::string file = Dir("cut.mdump");
  for (size_t cut = 0; cut < good.size(); ++cut) {
    WriteFile(file, std::string_view(good).substr(0, cut));
    ToolRun r = RunTool("memento-restore", {"-i", file, "--data-dir", Dir("target"), "--force"});
    ASSERT_EQ(r.code, 1) << "cut at " << cut << ": " << r.output;
    ASSERT_NE(r.output.find("byte offset"), std::string::npos) << r.output;
  }
  target.ExpectUntouched();
  // The whole file restores (the guard's contents are replaced with --force).
  WriteFile(file, good);
  ToolRun r = RunTool("memento-restore", {"-i", file, "--data-dir", Dir("target"), "--force"});
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST_F(DumpRestoreTest, CorruptedDumpsAreRefusedAtEveryByte) {
  const std::string good = SmallDump();
  const TargetGuard target(Dir("target"));
  const std::string file = Dir("flip.mdump");
  for (size_t at = 0; at < good.size(); ++at) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ (1 << (at % 8)));
    WriteFile(file, bad);
    ToolRun r = RunTool("memento-restore", {"-i", file, "--data-dir", Dir("target"), "--force"});
    ASSERT_EQ(r.code, 1) << "flip at " << at << ": " << r.output;
    // A flipped version field is reported as a version (after its crc fails, as damage).
    ASSERT_TRUE(r.output.find("byte offset") != std::string::npos ||
                r.output.find("format version") != std::string::npos)
        << r.output;
  }
  target.ExpectUntouched();
  ToolRun garbage_tail;
  WriteFile(file, good + "extra");
  garbage_tail = RunTool("memento-restore", {"-i", file, "--data-dir", Dir("target"), "--force"});
  EXPECT_EQ(garbage_tail.code, 1);
  EXPECT_NE(garbage_tail.output.find("after the end"), std::string::npos) << garbage_tail.output;
  target.ExpectUntouched();
}

TEST_F(DumpRestoreTest, RefusesANonEmptyTargetWithoutForce) {
  const std::string file = Dir("small.mdump");
  WriteFile(file, SmallDump());
  const TargetGuard target(Dir("target"));
  ToolRun r = RunTool("memento-restore", {"-i", file, "--data-dir", Dir("target")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("not empty"), std::string::npos) << r.output;
  target.ExpectUntouched();
  // --force replaces it; the restored directory serves the dump.
  r = RunTool("memento-restore", {"-i", file, "--data-dir", Dir("target"), "--force"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_FALSE(std::filesystem::exists(Dir("target") + "/marker"));
  DaemonProcess d;
  Start(&d, Dir("target"));
  const Data served = ReadAll(d.port());
  EXPECT_EQ(served.size(), 3u);
  EXPECT_EQ(served.at("").value, std::string("\0\r\n", 3));
  Stop(&d);
  // An empty existing directory needs no --force.
  std::filesystem::create_directories(Dir("empty"));
  r = RunTool("memento-restore", {"-i", file, "--data-dir", Dir("empty")});
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST_F(DumpRestoreTest, RefusesTheDirectoryOfARunningDaemonEvenWithForce) {
  const std::string file = Dir("small.mdump");
  WriteFile(file, SmallDump());
  DaemonProcess d;
  Start(&d, Dir("live"));
  WriteAll(d.port(), Data{{"mine", Entry{"still here", -1}}});
  ToolRun r = RunTool("memento-restore", {"-i", file, "--data-dir", Dir("live"), "--force"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("in use by a running memento (pid " + std::to_string(d.pid())),
            std::string::npos)
      << r.output;
  EXPECT_EQ(ReadAll(d.port()).at("mine").value, "still here");
  Stop(&d);
}

TEST_F(DumpRestoreTest, RestoredExpiriesAreAbsoluteAndExpiredKeysAreDropped) {
  dump::StringSink sink;
  dump::DumpHeader h;
  h.key_count = 3;
  auto w = dump::DumpWriter::Create(&sink, h);
  ASSERT_TRUE(w.ok());
  const int64_t later = NowMillis() + 3600000;
  ASSERT_TRUE((*w)->Add("past", "x", 1, NowMillis() - 1000).ok());
  ASSERT_TRUE((*w)->Add("future", "y", 1, later).ok());
  ASSERT_TRUE((*w)->Add("forever", "z", 1, -1).ok());
  ASSERT_TRUE((*w)->Finish().ok());
  WriteFile(Dir("ttl.mdump"), sink.contents());
  ToolRun r = RunTool("memento-restore", {"-i", Dir("ttl.mdump"), "--data-dir", Dir("t")});
  ASSERT_EQ(r.code, 0) << r.output;
  DaemonProcess d;
  Start(&d, Dir("t"));
  EXPECT_EQ(ReadAll(d.port()), (Data{{"future", {"y", later}}, {"forever", {"z", -1}}}));
  Stop(&d);
}

TEST_F(DumpRestoreTest, CommandLine) {
  for (const char* tool : {"memento-dump", "memento-restore"}) {
    ToolRun r = RunTool(tool, {"--help"});
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.output.find("Usage: "), std::string::npos);
    r = RunTool(tool, {"--version"});
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.output.rfind(std::string(tool) + " ", 0), 0u) << r.output;
    r = RunTool(tool, {"--bogus"});
    EXPECT_EQ(r.code, 2) << r.output;
    r = RunTool(tool, {});
    EXPECT_EQ(r.code, 2) << r.output;
  }
  ToolRun r = RunTool("memento-dump", {"-h", "127.0.0.1", "-p", "6737", "-o", Dir("x")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("not supported yet"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--data-dir"), std::string::npos) << r.output;
  r = RunTool("memento-dump", {"--data-dir", Dir("nothing-here"), "-o", Dir("x")});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_FALSE(std::filesystem::exists(Dir("x")));
  r = RunTool("memento-restore", {"-i", Dir("no-such-file"), "--data-dir", Dir("y")});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_FALSE(std::filesystem::exists(Dir("y")));
}

}  // namespace
}  // namespace memento::testing
