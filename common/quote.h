// QuoteBytes: bytes as a double-quoted, printable string, the way Redis prints a
// value (redis-cli's output, MONITOR's arguments; Redis's sdscatrepr):
//   \\  \"  \n  \r  \t  \a  \b   escaped as in C
//   0x20-0x7e                    themselves
//   any other byte               \xHH (two lower-case hex digits)
// Binary-safe (a NUL is \x00). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace memento {

// Appends `"` + the escaped bytes + `"` to *out.
void AppendQuoted(std::string_view bytes, std::string* out);

inline std::string QuoteBytes(std::string_view bytes) {
  std::string out;
  AppendQuoted(bytes, &out);
  return out;
}

}  // namespace memento
