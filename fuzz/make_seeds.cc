// Writes the seed inputs of every fuzz target into <dir>/<target>/ (normally
// fuzz/corpus/). The binary seeds (WAL segments, snapshot records, zstd frames) are
// produced with the real encoders, so they stay valid if a format changes: rerun this
// and commit the result. Each seed file is small; its layout is the one documented at
// the top of the target's *_fuzzer.cc.
//
//   cmake --build build --target memento_fuzz_make_seeds
//   ./build/bin/memento_fuzz_make_seeds fuzz/corpus
//
// Existing files with the same names are overwritten; others are left alone (the
// corpus may hold inputs a fuzzer found and someone chose to keep).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "storage/dump/dump_format.h"
#include "storage/dump/dump_io.h"
#include "storage/dump/dump_writer.h"
#include "storage/mutation.h"
#include "storage/snapshot/record_codec.h"
#include "storage/snapshot/zstd_codec.h"
#include "storage/wal/log_writer.h"
#include "storage/wal/mutation_codec.h"
#include "storage/wal/wal_format.h"

namespace {

using memento::storage::Mutation;
using memento::storage::MutationType;
namespace wal = memento::wal;
namespace snapshot = memento::snapshot;

std::string g_root;

void Write(const std::string& target, const std::string& name, std::string_view bytes) {
  const std::filesystem::path dir = std::filesystem::path(g_root) / target;
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
    std::exit(1);
  }
}

Mutation Put(std::string_view key, std::string_view value, int64_t expire = -1) {
  Mutation m;
  m.type = MutationType::kPut;
  m.key = key;
  m.value = value;
  m.created_ms = 1700000000000;
  m.expire_ms = expire;
  return m;
}
Mutation Del(std::string_view key) {
  Mutation m;
  m.type = MutationType::kDelete;
  m.key = key;
  return m;
}
Mutation Expire(std::string_view key, int64_t at) {
  Mutation m;
  m.type = MutationType::kExpire;
  m.key = key;
  m.expire_ms = at;
  return m;
}
Mutation Clear() {
  Mutation m;
  m.type = MutationType::kClear;
  return m;
}

Mutation Delta(MutationType type, std::string_view key, std::string_view bytes, int64_t number) {
  Mutation m;
  m.type = type;
  m.key = key;
  m.value = bytes;
  m.number = number;
  return m;
}

std::string Encode(const Mutation& m) {
  std::string s;
  wal::EncodeMutation(m, &s);
  return s;
}
std::string EncodeChange(const Mutation& m) {
  std::string s;
  wal::EncodeChange(m, &s);
  return s;
}

// A segment file of the current version: header, then one kChange record per mutation
// from first_lsn on.
std::string Segment(uint64_t number, uint64_t first_lsn, const std::vector<Mutation>& ms) {
  std::string s;
  wal::EncodeSegmentHeader(wal::SegmentHeader{wal::kFormatVersion, number, first_lsn}, &s);
  uint64_t lsn = first_lsn;
  for (const Mutation& m : ms) {
    wal::AppendRecord(&s, lsn++, wal::RecordType::kChange, EncodeChange(m));
  }
  return s;
}
// A version-1 segment (kMutation records, tags 1-4 only), as older builds wrote it.
std::string SegmentV1(uint64_t number, uint64_t first_lsn, const std::vector<Mutation>& ms) {
  std::string s;
  wal::EncodeSegmentHeader(wal::SegmentHeader{1, number, first_lsn}, &s);
  uint64_t lsn = first_lsn;
  for (const Mutation& m : ms) wal::AppendRecord(&s, lsn++, wal::RecordType::kMutation, Encode(m));
  return s;
}
// A unit record (several changes, one LSN) appended to a segment.
void AppendUnit(std::string* seg, uint64_t lsn, const std::vector<Mutation>& ms) {
  std::string payload;
  wal::EncodeUnit(ms, &payload);
  wal::AppendRecord(seg, lsn, wal::RecordType::kUnit, payload);
}

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

void WalSeeds() {
  const std::vector<Mutation> ms = {Put("greeting", "hello world"), Put("n", "42", 1900000000000),
                                    Expire("n", -1), Del("greeting"), Clear(),
                                    Put(std::string_view("bin\0key", 7), std::string_view("\xff\x00\x01", 3))};
  const std::string seg = Segment(1, 1, ms);
  const std::string torn = seg.substr(0, seg.size() - 5);
  std::string damaged = seg;
  damaged[wal::kSegmentHeaderSize + 20] ^= 0x40;  // inside the first record's payload

  // Version 2: the deltas, with reasons, and a unit.
  Mutation expired = Del("old");
  expired.reason = memento::storage::ChangeReason::kExpiry;
  const std::vector<Mutation> deltas = {
      Put("s", "hello"), Delta(MutationType::kAppend, "s", " world", 0),
      Delta(MutationType::kPrepend, "s", ">", 0), Delta(MutationType::kSetRange, "s", "J", 1),
      Put("n", "41"), Delta(MutationType::kIncrBy, "n", {}, 1),
      Delta(MutationType::kIncrBy, "n", {}, -100), expired};
  std::string with_unit = Segment(1, 1, deltas);
  AppendUnit(&with_unit, deltas.size() + 1,
             {Delta(MutationType::kAppend, "s", "!", 0), Put("t", "x"), Del("n")});
  const std::string torn_unit = with_unit.substr(0, with_unit.size() - 3);
  const std::string v1 = SegmentV1(1, 1, ms);

  // mutation_codec: one payload per type.
  for (size_t i = 0; i < ms.size(); ++i) {
    Write("mutation_codec", "payload-" + std::to_string(i), Encode(ms[i]));
  }
  for (size_t i = 1; i < 7; ++i) {  // the delta tags
    Write("mutation_codec", "payload-delta-" + std::to_string(i), Encode(deltas[i]));
  }
  {
    std::string unit;
    const std::vector<Mutation> two = {deltas[1], expired};
    wal::EncodeUnit(two, &unit);
    Write("mutation_codec", "unit-payload", unit);
  }

  Write("wal_reader", "v2-deltas-unit", Bytes({0, 0, 255}) + with_unit);
  Write("wal_reader", "v2-torn-unit", Bytes({0, 1, 255}) + torn_unit);
  Write("wal_reader", "v1", Bytes({0, 0, 255}) + v1);
  Write("wal_recovery", "v2-deltas-unit", Bytes({0, 0, 0, 0}) + with_unit);
  Write("wal_recovery", "v2-torn-unit", Bytes({0, 0, 0, 0}) + torn_unit);
  Write("wal_recovery", "v1-then-v2", Bytes({0, 0, 0, 0}) + SegmentV1(1, 1, {ms[0], ms[1]}) +
                                          "#SEG#" + Segment(2, 3, {deltas[1], ms[3]}));

  // wal_reader: repair byte, scan byte, cut byte, then the segment.
  Write("wal_reader", "valid", Bytes({0, 0, 255}) + seg);
  Write("wal_reader", "valid-cut", Bytes({0, 0, 100}) + seg);
  Write("wal_reader", "header-only", Bytes({0, 0, 255}) + Segment(1, 1, {}));
  Write("wal_reader", "torn-tail", Bytes({0, 1, 255}) + torn);
  Write("wal_reader", "damaged-repaired", Bytes({0x1f, 0, 255}) + damaged);
  Write("wal_reader", "damaged", Bytes({0, 0, 255}) + damaged);

  // wal_recovery: mode, repair, after_lsn, first number - 1, then "#SEG#"-separated
  // segments.
  const std::string two = Segment(1, 1, {ms[0], ms[1]}) + "#SEG#" + Segment(2, 3, {ms[2], ms[3]});
  Write("wal_recovery", "one-segment", Bytes({0, 0, 0, 0}) + seg);
  Write("wal_recovery", "two-segments", Bytes({0, 0, 0, 0}) + two);
  Write("wal_recovery", "two-segments-after-snapshot", Bytes({0, 0, 3, 0}) + two);
  Write("wal_recovery", "torn-tail", Bytes({0, 0, 0, 0}) + torn);
  Write("wal_recovery", "damage-strict", Bytes({0, 0, 0, 0}) + damaged + "#SEG#" +
                                             Segment(2, 7, {ms[0]}));
  Write("wal_recovery", "damage-truncate", Bytes({1, 0, 0, 0}) + damaged + "#SEG#" +
                                               Segment(2, 7, {ms[0]}));
  Write("wal_recovery", "read-only", Bytes({2, 0, 0, 0}) + torn);
  Write("wal_recovery", "repaired-gap-stray", Bytes({12, 0x1f, 0, 1}) + two);
}

void SnapshotSeeds() {
  auto record = [](const snapshot::RecordView& r) {
    std::string s(snapshot::EncodedRecordSize(r), '\0');
    snapshot::EncodeRecord(r, s.data());
    return s;
  };
  snapshot::RecordView plain;
  plain.created_ms = 1700000000000;
  plain.payload = "hello world";
  Write("snapshot_record", "plain", record(plain));

  snapshot::RecordView keyed = plain;
  keyed.has_full_key = true;
  keyed.full_key = "a key longer than the 511 bytes LMDB takes, in principle";
  keyed.expire_ms = 1900000000000;
  Write("snapshot_record", "full-key", record(keyed));

  auto compressor = snapshot::ZstdCompressor::Create(3);
  const std::string value(300, 'x');
  const std::string frame(*(*compressor)->Compress(value + "tail"));
  snapshot::RecordView packed = plain;
  packed.compressed = true;
  packed.raw_len = static_cast<uint32_t>(value.size() + 4);
  packed.payload = frame;
  Write("snapshot_record", "compressed", record(packed));
  packed.has_full_key = true;
  packed.full_key = "k";
  Write("snapshot_record", "compressed-full-key", record(packed));

  // zstd_codec: raw_len (3 bytes LE), flag byte, frame.
  auto zstd_seed = [](std::string_view frame_bytes, size_t raw_len, int flag) {
    std::string s;
    s.push_back(static_cast<char>(raw_len & 0xff));
    s.push_back(static_cast<char>((raw_len >> 8) & 0xff));
    s.push_back(static_cast<char>((raw_len >> 16) & 0xff));
    s.push_back(static_cast<char>(flag));
    s.append(frame_bytes);
    return s;
  };
  Write("zstd_codec", "frame", zstd_seed(frame, value.size() + 4, 0));
  Write("zstd_codec", "frame-wrong-length", zstd_seed(frame, 7, 1));
  const std::string empty_frame(*(*compressor)->Compress(""));
  Write("zstd_codec", "empty", zstd_seed(empty_frame, 0, 0));
  std::string text;
  for (int i = 0; i < 40; ++i) text += "key:" + std::to_string(i) + "=value;";
  const std::string text_frame(*(*compressor)->Compress(text));
  Write("zstd_codec", "text", zstd_seed(text_frame, text.size(), 1));
}

void ProtocolSeeds() {
  // text_parser: config byte (bits 0-2 line limit, bit 3 generated), seed, stream.
  Write("text_parser", "commands", std::string("\x07\x01", 2) +
                                       "SET greeting hello world\r\nGET greeting\r\n"
                                       "INC visits 5\nDEL a b c\r\n\r\nAPPEND k  x y \r\n");
  Write("text_parser", "small-limit", std::string("\x04\x02", 2) + "GET k\r\nGET long-key\r\n");
  Write("text_parser", "generated", std::string("\x0f\x03", 2) + "set k v w\nget\tk\nprepend k a b");
  Write("text_parser", "cr-inside", std::string("\x07\x04", 2) + "GET a\rb\r\r\nPING\n");

  // resp_parser: config byte (bits 0-1 limits, bit 2 generated), seed, stream.
  Write("resp_parser", "multibulk", std::string("\x00\x01", 2) +
                                        "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n"
                                        "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*0\r\n*-1\r\n");
  Write("resp_parser", "inline", std::string("\x00\x02", 2) + "PING\r\nECHO  hi\tthere\n\r\n");
  Write("resp_parser", "small-limits", std::string("\x01\x03", 2) +
                                           "*1\r\n$4\r\nPING\r\n*2\r\n$1\r\na\r\n$5\r\n");
  Write("resp_parser", "binary", std::string("\x03\x04", 2) +
                                     std::string("*2\r\n$3\r\nGET\r\n$4\r\n\r\n\0\xff\r\n", 23));
  Write("resp_parser", "errors", std::string("\x00\x05", 2) + "*2\r\n$3\r\nGET\r\n:1\r\n");
  Write("resp_parser", "generated", std::string("\x04\x06", 2) + "SET k v\nGET k\nMSET a 1 b 2");

  // commands: mode byte (bit 0 RESP, bit 1 requirepass), requests.
  const std::string text_session =
      "SET greeting hello\nGET greeting\nINC n 5\nDEC n\nINCF f 1.5\nGETP greeting\n"
      "APPEND greeting !\nPREPEND greeting >\nEXPIRE greeting 100\nTTL greeting\n"
      "PERSIST greeting\nCOUNT\nKEYS *\nKEYS g?eet[a-z]ng\nPING\nINFO\nFLUSH\nQUIT";
  Write("commands", "text-session", std::string("\x00", 1) + text_session);
  const std::string resp_session =
      "set k v\nget k\nmset a 1 b 2 c 3\nmget a b c nope\nincrby a 10\nincrbyfloat b 0.5\n"
      "setrange k 3 xyz\ngetrange k 0 -1\nstrlen k\nrename k k2\nrenamenx a k2\n"
      "pexpire k2 100000\npttl k2\nexpiretime k2\nscan 0 match * count 2\nkeys [ab]\n"
      "type a\nexists a b z\ndbsize\nrandomkey\ncommand count\ncommand info get\n"
      "config get *\nconfig set requirepass pw\nauth pw\nhello 2\nclient setname x\n"
      "client getname\necho hi\ntime\nselect 0\ngetdel a\ngetset b 9\nsetnx c 1\n"
      "setex d 10 v\npsetex e 100 v\nunlink c d e\nflushall\nquit";
  Write("commands", "resp-session", std::string("\x01", 1) + resp_session);
  Write("commands", "auth", std::string("\x03", 1) + "get k\nauth wrong\nauth secret\nset k v\n");
  Write("commands", "glob", std::string("\x01", 1) +
                                "mset abc 1 a*c 2 a\\c 3\nkeys a\\*c\nkeys *[^b]*\nkeys [a-]\n"
                                "keys [\nkeys \\\nscan 0 match ?b? count 100");

  // glob: nocase bit, pattern length, pattern, text.
  auto glob = [](bool nocase, std::string_view pattern, std::string_view text) {
    std::string s;
    s.push_back(nocase ? 1 : 0);
    s.push_back(static_cast<char>(pattern.size()));
    s.append(pattern).append(text);
    return s;
  };
  Write("glob", "star", glob(false, "h*llo", "heeello"));
  Write("glob", "sets", glob(false, "[^a-c]x[a-]?\\*", "dx]q*"));
  Write("glob", "nocase", glob(true, "*HELLO*[A-Z]", "say hello World"));
  Write("glob", "many-stars", glob(false, "a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));

  // config: TOML text.
  Write("config", "minimal", "[server]\nport = 7000\nthreads = 2\n");
  Write("config", "storage", "[storage]\nfsync = \"always\"\nwal_recovery = \"truncate\"\n"
                             "snapshot_interval_s = 0\ndata_dir = \"/var/lib/memento\"\n");
  Write("config", "errors", "[server]\nport = \"x\"\nprot = 1\n[nope]\n");
  Write("config", "syntax", "a = [1, 2.0, \"x\", {b = 1979-05-27T07:32:00Z}]\n[[t]]\n'k' = '''\nx'''\n");

  // table_map: shard byte, then operations (opcode byte and operands; see Op).
  Write("table_map", "basic", Bytes({0, 0, 0, 3, 'a', 'b', 'c', 0,        // put a "abc"
                                     0, 1, 2, 'x', 'y', 1, 4, 10,          // put b "xy", expiry
                                     11, 40, 9, 1, 12, 3,                  // advance, read, scan
                                     7, 0, 2, 9, 2, 10, 5, 12, 1, 8, 12, 0}));
  Write("table_map", "expiry", Bytes({1, 0, 3, 1, 'v', 1, 5, 200, 2, 3, 5, 10, 4, 3, 2, 'w',
                                      11, 255, 9, 3, 10, 8, 5, 3, 6, 4, 12, 2, 8}));
}

// dump_reader: a mode byte (bit 0: known size; bit 1: repair checksums), then a dump.
void DumpSeeds() {
  namespace dump = memento::dump;
  auto make = [](std::string_view node, uint64_t key_count,
                 const std::vector<std::pair<std::string, std::string>>& entries) {
    dump::StringSink sink;
    dump::DumpHeader h;
    h.node = std::string(node);
    h.created_ms = 1700000000000;
    h.data_lsn = 77;
    h.key_count = key_count;
    auto w = dump::DumpWriter::Create(&sink, h);
    if (!w.ok()) std::exit(1);
    int64_t expire = -1;
    for (const auto& [k, v] : entries) {
      if (!(*w)->Add(k, v, 1700000000000, expire).ok()) std::exit(1);
      expire = expire == -1 ? 1800000000000 : -1;
    }
    if (!(*w)->Finish().ok()) std::exit(1);
    return sink.contents();
  };
  Write("dump_reader", "empty", std::string("\x01", 1) + make("", 0, {}));
  const std::vector<std::pair<std::string, std::string>> few = {
      {"a", "1"}, {"", std::string("\0\r\n", 3)}, {std::string(600, 'L'), "long key"},
      {"empty-value", ""}, {"text", "hello hello hello hello hello"}};
  Write("dump_reader", "few-keys", std::string("\x01", 1) + make("db1", few.size(), few));
  Write("dump_reader", "few-keys-piped", std::string("\x02", 1) +
                                             make("db1", dump::kUnknownKeyCount, few));
  // Two blocks: the first one fills up with a 1 MiB (compressible) value.
  const std::vector<std::pair<std::string, std::string>> two = {
      {"big", std::string(1u << 20, 'z')}, {"after", "x"}};
  Write("dump_reader", "two-blocks", std::string("\x03", 1) + make("n", two.size(), two));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  WalSeeds();
  SnapshotSeeds();
  ProtocolSeeds();
  DumpSeeds();
  std::printf("seeds written under %s\n", g_root.c_str());
  return 0;
}
