// Encoding and decoding of cluster bus frames and of their payloads
// (docs/formats/cluster-bus.md; constants in bus_format.h). Pure functions over bytes:
// no sockets, so the fuzzer (fuzz/bus_frame_fuzzer.cc) and the tests drive them
// directly. Every decoder treats its input as hostile: lengths are checked before
// use, nothing is trusted, errors are Corruption (or NotSupported for a protocol
// version this build does not speak) naming the field.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/bus_format.h"
#include "common/status.h"
#include "net/server.h"

namespace memento::cluster {

struct Frame {
  FrameType type = FrameType::kPing;
  uint64_t id = 0;
  std::string_view payload;  // views into the decoded buffer
};

// Cuts the first frame out of `buffer` (bytes received so far).
//   OK and *consumed > 0: *frame holds it; *consumed = kFrameHeaderSize + payload size.
//   OK and *consumed == 0: the frame is not complete yet (read more).
//   Corruption: an unknown frame type, or a frame larger than max_frame_bytes (told as
//   soon as the header is in, without waiting for the body): close the link.
Status DecodeFrame(std::string_view buffer, uint64_t max_frame_bytes, Frame* frame,
                   size_t* consumed);

// Appends one whole frame to *out.
void AppendFrame(std::string* out, FrameType type, uint64_t id, std::string_view payload);

// HELLO, CHALLENGE, AUTH, HELLO_ACK and REFUSE payloads share one layout:
//   magic:u32be version:u16be from:lenpfx to:lenpfx digest:lenpfx reason:lenpfx
//   nonce:lenpfx proof:lenpfx
// (lenpfx: varint32 length then bytes; reason is empty except in REFUSE, nonce except
// in HELLO and CHALLENGE, proof except in AUTH and HELLO_ACK; the bus checks which
// fields a frame type needs and their sizes).
struct Handshake {
  uint16_t version = kBusProtocolVersion;
  std::string from;    // the sender's node name
  std::string to;      // the node the sender thinks it talks to
  std::string digest;  // the sender's SlotMap::Digest()
  std::string reason;  // REFUSE only: why
  std::string nonce;   // HELLO, CHALLENGE: the sender's fresh random nonce
  std::string proof;   // AUTH, HELLO_ACK: the sender's BusProof (cluster/bus_auth.h)
};
std::string EncodeHandshake(const Handshake& h);
// Corruption: bad magic ("not a memento cluster bus peer"), damaged fields, trailing
// bytes. NotSupported: another protocol version (h->version holds it; the other fields
// are not decoded, their layout may differ).
Status DecodeHandshake(std::string_view payload, Handshake* h);

// The wire code of `dialect`. Total: every net::Dialect has a code (the switch in
// bus_codec.cc makes a new dialect without one a build error).
WireDialect DialectToWire(net::Dialect dialect);
// The dialect a wire code stands for. Corruption naming the code for any other byte.
Status DialectFromWire(uint8_t code, net::Dialect* dialect);

// A whole REQUEST frame: dialect:u8 argc:varint32 (arg:lenpfx){argc}.
// REQUIRES: each argument shorter than 4 GiB.
std::string EncodeRequestFrame(uint64_t id, net::Dialect dialect,
                               std::span<const std::string_view> argv);
// argv views into `payload`. Corruption: unknown dialect, argc 0, damaged arguments,
// trailing bytes.
Status DecodeRequest(std::string_view payload, net::Dialect* dialect,
                     std::vector<std::string_view>* argv);

// A REPLY payload: status:u8 then a reply record (kOk) or an error text (kError).
void AppendReplyFrame(std::string* out, uint64_t id, ReplyStatus status, std::string_view body);
Status DecodeReplyPayload(std::string_view payload, ReplyStatus* status, std::string_view* body);

}  // namespace memento::cluster
