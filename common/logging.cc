#include "common/logging.h"

#include <strings.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <string>

#include "common/clock.h"

namespace memento::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

const char* Token(Level level) {
  switch (level) {
    case Level::kDebug: return "DBG";
    case Level::kInfo: return "INF";
    case Level::kWarning: return "WRN";
    case Level::kError: return "ERR";
  }
  return "???";
}

void VWrite(Level level, const char* fmt, va_list args) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  char body[2048];
  int n = std::vsnprintf(body, sizeof(body), fmt, args);
  if (n < 0) return;
  size_t len = static_cast<size_t>(n) < sizeof(body) ? static_cast<size_t>(n) : sizeof(body) - 1;
  Write(level, std::string_view(body, len));
}

}  // namespace

void SetLevel(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }
Level GetLevel() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

bool ParseLevel(std::string_view text, Level* level) {
  struct Name { const char* name; Level level; };
  static constexpr Name kNames[] = {
      {"debug", Level::kDebug}, {"info", Level::kInfo}, {"warning", Level::kWarning},
      {"warn", Level::kWarning}, {"error", Level::kError}};
  for (const Name& n : kNames) {
    if (text.size() == std::char_traits<char>::length(n.name) &&
        strncasecmp(text.data(), n.name, text.size()) == 0) {
      *level = n.level;
      return true;
    }
  }
  return false;
}

void Write(Level level, std::string_view message) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  int64_t now = NowMillis();
  time_t secs = static_cast<time_t>(now / 1000);
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char stamp[64];
  std::snprintf(stamp, sizeof(stamp), "[%s][%04d-%02d-%02d %02d:%02d:%02d.%03d] ", Token(level),
                tm_utc.tm_year + 1900, tm_utc.tm_mon + 1, tm_utc.tm_mday, tm_utc.tm_hour,
                tm_utc.tm_min, tm_utc.tm_sec, static_cast<int>(now % 1000));
  std::string line(stamp);
  line.append(message);
  line.push_back('\n');
  // One write per line keeps lines from different threads whole.
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t w = ::write(STDERR_FILENO, p, left);
    if (w <= 0) return;
    p += w;
    left -= static_cast<size_t>(w);
  }
}

#define MEMENTO_DEFINE_LOG_FN(Name, LevelValue) \
  void Name(const char* fmt, ...) {             \
    va_list args;                               \
    va_start(args, fmt);                        \
    VWrite(LevelValue, fmt, args);              \
    va_end(args);                               \
  }
MEMENTO_DEFINE_LOG_FN(Debug, Level::kDebug)
MEMENTO_DEFINE_LOG_FN(Info, Level::kInfo)
MEMENTO_DEFINE_LOG_FN(Warning, Level::kWarning)
MEMENTO_DEFINE_LOG_FN(Error, Level::kError)
#undef MEMENTO_DEFINE_LOG_FN

}  // namespace memento::log
