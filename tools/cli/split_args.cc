#include "tools/cli/split_args.h"

namespace memento::cli {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

Status Unbalanced(char quote, size_t column) {
  return Status::InvalidArgument(std::string("unbalanced ") +
                                 (quote == '"' ? "double" : "single") +
                                 " quote opened at column " + std::to_string(column));
}

}  // namespace

Result<std::vector<std::string>> SplitArgs(std::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  const size_t n = line.size();
  for (;;) {
    while (i < n && IsSpace(line[i])) i++;
    if (i == n) return words;
    std::string word;
    bool done = false;
    while (!done) {
      if (i == n) break;
      const char c = line[i];
      if (IsSpace(c)) break;
      if (c != '"' && c != '\'') {
        word += c;
        i++;
        continue;
      }
      const char quote = c;
      const size_t open_column = i + 1;
      i++;
      for (;;) {
        if (i == n) return Unbalanced(quote, open_column);
        const char q = line[i];
        if (q == quote) {
          i++;
          if (i < n && !IsSpace(line[i])) {
            return Status::InvalidArgument("closing quote at column " + std::to_string(i) +
                                           " must be followed by a space or the line end");
          }
          done = true;
          break;
        }
        if (q == '\\' && i + 1 < n) {
          const char e = line[i + 1];
          if (quote == '\'') {
            if (e == '\'') {
              word += '\'';
              i += 2;
              continue;
            }
          } else if (e == 'x' && i + 3 < n && HexValue(line[i + 2]) >= 0 &&
                     HexValue(line[i + 3]) >= 0) {
            word += static_cast<char>(HexValue(line[i + 2]) * 16 + HexValue(line[i + 3]));
            i += 4;
            continue;
          } else {
            char out = e;
            switch (e) {
              case 'n': out = '\n'; break;
              case 'r': out = '\r'; break;
              case 't': out = '\t'; break;
              case 'b': out = '\b'; break;
              case 'a': out = '\a'; break;
              default: break;  // \" \\ and any other: the byte itself
            }
            word += out;
            i += 2;
            continue;
          }
        }
        word += q;
        i++;
      }
    }
    words.push_back(std::move(word));
  }
}

}  // namespace memento::cli
