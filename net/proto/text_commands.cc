#include "net/proto/text_commands.h"

namespace memento::proto {

// A linear scan: the table has a few dozen rows and a length mismatch rejects most of
// them on the first compare. A hash index, as the daemon's NameIndex, would pay off
// only for a much longer table.
const TextCommand* FindTextCommand(std::string_view name) {
  for (const TextCommand& command : kTextCommands) {
    if (EqualsIgnoreCase(name, command.name)) return &command;
  }
  return nullptr;
}

TextReplyShape TextReplyShapeOf(std::string_view command, std::string_view subcommand) {
  const TextCommand* found = FindTextCommand(command);
  if (found == nullptr) return TextReplyShape::kResp;
  for (const TextSubcommand& sub : found->subcommands) {
    if (EqualsIgnoreCase(subcommand, sub.name)) return sub.reply;
  }
  return found->reply;
}

}  // namespace memento::proto
