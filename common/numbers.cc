#include "common/numbers.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <system_error>

namespace memento {

bool ParseInt64(std::string_view text, int64_t* value) {
  if (text.empty() || text.size() > 20) return false;
  size_t digits_at = text[0] == '-' ? 1 : 0;
  if (digits_at == text.size()) return false;               // "-" alone
  if (text[digits_at] == '0' && text.size() > digits_at + 1) return false;  // leading zero
  if (text == "-0") return false;  // Redis refuses it too; keeps the text canonical
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, *value);
  return ec == std::errc() && ptr == last;
}

bool ParseFiniteDouble(std::string_view text, double* value) {
  if (text.empty()) return false;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  // from_chars accepts neither a leading '+' nor spaces; allow '+' for convenience.
  if (*first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, *value);
  if (ec != std::errc() || ptr != last) return false;
  return std::isfinite(*value);
}

std::string FormatInt64(int64_t value) {
  char buf[24];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  assert(ec == std::errc());
  return std::string(buf, ptr);
}

std::string FormatDouble(double value) {
  assert(std::isfinite(value));
  // The widest fixed-notation double (DBL_MAX, or the smallest denormal's 1074
  // fractional digits) needs about 1100 characters.
  char buf[1200];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed);
  assert(ec == std::errc());
  std::string_view text(buf, static_cast<size_t>(ptr - buf));
  if (text == "-0") return "0";
  return std::string(text);
}

}  // namespace memento
