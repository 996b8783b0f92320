// memento-cli's command line: flags, then an optional command (docs/tools/cli.md).
//   memento-cli [-h HOST] [-p PORT] [--text] [--raw|--no-raw] [-a PASSWORD] [COMMAND [ARG ...]]
//   memento-cli cluster init HOST:PORT [HOST:PORT ...] [--dir D] [--force]
//   memento-cli --help | --version
// -h is the host, as with redis-cli, so help is --help only.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "tools/cli/reply.h"

namespace memento::cli {

inline constexpr uint16_t kDefaultPort = 6737;

// How replies are printed (reply_format.h): as redis-cli, the terminal form when
// stdout is a terminal and the raw form when it is not, unless a flag says which.
enum class OutputForm : uint8_t { kAuto, kRaw, kTerminal };

struct CliOptions {
  std::string host = "127.0.0.1";
  uint16_t port = kDefaultPort;
  // RESP2, as redis-cli: Redis habits (SET k v EX 60, KEYS *, MGET) do what they do in
  // Redis. The text protocol (--text) would take them as something else: SET's value
  // is the rest of its line, KEYS takes a prefix, MGET replies a count line.
  client::Dialect dialect = client::Dialect::kResp;
  OutputForm output = OutputForm::kAuto;  // --raw: kRaw, --no-raw: kTerminal
  std::string password;
  bool help = false;
  bool version = false;
  // The words after the flags: a one-shot command (or "cluster init ..."); empty for
  // the prompt or commands read from stdin.
  std::vector<std::string> command;
};

// InvalidArgument naming the flag and what is wrong (the caller exits 2).
Result<CliOptions> ParseCliArgs(const std::vector<std::string>& args);

// What --help prints.
std::string CliUsage();

}  // namespace memento::cli
