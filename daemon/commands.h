// Commands: the command layer. One implementation of each command, described to a
// proto::ReplyBuilder; the connection's dialect picks the encoder (and, where the
// text protocol kept the original Memento's reply tokens, the reply shape).
//
// The commands themselves live in daemon/cmd_*.cc (strings, keys, server); the table
// that names them, their arity in each dialect and their documentation is in
// commands.cc. docs/protocol.md lists every command with its replies.
//
// Every command runs on the calling event-loop thread against the shared, sharded
// table: a single-key command is atomic because it runs inside Table::Write with
// the key's shard locked; RENAME and MSETNX lock all their keys' shards at once
// (Table::WriteMulti); other multi-key commands (MSET, DEL, MGET, EXISTS) are atomic
// per key only. A MULTI/EXEC transaction holds the shards of all its keys for the
// whole EXEC (daemon/transaction.h).
//
// Thread-safety: Execute may be called from many threads at once. The setters marked
// "before serving" must not race with Execute; SetRequirePass may be called any time.
// While loading (SetLoading), the daemon serves already and sets the persistence and
// the cluster as it recovers: SetLoading(false) publishes them (release), and every
// reader checks loading() (acquire) before it looks at them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "daemon/tail_feed.h"
#include "daemon/transaction.h"
#include "net/server.h"
#include "storage/db/db.h"
#include "storage/table/table.h"

namespace memento::daemon {

class ClusterNode;
// The data directory's owner (storage/db/db.h): the daemon's commands call it
// "persistence" (SAVE, BGSAVE, LASTSAVE, INFO persistence, the durability barrier).
using Persistence = db::Db;
using PersistenceStats = db::DbStats;

// What INFO and CONFIG GET report about the process; filled by the daemon.
struct ServerFacts {
  std::string version;
  std::string bind;
  uint16_t port = 0;
  int threads = 0;
  std::string data_dir;
  std::string config_file;
  int64_t started_ms = 0;
  // The client limits in force (net::ServerOptions), for CONFIG GET.
  uint64_t max_clients = 0;
  int64_t idle_timeout_s = 0;
  uint64_t max_bulk = 0;
  uint64_t max_query_buffer = 0;
  uint64_t max_output_buffer = 0;
  bool protected_mode = true;
};

class Commands final : public net::CommandHandler {
 public:
  // "*table" must outlive this object.
  explicit Commands(table::Table* table);

  // Facts and network statistics for INFO. Call before serving; "*server" must
  // outlive this object (or be reset to nullptr first).
  void SetServerFacts(ServerFacts facts) { facts_ = std::move(facts); }
  // The port actually bound (with port 0 it is known only once the server listens,
  // while clients may already be served): any thread, any time.
  void SetListeningPort(uint16_t port) { listening_port_.store(port, std::memory_order_relaxed); }
  uint16_t port() const {
    const uint16_t bound = listening_port_.load(std::memory_order_relaxed);
    return bound != 0 ? bound : facts_.port;
  }
  void SetServer(net::Server* server) { server_ = server; }

  // What SHUTDOWN calls, on an event-loop thread, once it has taken its checkpoint
  // (unless NOSAVE): it must make the process stop as on SIGTERM and return at once.
  // `final_checkpoint` is false for SHUTDOWN NOSAVE (the stop then takes none: the
  // write-ahead log has everything). Unset: SHUTDOWN replies an error. Call before
  // serving.
  void SetShutdownHandler(std::function<void(bool final_checkpoint)> handler) {
    shutdown_ = std::move(handler);
  }

  // The password of server.requirepass / CONFIG SET requirepass; empty: none. While
  // one is set, a connection must AUTH before any command but AUTH, HELLO, QUIT and
  // EXIT ("NOAUTH Authentication required."). Call it before serving to enforce the
  // configured password from the first connection on; later calls take effect for
  // the next command of every connection.
  void SetRequirePass(std::string_view password);

  // While true, the data set is being recovered into the table: every command but
  // those Redis runs while loading (flag kLoading: AUTH, HELLO, INFO, CONFIG, ECHO,
  // ...) is refused with kLoadingErr (RESP) or kLoadingText (text protocol), after the
  // unknown-command, arity and authentication checks, as Redis orders them. The
  // daemon sets it before the server starts and clears it once recovery is done and
  // SetPersistence/SetCluster have been called: clearing it publishes them.
  void SetLoading(bool loading) { loading_.store(loading, std::memory_order_release); }
  bool loading() const { return loading_.load(std::memory_order_acquire); }

  // The data directory's persistence; nullptr (tests): in memory only, and SAVE
  // and BGSAVE say so. "*persistence" must outlive this object or be reset first.
  // Call before serving, or while loading(). Reads nullptr while loading().
  void SetPersistence(Persistence* persistence) { persistence_ = persistence; }
  Persistence* persistence() const { return loading() ? nullptr : persistence_; }

  // Makes the table report its changes to this object's change sink (the WATCH
  // registry, the grouping of a transaction's changes) and the sink pass them on to
  // `log` (the data directory's db::Db; nullptr: in memory only). Without it WATCH
  // sees no change. Call it before serving, or while loading() (the daemon: once
  // recovery is done); "*log" must outlive its use.
  void InstallChangeSink(table::MutationSink* log);

  // The cluster this node belongs to (cluster mode, -c); nullptr: none. Requests for
  // keys owned by other nodes are then routed there (ClusterNode::Route). Call before
  // serving, or while loading(); "*cluster" must outlive this object or be reset
  // first. Reads nullptr while loading().
  void SetCluster(ClusterNode* cluster) { cluster_ = cluster; }
  ClusterNode* cluster() const { return loading() ? nullptr : cluster_; }

  void Execute(net::Session& session, std::span<const std::string_view> argv,
               proto::ReplyBuilder& reply) override;
  // Execute() without cluster routing: what a node does with a request another node
  // forwarded to it (ClusterNode::Execute), and with the parts of a split one.
  void ExecuteHere(net::Session& session, std::span<const std::string_view> argv,
                   proto::ReplyBuilder& reply);
  // The durability barrier (net::CommandHandler): delegated to Persistence.
  bool HasUncommitted() override;
  Status CommitRound() override;
  // net::CommandHandler: a password is set (the server then applies the pre-auth
  // request limits and lifts protected mode). Any thread.
  bool AuthRequired() const override { return auth_required(); }
  // net::CommandHandler: `name` has a row with a text arity in the command table.
  // Any other name sent to a text connection is a Redis inline command (run as RESP2).
  bool IsTextCommand(std::string_view name) const override;

  // The largest change (key + value bytes) a write may make: db::kMaxChangeBytes,
  // the log's record limit. Tests lower it to check the refusal without a gigabyte
  // value. Call before serving.
  void SetMaxChangeBytes(uint64_t bytes) { max_change_bytes_ = bytes; }
  uint64_t max_change_bytes() const { return max_change_bytes_; }

  uint64_t keyspace_hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t keyspace_misses() const { return misses_.load(std::memory_order_relaxed); }

  // --- For the command handlers (daemon/cmd_*.cc) -------------------------------

  table::Table& table() { return *table_; }
  WatchRegistry& watches() { return watches_; }
  ChangeSink& change_sink() { return change_sink_; }
  const ServerFacts& facts() const { return facts_; }
  // nullptr when no server was set (tests).
  net::Server* server() const { return server_; }
  // The TAIL connections (daemon/tail_feed.h). The daemon stops it before the
  // persistence closes.
  TailFeed& tail_feed() { return tail_feed_; }
  const std::function<void(bool)>& shutdown_handler() const { return shutdown_; }
  void NoteHit() { hits_.fetch_add(1, std::memory_order_relaxed); }
  void NoteMiss() { misses_.fetch_add(1, std::memory_order_relaxed); }
  bool auth_required() const { return auth_required_.load(std::memory_order_relaxed); }
  std::string RequirePass() const;
  // True if `password` is the current requirepass (compared in time independent of
  // where the first difference is). False when none is set.
  bool CheckPassword(std::string_view password) const;

 private:
  // Execute/ExecuteHere: the checks (unknown command, arity, authentication,
  // loading), then routing if `route` and in a cluster, then the command.
  void Dispatch(net::Session& session, std::span<const std::string_view> argv,
                proto::ReplyBuilder& reply, bool route);

  table::Table* table_;
  net::Server* server_ = nullptr;
  std::function<void(bool)> shutdown_;
  Persistence* persistence_ = nullptr;
  ClusterNode* cluster_ = nullptr;
  ServerFacts facts_;
  std::atomic<uint16_t> listening_port_{0};
  std::atomic<bool> loading_{false};
  uint64_t max_change_bytes_ = db::kMaxChangeBytes;
  TailFeed tail_feed_;
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};

  // Read on every command, so kept apart from the password (which needs the mutex).
  std::atomic<bool> auth_required_{false};
  WatchRegistry watches_;
  ChangeSink change_sink_{&watches_};

  mutable std::mutex auth_mu_;
  std::string requirepass_;  // guarded by auth_mu_
};

}  // namespace memento::daemon
