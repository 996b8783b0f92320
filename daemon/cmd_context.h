// The command layer's inside: the command table's row type, the context every
// handler gets, the handlers (one per command or pair of commands) and the small
// helpers they share. Only daemon/commands.cc and daemon/cmd_*.cc include this.
//
//   commands.cc     the table (kCommandTable), name lookup, Commands::Execute:
//                   unknown command -> arity -> authentication -> handler
//   cmd_strings.cc  string values: GET SET ... INCR ... GETP INC INCF
//   cmd_keys.cc     the key space: DEL EXISTS RENAME EXPIRE TTL KEYS SCAN ...
//   cmd_text.cc     the original Memento's VALUES PREFSCAN FUZZYSCAN KEYSPACE
//   cmd_server.cc   connection and server: PING AUTH HELLO COMMAND CONFIG INFO SHUTDOWN
//   cmd_client.cc   CLIENT, MONITOR and what every command notes for them
//   cmd_context.cc  the helpers below
//
// Adding a command: write the handler in the matching cmd_*.cc, declare it here, add
// its row to kCommandTable (commands.cc) and its line to docs/protocol.md; a command
// served over the text protocol also gets its row in proto::kTextCommands
// (net/proto/text_commands.h; the build fails until it has one), and one whose keys
// may sit on several nodes a cluster plan (ClusterPlan below).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/strings.h"  // EqualsIgnoreCase, for the handlers
#include "daemon/commands.h"
#include "net/proto/reply_builder.h"
#include "net/server.h"
#include "storage/table/table.h"

namespace memento::daemon {

struct CommandSpec;
struct Transaction;

// Everything a handler needs for one request.
struct Context {
  Commands& commands;
  net::Session& session;
  std::span<const std::string_view> argv;  // argv[0] is the command name as sent
  proto::ReplyBuilder& reply;
  int64_t now_ms;  // one instant for the whole command
  const CommandSpec& spec;

  table::Table& table() const { return commands.table(); }
  bool resp() const { return session.dialect == net::Dialect::kResp; }
};

using Handler = void (*)(Context& c);

// How many words (the name included) a request may have in one dialect.
struct Arity {
  static constexpr uint32_t kAny = UINT32_MAX;
  uint32_t min = 0;  // 0: the command does not exist in this dialect
  uint32_t max = 0;
  constexpr bool served() const { return min != 0; }
  constexpr bool Accepts(size_t argc) const { return argc >= min && argc <= max; }
};

// Flags, reported by COMMAND as Redis reports them; kNoAuth is also enforced.
enum CommandFlag : uint32_t {
  kWrite = 1u << 0,
  kReadOnly = 1u << 1,
  kDenyOom = 1u << 2,
  kAdmin = 1u << 3,
  kNoScript = 1u << 4,
  kLoading = 1u << 5,
  kStale = 1u << 6,
  kFast = 1u << 7,
  kNoAuth = 1u << 8,  // runs before AUTH (AUTH, HELLO, QUIT)
  kNoMulti = 1u << 9,  // refused inside MULTI, as Redis 7.0 refuses it (SAVE, SHUTDOWN)
};

// COMMAND DOCS: what redis-cli shows as help and as hints.
struct CommandDoc {
  std::string_view group;  // Redis's groups: "string", "generic", "connection", "server"
  std::string_view since;  // the Redis version that introduced it ("memento" for ours)
  std::string_view summary;
  std::string_view synopsis;  // the arguments, in Redis's notation: "key [key ...]"
};

// How cluster mode serves a command (ClusterNode::Route).
enum class Spread : uint8_t {
  kByKey,      // on the node that owns its keys; keys of several nodes: CROSSSLOT
  kSplit,      // keys of several nodes: one part per owner, the replies merged
  kEveryNode,  // the whole key space (FLUSH, DBSIZE, KEYS): every node, replies merged
  kScan,       // SCAN: the cursor walks the nodes one after the other
};
// How the parts' replies of a kSplit or kEveryNode command make the client's reply.
enum class Merge : uint8_t {
  kNone,
  kSum,     // integers added (EXISTS, DBSIZE)
  kDelete,  // as kSum over RESP; the text DEL's OK / (null)
  kMget,    // values put back in the request's key order
  kAllOk,   // OK if every part is OK (MSET, FLUSH)
  kKeys,    // the key lists concatenated
};
struct ClusterPlan {
  Spread spread = Spread::kByKey;
  Merge merge = Merge::kNone;
};

// One row of the command table.
struct CommandSpec {
  std::string_view name;  // lower case, as Redis's COMMAND and error texts spell it
  Arity resp;
  Arity text;
  Handler handler;
  int variant;  // for handlers serving several commands (INCR/DECR: +1/-1)
  uint32_t flags;
  // Where the keys are, as Redis's COMMAND reports it: the first key's position,
  // the last one's (-1: the last argument), the step between keys. 0 0 0: no keys.
  int first_key;
  int last_key;
  int key_step;
  CommandDoc doc;
  // Cluster mode; most commands run where their keys are (the default).
  ClusterPlan cluster = {};

  // Redis's arity: N for exactly N words, -N for at least N.
  int RedisArity() const {
    return resp.min == resp.max ? static_cast<int>(resp.min) : -static_cast<int>(resp.min);
  }
};

// The command named `name` (any case), or nullptr. O(1): one hash and one compare.
const CommandSpec* FindCommand(std::string_view name);
// Every command, in table order.
std::span<const CommandSpec> AllCommands();

// ---------------------------------------------------------------------------
// Helpers shared by the handlers (cmd_context.cc)

// `s` made safe to echo inside an error: cut at the first NUL and after `limit`
// bytes (as Redis's "%.128s"), CR and LF turned into spaces (as Redis does).
std::string Printable(std::string_view s, size_t limit = 128);

// Redis's validateClientName: printable ASCII without spaces ('!'..'~'). CLIENT
// SETNAME, CLIENT SETINFO, HELLO SETNAME.
bool IsValidClientText(std::string_view text);

// kWalFailedErr followed by the log's error (CR and LF made spaces).
std::string WalFailedMessage(const Status& broken);

// "ERR wrong number of arguments for '<name>' command"; name as "client|setname" for
// a subcommand.
void ReplyWrongArity(proto::ReplyBuilder& reply, std::string_view name);
std::string WrongArityMessage(std::string_view name);
// For a subcommand of exactly `want` words (the command and subcommand included):
// true if the request has them, else replies the wrong-arity error for `full_name`
// ("client|setname") and returns false.
bool SubcommandArityOk(Context& c, size_t want, std::string_view full_name);
// "ERR unknown command '<name>', with args beginning with: '<a>' '<b>' " (Redis's
// text, arguments up to 128 bytes in all).
void ReplyUnknownCommand(proto::ReplyBuilder& reply, std::span<const std::string_view> argv);
// "ERR unknown subcommand '<sub>'. Try <COMMAND> HELP."
void ReplyUnknownSubcommand(proto::ReplyBuilder& reply, std::string_view command,
                            std::string_view subcommand);
// A status line per entry, as Redis's HELP subcommands reply.
void ReplyHelp(proto::ReplyBuilder& reply, std::span<const std::string_view> lines);
// Multi-line text (INFO): the text protocol frames it as a block (a count line, then
// the lines); RESP as one bulk string of "line\r\n" for each line.
void ReplyLines(Context& c, std::span<const std::string> lines);

// Stores `value` as the key's new value: new creation time, no expiry, as SET. Reuses
// the old value's buffer when it is not much bigger than needed, so overwriting a key
// with a value of similar size does not allocate. Returns the entry.
table::Entry* StoreValue(table::Slot& slot, int64_t now_ms, std::string_view value);

// Values may not grow beyond Redis's proto-max-bulk-len default (512 MiB).
inline constexpr uint64_t kMaxValueBytes = uint64_t{512} << 20;

// The write-ahead log's limit on one change (db::kMaxChangeBytes, lowered in tests by
// Commands::SetMaxChangeBytes): a change the log cannot hold is refused before it
// touches the table, or it would be served from memory and gone after a restart.
// Commands::Dispatch refuses a write request whose arguments (the name excluded) add
// up to more; a command whose result can outgrow its arguments (APPEND, PREPEND,
// SETRANGE, RENAME) checks the result with ChangeFits before changing anything.
bool ChangeFits(const Context& c, uint64_t key_bytes, uint64_t value_bytes);
// "ERR change of N bytes (key + value) exceeds the write-ahead log's limit of M bytes
// per change".
std::string ChangeTooLargeError(uint64_t bytes, uint64_t limit);

// Before a command runs (after its checks): records it as the session's last
// command (CLIENT LIST's cmd=, "client|list" for a subcommand) and, while someone
// monitors and `feed_monitors`, appends its MONITOR line to session.monitor_lines
// (cmd_client.cc). As Redis, a queued command's line is fed when EXEC runs it, and
// EXEC's own after them (cmd_multi.cc).
void NoteCommand(net::Session& session, const CommandSpec& spec,
                 std::span<const std::string_view> argv, bool feed_monitors = true);

// ---------------------------------------------------------------------------
// Handlers. `variant` meanings are given where a handler serves several commands.

// cmd_strings.cc
void Get(Context& c);
void Set(Context& c);
void SetNx(Context& c);
void SetEx(Context& c);  // variant: milliseconds per unit (SETEX 1000, PSETEX 1)
void GetSet(Context& c);
void GetDel(Context& c);
void MGet(Context& c);
void MSet(Context& c);
void MSetNx(Context& c);
void AppendPrepend(Context& c);  // variant: +1 APPEND, -1 PREPEND
void StrLen(Context& c);
void GetRange(Context& c);
void SetRange(Context& c);
void IncrBy(Context& c);  // variant: +1 INCR/INCRBY, -1 DECR/DECRBY
void IncDec(Context& c);  // variant: +1 INC, -1 DEC (Memento's)
void IncrByFloat(Context& c);
void IncDecFloat(Context& c);  // variant: +1 INCF, -1 DECF (Memento's)
void GetP(Context& c);

// cmd_keys.cc
void Del(Context& c);
void Exists(Context& c);
void Type(Context& c);
void Rename(Context& c);  // variant: 0 RENAME, 1 RENAMENX
void Expire(Context& c);  // variant: kExpire* bits below
void Ttl(Context& c);     // variant: kExpire* bits below
void Persist(Context& c);
void Keys(Context& c);
void Scan(Context& c);
void RandomKey(Context& c);
void DbSize(Context& c);
void FlushDb(Context& c);

// cmd_text.cc: the original Memento's listings
void Values(Context& c);
void PrefScan(Context& c);
void FuzzyScan(Context& c);
void KeySpace(Context& c);

// Expire/Ttl variants: the unit and whether times are absolute.
inline constexpr int kExpireMillis = 1;    // PEXPIRE, PEXPIREAT, PTTL, PEXPIRETIME
inline constexpr int kExpireAbsolute = 2;  // EXPIREAT, PEXPIREAT, EXPIRETIME, PEXPIRETIME

// cmd_server.cc
void Ping(Context& c);
void Echo(Context& c);
void Quit(Context& c);
void Select(Context& c);
void Auth(Context& c);
void Hello(Context& c);
void Client(Context& c);
void Monitor(Context& c);
// cmd_tail.cc
void Tail(Context& c);
// The reply to any command but PING and QUIT on a TAIL connection, as Redis's in
// subscribed mode: "ERR Can't execute 'get': only PING / QUIT are allowed in this
// context".
void RefuseOnFeed(proto::ReplyBuilder& reply, const CommandSpec& spec);
void Shutdown(Context& c);
void Command(Context& c);
void ConfigCommand(Context& c);  // CONFIG (not Config: that is the settings struct)
void Info(Context& c);
void Save(Context& c);
void LastSave(Context& c);
void Time(Context& c);

// cmd_multi.cc: transactions (daemon/transaction.h)
void Multi(Context& c);
void Exec(Context& c);
void Discard(Context& c);
void Watch(Context& c);
void Unwatch(Context& c);
// For Commands::Dispatch. The session's transaction between MULTI and EXEC/DISCARD,
// else nullptr.
Transaction* ActiveTransaction(net::Session& session);
// MULTI EXEC DISCARD WATCH UNWATCH QUIT: run at once, never queued.
bool IsTransactionControl(const CommandSpec& spec);
// Replies `message` to a request refused before it ran (unknown, arity, NOAUTH...):
// inside MULTI the transaction is flagged (its EXEC aborts); a refused EXEC replies
// "EXECABORT Transaction discarded because of: <message>" and discards it.
// `spec` is nullptr for an unknown command.
void RefuseInTransaction(net::Session& session, const CommandSpec* spec,
                         proto::ReplyBuilder& reply, std::string_view message);
// Queues the request in `txn` (replying QUEUED), or refuses it (a command not allowed
// in a transaction; cluster mode: CROSSSLOT, another node's slot).
void QueueCommand(Commands& commands, Transaction& txn, const CommandSpec& spec,
                  net::Session& session, std::span<const std::string_view> argv,
                  proto::ReplyBuilder& reply);

// --- cmd_cluster.cc ---
void Cluster(Context& c);
void ClusterInfo(Context& c);
// The INFO cluster section's fields (cluster_enabled:0 without a cluster).
void AppendClusterInfoFields(Commands& commands, std::vector<std::string>* lines);

}  // namespace memento::daemon
