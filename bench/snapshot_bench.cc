// Micro-benchmarks for storage/snapshot: checkpoint throughput (SnapshotStore::Apply of
// 1M puts in batches of 10k, one durable LMDB commit per batch) and recovery throughput
// (SnapshotStore::Load of 1M entries), with the resulting file size as counters.
//
//   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DMEMENTO_BUILD_BENCHMARKS=ON
//   cmake --build build-rel -j2 --target snapshot_bench && build-rel/bin/snapshot_bench
//
// The stores live in a fresh directory under $TMPDIR (default /tmp): put it on the disk
// you care about, since every batch ends with fsync. Keys arrive in a scrambled order
// (as a checkpoint of client writes would), not sorted, which would flatter LMDB.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "storage/mutation.h"
#include "storage/snapshot/snapshot_store.h"

namespace memento::snapshot {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;
constexpr size_t kTotalKeys = 1'000'000;
constexpr size_t kBatch = 10'000;

// Removes its directory tree on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/snapshot_bench.XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Key i of kTotalKeys, visited in a scrambled order: 7919 is coprime with 10^6.
std::string Key(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key:%08zu", (i * 7919) % kTotalKeys);
  return buf;
}

// `size` bytes of mildly repetitive text (compressible, as most real values are).
std::string Value(size_t i, size_t size) {
  std::string v;
  while (v.size() < size) v += "value " + std::to_string(i) + " of the snapshot benchmark; ";
  v.resize(size);
  return v;
}

std::vector<storage::Mutation> Batch(const std::vector<std::string>& keys,
                                     const std::vector<std::string>& values) {
  std::vector<storage::Mutation> batch;
  batch.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    batch.push_back({storage::MutationType::kPut, keys[i], values[i], kNow, -1});
  }
  return batch;
}

// Counters: the live file's size, and the size of a compacted copy (what Compact or
// memento-compact would leave), in MB.
void ReportSize(benchmark::State& state, const SnapshotStore& store) {
  auto stats = store.Stats();
  if (!stats.ok()) return;
  state.counters["file_MB"] = static_cast<double>(stats->file_bytes) / 1e6;
  TempDir copy_root;
  const std::string copy_dir = copy_root.path() + "/copy";
  if (!store.CopyCompacted(copy_dir).ok()) return;
  std::error_code ec;
  const auto compacted = std::filesystem::file_size(copy_dir + "/snap-000001/data.mdb", ec);
  if (!ec) state.counters["compacted_MB"] = static_cast<double>(compacted) / 1e6;
}

// One iteration = one checkpoint of kBatch new keys (one write transaction + fsync);
// 100 iterations = 1M keys. Arg: value size (100: stored raw; 1000: zstd-compressed).
void BM_SnapshotApply(benchmark::State& state) {
  const size_t value_size = static_cast<size_t>(state.range(0));
  TempDir dir;
  auto opened = SnapshotStore::Open(dir.path() + "/snapshot", SnapshotOptions{});
  if (!opened.ok()) {
    state.SkipWithError(opened.status().ToString().c_str());
    return;
  }
  std::unique_ptr<SnapshotStore> store = std::move(*opened);
  uint64_t lsn = 0;
  size_t next = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<std::string> keys;
    std::vector<std::string> values;
    for (size_t i = 0; i < kBatch; ++i, ++next) {
      keys.push_back(Key(next));
      values.push_back(Value(next, value_size));
      bytes += static_cast<int64_t>(keys.back().size() + value_size);
    }
    const auto batch = Batch(keys, values);
    state.ResumeTiming();
    lsn += kBatch;
    Status s = store->Apply(batch, lsn);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.SetBytesProcessed(bytes);
  ReportSize(state, *store);
}
BENCHMARK(BM_SnapshotApply)
    ->Arg(100)
    ->Arg(1000)
    ->Iterations(kTotalKeys / kBatch)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// One iteration = a full Load of kTotalKeys entries (recovery's first step).
// Arg: value size.
void BM_SnapshotLoad(benchmark::State& state) {
  const size_t value_size = static_cast<size_t>(state.range(0));
  TempDir dir;
  auto opened = SnapshotStore::Open(dir.path() + "/snapshot", SnapshotOptions{});
  if (!opened.ok()) {
    state.SkipWithError(opened.status().ToString().c_str());
    return;
  }
  std::unique_ptr<SnapshotStore> store = std::move(*opened);
  for (size_t start = 0; start < kTotalKeys; start += kBatch) {
    std::vector<std::string> keys;
    std::vector<std::string> values;
    for (size_t i = start; i < start + kBatch; ++i) {
      keys.push_back(Key(i));
      values.push_back(Value(i, value_size));
    }
    Status s = store->Apply(Batch(keys, values), start + kBatch);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
  }
  LoadStats stats;
  for (auto _ : state) {
    uint64_t sum = 0;
    Status s = store->Load(
        kNow,
        [&](std::string_view key, std::string_view value, int64_t, int64_t) {
          sum += key.size() + value.size();
        },
        &stats);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * stats.loaded));
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * (stats.key_bytes + stats.value_bytes)));
  ReportSize(state, *store);
}
BENCHMARK(BM_SnapshotLoad)->Arg(100)->Arg(1000)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace memento::snapshot
