// TextReplyBuilder: encodes replies in Memento's text protocol (docs/protocol.md).
//
// Every call appends exactly one line ending in "\r\n" to the output string:
//   Ok()          -> "OK\r\n"
//   Null()        -> "(null)\r\n"
//   Status(s)     -> "<s>\r\n"
//   Error(m)      -> "(error) <m>\r\n"
//   Integer(n)    -> "<decimal n>\r\n"
//   Bulk(v)       -> "<v>\r\n"          (v as it is; the text protocol is line based)
//   ArrayHeader(n)-> "<decimal n>\r\n"  (the n element lines follow)
//   NullArray()   -> "(null)\r\n"
#pragma once

#include <string>

#include "net/proto/reply_builder.h"

namespace memento::proto {

class TextReplyBuilder final : public ReplyBuilder {
 public:
  // "*out" must outlive this builder; replies are appended to it.
  explicit TextReplyBuilder(std::string* out) : out_(out) {}
  // From now on, appends to "*out" instead (which must outlive the builder).
  void set_output(std::string* out) { out_ = out; }

  void Ok() override;
  void Null() override;
  void Status(std::string_view status) override;
  void Error(std::string_view message) override;
  void Integer(int64_t value) override;
  void Bulk(std::string_view value) override;
  void ArrayHeader(size_t count) override;
  void NullArray() override { Null(); }

 private:
  std::string* out_;
};

}  // namespace memento::proto
