// LoopCounters: the statistics one event loop keeps, read by Server::Stats().
//
// Each loop owns its own cache-line-aligned block so loops never write the same
// line; Stats() sums the blocks. Writers are the owning loop thread only; readers
// are any thread. Relaxed atomics: each number is exact on its own, but a snapshot
// of several counters is not taken at one instant.
#pragma once

#include <atomic>
#include <cstdint>

namespace memento::net {

struct alignas(64) LoopCounters {
  std::atomic<uint64_t> connected_clients{0};
  // Connections closed since start. The acceptor counts open connections as
  // (handed to a loop) - (closed), which also covers those still in a loop's queue.
  std::atomic<uint64_t> closed_connections{0};
  std::atomic<uint64_t> total_commands{0};
  std::atomic<uint64_t> protocol_errors{0};
  std::atomic<uint64_t> query_limit_disconnections{0};
  std::atomic<uint64_t> output_limit_disconnections{0};
  std::atomic<uint64_t> idle_disconnections{0};
  // Deferred replies that arrived after their connection had closed, dropped unsent.
  std::atomic<uint64_t> deferred_replies_dropped{0};
  std::atomic<uint64_t> net_input_bytes{0};
  std::atomic<uint64_t> net_output_bytes{0};

  // Single-writer increment: a plain load+store is enough, and cheaper than a locked
  // read-modify-write on the hot path.
  static void Add(std::atomic<uint64_t>& counter, uint64_t delta) {
    counter.store(counter.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }
  static void Sub(std::atomic<uint64_t>& counter, uint64_t delta) {
    counter.store(counter.load(std::memory_order_relaxed) - delta, std::memory_order_relaxed);
  }
};

}  // namespace memento::net
