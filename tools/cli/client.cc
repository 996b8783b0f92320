#include "tools/cli/client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace memento::client {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

}  // namespace

Result<std::string> EncodeRequest(Dialect dialect, const std::vector<std::string>& argv) {
  std::string out;
  if (dialect == Dialect::kResp) {
    out += "*" + std::to_string(argv.size()) + "\r\n";
    for (const std::string& arg : argv) {
      out += "$" + std::to_string(arg.size()) + "\r\n";
      out += arg;
      out += "\r\n";
    }
    return out;
  }
  if (TextReplyUnframable(argv)) {
    return Status::InvalidArgument(argv[0] + " " + argv[1] +
                                   " replies nested arrays, which the text protocol cannot "
                                   "frame (use --resp)");
  }
  const bool rest_of_line = argv.size() == 3 && proto::TakesRestOfLine(argv[0]);
  for (size_t i = 0; i < argv.size(); i++) {
    const std::string& arg = argv[i];
    const std::string where = "argument " + std::to_string(i + 1) + " of " + argv[0];
    if (arg.empty()) {
      return Status::InvalidArgument(where +
                                     " is empty: the text protocol cannot send an empty "
                                     "word (use --resp)");
    }
    if (arg.find_first_of("\r\n") != std::string::npos) {
      return Status::InvalidArgument(where +
                                     " holds CR or LF: the text protocol is line based "
                                     "(use --resp)");
    }
    const bool last_value = rest_of_line && i == 2;
    if (arg.find_first_of(" \t") != std::string::npos &&
        (!last_value || arg[0] == ' ' || arg[0] == '\t')) {
      return Status::InvalidArgument(
          where + (last_value ? " starts with a space or tab" : " holds a space or tab") +
          ": the text protocol cannot send it (only the value of SET, APPEND and PREPEND "
          "may hold spaces, not at its start; use --resp)");
    }
    if (i != 0) out += ' ';
    out += arg;
  }
  out += "\r\n";
  return out;
}

Client::~Client() { Close(); }

void Client::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  reader_.Reset();
}

std::string Client::Address() const {
  if (host_.find(':') != std::string::npos) return "[" + host_ + "]:" + std::to_string(port_);
  return host_ + ":" + std::to_string(port_);
}

Status Client::Connect(std::string host, uint16_t port, Dialect dialect, std::string password) {
  host_ = std::move(host);
  port_ = port;
  dialect_ = dialect;
  password_ = std::move(password);
  return Open();
}

Status Client::Open() {
  Close();
  reader_ = ReplyReader(dialect_);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(port_);
  if (int rc = ::getaddrinfo(host_.c_str(), port_text.c_str(), &hints, &found); rc != 0) {
    return Status::IOError("connect to " + Address() + ": " + gai_strerror(rc));
  }
  int last_errno = 0;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      fd_ = fd;
      break;
    }
    last_errno = errno;
    ::close(fd);
  }
  ::freeaddrinfo(found);
  if (fd_ < 0) return Status::FromErrno("connect to " + Address(), last_errno);
  if (!password_.empty()) {
    Result<Reply> reply = Command({"AUTH", password_});
    if (!reply.ok()) return reply.status();
    if (reply->IsError()) {
      std::string text = reply->type == Reply::Type::kError ? reply->str : reply->lines.front();
      Close();
      return Status::InvalidArgument("AUTH at " + Address() + " refused: " + text);
    }
  }
  return Status::OK();
}

bool Client::PeerClosed() const {
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;  // nothing to read: alive
  // Readable before we asked anything: either EOF or bytes nobody asked for (an
  // error line the server sent before closing). Neither connection can be trusted
  // for the next reply.
  return true;
}

Result<bool> Client::EnsureConnected() {
  if (fd_ >= 0 && !PeerClosed()) return false;
  MEMENTO_RETURN_IF_ERROR(Open());
  return true;
}

Status Client::SendAll(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Status::FromErrno("send to " + Address(), errno);
      Close();
      return s;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Result<Reply> Client::ReadReply(TextShape shape) {
  char chunk[kReadChunk];
  uint64_t received = 0;
  for (;;) {
    Result<std::optional<Reply>> next = reader_.Next(shape);
    if (!next.ok()) {
      Close();
      return Status::Corruption("reply from " + Address() + ": " +
                                std::string(next.status().message()));
    }
    if (next->has_value()) return std::move(**next);
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = n == 0 ? Status::IOError("connection to " + Address() +
                                          " closed by the server before the whole reply (" +
                                          std::to_string(received) + " bytes of it read)")
                        : Status::FromErrno("receive from " + Address(), errno);
      Close();
      return s;
    }
    received += static_cast<uint64_t>(n);
    reader_.Feed(std::string_view(chunk, static_cast<size_t>(n)));
  }
}

Result<Reply> Client::ReadUntilClosed() {
  char chunk[4096];
  std::string extra;
  for (;;) {
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    extra.append(chunk, static_cast<size_t>(n));
  }
  Close();
  if (extra.empty()) {
    Reply none;
    none.type = Reply::Type::kNone;
    return none;
  }
  // Something came back after all (the daemon refused the request): show it.
  ReplyReader reader(Dialect::kText);
  reader.Feed(extra);
  Reply text = Reply::Text({});
  for (;;) {
    Result<std::optional<Reply>> next = reader.Next(TextShape::kLine);
    if (!next.ok() || !next->has_value()) break;
    text.lines.push_back((**next).lines.front());
  }
  return text;
}

Result<Reply> Client::Command(const std::vector<std::string>& argv) {
  Result<std::string> request = EncodeRequest(dialect_, argv);
  if (!request.ok()) return request.status();
  Result<bool> connected = EnsureConnected();
  if (!connected.ok()) return connected.status();
  MEMENTO_RETURN_IF_ERROR(SendAll(*request));
  const TextShape shape = TextShapeOfRequest(argv);
  if (dialect_ == Dialect::kText && shape == TextShape::kNone) return ReadUntilClosed();
  return ReadReply(shape);
}

}  // namespace memento::client
