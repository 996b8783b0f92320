// The log-before-reply barrier seen from clients: the daemon's own pieces (net::Server
// with two event loops, daemon::Commands, db::Db) in this process, over real sockets,
// with the log's file system wrapped in a wal::FaultInjectionFileSystem so that an
// fdatasync can be slowed down or made to fail exactly when the test wants. What is
// checked is what a client sees, byte for byte (RESP2):
//
//   - a GET on another event loop never shows a write before it is durable (at fsync
//     always its reply waits for the writer's fdatasync);
//   - after a failed fdatasync, no client ever sees the refused value; the log is
//     failed for good (on_log_failure: the daemon stops), and a restart shows what
//     reached the file (docs/operations.md, "When the log fails");
//   - a change larger than the log can hold is refused before it touches the table,
//     and the old value is there after a restart. The limit is lowered to 1 KiB with
//     Commands::SetMaxChangeBytes: the real one (db::kMaxChangeBytes, 1 GiB - 64) would
//     need gigabyte values.
//
// The daemon binary's side (exit status 1 after a failed fdatasync) is in
// durability_test.cc (libfiu).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "daemon/commands.h"
#include "net/server.h"
#include "storage/db/db.h"
#include "storage/table/table.h"
#include "storage/wal/fault_injection_fs.h"
#include "tests/util/daemon_process.h"

namespace memento::testing {
namespace {

using ::testing::Optional;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string Resp(std::initializer_list<std::string> words) {
  std::string out = "*" + std::to_string(words.size()) + "\r\n";
  for (const std::string& w : words) out += "$" + std::to_string(w.size()) + "\r\n" + w + "\r\n";
  return out;
}

// A daemon in this process: table, Db (on `fs`), commands, a two-loop server.
class Node {
 public:
  Node(const std::string& dir, wal::SyncPolicy policy, wal::FileSystem* fs) {
    db::DbOptions options;
    options.data_dir = dir;
    options.fsync = policy;
    options.fs = fs;
    options.snapshot_interval_s = 0;
    options.snapshot_after_writes = 0;
    options.on_log_failure = [this](const Status&) { failures_.fetch_add(1); };
    Result<std::unique_ptr<db::Db>> opened = db::Db::Open(std::move(options), &table_, nullptr);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return;
    db_ = std::move(opened).value();
    table_.SetMutationSink(db_.get());
    commands_.SetPersistence(db_.get());
    net::ServerOptions server_options;
    server_options.port = 0;
    server_options.threads = 2;  // connections are dealt to the loops round-robin
    server_ = std::make_unique<net::Server>(server_options, &commands_);
    Status started = server_->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
  }
  ~Node() {
    if (server_) server_->Shutdown();
    if (db_) (void)db_->Close(/*final_checkpoint=*/false);
    table_.SetMutationSink(nullptr);
  }

  bool ok() const { return server_ != nullptr; }
  uint16_t port() const { return server_->port(); }
  daemon::Commands& commands() { return commands_; }
  int failures() const { return failures_.load(); }

 private:
  std::atomic<int> failures_{0};
  table::Table table_;
  daemon::Commands commands_{&table_};
  std::unique_ptr<db::Db> db_;
  std::unique_ptr<net::Server> server_;
};

class LogBarrierTest : public ::testing::Test {
 protected:
  std::string data_dir() const { return tmp_.path() + "/data"; }
  TempDir tmp_;
  wal::FaultInjectionFileSystem fs_{wal::PosixFileSystem()};
};

// Two connections, on the two event loops (the first to loop 0, the second to loop 1).
struct TwoClients {
  Client writer;
  Client reader;
  explicit TwoClients(uint16_t port) {
    EXPECT_TRUE(writer.Connect(port));
    EXPECT_TRUE(reader.Connect(port));
  }
};

TEST_F(LogBarrierTest, GetOnAnotherLoopWaitsForTheWritersFdatasync) {
  Node node(data_dir(), wal::SyncPolicy::kAlways, &fs_);
  ASSERT_TRUE(node.ok());
  TwoClients c(node.port());
  ASSERT_TRUE(c.writer.Send(Resp({"SET", "k", "old"})));
  ASSERT_THAT(c.writer.ReadLine(), Optional(std::string("+OK")));

  constexpr auto kDelay = milliseconds(1500);
  fs_.SetSyncDelay(kDelay);
  const auto sent = Clock::now();
  ASSERT_TRUE(c.writer.Send(Resp({"SET", "k", "new"})));
  // The writer's loop is now inside the slow fdatasync; "new" is in the table.
  std::this_thread::sleep_for(milliseconds(200));
  ASSERT_TRUE(c.reader.Send(Resp({"GET", "k"})));
  // Nothing while the record is not on disk...
  EXPECT_EQ(c.reader.ReadBytes(1, milliseconds(600)), std::nullopt)
      << "a reader was answered before the write it shows was durable";
  // ...then the new value, once the writer's fdatasync has returned.
  EXPECT_THAT(c.reader.ReadBytes(9), Optional(std::string("$3\r\nnew\r\n")));
  const auto read_at = Clock::now();
  EXPECT_THAT(c.writer.ReadLine(), Optional(std::string("+OK")));
  EXPECT_GE(read_at - sent, kDelay - milliseconds(50));

  // With nothing pending, a read is answered at once (no fdatasync is waited for).
  fs_.SetSyncDelay(std::chrono::microseconds(0));
  const auto asked = Clock::now();
  ASSERT_TRUE(c.reader.Send(Resp({"GET", "k"})));
  EXPECT_THAT(c.reader.ReadBytes(9), Optional(std::string("$3\r\nnew\r\n")));
  EXPECT_LT(Clock::now() - asked, milliseconds(500));
  EXPECT_EQ(node.failures(), 0);
}

TEST_F(LogBarrierTest, MonitorSeesAWriteOnlyOnceItIsDurable) {
  Node node(data_dir(), wal::SyncPolicy::kAlways, &fs_);
  ASSERT_TRUE(node.ok());
  TwoClients c(node.port());  // the monitor is `reader`, on the other loop
  ASSERT_TRUE(c.reader.Send(Resp({"MONITOR"})));
  ASSERT_THAT(c.reader.ReadLine(), Optional(std::string("+OK")));
  constexpr auto kDelay = milliseconds(1000);
  fs_.SetSyncDelay(kDelay);
  const auto sent = Clock::now();
  ASSERT_TRUE(c.writer.Send(Resp({"SET", "k", "new"})));
  const std::optional<std::string> line = c.reader.ReadLine();
  const auto seen = Clock::now();
  EXPECT_THAT(line, Optional(::testing::HasSubstr(R"("SET" "k" "new")")));
  EXPECT_GE(seen - sent, kDelay - milliseconds(50)) << "the monitor saw the SET before its fdatasync";
  EXPECT_THAT(c.writer.ReadLine(), Optional(std::string("+OK")));
  fs_.SetSyncDelay(std::chrono::microseconds(0));
}

TEST_F(LogBarrierTest, EverysecReaderWaitsOnlyForTheWriteNotTheFdatasync) {
  // Under everysec the promise is "written to the log file" (it survives a crash of
  // the process, not a power loss): a slow fdatasync holds nobody.
  Node node(data_dir(), wal::SyncPolicy::kEverySec, &fs_);
  ASSERT_TRUE(node.ok());
  TwoClients c(node.port());
  fs_.SetSyncDelay(milliseconds(3000));
  const auto asked = Clock::now();
  ASSERT_TRUE(c.writer.Send(Resp({"SET", "k", "new"})));
  ASSERT_THAT(c.writer.ReadLine(), Optional(std::string("+OK")));
  ASSERT_TRUE(c.reader.Send(Resp({"GET", "k"})));
  EXPECT_THAT(c.reader.ReadBytes(9), Optional(std::string("$3\r\nnew\r\n")));
  EXPECT_LT(Clock::now() - asked, milliseconds(1000));
  fs_.SetSyncDelay(std::chrono::microseconds(0));
}

TEST_F(LogBarrierTest, ValueWhoseFdatasyncFailedIsNeverShownAndStopsTheLog) {
  {
    Node node(data_dir(), wal::SyncPolicy::kAlways, &fs_);
    ASSERT_TRUE(node.ok());
    TwoClients c(node.port());
    ASSERT_TRUE(c.writer.Send(Resp({"SET", "k", "old"})));
    ASSERT_THAT(c.writer.ReadLine(), Optional(std::string("+OK")));
    ASSERT_TRUE(c.reader.Send(Resp({"GET", "k"})));
    ASSERT_THAT(c.reader.ReadBytes(9), Optional(std::string("$3\r\nold\r\n")));

    // The next fdatasync is slow, then fails: the reader asks while it is under way.
    fs_.SetSyncDelay(milliseconds(500));
    fs_.FailSyncs(EIO);
    ASSERT_TRUE(c.writer.Send(Resp({"SET", "k", "new"})));
    std::this_thread::sleep_for(milliseconds(150));
    ASSERT_TRUE(c.reader.Send(Resp({"GET", "k"})));
    const std::string kFailed = "-ERR write-ahead log failed, durability unknown, connection closed: ";
    EXPECT_THAT(c.writer.ReadLine(), Optional(StartsWith(kFailed)));
    EXPECT_TRUE(c.writer.WaitForEof());
    // The reader is not shown "new": its reply is withheld and it gets the same error.
    EXPECT_THAT(c.reader.ReadLine(), Optional(StartsWith(kFailed)));
    EXPECT_TRUE(c.reader.WaitForEof());
    fs_.SetSyncDelay(std::chrono::microseconds(0));
    EXPECT_EQ(node.failures(), 1) << "the owner is told once, to stop serving";

    // A client that connects afterwards (until the daemon has stopped) is never
    // answered from the table either.
    Client late;
    ASSERT_TRUE(late.Connect(node.port()));
    ASSERT_TRUE(late.Send(Resp({"GET", "k"})));
    EXPECT_THAT(late.ReadLine(), Optional(StartsWith(kFailed)));
    EXPECT_EQ(node.failures(), 1);
  }
  // The restart. The record's write(2) succeeded, only its fdatasync failed: its bytes
  // are in the file, so recovery replays it. This is why the error says "durability
  // unknown" and not "not written" (docs/operations.md).
  wal::FaultInjectionFileSystem healthy(wal::PosixFileSystem());
  Node again(data_dir(), wal::SyncPolicy::kAlways, &healthy);
  ASSERT_TRUE(again.ok());
  Client c;
  ASSERT_TRUE(c.Connect(again.port()));
  ASSERT_TRUE(c.Send(Resp({"GET", "k"})));
  EXPECT_THAT(c.ReadBytes(9), Optional(std::string("$3\r\nnew\r\n")));
}

TEST_F(LogBarrierTest, ChangeTheLogCannotHoldIsRefusedAndNothingIsLost) {
  constexpr uint64_t kLimit = 1024;  // key + value bytes; the real limit is 1 GiB - 64
  const std::string kTooLarge =
      "-ERR change of 1026 bytes (key + value) exceeds the write-ahead log's limit of 1024 "
      "bytes per change";
  {
    Node node(data_dir(), wal::SyncPolicy::kAlways, &fs_);
    ASSERT_TRUE(node.ok());
    node.commands().SetMaxChangeBytes(kLimit);
    Client c;
    ASSERT_TRUE(c.Connect(node.port()));
    ASSERT_TRUE(c.Send(Resp({"SET", "k", std::string(1022, 'a')})));  // 1 + 1022: fits
    ASSERT_THAT(c.ReadLine(), Optional(std::string("+OK")));
    ASSERT_TRUE(c.Send(Resp({"SET", "k", std::string(1025, 'b')})));
    EXPECT_THAT(c.ReadLine(), Optional(kTooLarge));
    ASSERT_TRUE(c.Send(Resp({"MSET", "j", "x", "k", std::string(1023, 'b')})));
    EXPECT_THAT(c.ReadLine(), Optional(StartsWith("-ERR change of 1026 bytes")));
    // Results that outgrow their request: APPEND, SETRANGE, RENAME to a longer name.
    ASSERT_TRUE(c.Send(Resp({"APPEND", "k", "bbb"})));  // 1 + 1025
    EXPECT_THAT(c.ReadLine(), Optional(kTooLarge));
    ASSERT_TRUE(c.Send(Resp({"SETRANGE", "k", "1023", "bb"})));  // 1 + 1025
    EXPECT_THAT(c.ReadLine(), Optional(kTooLarge));
    ASSERT_TRUE(c.Send(Resp({"RENAME", "k", "kkk"})));  // 3 + 1022 = 1025
    EXPECT_THAT(c.ReadLine(), Optional(StartsWith("-ERR change of 1025 bytes")));
    // The connection, the table and the log are fine.
    ASSERT_TRUE(c.Send(Resp({"STRLEN", "k"})));
    EXPECT_THAT(c.ReadLine(), Optional(std::string(":1022")));
    ASSERT_TRUE(c.Send(Resp({"SET", "other", "v"})));
    EXPECT_THAT(c.ReadLine(), Optional(std::string("+OK")));
    EXPECT_EQ(node.failures(), 0);
  }
  // After a restart (no final checkpoint: everything comes from the log) the old value
  // is intact and nothing acknowledged is lost.
  Node again(data_dir(), wal::SyncPolicy::kAlways, &fs_);
  ASSERT_TRUE(again.ok());
  Client c;
  ASSERT_TRUE(c.Connect(again.port()));
  ASSERT_TRUE(c.Send(Resp({"GET", "k"})));
  EXPECT_THAT(c.ReadBytes(7 + 1022 + 2), Optional("$1022\r\n" + std::string(1022, 'a') + "\r\n"));
  ASSERT_TRUE(c.Send(Resp({"GET", "other"})));
  EXPECT_THAT(c.ReadBytes(7), Optional(std::string("$1\r\nv\r\n")));
  ASSERT_TRUE(c.Send(Resp({"EXISTS", "j", "kkk"})));
  EXPECT_THAT(c.ReadLine(), Optional(std::string(":0")));
}

}  // namespace
}  // namespace memento::testing
