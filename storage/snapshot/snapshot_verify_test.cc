// Tests of VerifySnapshot: a store written by SnapshotStore, then damaged with LMDB
// directly (the store closed first) or by editing data.mdb, then checked.
#include "storage/snapshot/snapshot_verify.h"

#include <gtest/gtest.h>
#include <lmdb.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "storage/snapshot/snapshot_format.h"
#include "storage/snapshot/snapshot_store.h"

namespace memento::snapshot {
namespace {

using storage::Mutation;
using storage::MutationType;

constexpr int64_t kNow = 1'700'000'000'000;

Mutation Put(std::string_view key, std::string_view value, int64_t expire_ms = kNoExpiry) {
  return Mutation{MutationType::kPut, key, value, kNow, expire_ms};
}

std::string Compressible(size_t n) {
  std::string s;
  while (s.size() < n) s += "verify me " + std::to_string(s.size() % 17) + "; ";
  s.resize(n);
  return s;
}

uint64_t HashA(std::string_view) { return 7; }
uint64_t HashB(std::string_view) { return 8; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every regular file under `dir` (but `except`) and a hash of its bytes.
std::map<std::string, size_t> Files(const std::string& dir, const std::string& except = "") {
  std::map<std::string, size_t> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename() == except) continue;
    out[e.path().string()] = std::hash<std::string>()(ReadFile(e.path().string()));
  }
  return out;
}

class SnapshotVerifyTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = testing::TempDir() + "snapshot_verify_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/snapshot";
    options_.initial_map_size = size_t{1} << 20;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  // Writes `ms` at LSN `lsn` into the store and closes it.
  void Write(const std::vector<Mutation>& ms, uint64_t lsn) {
    auto store = SnapshotStore::Open(dir_, options_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Apply(ms, lsn).ok());
  }

  VerifyReport Verify(VerifyOptions options = {}) {
    options.now_ms = kNow;
    VerifyReport report;
    Status s = VerifySnapshot(dir_, options, &report);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return report;
  }

  std::string EnvDir() {
    std::ifstream in(dir_ + "/" + kCurrentFileName);
    std::string name;
    std::getline(in, name);
    return dir_ + "/" + name;
  }

  void RawPut(const char* db_name, std::string_view key, std::string_view value) {
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), 0);
    ASSERT_EQ(mdb_env_set_maxdbs(env, 4), 0);
    ASSERT_EQ(mdb_env_open(env, EnvDir().c_str(), 0, 0644), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
    MDB_dbi dbi;
    ASSERT_EQ(mdb_dbi_open(txn, db_name, 0, &dbi), 0);
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{value.size(), const_cast<char*>(value.data())};
    ASSERT_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
  }

  std::string root_;
  std::string dir_;
  SnapshotOptions options_;
};

TEST_F(SnapshotVerifyTest, MissingDirectoryIsNoSnapshotYet) {
  VerifyReport report = Verify();
  EXPECT_FALSE(report.exists);
  EXPECT_TRUE(report.ok());
}

TEST_F(SnapshotVerifyTest, CleanStoreCountsEverything) {
  const std::string long_key(600, 'k');
  Write({Put("a", "1"), Put("big", Compressible(5000)), Put(long_key, "long"), Put("", "empty"),
         Put("gone", "x", kNow - 1), Put("later", "y", kNow + 60'000)},
        42);
  VerifyReport report = Verify();
  EXPECT_TRUE(report.ok()) << report.problems.front();
  EXPECT_TRUE(report.exists);
  EXPECT_EQ(report.env_dir, dir_ + "/snap-000001");
  EXPECT_EQ(report.lsn, 42u);
  EXPECT_EQ(report.entries, 6u);
  EXPECT_EQ(report.long_keys, 2u);
  EXPECT_EQ(report.expired, 1u);
  EXPECT_EQ(report.compressed, 1u);
  EXPECT_EQ(report.value_bytes, 1u + 5000 + 4 + 5 + 1 + 1);
  EXPECT_GT(report.file_bytes, 0u);
}

TEST_F(SnapshotVerifyTest, ChangesNoByte) {
  Write({Put("a", "1"), Put("big", Compressible(5000))}, 3);
  const auto before = Files(dir_);
  EXPECT_TRUE(Verify().ok());
  EXPECT_EQ(Files(dir_), before);
  // As while a daemon runs: LMDB's reader table (lock.mdb) is used, nothing else.
  VerifyOptions shared;
  shared.exclusive = false;
  EXPECT_TRUE(Verify(shared).ok());
  EXPECT_EQ(Files(dir_, "lock.mdb").size() + 1, before.size());
  auto without_lock = before;
  std::erase_if(without_lock, [](const auto& f) { return f.first.ends_with("/lock.mdb"); });
  EXPECT_EQ(Files(dir_, "lock.mdb"), without_lock);
}

TEST_F(SnapshotVerifyTest, DamagedCompressedValueIsReportedWithFileAndOffset) {
  const std::string value = Compressible(20'000);
  Write({Put("before", "v"), Put("zipped", value), Put("zz-after", "w")}, 1);
  // Flip a byte in the middle of the zstd frame, found in data.mdb by its magic.
  const std::string data_file = EnvDir() + "/data.mdb";
  std::string bytes = ReadFile(data_file);
  const size_t magic = bytes.find(std::string("\x28\xb5\x2f\xfd", 4));
  ASSERT_NE(magic, std::string::npos);
  const size_t at = magic + 12;
  bytes[at] = static_cast<char>(bytes[at] ^ 0x55);
  std::ofstream(data_file, std::ios::binary | std::ios::trunc) << bytes;

  VerifyReport report = Verify();
  ASSERT_EQ(report.problems_total, 1u);
  const std::string& problem = report.problems[0];
  EXPECT_NE(problem.find(data_file + " offset "), std::string::npos) << problem;
  EXPECT_NE(problem.find("key \"zipped\""), std::string::npos) << problem;
  EXPECT_EQ(report.entries, 3u);  // the walk went on after the damage
}

TEST_F(SnapshotVerifyTest, EveryBadRecordIsListed) {
  Write({Put("good", "v")}, 1);
  RawPut(kKeysDb, "bad1", std::string("\x00\x01", 2));  // shorter than a header
  RawPut(kKeysDb, "bad2", std::string(17, '\x80'));     // a reserved flag bit
  VerifyReport report = Verify();
  ASSERT_EQ(report.problems_total, 2u);
  EXPECT_NE(report.problems[0].find("key \"bad1\""), std::string::npos) << report.problems[0];
  EXPECT_NE(report.problems[1].find("key \"bad2\""), std::string::npos) << report.problems[1];
  EXPECT_NE(report.problems[1].find("data.mdb offset "), std::string::npos);
}

TEST_F(SnapshotVerifyTest, LongKeyUnderTheWrongHashIsUnreachable) {
  options_.long_key_hash_for_testing = HashA;
  Write({Put(std::string(700, 'x'), "v")}, 1);
  VerifyOptions same;
  same.long_key_hash_for_testing = HashA;
  EXPECT_TRUE(Verify(same).ok());
  VerifyOptions other;
  other.long_key_hash_for_testing = HashB;
  VerifyReport report = Verify(other);
  ASSERT_EQ(report.problems_total, 1u);
  EXPECT_NE(report.problems[0].find("unreachable"), std::string::npos) << report.problems[0];
  EXPECT_NE(report.problems[0].find("long-key slot 0000000000000007"), std::string::npos)
      << report.problems[0];
}

TEST_F(SnapshotVerifyTest, MissingMetaRecordIsAProblem) {
  Write({Put("a", "1")}, 1);
  RawPut(kMetaDb, kMetaLsn, "short");
  VerifyReport report = Verify();
  ASSERT_EQ(report.problems_total, 1u);
  EXPECT_NE(report.problems[0].find("\"lsn\""), std::string::npos) << report.problems[0];
  EXPECT_EQ(report.entries, 1u);
}

TEST_F(SnapshotVerifyTest, EnvironmentWithoutCurrentIsAProblem) {
  Write({Put("a", "1")}, 1);
  std::filesystem::remove(dir_ + "/" + kCurrentFileName);
  VerifyReport report = Verify();
  ASSERT_EQ(report.problems_total, 1u);
  EXPECT_NE(report.problems[0].find("no CURRENT"), std::string::npos) << report.problems[0];
}

}  // namespace
}  // namespace memento::snapshot
