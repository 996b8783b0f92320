// TailFeed: the connections in TAIL mode, fed from the Db's change stream
// (storage/db/change_stream.h) by one background thread.
//
// Each TAIL connection has a db::Subscription. The feed thread reads each one's next
// changes from the log files, keeps those whose key matches the connection's
// pattern, encodes them (RESP: one *5 array per change; text: one line) and posts
// them to the connection's loop through the mailbox MONITOR uses
// (ReplyMailbox::PostMonitorLines), so no connection is touched off its loop. Pacing:
// while a connection has more than kFeedHighWater bytes not yet written to its
// socket (net::FeedLink), nothing more is read for it: its subscriber simply stays
// behind in the files, and the server buffers at most about that much per reader.
// (max_output_buffer still applies, as to any client.)
//
// Thread-safety: Start and Stop from any thread; Stop before the Db closes.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "net/server.h"
#include "storage/db/db.h"

namespace memento::daemon {

// Unsent bytes a TAIL connection may have before its feed waits for the socket.
inline constexpr uint64_t kFeedHighWater = uint64_t{1} << 20;

// How one change looks on a TAIL connection (empty: not sent, a TTL-only change or a
// key the pattern does not match). Appended to *out.
void AppendTailChange(const db::Change& change, std::string_view pattern, bool resp,
                      std::string* out);

class TailFeed {
 public:
  TailFeed() = default;
  ~TailFeed();  // Stop()
  TailFeed(const TailFeed&) = delete;
  TailFeed& operator=(const TailFeed&) = delete;

  // Makes `session` a TAIL feed of the changes after from_lsn (0: from the oldest
  // retained) whose key matches `pattern`, from `db`. On success session.feed is set
  // and *start_lsn is where the feed starts (the changes after it follow). Errors:
  // those of Db::Subscribe (too old, past the last change); NotSupported once
  // stopped or without a mailbox (outside a server).
  Status Start(db::Db* db, net::Session& session, std::string_view pattern, uint64_t from_lsn,
               uint64_t* start_lsn);

  // Ends every feed (their subscriptions are released) and the thread.
  void Stop();

  size_t feeds() const;

 private:
  struct Feed {
    uint64_t id;
    std::shared_ptr<net::ReplyMailbox> mailbox;
    std::weak_ptr<net::FeedLink> link;
    std::string pattern;
    bool resp;
    std::unique_ptr<db::Subscription> subscription;
    uint64_t posted = 0;  // bytes posted to the mailbox so far
  };
  void Loop();
  // Feeds one connection once. False once it is done (closed, or its stream failed).
  bool FeedOnce(Feed& feed, bool* progressed, bool* paced);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Feed>> feeds_;  // guarded by mu_
  bool stopped_ = false;                      // guarded by mu_
  std::thread thread_;                        // started by the first Start
};

}  // namespace memento::daemon
