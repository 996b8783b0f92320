// Helpers shared by the command handlers (declared in daemon/cmd_context.h).

#include "daemon/cmd_context.h"

#include "daemon/cmd_errors.h"

#include <algorithm>
#include <string>
#include <utility>

namespace memento::daemon {

std::string Printable(std::string_view s, size_t limit) {
  // Redis formats these with "%s", which stops at a NUL byte.
  s = s.substr(0, std::min(s.find('\0'), limit));
  std::string out(s);
  for (char& ch : out) {
    if (ch == '\r' || ch == '\n') ch = ' ';
  }
  return out;
}

std::string WalFailedMessage(const Status& broken) {
  std::string message(kWalFailedErr);
  for (char ch : broken.message()) message.push_back(ch == '\r' || ch == '\n' ? ' ' : ch);
  return message;
}

std::string WrongArityMessage(std::string_view name) {
  std::string message("ERR wrong number of arguments for '");
  message.append(name).append("' command");
  return message;
}

void ReplyWrongArity(proto::ReplyBuilder& reply, std::string_view name) {
  reply.Error(WrongArityMessage(name));
}

bool SubcommandArityOk(Context& c, size_t want, std::string_view full_name) {
  if (c.argv.size() == want) return true;
  ReplyWrongArity(c.reply, full_name);
  return false;
}

void ReplyUnknownCommand(proto::ReplyBuilder& reply, std::span<const std::string_view> argv) {
  // Redis: each argument as "'%.*s' " while the list is under 128 bytes, each one
  // cut to what is left of the 128.
  constexpr size_t kArgsLimit = 128;
  std::string args;
  for (size_t i = 1; i < argv.size() && args.size() < kArgsLimit; ++i) {
    const std::string arg = Printable(argv[i], kArgsLimit - args.size());
    args.append("'").append(arg).append("' ");
  }
  std::string message("ERR unknown command '");
  message.append(Printable(argv[0])).append("', with args beginning with: ").append(args);
  reply.Error(message);
}

void ReplyUnknownSubcommand(proto::ReplyBuilder& reply, std::string_view command,
                            std::string_view subcommand) {
  std::string message("ERR unknown subcommand '");
  message.append(Printable(subcommand)).append("'. Try ").append(command).append(" HELP.");
  reply.Error(message);
}

void ReplyHelp(proto::ReplyBuilder& reply, std::span<const std::string_view> lines) {
  reply.ArrayHeader(lines.size());
  for (std::string_view line : lines) reply.Status(line);
}

void ReplyLines(Context& c, std::span<const std::string> lines) {
  if (!c.resp()) {
    c.reply.ArrayHeader(lines.size());
    for (const std::string& line : lines) c.reply.Bulk(line);
    return;
  }
  std::string text;
  size_t size = 0;
  for (const std::string& line : lines) size += line.size() + 2;
  text.reserve(size);
  for (const std::string& line : lines) text.append(line).append("\r\n");
  c.reply.Bulk(text);
}

bool ChangeFits(const Context& c, uint64_t key_bytes, uint64_t value_bytes) {
  return key_bytes + value_bytes <= c.commands.max_change_bytes();
}

std::string ChangeTooLargeError(uint64_t bytes, uint64_t limit) {
  return "ERR change of " + std::to_string(bytes) +
         " bytes (key + value) exceeds the write-ahead log's limit of " +
         std::to_string(limit) + " bytes per change";
}

table::Entry* StoreValue(table::Slot& slot, int64_t now_ms, std::string_view value) {
  const table::Entry* old = std::as_const(slot).entry();
  // Keep the old buffer unless it would waste more than the value itself (a key
  // that once held a megabyte must not pin it after SET k small).
  if (old != nullptr && old->value.capacity() <= 2 * value.size() + 32) {
    table::Entry* e = slot.Mutate();
    e->value.assign(value);
    e->created_ms = now_ms;
    slot.SetExpire(table::kNoExpiry);
    return e;
  }
  table::Entry* e = slot.Create(now_ms);
  e->value.assign(value);
  return e;
}

}  // namespace memento::daemon
