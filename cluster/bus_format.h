// Constants of the cluster bus wire format, shared by the encoder and the decoder
// (bus_codec.cc) and by the bus (bus.cc). The spec is docs/formats/cluster-bus.md:
// change both together, and bump kBusProtocolVersion on any incompatible change.
//
// DO NOT CHANGE THE NUMERIC VALUES: they travel between nodes that may run different
// builds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace memento::cluster {

// "MBUS": the first field of every HELLO / CHALLENGE / AUTH / HELLO_ACK / REFUSE payload.
inline constexpr uint32_t kBusMagic = 0x4d425553u;
// 1: unauthenticated handshake. 2: adds the nonce and proof fields and the CHALLENGE and
// AUTH frames (a challenge-response over the cluster secret).
inline constexpr uint16_t kBusProtocolVersion = 2;

// frame := length:u32be type:u8 request_id:u64be payload[length]
inline constexpr size_t kFrameHeaderSize = 13;
inline constexpr size_t kFrameLengthOffset = 0;
inline constexpr size_t kFrameTypeOffset = 4;
inline constexpr size_t kFrameIdOffset = 5;

enum class FrameType : uint8_t {
  kHello = 1,     // dialler -> acceptor: who I am, my SlotMap digest, my nonce
  kHelloAck = 2,  // acceptor -> dialler: accepted; who I am, my digest, my proof
  kRefuse = 3,    // acceptor -> dialler: refused (reason), then the acceptor closes
  kRequest = 4,   // dialler -> acceptor: execute this (id chosen by the dialler)
  kReply = 5,     // acceptor -> dialler: the reply to request `id`
  kPing = 6,      // dialler -> acceptor: heartbeat
  kPong = 7,      // acceptor -> dialler: heartbeat answer (same id as the PING)
  kChallenge = 8,  // acceptor -> dialler: HELLO checked; my nonce (version 2)
  kAuth = 9,       // dialler -> acceptor: my proof over both nonces (version 2)
};
inline constexpr uint8_t kMaxFrameType = 9;

// First byte of a REPLY payload.
enum class ReplyStatus : uint8_t {
  kOk = 0,     // the rest is a reply record (cluster/reply_record.h)
  kError = 1,  // the rest is an error text: the peer could not execute the request
};

// The first words of a REFUSE reason when the peer's proof of the cluster secret was
// wrong: the dialler shows the link as auth-failed. Frozen like the codes.
inline constexpr std::string_view kAuthFailedReason = "authentication failed";

// The dialect a forwarded REQUEST is executed in (the client's). The bus's own codes,
// not net::Dialect's: that enum is the server's in-memory choice and may be renumbered
// or grow; these are on the wire. DialectToWire / DialectFromWire (bus_codec.h) map
// between the two. DO NOT CHANGE: on the wire.
enum class WireDialect : uint8_t {
  kText = 0,  // Memento's text protocol
  kResp = 1,  // RESP2
};

// Handshake strings are short; longer ones are refused as damage.
inline constexpr size_t kMaxHandshakeString = 4096;

}  // namespace memento::cluster
