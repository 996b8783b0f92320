// Fuzz target: the command layer, daemon::Commands::Execute (daemon/commands.h), with
// fuzzed requests against a fresh in-memory Table, in both dialects. This is what a
// client reaches once a parser has cut its bytes into argv, so nothing it sends may
// crash, assert, hang, or break the one-request-one-reply rule (the glob matcher of
// KEYS, SCAN MATCH and CONFIG GET included).
//
// Input layout:
//   byte 0   bit 0: RESP dialect (else text); bit 1: a requirepass is set
//   rest     requests separated by '\n', arguments by ' ' (so an argument holds any
//            byte but those two); at most kMaxRequests are run
//
// Checked for every request: exactly one reply in RESP, at least one in the text
// protocol (GETP's four lines are four Bulk calls), none only after QUIT/EXIT; nested
// array elements as announced, status and error lines free of CR and LF, error
// messages starting with an upper-case code; in RESP, the bytes appended form exactly
// one well-formed RESP2 value.
//
// One request is skipped rather than run: SETRANGE with an offset over 1 MiB (valid,
// and refused only past 512 MiB as Redis does; it would spend the fuzzer's time and
// memory zero-filling a string).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "common/logging.h"
#include "common/strings.h"
#include "daemon/commands.h"
#include "fuzz/fuzz_util.h"
#include "net/proto/reply_builder.h"
#include "net/proto/resp_reply.h"
#include "net/proto/text_reply.h"
#include "net/server.h"
#include "storage/table/table.h"

namespace memento::fuzz {
namespace {

constexpr size_t kMaxRequests = 64;

// Forwards to the real encoder and checks the shape of what the command describes.
class CheckingReplyBuilder final : public proto::ReplyBuilder {
 public:
  explicit CheckingReplyBuilder(proto::ReplyBuilder* inner) : inner_(inner) {}

  void Ok() override { Value(); inner_->Ok(); }
  void Null() override { Value(); inner_->Null(); }
  void Status(std::string_view status) override {
    FUZZ_CHECK(status.find_first_of("\r\n") == std::string_view::npos);
    Value();
    inner_->Status(status);
  }
  void Error(std::string_view message) override {
    FUZZ_CHECK(message.find_first_of("\r\n") == std::string_view::npos);
    FUZZ_CHECK(!message.empty() && message[0] >= 'A' && message[0] <= 'Z');
    Value();
    inner_->Error(message);
  }
  void Integer(int64_t value) override { Value(); inner_->Integer(value); }
  void Bulk(std::string_view value) override { Value(); inner_->Bulk(value); }
  void ArrayHeader(size_t count) override {
    inner_->ArrayHeader(count);
    if (count == 0) {
      Value();
    } else {
      FUZZ_CHECK(open_.size() < 16);
      open_.push_back(count);
    }
  }
  void NullArray() override { Value(); inner_->NullArray(); }

  // Whole replies completed since the last call; REQUIRES no array left open.
  size_t TakeReplies() {
    FUZZ_CHECK(open_.empty());
    const size_t n = replies_;
    replies_ = 0;
    return n;
  }

 private:
  // One value is complete: an element of the innermost open array, or a reply.
  void Value() {
    while (!open_.empty()) {
      if (--open_.back() > 0) return;
      open_.pop_back();  // the array itself is now a complete value
    }
    ++replies_;
  }

  proto::ReplyBuilder* inner_;
  std::vector<size_t> open_;  // elements still due, per open array
  size_t replies_ = 0;
};

// Parses one RESP2 value at the front of *in and removes it. False if malformed.
bool ReadRespValue(std::string_view* in, int depth = 0) {
  if (in->empty() || depth > 16) return false;
  const size_t eol = in->find("\r\n");
  if (eol == std::string_view::npos) return false;
  const char type = (*in)[0];
  const std::string_view line = in->substr(1, eol - 1);
  in->remove_prefix(eol + 2);
  if (line.find_first_of("\r\n") != std::string_view::npos) return false;
  // A decimal int64 (INT64_MIN included).
  auto number = [&](int64_t* n) {
    if (line.empty()) return false;
    const bool negative = line[0] == '-';
    size_t i = negative ? 1 : 0;
    if (i == line.size()) return false;
    uint64_t v = 0;
    for (; i < line.size(); ++i) {
      if (line[i] < '0' || line[i] > '9' || v > (UINT64_MAX - 9) / 10) return false;
      v = v * 10 + static_cast<uint64_t>(line[i] - '0');
    }
    if (v > (negative ? uint64_t{1} << 63 : uint64_t{INT64_MAX})) return false;
    *n = negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
    return true;
  };
  int64_t n = 0;
  switch (type) {
    case '+':
    case '-':
      return true;
    case ':':
      return number(&n);
    case '$':
      if (!number(&n) || n < -1) return false;
      if (n == -1) return true;
      if (in->size() < static_cast<size_t>(n) + 2) return false;
      if (in->substr(static_cast<size_t>(n), 2) != "\r\n") return false;
      in->remove_prefix(static_cast<size_t>(n) + 2);
      return true;
    case '*':
      if (!number(&n) || n < -1) return false;
      for (int64_t i = 0; i < n; ++i) {
        if (!ReadRespValue(in, depth + 1)) return false;
      }
      return true;
    default:
      return false;
  }
}

// SETRANGE key offset value with offset over 1 MiB: see the top of the file.
bool TooCostly(const std::vector<std::string_view>& argv) {
  if (argv.size() != 4 || !EqualsIgnoreCase(argv[0], "setrange")) return false;
  uint64_t offset = 0;
  for (char c : argv[2]) {
    if (c < '0' || c > '9') return false;  // not a number: SETRANGE refuses it
    offset = offset * 10 + static_cast<uint64_t>(c - '0');
    if (offset > (1u << 20)) return true;
  }
  return false;
}

const bool kQuiet = [] {
  log::SetLevel(log::Level::kError);
  return true;
}();

}  // namespace
}  // namespace memento::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memento;        // NOLINT
  using namespace memento::fuzz;  // NOLINT
  (void)kQuiet;
  FuzzInput in(data, size);
  const uint8_t mode = in.Byte();
  const bool resp = (mode & 1) != 0;

  table::Table table;
  daemon::Commands commands(&table);
  commands.InstallChangeSink(nullptr);  // so that WATCH sees the writes
  if ((mode & 2) != 0) commands.SetRequirePass("secret");
  net::Session session;
  session.id = 1;
  session.dialect = resp ? net::Dialect::kResp : net::Dialect::kText;

  std::string out;
  proto::TextReplyBuilder text(&out);
  proto::RespReplyBuilder resp_builder(&out);
  CheckingReplyBuilder reply(resp ? static_cast<proto::ReplyBuilder*>(&resp_builder) : &text);

  size_t requests = 0;
  std::vector<std::string_view> argv;
  SplitOn(in.Rest(), '\n', [&](std::string_view line) {
    if (requests >= kMaxRequests || session.close_after_reply) return;
    argv.clear();
    SplitOn(line, ' ', [&](std::string_view a) { argv.push_back(a); });
    if (TooCostly(argv)) return;
    ++requests;
    out.clear();
    commands.Execute(session, argv, reply);
    const size_t replies = reply.TakeReplies();
    // RESP: one value per request. Text: GETP keeps the original Memento's four
    // unframed lines (docs/protocol.md), so "at least one" is all that holds there.
    const bool ok = session.close_after_reply ? replies <= 1 : resp ? replies == 1 : replies >= 1;
    if (!ok) {
      std::fprintf(stderr, "%zu replies to:", replies);
      for (std::string_view a : argv) {
        std::fprintf(stderr, " '%.*s'", static_cast<int>(a.size()), a.data());
      }
      std::fprintf(stderr, "\nreply bytes: '%s'\n", out.c_str());
      FUZZ_CHECK(ok);
    }
    if (resp) {
      std::string_view rest = out;
      for (size_t i = 0; i < replies; ++i) FUZZ_CHECK(ReadRespValue(&rest));
      FUZZ_CHECK(rest.empty());
    } else if (!out.empty()) {
      FUZZ_CHECK(out.size() >= 2 && out.substr(out.size() - 2) == "\r\n");
    }
  });
  return 0;
}
