// RunPhase: drives one benchmark phase against a server and measures it.
//
// The phase's connections are opened first (blocking, with a time-out, so "cannot
// connect" is reported before anything is measured), then spread over the load
// threads, connection i to thread i % threads. Each thread runs its own epoll loop
// over its connections, non-blocking. A connection sends `pipeline` requests in one
// write, then waits for all their replies before sending the next batch (as
// redis-benchmark -P does); each request's latency runs from the batch's write to the
// read that completed its reply. Every reply is parsed incrementally and checked
// (workload.h); a wrong reply is counted as an error and the connection goes on; a
// reply that is not the protocol at all, a closed connection, or no reply within the
// time-out ends that connection, and its unanswered requests count as errors too.
//
// Requests mode: the phase's requests are shared out over the threads up front and
// each thread's connections draw from its share. Duration mode: connections start new
// batches until the deadline, then finish the ones in flight.
//
// Timing is wall-clock (steady clock): from just before the threads start until the
// last reply of the phase; ops/s = replies / that time.
//
// Thread-safety: RunPhase may be called from one thread at a time; it starts and
// joins its own threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "tools/benchmark/histogram.h"
#include "tools/benchmark/reply_parser.h"
#include "tools/benchmark/workload.h"
#include "tools/common/tool_common.h"

namespace memento::benchmark {

struct LoadConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 6737;
  Protocol protocol = Protocol::kText;
  int threads = 1;
  int connections = 50;  // in all, spread over the threads
  int pipeline = 1;
  uint64_t requests = 100'000;  // per phase, used when duration_s == 0
  double duration_s = 0;        // > 0: each phase runs this long instead
  uint64_t keyspace = 100'000;  // kMixed: keys mb:000000000000 .. keyspace-1
  size_t value_size = 100;
  uint32_t set_ratio = 1;  // kMixed: SET:GET
  uint32_t get_ratio = 10;
  double timeout_s = 10;  // a connection waiting longer for a reply fails
  uint64_t seed = 1;      // kMixed's key and command choice
  tools::ProgressMode progress = tools::ProgressMode::kAuto;
};

struct PhaseResult {
  PhaseKind kind = PhaseKind::kSet;
  uint64_t replies = 0;  // replies received and checked, right or wrong
  uint64_t errors = 0;   // wrong replies, plus requests lost with a failed connection
  uint64_t sets = 0;
  uint64_t gets = 0;
  uint64_t get_misses = 0;  // GETs answered nil
  double seconds = 0;
  LatencyHistogram latency;  // of every reply, in µs
  // The first few errors, each saying which connection, command and key, e.g.
  // "connection 3: SET mb:keyone: expected OK, got error 'ERR x'".
  std::vector<std::string> error_samples;

  double ops_per_sec() const { return seconds > 0 ? static_cast<double>(replies) / seconds : 0; }
};

// Runs one phase with `config`. Errors (nothing measured): IOError when the host
// cannot be resolved or a connection cannot be made, or when the get phase cannot
// write its key first.
Result<PhaseResult> RunPhase(const LoadConfig& config, PhaseKind kind);

}  // namespace memento::benchmark
