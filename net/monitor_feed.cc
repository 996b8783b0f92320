#include "net/monitor_feed.h"

#include <algorithm>

namespace memento::net {

bool MonitorsActive(const Session& session) {
  return session.monitor_feed != nullptr && session.monitor_feed->active();
}

bool StartMonitoring(Session& session) {
  if (session.monitor_feed == nullptr || session.mailbox == nullptr) return false;
  if (!session.monitoring) session.monitor_feed->Add(session.id, session.mailbox);
  session.monitoring = true;
  return true;
}

void MonitorFeed::Add(uint64_t id, std::shared_ptr<ReplyMailbox> mailbox) {
  std::lock_guard<std::mutex> lock(mu_);
  monitors_.emplace_back(id, std::move(mailbox));
  count_.store(monitors_.size(), std::memory_order_relaxed);
}

void MonitorFeed::Remove(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(monitors_, [id](const auto& m) { return m.first == id; });
  count_.store(monitors_.size(), std::memory_order_relaxed);
}

void MonitorFeed::Publish(const std::string& lines) {
  std::lock_guard<std::mutex> lock(mu_);
  // A mailbox closed with its loop (shutdown) takes nothing; its connection is gone
  // too, and Remove() follows from its close.
  for (const auto& [id, mailbox] : monitors_) (void)mailbox->PostMonitorLines(id, lines);
}

}  // namespace memento::net
