// Micro-benchmarks for storage/table: point reads and writes through Table (one and
// two threads), and the latency of single inserts while a table grows from empty,
// against std::unordered_map, to show that incremental rehash has no stop-the-world
// resize.
//
//   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DMEMENTO_BUILD_BENCHMARKS=ON
//   cmake --build build-rel -j2 --target table_bench && build-rel/bin/table_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "storage/table/table.h"

namespace memento::table {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;
const std::string kValue = "value-0123456789";  // 16 bytes: heap-allocated, as real values

// "key:0" .. "key:<n-1>", built once and shared by every benchmark.
const std::vector<std::string>& Keys(size_t n) {
  static std::vector<std::string> keys;
  while (keys.size() < n) keys.push_back("key:" + std::to_string(keys.size()));
  return keys;
}

void Set(Table* table, std::string_view key) {
  table->Write(key, kNow, [](Slot& slot) { slot.Create(kNow)->value = kValue; });
}

// items_per_second of the threaded runs is wall-clock throughput of all threads
// together (UseRealTime), not per-thread CPU time.

// Shared by the threads of one multi-threaded run; set up and torn down by thread 0
// (the benchmark loop starts and ends with a barrier across threads).
std::unique_ptr<Table> g_table;

void BM_TableSet(benchmark::State& state) {
  const size_t key_space = static_cast<size_t>(state.range(0));
  const auto& keys = Keys(key_space);
  if (state.thread_index() == 0) g_table = std::make_unique<Table>();
  // Each thread walks the key space from its own offset with a stride coprime to it.
  size_t i = static_cast<size_t>(state.thread_index()) * (key_space / 2 + 1);
  for (auto _ : state) {
    Set(g_table.get(), keys[i & (key_space - 1)]);
    i += 7919;
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) g_table.reset();
}
BENCHMARK(BM_TableSet)
    ->RangeMultiplier(16)
    ->Range(1 << 12, 1 << 20)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

void BM_TableGet(benchmark::State& state) {
  const size_t key_space = static_cast<size_t>(state.range(0));
  const auto& keys = Keys(key_space);
  if (state.thread_index() == 0) {
    g_table = std::make_unique<Table>();
    for (size_t k = 0; k < key_space; ++k) Set(g_table.get(), keys[k]);
  }
  size_t i = static_cast<size_t>(state.thread_index()) * (key_space / 2 + 1);
  for (auto _ : state) {
    size_t len = g_table->Read(keys[i & (key_space - 1)], kNow,
                               [](const Entry* e) { return e == nullptr ? 0 : e->value.size(); });
    benchmark::DoNotOptimize(len);
    i += 7919;
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) g_table.reset();
}
BENCHMARK(BM_TableGet)
    ->RangeMultiplier(16)
    ->Range(1 << 12, 1 << 20)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

// Inserts every key into an empty container, timing each insert on its own, and
// reports the worst, 99.9th and 99.99th percentile single-insert latency (us).
template <typename InsertFn>
void MeasureGrowth(benchmark::State& state, size_t n, InsertFn&& insert) {
  const auto& keys = Keys(n);
  std::vector<int64_t> latency_ns(n);
  for (auto _ : state) {
    for (size_t k = 0; k < n; ++k) {
      const auto start = std::chrono::steady_clock::now();
      insert(keys[k]);
      const auto end = std::chrono::steady_clock::now();
      latency_ns[k] = std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count();
    }
  }
  auto percentile_us = [&](double p) {
    auto nth = latency_ns.begin() + static_cast<ptrdiff_t>(p * static_cast<double>(n - 1));
    std::nth_element(latency_ns.begin(), nth, latency_ns.end());
    return static_cast<double>(*nth) / 1000.0;
  };
  state.counters["max_us"] =
      static_cast<double>(*std::max_element(latency_ns.begin(), latency_ns.end())) / 1000.0;
  state.counters["p999_us"] = percentile_us(0.999);
  state.counters["p9999_us"] = percentile_us(0.9999);
  // Inserts slower than 1 ms: resizes show up here, one per doubling; so do the
  // (rare) preemptions of a benchmark sharing its cores.
  state.counters["over_1ms"] = static_cast<double>(
      std::count_if(latency_ns.begin(), latency_ns.end(), [](int64_t ns) { return ns > 1000000; }));
  state.SetItemsProcessed(static_cast<int64_t>(n) * state.iterations());
}

// Args: {keys inserted, shards}. One shard shows the HashMap's incremental rehash on
// its own; the default 256 is what the daemon runs.
void BM_TableGrowth(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  auto table = std::make_unique<Table>(static_cast<size_t>(state.range(1)));
  MeasureGrowth(state, n, [&](const std::string& key) { Set(table.get(), key); });
}
BENCHMARK(BM_TableGrowth)
    ->ArgsProduct({{1 << 20, 1 << 22}, {1, 256}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

void BM_UnorderedMapGrowth(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  std::unordered_map<std::string, std::string> map;
  MeasureGrowth(state, n, [&](const std::string& key) { map.emplace(key, kValue); });
}
BENCHMARK(BM_UnorderedMapGrowth)
    ->Arg(1 << 20)
    ->Arg(1 << 22)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace memento::table
