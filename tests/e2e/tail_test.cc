// End-to-end tests of TAIL (docs/protocol.md, "TAIL"): the real `memento`, real
// sockets. The feed a user reads: its RESP and text shapes, feed mode, "too old"
// after the retention dropped a change, and resuming with the last LSN seen across a
// kill -9 while 50 clients write: every acknowledged write seen exactly once, in
// order.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/numbers.h"
#include "tests/util/daemon_process.h"

namespace memento::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<std::string> Args(const std::string& data_dir,
                              const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"-p",         "0",      "--threads",           "2",
                                   "--data-dir", data_dir, "--snapshot-interval", "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string Resp(const std::vector<std::string>& argv) {
  std::string out = "*" + std::to_string(argv.size()) + "\r\n";
  for (const std::string& a : argv) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

// Reads exactly the bytes of `want` (or what comes within the time-out).
std::string ReadExactly(Client& c, const std::string& want) {
  return c.ReadBytes(want.size(), seconds(5)).value_or("<timed out>");
}

// A value of INFO persistence, over the text protocol.
uint64_t InfoField(uint16_t port, const std::string& field) {
  Client c;
  if (!c.Connect(port)) return 0;
  std::optional<std::vector<std::string>> info = c.CallBlock("INFO persistence");
  if (!info) return 0;
  for (const std::string& line : *info) {
    if (line.rfind(field + ":", 0) == 0) {
      int64_t v = 0;
      if (ParseInt64(std::string_view(line).substr(field.size() + 1), &v)) {
        return static_cast<uint64_t>(v);
      }
    }
  }
  return 0;
}

TEST(TailTest, RespFeedShapeAndFeedMode) {
  TempDir dir;
  DaemonProcess d;
  ASSERT_TRUE(d.Start(Args(dir.path(), {"--fsync", "always"}))) << d.Log();
  Client w;
  ASSERT_TRUE(w.Connect(d.port()));
  ASSERT_EQ(w.Call("SET user:1 alice"), "OK");
  ASSERT_EQ(w.Call("SET other x"), "OK");
  ASSERT_NE(w.Call("DEL user:1"), "");

  Client t;
  ASSERT_TRUE(t.Connect(d.port()));
  ASSERT_TRUE(t.Send(Resp({"TAIL", "user:*", "0"})));
  const std::string head = "*3\r\n$4\r\ntail\r\n$6\r\nuser:*\r\n:0\r\n";
  EXPECT_EQ(ReadExactly(t, head), head);
  const std::string first =
      "*5\r\n$6\r\nchange\r\n:1\r\n$3\r\nset\r\n$6\r\nuser:1\r\n$5\r\nalice\r\n"
      "*5\r\n$6\r\nchange\r\n:3\r\n$3\r\ndel\r\n$6\r\nuser:1\r\n$-1\r\n";
  EXPECT_EQ(ReadExactly(t, first), first);
  // Feed mode: as Redis after SUBSCRIBE, only PING and QUIT.
  ASSERT_TRUE(t.Send(Resp({"GET", "other"}) + Resp({"PING"})));
  const std::string refused =
      "-ERR Can't execute 'get': only PING / QUIT are allowed in this context\r\n"
      "*2\r\n$4\r\npong\r\n$0\r\n\r\n";
  EXPECT_EQ(ReadExactly(t, refused), refused);
  // Live changes follow; a flush reaches every pattern, with an empty key.
  ASSERT_EQ(w.Call("SET user:2 bob"), "OK");
  ASSERT_EQ(w.Call("FLUSH"), "OK");
  const std::string live =
      "*5\r\n$6\r\nchange\r\n:4\r\n$3\r\nset\r\n$6\r\nuser:2\r\n$3\r\nbob\r\n"
      "*5\r\n$6\r\nchange\r\n:5\r\n$5\r\nflush\r\n$0\r\n\r\n$-1\r\n";
  EXPECT_EQ(ReadExactly(t, live), live);
  ASSERT_TRUE(t.Send(Resp({"QUIT"})));
  EXPECT_EQ(ReadExactly(t, "+OK\r\n"), "+OK\r\n");

  // The text protocol: a block, then a line per change.
  Client x;
  ASSERT_TRUE(x.Connect(d.port()));
  std::optional<std::vector<std::string>> block = x.CallBlock("TAIL * 2");
  ASSERT_TRUE(block.has_value());
  EXPECT_EQ(*block, (std::vector<std::string>{"tail", "*", "2"}));
  EXPECT_EQ(x.ReadLine(), "3 del user:1");
  EXPECT_EQ(x.ReadLine(), "4 set user:2 bob");
  EXPECT_EQ(x.ReadLine(), "5 flush");

  // Errors: not a number, past the end.
  Client e;
  ASSERT_TRUE(e.Connect(d.port()));
  EXPECT_EQ(e.Call("TAIL * x"),
            "(error) ERR TAIL from-lsn 'x' is not a log sequence number (0 or more)");
  EXPECT_EQ(e.Call("TAIL * 99"), "(error) ERR TAIL from-lsn 99 is past the last change 5");
  EXPECT_EQ(InfoField(d.port(), "wal_last_lsn"), 5u);
  EXPECT_EQ(InfoField(d.port(), "wal_oldest_lsn"), 1u);
}

TEST(TailTest, AnExpiryIsPushedAsExpired) {
  TempDir dir;
  DaemonProcess d;
  ASSERT_TRUE(d.Start(Args(dir.path(), {"--fsync", "always"}))) << d.Log();
  Client t;
  ASSERT_TRUE(t.Connect(d.port()));
  ASSERT_TRUE(t.CallBlock("TAIL s:* 0").has_value());
  Client w;
  ASSERT_TRUE(w.Connect(d.port()));
  ASSERT_TRUE(w.Send(Resp({"SET", "s:1", "v", "PX", "50"})));
  EXPECT_EQ(ReadExactly(w, "+OK\r\n"), "+OK\r\n");
  EXPECT_EQ(t.ReadLine(), "1 set s:1 v");
  // Nobody reads it: the background reclaim removes it (about every 100 ms).
  EXPECT_EQ(t.ReadLine(seconds(5)), "2 expired s:1");
}

TEST(TailTest, TooOldAfterTheRetentionDroppedIt) {
  TempDir dir;
  const std::string config = dir.path() + "/memento.toml";
  {
    std::ofstream out(config);
    out << "[storage]\nwal_retention_mb = 0\nwal_segment_bytes = 65536\n";
  }
  DaemonProcess d;
  ASSERT_TRUE(d.Start(Args(dir.path() + "/data", {"-f", config}))) << d.Log();
  Client w;
  ASSERT_TRUE(w.Connect(d.port()));
  std::string requests;
  for (int i = 0; i < 3000; ++i) requests += "SET key" + std::to_string(i) + " value\r\n";
  ASSERT_TRUE(w.Send(requests));
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(w.ReadLine(), "OK");
  ASSERT_EQ(w.Call("SAVE"), "OK");  // covers every segment: all but the current go
  const uint64_t oldest = InfoField(d.port(), "wal_oldest_lsn");
  ASSERT_GT(oldest, 2u);
  Client t;
  ASSERT_TRUE(t.Connect(d.port()));
  ASSERT_TRUE(t.Send(Resp({"TAIL", "*", "1"})));
  const std::string error = "-ERR TAIL from-lsn 1 is older than the oldest retained change " +
                            std::to_string(oldest) + "\r\n";
  EXPECT_EQ(ReadExactly(t, error), error);
  // The oldest retained change itself can still be had (a text connection: the
  // one above speaks RESP from its first request on).
  Client x;
  ASSERT_TRUE(x.Connect(d.port()));
  std::optional<std::vector<std::string>> block =
      x.CallBlock("TAIL * " + std::to_string(oldest - 1));
  ASSERT_TRUE(block.has_value());
  std::optional<std::string> line = x.ReadLine();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->substr(0, std::to_string(oldest).size() + 1), std::to_string(oldest) + " ");
}

TEST(TailTest, ASlowReaderIsPacedNotDisconnected) {
  // 24 MiB of changes against a 4 MiB output limit: without pacing the feed would
  // push them all into the connection's buffer and the limit would close it.
  TempDir dir;
  DaemonProcess d;
  ASSERT_TRUE(d.Start(Args(dir.path(), {"--fsync", "no", "--max-output-buffer", "4194304"})))
      << d.Log();
  Client t;
  ASSERT_TRUE(t.Connect(d.port()));
  ASSERT_TRUE(t.CallBlock("TAIL big:* 0").has_value());
  Client w;
  ASSERT_TRUE(w.Connect(d.port()));
  const std::string value(32 * 1024, 'x');  // under the 64 KiB line limit
  constexpr int kWrites = 768;
  for (int i = 0; i < kWrites; i += 16) {
    std::string requests;
    for (int j = i; j < i + 16; ++j) requests += "SET big:" + std::to_string(j) + " " + value + "\r\n";
    ASSERT_TRUE(w.Send(requests));
    for (int j = i; j < i + 16; ++j) ASSERT_EQ(w.ReadLine(), "OK");
  }
  std::this_thread::sleep_for(milliseconds(500));  // the reader has read nothing yet
  for (int i = 0; i < kWrites; ++i) {
    std::optional<std::string> line = t.ReadLine(seconds(10));
    ASSERT_TRUE(line.has_value()) << "the feed ended at change " << i << "\n" << d.Log();
    ASSERT_EQ(*line, std::to_string(i + 1) + " set big:" + std::to_string(i) + " " + value);
  }
  EXPECT_EQ(InfoField(d.port(), "tail_subscribers"), 1u);
}

// One client writing "SET t<id>:<seq> <seq>" in pipelined batches, recording which
// were acknowledged.
struct TailWriter {
  void Run(uint16_t port) {
    Client c;
    if (!c.Connect(port)) return;
    uint64_t seq = 0;
    while (!stop.load()) {
      std::string requests;
      for (int i = 0; i < 10; ++i) {
        requests += "SET t" + std::to_string(id) + ":" + std::to_string(seq + i) + " " +
                    std::to_string(seq + i) + "\r\n";
      }
      if (!c.Send(requests)) return;
      for (int i = 0; i < 10; ++i) {
        std::optional<std::string> reply = c.ReadLine(seconds(10));
        if (!reply) return;  // killed
        if (*reply == "OK") acked.push_back(seq + i);
      }
      seq += 10;
    }
  }
  int id = 0;
  std::atomic<bool> stop{false};
  std::vector<uint64_t> acked;  // read after join
};

struct SeenChange {
  uint64_t lsn;
  std::string key;
  std::string value;
};

// Reads "<lsn> set <key> <value>" lines until the connection ends or `until_lsn` is
// seen (0: until the end).
void ReadFeed(Client& c, uint64_t until_lsn, std::vector<SeenChange>* seen) {
  for (;;) {
    std::optional<std::string> line = c.ReadLine(seconds(10));
    if (!line) return;
    const size_t a = line->find(' ');
    const size_t b = line->find(' ', a + 1);
    const size_t k = line->find(' ', b + 1);
    int64_t lsn = 0;
    if (a == std::string::npos || b == std::string::npos || k == std::string::npos ||
        !ParseInt64(std::string_view(*line).substr(0, a), &lsn) ||
        line->substr(a + 1, b - a - 1) != "set") {
      ADD_FAILURE() << "unexpected feed line: " << *line;
      return;
    }
    seen->push_back({static_cast<uint64_t>(lsn), line->substr(b + 1, k - b - 1),
                     line->substr(k + 1)});
    if (until_lsn != 0 && static_cast<uint64_t>(lsn) >= until_lsn) return;
  }
}

TEST(TailTest, ResumeAfterKillNineSeesEveryAcknowledgedWriteOnceInOrder) {
  TempDir dir;
  constexpr int kWriters = 50;
  std::vector<SeenChange> seen;
  std::vector<std::unique_ptr<TailWriter>> writers;
  {
    DaemonProcess d;
    ASSERT_TRUE(d.Start(Args(dir.path(), {"--fsync", "always"}))) << d.Log();
    Client t;
    ASSERT_TRUE(t.Connect(d.port()));
    std::optional<std::vector<std::string>> head = t.CallBlock("TAIL t* 0");
    ASSERT_TRUE(head.has_value());
    std::thread reader([&] { ReadFeed(t, 0, &seen); });
    std::vector<std::thread> threads;
    for (int i = 0; i < kWriters; ++i) {
      writers.push_back(std::make_unique<TailWriter>());
      writers.back()->id = i;
      threads.emplace_back([w = writers.back().get(), port = d.port()] { w->Run(port); });
    }
    std::this_thread::sleep_for(milliseconds(1200));
    ASSERT_TRUE(d.Signal(SIGKILL));  // mid-stream: writers and the reader are cut off
    ASSERT_TRUE(d.Wait().has_value());
    for (std::thread& th : threads) th.join();
    reader.join();
  }
  ASSERT_GT(seen.size(), 100u) << "the feed delivered too little before the kill";
  const uint64_t last_seen = seen.back().lsn;

  DaemonProcess again;
  ASSERT_TRUE(again.Start(Args(dir.path(), {"--fsync", "always"}))) << again.Log();
  const uint64_t last = InfoField(again.port(), "wal_last_lsn");
  ASSERT_GE(last, last_seen);
  if (last > last_seen) {
    Client t;
    ASSERT_TRUE(t.Connect(again.port()));
    std::optional<std::vector<std::string>> head =
        t.CallBlock("TAIL t* " + std::to_string(last_seen));
    ASSERT_TRUE(head.has_value());
    ASSERT_EQ(head->back(), std::to_string(last_seen));
    ReadFeed(t, last, &seen);
  }

  // Exactly once, in order: every LSN from 1 to the log's last, once (every change is
  // a SET of a t* key).
  ASSERT_EQ(seen.size(), last);
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i].lsn, i + 1) << "at " << i;
  // Every acknowledged write is there, with its value; each writer's in its order.
  std::map<std::string, std::vector<std::string>> by_writer;
  std::map<std::string, std::string> value_of;
  for (const SeenChange& c : seen) {
    by_writer[c.key.substr(0, c.key.find(':'))].push_back(c.value);
    value_of[c.key] = c.value;
  }
  uint64_t acked = 0;
  for (const auto& w : writers) {
    const std::string prefix = "t" + std::to_string(w->id);
    for (uint64_t seq : w->acked) {
      auto it = value_of.find(prefix + ":" + std::to_string(seq));
      ASSERT_NE(it, value_of.end()) << prefix << ":" << seq << " acknowledged but not seen";
      EXPECT_EQ(it->second, std::to_string(seq));
      ++acked;
    }
    const std::vector<std::string>& values = by_writer[prefix];
    for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(values[i], std::to_string(i)) << prefix;
  }
  EXPECT_GT(acked, 100u);
  RecordProperty("changes_seen", static_cast<int>(seen.size()));
  RecordProperty("seen_before_kill", static_cast<int>(last_seen));
}

}  // namespace
}  // namespace memento::testing
