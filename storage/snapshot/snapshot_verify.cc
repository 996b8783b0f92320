// VerifySnapshot: walks a snapshot environment read-only and lists what is wrong.
// The format is docs/formats/snapshot.md; the record and slot decoders are the store's
// own (record_codec.h, long_key.h), so the check and the daemon can never disagree on
// what a valid record is. When SnapshotStore::Load or the format changes, update this
// file too.
#include "storage/snapshot/snapshot_verify.h"

#include <lmdb.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include "common/coding.h"
#include "storage/file_modes.h"
#include "storage/snapshot/lmdb_util.h"
#include "storage/snapshot/long_key.h"
#include "storage/snapshot/record_codec.h"
#include "storage/snapshot/snapshot_files.h"
#include "storage/snapshot/snapshot_format.h"
#include "storage/snapshot/zstd_codec.h"

namespace memento::snapshot {
namespace {

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out += kDigits[static_cast<unsigned char>(c) >> 4];
    out += kDigits[static_cast<unsigned char>(c) & 0xf];
  }
  return out;
}

// Where the file with this device and inode is mapped at file offset 0 in this process,
// from /proc/self/maps; nullptr if it is not. LMDB does not tell where its map is
// (mdb_env_info's me_mapaddr is set only for MDB_FIXEDMAP), and a problem is far more
// useful with the byte offset of the bad record in data.mdb.
const char* FindMapping(dev_t dev, ino_t ino) {
  FILE* maps = std::fopen("/proc/self/maps", "re");
  if (maps == nullptr) return nullptr;
  const char* found = nullptr;
  char line[4096];
  while (found == nullptr && std::fgets(line, sizeof(line), maps) != nullptr) {
    unsigned long long start = 0, end = 0, offset = 0, inode = 0;
    unsigned major = 0, minor = 0;
    char perms[8];
    if (std::sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &start, &end, perms, &offset, &major,
                    &minor, &inode) == 7 &&
        offset == 0 && inode == ino && makedev(major, minor) == dev) {
      found = reinterpret_cast<const char*>(static_cast<uintptr_t>(start));
    }
  }
  std::fclose(maps);
  return found;
}

// Closes the environment on every return path.
struct EnvCloser {
  MDB_env* env = nullptr;
  ~EnvCloser() {
    if (env != nullptr) mdb_env_close(env);
  }
};

class Verifier {
 public:
  Verifier(const VerifyOptions& options, VerifyReport* report)
      : options_(options), report_(report) {}

  Status Run(const std::string& dir);

 private:
  void Problem(std::string what) {
    ++report_->problems_total;
    if (report_->problems.size() < options_.max_problems) {
      report_->problems.push_back(std::move(what));
    }
  }
  // "<env>/data.mdb offset N, <what>: " for a record whose bytes are at `data`.
  std::string Where(const void* data, const std::string& what) const {
    std::string out = data_file_;
    const char* at = static_cast<const char*>(data);
    if (map_ != nullptr && at >= map_ && at < map_ + report_->file_bytes) {
      out += " offset " + std::to_string(at - map_);
    }
    return out + ", " + what + ": ";
  }
  bool CheckMeta(MDB_txn* txn);
  void WalkDb(MDB_txn* txn, MDB_dbi dbi, bool long_db);
  void CheckRecord(std::string_view lmdb_key, const MDB_val& v, bool long_db);

  const VerifyOptions& options_;
  VerifyReport* const report_;
  std::string data_file_;
  const char* map_ = nullptr;  // start of the read-only map: file offset 0
  bool have_seed_ = false;
  LongKeySeed seed_;
  std::unique_ptr<ZstdDecompressor> decompressor_;
  // The long keys seen in the current hash's chain: a key stored twice is damage.
  uint64_t chain_hash_ = 0;
  std::vector<std::string> chain_keys_;
  uint64_t total_ = 0;  // entries in both databases, for progress
};

Status Verifier::Run(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return Status::OK();  // no snapshot yet
  report_->exists = true;
  Result<std::string> current = ReadCurrentFile(dir);
  if (!current.ok()) {
    if (!current.status().IsNotFound()) {
      Problem(current.status().ToString());
      return Status::OK();
    }
    // Without CURRENT, the daemon accepts only a directory with no environment holding
    // data (a first start that crashed early); it refuses anything else.
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (ParseEnvDirName(name) && PathExists(it->path().string() + "/data.mdb")) {
        Problem(dir + " holds " + name + " but no " + kCurrentFileName + " file naming it");
      }
    }
    report_->exists = report_->problems_total != 0;
    return Status::OK();
  }
  report_->env_dir = dir + "/" + *current;
  data_file_ = report_->env_dir + "/data.mdb";
  struct stat st;
  if (::stat(data_file_.c_str(), &st) != 0) {
    Problem(dir + "/" + kCurrentFileName + " names " + *current + ", but " + data_file_ +
            " cannot be read: " + Status::FromErrno("stat", errno).ToString());
    return Status::OK();
  }
  report_->file_bytes = static_cast<uint64_t>(st.st_size);

  auto decompressor = ZstdDecompressor::Create();
  if (!decompressor.ok()) return decompressor.status();
  decompressor_ = std::move(decompressor).value();

  EnvCloser env;
  int rc = mdb_env_create(&env.env);
  if (rc != MDB_SUCCESS) {
    env.env = nullptr;
    return LmdbStatus(rc, "mdb_env_create for", report_->env_dir);
  }
  rc = mdb_env_set_maxdbs(env.env, kNumDbs);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_env_set_maxdbs", report_->env_dir);
  // MDB_RDONLY: LMDB never writes data.mdb; with MDB_NOLOCK it does not touch lock.mdb
  // either. The map size LMDB uses is the one recorded in the environment.
  const unsigned flags = MDB_RDONLY | MDB_NOTLS | (options_.exclusive ? MDB_NOLOCK : 0u);
  rc = mdb_env_open(env.env, report_->env_dir.c_str(), flags, storage::kPrivateFileMode);
  if (rc != MDB_SUCCESS) {
    const Status s = LmdbStatus(rc, "mdb_env_open (read-only)", report_->env_dir);
    if (s.IsCorruption() || s.code() == Status::Code::kNotSupported) {
      Problem(s.ToString());
      return Status::OK();
    }
    return s;
  }
  map_ = FindMapping(st.st_dev, st.st_ino);

  Txn txn;
  rc = txn.Begin(env.env, MDB_RDONLY);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_txn_begin (read)", report_->env_dir);
  if (!CheckMeta(txn.get())) return Status::OK();
  MDB_dbi dbis[2];
  bool opened[2] = {false, false};
  for (const bool long_db : {false, true}) {
    const char* name = long_db ? kLongKeysDb : kKeysDb;
    rc = mdb_dbi_open(txn.get(), name, 0, &dbis[long_db]);
    if (rc != MDB_SUCCESS) {
      Problem(
          LmdbStatus(rc, std::string("database \"") + name + "\" of", report_->env_dir).ToString());
      continue;
    }
    opened[long_db] = true;
    MDB_stat db_stat;
    if (mdb_stat(txn.get(), dbis[long_db], &db_stat) == MDB_SUCCESS) total_ += db_stat.ms_entries;
  }
  for (const bool long_db : {false, true}) {
    if (opened[long_db]) WalkDb(txn.get(), dbis[long_db], long_db);
  }
  if (options_.progress) options_.progress(report_->entries, total_);
  return Status::OK();
}

bool Verifier::CheckMeta(MDB_txn* txn) {
  MDB_dbi meta;
  int rc = mdb_dbi_open(txn, kMetaDb, 0, &meta);
  if (rc != MDB_SUCCESS) {
    Problem(LmdbStatus(rc, "the meta database of", report_->env_dir).ToString() +
            " (not a memento snapshot?)");
    return false;
  }
  // Returns the record if it has `size` bytes; else notes the problem.
  auto get = [&](const char* name, size_t size, std::string_view* out) {
    MDB_val k = ToVal(name);
    MDB_val v;
    rc = mdb_get(txn, meta, &k, &v);
    if (rc != MDB_SUCCESS) {
      Problem(LmdbStatus(rc, std::string("meta record \"") + name + "\" of", report_->env_dir)
                  .ToString());
      return false;
    }
    if (v.mv_size != size) {
      Problem(Where(v.mv_data, std::string("meta record \"") + name + "\"") + "has " +
              std::to_string(v.mv_size) + " bytes, expected " + std::to_string(size));
      return false;
    }
    *out = FromVal(v);
    return true;
  };
  std::string_view value;
  if (get(kMetaFormatVersion, 4, &value)) {
    const uint32_t version = DecodeFixed32(value.data());
    if (version != kFormatVersion) {
      Problem(report_->env_dir + ": format version " + std::to_string(version) +
              ", this build reads version " + std::to_string(kFormatVersion));
      return false;  // its records cannot be judged by this build's rules
    }
  }
  if (get(kMetaLsn, 8, &value)) report_->lsn = DecodeFixed64(value.data());
  if (get(kMetaLongKeySeed, kLongKeySeedSize, &value)) {
    seed_ = LongKeySeed{DecodeFixed64(value.data()), DecodeFixed64(value.data() + 8)};
    have_seed_ = true;
  }
  return true;
}

void Verifier::WalkDb(MDB_txn* txn, MDB_dbi dbi, bool long_db) {
  Cursor cursor;
  int rc = cursor.Open(txn, dbi);
  if (rc != MDB_SUCCESS) {
    Problem(LmdbStatus(rc, "mdb_cursor_open", report_->env_dir).ToString());
    return;
  }
  chain_keys_.clear();
  MDB_val k;
  MDB_val v;
  for (rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT)) {
    CheckRecord(FromVal(k), v, long_db);
  }
  if (rc != MDB_NOTFOUND) {
    // LMDB found a damaged page (MDB_CORRUPTED, MDB_PAGE_NOTFOUND): the rest of this
    // database cannot be walked.
    Problem(LmdbStatus(rc, std::string("walking \"") + (long_db ? kLongKeysDb : kKeysDb) + "\" of",
                       report_->env_dir)
                .ToString());
  }
}

void Verifier::CheckRecord(std::string_view lmdb_key, const MDB_val& v, bool long_db) {
  ++report_->entries;
  if (options_.progress && report_->entries % 4096 == 0) {
    options_.progress(report_->entries, total_);
  }
  const std::string where_key =
      long_db ? "long-key slot " + Hex(lmdb_key) : "key " + DescribeKey(lmdb_key);
  if (!long_db && (lmdb_key.empty() || lmdb_key.size() > kMaxShortKeySize)) {
    Problem(Where(v.mv_data, where_key) + "a key of " + std::to_string(lmdb_key.size()) +
            " bytes in \"" + kKeysDb + "\" (1 to " + std::to_string(kMaxShortKeySize) +
            " allowed)");
  }
  if (long_db && lmdb_key.size() != kLongKeySlotSize) {
    Problem(Where(v.mv_data, where_key) + "slot of " + std::to_string(lmdb_key.size()) +
            " bytes, expected " + std::to_string(kLongKeySlotSize));
    return;
  }
  Result<RecordView> rec = DecodeRecord(FromVal(v));
  if (!rec.ok()) {
    Problem(Where(v.mv_data, where_key) + std::string(rec.status().message()));
    return;
  }
  if (rec->has_full_key != long_db) {
    Problem(Where(v.mv_data, where_key) +
            (long_db ? "long-key record without its full key"
                     : "record carries a full key but is stored under a short key"));
    return;
  }
  const std::string_view key = long_db ? rec->full_key : lmdb_key;
  if (long_db) {
    ++report_->long_keys;
    const LongKeySlot slot = DecodeLongKeySlot(lmdb_key);
    if (!IsLongKey(key)) {
      Problem(Where(v.mv_data, where_key) + "holds key " + DescribeKey(key) + " of " +
              std::to_string(key.size()) + " bytes, which belongs in \"" + kKeysDb + "\"");
    }
    const bool have_hash = have_seed_ || options_.long_key_hash_for_testing != nullptr;
    if (have_hash) {
      const uint64_t hash = options_.long_key_hash_for_testing != nullptr
                                ? options_.long_key_hash_for_testing(key)
                                : SipHash24(seed_, key);
      if (hash != slot.hash) {
        Problem(Where(v.mv_data, where_key) + "holds key " + DescribeKey(key) + ", whose hash is " +
                Hex(EncodeLongKeySlot(hash, 0).substr(0, 8)) +
                ": the key is unreachable (a lookup scans another chain)");
      }
    }
    if (slot.hash != chain_hash_ || chain_keys_.empty()) {
      chain_hash_ = slot.hash;
      chain_keys_.clear();
    }
    for (const std::string& seen : chain_keys_) {
      if (seen == key) {
        Problem(Where(v.mv_data, where_key) + "key " + DescribeKey(key) +
                " is stored twice in the chain of its hash");
        break;
      }
    }
    chain_keys_.emplace_back(key);
  }
  report_->key_bytes += key.size();
  if (rec->expire_ms != kNoExpiry && rec->expire_ms <= options_.now_ms) ++report_->expired;
  if (rec->compressed) {
    ++report_->compressed;
    Result<std::string_view> raw = decompressor_->Decompress(rec->payload, rec->raw_len);
    if (!raw.ok()) {
      Problem(Where(v.mv_data, "key " + DescribeKey(key)) + std::string(raw.status().message()));
      return;
    }
    report_->value_bytes += raw->size();
  } else {
    report_->value_bytes += rec->payload.size();
  }
}

}  // namespace

Status VerifySnapshot(const std::string& dir, const VerifyOptions& options, VerifyReport* report) {
  *report = VerifyReport();
  Verifier verifier(options, report);
  return verifier.Run(dir);
}

}  // namespace memento::snapshot
