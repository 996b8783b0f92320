// Grammar of one request (docs/protocol.md):
//
//   request    := line terminator
//   terminator := "\r\n" | "\n"
//   line       := sep* (token (sep+ token)*)? sep*          -- any command
//               | sep* cmd sep+ key (sep+ rest)?            -- cmd in SET|APPEND|PREPEND
//                 (the rows of text_commands.h marked TextArgs::kRestOfLine)
//   sep        := " " | "\t"
//   token      := one or more bytes other than sep ("\r" and NUL are ordinary bytes)
//   rest       := every byte up to the terminator, separators included; starts with a
//                 non-separator, so a key followed only by separators has no rest
//
// A line holds at most max_line bytes, terminator excluded.

#include "net/proto/text_parser.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "net/proto/text_commands.h"

namespace memento::proto {

namespace {

inline bool IsSeparator(char c) { return c == ' ' || c == '\t'; }

// Splits `line` (terminator already removed) into *argv.
void Tokenize(std::string_view line, std::vector<std::string_view>* argv) {
  const size_t n = line.size();
  size_t i = 0;
  bool rest_of_line = false;
  while (true) {
    while (i < n && IsSeparator(line[i])) ++i;
    if (i == n) break;
    if (rest_of_line && argv->size() == 2) {
      argv->push_back(line.substr(i));
      break;
    }
    const size_t start = i;
    while (i < n && !IsSeparator(line[i])) ++i;
    argv->push_back(line.substr(start, i - start));
    if (argv->size() == 1) rest_of_line = TakesRestOfLine(argv->front());
  }
}

}  // namespace

TextParser::TextParser(size_t max_line)
    : max_line_(max_line),
      // Built once here so that the error path of Parse() does not allocate.
      error_("ERR line too long (over " + std::to_string(max_line) + " bytes)") {}

ParseResult TextParser::Parse(std::string_view input, std::vector<std::string_view>* argv) {
  argv->clear();  // keeps the capacity: the vector is reused request after request

  // The longest acceptable request is max_line bytes, "\r", "\n"; no need to look for a
  // '\n' further than that. Saturate in case max_line is near SIZE_MAX.
  const size_t window_limit = max_line_ > SIZE_MAX - 2 ? SIZE_MAX : max_line_ + 2;
  const size_t window = input.size() < window_limit ? input.size() : window_limit;

  // Resume where the previous call stopped: those bytes held no '\n'. If the caller
  // handed us a shorter buffer than promised (not appended to), start again rather than
  // read past its end.
  const size_t from = scanned_ <= window ? scanned_ : 0;
  const void* newline = std::memchr(input.data() + from, '\n', window - from);

  if (newline == nullptr) {
    scanned_ = window;
    // With max_line bytes and a trailing '\r' the line may still be exactly max_line
    // long once its '\n' comes; anything else longer than max_line can never fit.
    const bool may_fit =
        input.size() <= max_line_ || (input.size() == max_line_ + 1 && input[max_line_] == '\r');
    if (may_fit) return ParseResult{};
    scanned_ = 0;
    return ParseResult{ParseStatus::kError, 0, error_};
  }

  scanned_ = 0;
  const size_t newline_pos = static_cast<const char*>(newline) - input.data();
  size_t line_len = newline_pos;
  if (line_len > 0 && input[line_len - 1] == '\r') --line_len;
  if (line_len > max_line_) {
    // Only reachable when a byte other than '\r' sits at max_line and '\n' right after.
    return ParseResult{ParseStatus::kError, 0, error_};
  }
  Tokenize(input.substr(0, line_len), argv);
  return ParseResult{ParseStatus::kOk, newline_pos + 1, {}};
}

}  // namespace memento::proto
