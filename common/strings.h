// ASCII string helpers shared by every module: command names, option words and
// subcommands are compared case-insensitively in the daemon, the parsers and the tools.
// Locale-free on purpose: "INFO" must equal "info" whatever LC_CTYPE says, and bytes
// above 0x7f are compared as they are.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

namespace memento {

// `ch` with 'A'..'Z' turned into 'a'..'z'; every other byte unchanged.
constexpr char AsciiToLower(char ch) {
  return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
}

// True if `a` and `b` are equal ignoring ASCII case (either may be in any case).
constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiToLower(a[i]) != AsciiToLower(b[i])) return false;
  }
  return true;
}

}  // namespace memento
