// CLIENT (ID INFO LIST KILL GETNAME SETNAME SETINFO REPLY NO-EVICT HELP), MONITOR,
// and NoteCommand(), which every command passes through for them.
//
// CLIENT LIST, INFO and KILL concern connections of every event loop: the handler
// asks the server (net::Server::ListClients / KillClients), each loop answers for
// its own connections on its own thread, and the reply comes back through
// DeferReply(). So nothing on the request path takes a lock for them, at the price
// of one loop round of latency for these admin commands. Replies and errors follow
// Redis 7.0 (docs/protocol.md says where they differ).

#include <chrono>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/numbers.h"
#include "common/quote.h"
#include "daemon/cmd_context.h"
#include "daemon/cmd_errors.h"
#include "net/proto/resp_reply.h"

namespace memento::daemon {

bool IsValidClientText(std::string_view text) {
  for (char ch : text) {
    if (ch < '!' || ch > '~') return false;
  }
  return true;
}

namespace {

// Commands whose first argument is a subcommand: CLIENT LIST shows them as
// "client|list", as Redis 7 does.
bool HasSubcommands(const CommandSpec& spec) {
  return spec.handler == Client || spec.handler == ConfigCommand || spec.handler == Command ||
         spec.handler == Cluster;
}

// Redis hides admin commands from MONITOR (too dangerous to show), including these
// CLIENT subcommands, which Redis flags admin.
bool HiddenFromMonitors(const CommandSpec& spec, std::span<const std::string_view> argv) {
  if ((spec.flags & kAdmin) != 0) return true;
  if (spec.handler != Client || argv.size() < 2) return false;
  for (std::string_view admin : {"kill", "list", "no-evict", "pause", "unpause"}) {
    if (EqualsIgnoreCase(argv[1], admin)) return true;
  }
  return false;
}

// Whether MONITOR shows argument `i` as "(redacted)", as Redis 7 does: every
// argument of AUTH, the user and password after HELLO's AUTH.
bool Redacted(const CommandSpec& spec, std::span<const std::string_view> argv, size_t i) {
  if (spec.handler == Auth) return i >= 1;
  if (spec.handler == Hello) {
    for (size_t j = 1; j + 2 < argv.size() && j < i; ++j) {
      if (EqualsIgnoreCase(argv[j], "auth") && (i == j + 1 || i == j + 2)) return true;
    }
  }
  return false;
}

// "+1700000000.123456 [0 127.0.0.1:53422] "set" "k" "v"\r\n": Redis's MONITOR line
// (the database is always 0; arguments as sent, quoted as Redis quotes them).
void AppendMonitorLine(const net::Session& session, const CommandSpec& spec,
                       std::span<const std::string_view> argv, std::string* out) {
  using namespace std::chrono;
  const int64_t micros =
      duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  char stamp[48];
  std::snprintf(stamp, sizeof(stamp), "+%lld.%06lld [0 ", static_cast<long long>(micros / 1000000),
                static_cast<long long>(micros % 1000000));
  out->append(stamp).append(session.peer).append("]");
  for (size_t i = 0; i < argv.size(); ++i) {
    out->push_back(' ');
    if (Redacted(spec, argv, i)) {
      out->append("\"(redacted)\"");
    } else {
      AppendQuoted(argv[i], out);
    }
  }
  out->append("\r\n");
}

// One CLIENT LIST line, Redis 7.0.15's fields in Redis's order. Memento has no
// databases or pub/sub (db=0 sub=0 psub=0 ssub=0); inside MULTI flags=x and multi=
// counts the queued commands (-1 outside), as Redis; no
// argument copies (argv-mem=0: requests are parsed in place) and one user (default).
// The buffer fields are Memento's own: rbs is the input buffer, rbp the same (no
// peak is kept), obl the unsent reply bytes, oll/omem the replies held behind a
// forwarded one. resp=0 marks a text-protocol connection.
std::string ClientLine(const net::ClientFacts& f) {
  std::string events;
  if (f.reading) events.push_back('r');
  if (f.writing) events.push_back('w');
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                " age=%lld idle=%lld flags=%s db=0 sub=0 psub=0 ssub=0 multi=%lld qbuf=%zu "
                "qbuf-free=%zu argv-mem=0 multi-mem=0 rbs=%zu rbp=%zu obl=%zu oll=%zu omem=%zu "
                "tot-mem=%zu events=%s cmd=",
                static_cast<long long>(f.age_s), static_cast<long long>(f.idle_s),
                f.monitor ? "O" : f.multi >= 0 ? "x" : "N", static_cast<long long>(f.multi),
                f.qbuf, f.qbuf_free, f.rbs, f.rbs, f.obl, f.oll, f.omem, f.tot_mem,
                events.c_str());
  std::string line = "id=" + std::to_string(f.id) + " addr=" + f.addr + " laddr=" + f.laddr +
                     " fd=" + std::to_string(f.fd) + " name=" + f.name;
  line.append(buf).append(f.cmd);
  line.append(" user=default redir=-1 resp=").append(f.dialect == net::Dialect::kResp ? "2" : "0");
  return line;
}

// Outside a server (unit tests of the command layer): what the session itself knows.
net::ClientFacts SessionFacts(const Context& c) {
  net::ClientFacts f;
  f.id = c.session.id;
  f.addr = c.session.peer;
  f.name = c.session.name;
  f.age_s = (c.now_ms - c.session.connected_ms) / 1000;
  f.monitor = c.session.monitoring;
  f.dialect = c.session.dialect;
  f.multi = c.session.command_state != nullptr ? c.session.command_state->QueuedCommands() : -1;
  f.cmd = c.session.last_command;
  return f;
}

std::string EncodeBulk(std::string_view text) {
  std::string bytes;
  proto::RespReplyBuilder builder(&bytes);
  builder.Bulk(text);
  return bytes;
}

// Replies the CLIENT LIST lines of the connections `filter` selects, one "\n" after
// each; with `order`, in that order of ids (repeats repeated, as Redis's CLIENT LIST
// ID), else by id.
void ReplyClientLines(Context& c, net::ClientFilter filter, std::vector<uint64_t> order) {
  auto render = [order](std::vector<net::ClientFacts> facts) {
    std::string text;
    if (order.empty()) {
      for (const net::ClientFacts& f : facts) text.append(ClientLine(f)).push_back('\n');
    } else {
      std::unordered_map<uint64_t, std::string> lines;
      for (const net::ClientFacts& f : facts) lines[f.id] = ClientLine(f);
      for (uint64_t id : order) {
        if (auto it = lines.find(id); it != lines.end()) text.append(it->second).push_back('\n');
      }
    }
    return text;
  };
  net::Server* server = c.commands.server();
  if (server == nullptr || c.session.mailbox == nullptr) {
    std::vector<net::ClientFacts> mine;
    net::ClientFacts f = SessionFacts(c);
    if (filter.Matches(f.id, f.addr, f.laddr)) mine.push_back(std::move(f));
    c.reply.Bulk(render(std::move(mine)));
    return;
  }
  net::DeferredReply reply = net::DeferReply(c.session);
  server->ListClients(std::move(filter),
                      [reply, render](std::vector<net::ClientFacts> facts) mutable {
                        reply.Complete(EncodeBulk(render(std::move(facts))));
                      });
}

// Redis's client types: every Memento connection is "normal" (monitors too, as in
// Redis); master, replica (slave) and pubsub name none. False: not a type.
bool ParseClientType(std::string_view name, bool* matches_all) {
  if (EqualsIgnoreCase(name, "normal")) {
    *matches_all = true;
    return true;
  }
  *matches_all = false;
  return EqualsIgnoreCase(name, "master") || EqualsIgnoreCase(name, "replica") ||
         EqualsIgnoreCase(name, "slave") || EqualsIgnoreCase(name, "pubsub");
}

void ClientList(Context& c) {
  net::ClientFilter filter;
  std::vector<uint64_t> order;
  const size_t argc = c.argv.size();
  if (argc == 4 && EqualsIgnoreCase(c.argv[2], "type")) {
    bool all = false;
    if (!ParseClientType(c.argv[3], &all)) {
      c.reply.Error("ERR Unknown client type '" + Printable(c.argv[3]) + "'");
      return;
    }
    filter.none = !all;
  } else if (argc > 3 && EqualsIgnoreCase(c.argv[2], "id")) {
    for (size_t i = 3; i < argc; ++i) {
      int64_t id = 0;
      if (!ParseInt64(c.argv[i], &id)) {
        c.reply.Error(kInvalidClientIdErr);
        return;
      }
      order.push_back(static_cast<uint64_t>(id));
    }
    filter.ids = order;
  } else if (argc != 2) {
    c.reply.Error(kSyntaxErr);
    return;
  }
  ReplyClientLines(c, std::move(filter), std::move(order));
}

void ClientKill(Context& c) {
  const size_t argc = c.argv.size();
  net::ClientFilter filter;
  bool skip_me = true;
  const bool old_form = argc == 3;  // CLIENT KILL ip:port; may kill the caller
  if (old_form) {
    filter.addr.assign(c.argv[2]);
    skip_me = false;
  } else {
    for (size_t i = 2; i < argc; i += 2) {
      const std::string_view option = c.argv[i];
      if (i + 1 >= argc) {
        c.reply.Error(kSyntaxErr);
        return;
      }
      const std::string_view value = c.argv[i + 1];
      if (EqualsIgnoreCase(option, "id")) {
        int64_t id = 0;
        if (!ParseInt64(value, &id) || id < 1) {
          c.reply.Error(kClientIdRangeErr);
          return;
        }
        filter.ids.assign(1, static_cast<uint64_t>(id));
      } else if (EqualsIgnoreCase(option, "type")) {
        bool all = false;
        if (!ParseClientType(value, &all)) {
          c.reply.Error("ERR Unknown client type '" + Printable(value) + "'");
          return;
        }
        filter.none = filter.none || !all;
      } else if (EqualsIgnoreCase(option, "addr")) {
        filter.addr.assign(value);
      } else if (EqualsIgnoreCase(option, "laddr")) {
        filter.laddr.assign(value);
      } else if (EqualsIgnoreCase(option, "user")) {
        // The only user is "default", and every connection is it.
        if (value != "default") {
          c.reply.Error("ERR No such user '" + Printable(value) + "'");
          return;
        }
      } else if (EqualsIgnoreCase(option, "skipme")) {
        if (EqualsIgnoreCase(value, "yes")) {
          skip_me = true;
        } else if (EqualsIgnoreCase(value, "no")) {
          skip_me = false;
        } else {
          c.reply.Error(kSyntaxErr);
          return;
        }
      } else {
        c.reply.Error(kSyntaxErr);
        return;
      }
    }
  }
  if (skip_me) filter.skip_id = c.session.id;
  auto encode = [old_form](size_t killed) {
    std::string bytes;
    proto::RespReplyBuilder builder(&bytes);
    if (!old_form) {
      builder.Integer(static_cast<int64_t>(killed));
    } else if (killed == 0) {
      builder.Error(kNoSuchClientErr);
    } else {
      builder.Ok();
    }
    return bytes;
  };
  net::Server* server = c.commands.server();
  if (server == nullptr || c.session.mailbox == nullptr) {
    // No server: only this connection exists, and it is not closed here.
    const bool self = filter.Matches(c.session.id, c.session.peer, "");
    if (self) c.session.close_after_reply = true;
    if (!old_form) {
      c.reply.Integer(self ? 1 : 0);
    } else if (self) {
      c.reply.Ok();
    } else {
      c.reply.Error(kNoSuchClientErr);
    }
    return;
  }
  net::DeferredReply reply = net::DeferReply(c.session);
  server->KillClients(std::move(filter), c.session.id,
                      [reply, encode](size_t killed) mutable { reply.Complete(encode(killed)); });
}

}  // namespace

void NoteCommand(net::Session& session, const CommandSpec& spec,
                 std::span<const std::string_view> argv, bool feed_monitors) {
  // Short names fit std::string's inline buffer: no allocation.
  session.last_command.assign(spec.name);
  if (argv.size() >= 2 && HasSubcommands(spec)) {
    session.last_command.push_back('|');
    for (char ch : argv[1].substr(0, 32)) {
      session.last_command.push_back(ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch + 32) : ch);
    }
  }
  if (feed_monitors && net::MonitorsActive(session) && !HiddenFromMonitors(spec, argv)) {
    AppendMonitorLine(session, spec, argv, &session.monitor_lines);
  }
}

void Monitor(Context& c) {
  if (!net::StartMonitoring(c.session)) {
    c.reply.Error("ERR MONITOR needs a client connection of the server");
    return;
  }
  c.reply.Ok();
}

void Client(Context& c) {
  const std::string_view sub = c.argv[1];
  const size_t argc = c.argv.size();
  if (EqualsIgnoreCase(sub, "id")) {
    if (SubcommandArityOk(c, 2, "client|id")) c.reply.Integer(static_cast<int64_t>(c.session.id));
  } else if (EqualsIgnoreCase(sub, "info")) {
    if (!SubcommandArityOk(c, 2, "client|info")) return;
    net::ClientFilter self;
    self.ids.push_back(c.session.id);
    ReplyClientLines(c, std::move(self), {});
  } else if (EqualsIgnoreCase(sub, "list")) {
    ClientList(c);
  } else if (EqualsIgnoreCase(sub, "kill")) {
    if (argc < 3) return ReplyWrongArity(c.reply, "client|kill");
    ClientKill(c);
  } else if (EqualsIgnoreCase(sub, "getname")) {
    if (!SubcommandArityOk(c, 2, "client|getname")) return;
    if (c.session.name.empty()) {
      c.reply.Null();
    } else {
      c.reply.Bulk(c.session.name);
    }
  } else if (EqualsIgnoreCase(sub, "setname")) {
    if (!SubcommandArityOk(c, 3, "client|setname")) return;
    if (!IsValidClientText(c.argv[2])) {
      c.reply.Error(kClientNameErr);
      return;
    }
    c.session.name.assign(c.argv[2]);  // empty: no name
    c.reply.Ok();
  } else if (EqualsIgnoreCase(sub, "setinfo")) {
    // Sent by client libraries on connect (Redis 7.2). Accepted and not kept: no
    // command reports it yet.
    if (!SubcommandArityOk(c, 4, "client|setinfo")) return;
    const std::string_view attr = c.argv[2];
    if (!EqualsIgnoreCase(attr, "lib-name") && !EqualsIgnoreCase(attr, "lib-ver")) {
      c.reply.Error("ERR Unrecognized option '" + Printable(attr) + "'");
      return;
    }
    if (!IsValidClientText(c.argv[3])) {
      c.reply.Error("ERR " + Printable(attr) +
                    " cannot contain spaces, newlines or special characters.");
      return;
    }
    c.reply.Ok();
  } else if (EqualsIgnoreCase(sub, "reply")) {
    if (!SubcommandArityOk(c, 3, "client|reply")) return;
    const std::string_view mode = c.argv[2];
    if (EqualsIgnoreCase(mode, "on")) {
      c.session.reply_off = false;
      c.session.reply_skip_next = false;
      c.reply.Ok();
    } else if (EqualsIgnoreCase(mode, "off")) {
      c.session.reply_off = true;  // the connection drops this reply, and the next ones
      c.reply.Ok();
    } else if (EqualsIgnoreCase(mode, "skip")) {
      // No reply, as Redis (unless replies are off anyway), and none for the next.
      c.session.reply_skip_next = !c.session.reply_off;
    } else {
      c.reply.Error(kSyntaxErr);
    }
  } else if (EqualsIgnoreCase(sub, "no-evict")) {
    // Memento never evicts clients (there is no maxmemory-clients): accepted.
    if (!SubcommandArityOk(c, 3, "client|no-evict")) return;
    if (EqualsIgnoreCase(c.argv[2], "on") || EqualsIgnoreCase(c.argv[2], "off")) {
      c.reply.Ok();
    } else {
      c.reply.Error(kSyntaxErr);
    }
  } else if (EqualsIgnoreCase(sub, "help")) {
    static constexpr std::string_view kHelp[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are: LIB-NAME, LIB-VER (accepted, not kept).",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction (accepted: no eviction).",
        "HELP",
        "    Print this help.",
    };
    ReplyHelp(c.reply, kHelp);
  } else {
    ReplyUnknownSubcommand(c.reply, "CLIENT", sub);
  }
}

}  // namespace memento::daemon
