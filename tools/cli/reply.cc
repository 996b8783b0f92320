#include "tools/cli/reply.h"

namespace memento::client {

bool IsTextErrorLine(std::string_view line) {
  if (line.starts_with("(error)") || line == "(Unknown command)") return true;
  // "-ERR max number of clients reached", "-DENIED ...": sent to any connection the
  // daemon refuses, whatever its dialect. "-2" (a TTL) is an integer, not an error.
  return line.size() >= 2 && line[0] == '-' && line[1] >= 'A' && line[1] <= 'Z';
}

bool Reply::IsError() const {
  if (type == Type::kError) return true;
  return type == Type::kText && !lines.empty() && IsTextErrorLine(lines.front());
}

}  // namespace memento::client
