// Micro-benchmarks for the RESP2 request parser.
//
//   BM_RespParsePipelined/N   N multibulk requests ("SET key:i <32-byte value>" and
//                             "GET key:i", alternating) in one buffer, parsed front
//                             to back; items/s are requests.
//   BM_RespParseLargeBulk/L   one "SET key <L-byte value>" arriving in 16 KiB reads,
//                             the parser shown a longer prefix of one buffer each
//                             time; must stay linear in L (see RespParser::pos_).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/proto/resp_parser.h"

namespace memento::proto {
namespace {

constexpr size_t kReadSize = 16 * 1024;

void AppendBulk(std::string_view arg, std::string* out) {
  *out += "$" + std::to_string(arg.size()) + "\r\n";
  out->append(arg);
  *out += "\r\n";
}

std::string PipelinedRequests(int64_t count) {
  const std::string value(32, 'v');
  std::string buffer;
  for (int64_t i = 0; i < count; ++i) {
    if (i % 2 == 0) {
      buffer += "*3\r\n";
      AppendBulk("SET", &buffer);
      AppendBulk("key:" + std::to_string(i), &buffer);
      AppendBulk(value, &buffer);
    } else {
      buffer += "*2\r\n";
      AppendBulk("GET", &buffer);
      AppendBulk("key:" + std::to_string(i - 1), &buffer);
    }
  }
  return buffer;
}

void BM_RespParsePipelined(benchmark::State& state) {
  const std::string buffer = PipelinedRequests(state.range(0));
  RespParser parser;
  std::vector<std::string_view> argv;
  int64_t requests = 0;
  for (auto _ : state) {
    std::string_view input = buffer;
    while (true) {
      const ParseResult r = parser.Parse(input, &argv);
      if (r.status != ParseStatus::kOk) break;
      benchmark::DoNotOptimize(argv.data());
      input.remove_prefix(r.consumed);
      ++requests;
    }
    if (!input.empty()) {
      state.SkipWithError("pipelined buffer did not parse to the end");
      break;
    }
  }
  state.SetItemsProcessed(requests);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * buffer.size()));
}
BENCHMARK(BM_RespParsePipelined)->Arg(1)->Arg(16)->Arg(256)->Arg(4096);

void BM_RespParseLargeBulk(benchmark::State& state) {
  const size_t value_size = static_cast<size_t>(state.range(0));
  std::string stream = "*3\r\n";
  AppendBulk("SET", &stream);
  AppendBulk("key", &stream);
  AppendBulk(std::string(value_size, 'v'), &stream);
  const std::string_view view = stream;
  RespParser parser;
  std::vector<std::string_view> argv;
  for (auto _ : state) {
    // Each call sees kReadSize more bytes, as if every read returned that much; the
    // buffer is appended to, never copied, so this measures the parser alone.
    ParseResult r;
    for (size_t len = kReadSize; r.status == ParseStatus::kNeedMore; len += kReadSize) {
      r = parser.Parse(view.substr(0, len < view.size() ? len : view.size()), &argv);
    }
    if (r.status != ParseStatus::kOk || argv.size() != 3) {
      state.SkipWithError("request did not parse");
      break;
    }
    benchmark::DoNotOptimize(argv.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_RespParseLargeBulk)
    ->RangeMultiplier(4)
    ->Range(1 << 10, 1 << 20)
    ->Complexity(benchmark::oN);

}  // namespace
}  // namespace memento::proto
