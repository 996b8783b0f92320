// MonitorFeed: the connections in MONITOR mode, and the delivery of MONITOR lines to
// them.
//
// A connection whose requests produced lines (Session::monitor_lines, formatted by
// the command layer) publishes them once per batch of requests; each monitor gets
// them through its own loop's mailbox, so the publisher never touches another
// loop's connection and never waits for a monitor. A monitor that does not read
// its socket grows its output buffer only up to ServerOptions::max_output_buffer,
// then it is closed like any other client over the limit: a slow monitor costs the
// others one post per batch, never a stall.
//
// Thread-safety: every method from any thread. active() is one relaxed load, the
// check every request makes; the list of monitors is behind a mutex taken only
// while someone monitors (to publish) and when a monitor starts or stops.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "net/server.h"

namespace memento::net {

class MonitorFeed {
 public:
  bool active() const { return count_.load(std::memory_order_relaxed) > 0; }
  // Connection `id`, served by the loop of `mailbox`, receives the lines published
  // from now on.
  void Add(uint64_t id, std::shared_ptr<ReplyMailbox> mailbox);
  // Connection `id` is gone (or was never a monitor: then nothing happens).
  void Remove(uint64_t id);
  // Sends `lines` (whole "+<time> [0 <addr>] ..." lines) to every monitor.
  void Publish(const std::string& lines);

 private:
  std::atomic<size_t> count_{0};
  std::mutex mu_;
  std::vector<std::pair<uint64_t, std::shared_ptr<ReplyMailbox>>> monitors_;  // guarded by mu_
};

}  // namespace memento::net
