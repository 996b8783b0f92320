// The command table and every command's implementation. docs/protocol.md specifies
// the requests and replies byte by byte; keep the two in step.

#include "daemon/commands.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/numbers.h"

namespace memento::daemon {

// Error texts, shared with Redis where Redis has the same error.
inline constexpr char kNotIntegerErr[] = "ERR value is not an integer or out of range";
inline constexpr char kNotFloatErr[] = "ERR value is not a valid float";
inline constexpr char kOverflowErr[] = "ERR increment or decrement would overflow";
inline constexpr char kNanOrInfErr[] = "ERR increment would produce NaN or Infinity";
inline constexpr char kUnknownCommandText[] = "(Unknown command)";

// A command: its upper-case name, how many words a request for it has (the name
// included; kAny for no upper bound), its handler, and a variant for handlers that
// serve a pair of commands (INC/DEC: +1 or -1).
struct CommandSpec {
  static constexpr size_t kAny = ~size_t{0};
  std::string_view name;
  size_t min_argc;
  size_t max_argc;
  void (*handler)(Commands::Context&);
  int variant = 0;
};

struct CommandSpecTable {
  static const CommandSpec* Find(std::string_view upper_name) {
    constexpr size_t kAny = CommandSpec::kAny;
    static const CommandSpec kSpecs[] = {
        {"GET", 2, 2, &Commands::Get},
        {"SET", 3, 3, &Commands::Set},
        {"DEL", 2, kAny, &Commands::Del},
        {"INC", 2, 3, &Commands::IncDec, +1},
        {"DEC", 2, 3, &Commands::IncDec, -1},
        {"INCF", 2, 3, &Commands::IncDecFloat, +1},
        {"DECF", 2, 3, &Commands::IncDecFloat, -1},
        {"GETP", 2, 2, &Commands::GetP},
        {"APPEND", 3, 3, &Commands::AppendPrepend, +1},
        {"PREPEND", 3, 3, &Commands::AppendPrepend, -1},
        {"FLUSH", 1, 1, &Commands::Flush},
        {"QUIT", 1, 1, &Commands::Quit},
        {"EXIT", 1, 1, &Commands::Quit},
        {"PING", 1, 2, &Commands::Ping},
        {"COUNT", 1, 1, &Commands::Count},
        {"KEYS", 1, 2, &Commands::Keys},
        {"EXPIRE", 3, 3, &Commands::Expire},
        {"TTL", 2, 2, &Commands::Ttl},
        {"PERSIST", 2, 2, &Commands::Persist},
        {"INFO", 1, 2, &Commands::Info},
    };
    for (const CommandSpec& spec : kSpecs) {
      if (spec.name == upper_name) return &spec;
    }
    return nullptr;
  }
};

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// The text protocol's two common reply pairs.
void OkOrError(proto::ReplyBuilder& reply, const char* error) {
  if (error != nullptr) {
    reply.Error(error);
  } else {
    reply.Ok();
  }
}
void OkOrNull(proto::ReplyBuilder& reply, bool ok) {
  if (ok) {
    reply.Ok();
  } else {
    reply.Null();
  }
}

void WrongArity(proto::ReplyBuilder& reply, std::string_view name) {
  reply.Error("ERR wrong number of arguments for '" + Lower(name) + "' command");
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

}  // namespace

Commands::Commands(table::Table* table) : table_(table) {}

void Commands::Execute(net::Session& session, std::span<const std::string_view> argv,
                       proto::ReplyBuilder& reply) {
  // Command names are short; an over-long first token cannot name a command.
  char upper[16];
  std::string_view name = argv[0];
  const CommandSpec* spec = nullptr;
  if (name.size() <= sizeof(upper)) {
    for (size_t i = 0; i < name.size(); ++i) {
      upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[i])));
    }
    spec = CommandSpecTable::Find(std::string_view(upper, name.size()));
  }
  if (spec == nullptr) {
    reply.Status(kUnknownCommandText);
    return;
  }
  if (argv.size() < spec->min_argc || argv.size() > spec->max_argc) {
    WrongArity(reply, name);
    return;
  }
  Context ctx{this, session, argv, reply, NowMillis(), spec->variant};
  spec->handler(ctx);
}

// ---------------------------------------------------------------------------
// Strings

void Commands::Ping(Context& c) {
  if (c.argv.size() == 2) {
    c.reply.Bulk(c.argv[1]);
  } else {
    c.reply.Status("PONG");
  }
}

void Commands::Set(Context& c) {
  // SET replaces the key: a new creation time, and no expiry (as Redis's plain SET).
  c.self->table_->Write(c.argv[1], c.now_ms, [&](table::Slot& slot) {
    slot.Create(c.now_ms)->value.assign(c.argv[2]);
  });
  c.reply.Ok();
}

void Commands::Get(Context& c) {
  bool found = c.self->table_->Read(c.argv[1], c.now_ms, [&](const table::Entry* e) {
    if (e == nullptr) return false;
    c.reply.Bulk(e->value);
    return true;
  });
  if (found) {
    c.self->Hit();
  } else {
    c.self->Miss();
    c.reply.Null();
  }
}

void Commands::Del(Context& c) {
  size_t deleted = 0;
  for (size_t i = 1; i < c.argv.size(); ++i) {
    deleted += c.self->table_->Write(c.argv[i], c.now_ms,
                                     [](table::Slot& slot) { return slot.Erase() ? 1 : 0; });
  }
  // The text protocol keeps the original's tokens: OK if anything went, else (null).
  OkOrNull(c.reply, deleted > 0);
}

void Commands::IncDec(Context& c) {
  bool decrement = c.variant < 0;
  int64_t delta = 1;
  if (c.argv.size() == 3 && !ParseInt64(c.argv[2], &delta)) {
    c.reply.Error(kNotIntegerErr);
    return;
  }
  if (decrement) {
    if (delta == INT64_MIN) {
      c.reply.Error(kOverflowErr);
      return;
    }
    delta = -delta;
  }
  const char* error = c.self->table_->Write(c.argv[1], c.now_ms, [&](table::Slot& slot) -> const char* {
    table::Entry* e = slot.entry();
    int64_t current = 0;
    if (e != nullptr && !ParseInt64(e->value, &current)) return kNotIntegerErr;
    int64_t next = 0;
    if (__builtin_add_overflow(current, delta, &next)) return kOverflowErr;
    // A missing key counts from 0, as Redis's INCR; an existing one keeps its
    // creation time and expiry.
    if (e == nullptr) e = slot.Create(c.now_ms);
    e->value = FormatInt64(next);
    return nullptr;
  });
  OkOrError(c.reply, error);
}

void Commands::IncDecFloat(Context& c) {
  bool decrement = c.variant < 0;
  double delta = 1.0;
  if (c.argv.size() == 3 && !ParseFiniteDouble(c.argv[2], &delta)) {
    c.reply.Error(kNotFloatErr);
    return;
  }
  if (decrement) delta = -delta;
  const char* error = c.self->table_->Write(c.argv[1], c.now_ms, [&](table::Slot& slot) -> const char* {
    table::Entry* e = slot.entry();
    double current = 0;
    if (e != nullptr && !ParseFiniteDouble(e->value, &current)) return kNotFloatErr;
    double next = current + delta;
    if (!std::isfinite(next)) return kNanOrInfErr;
    if (e == nullptr) e = slot.Create(c.now_ms);
    e->value = FormatDouble(next);
    return nullptr;
  });
  OkOrError(c.reply, error);
}

void Commands::GetP(Context& c) {
  // Four lines: key, value, creation time and expiry (ms since epoch, -1 = none).
  bool found = c.self->table_->Read(c.argv[1], c.now_ms, [&](const table::Entry* e) {
    if (e == nullptr) return false;
    std::string line;
    line.reserve(c.argv[1].size() + e->value.size() + 16);
    line.append("key: ").append(c.argv[1]);
    c.reply.Bulk(line);
    line.assign("value: ").append(e->value);
    c.reply.Bulk(line);
    c.reply.Bulk("creation_time: " + FormatInt64(e->created_ms));
    c.reply.Bulk("expire_time: " + FormatInt64(e->expire_ms));
    return true;
  });
  if (found) {
    c.self->Hit();
  } else {
    c.self->Miss();
    c.reply.Null();
  }
}

void Commands::AppendPrepend(Context& c) {
  bool prepend = c.variant < 0;
  c.self->table_->Write(c.argv[1], c.now_ms, [&](table::Slot& slot) {
    // A missing key is created, as Redis's APPEND does.
    table::Entry* e = slot.entry();
    if (e == nullptr) e = slot.Create(c.now_ms);
    if (prepend) {
      e->value.insert(0, c.argv[2]);
    } else {
      e->value.append(c.argv[2]);
    }
  });
  c.reply.Ok();
}

void Commands::Flush(Context& c) {
  c.self->table_->Clear();
  c.reply.Ok();
}

void Commands::Quit(Context& c) {
  // As the original: no reply, the connection is closed.
  c.session.close_after_reply = true;
}

// ---------------------------------------------------------------------------
// Keyspace

void Commands::Count(Context& c) {
  c.reply.Integer(static_cast<int64_t>(c.self->table_->Size()));
}

void Commands::Keys(Context& c) {
  std::string_view prefix = c.argv.size() == 2 ? c.argv[1] : std::string_view();
  std::vector<std::string> keys;
  c.self->table_->ForEach(c.now_ms, [&](std::string_view key, const table::Entry&) {
    if (key.substr(0, prefix.size()) == prefix) keys.emplace_back(key);
  });
  std::sort(keys.begin(), keys.end());
  c.reply.ArrayHeader(keys.size());
  for (const std::string& key : keys) c.reply.Bulk(key);
}

void Commands::Expire(Context& c) {
  int64_t seconds = 0;
  int64_t expire_ms = 0;
  if (!ParseInt64(c.argv[2], &seconds) || __builtin_mul_overflow(seconds, 1000, &expire_ms) ||
      __builtin_add_overflow(expire_ms, c.now_ms, &expire_ms)) {
    c.reply.Error("ERR invalid expire time in 'expire' command");
    return;
  }
  bool found = c.self->table_->Write(c.argv[1], c.now_ms, [&](table::Slot& slot) {
    table::Entry* e = slot.entry();
    if (e == nullptr) return false;
    // A time in the past deletes the key at once, as Redis does.
    if (seconds <= 0) {
      slot.Erase();
    } else {
      e->expire_ms = expire_ms;
    }
    return true;
  });
  OkOrNull(c.reply, found);
}

void Commands::Ttl(Context& c) {
  int64_t ttl = c.self->table_->Read(c.argv[1], c.now_ms, [&](const table::Entry* e) -> int64_t {
    if (e == nullptr) return -2;
    if (e->expire_ms == table::kNoExpiry) return -1;
    // Rounded to the nearest second, as Redis's TTL.
    return (e->expire_ms - c.now_ms + 500) / 1000;
  });
  c.reply.Integer(ttl);
}

void Commands::Persist(Context& c) {
  bool removed = c.self->table_->Write(c.argv[1], c.now_ms, [&](table::Slot& slot) {
    table::Entry* e = slot.entry();
    if (e == nullptr || e->expire_ms == table::kNoExpiry) return false;
    e->expire_ms = table::kNoExpiry;
    return true;
  });
  OkOrNull(c.reply, removed);
}

// ---------------------------------------------------------------------------
// Server

void Commands::Info(Context& c) {
  std::string section = c.argv.size() == 2 ? Lower(c.argv[1]) : "all";
  bool all = section == "all" || section == "default" || section == "everything";
  const ServerFacts& f = c.self->facts_;
  net::ServerStats net_stats;
  if (c.self->server_ != nullptr) net_stats = c.self->server_->Stats();
  const table::Table& t = *c.self->table_;

  std::vector<std::string> lines;
  auto field = [&](std::string_view name, const std::string& value) {
    lines.push_back(std::string(name) + ":" + value);
  };
  auto begin = [&](std::string_view name, std::string_view title) {
    if (!all && section != name) return false;
    if (!lines.empty()) lines.emplace_back();
    lines.push_back("# " + std::string(title));
    return true;
  };
  if (begin("server", "Server")) {
    field("memento_version", f.version);
    field("process_id", std::to_string(getpid()));
    field("tcp_bind", f.bind);
    field("tcp_port", std::to_string(f.port));
    field("event_loop_threads", std::to_string(f.threads));
    field("uptime_in_seconds", std::to_string((c.now_ms - f.started_ms) / 1000));
    field("data_dir", f.data_dir);
    field("config_file", f.config_file);
  }
  if (begin("clients", "Clients")) {
    field("connected_clients", std::to_string(net_stats.connected_clients));
  }
  if (begin("memory", "Memory")) {
    field("used_memory", std::to_string(t.MemoryUsage()));
    field("used_memory_rss", std::to_string(ResidentBytes()));
  }
  if (begin("stats", "Stats")) {
    field("total_connections_received", std::to_string(net_stats.total_connections));
    field("total_commands_processed", std::to_string(net_stats.total_commands));
    field("total_net_input_bytes", std::to_string(net_stats.net_input_bytes));
    field("total_net_output_bytes", std::to_string(net_stats.net_output_bytes));
    field("protocol_errors", std::to_string(net_stats.protocol_errors));
    field("keyspace_hits", std::to_string(c.self->keyspace_hits()));
    field("keyspace_misses", std::to_string(c.self->keyspace_misses()));
    field("expired_keys", std::to_string(t.ExpiredCount()));
  }
  if (begin("keyspace", "Keyspace")) {
    field("db0", "keys=" + std::to_string(t.Size()) + ",expires=" + std::to_string(t.ExpiresCount()));
  }
  // The text protocol frames a multi-line reply as a count line, then the lines.
  c.reply.ArrayHeader(lines.size());
  for (const std::string& line : lines) c.reply.Bulk(line);
}

}  // namespace memento::daemon
