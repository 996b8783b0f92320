// Deferred replies: DeferReply(), DeferredReply::Complete() and the loop's mailbox.
//
// A forwarded request's reply is produced on another thread (the cluster bus). It is
// posted to the mailbox of the connection's loop, which wakes through the same
// eventfd as the acceptor's hand-offs and gives each reply to its connection by id:
// ids are never reused, so a reply for a connection that closed meanwhile finds
// nothing and is dropped.
#include <unistd.h>

#include <cassert>
#include <cstdint>

#include "net/server.h"

namespace memento::net {

DeferredReply DeferReply(Session& session) {
  assert(session.mailbox != nullptr && !session.deferred);
  session.deferred = true;
  DeferredReply handle;
  handle.mailbox_ = session.mailbox;
  handle.connection_id_ = session.id;
  handle.sequence_ = session.next_deferred++;
  return handle;
}

void DeferredReply::Complete(std::string bytes) {
  if (mailbox_ == nullptr) return;
  mailbox_->Post(connection_id_, sequence_, std::move(bytes));
  mailbox_.reset();  // once
}

void ReplyMailbox::Post(uint64_t id, uint64_t sequence, std::string bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return;
  completed_.push_back(Completed{id, sequence, std::move(bytes)});
  uint64_t one = 1;
  // Under the lock: Close() cannot close the fd in between. Cannot fail short of a
  // counter overflow.
  (void)!::write(wake_fd_, &one, sizeof(one));
}

bool ReplyMailbox::PostMonitorLines(uint64_t id, std::string lines) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return false;
  // One wakeup is enough for any number of queued entries: only the first post
  // after a Take() writes the eventfd.
  const bool wake = completed_.empty();
  completed_.push_back(Completed{id, 0, std::move(lines), /*monitor_lines=*/true});
  uint64_t one = 1;
  if (wake) (void)!::write(wake_fd_, &one, sizeof(one));
  return true;
}

std::vector<ReplyMailbox::Completed> ReplyMailbox::Take() {
  std::vector<Completed> taken;
  std::lock_guard<std::mutex> lock(mu_);
  taken.swap(completed_);
  return taken;
}

void ReplyMailbox::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  completed_.clear();
}

}  // namespace memento::net
