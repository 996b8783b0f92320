// Micro-benchmarks for the text protocol: request parsing and reply encoding.
//
//   BM_ParsePipelined/N   N requests ("SET key:i <32-byte value>" and "GET key:i",
//                         alternating) in one buffer, parsed front to back.
//   BM_ParseByteByByte/L  one SET line of L bytes (terminator included) arriving one
//                         byte per read; must stay linear in L (see TextParser::scanned_).
//   BM_EncodeReplies/N    N mixed replies appended to a reused output string.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/proto/text_parser.h"
#include "net/proto/text_reply.h"

namespace memento::proto {
namespace {

constexpr size_t kMaxLine = 65536;

std::string PipelinedRequests(int64_t count) {
  const std::string value(32, 'v');
  std::string buffer;
  for (int64_t i = 0; i < count; ++i) {
    if (i % 2 == 0) {
      buffer += "SET key:" + std::to_string(i) + " " + value + "\r\n";
    } else {
      buffer += "GET key:" + std::to_string(i - 1) + "\r\n";
    }
  }
  return buffer;
}

void BM_ParsePipelined(benchmark::State& state) {
  const std::string buffer = PipelinedRequests(state.range(0));
  TextParser parser(kMaxLine);
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
BENCHMARK(BM_ParsePipelined)->Arg(1)->Arg(16)->Arg(256)->Arg(4096);

void BM_ParseByteByByte(benchmark::State& state) {
  const size_t line_size = static_cast<size_t>(state.range(0));
  std::string line = "SET key ";
  line.append(line_size - line.size() - 2, 'v');
  line.append("\r\n");
  const std::string_view stream = line;
  TextParser parser(kMaxLine);
  std::vector<std::string_view> argv;
  for (auto _ : state) {
    // Each call sees one more byte, as if every read returned a single byte; the
    // buffer is appended to, never copied, so this measures the parser alone.
    ParseResult r;
    for (size_t len = 1; len <= stream.size(); ++len) {
      r = parser.Parse(stream.substr(0, len), &argv);
    }
    if (r.status != ParseStatus::kOk || argv.size() != 3) {
      state.SkipWithError("line did not parse");
      break;
    }
    benchmark::DoNotOptimize(argv.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line_size));
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_ParseByteByByte)
    ->Arg(1024)
    ->Arg(4096)
    ->Arg(16384)
    ->Arg(65536)
    ->Complexity(benchmark::oN);

void BM_EncodeReplies(benchmark::State& state) {
  const int64_t count = state.range(0);
  const std::string value(32, 'v');
  std::string out;
  TextReplyBuilder builder(&out);
  for (auto _ : state) {
    out.clear();  // keeps the capacity, like a connection's output buffer
    for (int64_t i = 0; i < count; ++i) {
      switch (i % 5) {
        case 0:
          builder.Ok();
          break;
        case 1:
          builder.Bulk(value);
          break;
        case 2:
          builder.Integer(i * 7919 - 1000000);
          break;
        case 3:
          builder.Null();
          break;
        default:
          builder.Error("ERR value is not an integer or out of range");
          break;
      }
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * count);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_EncodeReplies)->Arg(16)->Arg(256)->Arg(4096);

}  // namespace
}  // namespace memento::proto
