// Constants of the snapshot's on-disk format, shared by the writer (SnapshotStore::Apply),
// the reader (SnapshotStore::Load) and the offline tools. The specification, with the
// grammar, byte order and a worked example, is docs/formats/snapshot.md: when you change
// anything here, update that file (and bump kFormatVersion if old readers would misread
// the new bytes).
//
// DO NOT CHANGE THESE VALUES: they are embedded in the on-disk data.
#pragma once

#include <cstddef>
#include <cstdint>

namespace memento::snapshot {

// Stored in the meta database under kMetaFormatVersion. Bumped on any incompatible
// change; Open refuses an environment whose version differs.
inline constexpr uint32_t kFormatVersion = 1;

// ---- Files inside the snapshot directory (<data-dir>/snapshot/) ----
//
//   CURRENT          one line: the name of the live environment directory, "snap-000001\n"
//   snap-000001/     the live LMDB environment (data.mdb, lock.mdb)
//   snap-000002.tmp/ an environment being written by a compaction (removed at Open)
//   CURRENT.tmp      a CURRENT being published (removed at Open)
inline constexpr char kCurrentFileName[] = "CURRENT";
inline constexpr char kEnvDirPrefix[] = "snap-";
inline constexpr int kEnvDirDigits = 6;  // snap-%06u; more digits once past 999999
inline constexpr char kTempSuffix[] = ".tmp";

// ---- Named LMDB databases (mdb_dbi_open) ----
inline constexpr char kMetaDb[] = "meta";           // name -> value, see kMeta*
inline constexpr char kKeysDb[] = "keys";           // key (1..kMaxShortKeySize bytes) -> record
inline constexpr char kLongKeysDb[] = "long_keys";  // slot (kLongKeySlotSize bytes) -> record
inline constexpr unsigned kNumDbs = 3;

// ---- Meta records (in kMetaDb) ----
inline constexpr char kMetaFormatVersion[] = "format_version";  // fixed32 LE
inline constexpr char kMetaLsn[] = "lsn";                       // fixed64 LE
inline constexpr char kMetaLongKeySeed[] = "long_key_seed";     // k0 fixed64 LE, k1 fixed64 LE
inline constexpr size_t kLongKeySeedSize = 16;

// ---- Keys ----
// A key of 1..kMaxShortKeySize bytes is the LMDB key in kKeysDb as is. Any other key
// (empty, which LMDB cannot store, or longer) lives in kLongKeysDb under a slot:
//
//   slot := hash:fixed64 BE  chain:fixed32 BE      (big-endian: one hash's slots sort together)
//   hash := SipHash-2-4(k0, k1, key) with the seed from kMetaLongKeySeed
//
// and its record carries the full key. Keys with equal hashes take distinct chain numbers.
// 511 is LMDB's default maximum key size (mdb_env_get_maxkeysize); it is a format
// constant, not read from the library, so the same key always lands in the same place.
inline constexpr size_t kMaxShortKeySize = 511;
inline constexpr size_t kLongKeySlotSize = 12;

// ---- Value record (the LMDB value in kKeysDb and kLongKeysDb) ----
//
//   record := flags:u8 created_ms:fixed64 expire_ms:fixed64 [key_len:fixed32 key] payload
//   payload := value                          (flags & kRecordCompressed == 0)
//            | raw_len:fixed32 zstd_frame      (flags & kRecordCompressed)
//
//   flags:  7 6 5 4 3 2 1 0
//           0 0 0 0 0 0 K Z     K = kRecordFullKey, Z = kRecordCompressed; 0 bits reserved
inline constexpr uint8_t kRecordCompressed = 0x01;
inline constexpr uint8_t kRecordFullKey = 0x02;
inline constexpr uint8_t kRecordKnownFlags = kRecordCompressed | kRecordFullKey;

inline constexpr size_t kRecordHeaderSize = 1 + 8 + 8;  // flags, created_ms, expire_ms
inline constexpr size_t kRecordExpireOffset = 1 + 8;
inline constexpr int64_t kNoExpiry = -1;

// Sanity limits on stored lengths, checked before anything is allocated: a damaged
// length field must not make the reader allocate gigabytes.
inline constexpr uint32_t kMaxValueSize = 512u << 20;  // raw (decompressed) value bytes
inline constexpr uint32_t kMaxKeySize = 512u << 20;

}  // namespace memento::snapshot
