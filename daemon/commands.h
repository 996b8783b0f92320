// Commands: the command layer. One implementation of each command, described to a
// proto::ReplyBuilder; the connection's dialect picks the encoder (and, where the
// text protocol kept the original Memento's reply tokens, the reply shape).
//
// Every command runs on the calling event-loop thread against the shared, sharded
// table: a single-key command is atomic because it runs inside Table::Write with
// the key's shard locked.
//
// Thread-safety: Execute may be called from many threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "net/server.h"
#include "storage/table/table.h"

namespace memento::daemon {

// What INFO reports about the process; filled by the daemon.
struct ServerFacts {
  std::string version;
  std::string bind;
  uint16_t port = 0;
  int threads = 0;
  std::string data_dir;
  std::string config_file;
  int64_t started_ms = 0;
};

class Commands final : public net::CommandHandler {
 public:
  // "*table" must outlive this object.
  explicit Commands(table::Table* table);

  // Facts and network statistics for INFO. Call before serving; "*server" must
  // outlive this object (or be reset to nullptr first).
  void SetServerFacts(ServerFacts facts) { facts_ = std::move(facts); }
  void SetServer(const net::Server* server) { server_ = server; }

  void Execute(net::Session& session, std::span<const std::string_view> argv,
               proto::ReplyBuilder& reply) override;

  uint64_t keyspace_hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t keyspace_misses() const { return misses_.load(std::memory_order_relaxed); }

  // Everything a handler needs, bundled so the command table is a plain array.
  struct Context {
    Commands* self;
    net::Session& session;
    std::span<const std::string_view> argv;
    proto::ReplyBuilder& reply;
    int64_t now_ms;
    int variant;  // +1 or -1 for handlers shared by a pair (INC/DEC, APPEND/PREPEND)
  };

 private:
  void Hit() { hits_.fetch_add(1, std::memory_order_relaxed); }
  void Miss() { misses_.fetch_add(1, std::memory_order_relaxed); }

  // Command handlers (commands.cc). Names follow the command.
  static void Ping(Context& c);
  static void Set(Context& c);
  static void Get(Context& c);
  static void Del(Context& c);
  static void IncDec(Context& c);
  static void IncDecFloat(Context& c);
  static void GetP(Context& c);
  static void AppendPrepend(Context& c);
  static void Flush(Context& c);
  static void Quit(Context& c);
  static void Count(Context& c);
  static void Keys(Context& c);
  static void Expire(Context& c);
  static void Ttl(Context& c);
  static void Persist(Context& c);
  static void Info(Context& c);

  friend struct CommandSpecTable;

  table::Table* table_;
  const net::Server* server_ = nullptr;
  ServerFacts facts_;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace memento::daemon
