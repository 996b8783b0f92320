// memento-benchmark's output: the summary table, CSV and JSON.
//
// Latencies are measured in µs; the table shows them in ms with three decimals (µs
// resolution), CSV and JSON give integer µs.
//
// CSV: a header line, then one line per phase:
//   phase,requests,errors,seconds,ops_per_sec,p50_us,p99_us,p999_us,max_us,mean_us
// JSON: one object (keys documented in docs/tools/benchmark.md):
//   {"tool":"memento-benchmark","version":..,"config":{..},"phases":[{..}],"errors":N}
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "tools/benchmark/load_runner.h"

namespace memento::benchmark {

// One line naming the target and the load, e.g.
// "127.0.0.1:6737, text protocol, 1 thread, 50 connections, pipeline 1, 100,000
// requests per phase, 100-byte values, keyspace 100,000, SET:GET 1:10".
std::string DescribeConfig(const LoadConfig& config);

std::string FormatTable(const std::vector<PhaseResult>& phases);
std::string FormatCsv(const std::vector<PhaseResult>& phases);
std::string FormatJson(const LoadConfig& config, const std::vector<PhaseResult>& phases);

}  // namespace memento::benchmark
