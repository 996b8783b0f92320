// CommandHelp: memento-cli's `help` and `help <command>`, for every command of both
// protocols. The one source is docs/protocol.md, embedded in the binary at build time
// (tools/cli/embed_file.cmake): each table row whose first cell is a `COMMAND ...`
// synopsis documents that command, in the text protocol above the "## RESP2" heading
// and in RESP2 below it. So the help says exactly what the reference says, reply and
// notes included, and a command added to the reference gets its help by rebuilding.
//
// Thread-safety: a HelpTable is immutable once parsed; BuiltinHelp() parses once
// (thread-safe static).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace memento::cli {

struct CommandForm {
  bool resp = false;                  // false: the text protocol
  std::string group;                  // heading it is under ("Strings", "Commands")
  std::vector<std::string> synopses;  // "SET key value [NX|XX] ..."
  std::string reply;                  // the reply column, markdown removed
  std::string notes;                  // the notes column ("" if none)
};

class HelpTable {
 public:
  // Reads every command row of a docs/protocol.md-shaped markdown text.
  static HelpTable Parse(std::string_view markdown);

  // Upper-case names of every documented command, sorted.
  std::vector<std::string> Names() const;
  // Help for one command (any case), or "" if the reference does not document it.
  std::string HelpFor(std::string_view command) const;
  // The overview `help` prints: how to use the prompt and every command by protocol.
  std::string Overview() const;

 private:
  std::map<std::string, std::vector<CommandForm>> commands_;  // by upper-case name
  std::vector<std::pair<std::string, std::vector<std::string>>> resp_groups_;
  std::vector<std::string> text_names_;
};

// The table parsed from the docs/protocol.md this binary was built with.
const HelpTable& BuiltinHelp();

}  // namespace memento::cli
