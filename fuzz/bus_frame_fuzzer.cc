// Fuzz target: the cluster bus decoders (cluster/bus_codec.h, cluster/reply_record.h):
// DecodeFrame over a byte stream, then each frame's payload by its type
// (DecodeHandshake, DecodeRequest, DecodeReplyPayload), and reply records through
// ReplayReply (into the recording, text and RESP builders) and DecodeReply/EmitReply.
// Everything here reads bytes a peer (or anyone reaching the bus port) sent.
//
// Input layout:
//   byte 0   bits 0-1: what the rest is: 0 a frame stream, 1 a handshake payload,
//            2 a request payload, 3 a reply record
//   byte 1   seed of the chunk sizes the stream is cut into (mode 0)
//   byte 2   max_frame_bytes = 16 << (byte % 16) (mode 0)
//   rest     the bytes
//
// Checked: the frames cut from the stream are the same whether it arrives whole or in
// chunks (a connection buffer: append, decode, erase), each consumed size is the
// header plus the announced length, an error is final; a decoded handshake or request
// re-encodes to something that decodes to the same fields; a replayed record, recorded
// again, replays to the same bytes (the re-encoding is canonical and stable), and a
// record DecodeReply accepts emits exactly what ReplayReply records; no builder's
// assert (no CR/LF in status or error lines) ever fires.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/bus_codec.h"
#include "cluster/bus_format.h"
#include "cluster/reply_record.h"
#include "fuzz/fuzz_util.h"
#include "net/proto/resp_reply.h"
#include "net/proto/text_reply.h"

namespace memento::fuzz {
namespace {

using cluster::Frame;
using cluster::FrameType;

void CheckRecord(std::string_view record) {
  std::string recorded;
  cluster::RecordingReplyBuilder rec(&recorded);
  const Status s = cluster::ReplayReply(record, rec);
  FUZZ_CHECK(s.ok() || s.IsCorruption());
  // Text and RESP encoders assert on CR/LF in status/error lines: replay must filter.
  std::string text, resp;
  proto::TextReplyBuilder tb(&text);
  proto::RespReplyBuilder rb(&resp);
  FUZZ_CHECK(cluster::ReplayReply(record, tb).ok() == s.ok());
  FUZZ_CHECK(cluster::ReplayReply(record, rb).ok() == s.ok());
  if (s.ok()) {
    std::string again;
    cluster::RecordingReplyBuilder rec2(&again);
    FUZZ_CHECK(cluster::ReplayReply(recorded, rec2).ok());
    FUZZ_CHECK(again == recorded);
    FUZZ_CHECK(recorded.size() <= record.size());
  }
  cluster::ReplyValue value;
  const Status d = cluster::DecodeReply(record, &value);
  FUZZ_CHECK(d.ok() || d.IsCorruption());
  if (d.ok()) {
    FUZZ_CHECK(s.ok());  // one whole reply is a valid record
    std::string emitted;
    cluster::RecordingReplyBuilder rec3(&emitted);
    cluster::EmitReply(value, rec3);
    FUZZ_CHECK(emitted == recorded);
  }
}

void CheckHandshake(std::string_view payload) {
  cluster::Handshake h;
  const Status s = cluster::DecodeHandshake(payload, &h);
  FUZZ_CHECK(s.ok() || s.IsCorruption() || s.code() == Status::Code::kNotSupported);
  if (!s.ok()) return;
  cluster::Handshake back;
  FUZZ_CHECK(cluster::DecodeHandshake(cluster::EncodeHandshake(h), &back).ok());
  FUZZ_CHECK(back.from == h.from && back.to == h.to && back.digest == h.digest &&
             back.reason == h.reason && back.version == h.version && back.nonce == h.nonce &&
             back.proof == h.proof);
}

void CheckRequest(std::string_view payload) {
  net::Dialect dialect;
  std::vector<std::string_view> argv;
  const Status s = cluster::DecodeRequest(payload, &dialect, &argv);
  FUZZ_CHECK(s.ok() || s.IsCorruption());
  if (!s.ok()) return;
  FUZZ_CHECK(!argv.empty());
  const std::string frame = cluster::EncodeRequestFrame(42, dialect, argv);
  FUZZ_CHECK(frame.size() <= cluster::kFrameHeaderSize + payload.size());
  Frame f;
  size_t consumed = 0;
  FUZZ_CHECK(cluster::DecodeFrame(frame, UINT64_MAX, &f, &consumed).ok());
  FUZZ_CHECK(consumed == frame.size() && f.id == 42 && f.type == FrameType::kRequest);
  net::Dialect d2;
  std::vector<std::string_view> argv2;
  FUZZ_CHECK(cluster::DecodeRequest(f.payload, &d2, &argv2).ok());
  FUZZ_CHECK(d2 == dialect && argv2 == argv);
}

void CheckPayload(const Frame& f) {
  switch (f.type) {
    case FrameType::kHello:
    case FrameType::kHelloAck:
    case FrameType::kRefuse:
    case FrameType::kChallenge:
    case FrameType::kAuth:
      CheckHandshake(f.payload);
      break;
    case FrameType::kRequest:
      CheckRequest(f.payload);
      break;
    case FrameType::kReply: {
      cluster::ReplyStatus status;
      std::string_view body;
      if (cluster::DecodeReplyPayload(f.payload, &status, &body).ok() &&
          status == cluster::ReplyStatus::kOk) {
        CheckRecord(body);
      }
      break;
    }
    case FrameType::kPing:
    case FrameType::kPong:
      break;
  }
}

struct Cut {
  std::vector<std::string> frames;  // type, id and payload, re-encoded
  bool error = false;
};

// Decodes `stream` arriving in chunks (sizes from `seed`; 0: whole).
Cut DecodeStream(std::string_view stream, uint64_t max_frame, uint8_t seed, bool check) {
  Cut out;
  std::string buffer;
  size_t pos = 0;
  uint32_t rng = seed;
  while (pos < stream.size() || !buffer.empty()) {
    size_t chunk = stream.size() - pos;
    if (seed != 0) {
      rng = rng * 1103515245u + 12345u;
      chunk = std::min<size_t>(chunk, 1 + (rng >> 16) % 64);
    }
    buffer.append(stream.substr(pos, chunk));
    pos += chunk;
    while (true) {
      Frame f;
      size_t consumed = 0;
      const Status s = cluster::DecodeFrame(buffer, max_frame, &f, &consumed);
      if (!s.ok()) {
        FUZZ_CHECK(s.IsCorruption());
        out.error = true;
        return out;
      }
      if (consumed == 0) break;
      FUZZ_CHECK(consumed == cluster::kFrameHeaderSize + f.payload.size());
      FUZZ_CHECK(consumed <= max_frame);
      if (check) CheckPayload(f);
      std::string again;
      cluster::AppendFrame(&again, f.type, f.id, f.payload);
      FUZZ_CHECK(again == std::string_view(buffer).substr(0, consumed));
      out.frames.push_back(std::move(again));
      buffer.erase(0, consumed);
    }
    if (pos >= stream.size()) break;  // what is left is an incomplete frame
  }
  return out;
}

}  // namespace
}  // namespace memento::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memento;        // NOLINT
  using namespace memento::fuzz;  // NOLINT
  FuzzInput in(data, size);
  const uint8_t mode = in.Byte() & 3;
  const uint8_t seed = in.Byte();
  const uint64_t max_frame = uint64_t{16} << (in.Byte() % 16);
  const std::string rest(in.Rest());
  switch (mode) {
    case 0: {
      const Cut whole = DecodeStream(rest, max_frame, 0, /*check=*/true);
      const Cut split = DecodeStream(rest, max_frame, seed | 1, /*check=*/false);
      FUZZ_CHECK(whole.frames == split.frames);
      FUZZ_CHECK(whole.error == split.error);
      break;
    }
    case 1:
      CheckHandshake(rest);
      break;
    case 2:
      CheckRequest(rest);
      break;
    default:
      CheckRecord(rest);
      break;
  }
  return 0;
}
