#include "tools/cli/command_help.h"

#include <algorithm>
#include <cstddef>

namespace memento::cli {

// tools/cli/CMakeLists.txt generates these from docs/protocol.md.
extern const unsigned char kProtocolDoc[];
extern const size_t kProtocolDoc_size;

namespace {

constexpr size_t kWrapColumn = 88;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// The cells of a "| a | b \| c |" table row; "\|" is a literal bar inside a cell.
std::vector<std::string> SplitCells(std::string_view row) {
  std::vector<std::string> cells;
  row = Trim(row);
  if (row.starts_with('|')) row.remove_prefix(1);
  std::string cell;
  for (size_t i = 0; i < row.size(); i++) {
    if (row[i] == '\\' && i + 1 < row.size() && row[i + 1] == '|') {
      cell += "\\|";
      i++;
    } else if (row[i] == '|') {
      cells.emplace_back(Trim(cell));
      cell.clear();
    } else {
      cell += row[i];
    }
  }
  if (!Trim(cell).empty()) cells.emplace_back(Trim(cell));
  return cells;
}

// Markdown to plain text: no backticks or bold marks, "\|" as "|", links as their text.
std::string Plain(std::string_view md) {
  std::string out;
  for (size_t i = 0; i < md.size(); i++) {
    const char c = md[i];
    if (c == '`') continue;
    if (c == '*' && i + 1 < md.size() && md[i + 1] == '*') {
      i++;
      continue;
    }
    if (c == '\\' && i + 1 < md.size() && md[i + 1] == '|') {
      out += '|';
      i++;
      continue;
    }
    if (c == ']' && i + 1 < md.size() && md[i + 1] == '(') {
      const size_t close = md.find(')', i);
      if (close != std::string_view::npos) {
        i = close;
        continue;
      }
    }
    if (c == '[') {
      // "[text](link)": keep the text. A "[" of a synopsis ("[key ...]") has no "](".
      const size_t close = md.find("](", i);
      const size_t next_open = md.find('[', i + 1);
      if (close != std::string_view::npos && (next_open == std::string_view::npos || close < next_open)) {
        continue;
      }
    }
    out += c;
  }
  return out;
}

// The `...` spans of a cell.
std::vector<std::string> CodeSpans(std::string_view cell) {
  std::vector<std::string> spans;
  size_t at = 0;
  for (;;) {
    const size_t open = cell.find('`', at);
    if (open == std::string_view::npos) return spans;
    const size_t close = cell.find('`', open + 1);
    if (close == std::string_view::npos) return spans;
    spans.push_back(Plain(cell.substr(open + 1, close - open - 1)));
    at = close + 1;
  }
}

// The command a synopsis names: its first word in upper case, "" if that is not a
// word of letters.
std::string CommandName(std::string_view synopsis) {
  const size_t end = synopsis.find(' ');
  std::string_view word = synopsis.substr(0, end);
  if (word.empty()) return "";
  std::string name;
  for (char c : word) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c < 'A' || c > 'Z') return "";
    name += c;
  }
  return name;
}

// Appends `text` wrapped at kWrapColumn, every line starting with `indent`.
void Wrap(std::string_view text, std::string_view indent, std::string* out) {
  std::string line(indent);
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find(' ', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(at, end - at);
    at = end + 1;
    if (word.empty()) continue;
    if (line.size() > indent.size() && line.size() + 1 + word.size() > kWrapColumn) {
      *out += line + "\n";
      line.assign(indent);
    }
    if (line.size() > indent.size()) line += ' ';
    line += word;
  }
  if (line.size() > indent.size()) *out += line + "\n";
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace

HelpTable HelpTable::Parse(std::string_view markdown) {
  HelpTable table;
  bool resp = false;
  std::string group;
  size_t at = 0;
  while (at < markdown.size()) {
    size_t end = markdown.find('\n', at);
    if (end == std::string_view::npos) end = markdown.size();
    const std::string_view line = Trim(markdown.substr(at, end - at));
    at = end + 1;
    if (line.starts_with("#")) {
      const size_t hashes = line.find_first_not_of('#');
      if (hashes == std::string_view::npos) continue;
      const std::string_view title = Trim(line.substr(hashes));
      if (hashes == 2 && title == "RESP2") resp = true;
      if (hashes >= 3) group = Plain(title);
      continue;
    }
    if (!line.starts_with('|')) continue;
    std::vector<std::string> cells = SplitCells(line);
    if (cells.size() < 2 || !cells[0].starts_with('`')) continue;
    CommandForm row;
    row.resp = resp;
    row.group = group;
    row.reply = Plain(cells[1]);
    if (cells.size() > 2) row.notes = Plain(cells[2]);
    for (const std::string& synopsis : CodeSpans(cells[0])) {
      const std::string name = CommandName(synopsis);
      if (name.empty()) continue;
      std::vector<CommandForm>& forms = table.commands_[name];
      // Several synopses of one command in one row ("COMMAND" / "COMMAND INFO ...")
      // make one form.
      if (!forms.empty() && forms.back().resp == resp && forms.back().reply == row.reply &&
          forms.back().notes == row.notes) {
        forms.back().synopses.push_back(synopsis);
        continue;
      }
      CommandForm form = row;
      form.synopses.push_back(synopsis);
      forms.push_back(std::move(form));
      if (resp) {
        if (table.resp_groups_.empty() || table.resp_groups_.back().first != group) {
          table.resp_groups_.emplace_back(group, std::vector<std::string>());
        }
        std::vector<std::string>& names = table.resp_groups_.back().second;
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
      } else if (std::find(table.text_names_.begin(), table.text_names_.end(), name) ==
                 table.text_names_.end()) {
        table.text_names_.push_back(name);
      }
    }
  }
  return table;
}

std::vector<std::string> HelpTable::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, forms] : commands_) names.push_back(name);
  return names;
}

std::string HelpTable::HelpFor(std::string_view command) const {
  auto it = commands_.find(Upper(Trim(command)));
  if (it == commands_.end()) return "";
  const std::vector<CommandForm>& forms = it->second;
  std::string out;
  bool has_text = false;
  bool has_resp = false;
  // RESP2 first: it is memento-cli's default.
  for (bool resp : {true, false}) {
    for (const CommandForm& form : forms) {
      if (form.resp != resp) continue;
      (resp ? has_resp : has_text) = true;
      if (!out.empty()) out += "\n";
      for (const std::string& synopsis : form.synopses) out += "  " + synopsis + "\n";
      out += resp ? "  protocol: RESP2 (the default)" : "  protocol: text (memento-cli --text)";
      if (!form.group.empty() && form.group != "Commands") out += "; group: " + form.group;
      out += "\n";
      Wrap("reply: " + form.reply, "  ", &out);
      if (!form.notes.empty()) Wrap(form.notes, "  ", &out);
    }
  }
  if (!has_text) out += "\n  Not served over the text protocol (memento-cli --text).\n";
  if (!has_resp) out += "\n  Not served over RESP2: text protocol only (memento-cli --text).\n";
  return out;
}

std::string HelpTable::Overview() const {
  std::string out =
      "memento-cli: type a command and its arguments, as SET greeting \"hello world\".\n"
      "  help <command>   what a command takes and replies, in both protocols\n"
      "  quit, exit       leave memento-cli\n"
      "Quoting: \"a b\" and 'a b' are one word; inside double quotes \\n \\r \\t \\\" \\\\ and\n"
      "\\xHH (any byte, \\x00 too) are escapes. Up-arrow recalls history\n"
      "(~/.memento_cli_history).\n\n";
  out += "RESP2 (the default):\n";
  for (const auto& [group, names] : resp_groups_) {
    std::string list = group + ":";
    for (const std::string& name : names) list += " " + name;
    Wrap(list, "  ", &out);
  }
  out += "\nText protocol (memento-cli --text):\n";
  std::string text_list;
  for (const std::string& name : text_names_) text_list += (text_list.empty() ? "" : " ") + name;
  Wrap(text_list, "  ", &out);
  return out;
}

const HelpTable& BuiltinHelp() {
  static const HelpTable table =
      HelpTable::Parse(
      std::string_view(reinterpret_cast<const char*>(kProtocolDoc), kProtocolDoc_size));
  return table;
}

}  // namespace memento::cli
