// Unit tests of what memento-benchmark sends and accepts (workload.h) and of its
// flags (options.h).
#include "tools/benchmark/workload.h"

#include <string>

#include <gtest/gtest.h>

#include "tools/benchmark/options.h"

namespace memento::benchmark {
namespace {

std::string Key(PhaseKind kind, uint64_t index) {
  std::string out;
  AppendKey(kind, index, &out);
  return out;
}

TEST(WorkloadTest, KeysOfEachPhase) {
  EXPECT_EQ(Key(PhaseKind::kSet, 5), "mb:keyone");
  EXPECT_EQ(Key(PhaseKind::kGet, 5), "mb:keyone");
  EXPECT_EQ(Key(PhaseKind::kGrow, 0), "mb:grow:0");
  EXPECT_EQ(Key(PhaseKind::kGrow, 12345), "mb:grow:12345");
  EXPECT_EQ(Key(PhaseKind::kMixed, 42), "mb:000000000042");
}

TEST(WorkloadTest, ValuesEmbedTheKeyAndHaveTheAskedSize) {
  EXPECT_EQ(MakeValue("mb:k", 20), "mb:k:0123456789abcde");
  EXPECT_EQ(MakeValue("mb:k", 5), "mb:k:");
  EXPECT_EQ(MakeValue("mb:k", 2), "mb");
  for (size_t size : {1u, 4u, 5u, 6u, 36u, 41u, 100u, 5000u}) {
    const std::string v = MakeValue("mb:000000000007", size);
    EXPECT_EQ(v.size(), size);
    EXPECT_TRUE(IsValueOf("mb:000000000007", v)) << size;
    EXPECT_EQ(v.find_first_of(" \t\r\n"), std::string::npos);
  }
}

TEST(WorkloadTest, IsValueOfRejectsOtherKeysAndDamage) {
  const std::string v = MakeValue("mb:000000000007", 100);
  EXPECT_FALSE(IsValueOf("mb:000000000008", v));
  std::string damaged = v;
  damaged[60] = 'X';
  EXPECT_FALSE(IsValueOf("mb:000000000007", damaged));
  EXPECT_FALSE(IsValueOf("mb:000000000007", ""));
  EXPECT_FALSE(IsValueOf("mb:000000000007", "xxx"));  // redis-benchmark's values
}

TEST(WorkloadTest, RequestEncodings) {
  std::string out;
  AppendSet(Protocol::kText, "mb:k", "v1", &out);
  AppendGet(Protocol::kText, "mb:k", &out);
  EXPECT_EQ(out, "SET mb:k v1\r\nGET mb:k\r\n");
  out.clear();
  AppendSet(Protocol::kResp, "mb:k", "v1", &out);
  AppendGet(Protocol::kResp, "mb:k", &out);
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$4\r\nmb:k\r\n$2\r\nv1\r\n*2\r\n$3\r\nGET\r\n$4\r\nmb:k\r\n");
}

TEST(WorkloadTest, SetMustGetOk) {
  EXPECT_EQ(CheckReply(Protocol::kResp, Op::kSet, "k", 10, false, {ReplyType::kStatus, "OK"}), "");
  EXPECT_EQ(CheckReply(Protocol::kText, Op::kSet, "k", 10, false, {ReplyType::kLine, "OK"}), "");
  EXPECT_NE(CheckReply(Protocol::kResp, Op::kSet, "k", 10, false, {ReplyType::kError, "ERR x"}),
            "");
  EXPECT_NE(CheckReply(Protocol::kText, Op::kSet, "k", 10, false, {ReplyType::kLine, "-ERR x"}),
            "");
  EXPECT_NE(CheckReply(Protocol::kResp, Op::kSet, "k", 10, false, {ReplyType::kBulk, "OK"}), "");
  const std::string msg =
      CheckReply(Protocol::kResp, Op::kSet, "mb:keyone", 10, false, {ReplyType::kError, "ERR x"});
  EXPECT_EQ(msg, "SET mb:keyone: expected OK, got error 'ERR x'");
}

TEST(WorkloadTest, GetMustReturnTheValueOrNil) {
  const std::string key = "mb:000000000001";
  const std::string value = MakeValue(key, 50);
  const std::string shorter = MakeValue(key, 20);  // left by a run with another size
  // Written by this run before the GET was sent: exactly the value.
  EXPECT_EQ(CheckReply(Protocol::kResp, Op::kGet, key, 50, true, {ReplyType::kBulk, value}), "");
  EXPECT_EQ(CheckReply(Protocol::kText, Op::kGet, key, 50, true, {ReplyType::kLine, value}), "");
  EXPECT_NE(CheckReply(Protocol::kResp, Op::kGet, key, 50, true, {ReplyType::kNil, ""}), "");
  EXPECT_NE(CheckReply(Protocol::kResp, Op::kGet, key, 50, true, {ReplyType::kBulk, shorter}), "");
  // Not (yet) written: nil or any benchmark value of that key.
  EXPECT_EQ(CheckReply(Protocol::kResp, Op::kGet, key, 50, false, {ReplyType::kNil, ""}), "");
  EXPECT_EQ(CheckReply(Protocol::kText, Op::kGet, key, 50, false, {ReplyType::kNil, ""}), "");
  EXPECT_EQ(CheckReply(Protocol::kResp, Op::kGet, key, 50, false, {ReplyType::kBulk, shorter}),
            "");
  EXPECT_NE(CheckReply(Protocol::kResp, Op::kGet, key, 50, false, {ReplyType::kBulk, "xxx"}), "");
  EXPECT_NE(CheckReply(Protocol::kResp, Op::kGet, key, 50, false, {ReplyType::kError, "ERR"}), "");
  // The protocols' shapes are not interchangeable.
  EXPECT_NE(CheckReply(Protocol::kResp, Op::kGet, key, 50, true, {ReplyType::kLine, value}), "");
}

TEST(WorkloadTest, PhaseNamesRoundTrip) {
  for (PhaseKind k : {PhaseKind::kSet, PhaseKind::kGet, PhaseKind::kGrow, PhaseKind::kMixed}) {
    PhaseKind parsed;
    ASSERT_TRUE(ParsePhaseName(PhaseName(k), &parsed));
    EXPECT_EQ(parsed, k);
  }
  PhaseKind parsed;
  EXPECT_FALSE(ParsePhaseName("SET", &parsed));
}

Result<Options> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "memento-benchmark");
  return ParseOptions(static_cast<int>(args.size()), args.data());
}

TEST(OptionsTest, DefaultsRunTheFourPhases) {
  auto opts = Parse({});
  ASSERT_TRUE(opts.ok()) << opts.status().ToString();
  EXPECT_EQ(opts->load.host, "127.0.0.1");
  EXPECT_EQ(opts->load.port, 6737);
  EXPECT_EQ(opts->load.protocol, Protocol::kText);
  EXPECT_EQ(opts->phases.size(), 4u);
  EXPECT_EQ(opts->format, OutputFormat::kTable);
}

TEST(OptionsTest, EveryFlagInBothForms) {
  auto opts = Parse({"-h", "localhost", "-p", "7000", "--threads", "3", "--connections=12",
                     "--pipeline", "16", "--requests=5000", "--keyspace", "77",
                     "--value-size=9", "--ratio", "3:1", "--protocol=resp", "--phase",
                     "mixed,set", "--json", "--quiet", "--timeout", "2.5", "--seed", "9"});
  ASSERT_TRUE(opts.ok()) << opts.status().ToString();
  EXPECT_EQ(opts->load.host, "localhost");
  EXPECT_EQ(opts->load.port, 7000);
  EXPECT_EQ(opts->load.threads, 3);
  EXPECT_EQ(opts->load.connections, 12);
  EXPECT_EQ(opts->load.pipeline, 16);
  EXPECT_EQ(opts->load.requests, 5000u);
  EXPECT_EQ(opts->load.keyspace, 77u);
  EXPECT_EQ(opts->load.value_size, 9u);
  EXPECT_EQ(opts->load.set_ratio, 3u);
  EXPECT_EQ(opts->load.get_ratio, 1u);
  EXPECT_EQ(opts->load.protocol, Protocol::kResp);
  ASSERT_EQ(opts->phases.size(), 2u);
  EXPECT_EQ(opts->phases[0], PhaseKind::kMixed);
  EXPECT_EQ(opts->phases[1], PhaseKind::kSet);
  EXPECT_EQ(opts->format, OutputFormat::kJson);
  EXPECT_EQ(opts->load.progress, tools::ProgressMode::kNever);
  EXPECT_DOUBLE_EQ(opts->load.timeout_s, 2.5);
  EXPECT_EQ(opts->load.seed, 9u);
}

TEST(OptionsTest, NeverMoreThreadsThanConnections) {
  auto opts = Parse({"--threads", "8", "--connections", "3"});
  ASSERT_TRUE(opts.ok()) << opts.status().ToString();
  EXPECT_EQ(opts->load.threads, 3);
}

TEST(OptionsTest, BadFlagsNameWhatIsWrong) {
  struct Case {
    std::vector<const char*> args;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {{"--threads", "0"}, "--threads: '0'"},
           {{"--connections", "many"}, "--connections: 'many'"},
           {{"--ratio", "1-10"}, "--ratio: '1-10'"},
           {{"--ratio", "0:0"}, "--ratio"},
           {{"--protocol", "http"}, "--protocol: 'http'"},
           {{"--phase", "set,del"}, "--phase: 'del'"},
           {{"--requests", "10", "--duration", "1"}, "exclude each other"},
           {{"--duration", "-1"}, "--duration"},
           {{"--port"}, "--port needs a value"},
           {{"-p", "70000"}, "-p: '70000'"},
           {{"--frobnicate"}, "unknown flag '--frobnicate'"},
           {{"--csv=yes"}, "--csv takes no value"},
       }) {
    auto opts = Parse(c.args);
    ASSERT_FALSE(opts.ok()) << c.says;
    EXPECT_NE(opts.status().message().find(c.says), std::string::npos)
        << opts.status().message();
  }
}

}  // namespace
}  // namespace memento::benchmark
