// Micro-benchmarks for storage/wal: the cost of Append on the hot path, and append
// throughput with the reply-path wait (Append + WaitDurable) under each sync policy,
// on this machine's disk (a temporary directory under $TMPDIR, default /tmp).
//
//   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DMEMENTO_BUILD_BENCHMARKS=ON
//   cmake --build build-rel -j2 --target wal_bench && build-rel/bin/wal_bench
//
// Counters: items_per_second = records/s over all threads (wall clock, UseRealTime);
// syncs_per_second = fdatasync calls/s; records_per_sync = how many records each
// fdatasync covered (group commit).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "common/crc32c.h"
#include "storage/mutation.h"
#include "storage/wal/wal.h"

namespace memento::wal {
namespace {

const std::string kValue(100, 'v');  // the 100-byte values of the issue

std::string MakeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/memento-wal-bench-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

// Shared by the threads of one run; set up and torn down by thread 0 (the benchmark
// loop starts and ends with a barrier across threads).
struct Fixture {
  std::string tmp;
  std::unique_ptr<Wal> wal;
  WalStats start;
};
Fixture* g_fixture = nullptr;

void SetUp(benchmark::State& state, SyncPolicy policy) {
  if (state.thread_index() != 0) return;
  g_fixture = new Fixture;
  g_fixture->tmp = MakeTempDir();
  Options options;
  options.dir = WalDirectory(g_fixture->tmp);
  options.sync_policy = policy;
  Result<std::unique_ptr<Wal>> wal =
      Wal::Open(options, 0, [](uint64_t, const storage::Mutation&) { return Status::OK(); });
  if (!wal.ok()) {
    state.SkipWithError(wal.status().ToString().c_str());
    return;
  }
  g_fixture->wal = std::move(wal).value();
  g_fixture->start = g_fixture->wal->stats();
}

void TearDown(benchmark::State& state) {
  if (state.thread_index() != 0 || g_fixture == nullptr) return;
  if (g_fixture->wal != nullptr) {
    const WalStats end = g_fixture->wal->stats();
    const double syncs = static_cast<double>(end.sync_calls - g_fixture->start.sync_calls);
    const double records =
        static_cast<double>(end.records_appended - g_fixture->start.records_appended);
    state.counters["syncs_per_second"] = benchmark::Counter(syncs, benchmark::Counter::kIsRate);
    state.counters["records_per_sync"] = syncs > 0 ? records / syncs : 0;
    (void)g_fixture->wal->Close();
  }
  std::error_code ec;
  std::filesystem::remove_all(g_fixture->tmp, ec);
  delete g_fixture;
  g_fixture = nullptr;
}

storage::Mutation Put(std::string_view key) {
  storage::Mutation m;
  m.type = storage::MutationType::kPut;
  m.key = key;
  m.value = kValue;
  m.created_ms = 1'700'000'000'000;
  return m;
}

// The reply path: Append then WaitDurable, per record, from every thread.
// Arg: 0 always, 1 everysec, 2 no.
void BM_AppendDurable(benchmark::State& state) {
  const auto policy = static_cast<SyncPolicy>(state.range(0));
  SetUp(state, policy);
  const std::string key = "key:" + std::to_string(state.thread_index());
  for (auto _ : state) {
    Result<uint64_t> lsn = g_fixture->wal->Append(Put(key));
    if (!lsn.ok() || !g_fixture->wal->WaitDurable(*lsn).ok()) {
      state.SkipWithError("append failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  TearDown(state);
}
BENCHMARK(BM_AppendDurable)
    ->ArgName("policy(0=always,1=everysec,2=no)")
    ->Arg(static_cast<int>(SyncPolicy::kNo))
    ->Arg(static_cast<int>(SyncPolicy::kEverySec))
    ->Threads(1)
    ->Threads(4)
    ->UseRealTime();
BENCHMARK(BM_AppendDurable)
    ->ArgName("policy(0=always,1=everysec,2=no)")
    ->Arg(static_cast<int>(SyncPolicy::kAlways))
    ->Threads(1)
    ->Threads(4)
    ->Threads(16)
    ->UseRealTime();

// The hot-path cost alone: Append without waiting (what a shard lock holder pays);
// the background thread writes the buffer (woken every 1 MiB).
void BM_AppendOnly(benchmark::State& state) {
  SetUp(state, SyncPolicy::kNo);
  const std::string key = "key:" + std::to_string(state.thread_index());
  for (auto _ : state) {
    Result<uint64_t> lsn = g_fixture->wal->Append(Put(key));
    benchmark::DoNotOptimize(lsn);
  }
  state.SetItemsProcessed(state.iterations());
  TearDown(state);
}
BENCHMARK(BM_AppendOnly)->Threads(1)->Threads(2)->UseRealTime();

void BM_Crc32c(benchmark::State& state) {
  const bool hardware = state.range(0) == 1;
  if (hardware && !crc32c::internal::HardwareAvailable()) {
    state.SkipWithError("no SSE4.2");
    return;
  }
  const std::string data(static_cast<size_t>(state.range(1)), 'x');
  for (auto _ : state) {
    uint32_t crc = hardware ? crc32c::internal::ExtendHardware(0, data.data(), data.size())
                            : crc32c::internal::ExtendPortable(0, data.data(), data.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(state.iterations() * state.range(1));
}
BENCHMARK(BM_Crc32c)->ArgNames({"hw", "bytes"})->ArgsProduct({{0, 1}, {128, 4096}});

}  // namespace
}  // namespace memento::wal
