#include "common/quote.h"

namespace memento {

void AppendQuoted(std::string_view bytes, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + bytes.size() + 2);
  out->push_back('"');
  for (char c : bytes) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\a':
        out->append("\\a");
        break;
      case '\b':
        out->append("\\b");
        break;
      default:
        if (c >= 0x20 && c <= 0x7e) {
          out->push_back(c);
        } else {
          const auto byte = static_cast<unsigned char>(c);
          out->append("\\x");
          out->push_back(kHex[byte >> 4]);
          out->push_back(kHex[byte & 0xf]);
        }
    }
  }
  out->push_back('"');
}

}  // namespace memento
