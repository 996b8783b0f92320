// Logging to stderr with a level and a timestamp.
//
//   [INF][2026-11-21 11:22:33.123] Listening on 127.0.0.1:6737
//
// The level tokens (DBG INF WRN ERR) and the bracketed layout follow the original
// Memento's log lines. Formats are printf-style and checked by the compiler (g++ 12
// has no <format>). Thread-safe: each line goes out with one write(2).
#pragma once

#include <string_view>

namespace memento::log {

enum class Level : int { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Lines below `level` are dropped. Default: kInfo.
void SetLevel(Level level);
Level GetLevel();
// Parses "debug", "info", "warning"/"warn", "error" (any case). False if unknown.
bool ParseLevel(std::string_view text, Level* level);

void Write(Level level, std::string_view message);

#define MEMENTO_PRINTF_FORMAT __attribute__((format(printf, 1, 2)))
void Debug(const char* fmt, ...) MEMENTO_PRINTF_FORMAT;
void Info(const char* fmt, ...) MEMENTO_PRINTF_FORMAT;
void Warning(const char* fmt, ...) MEMENTO_PRINTF_FORMAT;
void Error(const char* fmt, ...) MEMENTO_PRINTF_FORMAT;
#undef MEMENTO_PRINTF_FORMAT

}  // namespace memento::log
