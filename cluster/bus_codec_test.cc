#include "cluster/bus_codec.h"

#include "cluster/bus_auth.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace memento::cluster {
namespace {

std::string Hex(std::string_view s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (!out.empty()) out += ' ';
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

TEST(BusCodecTest, FrameHeaderIsBigEndian) {
  std::string out;
  AppendFrame(&out, FrameType::kPing, 0x0102030405060708ull, "xy");
  EXPECT_EQ(Hex(out), "00 00 00 02 06 01 02 03 04 05 06 07 08 78 79");
}

std::string Bytes(int first, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out.push_back(static_cast<char>(first + i));
  return out;
}

// The worked example of docs/formats/cluster-bus.md, byte for byte.
TEST(BusCodecTest, WorkedExampleMatchesTheSpec) {
  Handshake hello;
  hello.from = "a";
  hello.to = "b";
  hello.digest = "0123456789abcdef";
  hello.nonce = Bytes(0x00, 32);
  std::string out;
  AppendFrame(&out, FrameType::kHello, 0, EncodeHandshake(hello));
  EXPECT_EQ(Hex(out),
            "00 00 00 3e 01 00 00 00 00 00 00 00 00 4d 42 55 53 00 02 01 61 01 62 10 30 31 32 "
            "33 34 35 36 37 38 39 61 62 63 64 65 66 00 20 00 01 02 03 04 05 06 07 08 09 0a 0b "
            "0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 00");
  // The proofs for the secret "s3cret", acceptor nonce 20 21 .. 3f.
  std::string proof;
  ASSERT_TRUE(
      BusProof("s3cret", BusRole::kDialler, Bytes(0x00, 32), Bytes(0x20, 32), "a", "b", &proof)
          .ok());
  EXPECT_EQ(Hex(proof),
            "e2 9c a3 fa d8 a7 28 e0 93 6d 42 69 9c 13 a8 22 03 2d 79 1c 52 4b 14 07 ab dc 99 95 "
            "74 27 6d 30");
  Handshake auth;
  auth.from = "a";
  auth.to = "b";
  auth.digest = "0123456789abcdef";
  auth.proof = proof;
  out.clear();
  AppendFrame(&out, FrameType::kAuth, 0, EncodeHandshake(auth));
  EXPECT_EQ(Hex(out).substr(0, 14 * 3), "00 00 00 3e 09 00 00 00 00 00 00 00 00 4d ");
  ASSERT_TRUE(
      BusProof("s3cret", BusRole::kAcceptor, Bytes(0x00, 32), Bytes(0x20, 32), "a", "b", &proof)
          .ok());
  EXPECT_EQ(Hex(proof),
            "19 5d c3 c2 0e dc fa 78 b4 11 20 eb f7 67 89 3b 3c 0e ce ee 94 b9 e0 d9 33 b9 16 f8 "
            "ad a4 a0 5e");
  const std::vector<std::string_view> argv = {"GET", "k"};
  EXPECT_EQ(Hex(EncodeRequestFrame(1, net::Dialect::kResp, argv)),
            "00 00 00 08 04 00 00 00 00 00 00 00 01 01 02 03 47 45 54 01 6b");
  out.clear();
  AppendReplyFrame(&out, 1, ReplyStatus::kOk, "B\x01v");
  EXPECT_EQ(Hex(out), "00 00 00 04 05 00 00 00 00 00 00 00 01 00 42 01 76");
}

TEST(BusCodecTest, DecodeWaitsForWholeFrameWhateverTheSplit) {
  std::string stream;
  AppendFrame(&stream, FrameType::kPing, 1, "");
  AppendFrame(&stream, FrameType::kReply, 2, std::string(1000, 'r'));
  AppendFrame(&stream, FrameType::kPong, 3, "p");
  // Feed byte by byte: frames appear only once complete, in order.
  std::string buffer;
  std::vector<uint64_t> ids;
  for (char c : stream) {
    buffer.push_back(c);
    while (true) {
      Frame f;
      size_t consumed = 0;
      ASSERT_TRUE(DecodeFrame(buffer, 1 << 20, &f, &consumed).ok());
      if (consumed == 0) break;
      ids.push_back(f.id);
      buffer.erase(0, consumed);
    }
  }
  EXPECT_EQ(ids, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(buffer.empty());
}

TEST(BusCodecTest, OversizedFrameRefusedAtItsHeader) {
  std::string header("\xff\xff\xff\xff\x04\0\0\0\0\0\0\0\x01", 13);
  Frame f;
  size_t consumed = 7;
  Status s = DecodeFrame(header, uint64_t{1} << 30, &f, &consumed);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(),
            "cluster bus frame of 4294967308 bytes is larger than max_frame_bytes (1073741824)");
  EXPECT_EQ(consumed, 0u);
}

TEST(BusCodecTest, UnknownTypeRefused) {
  std::string header("\0\0\0\0\x0a\0\0\0\0\0\0\0\x01", 13);
  Frame f;
  size_t consumed = 0;
  Status s = DecodeFrame(header, 1 << 20, &f, &consumed);
  EXPECT_EQ(s.message(), "cluster bus frame of unknown type 0x0a");
  header[4] = 0;
  EXPECT_TRUE(DecodeFrame(header, 1 << 20, &f, &consumed).IsCorruption());
}

TEST(BusCodecTest, HandshakeRoundTrip) {
  Handshake h;
  h.from = "a";
  h.to = "b";
  h.digest = "0123456789abcdef";
  h.reason = "because";
  h.nonce = "nonce";
  h.proof = "proof";
  Handshake back;
  ASSERT_TRUE(DecodeHandshake(EncodeHandshake(h), &back).ok());
  EXPECT_EQ(back.nonce, "nonce");
  EXPECT_EQ(back.proof, "proof");
  EXPECT_EQ(back.from, "a");
  EXPECT_EQ(back.to, "b");
  EXPECT_EQ(back.digest, h.digest);
  EXPECT_EQ(back.reason, "because");
}

TEST(BusCodecTest, HandshakeWrongMagicOrVersion) {
  Handshake h;
  h.from = "a";
  std::string bytes = EncodeHandshake(h);
  bytes[0] = 'X';
  Handshake back;
  Status s = DecodeHandshake(bytes, &back);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message().substr(0, 34), "not a memento cluster bus peer: ha");
  bytes = EncodeHandshake(h);
  bytes[5] = 9;
  s = DecodeHandshake(bytes, &back);
  EXPECT_EQ(s.code(), Status::Code::kNotSupported);
  EXPECT_EQ(back.version, 9);
}

TEST(BusCodecTest, HandshakeEveryTruncationRefused) {
  Handshake h;
  h.from = "node-a";
  h.to = "node-b";
  h.digest = "0123456789abcdef";
  const std::string bytes = EncodeHandshake(h);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    Handshake back;
    EXPECT_TRUE(DecodeHandshake(std::string_view(bytes.data(), cut), &back).IsCorruption()) << cut;
  }
  Handshake back;
  EXPECT_TRUE(DecodeHandshake(bytes + "x", &back).IsCorruption());
}

TEST(BusCodecTest, RequestRoundTrip) {
  const std::vector<std::string_view> argv = {"SET", "key", std::string_view("v\0\r\n", 4)};
  const std::string frame = EncodeRequestFrame(77, net::Dialect::kResp, argv);
  Frame f;
  size_t consumed = 0;
  ASSERT_TRUE(DecodeFrame(frame, 1 << 20, &f, &consumed).ok());
  ASSERT_EQ(consumed, frame.size());
  EXPECT_EQ(f.type, FrameType::kRequest);
  EXPECT_EQ(f.id, 77u);
  net::Dialect d;
  std::vector<std::string_view> back;
  ASSERT_TRUE(DecodeRequest(f.payload, &d, &back).ok());
  EXPECT_EQ(d, net::Dialect::kResp);
  EXPECT_EQ(back, argv);
  for (size_t cut = 0; cut < f.payload.size(); ++cut) {
    EXPECT_TRUE(DecodeRequest(f.payload.substr(0, cut), &d, &back).IsCorruption()) << cut;
  }
}

TEST(BusCodecTest, RequestHostileCountsRefused) {
  net::Dialect d;
  std::vector<std::string_view> argv;
  EXPECT_EQ(DecodeRequest(std::string("\x00\x00", 2), &d, &argv).message(),
            "cluster bus request without arguments");
  EXPECT_EQ(DecodeRequest(std::string("\x00\xff\xff\xff\xff\x0f", 6), &d, &argv).message(),
            "cluster bus request announces 4294967295 arguments in 0 bytes");
  EXPECT_EQ(DecodeRequest(std::string("\x07\x01\x00", 3), &d, &argv).message(),
            "cluster bus request: unknown dialect 7 (known: 0 text, 1 RESP)");
  EXPECT_TRUE(DecodeRequest(std::string("\x00\x01\x00", 3), &d, &argv).ok());  // one empty arg
  EXPECT_TRUE(DecodeRequest(std::string("\x00\x01\x00z", 4), &d, &argv).IsCorruption());
}

// The codes are frozen on the wire whatever net::Dialect's values become.
TEST(BusCodecTest, DialectWireCodesAreFrozen) {
  EXPECT_EQ(static_cast<uint8_t>(DialectToWire(net::Dialect::kText)), 0);
  EXPECT_EQ(static_cast<uint8_t>(DialectToWire(net::Dialect::kResp)), 1);
  for (net::Dialect dialect : {net::Dialect::kText, net::Dialect::kResp}) {
    net::Dialect back = dialect == net::Dialect::kText ? net::Dialect::kResp : net::Dialect::kText;
    ASSERT_TRUE(DialectFromWire(static_cast<uint8_t>(DialectToWire(dialect)), &back).ok());
    EXPECT_EQ(back, dialect);
  }
  // A request frame carries the wire code in its first payload byte.
  const std::vector<std::string_view> argv = {"ping"};
  Frame f;
  size_t consumed = 0;
  const std::string text = EncodeRequestFrame(3, net::Dialect::kText, argv);
  ASSERT_TRUE(DecodeFrame(text, 1 << 20, &f, &consumed).ok());
  EXPECT_EQ(f.payload[0], '\x00');
}

TEST(BusCodecTest, UnknownDialectCodesAreRefused) {
  for (int code : {2, 7, 0x80, 0xff}) {
    net::Dialect d = net::Dialect::kResp;
    Status s = DialectFromWire(static_cast<uint8_t>(code), &d);
    EXPECT_TRUE(s.IsCorruption()) << code;
    EXPECT_EQ(s.message(), "cluster bus request: unknown dialect " + std::to_string(code) +
                               " (known: 0 text, 1 RESP)");
    EXPECT_EQ(d, net::Dialect::kResp) << "left untouched";
  }
}

TEST(BusCodecTest, ReplyPayload) {
  std::string out;
  AppendReplyFrame(&out, 5, ReplyStatus::kError, "boom");
  Frame f;
  size_t consumed = 0;
  ASSERT_TRUE(DecodeFrame(out, 1 << 20, &f, &consumed).ok());
  ReplyStatus st;
  std::string_view body;
  ASSERT_TRUE(DecodeReplyPayload(f.payload, &st, &body).ok());
  EXPECT_EQ(st, ReplyStatus::kError);
  EXPECT_EQ(body, "boom");
  EXPECT_TRUE(DecodeReplyPayload("", &st, &body).IsCorruption());
  EXPECT_TRUE(DecodeReplyPayload("\x02", &st, &body).IsCorruption());
}

}  // namespace
}  // namespace memento::cluster
