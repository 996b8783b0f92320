// Transactions (MULTI/EXEC/DISCARD/WATCH/UNWATCH): the per-connection state, the
// registry of WATCHed keys, and the table's change sink that feeds both the registry
// and the write-ahead log. The commands are in daemon/cmd_multi.cc; docs/protocol.md
// ("Transactions") gives their replies, daemon/README.md the design.
//
// Atomicity: EXEC locks the table shards of every key its queued commands name (from
// the command table's key positions) plus the WATCHed keys, or every shard when one
// of them declares no keys (FLUSH, KEYS, DBSIZE, INFO...), in shard order
// (table::Table::Hold), and runs the queued commands with them held. No other
// thread's Read or Write of those keys can run in between, on any event loop, and
// the expiry reaper and FLUSH wait too. Rejected alternative: a global reader-writer
// gate that every command takes shared and EXEC exclusive: one contended cache line
// for every command of every thread, for the benefit of the rare EXEC.
//
// WATCH: a registry key -> watching transactions. Every change the table reports
// (ChangeSink below: writes, expiry removals, from any thread) marks the key's
// watchers broken; FLUSH marks the watchers of the keys it removes (FlushDb). When no
// key is watched the cost per change is one relaxed atomic load. A watch is
// registered inside a Read of its key (the shard locked), so that every later change
// of the key, on any thread, sees the registration; EXEC checks the mark with the
// shards of its watched keys held, after reading each (an expired one is removed
// then, and that removal counts as a change, as in Redis).
//
// Thread-safety: Transaction belongs to its connection's thread, except `broken`
// (set by any thread under the registry's mutex). WatchRegistry and ChangeSink: any
// thread.
#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "net/server.h"
#include "storage/mutation.h"
#include "storage/table/table.h"

namespace memento::daemon {

class WatchRegistry;

// One connection's transaction state (net::Session::command_state).
struct Transaction final : net::SessionState {
  explicit Transaction(WatchRegistry* owner) : registry(owner) {}
  ~Transaction() override;  // unregisters the watches

  WatchRegistry* const registry;
  // Between MULTI and EXEC/DISCARD.
  bool active = false;
  // A command was refused while queueing (unknown, arity, not allowed...): EXEC
  // replies EXECABORT and runs nothing.
  bool dirty = false;
  net::Dialect dialect = net::Dialect::kResp;  // MULTI's
  // Cluster mode: the slot of the queued commands' keys (-1: none yet).
  int slot = -1;
  // The queued requests: copies of their words (the read buffer is gone by EXEC).
  std::vector<std::vector<std::string>> queued;

  // WATCHed keys (distinct), and whether one of them changed since it was watched.
  std::vector<std::string> watched;
  std::atomic<bool> broken{false};

  int64_t QueuedCommands() const override {
    return active ? static_cast<int64_t>(queued.size()) : -1;
  }

  // Back to no MULTI (the watches stay: EXEC and DISCARD drop them too, see Reset).
  void EndMulti() {
    active = false;
    dirty = false;
    slot = -1;
    queued.clear();
  }
};

class WatchRegistry {
 public:
  // Registers `key` for `txn`. Call inside a Read of `key` (see the file comment).
  void Watch(Transaction* txn, std::string_view key);
  // Drops every watch of `txn` and clears its `broken` mark.
  void UnwatchAll(Transaction* txn);
  // A change of `key`: its watchers are broken. Any thread, under the key's shard lock.
  void Touch(std::string_view key) {
    if (watches_.load(std::memory_order_relaxed) == 0) return;
    TouchSlow(key);
  }
  // FLUSH: breaks the watchers of every watched key live in `table` at `now_ms`.
  // REQUIRES: the caller holds every shard (table::Table::Hold).
  void TouchLive(table::Table& table, int64_t now_ms);
  bool empty() const { return watches_.load(std::memory_order_relaxed) == 0; }

 private:
  void TouchSlow(std::string_view key);

  std::atomic<size_t> watches_{0};  // (transaction, key) pairs registered
  Mutex mu_;
  std::unordered_map<std::string, std::vector<Transaction*>> watchers_ MEMENTO_GUARDED_BY(mu_);
};

// The table's mutation sink: tells the registry, then passes the change on to the log
// (db::Db), or buffers it while this thread is inside a unit (an EXEC).
//
// Logging a transaction as one unit: EXEC calls BeginUnit() once it holds its shards
// and EndUnit() before it releases them; the changes in between are collected here,
// on the executing thread, in order, and EndUnit() hands the whole group to the log at
// one point, before any other thread can change those keys, as ONE unit record
// (MutationSink::OnUnit: db::Db writes a wal kUnit, replayed all or nothing; a unit
// torn by a crash is dropped whole, docs/formats/wal.md "Units").
class ChangeSink final : public table::MutationSink {
 public:
  explicit ChangeSink(WatchRegistry* registry) : registry_(registry) {}

  // Where changes go after the registry (nullptr: nowhere, in memory only). Set it
  // before serving, or while loading (SetLoading(false) publishes it).
  void SetLog(table::MutationSink* log) { log_.store(log, std::memory_order_release); }

  void OnMutation(const storage::Mutation& mutation) override;

  // REQUIRES: not already in a unit on this thread.
  void BeginUnit();
  // Passes the unit's changes to the log and leaves the unit. REQUIRES: BeginUnit().
  void EndUnit();

 public:
  // A change of the unit, copied (a Mutation's views die with the write).
  struct Buffered {
    storage::MutationType type;
    std::string key;
    std::string value;
    int64_t created_ms;
    int64_t expire_ms;
    int64_t number;  // a delta's offset or integer (storage::Mutation::number)
    storage::ChangeReason reason;
  };

 private:
  WatchRegistry* const registry_;
  std::atomic<table::MutationSink*> log_{nullptr};
};

}  // namespace memento::daemon
