// Client: a blocking connection to a Memento daemon that sends one command at a time
// and reads its whole reply, in either protocol (docs/protocol.md). memento-cli uses
// it; memento-benchmark may reuse it (and ReplyReader alone for pipelined traffic).
//
//   Client client;
//   Status s = client.Connect("127.0.0.1", 6737, Dialect::kResp);
//   Result<Reply> r = client.Command({"SET", "k", "v"});
//
// Lost connections: a command that fails on the wire (the daemon closed the
// connection, or restarted) returns an IOError and leaves the client disconnected.
// The next Command() connects again first, and so does a Command() that finds the
// connection closed by the server since the last reply (an idle time-out, a restart
// between two commands). A command is never sent twice: one whose reply was lost is
// reported, not retried, since it may have run.
//
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "tools/cli/reply.h"
#include "tools/cli/reply_reader.h"

namespace memento::client {

class Client {
 public:
  Client() = default;
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects to host:port (a name, an IPv4 or an IPv6 literal) and, if `password`
  // is not empty, authenticates with AUTH. Remembers all four for reconnecting.
  // Errors: IOError naming host:port and the reason (refused, unknown host, ...);
  // InvalidArgument with the server's reply if AUTH was refused.
  Status Connect(std::string host, uint16_t port, Dialect dialect, std::string password = "");

  // Makes sure there is a live connection, connecting again if it was lost or the
  // server closed it. Returns true if a new connection was made by this call (so a
  // caller can say "reconnected"). REQUIRES: Connect() was called once.
  Result<bool> EnsureConnected();

  // Sends argv as one request and returns its whole reply (error replies included:
  // see Reply::IsError). In the text dialect the words are joined by spaces, so:
  // no word may be empty or hold CR or LF, and only the value of SET, APPEND and
  // PREPEND (their last word) may hold spaces or tabs, not at its start: else
  // InvalidArgument, and nothing is sent. QUIT/EXIT in the text dialect return a
  // kNone reply once the server has closed the connection.
  // REQUIRES: !argv.empty(), Connect() was called once.
  Result<Reply> Command(const std::vector<std::string>& argv);

  void Close();
  bool connected() const { return fd_ >= 0; }
  Dialect dialect() const { return dialect_; }
  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  // "127.0.0.1:6737" ("[::1]:6737" for IPv6 literals).
  std::string Address() const;

 private:
  Status Open();
  // True if the server closed the connection (or sent bytes nobody asked for).
  bool PeerClosed() const;
  Status SendAll(std::string_view bytes);
  // Reads until the reader has one whole reply of `shape`.
  Result<Reply> ReadReply(TextShape shape);
  // Reads until the server closes the connection (text QUIT/EXIT).
  Result<Reply> ReadUntilClosed();

  std::string host_;
  uint16_t port_ = 0;
  Dialect dialect_ = Dialect::kText;
  std::string password_;
  int fd_ = -1;
  ReplyReader reader_{Dialect::kText};
};

// Encodes argv as one request of `dialect` (see Client::Command for the text rules).
Result<std::string> EncodeRequest(Dialect dialect, const std::vector<std::string>& argv);

}  // namespace memento::client
