// Transactions: MULTI EXEC DISCARD WATCH UNWATCH, the queueing step of
// Commands::Dispatch, the WATCH registry and the change sink (daemon/transaction.h
// has the design). Replies are Redis 7.0's, byte for byte (tests/e2e/transactions_test.cc
// compares them with a real redis-server).

#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cluster/slot.h"
#include "daemon/cluster_node.h"
#include "daemon/cmd_context.h"
#include "daemon/cmd_errors.h"
#include "daemon/transaction.h"
#include "net/proto/text_commands.h"

namespace memento::daemon {

// ---------------------------------------------------------------------------
// WatchRegistry

Transaction::~Transaction() { registry->UnwatchAll(this); }

void WatchRegistry::Watch(Transaction* txn, std::string_view key) {
  MutexLock lock(&mu_);
  std::vector<Transaction*>& list = watchers_[std::string(key)];
  if (std::find(list.begin(), list.end(), txn) != list.end()) return;
  list.push_back(txn);
  txn->watched.emplace_back(key);
  watches_.fetch_add(1, std::memory_order_relaxed);
}

void WatchRegistry::UnwatchAll(Transaction* txn) {
  if (!txn->watched.empty()) {
    MutexLock lock(&mu_);
    for (const std::string& key : txn->watched) {
      auto it = watchers_.find(key);
      if (it == watchers_.end()) continue;
      std::erase(it->second, txn);
      if (it->second.empty()) watchers_.erase(it);
      watches_.fetch_sub(1, std::memory_order_relaxed);
    }
    txn->watched.clear();
  }
  txn->broken.store(false, std::memory_order_relaxed);
}

void WatchRegistry::TouchSlow(std::string_view key) {
  MutexLock lock(&mu_);
  auto it = watchers_.find(std::string(key));
  if (it == watchers_.end()) return;
  for (Transaction* txn : it->second) txn->broken.store(true, std::memory_order_relaxed);
}

void WatchRegistry::TouchLive(table::Table& table, int64_t now_ms) {
  if (empty()) return;
  // The keys first, then the table without mu_: a Read that removes an expired key
  // reports it to the sink, which calls Touch (mu_ is not recursive). No watch can be
  // added meanwhile (Watch needs the key's shard, which the caller holds); one that is
  // dropped meanwhile is simply not found below.
  std::vector<std::string> keys;
  {
    MutexLock lock(&mu_);
    keys.reserve(watchers_.size());
    for (const auto& entry : watchers_) keys.push_back(entry.first);
  }
  for (const std::string& key : keys) {
    // As Redis's touchAllWatchedKeysInDb: only keys the flush removes count.
    if (table.Read(key, now_ms, [](const table::Entry* e) { return e != nullptr; })) {
      TouchSlow(key);
    }
  }
}

// ---------------------------------------------------------------------------
// ChangeSink

namespace {

// The changes of the unit this thread is executing (nullptr: not in one).
thread_local std::vector<ChangeSink::Buffered>* t_unit = nullptr;

}  // namespace

void ChangeSink::OnMutation(const storage::Mutation& mutation) {
  // FLUSH marks its watchers itself (TouchLive: only the keys it removed count).
  if (mutation.type != storage::MutationType::kClear) registry_->Touch(mutation.key);
  if (t_unit != nullptr) {
    // The views die with the write: keep copies until EndUnit.
    t_unit->push_back({mutation.type, std::string(mutation.key), std::string(mutation.value),
                       mutation.created_ms, mutation.expire_ms, mutation.number,
                       mutation.reason});
    return;
  }
  if (table::MutationSink* log = log_.load(std::memory_order_acquire)) log->OnMutation(mutation);
}

void ChangeSink::BeginUnit() {
  static thread_local std::vector<Buffered> unit;
  unit.clear();
  t_unit = &unit;
}

void ChangeSink::EndUnit() {
  std::vector<Buffered>& unit = *t_unit;
  t_unit = nullptr;
  table::MutationSink* log = log_.load(std::memory_order_acquire);
  // ONE unit record: the log replays all of the transaction's changes or none of them
  // (storage/wal, docs/formats/wal.md "Units"), with the shards still held so the log's
  // order is the table's.
  if (log != nullptr && !unit.empty()) {
    std::vector<storage::Mutation> views;
    views.reserve(unit.size());
    for (const Buffered& b : unit) {
      storage::Mutation m;
      m.type = b.type;
      m.key = b.key;
      m.value = b.value;
      m.created_ms = b.created_ms;
      m.expire_ms = b.expire_ms;
      m.number = b.number;
      m.reason = b.reason;
      views.push_back(m);
    }
    log->OnUnit(views);
  }
  unit.clear();
}

// ---------------------------------------------------------------------------
// Queueing (Commands::Dispatch)

namespace {

Transaction& StateOf(Commands& commands, net::Session& session) {
  if (session.command_state == nullptr) {
    session.command_state = std::make_unique<Transaction>(&commands.watches());
  }
  return static_cast<Transaction&>(*session.command_state);
}

// The keys a request names, by the command table's key positions. False if the
// command declares none.
bool RequestKeys(const CommandSpec& spec, std::span<const std::string_view> argv,
                 std::vector<std::string_view>* keys) {
  if (spec.first_key <= 0) return false;
  const size_t first = static_cast<size_t>(spec.first_key);
  const size_t last = spec.last_key < 0 ? argv.size() - 1 : static_cast<size_t>(spec.last_key);
  const size_t step = spec.key_step > 0 ? static_cast<size_t>(spec.key_step) : 1;
  for (size_t i = first; i <= last && i < argv.size(); i += step) keys->push_back(argv[i]);
  return true;
}

// Refuses the request being queued: the transaction is flagged, its EXEC aborts.
void RefuseQueued(Transaction& txn, proto::ReplyBuilder& reply, std::string_view message) {
  txn.dirty = true;
  reply.Error(message);
}

// Cluster mode: a transaction runs on the node that owns its keys' one slot.
bool CheckClusterSlot(Commands& commands, Transaction& txn, const CommandSpec& spec,
                      std::span<const std::string_view> argv, proto::ReplyBuilder& reply) {
  ClusterNode* cluster = commands.cluster();
  if (cluster == nullptr) return true;
  if (spec.cluster.spread == Spread::kEveryNode || spec.cluster.spread == Spread::kScan) {
    std::string message("ERR '");
    message.append(spec.name).append(
        "' reaches every node of the cluster and cannot run inside a transaction");
    RefuseQueued(txn, reply, message);
    return false;
  }
  std::vector<std::string_view> keys;
  if (!RequestKeys(spec, argv, &keys)) return true;
  const std::shared_ptr<const cluster::SlotMap> map = cluster->map();
  for (std::string_view key : keys) {
    const int slot = static_cast<int>(cluster::KeySlot(key));
    if (txn.slot < 0) {
      txn.slot = slot;
      const int owner = map->OwnerOfSlot(static_cast<uint32_t>(slot));
      if (owner != cluster->self_index()) {
        // Forwarding a whole transaction to its owner is not implemented.
        std::string message("ERR the transaction's keys hash to slot ");
        message.append(std::to_string(slot)).append(", served by node ");
        message.append(owner >= 0 ? map->nodes()[static_cast<size_t>(owner)].name
                                  : std::string("(none)"));
        message.append(": a transaction runs only on the node that owns its slot; send it there");
        RefuseQueued(txn, reply, message);
        return false;
      }
    } else if (slot != txn.slot) {
      RefuseQueued(txn, reply, kCrossSlotErr);
      return false;
    }
  }
  return true;
}

}  // namespace

bool IsTransactionControl(const CommandSpec& spec) {
  return spec.handler == Multi || spec.handler == Exec || spec.handler == Discard ||
         spec.handler == Watch || spec.handler == Unwatch || spec.handler == Quit;
}

Transaction* ActiveTransaction(net::Session& session) {
  auto* txn = static_cast<Transaction*>(session.command_state.get());
  return txn != nullptr && txn->active ? txn : nullptr;
}

void RefuseInTransaction(net::Session& session, const CommandSpec* spec,
                         proto::ReplyBuilder& reply, std::string_view message) {
  Transaction* txn = ActiveTransaction(session);
  if (spec != nullptr && spec->handler == Exec) {
    // As Redis: a refused EXEC discards the transaction (if any) and says why.
    if (txn != nullptr) {
      txn->EndMulti();
      txn->registry->UnwatchAll(txn);
    }
    if (message.starts_with("ERR ")) message.remove_prefix(4);
    std::string text(kExecAbortBecauseErr);
    text.append(message);
    reply.Error(text);
    return;
  }
  if (txn != nullptr) txn->dirty = true;
  reply.Error(message);
}

void QueueCommand(Commands& commands, Transaction& txn, const CommandSpec& spec,
                  net::Session& session, std::span<const std::string_view> argv,
                  proto::ReplyBuilder& reply) {
  if ((spec.flags & kNoMulti) != 0) {
    RefuseQueued(txn, reply, kNotInTransactionErr);
    return;
  }
  if (session.dialect != txn.dialect) {
    RefuseQueued(txn, reply, kTransactionDialectErr);
    return;
  }
  // A text client frames EXEC's reply as a count line and that many lines.
  if (txn.dialect == net::Dialect::kText) {
    const proto::TextCommand* text = proto::FindTextCommand(spec.name);
    if (text == nullptr || text->reply != proto::TextReplyShape::kLine ||
        !text->subcommands.empty()) {
      RefuseQueued(txn, reply, kTextTransactionShapeErr);
      return;
    }
  }
  // Their replies come later, through the connection's mailbox: they would fall
  // outside EXEC's array.
  if (spec.name == "client" && argv.size() >= 2 &&
      (EqualsIgnoreCase(argv[1], "list") || EqualsIgnoreCase(argv[1], "kill"))) {
    RefuseQueued(txn, reply, kClientInTransactionErr);
    return;
  }
  if (!CheckClusterSlot(commands, txn, spec, argv, reply)) return;
  std::vector<std::string>& words = txn.queued.emplace_back();
  words.reserve(argv.size());
  for (std::string_view word : argv) words.emplace_back(word);
  reply.Status("QUEUED");
}

// ---------------------------------------------------------------------------
// The commands

void Multi(Context& c) {
  Transaction& txn = StateOf(c.commands, c.session);
  if (txn.active) {
    c.reply.Error(kMultiNestedErr);  // not flagged, as in Redis
    return;
  }
  txn.active = true;
  txn.dialect = c.session.dialect;
  c.reply.Ok();
}

void Discard(Context& c) {
  Transaction* txn = ActiveTransaction(c.session);
  if (txn == nullptr) {
    c.reply.Error(kDiscardWithoutMultiErr);
    return;
  }
  txn->EndMulti();
  c.commands.watches().UnwatchAll(txn);
  c.reply.Ok();
}

void Watch(Context& c) {
  if (ActiveTransaction(c.session) != nullptr) {
    c.reply.Error(kWatchInMultiErr);  // not flagged, as in Redis
    return;
  }
  Transaction& txn = StateOf(c.commands, c.session);
  ClusterNode* cluster = c.commands.cluster();
  for (size_t i = 1; i < c.argv.size(); ++i) {
    if (cluster != nullptr && cluster->map()->OwnerOfKey(c.argv[i]) != cluster->self_index()) {
      c.reply.Error(kWatchRemoteKeyErr);
      return;
    }
  }
  for (size_t i = 1; i < c.argv.size(); ++i) {
    // Inside the key's Read: the shard lock orders this registration before every
    // later change of the key (file comment of transaction.h). A key found expired
    // is removed here, before the watch exists: as Redis, that is no change.
    c.table().Read(c.argv[i], c.now_ms, [&](const table::Entry*) {
      c.commands.watches().Watch(&txn, c.argv[i]);
    });
  }
  c.reply.Ok();
}

void Unwatch(Context& c) {
  if (auto* txn = static_cast<Transaction*>(c.session.command_state.get())) {
    c.commands.watches().UnwatchAll(txn);
  }
  c.reply.Ok();
}

void Exec(Context& c) {
  // As Redis, MONITOR shows EXEC after the commands it ran (Dispatch did not).
  struct NoteAtEnd {
    Context& c;
    ~NoteAtEnd() { NoteCommand(c.session, c.spec, c.argv); }
  } note_at_end{c};
  Transaction* txn = ActiveTransaction(c.session);
  if (txn == nullptr) {
    c.reply.Error(kExecWithoutMultiErr);
    return;
  }
  WatchRegistry& watches = c.commands.watches();
  if (txn->dirty) {
    txn->EndMulti();
    watches.UnwatchAll(txn);
    c.reply.Error(kExecAbortErr);
    return;
  }
  // The queued requests as views, their rows, and every key they and the watches
  // name; a command without declared keys needs every shard.
  std::vector<std::vector<std::string_view>> requests(txn->queued.size());
  std::vector<const CommandSpec*> specs(txn->queued.size());
  std::vector<std::string_view> keys;
  bool all_shards = false;
  for (size_t i = 0; i < txn->queued.size(); ++i) {
    requests[i].assign(txn->queued[i].begin(), txn->queued[i].end());
    specs[i] = FindCommand(requests[i][0]);  // found when queued
    if (!RequestKeys(*specs[i], requests[i], &keys)) all_shards = true;
  }
  keys.insert(keys.end(), txn->watched.begin(), txn->watched.end());
  {
    // Atomicity (transaction.h): no other thread touches these shards until the end
    // of this scope. The log gets the changes before the shards are released.
    std::optional<table::Table::Hold> hold;
    if (all_shards) {
      hold.emplace(c.table());
    } else {
      hold.emplace(c.table(), keys);
    }
    // An expired watched key is removed by this Read, which breaks its watchers.
    for (const std::string& key : txn->watched) {
      c.table().Read(key, c.now_ms, [](const table::Entry*) {});
    }
    if (txn->broken.load(std::memory_order_relaxed)) {
      hold.reset();
      txn->EndMulti();
      watches.UnwatchAll(txn);
      c.reply.NullArray();
      return;
    }
    Persistence* persistence = c.commands.persistence();
    c.commands.change_sink().BeginUnit();
    // No queued command may defer its reply: it would land outside this array. Without
    // a mailbox, CLIENT INFO answers from the session itself (CLIENT LIST and KILL, which
    // need every loop, were refused when queued).
    std::shared_ptr<net::ReplyMailbox> mailbox = std::move(c.session.mailbox);
    c.session.mailbox = nullptr;
    c.reply.ArrayHeader(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      const CommandSpec& spec = *specs[i];
      if ((spec.flags & kWrite) != 0 && persistence != nullptr) {
        if (Status broken = persistence->WriteError(); !broken.ok()) {
          c.reply.Error(WalFailedMessage(broken));
          continue;
        }
      }
      if (spec.handler == Monitor) {
        c.reply.Error(kMonitorInTransactionErr);
        continue;
      }
      NoteCommand(c.session, spec, requests[i]);
      Context sub{c.commands, c.session, requests[i], c.reply, c.now_ms, spec};
      spec.handler(sub);
    }
    c.session.mailbox = std::move(mailbox);
    c.commands.change_sink().EndUnit();
  }
  txn->EndMulti();
  watches.UnwatchAll(txn);
}

}  // namespace memento::daemon
