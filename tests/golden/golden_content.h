// What the golden files under tests/testdata/ hold: the records make_golden.cc wrote
// into them and golden_test.cc expects to read back with today's readers.
//
// DO NOT CHANGE what is here: it describes files that are committed. A new format
// version gets new files (and, if its content differs, new lists here); the files of
// every released version stay, and the test keeps reading them. See
// tests/testdata/README.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/mutation.h"

namespace memento::golden {

// Times are fixed, so that the files are the same whenever they are made.
inline constexpr int64_t kCreatedMs = 1700000000000;  // 2023-11-14T22:13:20Z
inline constexpr int64_t kLoadNowMs = 1700000000000;  // "now" when the snapshot is read

// A key and a value with every awkward byte: NUL, CR, LF, 0xff, space.
inline const std::string kBinaryKey("bin\0\xff\r\n key", 11);
inline const std::string kBinaryValue("\0\x01\x02\xfe\xff\r\n\t v", 10);
// Compressed in the snapshot (>= 256 bytes), several dump/WAL length-prefix bytes.
inline std::string BigValue() {
  std::string v;
  for (int i = 0; i < 1000; ++i) v.push_back(static_cast<char>('a' + i % 26));
  return v;
}
// Over LMDB's 511-byte key limit: stored under a long-key slot in the snapshot.
inline std::string LongKey() { return "long:" + std::string(600, 'k'); }

// One owned mutation (storage::Mutation holds views).
struct GoldenMutation {
  storage::MutationType type;
  std::string key;
  std::string value;
  int64_t created_ms = 0;
  int64_t expire_ms = -1;
  int64_t number = 0;  // version 2: kSetRange's offset, kIncrBy's delta
  storage::ChangeReason reason = storage::ChangeReason::kCommand;  // version 2

  storage::Mutation View() const {
    return {type, key, value, created_ms, expire_ms, number, reason};
  }
};

// The write-ahead log's records, LSN 1 onwards: every mutation kind (put with and
// without a TTL, delete, expire set and removed, clear), binary and empty values, a
// long key. The snapshot is these applied at LSN 14.
inline std::vector<GoldenMutation> WalMutations() {
  using T = storage::MutationType;
  return {
      {T::kPut, "doomed", "flushed away", kCreatedMs, -1},                // 1
      {T::kClear, "", "", 0, -1},                                         // 2
      {T::kPut, "plain", "value", kCreatedMs, -1},                        // 3
      {T::kPut, "ttl", "expires", kCreatedMs, 1700003600000},             // 4
      {T::kPut, kBinaryKey, kBinaryValue, kCreatedMs, -1},                // 5
      {T::kPut, "empty", "", kCreatedMs, -1},                             // 6
      {T::kPut, "gone", "deleted next", kCreatedMs, -1},                  // 7
      {T::kDelete, "gone", "", 0, -1},                                    // 8
      {T::kExpire, "plain", "", 0, 1700007200000},                        // 9
      {T::kPut, "persisted", "p", kCreatedMs, 1700001000000},             // 10
      {T::kExpire, "persisted", "", 0, -1},                               // 11
      {T::kPut, "big", BigValue(), kCreatedMs, -1},                       // 12
      {T::kPut, LongKey(), "long-key value", kCreatedMs, -1},             // 13
      {T::kPut, "expired", "already", kCreatedMs - 10, kCreatedMs - 1},   // 14
  };
}
inline constexpr uint64_t kSnapshotLsn = 14;

// The version-2 log (wal-v2/): one record per element, each a change (one mutation) or
// a unit (several, one LSN): every mutation kind including the deltas, every reason.
inline std::vector<std::vector<GoldenMutation>> WalV2Records() {
  using T = storage::MutationType;
  using R = storage::ChangeReason;
  return {
      {{T::kPut, "doomed", "flushed away", kCreatedMs, -1}},                        // 1
      {{T::kClear, "", "", 0, -1, 0, R::kFlush}},                                   // 2
      {{T::kPut, "s", "hello", kCreatedMs, 1700003600000}},                         // 3
      {{T::kAppend, "s", " world", 0, -1}},                                         // 4
      {{T::kPrepend, "s", ">", 0, -1}},                                             // 5
      {{T::kSetRange, "s", "J", 0, -1, 1}},                                         // 6
      {{T::kSetRange, "s", "!", 0, -1, 14}},  // past the end: zero-padded          // 7
      {{T::kPut, "n", "41", kCreatedMs, -1}},                                       // 8
      {{T::kIncrBy, "n", "", 0, -1, 1}},                                            // 9
      {{T::kIncrBy, "n", "", 0, -1, -100}},                                         // 10
      {{T::kPut, kBinaryKey, kBinaryValue, kCreatedMs, -1, 0, R::kReplication}},     // 11
      {{T::kPut, "ttl", "expires", kCreatedMs, kCreatedMs + 1}},                    // 12
      {{T::kDelete, "ttl", "", 0, -1, 0, R::kExpiry}},                             // 13
      {{T::kPut, "evict-me", "x", kCreatedMs, -1}},                                 // 14
      {{T::kDelete, "evict-me", "", 0, -1, 0, R::kEviction}},                        // 15
      {{T::kExpire, "n", "", 0, 1700007200000}},                                    // 16
      // A unit: MULTI / SET a / APPEND s / INCRBY n 2 / DEL doomed / PERSIST n / EXEC.
      {{T::kPut, "a", "in a unit", kCreatedMs, -1},                                 // 17
       {T::kAppend, "s", "?", 0, -1},
       {T::kIncrBy, "n", "", 0, -1, 2},
       {T::kDelete, "doomed", "", 0, -1},
       {T::kExpire, "n", "", 0, -1}},
  };
}
inline constexpr uint64_t kWalV2LastLsn = 17;

// One entry of the key space (the snapshot's and the dump's).
struct GoldenEntry {
  std::string key;
  std::string value;
  int64_t created_ms;
  int64_t expire_ms;

  bool operator==(const GoldenEntry&) const = default;
};

// The key space after the WAL's records, as of kLoadNowMs ("expired" is stored in the
// snapshot but skipped by Load). Sorted by key.
inline std::vector<GoldenEntry> LiveEntries() {
  return {
      {"big", BigValue(), kCreatedMs, -1},
      {kBinaryKey, kBinaryValue, kCreatedMs, -1},
      {"empty", "", kCreatedMs, -1},
      {LongKey(), "long-key value", kCreatedMs, -1},
      {"persisted", "p", kCreatedMs, -1},
      {"plain", "value", kCreatedMs, 1700007200000},
      {"ttl", "expires", kCreatedMs, 1700003600000},
  };
}

// The dump file's header.
inline constexpr std::string_view kDumpNode = "golden-node";
inline constexpr int64_t kDumpCreatedMs = 1700000001000;

// The cluster bus frames file: node names and digests of the handshakes.
inline constexpr std::string_view kNodeA = "node-a";
inline constexpr std::string_view kNodeB = "node-b";
inline constexpr std::string_view kDigestA = "0123456789abcdef";
inline constexpr std::string_view kDigestB = "fedcba9876543210";
inline constexpr std::string_view kRefuseReason = "slot map digest differs";
inline constexpr std::string_view kReplyError = "ERR cluster: node-b is loading";
// Version 2's handshake (HELLO, CHALLENGE, AUTH, HELLO_ACK): fixed nonces and the
// proofs the shared secret gives over them (cluster/bus_auth.h BusProof).
inline constexpr std::string_view kBusSecret = "golden-secret";
inline const std::string kNonceA(32, 'a');  // the dialler's (kBusNonceSize bytes)
inline const std::string kNonceB(32, 'b');  // the acceptor's

// File names under tests/testdata/.
inline constexpr std::string_view kWalDir = "wal-v1";              // 00000001.wal
inline constexpr std::string_view kWalV2Dir = "wal-v2";            // 00000001.wal
inline constexpr std::string_view kSnapshotDir = "snapshot-v1";    // CURRENT, snap-*/data.mdb
inline constexpr std::string_view kDumpFile = "dump-v1.mdump";
inline constexpr std::string_view kBusFileV1 = "cluster-bus-v1.frames";  // kept: refused HELLOs
inline constexpr std::string_view kBusFile = "cluster-bus-v2.frames";    // today's version

}  // namespace memento::golden
