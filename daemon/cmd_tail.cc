// TAIL <pattern> <from-lsn>: the connection becomes a feed of the durable changes
// after from-lsn whose key matches the glob pattern (docs/protocol.md, "TAIL").
// The feeding is daemon/tail_feed.cc; the stream is storage/db/change_stream.h.
#include <string>

#include "common/numbers.h"
#include "common/strings.h"
#include "daemon/cmd_context.h"
#include "daemon/cmd_errors.h"

namespace memento::daemon {

void RefuseOnFeed(proto::ReplyBuilder& reply, const CommandSpec& spec) {
  reply.Error("ERR Can't execute '" + std::string(spec.name) +
              "': only PING / QUIT are allowed in this context");
}

void Tail(Context& c) {
  int64_t from_lsn = 0;
  if (!ParseInt64(c.argv[2], &from_lsn) || from_lsn < 0) {
    c.reply.Error("ERR TAIL from-lsn '" + Printable(c.argv[2]) +
                  "' is not a log sequence number (0 or more)");
    return;
  }
  Persistence* db = c.commands.persistence();
  if (db == nullptr) {
    c.reply.Error("ERR TAIL needs a data directory (this server keeps no log)");
    return;
  }
  uint64_t start = 0;
  Status s = c.commands.tail_feed().Start(db, c.session, c.argv[1], static_cast<uint64_t>(from_lsn),
                                            &start);
  if (!s.ok()) {
    c.reply.Error("ERR TAIL " + std::string(s.message()));
    return;
  }
  // Then the changes follow, posted by the feed thread after this reply.
  c.reply.ArrayHeader(3);
  c.reply.Bulk("tail");
  c.reply.Bulk(c.argv[1]);
  c.reply.Integer(static_cast<int64_t>(start));
}

}  // namespace memento::daemon
