// Writing the golden files of golden_content.h with today's writers. Used by
// make_golden.cc (which writes them once into tests/testdata/) and by golden_test.cc
// (which checks that today's writers still produce the committed bytes where the
// format is byte-stable: the WAL segment and the bus frames).
#pragma once

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cluster/bus_auth.h"
#include "cluster/bus_codec.h"
#include "cluster/reply_record.h"
#include "common/result.h"
#include "storage/dump/dump_io.h"
#include "storage/dump/dump_writer.h"
#include "storage/snapshot/snapshot_store.h"
#include "storage/wal/wal.h"
#include "tests/golden/golden_content.h"

namespace memento::golden {

// Writes WalV2Records() into a new log directory `dir` (which must not exist), with
// today's writer (format version 2: a unit through Wal::AppendUnit). Version 1's
// wal-v1/ was written by the version-1 writer and is never rewritten.
inline Status MakeWalV2(const std::string& dir) {
  wal::Options options;
  options.dir = dir;
  options.sync_policy = wal::SyncPolicy::kAlways;
  MEMENTO_ASSIGN_OR_RETURN(std::unique_ptr<wal::Wal> log,
                           wal::Wal::Open(options, 0, [](uint64_t, const storage::Mutation&) {
                             return Status::Corruption("a new log has nothing to replay");
                           }));
  uint64_t lsn = 0;
  for (const std::vector<GoldenMutation>& record : WalV2Records()) {
    std::vector<storage::Mutation> views;
    for (const GoldenMutation& m : record) views.push_back(m.View());
    MEMENTO_ASSIGN_OR_RETURN(lsn, log->AppendUnit(views));
  }
  MEMENTO_RETURN_IF_ERROR(log->WaitDurable(lsn));
  return log->Close();
}

// Applies the WAL's records to a new store under `scratch_dir`, then writes it
// compacted (CURRENT + snap-000001/data.mdb) into `dir`, which must not exist.
inline Status MakeSnapshot(const std::string& scratch_dir, const std::string& dir) {
  MEMENTO_ASSIGN_OR_RETURN(std::unique_ptr<snapshot::SnapshotStore> store,
                           snapshot::SnapshotStore::Open(scratch_dir, snapshot::SnapshotOptions()));
  const std::vector<GoldenMutation> owned = WalMutations();
  std::vector<storage::Mutation> mutations;
  for (const GoldenMutation& m : owned) mutations.push_back(m.View());
  MEMENTO_RETURN_IF_ERROR(store->Apply(mutations, kSnapshotLsn));
  return store->CopyCompacted(dir);
}

// The dump of the live entries, as memento-dump writes it.
inline Result<std::string> MakeDump() {
  dump::StringSink sink;
  dump::DumpHeader header;
  header.node = std::string(kDumpNode);
  header.created_ms = kDumpCreatedMs;
  header.data_lsn = kSnapshotLsn;
  header.key_count = LiveEntries().size();
  MEMENTO_ASSIGN_OR_RETURN(std::unique_ptr<dump::DumpWriter> writer,
                           dump::DumpWriter::Create(&sink, header));
  for (const GoldenEntry& e : LiveEntries()) {
    MEMENTO_RETURN_IF_ERROR(writer->Add(e.key, e.value, e.created_ms, e.expire_ms));
  }
  MEMENTO_RETURN_IF_ERROR(writer->Finish());
  return sink.contents();
}

// The reply record of every kind of value (the body of the last REPLY frame).
inline void EveryReplyKind(proto::ReplyBuilder& b) {
  b.ArrayHeader(8);
  b.Ok();
  b.Null();
  b.Status("PONG");
  b.Error("ERR no such key");
  b.Integer(-42);
  b.Bulk(kBinaryValue);
  b.NullArray();
  b.ArrayHeader(1);
  b.Integer(INT64_MAX);
}
// EveryReplyKind, as RESP2.
inline const std::string kEveryReplyKindResp =
    "*8\r\n+OK\r\n$-1\r\n+PONG\r\n-ERR no such key\r\n:-42\r\n$10\r\n" + kBinaryValue +
    "\r\n*-1\r\n*1\r\n:9223372036854775807\r\n";

// The proof of `role` over the golden handshake (node-a dialled node-b).
inline std::string GoldenProof(cluster::BusRole role) {
  std::string proof;
  Status s = cluster::BusProof(kBusSecret, role, kNonceA, kNonceB, kNodeA, kNodeB, &proof);
  return s.ok() ? proof : std::string();
}

// One conversation's frames, in order (bus protocol version 2): the handshake (HELLO
// with the dialler's nonce, CHALLENGE with the acceptor's, AUTH and HELLO_ACK with
// their proofs) and a REFUSE, a text and a RESP request, their replies (a value, OK),
// an error reply, a reply with every kind of value, PING and PONG. Version 1's file
// (cluster-bus-v1.frames) had no CHALLENGE/AUTH and no nonce or proof fields.
inline std::string MakeBusFrames() {
  using cluster::FrameType;
  std::string out;
  cluster::Handshake hello;
  hello.from = std::string(kNodeA);
  hello.to = std::string(kNodeB);
  hello.digest = std::string(kDigestA);
  hello.nonce = kNonceA;
  cluster::AppendFrame(&out, FrameType::kHello, 0, cluster::EncodeHandshake(hello));
  cluster::Handshake challenge;
  challenge.from = std::string(kNodeB);
  challenge.to = std::string(kNodeA);
  challenge.digest = std::string(kDigestA);
  challenge.nonce = kNonceB;
  cluster::AppendFrame(&out, FrameType::kChallenge, 0, cluster::EncodeHandshake(challenge));
  cluster::Handshake auth = hello;
  auth.nonce.clear();
  auth.proof = GoldenProof(cluster::BusRole::kDialler);
  cluster::AppendFrame(&out, FrameType::kAuth, 0, cluster::EncodeHandshake(auth));
  cluster::Handshake ack;
  ack.from = std::string(kNodeB);
  ack.to = std::string(kNodeA);
  ack.digest = std::string(kDigestA);
  ack.proof = GoldenProof(cluster::BusRole::kAcceptor);
  cluster::AppendFrame(&out, FrameType::kHelloAck, 0, cluster::EncodeHandshake(ack));
  cluster::Handshake refuse = ack;
  refuse.proof.clear();
  refuse.digest = std::string(kDigestB);
  refuse.reason = std::string(kRefuseReason);
  cluster::AppendFrame(&out, FrameType::kRefuse, 0, cluster::EncodeHandshake(refuse));

  const std::vector<std::string_view> get = {"get", "plain"};
  out += cluster::EncodeRequestFrame(1, net::Dialect::kText, get);
  const std::vector<std::string_view> set = {"set", kBinaryKey, ""};
  out += cluster::EncodeRequestFrame(2, net::Dialect::kResp, set);

  std::string value;
  cluster::RecordingReplyBuilder value_record(&value);
  value_record.Bulk("value");
  cluster::AppendReplyFrame(&out, 1, cluster::ReplyStatus::kOk, value);
  std::string ok;
  cluster::RecordingReplyBuilder ok_record(&ok);
  ok_record.Ok();
  cluster::AppendReplyFrame(&out, 2, cluster::ReplyStatus::kOk, ok);
  cluster::AppendReplyFrame(&out, 3, cluster::ReplyStatus::kError, kReplyError);
  std::string every;
  cluster::RecordingReplyBuilder every_record(&every);
  EveryReplyKind(every_record);
  cluster::AppendReplyFrame(&out, 4, cluster::ReplyStatus::kOk, every);

  cluster::AppendFrame(&out, FrameType::kPing, 5, "");
  cluster::AppendFrame(&out, FrameType::kPong, 5, "");
  return out;
}

inline Status WriteWholeFile(const std::string& path, std::string_view bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  file.close();
  if (!file) return Status::IOError("cannot write " + path);
  return Status::OK();
}

}  // namespace memento::golden
