#include "tools/cli/cli_options.h"

namespace memento::cli {

std::string CliUsage() {
  return "Usage: memento-cli [-h HOST] [-p PORT] [--text] [--raw | --no-raw] [-a PASSWORD]\n"
         "                   [COMMAND [ARG ...]]\n"
         "       memento-cli cluster init HOST:PORT [HOST:PORT ...] [--dir DIR] [--force]\n"
         "\n"
         "A client for the Memento daemon. With a COMMAND, runs it, prints the reply and\n"
         "exits; without, reads commands one per line from stdin when it is not a terminal,\n"
         "else opens a prompt with line editing and history (~/.memento_cli_history).\n"
         "\n"
         "  -h HOST      server host (default 127.0.0.1). Note: -h is the host, as with\n"
         "               redis-cli; help is --help only\n"
         "  -p PORT      server port (default 6737)\n"
         "  --text       speak Memento's text protocol (the original Memento's) instead of\n"
         "               RESP2, the default: there SET's value is the rest of the line\n"
         "               and KEYS takes a prefix\n"
         "  --resp       speak RESP2, Redis's protocol (the default; kept for scripts):\n"
         "               every command, as redis-cli, binary-safe values\n"
         "  --raw        print replies raw (GET prints the value, no quotes): the default\n"
         "               when stdout is not a terminal, as redis-cli\n"
         "  --no-raw     print replies as on a terminal (\"value\", (integer) 5, 1) ...)\n"
         "               also into a pipe\n"
         "  -a PASSWORD  send AUTH PASSWORD on every connection\n"
         "  --help       print this help and exit\n"
         "  --version    print the version and exit\n"
         "\n"
         "cluster init writes node0.toml, node1.toml, ... (one per node, in the order\n"
         "given) into DIR (default: the current directory); --force overwrites them.\n"
         "\n"
         "At the prompt, 'help' lists the commands and 'help COMMAND' describes one.\n"
         "Exit codes: 0 ok, 1 an error (connection, or an error reply), 2 bad usage.\n"
         "Documentation: docs/tools/cli.md.\n";
}

Result<CliOptions> ParseCliArgs(const std::vector<std::string>& args) {
  CliOptions options;
  size_t i = 0;
  auto value_of = [&](const std::string& flag, std::string* out) -> Status {
    if (i + 1 >= args.size()) {
      std::string hint = flag == "-h" ? " (-h is the host; for help use --help)" : "";
      return Status::InvalidArgument(flag + " needs a value" + hint);
    }
    *out = args[++i];
    return Status::OK();
  };
  for (; i < args.size(); i++) {
    const std::string& arg = args[i];
    if (arg == "--") {
      i++;
      break;
    }
    if (arg.empty() || arg[0] != '-') break;  // the command starts here
    if (arg == "--help") {
      options.help = true;
    } else if (arg == "--version") {
      options.version = true;
    } else if (arg == "--resp") {
      options.dialect = client::Dialect::kResp;
    } else if (arg == "--text") {
      options.dialect = client::Dialect::kText;
    } else if (arg == "--raw") {
      options.output = OutputForm::kRaw;
    } else if (arg == "--no-raw") {
      options.output = OutputForm::kTerminal;
    } else if (arg == "-h") {
      MEMENTO_RETURN_IF_ERROR(value_of(arg, &options.host));
      if (options.host.empty()) return Status::InvalidArgument("-h: the host is empty");
    } else if (arg == "-a") {
      MEMENTO_RETURN_IF_ERROR(value_of(arg, &options.password));
    } else if (arg == "-p") {
      std::string text;
      MEMENTO_RETURN_IF_ERROR(value_of(arg, &text));
      uint32_t port = 0;
      bool ok = !text.empty() && text.size() <= 5;
      for (char c : text) {
        if (c < '0' || c > '9') ok = false;
        port = port * 10 + static_cast<uint32_t>(c - '0');
      }
      if (!ok || port < 1 || port > 65535) {
        return Status::InvalidArgument("-p '" + text + "': the port must be 1-65535");
      }
      options.port = static_cast<uint16_t>(port);
    } else {
      return Status::InvalidArgument("unknown flag '" + arg + "' (memento-cli --help lists them)");
    }
  }
  options.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  return options;
}

}  // namespace memento::cli
