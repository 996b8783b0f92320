// RespReplyBuilder: encodes replies in RESP2 (Redis's protocol).
//
//   Ok()           -> "+OK\r\n"
//   Null()         -> "$-1\r\n"            (the null bulk string)
//   Status(s)      -> "+<s>\r\n"
//   Error(m)       -> "-<m>\r\n"           (m starts with its code: "ERR ...")
//   Integer(n)     -> ":<n>\r\n"
//   Bulk(v)        -> "$<len>\r\n<v>\r\n"  (binary-safe)
//   ArrayHeader(n) -> "*<n>\r\n"
//   NullArray()    -> "*-1\r\n"
#pragma once

#include <string>

#include "net/proto/reply_builder.h"

namespace memento::proto {

class RespReplyBuilder final : public ReplyBuilder {
 public:
  // "*out" must outlive this builder; replies are appended to it.
  explicit RespReplyBuilder(std::string* out) : out_(out) {}
  // From now on, appends to "*out" instead (which must outlive the builder).
  void set_output(std::string* out) { out_ = out; }

  void Ok() override;
  void Null() override;
  void Status(std::string_view status) override;
  void Error(std::string_view message) override;
  void Integer(int64_t value) override;
  void Bulk(std::string_view value) override;
  void ArrayHeader(size_t count) override;
  void NullArray() override;

 private:
  std::string* out_;
};

}  // namespace memento::proto
