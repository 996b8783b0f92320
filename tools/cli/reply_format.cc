#include "tools/cli/reply_format.h"

#include <cstdio>

namespace memento::cli {
namespace {

using client::Reply;

// Appends `reply` whose first line continues the current one (after a "1) "
// prefix); later lines start with `indent` spaces.
void Append(const Reply& reply, size_t indent, std::string* out) {
  switch (reply.type) {
    case Reply::Type::kStatus:
      *out += reply.str + "\n";
      return;
    case Reply::Type::kError:
      *out += "(error) " + reply.str + "\n";
      return;
    case Reply::Type::kInteger:
      *out += "(integer) " + std::to_string(reply.integer) + "\n";
      return;
    case Reply::Type::kBulk:
      *out += QuoteBytes(reply.str) + "\n";
      return;
    case Reply::Type::kNil:
    case Reply::Type::kNilArray:
      *out += "(nil)\n";
      return;
    case Reply::Type::kArray: {
      if (reply.elements.empty()) {
        *out += "(empty array)\n";
        return;
      }
      const size_t width = std::to_string(reply.elements.size()).size();
      for (size_t i = 0; i < reply.elements.size(); i++) {
        if (i != 0) out->append(indent, ' ');
        std::string number = std::to_string(i + 1);
        out->append(width - number.size(), ' ');
        *out += number + ") ";
        Append(reply.elements[i], indent + width + 2, out);
      }
      return;
    }
    case Reply::Type::kText:
      for (const std::string& line : reply.lines) *out += line + "\n";
      return;
    case Reply::Type::kNone:
      return;
  }
}

// One reply in redis-cli's raw form, without the final "\n" of the whole reply.
void AppendRaw(const Reply& reply, std::string* out) {
  switch (reply.type) {
    case Reply::Type::kStatus:
    case Reply::Type::kBulk:
      *out += reply.str;
      return;
    case Reply::Type::kError:
      *out += reply.str + "\n";
      return;
    case Reply::Type::kInteger:
      *out += std::to_string(reply.integer);
      return;
    case Reply::Type::kNil:
    case Reply::Type::kNilArray:
      return;
    case Reply::Type::kArray:
      for (size_t i = 0; i < reply.elements.size(); i++) {
        if (i != 0) *out += '\n';
        AppendRaw(reply.elements[i], out);
      }
      return;
    case Reply::Type::kText:
      for (size_t i = 0; i < reply.lines.size(); i++) {
        if (i != 0) *out += '\n';
        *out += reply.lines[i];
      }
      return;
    case Reply::Type::kNone:
      return;
  }
}

}  // namespace

std::string QuoteBytes(std::string_view bytes) {
  std::string out = "\"";
  for (char c : bytes) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      default:
        if (c >= 0x20 && c <= 0x7e) {
          out += c;
        } else {
          char hex[8];
          snprintf(hex, sizeof(hex), "\\x%02x", static_cast<unsigned char>(c));
          out += hex;
        }
    }
  }
  out += '"';
  return out;
}

std::string FormatReply(const Reply& reply) {
  std::string out;
  Append(reply, 0, &out);
  return out;
}

std::string FormatReplyRaw(const Reply& reply) {
  if (reply.type == Reply::Type::kNone) return "";
  std::string out;
  AppendRaw(reply, &out);
  out += '\n';
  return out;
}

}  // namespace memento::cli
