// Authentication of the cluster bus handshake (docs/formats/cluster-bus.md, "Handshake"):
// HMAC-SHA256, random nonces and a constant-time comparison, from OpenSSL's libcrypto
// (Debian's libssl-dev), wrapped once here so the rest of the bus sees Status values and
// std::string bytes, never OpenSSL's int return codes. SHA-256 is not written here.
//
// Thread-safety: pure functions (libcrypto 3 is thread-safe without set-up).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace memento::cluster {

inline constexpr size_t kHmacSha256Size = 32;
// Bytes of each handshake nonce.
inline constexpr size_t kBusNonceSize = 32;

// *mac = HMAC-SHA256(key, data) (RFC 2104 with SHA-256), 32 bytes. Any key length,
// including 0. Not OK only if libcrypto fails (IOError naming its error).
Status HmacSha256(std::string_view key, std::string_view data, std::string* mac);

// *out = n bytes from the operating system's random source (RAND_bytes, seeded from
// getrandom()). IOError if it has no entropy to give.
Status RandomBytes(size_t n, std::string* out);

// a == b, in a time that depends only on the lengths (CRYPTO_memcmp): a wrong MAC's
// first wrong byte cannot be found by timing.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Who proves: the node that dialled the connection, or the node that accepted it.
// Each signs its own label, so a proof cannot be reflected back as the other's.
enum class BusRole { kDialler, kAcceptor };

// The handshake proof of `role` on one connection:
//   HMAC-SHA256(secret, label:lenpfx dialler_nonce:lenpfx acceptor_nonce:lenpfx
//                       dialler:lenpfx acceptor:lenpfx)
// label "memento-bus-v2 dialler" or "memento-bus-v2 acceptor"; dialler/acceptor are
// the node names (lenpfx: varint32 length, then the bytes).
Status BusProof(std::string_view secret, BusRole role, std::string_view dialler_nonce,
                std::string_view acceptor_nonce, std::string_view dialler,
                std::string_view acceptor, std::string* proof);

}  // namespace memento::cluster
