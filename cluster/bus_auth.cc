// The one place that calls OpenSSL (libcrypto). HMAC() is the one-shot interface that
// OpenSSL 3 keeps (HMAC_CTX is deprecated there); EVP_MAC would be the same computation
// in four calls.

#include "cluster/bus_auth.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/coding.h"

namespace memento::cluster {

namespace {

Status CryptoError(std::string_view what) {
  char text[256] = "no detail";
  const unsigned long code = ERR_get_error();
  if (code != 0) ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return Status::IOError(std::string(what) + " failed in libcrypto: " + text);
}

}  // namespace

Status HmacSha256(std::string_view key, std::string_view data, std::string* mac) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // A zero-length key must still be a valid pointer: HMAC() reads a null key as
  // "reuse the previous one".
  static const unsigned char kEmpty[1] = {0};
  const void* key_bytes = key.empty() ? kEmpty : static_cast<const void*>(key.data());
  const unsigned char* data_bytes =
      data.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(data.data());
  if (HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()), data_bytes, data.size(), out,
           &len) == nullptr ||
      len != kHmacSha256Size) {
    return CryptoError("HMAC-SHA256");
  }
  mac->assign(reinterpret_cast<const char*>(out), len);
  return Status::OK();
}

Status RandomBytes(size_t n, std::string* out) {
  out->assign(n, '\0');
  if (n == 0) return Status::OK();
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out->data()), static_cast<int>(n)) != 1) {
    return CryptoError("RAND_bytes");
  }
  return Status::OK();
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status BusProof(std::string_view secret, BusRole role, std::string_view dialler_nonce,
                std::string_view acceptor_nonce, std::string_view dialler,
                std::string_view acceptor, std::string* proof) {
  std::string message;
  PutLengthPrefixed(&message, role == BusRole::kDialler ? "memento-bus-v2 dialler"
                                                        : "memento-bus-v2 acceptor");
  PutLengthPrefixed(&message, dialler_nonce);
  PutLengthPrefixed(&message, acceptor_nonce);
  PutLengthPrefixed(&message, dialler);
  PutLengthPrefixed(&message, acceptor);
  return HmacSha256(secret, message, proof);
}

}  // namespace memento::cluster
