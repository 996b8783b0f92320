// Grammar (docs/formats/cluster-bus.md; all fixed-width integers big-endian):
//
//   stream    := frame*
//   frame     := length:u32 type:u8 request_id:u64 payload[length]
//   HELLO, CHALLENGE, AUTH, HELLO_ACK, REFUSE payload :=
//                magic:u32 version:u16 from:lenpfx to:lenpfx digest:lenpfx reason:lenpfx
//                nonce:lenpfx proof:lenpfx
//   REQUEST   := dialect:u8 argc:varint32 arg:lenpfx{argc}
//   REPLY     := status:u8 body            -- body: reply record or error text
//   PING, PONG:= (empty)
//   lenpfx    := len:varint32 byte[len]
//
// Untrusted input: every decoder checks each length against the bytes left before
// using it, as storage/wal/log_reader.cc does.

#include "cluster/bus_codec.h"

#include <cstdio>

#include "common/coding.h"

namespace memento::cluster {

namespace {

Status Damaged(std::string_view what, std::string_view field) {
  return Status::Corruption(std::string(what) + ": bad or truncated " + std::string(field));
}

void PutU16Be(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}

bool GetString(std::string_view* in, std::string* out, size_t max) {
  std::string_view v;
  if (!GetLengthPrefixed(in, &v) || v.size() > max) return false;
  out->assign(v);
  return true;
}

void PutHeader(std::string* out, FrameType type, uint64_t id, uint32_t length) {
  char header[kFrameHeaderSize];
  EncodeBigEndian32(header + kFrameLengthOffset, length);
  header[kFrameTypeOffset] = static_cast<char>(type);
  EncodeBigEndian64(header + kFrameIdOffset, id);
  out->append(header, sizeof(header));
}

size_t Varint32Size(uint32_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

}  // namespace

Status DecodeFrame(std::string_view buffer, uint64_t max_frame_bytes, Frame* frame,
                   size_t* consumed) {
  *consumed = 0;
  if (buffer.size() < kFrameHeaderSize) return Status::OK();
  const uint32_t length = DecodeBigEndian32(buffer.data() + kFrameLengthOffset);
  const auto type = static_cast<uint8_t>(buffer[kFrameTypeOffset]);
  if (type == 0 || type > kMaxFrameType) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "0x%02x", type);
    return Status::Corruption(std::string("cluster bus frame of unknown type ") + hex);
  }
  const uint64_t total = uint64_t{length} + kFrameHeaderSize;
  if (total > max_frame_bytes) {
    return Status::Corruption("cluster bus frame of " + std::to_string(total) +
                              " bytes is larger than max_frame_bytes (" +
                              std::to_string(max_frame_bytes) + ")");
  }
  if (buffer.size() < total) return Status::OK();
  frame->type = static_cast<FrameType>(type);
  frame->id = DecodeBigEndian64(buffer.data() + kFrameIdOffset);
  frame->payload = buffer.substr(kFrameHeaderSize, length);
  *consumed = static_cast<size_t>(total);
  return Status::OK();
}

void AppendFrame(std::string* out, FrameType type, uint64_t id, std::string_view payload) {
  PutHeader(out, type, id, static_cast<uint32_t>(payload.size()));
  out->append(payload);
}

std::string EncodeHandshake(const Handshake& h) {
  std::string out;
  char magic[4];
  EncodeBigEndian32(magic, kBusMagic);
  out.append(magic, sizeof(magic));
  PutU16Be(&out, h.version);
  PutLengthPrefixed(&out, h.from);
  PutLengthPrefixed(&out, h.to);
  PutLengthPrefixed(&out, h.digest);
  PutLengthPrefixed(&out, h.reason);
  PutLengthPrefixed(&out, h.nonce);
  PutLengthPrefixed(&out, h.proof);
  return out;
}

Status DecodeHandshake(std::string_view payload, Handshake* h) {
  constexpr std::string_view kWhat = "cluster bus handshake";
  if (payload.size() < 6) return Damaged(kWhat, "magic and version");
  const uint32_t magic = DecodeBigEndian32(payload.data());
  if (magic != kBusMagic) {
    char hex[16];
    std::snprintf(hex, sizeof(hex), "0x%08x", magic);
    return Status::Corruption(std::string("not a memento cluster bus peer: handshake magic ") +
                              hex + ", expected 0x4d425553 (\"MBUS\")");
  }
  h->version = static_cast<uint16_t>((static_cast<unsigned char>(payload[4]) << 8) |
                                     static_cast<unsigned char>(payload[5]));
  if (h->version != kBusProtocolVersion) {
    return Status::NotSupported("cluster bus protocol version " + std::to_string(h->version) +
                                ", this build speaks version " +
                                std::to_string(kBusProtocolVersion));
  }
  payload.remove_prefix(6);
  if (!GetString(&payload, &h->from, kMaxHandshakeString)) return Damaged(kWhat, "sender name");
  if (!GetString(&payload, &h->to, kMaxHandshakeString)) return Damaged(kWhat, "receiver name");
  if (!GetString(&payload, &h->digest, kMaxHandshakeString)) return Damaged(kWhat, "digest");
  if (!GetString(&payload, &h->reason, kMaxHandshakeString)) return Damaged(kWhat, "reason");
  if (!GetString(&payload, &h->nonce, kMaxHandshakeString)) return Damaged(kWhat, "nonce");
  if (!GetString(&payload, &h->proof, kMaxHandshakeString)) return Damaged(kWhat, "proof");
  if (!payload.empty()) {
    return Status::Corruption("cluster bus handshake: " + std::to_string(payload.size()) +
                              " bytes after the last field");
  }
  return Status::OK();
}

WireDialect DialectToWire(net::Dialect dialect) {
  switch (dialect) {
    case net::Dialect::kText:
      return WireDialect::kText;
    case net::Dialect::kResp:
      return WireDialect::kResp;
  }
  // Only an out-of-range cast can get here; RESP is what the peer serves best.
  return WireDialect::kResp;
}

Status DialectFromWire(uint8_t code, net::Dialect* dialect) {
  switch (static_cast<WireDialect>(code)) {
    case WireDialect::kText:
      *dialect = net::Dialect::kText;
      return Status::OK();
    case WireDialect::kResp:
      *dialect = net::Dialect::kResp;
      return Status::OK();
  }
  return Status::Corruption("cluster bus request: unknown dialect " + std::to_string(code) +
                            " (known: 0 text, 1 RESP)");
}

std::string EncodeRequestFrame(uint64_t id, net::Dialect dialect,
                               std::span<const std::string_view> argv) {
  size_t length = 1 + Varint32Size(static_cast<uint32_t>(argv.size()));
  for (std::string_view arg : argv) {
    length += Varint32Size(static_cast<uint32_t>(arg.size())) + arg.size();
  }
  std::string out;
  out.reserve(kFrameHeaderSize + length);
  PutHeader(&out, FrameType::kRequest, id, static_cast<uint32_t>(length));
  out.push_back(static_cast<char>(DialectToWire(dialect)));
  PutVarint32(&out, static_cast<uint32_t>(argv.size()));
  for (std::string_view arg : argv) PutLengthPrefixed(&out, arg);
  return out;
}

Status DecodeRequest(std::string_view payload, net::Dialect* dialect,
                     std::vector<std::string_view>* argv) {
  constexpr std::string_view kWhat = "cluster bus request";
  argv->clear();
  if (payload.empty()) return Damaged(kWhat, "dialect");
  MEMENTO_RETURN_IF_ERROR(DialectFromWire(static_cast<uint8_t>(payload.front()), dialect));
  payload.remove_prefix(1);
  uint32_t argc = 0;
  if (!GetVarint32(&payload, &argc)) return Damaged(kWhat, "argument count");
  if (argc == 0) return Status::Corruption("cluster bus request without arguments");
  // Every argument takes at least its length byte: a count past that is damage, and
  // must not size an allocation.
  if (argc > payload.size()) {
    return Status::Corruption("cluster bus request announces " + std::to_string(argc) +
                              " arguments in " + std::to_string(payload.size()) + " bytes");
  }
  argv->reserve(argc);
  for (uint32_t i = 0; i < argc; ++i) {
    std::string_view arg;
    if (!GetLengthPrefixed(&payload, &arg)) {
      return Status::Corruption("cluster bus request: argument " + std::to_string(i + 1) +
                                " of " + std::to_string(argc) + " bad or truncated");
    }
    argv->push_back(arg);
  }
  if (!payload.empty()) {
    return Status::Corruption("cluster bus request: " + std::to_string(payload.size()) +
                              " bytes after the last argument");
  }
  return Status::OK();
}

void AppendReplyFrame(std::string* out, uint64_t id, ReplyStatus status, std::string_view body) {
  PutHeader(out, FrameType::kReply, id, static_cast<uint32_t>(body.size() + 1));
  out->push_back(static_cast<char>(status));
  out->append(body);
}

Status DecodeReplyPayload(std::string_view payload, ReplyStatus* status, std::string_view* body) {
  if (payload.empty()) return Damaged("cluster bus reply", "status");
  const auto s = static_cast<uint8_t>(payload.front());
  if (s > static_cast<uint8_t>(ReplyStatus::kError)) {
    return Status::Corruption("cluster bus reply: unknown status " + std::to_string(s));
  }
  *status = static_cast<ReplyStatus>(s);
  *body = payload.substr(1);
  return Status::OK();
}

}  // namespace memento::cluster
