// The command table, the lookup of a request's command, and Commands::Execute.
// The handlers are in daemon/cmd_*.cc; docs/protocol.md specifies every command's
// requests and replies byte by byte: keep the three in step.

#include "daemon/commands.h"

#include "daemon/cluster_node.h"


#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "common/clock.h"
#include "daemon/cmd_context.h"
#include "daemon/cmd_errors.h"
#include "net/proto/text_commands.h"

namespace memento::daemon {
namespace {

constexpr Arity kNone{};  // not served in that dialect
constexpr Arity Exactly(uint32_t n) { return {n, n}; }
constexpr Arity AtLeast(uint32_t n) { return {n, Arity::kAny}; }
constexpr Arity Between(uint32_t min, uint32_t max) { return {min, max}; }

// Cluster plans (ClusterNode::Route); a row without one runs where its keys are.
constexpr ClusterPlan Split(Merge merge) { return {Spread::kSplit, merge}; }
constexpr ClusterPlan EveryNode(Merge merge) { return {Spread::kEveryNode, merge}; }
constexpr ClusterPlan kScanNodes{Spread::kScan, Merge::kNone};

// Flag sets shared by many rows.
constexpr uint32_t kReadFast = kReadOnly | kFast;
constexpr uint32_t kGrowFast = kWrite | kDenyOom | kFast;  // may grow memory
constexpr uint32_t kConnection = kNoScript | kLoading | kStale | kFast;

// Every command. The dialect columns give the words a request may have (the name
// included) over RESP and over the text protocol; kNone means the command does not
// exist in that dialect ("unknown command"). The text protocol serves the original
// Memento's commands (with their original reply tokens, see the handlers) plus a few
// read-only ones whose replies frame naturally as lines; docs/protocol.md lists them.
//
//  name           RESP          text          handler        variant         flags
//                 keys (first, last, step)    docs: group, since, summary, synopsis
//                 [cluster plan]
//
// A command served over the text protocol also has its row in kTextCommands
// (net/proto/text_commands.h: how its line is split, how a client frames its reply),
// checked below.
constexpr CommandSpec kCommandTable[] = {
    // --- Strings (cmd_strings.cc) ---
    {"get", Exactly(2), Exactly(2), Get, 0, kReadFast, 1, 1, 1,
     {"string", "1.0.0", "Returns the string value of a key.", "key"}},
    {"set", AtLeast(3), Exactly(3), Set, 0, kWrite | kDenyOom, 1, 1, 1,
     {"string", "1.0.0", "Sets the string value of a key, with an optional condition and expiry.",
      "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
      "PXAT unix-time-milliseconds|KEEPTTL]"}},
    {"setnx", Exactly(3), kNone, SetNx, 0, kGrowFast, 1, 1, 1,
     {"string", "1.0.0", "Sets a key's value only if the key does not exist.", "key value"}},
    {"setex", Exactly(4), kNone, SetEx, 1000, kWrite | kDenyOom, 1, 1, 1,
     {"string", "2.0.0", "Sets a key's value and its time to live in seconds.",
      "key seconds value"}},
    {"psetex", Exactly(4), kNone, SetEx, 1, kWrite | kDenyOom, 1, 1, 1,
     {"string", "2.6.0", "Sets a key's value and its time to live in milliseconds.",
      "key milliseconds value"}},
    {"getset", Exactly(3), kNone, GetSet, 0, kGrowFast, 1, 1, 1,
     {"string", "1.0.0", "Sets a key's value and returns the previous one.", "key value"}},
    {"getdel", Exactly(2), kNone, GetDel, 0, kWrite | kFast, 1, 1, 1,
     {"string", "6.2.0", "Returns a key's value and deletes the key.", "key"}},
    {"mget", AtLeast(2), AtLeast(2), MGet, 0, kReadFast, 1, -1, 1,
     {"string", "1.0.0", "Returns the values of several keys.", "key [key ...]"},
     Split(Merge::kMget)},
    {"mset", AtLeast(3), kNone, MSet, 0, kWrite | kDenyOom, 1, -1, 2,
     {"string", "1.0.1", "Sets several keys (each key atomically, not all at once).",
      "key value [key value ...]"},
     Split(Merge::kAllOk)},
    {"msetnx", AtLeast(3), kNone, MSetNx, 0, kWrite | kDenyOom, 1, -1, 2,
     {"string", "1.0.1", "Sets several keys, atomically, only if none of them exists.",
      "key value [key value ...]"}},
    {"append", Exactly(3), Exactly(3), AppendPrepend, +1, kGrowFast, 1, 1, 1,
     {"string", "2.0.0", "Appends to a key's value (creating the key); returns the new length.",
      "key value"}},
    {"prepend", Exactly(3), Exactly(3), AppendPrepend, -1, kGrowFast, 1, 1, 1,
     {"string", "memento", "Prepends to a key's value (creating the key); returns the new length.",
      "key value"}},
    {"strlen", Exactly(2), Exactly(2), StrLen, 0, kReadFast, 1, 1, 1,
     {"string", "2.2.0", "Returns the length of a key's value.", "key"}},
    {"getrange", Exactly(4), Exactly(4), GetRange, 0, kReadOnly, 1, 1, 1,
     {"string", "2.4.0", "Returns a substring of a key's value.", "key start end"}},
    {"setrange", Exactly(4), kNone, SetRange, 0, kWrite | kDenyOom, 1, 1, 1,
     {"string", "2.2.0", "Overwrites part of a key's value at an offset, zero-padding it.",
      "key offset value"}},
    {"incr", Exactly(2), kNone, IncrBy, +1, kGrowFast, 1, 1, 1,
     {"string", "1.0.0", "Adds 1 to a key's integer value (a missing key counts as 0).", "key"}},
    {"decr", Exactly(2), kNone, IncrBy, -1, kGrowFast, 1, 1, 1,
     {"string", "1.0.0", "Subtracts 1 from a key's integer value (a missing key counts as 0).",
      "key"}},
    {"incrby", Exactly(3), kNone, IncrBy, +1, kGrowFast, 1, 1, 1,
     {"string", "1.0.0", "Adds an integer to a key's integer value.", "key increment"}},
    {"decrby", Exactly(3), kNone, IncrBy, -1, kGrowFast, 1, 1, 1,
     {"string", "1.0.0", "Subtracts an integer from a key's integer value.", "key decrement"}},
    {"incrbyfloat", Exactly(3), kNone, IncrByFloat, 0, kGrowFast, 1, 1, 1,
     {"string", "2.6.0", "Adds a floating-point number to a key's value.", "key increment"}},
    {"inc", Between(2, 3), Between(2, 3), IncDec, +1, kGrowFast, 1, 1, 1,
     {"string", "memento", "Adds n (default 1) to a key's integer value.", "key [n]"}},
    {"dec", Between(2, 3), Between(2, 3), IncDec, -1, kGrowFast, 1, 1, 1,
     {"string", "memento", "Subtracts n (default 1) from a key's integer value.", "key [n]"}},
    {"incf", Between(2, 3), Between(2, 3), IncDecFloat, +1, kGrowFast, 1, 1, 1,
     {"string", "memento", "Adds f (default 1) to a key's value as a double.", "key [f]"}},
    {"decf", Between(2, 3), Between(2, 3), IncDecFloat, -1, kGrowFast, 1, 1, 1,
     {"string", "memento", "Subtracts f (default 1) from a key's value as a double.", "key [f]"}},
    {"getp", Exactly(2), Exactly(2), GetP, 0, kReadFast, 1, 1, 1,
     {"string", "memento", "Returns a key, its value, its creation time and its expiry time.",
      "key"}},

    // --- The key space (cmd_keys.cc) ---
    {"del", AtLeast(2), AtLeast(2), Del, 0, kWrite, 1, -1, 1,
     {"generic", "1.0.0", "Deletes keys; returns how many existed.", "key [key ...]"},
     Split(Merge::kDelete)},
    {"unlink", AtLeast(2), kNone, Del, 0, kWrite | kFast, 1, -1, 1,
     {"generic", "4.0.0", "Deletes keys (as DEL); returns how many existed.", "key [key ...]"},
     Split(Merge::kDelete)},
    {"exists", AtLeast(2), AtLeast(2), Exists, 0, kReadFast, 1, -1, 1,
     {"generic", "1.0.0", "Counts the keys that exist (a key named twice counts twice).",
      "key [key ...]"},
     Split(Merge::kSum)},
    {"type", Exactly(2), Exactly(2), Type, 0, kReadFast, 1, 1, 1,
     {"generic", "1.0.0", "Returns the type of a key's value: string, or none.", "key"}},
    {"rename", Exactly(3), kNone, Rename, 0, kWrite, 1, 2, 1,
     {"generic", "1.0.0", "Renames a key, replacing any key of the new name.", "key newkey"}},
    {"renamenx", Exactly(3), kNone, Rename, 1, kWrite | kFast, 1, 2, 1,
     {"generic", "1.0.0", "Renames a key only if the new name is free.", "key newkey"}},
    {"expire", AtLeast(3), Exactly(3), Expire, 0, kWrite | kFast, 1, 1, 1,
     {"generic", "1.0.0", "Sets a key's time to live in seconds.", "key seconds [NX|XX|GT|LT]"}},
    {"pexpire", AtLeast(3), kNone, Expire, kExpireMillis, kWrite | kFast, 1, 1, 1,
     {"generic", "2.6.0", "Sets a key's time to live in milliseconds.",
      "key milliseconds [NX|XX|GT|LT]"}},
    {"expireat", AtLeast(3), kNone, Expire, kExpireAbsolute, kWrite | kFast, 1, 1, 1,
     {"generic", "1.2.0", "Sets a key's expiry time as a Unix time in seconds.",
      "key unix-time-seconds [NX|XX|GT|LT]"}},
    {"pexpireat", AtLeast(3), kNone, Expire, kExpireAbsolute | kExpireMillis, kWrite | kFast, 1, 1,
     1,
     {"generic", "2.6.0", "Sets a key's expiry time as a Unix time in milliseconds.",
      "key unix-time-milliseconds [NX|XX|GT|LT]"}},
    {"ttl", Exactly(2), Exactly(2), Ttl, 0, kReadFast, 1, 1, 1,
     {"generic", "1.0.0", "Returns a key's time to live in seconds.", "key"}},
    {"pttl", Exactly(2), Exactly(2), Ttl, kExpireMillis, kReadFast, 1, 1, 1,
     {"generic", "2.6.0", "Returns a key's time to live in milliseconds.", "key"}},
    {"expiretime", Exactly(2), kNone, Ttl, kExpireAbsolute, kReadFast, 1, 1, 1,
     {"generic", "7.0.0", "Returns a key's expiry time as a Unix time in seconds.", "key"}},
    {"pexpiretime", Exactly(2), kNone, Ttl, kExpireAbsolute | kExpireMillis, kReadFast, 1, 1, 1,
     {"generic", "7.0.0", "Returns a key's expiry time as a Unix time in milliseconds.", "key"}},
    {"persist", Exactly(2), Exactly(2), Persist, 0, kWrite | kFast, 1, 1, 1,
     {"generic", "2.2.0", "Removes a key's expiry.", "key"}},
    {"keys", Exactly(2), Between(1, 2), Keys, 0, kReadOnly, 0, 0, 0,
     {"generic", "1.0.0", "Returns every key matching a glob-style pattern.", "pattern"},
     EveryNode(Merge::kKeys)},
    {"scan", AtLeast(2), kNone, Scan, 0, kReadOnly, 0, 0, 0,
     {"generic", "2.8.0", "Iterates over the key space.",
      "cursor [MATCH pattern] [COUNT count] [TYPE type]"},
     kScanNodes},
    {"randomkey", Exactly(1), Exactly(1), RandomKey, 0, kReadOnly, 0, 0, 0,
     {"generic", "1.0.0", "Returns a random key.", ""}},
    {"dbsize", Exactly(1), Exactly(1), DbSize, 0, kReadFast, 0, 0, 0,
     {"server", "1.0.0", "Returns the number of keys.", ""},
     EveryNode(Merge::kSum)},
    {"count", Exactly(1), Exactly(1), DbSize, 0, kReadFast, 0, 0, 0,
     {"server", "memento", "Returns the number of keys (as DBSIZE).", ""},
     EveryNode(Merge::kSum)},
    // The original Memento's listings (cmd_text.cc): blocks in the text protocol,
    // arrays over RESP; sorted lists, merged across nodes as KEYS.
    {"values", Exactly(1), Exactly(1), Values, 0, kReadOnly, 0, 0, 0,
     {"generic", "memento", "Returns every value, sorted bytewise.", ""},
     EveryNode(Merge::kKeys)},
    {"prefscan", Exactly(2), Exactly(2), PrefScan, 0, kReadOnly, 0, 0, 0,
     {"generic", "memento", "Returns the values of the keys starting with a prefix, sorted.",
      "prefix"},
     EveryNode(Merge::kKeys)},
    {"fuzzyscan", Exactly(2), Exactly(2), FuzzyScan, 0, kReadOnly, 0, 0, 0,
     {"generic", "memento",
      "Returns the values of the keys holding the pattern's bytes in order, sorted.",
      "pattern"},
     EveryNode(Merge::kKeys)},
    {"keyspace", Exactly(1), Exactly(1), KeySpace, 0, kReadOnly, 0, 0, 0,
     {"server", "memento", "Returns the number of keys and the memory they take, per node.",
      ""},
     EveryNode(Merge::kKeys)},
    {"flushdb", AtLeast(1), kNone, FlushDb, 0, kWrite, 0, 0, 0,
     {"server", "1.0.0", "Deletes every key.", "[ASYNC|SYNC]"},
     EveryNode(Merge::kAllOk)},
    {"flushall", AtLeast(1), kNone, FlushDb, 0, kWrite, 0, 0, 0,
     {"server", "1.0.0", "Deletes every key (Memento has one database).", "[ASYNC|SYNC]"},
     EveryNode(Merge::kAllOk)},
    {"flush", Exactly(1), Exactly(1), FlushDb, 0, kWrite, 0, 0, 0,
     {"server", "memento", "Deletes every key (as FLUSHALL).", ""},
     EveryNode(Merge::kAllOk)},

    // --- Connection and server (cmd_server.cc) ---
    // PING, ECHO and AUTH are Redis inline commands over a text connection (no text
    // arity): health checks (HAProxy's, `echo PING | nc`, redis-benchmark's
    // PING_INLINE) expect Redis's "+PONG" and "+OK".
    {"ping", Between(1, 2), kNone, Ping, 0, kFast | kStale, 0, 0, 0,
     {"connection", "1.0.0", "Replies PONG, or the message.", "[message]"}},
    {"echo", Exactly(2), kNone, Echo, 0, kLoading | kStale | kFast, 0, 0, 0,
     {"connection", "1.0.0", "Replies the message.", "message"}},
    {"quit", AtLeast(1), Exactly(1), Quit, 0, kConnection | kNoAuth, 0, 0, 0,
     {"connection", "1.0.0", "Closes the connection once the replies so far are sent.", ""}},
    {"exit", kNone, Exactly(1), Quit, 0, kConnection | kNoAuth, 0, 0, 0,
     {"connection", "memento", "Closes the connection (text protocol only).", ""}},
    {"select", Exactly(2), kNone, Select, 0, kConnection, 0, 0, 0,
     {"connection", "1.0.0", "Selects a database; Memento has only database 0.", "index"}},
    {"auth", AtLeast(2), kNone, Auth, 0, kConnection | kNoAuth, 0, 0, 0,
     {"connection", "1.0.0", "Authenticates the connection.", "[username] password"}},
    {"hello", AtLeast(1), kNone, Hello, 0, kConnection | kNoAuth, 0, 0, 0,
     {"connection", "6.0.0", "Handshake: protocol version (2 only), authentication, name.",
      "[protover [AUTH username password] [SETNAME clientname]]"}},
    {"client", AtLeast(2), kNone, Client, 0, kNoScript | kLoading | kStale, 0, 0, 0,
     {"connection", "2.4.0",
      "Connections: ID, INFO, LIST, KILL, GETNAME, SETNAME, SETINFO, REPLY, NO-EVICT.",
      "subcommand [argument ...]"}},
    {"monitor", Exactly(1), kNone, Monitor, 0, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0,
     {"server", "1.0.0", "Turns the connection into a feed of every command the server runs.",
      ""}},
    {"tail", Exactly(3), Exactly(3), Tail, 0, kReadOnly | kNoScript, 0, 0, 0,
     {"server", "memento",
      "Turns the connection into a feed of the durable changes after from-lsn whose key "
      "matches the pattern.",
      "pattern from-lsn"}},
    {"command", AtLeast(1), kNone, Command, 0, kLoading | kStale, 0, 0, 0,
     {"server", "2.8.13", "Describes the commands: (all), COUNT, LIST, INFO, DOCS.",
      "[subcommand [argument ...]]"}},
    {"config", AtLeast(2), kNone, ConfigCommand, 0, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0,
     {"server", "2.0.0", "Reads settings (GET) and changes the run-time safe ones (SET).",
      "subcommand [argument ...]"}},
    {"info", AtLeast(1), Between(1, 2), Info, 0, kLoading | kStale, 0, 0, 0,
     {"server", "1.0.0", "Returns information and statistics about the server.",
      "[section [section ...]]"}},
    {"save", Exactly(1), Exactly(1), Save, 0, kAdmin | kNoScript | kNoMulti, 0, 0, 0,
     {"server", "1.0.0", "Folds the write-ahead log into the snapshot, synchronously.", ""}},
    {"bgsave", Between(1, 2), Between(1, 2), Save, 1, kAdmin | kNoScript, 0, 0, 0,
     {"server", "1.0.0", "Asks for a checkpoint of the write-ahead log into the snapshot.",
      "[SCHEDULE]"}},
    {"shutdown", AtLeast(1), kNone, Shutdown, 0,
     kAdmin | kNoScript | kLoading | kStale | kNoMulti, 0, 0, 0,
     {"server", "1.0.0", "Takes a final checkpoint (unless NOSAVE) and stops the daemon.",
      "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]"}},
    {"lastsave", Exactly(1), Exactly(1), LastSave, 0, kLoading | kStale | kFast, 0, 0, 0,
     {"server", "1.0.0",
      "Returns the Unix time of the last checkpoint (the start time before one).", ""}},
    {"time", Exactly(1), Exactly(1), Time, 0, kLoading | kStale | kFast, 0, 0, 0,
     {"server", "2.6.0", "Returns the server's time: Unix seconds and microseconds.", ""}},

    // --- Transactions (cmd_multi.cc; daemon/transaction.h) ---
    // Never queued (IsTransactionControl). WATCH's keys are reported as Redis does;
    // it is not routed in a cluster (it refuses another node's key).
    {"multi", Exactly(1), Exactly(1), Multi, 0, kConnection, 0, 0, 0,
     {"transactions", "1.2.0", "Starts a transaction.", ""}},
    {"exec", Exactly(1), Exactly(1), Exec, 0, kNoScript | kLoading | kStale, 0, 0, 0,
     {"transactions", "1.2.0", "Executes all commands in a transaction.", ""}},
    {"discard", Exactly(1), Exactly(1), Discard, 0, kConnection, 0, 0, 0,
     {"transactions", "2.0.0", "Discards a transaction.", ""}},
    {"watch", AtLeast(2), kNone, Watch, 0, kConnection, 1, -1, 1,
     {"transactions", "2.2.0",
      "Monitors changes to keys to determine the execution of a transaction.", "key [key ...]"}},
    {"unwatch", Exactly(1), kNone, Unwatch, 0, kConnection, 0, 0, 0,
     {"transactions", "2.2.0", "Forgets about watched keys of a transaction.", ""}},

    // --- The cluster (cmd_cluster.cc; docs/cluster.md) ---
    // Not kLoading, as in Redis (whose CLUSTER HELP alone runs while loading, see
    // RunsWhileLoading): the node joins its cluster only once its data is loaded.
    {"cluster", AtLeast(2), AtLeast(2), Cluster, 0, kStale, 0, 0, 0,
     {"cluster", "3.0.0",
      "Cluster facts: KEYSLOT, INFO, NODES, SLOTS, SHARDS, MYID (this project's 8192 slots).",
      "subcommand [arg ...]"}},
    {"clusterinfo", Exactly(1), Exactly(1), ClusterInfo, 0, kStale, 0, 0, 0,
     {"cluster", "memento",
      "Lists the cluster's nodes: name, address, slot range, reachable or unreachable.", ""}},
};

// The text protocol's facts live in net/proto/text_commands.h, shared with the tools:
// the commands this table serves over the text protocol must be exactly the ones
// listed there (each once), so that neither the parser nor a client can miss one.
constexpr bool ServedOverText(std::string_view name) {
  for (const CommandSpec& spec : kCommandTable) {
    if (spec.name == name) return spec.text.served();
  }
  return false;
}
constexpr bool TextTablesAgree() {
  size_t served = 0;
  for (const CommandSpec& spec : kCommandTable) served += spec.text.served() ? 1 : 0;
  if (served != std::size(proto::kTextCommands)) return false;
  for (const proto::TextCommand& command : proto::kTextCommands) {
    if (!ServedOverText(command.name)) return false;
  }
  return true;  // as many rows each side, each of kTextCommands served: the same set
}
static_assert(TextTablesAgree(),
              "the commands with a text arity here and the rows of proto::kTextCommands "
              "(net/proto/text_commands.h) must name the same commands: add the missing row");

// Command names are short; a longer first word cannot name a command.
constexpr size_t kMaxNameLength = 16;

// An open-addressing index from lower-case name to table row, built once: a lookup
// is one FNV-1a hash (computed while lower-casing the name) and, almost always, one
// comparison. 256 slots keep the load factor under 1/3.
class NameIndex {
 public:
  static constexpr size_t kSlots = 256;
  static_assert(std::size(kCommandTable) * 3 <= kSlots, "grow kSlots");
  static_assert(std::size(kCommandTable) < 255, "rows are stored as uint8_t + 1");

  NameIndex() {
    for (size_t row = 0; row < std::size(kCommandTable); ++row) {
      std::string_view name = kCommandTable[row].name;
      assert(name.size() <= kMaxNameLength);
      size_t slot = Hash(name) & (kSlots - 1);
      while (slots_[slot] != 0) slot = (slot + 1) & (kSlots - 1);
      slots_[slot] = static_cast<uint8_t>(row + 1);
    }
  }

  const CommandSpec* Find(std::string_view name) const {
    if (name.size() > kMaxNameLength) return nullptr;
    char lower[kMaxNameLength];
    uint32_t hash = kFnvOffset;
    for (size_t i = 0; i < name.size(); ++i) {
      const char ch = AsciiToLower(name[i]);
      lower[i] = ch;
      hash = (hash ^ static_cast<uint8_t>(ch)) * kFnvPrime;
    }
    const std::string_view key(lower, name.size());
    for (size_t slot = hash & (kSlots - 1);; slot = (slot + 1) & (kSlots - 1)) {
      if (slots_[slot] == 0) return nullptr;
      const CommandSpec& spec = kCommandTable[slots_[slot] - 1];
      if (spec.name == key) return &spec;
    }
  }

 private:
  static constexpr uint32_t kFnvOffset = 2166136261u;
  static constexpr uint32_t kFnvPrime = 16777619u;

  static uint32_t Hash(std::string_view lower) {
    uint32_t hash = kFnvOffset;
    for (char ch : lower) hash = (hash ^ static_cast<uint8_t>(ch)) * kFnvPrime;
    return hash;
  }

  std::array<uint8_t, kSlots> slots_{};  // row + 1; 0 = empty
};

const NameIndex& Index() {
  static const NameIndex index;
  return index;
}

// Whether a request runs while the data set is loading: Redis's rule, the command's
// (or, for CLUSTER, the subcommand's) `loading` flag.
bool RunsWhileLoading(const CommandSpec& spec, std::span<const std::string_view> argv) {
  if ((spec.flags & kLoading) != 0) return true;
  return spec.name == "cluster" && argv.size() >= 2 && EqualsIgnoreCase(argv[1], "help");
}

}  // namespace

const CommandSpec* FindCommand(std::string_view name) { return Index().Find(name); }

std::span<const CommandSpec> AllCommands() { return kCommandTable; }

Commands::Commands(table::Table* table) : table_(table) { Index(); }

void Commands::InstallChangeSink(table::MutationSink* log) {
  change_sink_.SetLog(log);
  table_->SetMutationSink(&change_sink_);
}

void Commands::SetRequirePass(std::string_view password) {
  std::lock_guard<std::mutex> lock(auth_mu_);
  requirepass_.assign(password);
  auth_required_.store(!password.empty(), std::memory_order_relaxed);
}

std::string Commands::RequirePass() const {
  std::lock_guard<std::mutex> lock(auth_mu_);
  return requirepass_;
}

bool Commands::CheckPassword(std::string_view password) const {
  std::lock_guard<std::mutex> lock(auth_mu_);
  if (requirepass_.empty()) return false;
  // Look at every byte whatever the outcome, so the time taken does not tell an
  // attacker how long a prefix they guessed right.
  const size_t n = std::max(password.size(), requirepass_.size());
  unsigned diff = password.size() == requirepass_.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char a = i < password.size() ? password[i] : 0;
    const unsigned char b = i < requirepass_.size() ? requirepass_[i] : 0;
    diff |= a ^ b;
  }
  return diff == 0;
}

bool Commands::IsTextCommand(std::string_view name) const {
  const CommandSpec* spec = FindCommand(name);
  return spec != nullptr && spec->text.served();
}

void Commands::Execute(net::Session& session, std::span<const std::string_view> argv,
                       proto::ReplyBuilder& reply) {
  Dispatch(session, argv, reply, /*route=*/true);
}

void Commands::ExecuteHere(net::Session& session, std::span<const std::string_view> argv,
                           proto::ReplyBuilder& reply) {
  Dispatch(session, argv, reply, /*route=*/false);
}

void Commands::Dispatch(net::Session& session, std::span<const std::string_view> argv,
                        proto::ReplyBuilder& reply, bool route) {
  // Redis's order of checks: unknown command, then arity, then authentication. Inside
  // MULTI each refusal also flags the transaction (RefuseInTransaction); a request
  // that passes them is queued (QueueCommand), unless it is MULTI, EXEC, DISCARD,
  // WATCH, UNWATCH or QUIT. Outside MULTI the check is one pointer load.
  const bool resp = session.dialect == net::Dialect::kResp;
  const CommandSpec* spec = FindCommand(argv[0]);
  const Arity* arity = spec == nullptr ? nullptr : resp ? &spec->resp : &spec->text;
  const bool in_multi = ActiveTransaction(session) != nullptr;
  if (arity == nullptr || !arity->served()) {
    if (in_multi) ActiveTransaction(session)->dirty = true;
    if (resp) {
      ReplyUnknownCommand(reply, argv);
    } else {
      reply.Status(kUnknownCommandText);
    }
    return;
  }
  if (!arity->Accepts(argv.size())) {
    RefuseInTransaction(session, spec, reply, WrongArityMessage(spec->name));
    return;
  }
  if (!session.authenticated) {
    if (auth_required()) {
      if ((spec->flags & kNoAuth) == 0) {
        RefuseInTransaction(session, spec, reply, kNoAuthErr);
        return;
      }
    } else {
      // As Redis, where a connection made while no password is required counts as
      // authenticated, so that setting requirepass does not lock out the clients
      // already talking (including the one that set it). Here it is the first
      // command run without a password that marks the connection.
      session.authenticated = true;
    }
  }
  // The acquire load that makes persistence_ and cluster_ safe to read below, which
  // is done only once loaded: while loading the daemon may be setting them.
  const bool loaded = !loading();
  if (!loaded && !RunsWhileLoading(*spec, argv)) {
    RefuseInTransaction(session, spec, reply, resp ? kLoadingErr : kLoadingText);
    return;
  }
  // A TAIL connection is a feed: as Redis in subscribed mode, only PING and QUIT.
  if (session.feed != nullptr && spec->handler != Ping && spec->handler != Quit) {
    RefuseOnFeed(reply, *spec);
    return;
  }
  // As Redis 7, a monitor (a replica there) may not read or write keys; it is
  // refused before it runs, so no monitor sees it.
  if (session.monitoring && (spec->flags & (kReadOnly | kWrite)) != 0) {
    RefuseInTransaction(session, spec, reply, kMonitorKeyspaceErr);
    return;
  }
  // For CLIENT LIST's cmd= and for MONITOR (cmd_client.cc); a relaxed load when
  // nobody monitors. A queued command's MONITOR line, and EXEC's, come from EXEC.
  const bool queue = in_multi && !IsTransactionControl(*spec);
  NoteCommand(session, *spec, argv, /*feed_monitors=*/!queue && spec->handler != Exec);
  if (queue) {
    QueueCommand(*this, *ActiveTransaction(session), *spec, session, argv, reply);
    return;
  }
  // In a cluster, a key owned by another node is executed there (its MISCONF, if
  // any, comes back in its reply). Transactions run where they are (cmd_multi.cc).
  if (loaded && route && cluster_ != nullptr && !IsTransactionControl(*spec) &&
      cluster_->Route(session, *spec, argv, reply)) {
    return;
  }
  if (loaded && (spec->flags & kWrite) != 0 && persistence_ != nullptr) {
    // After the log failed, nothing can be made durable: refuse writes (reads go
    // on), as Redis does after a failed AOF write. Only a restart clears it.
    Status broken = persistence_->WriteError();
    if (!broken.ok()) {
      reply.Error(WalFailedMessage(broken));
      return;
    }
  }
  if ((spec->flags & kWrite) != 0) {
    // The one check of a write's size against the log's record limit (see
    // ChangeFits): a change the log cannot hold must not reach the table.
    uint64_t bytes = 0;
    for (size_t i = 1; i < argv.size(); ++i) bytes += argv[i].size();
    if (bytes > max_change_bytes_) {
      reply.Error(ChangeTooLargeError(bytes, max_change_bytes_));
      return;
    }
  }
  Context ctx{*this, session, argv, reply, NowMillis(), *spec};
  spec->handler(ctx);
}

bool Commands::HasUncommitted() {
  Persistence* p = persistence();  // nullptr while loading: nothing is written then
  return p != nullptr && p->HasUncommitted();
}

Status Commands::CommitRound() {
  Persistence* p = persistence();
  return p != nullptr ? p->CommitRound() : Status::OK();
}

}  // namespace memento::daemon
