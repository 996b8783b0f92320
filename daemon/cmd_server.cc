// Connection and server commands: PING ECHO QUIT/EXIT SELECT AUTH HELLO COMMAND
// CONFIG INFO SAVE BGSAVE LASTSAVE SHUTDOWN TIME (CLIENT and MONITOR: cmd_client.cc).
//
// These are what client libraries and tools send on their own (redis-cli's COMMAND
// DOCS, redis-benchmark's CONFIG GET save/appendonly, HELLO, CLIENT SETINFO), so
// their replies follow Redis 7.0 closely; docs/protocol.md says where Memento's
// answers differ (HELLO's server field, the settings CONFIG knows).

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "common/glob.h"
#include "common/logging.h"
#include "common/numbers.h"
#include "daemon/cmd_context.h"
#include "daemon/cmd_errors.h"

namespace memento::daemon {
namespace {

// The Redis version whose behaviour Memento follows, reported as INFO's
// redis_version (as KeyDB and Dragonfly report one): tools and client libraries
// pick features by it. Memento's own version is memento_version.
constexpr char kRedisVersion[] = "7.0.15";

// Unix seconds of the last successful checkpoint; before the first, the start time
// (Redis's lastsave). LASTSAVE and INFO's rdb_last_save_time.
int64_t LastSaveSeconds(Commands& commands) {
  int64_t ms = commands.facts().started_ms;
  if (Persistence* p = commands.persistence(); p != nullptr) {
    const int64_t last = p->Stats().last_checkpoint_ms;
    if (last != 0) ms = last;
  }
  return ms / 1000;
}

// AUTH's check, shared with HELLO ... AUTH. Only the "default" user exists; with
// no password configured it takes any password (Redis's "nopass").
bool Authenticate(Context& c, std::string_view user, std::string_view password) {
  if (user != "default") return false;
  if (!c.commands.auth_required()) return true;
  return c.commands.CheckPassword(password);
}

uint64_t ResidentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long pages_total = 0, pages_resident = 0;
  int got = std::fscanf(f, "%lu %lu", &pages_total, &pages_resident);
  std::fclose(f);
  if (got != 2) return 0;
  return static_cast<uint64_t>(pages_resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = AsciiToLower(ch);
  return out;
}

// ---------------------------------------------------------------------------
// COMMAND's replies

// Redis's flag names, in Redis's order.
void ReplyFlags(proto::ReplyBuilder& reply, uint32_t flags) {
  static constexpr struct {
    uint32_t bit;
    std::string_view name;
  } kNames[] = {
      {kWrite, "write"}, {kReadOnly, "readonly"}, {kDenyOom, "denyoom"},
      {kAdmin, "admin"}, {kNoScript, "noscript"}, {kLoading, "loading"},
      {kStale, "stale"}, {kFast, "fast"},         {kNoAuth, "no_auth"},
  };
  size_t count = 0;
  for (const auto& f : kNames) count += (flags & f.bit) != 0;
  reply.ArrayHeader(count);
  for (const auto& f : kNames) {
    if ((flags & f.bit) != 0) reply.Status(f.name);
  }
}

// ACL categories derived from the flags and the group, as Redis assigns them.
void ReplyCategories(proto::ReplyBuilder& reply, const CommandSpec& spec) {
  std::vector<std::string_view> categories;
  if ((spec.flags & kWrite) != 0) categories.push_back("@write");
  if ((spec.flags & kReadOnly) != 0) categories.push_back("@read");
  if (spec.doc.group == "string") categories.push_back("@string");
  if (spec.doc.group == "generic") categories.push_back("@keyspace");
  if (spec.doc.group == "connection") categories.push_back("@connection");
  if ((spec.flags & kAdmin) != 0) {
    categories.push_back("@admin");
    categories.push_back("@dangerous");
  }
  categories.push_back((spec.flags & kFast) != 0 ? "@fast" : "@slow");
  reply.ArrayHeader(categories.size());
  for (std::string_view category : categories) reply.Status(category);
}

// One element of COMMAND / COMMAND INFO (Redis 7's ten fields; tips, key
// specifications and subcommands are empty).
void ReplyCommandInfo(proto::ReplyBuilder& reply, const CommandSpec& spec) {
  reply.ArrayHeader(10);
  reply.Bulk(spec.name);
  reply.Integer(spec.RedisArity());
  ReplyFlags(reply, spec.flags);
  reply.Integer(spec.first_key);
  reply.Integer(spec.last_key);
  reply.Integer(spec.key_step);
  ReplyCategories(reply, spec);
  reply.ArrayHeader(0);  // tips
  reply.ArrayHeader(0);  // key specifications
  reply.ArrayHeader(0);  // subcommands
}

// The synopsis split into its top-level words, "[...]" groups counting as one:
// "key [key ...]" -> {"key", "[key ...]"}.
std::vector<std::string_view> SplitSynopsis(std::string_view synopsis) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  int depth = 0;
  for (size_t i = 0; i <= synopsis.size(); ++i) {
    if (i == synopsis.size() || (synopsis[i] == ' ' && depth == 0)) {
      if (i > start) parts.push_back(synopsis.substr(start, i - start));
      start = i + 1;
    } else if (synopsis[i] == '[') {
      ++depth;
    } else if (synopsis[i] == ']') {
      --depth;
    }
  }
  return parts;
}

// One element of COMMAND DOCS: the name, then a map (a flat array in RESP2) of
// summary, since, group and arguments. Each top-level word of the synopsis is one
// argument whose name is its text, optional when bracketed: redis-cli 7.0 rebuilds
// its help line and its typing hints from exactly these ("[" name "]"), so they read
// like the synopsis. (A full Redis argument tree would say the same at ten times the
// size.)
void ReplyCommandDocs(proto::ReplyBuilder& reply, const CommandSpec& spec) {
  reply.Bulk(spec.name);
  reply.ArrayHeader(8);
  reply.Bulk("summary");
  reply.Bulk(spec.doc.summary);
  reply.Bulk("since");
  reply.Bulk(spec.doc.since);
  reply.Bulk("group");
  reply.Bulk(spec.doc.group);
  reply.Bulk("arguments");
  const std::vector<std::string_view> parts = SplitSynopsis(spec.doc.synopsis);
  reply.ArrayHeader(parts.size());
  for (std::string_view part : parts) {
    const bool optional = part.size() >= 2 && part.front() == '[' && part.back() == ']';
    if (optional) part = part.substr(1, part.size() - 2);
    reply.ArrayHeader(optional ? 6 : 4);
    reply.Bulk("name");
    reply.Bulk(part);
    reply.Bulk("type");
    reply.Bulk(part == "key" ? "key" : "string");
    if (optional) {
      reply.Bulk("flags");
      reply.ArrayHeader(1);
      reply.Status("optional");
    }
  }
}

// ---------------------------------------------------------------------------
// CONFIG's settings

// The names of log::Level, as server.log_level spells them.
std::string_view LevelName(log::Level level) {
  switch (level) {
    case log::Level::kDebug:
      return "debug";
    case log::Level::kInfo:
      return "info";
    case log::Level::kWarning:
      return "warning";
    case log::Level::kError:
      return "error";
  }
  return "info";
}

// A setting CONFIG knows. `get` returns its value; `check` (nullptr: not settable at
// run time) looks at a new value and returns why it is refused ("" if acceptable);
// `apply` then installs it. Checking everything before applying anything makes a
// multi-setting CONFIG SET all or nothing, as Redis's.
struct Setting {
  std::string_view name;
  std::string (*get)(Context& c);
  std::string (*check)(std::string_view value);
  void (*apply)(Context& c, std::string_view value);
};

// Redis's level names are accepted too, mapped to the nearest of Memento's.
bool ParseLogLevel(std::string_view value, log::Level* level) {
  if (EqualsIgnoreCase(value, "verbose")) {
    *level = log::Level::kDebug;
    return true;
  }
  if (EqualsIgnoreCase(value, "notice")) {
    *level = log::Level::kInfo;
    return true;
  }
  return log::ParseLevel(value, level);
}

constexpr Setting kSettings[] = {
    // Asked for by redis-benchmark. The write-ahead log is on whenever the daemon
    // persists and cannot be switched at run time: CONFIG SET appendonly accepts
    // yes/no (tools send it) and changes nothing (docs/protocol.md).
    {"appendonly",
     [](Context& c) {
       const bool on = c.commands.loading() || c.commands.persistence() != nullptr;
       return std::string(on ? "yes" : "no");
     },
     [](std::string_view v) -> std::string {
       return EqualsIgnoreCase(v, "yes") || EqualsIgnoreCase(v, "no")
                  ? ""
                  : "argument must be 'yes' or 'no'";
     },
     [](Context&, std::string_view) {}},
    {"bind", [](Context& c) { return c.commands.facts().bind; }, nullptr, nullptr},
    // Redis's "<class> <hard> <soft> <soft seconds>": Memento has one class, a hard
    // limit and no soft one (server.max_output_buffer).
    {"client-output-buffer-limit",
     [](Context& c) {
       return "normal " + std::to_string(c.commands.facts().max_output_buffer) + " 0 0";
     },
     nullptr, nullptr},
    {"client-query-buffer-limit",
     [](Context& c) { return std::to_string(c.commands.facts().max_query_buffer); }, nullptr,
     nullptr},
    {"databases", [](Context&) { return std::string("1"); }, nullptr, nullptr},
    {"dir", [](Context& c) { return c.commands.facts().data_dir; }, nullptr, nullptr},
    {"io-threads", [](Context& c) { return std::to_string(c.commands.facts().threads); }, nullptr,
     nullptr},
    {"loglevel", [](Context&) { return std::string(LevelName(log::GetLevel())); },
     [](std::string_view v) -> std::string {
       log::Level level;
       return ParseLogLevel(v, &level) ? ""
                                       : "argument(s) must be one of the following: debug, "
                                         "info, warning, error (or verbose, notice)";
     },
     [](Context&, std::string_view v) {
       log::Level level = log::Level::kInfo;
       if (ParseLogLevel(v, &level)) log::SetLevel(level);
     }},
    {"maxclients", [](Context& c) { return std::to_string(c.commands.facts().max_clients); },
     nullptr, nullptr},
    {"maxmemory", [](Context&) { return std::string("0"); }, nullptr, nullptr},
    {"port", [](Context& c) { return std::to_string(c.commands.port()); }, nullptr, nullptr},
    {"protected-mode",
     [](Context& c) { return std::string(c.commands.facts().protected_mode ? "yes" : "no"); },
     nullptr, nullptr},
    {"proto-max-bulk-len",
     [](Context& c) { return std::to_string(c.commands.facts().max_bulk); }, nullptr, nullptr},
    {"requirepass", [](Context& c) { return c.commands.RequirePass(); },
     [](std::string_view) { return std::string(); },
     [](Context& c, std::string_view v) { c.commands.SetRequirePass(v); }},
    {"save", [](Context&) { return std::string(); },
     [](std::string_view v) -> std::string {
       return v.empty() ? "" : "use storage.snapshot_interval_s / snapshot_after_writes";
     },
     [](Context&, std::string_view) {}},
    {"timeout", [](Context& c) { return std::to_string(c.commands.facts().idle_timeout_s); },
     nullptr, nullptr},
};
static_assert(std::size(kSettings) <= 32, "ConfigGet tracks matches in a 32-bit mask");

const Setting* FindSetting(std::string_view name) {
  for (const Setting& s : kSettings) {
    if (EqualsIgnoreCase(name, s.name)) return &s;
  }
  return nullptr;
}

void ConfigGet(Context& c) {
  // Redis: a pattern without glob characters is looked up by name (any case) and
  // answered under the name as sent; otherwise every setting it matches (any case).
  std::vector<std::pair<std::string, std::string>> found;
  uint32_t seen = 0;
  for (size_t i = 2; i < c.argv.size(); ++i) {
    const std::string_view pattern = c.argv[i];
    const bool literal = pattern.find_first_of("[*?") == std::string_view::npos;
    for (size_t j = 0; j < std::size(kSettings); ++j) {
      const Setting& s = kSettings[j];
      const bool match =
          literal ? EqualsIgnoreCase(pattern, s.name) : GlobMatch(pattern, s.name, true);
      if (!match || (seen & (1u << j)) != 0) continue;
      seen |= 1u << j;
      found.emplace_back(literal ? std::string(pattern) : std::string(s.name), s.get(c));
    }
  }
  c.reply.ArrayHeader(found.size() * 2);
  for (const auto& [name, value] : found) {
    c.reply.Bulk(name);
    c.reply.Bulk(value);
  }
}

void ConfigSet(Context& c) {
  if (c.argv.size() % 2 != 0) {  // a name without its value
    c.reply.Error(kSyntaxErr);
    return;
  }
  auto fail = [&c](std::string_view name, std::string_view why) {
    std::string message("ERR CONFIG SET failed (possibly related to argument '");
    message.append(Printable(name)).append("') - ").append(why);
    c.reply.Error(message);
  };
  std::vector<const Setting*> settings;
  for (size_t i = 2; i < c.argv.size(); i += 2) {
    const Setting* s = FindSetting(c.argv[i]);
    if (s == nullptr) {
      c.reply.Error("ERR Unknown option or number of arguments for CONFIG SET - '" +
                    Printable(c.argv[i]) + "'");
      return;
    }
    for (const Setting* earlier : settings) {
      if (earlier == s) return fail(c.argv[i], "duplicate parameter");
    }
    // The listening address, port, data directory and threads are fixed once the
    // daemon runs; change them in the configuration and restart.
    if (s->check == nullptr) return fail(c.argv[i], "can't set immutable config");
    if (std::string why = s->check(c.argv[i + 1]); !why.empty()) return fail(c.argv[i], why);
    settings.push_back(s);
  }
  for (size_t i = 0; i < settings.size(); ++i) settings[i]->apply(c, c.argv[3 + 2 * i]);
  c.reply.Ok();
}

}  // namespace

// ---------------------------------------------------------------------------
// Connection

void Ping(Context& c) {
  if (c.session.feed != nullptr) {
    // On a TAIL feed, as Redis in subscribed mode: ["pong", message or ""].
    c.reply.ArrayHeader(2);
    c.reply.Bulk("pong");
    c.reply.Bulk(c.argv.size() == 2 ? c.argv[1] : std::string_view());
    return;
  }
  if (c.argv.size() == 2) {
    c.reply.Bulk(c.argv[1]);
  } else {
    c.reply.Status("PONG");
  }
}

void Echo(Context& c) { c.reply.Bulk(c.argv[1]); }

void Quit(Context& c) {
  // RESP: +OK, then the connection closes (Redis). Text: no reply at all (the
  // original Memento's QUIT/EXIT).
  if (c.resp()) c.reply.Ok();
  c.session.close_after_reply = true;
}

void Select(Context& c) {
  int64_t index = 0;
  if (!ParseInt64(c.argv[1], &index)) {
    c.reply.Error(kNotIntegerErr);
  } else if (index < INT32_MIN || index > INT32_MAX) {
    c.reply.Error(kIntRangeErr);  // Redis parses an int
  } else if (index != 0) {
    c.reply.Error(kDbIndexErr);
  } else {
    c.reply.Ok();
  }
}

void Auth(Context& c) {
  if (c.argv.size() > 3) {
    c.reply.Error(kSyntaxErr);
    return;
  }
  if (c.argv.size() == 2 && !c.commands.auth_required()) {
    c.reply.Error(kNoPasswordConfiguredErr);
    return;
  }
  const std::string_view user = c.argv.size() == 3 ? c.argv[1] : "default";
  if (!Authenticate(c, user, c.argv.back())) {
    c.reply.Error(kWrongPassErr);
    return;
  }
  c.session.authenticated = true;
  c.reply.Ok();
}

void Hello(Context& c) {
  size_t next = 1;
  if (c.argv.size() >= 2) {
    int64_t version = 0;
    if (!ParseInt64(c.argv[1], &version)) {
      c.reply.Error(kProtoNotIntegerErr);
      return;
    }
    // Only RESP2 is served; RESP3 (3) is refused as Redis refuses versions it lacks.
    if (version != 2) {
      c.reply.Error(kNoProtoErr);
      return;
    }
    next = 2;
  }
  std::string_view user, password, name;
  bool has_auth = false, has_name = false;
  for (size_t i = next; i < c.argv.size(); ++i) {
    const size_t more = c.argv.size() - 1 - i;
    if (EqualsIgnoreCase(c.argv[i], "auth") && more >= 2) {
      user = c.argv[i + 1];
      password = c.argv[i + 2];
      has_auth = true;
      i += 2;
    } else if (EqualsIgnoreCase(c.argv[i], "setname") && more >= 1) {
      name = c.argv[i + 1];
      if (!IsValidClientText(name)) {
        c.reply.Error(kClientNameErr);
        return;
      }
      has_name = true;
      i += 1;
    } else {
      c.reply.Error("ERR Syntax error in HELLO option '" + Printable(c.argv[i]) + "'");
      return;
    }
  }
  if (has_auth) {
    if (!Authenticate(c, user, password)) {
      c.reply.Error(kWrongPassErr);
      return;
    }
    c.session.authenticated = true;
  }
  if (c.commands.auth_required() && !c.session.authenticated) {
    c.reply.Error(kHelloNoAuthErr);
    return;
  }
  if (has_name) c.session.name.assign(name);
  // Redis's map, flat in RESP2; "server" says which server this really is.
  c.reply.ArrayHeader(14);
  c.reply.Bulk("server");
  c.reply.Bulk("memento");
  c.reply.Bulk("version");
  c.reply.Bulk(c.commands.facts().version);
  c.reply.Bulk("proto");
  c.reply.Integer(2);
  c.reply.Bulk("id");
  c.reply.Integer(static_cast<int64_t>(c.session.id));
  c.reply.Bulk("mode");
  c.reply.Bulk("standalone");
  c.reply.Bulk("role");
  c.reply.Bulk("master");
  c.reply.Bulk("modules");
  c.reply.ArrayHeader(0);
}

// ---------------------------------------------------------------------------
// Server

void Command(Context& c) {
  const std::span<const CommandSpec> all = AllCommands();
  if (c.argv.size() == 1) {
    c.reply.ArrayHeader(all.size());
    for (const CommandSpec& spec : all) ReplyCommandInfo(c.reply, spec);
    return;
  }
  const std::string_view sub = c.argv[1];
  const std::span<const std::string_view> names = c.argv.subspan(2);
  if (EqualsIgnoreCase(sub, "count")) {
    if (c.argv.size() != 2) return ReplyWrongArity(c.reply, "command|count");
    c.reply.Integer(static_cast<int64_t>(all.size()));
  } else if (EqualsIgnoreCase(sub, "list")) {
    if (c.argv.size() != 2) return c.reply.Error(kSyntaxErr);  // no FILTERBY
    c.reply.ArrayHeader(all.size());
    for (const CommandSpec& spec : all) c.reply.Bulk(spec.name);
  } else if (EqualsIgnoreCase(sub, "info")) {
    if (names.empty()) {
      c.reply.ArrayHeader(all.size());
      for (const CommandSpec& spec : all) ReplyCommandInfo(c.reply, spec);
      return;
    }
    c.reply.ArrayHeader(names.size());
    for (std::string_view name : names) {
      const CommandSpec* spec = FindCommand(name);
      if (spec != nullptr && spec->resp.served()) {
        ReplyCommandInfo(c.reply, *spec);
      } else {
        c.reply.Null();
      }
    }
  } else if (EqualsIgnoreCase(sub, "docs")) {
    // redis-cli 7.0 asks for every command's docs when it starts an interactive
    // session and builds its help and hints from them; an error would make it fall
    // back to its built-in list of Redis commands, which would offer ones Memento
    // lacks and omit Memento's own.
    std::vector<const CommandSpec*> specs;
    if (names.empty()) {
      for (const CommandSpec& spec : all) {
        if (spec.resp.served()) specs.push_back(&spec);
      }
    } else {
      for (std::string_view name : names) {
        const CommandSpec* spec = FindCommand(name);
        if (spec != nullptr && spec->resp.served()) specs.push_back(spec);
      }
    }
    c.reply.ArrayHeader(specs.size() * 2);
    for (const CommandSpec* spec : specs) ReplyCommandDocs(c.reply, *spec);
  } else if (EqualsIgnoreCase(sub, "help")) {
    static constexpr std::string_view kHelp[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all commands.",
        "COUNT",
        "    Return the total number of commands.",
        "LIST",
        "    Return a list of all commands.",
        "INFO [<command-name> ...]",
        "    Return details about the given commands, or all of them.",
        "DOCS [<command-name> ...]",
        "    Return documentation about the given commands, or all of them.",
        "HELP",
        "    Print this help.",
    };
    ReplyHelp(c.reply, kHelp);
  } else {
    ReplyUnknownSubcommand(c.reply, "COMMAND", sub);
  }
}

void ConfigCommand(Context& c) {
  const std::string_view sub = c.argv[1];
  if (EqualsIgnoreCase(sub, "get")) {
    if (c.argv.size() < 3) return ReplyWrongArity(c.reply, "config|get");
    ConfigGet(c);
  } else if (EqualsIgnoreCase(sub, "set")) {
    if (c.argv.size() < 4) return ReplyWrongArity(c.reply, "config|set");
    ConfigSet(c);
  } else if (EqualsIgnoreCase(sub, "help")) {
    static constexpr std::string_view kHelp[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value> (requirepass, loglevel).",
        "HELP",
        "    Prints this help.",
    };
    ReplyHelp(c.reply, kHelp);
  } else {
    ReplyUnknownSubcommand(c.reply, "CONFIG", sub);
  }
}

void Info(Context& c) {
  // Sections asked for (RESP may name several, as Redis 7); none means all of them.
  std::vector<std::string> wanted;
  for (size_t i = 1; i < c.argv.size(); ++i) wanted.push_back(LowerCopy(c.argv[i]));
  bool all = wanted.empty();
  for (const std::string& w : wanted) all |= w == "all" || w == "default" || w == "everything";
  const ServerFacts& f = c.commands.facts();
  net::ServerStats net_stats;
  if (c.commands.server() != nullptr) net_stats = c.commands.server()->Stats();
  const table::Table& t = c.table();

  std::vector<std::string> lines;
  auto field = [&](std::string_view name, const std::string& value) {
    lines.push_back(std::string(name) + ":" + value);
  };
  auto begin = [&](std::string_view name, std::string_view title) {
    bool asked = all;
    for (const std::string& w : wanted) asked |= w == name;
    if (!asked) return false;
    if (!lines.empty()) lines.emplace_back();
    lines.push_back("# " + std::string(title));
    return true;
  };
  if (begin("server", "Server")) {
    field("redis_version", kRedisVersion);
    field("redis_mode", "standalone");
    field("memento_version", f.version);
    field("process_id", std::to_string(getpid()));
    field("tcp_bind", f.bind);
    field("tcp_port", std::to_string(c.commands.port()));
    field("event_loop_threads", std::to_string(f.threads));
    field("uptime_in_seconds", std::to_string((c.now_ms - f.started_ms) / 1000));
    field("data_dir", f.data_dir);
    field("config_file", f.config_file);
  }
  if (begin("clients", "Clients")) {
    field("connected_clients", std::to_string(net_stats.connected_clients));
    field("blocked_clients", "0");  // no blocking commands
  }
  if (begin("memory", "Memory")) {
    field("used_memory", std::to_string(t.MemoryUsage()));
    field("used_memory_rss", std::to_string(ResidentBytes()));
  }
  if (c.commands.loading() && begin("persistence", "Persistence")) {
    // Redis's fields while loading; the keys loaded so far are in the keyspace section.
    field("loading", "1");
    field("loading_start_time", std::to_string(f.started_ms / 1000));
  }
  if (Persistence* p = c.commands.persistence(); p != nullptr && begin("persistence", "Persistence")) {
    PersistenceStats ps = p->Stats();
    field("loading", "0");
    field("aof_enabled", "1");
    field("wal_fsync", wal::SyncPolicyName(p->options().fsync));
    field("wal_last_lsn", std::to_string(ps.last_lsn));
    field("wal_durable_lsn", std::to_string(ps.durable_lsn));
    field("wal_oldest_lsn", std::to_string(ps.oldest_lsn));
    field("wal_retention_bytes", std::to_string(p->options().wal_retention_bytes));
    field("tail_subscribers", std::to_string(ps.subscribers));
    field("wal_sync_calls", std::to_string(ps.wal_sync_calls));
    field("aof_last_write_status", ps.wal_error.empty() ? "ok" : "err");
    field("wal_error", ps.wal_error);
    field("snapshot_lsn", std::to_string(ps.snapshot_lsn));
    field("rdb_bgsave_in_progress", ps.checkpoint_in_progress ? "1" : "0");
    field("rdb_saves", std::to_string(ps.checkpoints));
    field("rdb_last_save_time", std::to_string(LastSaveSeconds(c.commands)));
    field("rdb_last_bgsave_status", ps.checkpoint_error.empty() ? "ok" : "err");
    field("rdb_last_bgsave_time_sec",
          std::to_string(ps.last_checkpoint_micros / 1000000));
  }
  if (begin("stats", "Stats")) {
    field("total_connections_received", std::to_string(net_stats.total_connections));
    field("total_commands_processed", std::to_string(net_stats.total_commands));
    field("total_net_input_bytes", std::to_string(net_stats.net_input_bytes));
    field("total_net_output_bytes", std::to_string(net_stats.net_output_bytes));
    field("rejected_connections", std::to_string(net_stats.rejected_connections));
    field("protocol_errors", std::to_string(net_stats.protocol_errors));
    field("client_query_buffer_limit_disconnections",
          std::to_string(net_stats.query_limit_disconnections));
    field("client_output_buffer_limit_disconnections",
          std::to_string(net_stats.output_limit_disconnections));
    field("client_idle_timeout_disconnections", std::to_string(net_stats.idle_disconnections));
    field("keyspace_hits", std::to_string(c.commands.keyspace_hits()));
    field("keyspace_misses", std::to_string(c.commands.keyspace_misses()));
    field("expired_keys", std::to_string(t.ExpiredCount()));
  }
  if (begin("cluster", "Cluster")) AppendClusterInfoFields(c.commands, &lines);
  if (begin("keyspace", "Keyspace")) {
    field("db0",
          "keys=" + std::to_string(t.Size()) + ",expires=" + std::to_string(t.ExpiresCount()));
  }
  ReplyLines(c, lines);
}

void Save(Context& c) {
  // SAVE folds the log into the snapshot now (blocking this client's event loop,
  // not the others); BGSAVE [SCHEDULE] asks the checkpointer thread to.
  if (c.argv.size() == 2 && !EqualsIgnoreCase(c.argv[1], "schedule")) {
    c.reply.Error(kSyntaxErr);
    return;
  }
  Persistence* p = c.commands.persistence();
  if (p == nullptr) {
    c.reply.Error(kNoPersistenceErr);
    return;
  }
  if (c.spec.variant == 0) {
    Status s = p->Checkpoint();
    if (s.ok()) {
      c.reply.Ok();
    } else {
      std::string message = "ERR ";
      for (char ch : s.ToString()) message.push_back(ch == '\r' || ch == '\n' ? ' ' : ch);
      c.reply.Error(message);
    }
    return;
  }
  if (p->RequestCheckpoint()) {
    c.reply.Status("Background saving started");
  } else {
    c.reply.Error(kBgSaveInProgressErr);
  }
}

void LastSave(Context& c) { c.reply.Integer(LastSaveSeconds(c.commands)); }

void Shutdown(Context& c) {
  bool nosave = false, save = false, force = false, abort = false, now = false;
  for (size_t i = 1; i < c.argv.size(); ++i) {
    const std::string_view option = c.argv[i];
    if (EqualsIgnoreCase(option, "nosave")) {
      nosave = true;
    } else if (EqualsIgnoreCase(option, "save")) {
      save = true;
    } else if (EqualsIgnoreCase(option, "now")) {
      now = true;  // nothing to wait for: Memento has no replicas
    } else if (EqualsIgnoreCase(option, "force")) {
      force = true;
    } else if (EqualsIgnoreCase(option, "abort")) {
      abort = true;
    } else {
      return c.reply.Error(kSyntaxErr);
    }
  }
  if ((abort && (nosave || save || now || force)) || (nosave && save)) {
    return c.reply.Error(kSyntaxErr);
  }
  // A shutdown here is never pending (there are no replicas to wait for): once
  // SHUTDOWN returns, the daemon is stopping.
  if (abort) return c.reply.Error(kNoShutdownErr);
  if (!c.commands.shutdown_handler()) {
    return c.reply.Error("ERR SHUTDOWN is not available in this process");
  }
  // While loading there is nothing new to checkpoint (and persistence is not set up
  // yet: loading() is the acquire load that makes reading it safe).
  if (!nosave && !c.commands.loading()) {
    // The checkpoint the stop would take anyway, taken now so that a failure can be
    // reported (and the daemon kept running) as Redis does for a failed save.
    if (Persistence* p = c.commands.persistence(); p != nullptr) {
      if (Status s = p->Checkpoint(); !s.ok()) {
        log::Error("SHUTDOWN from %s: the checkpoint failed: %s%s", c.session.peer.c_str(),
                   s.ToString().c_str(), force ? "; stopping anyway (FORCE)" : "; not stopping");
        if (!force) return c.reply.Error(kShutdownFailedErr);
      }
    }
  }
  log::Info("SHUTDOWN from client %s%s: stopping", c.session.peer.c_str(),
            nosave ? " (NOSAVE: no final checkpoint; the write-ahead log has every write)" : "");
  // No reply: the client sees its connection close, as with Redis.
  c.session.close_after_reply = true;
  c.commands.shutdown_handler()(/*final_checkpoint=*/!nosave);
}

void Time(Context& c) {
  using namespace std::chrono;
  const int64_t micros =
      duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  c.reply.ArrayHeader(2);
  c.reply.Bulk(std::to_string(micros / 1000000));
  c.reply.Bulk(std::to_string(micros % 1000000));
}

}  // namespace memento::daemon
