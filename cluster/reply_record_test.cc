#include "cluster/reply_record.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "net/proto/resp_reply.h"
#include "net/proto/text_reply.h"

namespace memento::cluster {
namespace {

using Calls = std::function<void(proto::ReplyBuilder&)>;

// Every op, nested arrays, binary bulk, extreme integers.
void Everything(proto::ReplyBuilder& b) {
  b.Ok();
  b.Null();
  b.Status("PONG");
  b.Error("ERR value is not an integer or out of range");
  b.Status("Multi*line");  // 'M' is one bit from CR, '*' from LF: for the flip test
  b.Integer(0);
  b.Integer(-1);
  b.Integer(INT64_MIN);
  b.Integer(INT64_MAX);
  b.Bulk("");
  b.Bulk(std::string("bin\0ary\r\n", 9));
  b.ArrayHeader(3);
  b.Bulk("x");
  b.ArrayHeader(2);
  b.Integer(5);
  b.Null();
  b.NullArray();
  b.ArrayHeader(0);
  b.NullArray();
}

std::string Record(const Calls& calls) {
  std::string out;
  RecordingReplyBuilder rec(&out);
  calls(rec);
  return out;
}

template <typename Builder>
void ExpectReplaySameBytes(const Calls& calls) {
  std::string direct;
  Builder direct_builder(&direct);
  calls(direct_builder);
  std::string replayed;
  Builder replay_builder(&replayed);
  ASSERT_TRUE(ReplayReply(Record(calls), replay_builder).ok());
  EXPECT_EQ(replayed, direct);
}

TEST(ReplyRecordTest, ReplayThroughRespEqualsDirect) {
  ExpectReplaySameBytes<proto::RespReplyBuilder>(Everything);
}

TEST(ReplyRecordTest, ReplayThroughTextEqualsDirect) {
  ExpectReplaySameBytes<proto::TextReplyBuilder>(Everything);
}

TEST(ReplyRecordTest, LargeBulkRoundTrips) {
  const std::string big(3 << 20, 'v');
  ExpectReplaySameBytes<proto::RespReplyBuilder>([&](proto::ReplyBuilder& b) { b.Bulk(big); });
}

TEST(ReplyRecordTest, EncodingIsAsDocumented) {
  EXPECT_EQ(Record([](proto::ReplyBuilder& b) { b.Ok(); }), "O");
  EXPECT_EQ(Record([](proto::ReplyBuilder& b) { b.Null(); }), "N");
  EXPECT_EQ(Record([](proto::ReplyBuilder& b) { b.NullArray(); }), "Z");
  EXPECT_EQ(Record([](proto::ReplyBuilder& b) { b.Status("OK"); }), std::string("S\x02OK", 4));
  EXPECT_EQ(Record([](proto::ReplyBuilder& b) { b.Error("E"); }), std::string("E\x01" "E", 3));
  EXPECT_EQ(Record([](proto::ReplyBuilder& b) { b.Bulk("v"); }), std::string("B\x01v", 3));
  EXPECT_EQ(Record([](proto::ReplyBuilder& b) { b.Integer(-2); }),
            std::string("I\xfe\xff\xff\xff\xff\xff\xff\xff", 9));
  EXPECT_EQ(Record([](proto::ReplyBuilder& b) { b.ArrayHeader(300); }),
            std::string("A\xac\x02", 3));
}

TEST(ReplyRecordTest, DecodeAndEmitRoundTrip) {
  const std::string record = Record([](proto::ReplyBuilder& b) {
    b.ArrayHeader(4);
    b.Bulk("a");
    b.Null();
    b.ArrayHeader(1);
    b.Integer(42);
    b.Error("ERR x");
  });
  ReplyValue v;
  ASSERT_TRUE(DecodeReply(record, &v).ok());
  ASSERT_EQ(v.kind, ReplyValue::Kind::kArray);
  ASSERT_EQ(v.elements.size(), 4u);
  EXPECT_EQ(v.elements[0].kind, ReplyValue::Kind::kBulk);
  EXPECT_EQ(v.elements[0].text, "a");
  EXPECT_EQ(v.elements[1].kind, ReplyValue::Kind::kNull);
  ASSERT_EQ(v.elements[2].elements.size(), 1u);
  EXPECT_EQ(v.elements[2].elements[0].integer, 42);
  EXPECT_EQ(v.elements[3].kind, ReplyValue::Kind::kError);
  EXPECT_EQ(v.elements[3].text, "ERR x");
  std::string again;
  RecordingReplyBuilder rec(&again);
  EmitReply(v, rec);
  EXPECT_EQ(again, record);
}

TEST(ReplyRecordTest, DecodeWantsExactlyOneReply) {
  ReplyValue v;
  EXPECT_TRUE(DecodeReply("", &v).IsCorruption());
  Status s = DecodeReply("OO", &v);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), "reply record (2 bytes) damaged at offset 1: bytes after the end of the reply");
}

TEST(ReplyRecordTest, DecodeRefusesDeepNesting) {
  std::string ok_record;
  for (int i = 0; i < 8; ++i) ok_record += "A\x01";
  ok_record += "O";
  ReplyValue v;
  EXPECT_TRUE(DecodeReply(ok_record, &v).ok());
  const std::string deep = "A\x01" + ok_record;
  Status s = DecodeReply(deep, &v);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("nested deeper than 8"), std::string_view::npos) << s.ToString();
}

TEST(ReplyRecordTest, DamageMessagesNameTheOffset) {
  std::string sink;
  proto::RespReplyBuilder b(&sink);
  Status s = ReplayReply("OX", b);
  EXPECT_EQ(s.message(), "reply record (2 bytes) damaged at offset 1: unknown op 0x58");
  s = ReplayReply(std::string("OS\x05" "ab", 5), b);
  EXPECT_EQ(s.message(), "reply record (5 bytes) damaged at offset 1: a length past the end of the record");
  s = ReplayReply(std::string("S\x02\r\n", 4), b);
  EXPECT_EQ(s.message(), "reply record (4 bytes) damaged at offset 0: a status holding CR or LF");
  s = ReplayReply(std::string("E\x01\n", 3), b);
  EXPECT_EQ(s.message(), "reply record (3 bytes) damaged at offset 0: an error holding CR or LF");
  s = ReplayReply(std::string("I\x01\x02", 3), b);
  EXPECT_EQ(s.message(), "reply record (3 bytes) damaged at offset 0: an integer cut short");
  s = ReplayReply(std::string("A\x03OO", 4), b);
  EXPECT_EQ(s.message(), "reply record (4 bytes) damaged at offset 0: an array of 3 elements with 2 bytes left");
  s = ReplayReply(std::string("A\x02O", 3), b);
  EXPECT_TRUE(s.IsCorruption());
  s = ReplayReply(std::string("A\x02" "A\x02OO", 6), b);
  EXPECT_EQ(s.message(), "reply record (6 bytes) damaged at offset 2: arrays announcing 3 more elements than "
            "the 2 bytes left");
  // A count of 2^64-1 never reaches the builder.
  s = ReplayReply(std::string("A\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11), b);
  EXPECT_TRUE(s.IsCorruption());
  s = ReplayReply(std::string("A\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11), b);
  EXPECT_TRUE(s.IsCorruption());
  // A bulk may hold CR LF.
  EXPECT_TRUE(ReplayReply(std::string("B\x02\r\n", 4), b).ok());
}

TEST(ReplyRecordTest, EveryTruncationIsCorruptionNeverACrash) {
  const std::string record = Record(Everything);
  for (size_t cut = 0; cut < record.size(); ++cut) {
    const std::string_view prefix(record.data(), cut);
    std::string sink;
    proto::RespReplyBuilder b(&sink);
    const Status s = ReplayReply(prefix, b);
    // A cut between whole top-level replies is a shorter valid record; any other cut
    // is damage, reported as such.
    if (!s.ok()) {
      EXPECT_TRUE(s.IsCorruption()) << cut;
    }
  }
  // Cuts inside the nested array (from its header to its last element) all fail.
  const std::string arr = Record([](proto::ReplyBuilder& b) {
    b.ArrayHeader(3);
    b.Bulk("xyz");
    b.ArrayHeader(2);
    b.Integer(5);
    b.Status("st");
  });
  for (size_t cut = 1; cut < arr.size(); ++cut) {
    std::string sink;
    proto::TextReplyBuilder b(&sink);
    EXPECT_TRUE(ReplayReply(std::string_view(arr.data(), cut), b).IsCorruption()) << cut;
    ReplyValue v;
    EXPECT_TRUE(DecodeReply(std::string_view(arr.data(), cut), &v).IsCorruption()) << cut;
  }
}

// Consumes one RESP2 reply from the front of *in; false if it is not one.
bool ConsumeRespReply(std::string_view* in, int depth = 0) {
  if (in->empty() || depth > 16) return false;
  const size_t crlf = in->find("\r\n");
  if (crlf == std::string_view::npos) return false;
  const char type = in->front();
  const std::string_view line = in->substr(1, crlf - 1);
  in->remove_prefix(crlf + 2);
  auto number = [](std::string_view text, int64_t* n) {
    if (text.empty() || text.size() > 20) return false;
    size_t i = text[0] == '-' ? 1 : 0;
    if (i == text.size()) return false;
    for (size_t j = i; j < text.size(); ++j) {
      if (text[j] < '0' || text[j] > '9') return false;
    }
    errno = 0;
    *n = std::strtoll(std::string(text).c_str(), nullptr, 10);
    return errno == 0;
  };
  int64_t n = 0;
  switch (type) {
    case '+':
    case '-':
      return line.find_first_of("\r\n") == std::string_view::npos;
    case ':':
      return number(line, &n);
    case '$':
      if (!number(line, &n) || n < -1) return false;
      if (n == -1) return true;
      if (in->size() < static_cast<size_t>(n) + 2 || in->substr(n, 2) != "\r\n") return false;
      in->remove_prefix(static_cast<size_t>(n) + 2);
      return true;
    case '*':
      if (!number(line, &n) || n < -1) return false;
      for (int64_t i = 0; i < n; ++i) {
        if (!ConsumeRespReply(in, depth + 1)) return false;
      }
      return true;
    default:
      return false;
  }
}

// RESP2 bytes that are a whole number of well-formed replies.
bool IsRespReplies(std::string_view bytes) {
  while (!bytes.empty()) {
    if (!ConsumeRespReply(&bytes)) return false;
  }
  return true;
}

// One reply (for DecodeReply): an array holding every kind of value.
void OneOfEverything(proto::ReplyBuilder& b) {
  b.ArrayHeader(6);
  b.Bulk(std::string("bin\0ary\r\n", 9));
  b.Integer(INT64_MIN);
  b.ArrayHeader(3);
  b.Status("PONG");
  b.Error("MOVED 3999 127.0.0.1:6381");  // 'M' is one bit from CR, '*' from LF
  b.Null();
  b.Bulk("");
  b.NullArray();
  b.Ok();
}

// The oracle for a damaged record: ReplayReply either refuses it with a Corruption
// that says something, or accepts it, and then what it accepted is a record in its own
// right (re-recording the replay gives back the same bytes) and replays through RESP
// into well-formed replies; DecodeReply never accepts what ReplayReply refuses, and
// what it accepts emits the same bytes again.
struct FlipOutcome {
  int accepted = 0;
  int refused = 0;
  int decoded = 0;
};

void CheckDamaged(const std::string& damaged, FlipOutcome* outcome) {
  std::string rerecorded;
  RecordingReplyBuilder recorder(&rerecorded);
  const Status replay = ReplayReply(damaged, recorder);
  if (!replay.ok()) {
    EXPECT_TRUE(replay.IsCorruption()) << replay.ToString();
    EXPECT_FALSE(replay.message().empty());
    ++outcome->refused;
  } else {
    ++outcome->accepted;
    EXPECT_EQ(rerecorded, damaged) << "an accepted record is not what it replays";
    std::string resp;
    proto::RespReplyBuilder resp_builder(&resp);
    ASSERT_TRUE(ReplayReply(damaged, resp_builder).ok());
    EXPECT_TRUE(IsRespReplies(resp)) << "replayed into malformed RESP: " << resp;
    std::string text;
    proto::TextReplyBuilder text_builder(&text);
    EXPECT_TRUE(ReplayReply(damaged, text_builder).ok());
  }
  ReplyValue v;
  const Status decode = DecodeReply(damaged, &v);
  if (decode.ok()) {
    ++outcome->decoded;
    EXPECT_TRUE(replay.ok()) << "DecodeReply accepted what ReplayReply refused";
    std::string emitted;
    RecordingReplyBuilder emit_recorder(&emitted);
    EmitReply(v, emit_recorder);
    EXPECT_EQ(emitted, damaged);
  } else {
    EXPECT_TRUE(decode.IsCorruption()) << decode.ToString();
  }
}

TEST(ReplyRecordTest, EveryByteFlipIsRefusedOrDecodesToAValidRecord) {
  for (const Calls& calls : {Calls(Everything), Calls(OneOfEverything)}) {
    const std::string record = Record(calls);
    FlipOutcome outcome;
    for (size_t i = 0; i < record.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string damaged = record;
        damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
        SCOPED_TRACE("byte " + std::to_string(i) + " bit " + std::to_string(bit));
        CheckDamaged(damaged, &outcome);
      }
    }
    // Both outcomes occur: a flip inside a bulk's bytes is a valid other record, a flip
    // of an op byte or a length mostly is not.
    EXPECT_GT(outcome.accepted, 0);
    EXPECT_GT(outcome.refused, 0);
  }
}

}  // namespace
}  // namespace memento::cluster
