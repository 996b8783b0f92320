// Reads the committed golden files under tests/testdata/ (one per released format
// version, written once by make_golden.cc) with today's readers and checks their exact
// content, so that a change that stops reading an old version fails here. Where a format
// is byte-stable (the WAL segment, the bus frames), also checks that today's writer still
// produces the committed bytes: a writer change needs a format version bump.
// tests/testdata/README.md says how the files are made and when.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "net/proto/resp_reply.h"
#include "storage/db/apply.h"
#include "storage/dump/dump_reader.h"
#include "tests/golden/golden_make.h"
#include "tests/util/daemon_process.h"

namespace memento::golden {
namespace {

namespace fs = std::filesystem;

const fs::path kTestdata = MEMENTO_TESTDATA_DIR;

std::string ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// A golden directory copied into `scratch`: opening it must not touch the committed one
// (LMDB adds its lock file; a log may be repaired).
fs::path CopyOf(std::string_view name, const memento::testing::TempDir& scratch) {
  const fs::path to = fs::path(scratch.path()) / name;
  fs::copy(kTestdata / name, to, fs::copy_options::recursive);
  return to;
}

std::string Describe(uint64_t lsn, const storage::Mutation& m) {
  return std::to_string(lsn) + " type " + std::to_string(static_cast<int>(m.type)) + " key '" +
         std::string(m.key) + "' value '" + std::string(m.value) + "' created " +
         std::to_string(m.created_ms) + " expire " + std::to_string(m.expire_ms);
}

// ---- Write-ahead log segment, format version 1 (docs/formats/wal.md) ----

TEST(GoldenTest, WalV1ReplaysEveryRecord) {
  memento::testing::TempDir scratch;
  wal::Options options;
  options.dir = CopyOf(kWalDir, scratch);
  options.read_only = true;
  std::vector<std::string> replayed;
  Result<std::unique_ptr<wal::Wal>> log =
      wal::Wal::Open(options, 0, [&](uint64_t lsn, const storage::Mutation& m) {
        replayed.push_back(Describe(lsn, m));
        return Status::OK();
      });
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  std::vector<std::string> expected;
  uint64_t lsn = 0;
  for (const GoldenMutation& m : WalMutations()) expected.push_back(Describe(++lsn, m.View()));
  EXPECT_EQ(replayed, expected);
  EXPECT_EQ((*log)->stats().last_lsn, 14u);
  EXPECT_EQ((*log)->stats().segments, 1u);
}

// An upgrade: a version-1 log is recovered as it is, and the records after it go into
// a new version-2 segment; the next start reads both.
TEST(GoldenTest, WalV1LogContinuesInVersion2AfterAnUpgrade) {
  memento::testing::TempDir scratch;
  wal::Options options;
  options.dir = CopyOf(kWalDir, scratch);
  {
    Result<std::unique_ptr<wal::Wal>> log = wal::Wal::Open(
        options, 0, [](uint64_t, const storage::Mutation&) { return Status::OK(); });
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    storage::Mutation append;
    append.type = storage::MutationType::kAppend;
    append.key = "plain";
    append.value = "+";
    Result<uint64_t> lsn = (*log)->Append(append);
    ASSERT_TRUE(lsn.ok());
    EXPECT_EQ(*lsn, 15u);
    ASSERT_TRUE((*log)->Close().ok());
  }
  const std::string v2_segment = ReadWholeFile(fs::path(options.dir) / "00000002.wal");
  ASSERT_GE(v2_segment.size(), wal::kSegmentHeaderSize);
  EXPECT_EQ(v2_segment[wal::kHeaderVersionOffset], 2);  // the new segment: version 2
  EXPECT_EQ(ReadWholeFile(fs::path(options.dir) / "00000001.wal"),
            ReadWholeFile(kTestdata / kWalDir / "00000001.wal"));  // the old one as it was
  table::Table t;
  Result<std::unique_ptr<wal::Wal>> again =
      wal::Wal::Open(options, 0, [&](uint64_t, const storage::Mutation& m) {
        db::ApplyToTable(&t, m);
        return Status::OK();
      });
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->last_lsn(), 15u);
  t.Read("plain", kCreatedMs, [](const table::Entry* e) {
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->value, "value+");
  });
}

// ---- Write-ahead log segment, format version 2 (docs/formats/wal.md) ----

std::string DescribeV2(uint64_t lsn, const storage::Mutation& m) {
  return Describe(lsn, m) + " number " + std::to_string(m.number) + " reason " +
         std::to_string(static_cast<int>(m.reason));
}

TEST(GoldenTest, WalV2ReplaysEveryRecord) {
  memento::testing::TempDir scratch;
  wal::Options options;
  options.dir = CopyOf(kWalV2Dir, scratch);
  options.read_only = true;
  std::vector<std::string> replayed;
  Result<std::unique_ptr<wal::Wal>> log =
      wal::Wal::Open(options, 0, [&](uint64_t lsn, const storage::Mutation& m) {
        replayed.push_back(DescribeV2(lsn, m));
        return Status::OK();
      });
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  std::vector<std::string> expected;
  uint64_t lsn = 0;
  for (const std::vector<GoldenMutation>& record : WalV2Records()) {
    ++lsn;  // a unit's changes share one LSN
    for (const GoldenMutation& m : record) expected.push_back(DescribeV2(lsn, m.View()));
  }
  EXPECT_EQ(replayed, expected);
  EXPECT_EQ((*log)->stats().last_lsn, kWalV2LastLsn);
}

// What the version-2 log means, applied the way recovery applies it.
TEST(GoldenTest, WalV2RecoversToTheStateItsRecordsDescribe) {
  memento::testing::TempDir scratch;
  wal::Options options;
  options.dir = CopyOf(kWalV2Dir, scratch);
  options.read_only = true;
  table::Table t;
  Result<std::unique_ptr<wal::Wal>> log =
      wal::Wal::Open(options, 0, [&](uint64_t, const storage::Mutation& m) {
        db::ApplyToTable(&t, m);
        return Status::OK();
      });
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  std::map<std::string, std::string> live;
  t.ForEach(kCreatedMs, [&](std::string_view k, const table::Entry& e) {
    live.emplace(std::string(k), e.value);
  });
  EXPECT_EQ(live, (std::map<std::string, std::string>{
                      {"s", std::string(">Jello world\0\0!?", 16)},
                      {"n", "-56"},
                      {std::string(kBinaryKey), std::string(kBinaryValue)},
                      {"a", "in a unit"}}));
}

TEST(GoldenTest, WalV2IsWhatTodaysWriterWrites) {
  memento::testing::TempDir scratch;
  const fs::path dir = fs::path(scratch.path()) / "wal";
  ASSERT_TRUE(MakeWalV2(dir).ok());
  EXPECT_EQ(ReadWholeFile(dir / "00000001.wal"),
            ReadWholeFile(kTestdata / kWalV2Dir / "00000001.wal"))
      << "the WAL writer's bytes changed: bump wal::kFormatVersion, keep reading version 2 "
         "(docs/formats/wal.md) and add the new version's golden files";
}

// ---- Snapshot (LMDB environment), format version 1 (docs/formats/snapshot.md) ----

TEST(GoldenTest, SnapshotV1LoadsEveryEntry) {
  memento::testing::TempDir scratch;
  Result<std::unique_ptr<snapshot::SnapshotStore>> store =
      snapshot::SnapshotStore::Open(CopyOf(kSnapshotDir, scratch), snapshot::SnapshotOptions());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->lsn(), kSnapshotLsn);
  std::vector<GoldenEntry> loaded;
  snapshot::LoadStats stats;
  ASSERT_TRUE((*store)
                  ->Load(kLoadNowMs,
                         [&](std::string_view key, std::string_view value, int64_t created_ms,
                             int64_t expire_ms) {
                           loaded.push_back({std::string(key), std::string(value), created_ms,
                                             expire_ms});
                         },
                         &stats)
                  .ok());
  std::sort(loaded.begin(), loaded.end(),
            [](const GoldenEntry& a, const GoldenEntry& b) { return a.key < b.key; });
  EXPECT_EQ(loaded, LiveEntries());
  EXPECT_EQ(stats.lsn, kSnapshotLsn);
  EXPECT_EQ(stats.loaded, LiveEntries().size());
  EXPECT_EQ(stats.expired_skipped, 1u);  // "expired"
  EXPECT_GE(stats.compressed, 1u);       // "big" is stored zstd-compressed
  Result<snapshot::SnapshotStats> sizes = (*store)->Stats();
  ASSERT_TRUE(sizes.ok());
  EXPECT_EQ(sizes->entries, LiveEntries().size() + 1);
  EXPECT_EQ(sizes->long_keys, 1u);
}

// ---- Dump file, format version 1 (docs/formats/dump.md) ----

TEST(GoldenTest, DumpV1ReadsHeaderRecordsAndTrailer) {
  const std::string bytes = ReadWholeFile(kTestdata / kDumpFile);
  dump::StringSource source(bytes);
  Result<std::unique_ptr<dump::DumpReader>> reader =
      dump::DumpReader::Open(&source, std::string(kDumpFile));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  const dump::DumpHeader& header = (*reader)->header();
  EXPECT_EQ(header.version, 1u);
  EXPECT_EQ(header.flags, 0u);
  EXPECT_EQ(header.node, kDumpNode);
  EXPECT_EQ(header.created_ms, kDumpCreatedMs);
  EXPECT_EQ(header.data_lsn, kSnapshotLsn);
  EXPECT_EQ(header.key_count, LiveEntries().size());
  std::vector<GoldenEntry> records;
  dump::DumpRecord record;
  for (;;) {
    Result<bool> more = (*reader)->Next(&record);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) break;
    records.push_back({std::string(record.key), std::string(record.value), record.created_ms,
                       record.expire_ms});
  }
  EXPECT_EQ(records, LiveEntries());  // in the order written
  EXPECT_EQ((*reader)->trailer().records, LiveEntries().size());
  EXPECT_EQ((*reader)->offset(), bytes.size());
}

// ---- Cluster bus frames (docs/formats/cluster-bus.md) ----

struct Frames {
  std::string bytes;
  std::string_view rest;

  explicit Frames(std::string file) : bytes(std::move(file)), rest(bytes) {}

  cluster::Frame Next() {
    cluster::Frame frame;
    size_t consumed = 0;
    Status s = cluster::DecodeFrame(rest, 1 << 20, &frame, &consumed);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_GT(consumed, 0u) << "a frame is cut short";
    rest.remove_prefix(std::min(consumed, rest.size()));
    return frame;
  }
};

struct ExpectedHandshake {
  cluster::FrameType type;
  std::string_view from;
  std::string_view to;
  std::string_view digest;
  std::string_view reason = {};
  std::string nonce = {};
  std::string proof = {};
};

void ExpectHandshake(const cluster::Frame& frame, const ExpectedHandshake& want) {
  EXPECT_EQ(frame.type, want.type);
  EXPECT_EQ(frame.id, 0u);
  cluster::Handshake h;
  Status s = cluster::DecodeHandshake(frame.payload, &h);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(h.version, 2);
  EXPECT_EQ(h.from, want.from);
  EXPECT_EQ(h.to, want.to);
  EXPECT_EQ(h.digest, want.digest);
  EXPECT_EQ(h.reason, want.reason);
  EXPECT_EQ(h.nonce, want.nonce);
  EXPECT_EQ(h.proof, want.proof);
}

// A version 1 handshake frame: framed as before, refused by today's decoder with
// NotSupported naming version 1 (the bus then logs that the peer speaks version 1).
void ExpectRefusedV1Handshake(const cluster::Frame& frame, cluster::FrameType type) {
  EXPECT_EQ(frame.type, type);
  cluster::Handshake h;
  Status s = cluster::DecodeHandshake(frame.payload, &h);
  EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
  EXPECT_EQ(h.version, 1);
  EXPECT_NE(s.ToString().find("version 1"), std::string::npos) << s.ToString();
}

void ExpectRequest(const cluster::Frame& frame, uint64_t id, net::Dialect dialect,
                   const std::vector<std::string_view>& argv) {
  EXPECT_EQ(frame.type, cluster::FrameType::kRequest);
  EXPECT_EQ(frame.id, id);
  net::Dialect d;
  std::vector<std::string_view> got;
  ASSERT_TRUE(cluster::DecodeRequest(frame.payload, &d, &got).ok());
  EXPECT_EQ(d, dialect);
  EXPECT_EQ(got, argv);
}

// A REPLY: its status, and its body replayed as RESP2 (kOk) or the error text (kError).
void ExpectReply(const cluster::Frame& frame, uint64_t id, cluster::ReplyStatus status,
                 std::string_view body) {
  EXPECT_EQ(frame.type, cluster::FrameType::kReply);
  EXPECT_EQ(frame.id, id);
  cluster::ReplyStatus got_status;
  std::string_view got_body;
  ASSERT_TRUE(cluster::DecodeReplyPayload(frame.payload, &got_status, &got_body).ok());
  EXPECT_EQ(got_status, status);
  if (status == cluster::ReplyStatus::kError) {
    EXPECT_EQ(got_body, body);
    return;
  }
  std::string resp;
  proto::RespReplyBuilder builder(&resp);
  ASSERT_TRUE(cluster::ReplayReply(got_body, builder).ok());
  EXPECT_EQ(resp, body);
}

// The frames after the handshakes: their layout is the same in versions 1 and 2.
void ExpectRequestsRepliesAndHeartbeat(Frames& frames) {
  using cluster::FrameType;
  using cluster::ReplyStatus;
  ExpectRequest(frames.Next(), 1, net::Dialect::kText, {"get", "plain"});
  ExpectRequest(frames.Next(), 2, net::Dialect::kResp, {"set", kBinaryKey, ""});
  ExpectReply(frames.Next(), 1, ReplyStatus::kOk, "$5\r\nvalue\r\n");
  ExpectReply(frames.Next(), 2, ReplyStatus::kOk, "+OK\r\n");
  ExpectReply(frames.Next(), 3, ReplyStatus::kError, kReplyError);
  ExpectReply(frames.Next(), 4, ReplyStatus::kOk, kEveryReplyKindResp);
  cluster::Frame ping = frames.Next();
  EXPECT_EQ(ping.type, FrameType::kPing);
  EXPECT_EQ(ping.id, 5u);
  EXPECT_TRUE(ping.payload.empty());
  cluster::Frame pong = frames.Next();
  EXPECT_EQ(pong.type, FrameType::kPong);
  EXPECT_EQ(pong.id, 5u);
  EXPECT_TRUE(frames.rest.empty()) << frames.rest.size() << " bytes after the last frame";
}

TEST(GoldenTest, ClusterBusV1HandshakesAreRefusedAndItsOtherFramesStillDecode) {
  Frames frames(ReadWholeFile(kTestdata / kBusFileV1));
  using cluster::FrameType;
  ExpectRefusedV1Handshake(frames.Next(), FrameType::kHello);
  ExpectRefusedV1Handshake(frames.Next(), FrameType::kHelloAck);
  ExpectRefusedV1Handshake(frames.Next(), FrameType::kRefuse);
  ExpectRequestsRepliesAndHeartbeat(frames);
}

TEST(GoldenTest, ClusterBusV2FramesDecode) {
  Frames frames(ReadWholeFile(kTestdata / kBusFile));
  using cluster::FrameType;
  const std::string dialler_proof = GoldenProof(cluster::BusRole::kDialler);
  const std::string acceptor_proof = GoldenProof(cluster::BusRole::kAcceptor);
  ASSERT_EQ(dialler_proof.size(), cluster::kHmacSha256Size);
  ASSERT_NE(dialler_proof, acceptor_proof);
  ExpectHandshake(frames.Next(), {FrameType::kHello, kNodeA, kNodeB, kDigestA, "", kNonceA, ""});
  ExpectHandshake(frames.Next(),
                  {FrameType::kChallenge, kNodeB, kNodeA, kDigestA, "", kNonceB, ""});
  ExpectHandshake(frames.Next(),
                  {FrameType::kAuth, kNodeA, kNodeB, kDigestA, "", "", dialler_proof});
  ExpectHandshake(frames.Next(),
                  {FrameType::kHelloAck, kNodeB, kNodeA, kDigestA, "", "", acceptor_proof});
  ExpectHandshake(frames.Next(), {FrameType::kRefuse, kNodeB, kNodeA, kDigestB, kRefuseReason});
  ExpectRequestsRepliesAndHeartbeat(frames);
}

TEST(GoldenTest, ClusterBusV2IsWhatTodaysEncoderWrites) {
  EXPECT_EQ(MakeBusFrames(), ReadWholeFile(kTestdata / kBusFile))
      << "the bus encoder's bytes changed: bump kBusProtocolVersion "
         "(docs/formats/cluster-bus.md) and add the new version's golden frames";
}

}  // namespace
}  // namespace memento::golden
