// memento-cli: Memento's command-line client (docs/tools/cli.md). Only wiring lives
// here: flags (cli_options), quoting (split_args), the connection (client), reply
// printing (reply_format), help (command_help) and cluster init (cluster_init).

#include <editline/readline.h>
#include <langinfo.h>
#include <unistd.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/strings.h"
#include "tools/cli/cli_options.h"
#include "tools/cli/client.h"
#include "tools/cli/cluster_init.h"
#include "tools/cli/command_help.h"
#include "tools/cli/reply_format.h"
#include "tools/cli/split_args.h"
#include "tools/common/tool_common.h"

namespace memento::cli {
namespace {

using client::Client;
using client::Reply;
using tools::kExitFailure;
using tools::kExitOk;
using tools::kExitUsage;

constexpr int kHistoryLines = 1000;

void Print(const std::string& text) {
  fwrite(text.data(), 1, text.size(), stdout);
  fflush(stdout);
}

// One user's session with one server: runs commands, prints their replies, counts
// errors. Connection failures are reported per command and never end the session.
class Session {
 public:
  explicit Session(const CliOptions& options)
      : options_(options),
        raw_(options.output == OutputForm::kRaw ||
             (options.output == OutputForm::kAuto && isatty(STDOUT_FILENO) != 1)) {}

  // Connects now (the prompt) instead of at the first command.
  void ConnectEarly() {
    Status s = client_.Connect(options_.host, options_.port, options_.dialect, options_.password);
    configured_ = true;
    if (s.ok()) {
      was_connected_ = true;
    } else {
      ReportConnectError(s);
    }
  }

  std::string Prompt() const {
    if (!client_.connected()) return "not connected> ";
    return client_.Address() + "> ";
  }

  // Runs one command (already split into words). Returns true if it failed: an error
  // reply, a connection failure, a command the protocol cannot carry, unknown help.
  bool Execute(const std::vector<std::string>& argv) {
    if (EqualsIgnoreCase(argv[0], "HELP")) return Help(argv);
    if (!configured_) {
      Status s = client_.Connect(options_.host, options_.port, options_.dialect,
                                 options_.password);
      configured_ = true;
      if (!s.ok()) {
        ReportConnectError(s);
        return true;
      }
      was_connected_ = true;
    } else {
      Result<bool> fresh = client_.EnsureConnected();
      if (!fresh.ok()) {
        ReportConnectError(fresh.status());
        return true;
      }
      if (*fresh && was_connected_) {
        fprintf(stderr, "memento-cli: the connection was closed; reconnected to %s\n",
                client_.Address().c_str());
      }
      was_connected_ = true;
    }
    Result<Reply> reply = client_.Command(argv);
    if (!reply.ok()) {
      if (reply.status().IsInvalidArgument()) {
        Print("(error) " + std::string(reply.status().message()) + "\n");
      } else {
        fprintf(stderr, "memento-cli: %s (the next command reconnects)\n",
                std::string(reply.status().message()).c_str());
      }
      return true;
    }
    if (raw_) {
      Print(FormatReplyRaw(*reply));
      return reply->IsError();
    }
    // A command whose text reply is a block of lines and whose RESP reply is one bulk
    // (INFO, CLUSTERINFO, CLUSTER INFO, CLUSTER NODES; KEYS and MGET reply arrays).
    const bool lines_bulk = client::TextShapeOfRequest(argv) == client::TextShape::kBlock;
    if (lines_bulk && reply->type == Reply::Type::kBulk) {
      // As redis-cli: a bulk of lines (INFO, CLUSTER INFO, CLUSTER NODES) is printed
      // as the lines it holds, not quoted.
      std::string text;
      for (char c : reply->str) {
        if (c != '\r') text += c;
      }
      if (!text.empty() && text.back() != '\n') text += '\n';
      Print(text);
      return false;
    }
    Print(FormatReply(*reply));
    return reply->IsError();
  }

 private:
  bool Help(const std::vector<std::string>& argv) {
    const HelpTable& help = BuiltinHelp();
    if (argv.size() == 1) {
      Print(help.Overview());
      return false;
    }
    std::string text = help.HelpFor(argv[1]);
    if (argv.size() == 2 && !text.empty()) {
      Print(text);
      return false;
    }
    Print("(error) no help for '" + argv[1] +
          "': docs/protocol.md documents no such command ('help' lists them)\n");
    return true;
  }

  void ReportConnectError(const Status& s) {
    fprintf(stderr, "memento-cli: could not connect to Memento: %s\n",
            std::string(s.message()).c_str());
  }

  const CliOptions& options_;
  const bool raw_;  // redis-cli's raw form (reply_format.h), else the terminal form
  Client client_;
  bool configured_ = false;
  bool was_connected_ = false;
};

int RunOneShot(Session& session, const std::vector<std::string>& argv) {
  return session.Execute(argv) ? kExitFailure : kExitOk;
}

int RunPiped(Session& session) {
  bool failed = false;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    Result<std::vector<std::string>> words = SplitArgs(line);
    if (!words.ok()) {
      Print("(error) invalid arguments: " + std::string(words.status().message()) + "\n");
      failed = true;
      continue;
    }
    if (words->empty()) continue;
    if (session.Execute(*words)) failed = true;
  }
  return failed ? kExitFailure : kExitOk;
}

// libedit reads keys as characters of LC_CTYPE's encoding. A program starts in the
// "C" locale whatever the environment says, and there libedit drops every byte above
// 0x7f: `SET café Zoë` would send `SET caf Zo`. So the prompt takes the environment's
// LC_CTYPE (LC_CTYPE only: LC_NUMERIC would change how numbers print). When that is
// ASCII-only ("C", "POSIX", LANG unset, or a locale that is not installed), a UTF-8
// one is taken instead, since terminals send UTF-8 and an ASCII locale cannot carry
// those bytes anyway; an 8-bit locale (ISO-8859-1, ...) the user chose is kept.
// Returns false if no locale could carry the bytes (the caller warns).
bool UsePromptLocale() {
  const char* chosen = setlocale(LC_CTYPE, "");
  const std::string_view codeset = nl_langinfo(CODESET);
  if (chosen != nullptr && codeset != "ANSI_X3.4-1968" && codeset != "ASCII") return true;
  for (const char* utf8 : {"C.UTF-8", "C.utf8", "en_US.UTF-8"}) {
    if (setlocale(LC_CTYPE, utf8) != nullptr) return true;
  }
  setlocale(LC_CTYPE, "C");
  return false;
}

int RunInteractive(Session& session) {
  if (!UsePromptLocale()) {
    fprintf(stderr,
            "memento-cli: no UTF-8 locale is installed (C.UTF-8): bytes outside ASCII "
            "typed at the prompt are lost (pipe the commands, or install the locales "
            "package)\n");
  }
  std::string history;
  if (const char* home = getenv("HOME"); home != nullptr && home[0] != '\0') {
    history = std::string(home) + "/.memento_cli_history";
  }
  using_history();
  stifle_history(kHistoryLines);
  if (!history.empty()) read_history(history.c_str());
  session.ConnectEarly();
  for (;;) {
    char* raw = readline(session.Prompt().c_str());
    if (raw == nullptr) break;  // Ctrl-D
    std::string line(raw);
    free(raw);
    Result<std::vector<std::string>> words = SplitArgs(line);
    if (!words.ok()) {
      Print("(error) invalid arguments: " + std::string(words.status().message()) + "\n");
      continue;
    }
    if (words->empty()) continue;
    // As redis-cli: a password typed with AUTH stays out of the history file.
    if (!EqualsIgnoreCase(words->front(), "AUTH")) {
      add_history(line.c_str());
      // Written after every line, so a killed session keeps its history too.
      if (!history.empty()) write_history(history.c_str());
    }
    // QUIT, EXIT: the server closes the connection after them.
    if (client::TextShapeOf(words->front()) == client::TextShape::kNone) break;
    session.Execute(*words);
  }
  return kExitOk;
}

int RunClusterInit(const std::vector<std::string>& args) {
  std::vector<std::string> addresses;
  std::string dir = ".";
  bool force = false;
  for (size_t i = 0; i < args.size(); i++) {
    if (args[i] == "--dir") {
      if (i + 1 >= args.size() || args[i + 1].empty()) {
        fprintf(stderr, "memento-cli: cluster init: --dir needs a directory\n");
        return kExitUsage;
      }
      dir = args[++i];
    } else if (args[i] == "--force") {
      force = true;
    } else if (args[i].starts_with("--")) {
      fprintf(stderr, "memento-cli: cluster init: unknown flag '%s' (--dir D, --force)\n",
              args[i].c_str());
      return kExitUsage;
    } else {
      addresses.push_back(args[i]);
    }
  }
  Result<std::vector<NodeAddress>> nodes = ParseClusterNodes(addresses);
  if (!nodes.ok()) {
    fprintf(stderr, "memento-cli: cluster init: %s\n", std::string(nodes.status().message()).c_str());
    return kExitUsage;
  }
  std::vector<std::string> written;
  Status s = WriteClusterConfigs(*nodes, dir, force, &written);
  for (const std::string& path : written) printf("wrote %s\n", path.c_str());
  if (!s.ok()) {
    fprintf(stderr, "memento-cli: cluster init: %s\n", std::string(s.message()).c_str());
    return s.IsInvalidArgument() ? kExitUsage : kExitFailure;
  }
  printf("start each node from %s with: memento -f node<i>.toml\n", dir.c_str());
  return kExitOk;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Result<CliOptions> options = ParseCliArgs(args);
  if (!options.ok()) {
    fprintf(stderr, "memento-cli: %s\n", std::string(options.status().message()).c_str());
    return kExitUsage;
  }
  if (options->help) {
    Print(CliUsage());
    return kExitOk;
  }
  if (options->version) {
    Print(tools::VersionLine("memento-cli"));
    return kExitOk;
  }
  const std::vector<std::string>& command = options->command;
  if (command.size() >= 2 && EqualsIgnoreCase(command[0], "CLUSTER") &&
      EqualsIgnoreCase(command[1], "INIT")) {
    return RunClusterInit(std::vector<std::string>(command.begin() + 2, command.end()));
  }
  Session session(*options);
  if (!command.empty()) return RunOneShot(session, command);
  if (isatty(STDIN_FILENO) != 1) return RunPiped(session);
  return RunInteractive(session);
}

}  // namespace
}  // namespace memento::cli

int main(int argc, char** argv) { return memento::cli::Main(argc, argv); }
