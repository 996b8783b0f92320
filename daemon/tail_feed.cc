#include "daemon/tail_feed.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "common/glob.h"
#include "net/proto/resp_reply.h"

namespace memento::daemon {
namespace {

// Changes (and log bytes) read for one connection per turn: keeps the turns short
// and fair, and what one turn posts small next to kFeedHighWater.
constexpr size_t kChangesPerTurn = 1000;
constexpr size_t kBytesPerTurn = 256 * 1024;
// How long the thread waits for new changes when every feed is caught up (a bound:
// it is woken as soon as the log's feed LSN moves), and when every feed is paced.
constexpr auto kIdleWait = std::chrono::milliseconds(50);
constexpr auto kPacedWait = std::chrono::milliseconds(2);

}  // namespace

void AppendTailChange(const db::Change& change, std::string_view pattern, bool resp,
                      std::string* out) {
  const storage::Mutation& m = change.mutation;
  if (m.type == storage::MutationType::kExpire) return;  // the value did not change
  // A flush removes every key, so every pattern sees it.
  if (m.type != storage::MutationType::kClear && !GlobMatch(pattern, m.key)) return;
  const char* op = db::ChangeOpName(change);
  const bool has_value = m.type == storage::MutationType::kPut;
  if (resp) {
    proto::RespReplyBuilder reply(out);
    reply.ArrayHeader(5);
    reply.Bulk("change");
    reply.Integer(static_cast<int64_t>(change.lsn));
    reply.Bulk(op);
    reply.Bulk(m.key);
    if (has_value) {
      reply.Bulk(m.value);
    } else {
      reply.Null();
    }
    return;
  }
  // "<lsn> <op>[ <key>[ <value>]]\r\n": the value is the rest of the line.
  out->append(std::to_string(change.lsn));
  out->push_back(' ');
  out->append(op);
  if (m.type != storage::MutationType::kClear) {
    out->push_back(' ');
    out->append(m.key);
  }
  if (has_value) {
    out->push_back(' ');
    out->append(m.value);
  }
  out->append("\r\n");
}

TailFeed::~TailFeed() { Stop(); }

Status TailFeed::Start(db::Db* db, net::Session& session, std::string_view pattern,
                       uint64_t from_lsn, uint64_t* start_lsn) {
  if (session.mailbox == nullptr) return Status::NotSupported("TAIL needs a client connection");
  MEMENTO_ASSIGN_OR_RETURN(std::unique_ptr<db::Subscription> subscription,
                           db->Subscribe(from_lsn));
  *start_lsn = subscription->cursor();
  auto link = std::make_shared<net::FeedLink>();
  auto feed = std::make_shared<Feed>();
  feed->id = session.id;
  feed->mailbox = session.mailbox;
  feed->link = link;
  feed->pattern = std::string(pattern);
  feed->resp = session.dialect == net::Dialect::kResp;
  feed->subscription = std::move(subscription);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return Status::NotSupported("the server is shutting down");
    feeds_.push_back(std::move(feed));
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  }
  cv_.notify_all();
  session.feed = std::move(link);
  return Status::OK();
}

void TailFeed::Stop() {
  std::thread thread;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    thread = std::move(thread_);
  }
  cv_.notify_all();
  if (thread.joinable()) thread.join();
  std::vector<std::shared_ptr<Feed>> doomed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    doomed.swap(feeds_);
  }
  // The subscriptions go here, before the caller closes the Db.
}

size_t TailFeed::feeds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return feeds_.size();
}

bool TailFeed::FeedOnce(Feed& feed, bool* progressed, bool* paced) {
  std::shared_ptr<net::FeedLink> link = feed.link.lock();
  if (link == nullptr) return false;  // the connection closed
  const uint64_t in_mailbox = feed.posted - link->delivered.load(std::memory_order_relaxed);
  if (in_mailbox + link->unsent.load(std::memory_order_relaxed) > kFeedHighWater) {
    *paced = true;  // the reader is slow: its changes wait in the log files
    return true;
  }
  std::string out;
  Result<size_t> n = feed.subscription->Read(kChangesPerTurn, [&](const db::Change& change) {
    AppendTailChange(change, feed.pattern, feed.resp, &out);
  }, kBytesPerTurn);
  if (!n.ok()) {
    // The stream broke (the log failed or is closing): tell the reader, then stop.
    std::string error = "-ERR TAIL stopped: ";
    for (char ch : n.status().ToString()) error.push_back(ch == '\r' || ch == '\n' ? ' ' : ch);
    error.append("\r\n");
    if (!feed.resp) error = "(error) " + error.substr(1);
    (void)feed.mailbox->PostMonitorLines(feed.id, std::move(error));
    return false;
  }
  if (*n > 0) *progressed = true;
  if (out.empty()) return true;
  feed.posted += out.size();
  return feed.mailbox->PostMonitorLines(feed.id, std::move(out));
}

void TailFeed::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopped_) {
    if (feeds_.empty()) {
      cv_.wait(lock);
      continue;
    }
    std::vector<std::shared_ptr<Feed>> feeds = feeds_;
    lock.unlock();
    bool progressed = false;
    bool paced = false;
    std::vector<const Feed*> done;
    for (const std::shared_ptr<Feed>& feed : feeds) {
      if (!FeedOnce(*feed, &progressed, &paced)) done.push_back(feed.get());
    }
    if (!progressed && done.empty()) {
      if (paced) {
        std::this_thread::sleep_for(kPacedWait);
      } else {
        // Every feed is caught up to the same feed LSN: wait for it to move.
        (void)feeds.front()->subscription->Wait(kIdleWait);
      }
    }
    lock.lock();
    if (!done.empty()) {
      std::erase_if(feeds_, [&](const std::shared_ptr<Feed>& f) {
        return std::find(done.begin(), done.end(), f.get()) != done.end();
      });
    }
  }
}

}  // namespace memento::daemon
