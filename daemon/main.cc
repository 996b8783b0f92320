// memento: the daemon's entry point. Only wiring: parse the command line, then run.
#include <cstdio>
#include <string>

#include "common/logging.h"
#include "common/version.h"
#include "daemon/config.h"
#include "daemon/daemon.h"

int main(int argc, char** argv) {
  using namespace memento;
  Result<daemon::CommandLine> cmd = daemon::ParseCommandLine(argc, argv);
  if (!cmd.ok()) {
    std::fprintf(stderr, "memento: %s\nTry 'memento --help'.\n",
                 std::string(cmd.status().message()).c_str());
    // A bad flag or config file is a usage error (2); a failure to start is 1.
    return 2;
  }
  if (cmd->show_help) {
    std::fputs(daemon::UsageText("memento").c_str(), stdout);
    return 0;
  }
  if (cmd->show_version) {
    std::printf("memento %s\n", kVersion);
    return 0;
  }
  log::Level level = log::Level::kInfo;
  log::ParseLevel(cmd->config.log_level, &level);  // validated by the config parser
  log::SetLevel(level);
  return daemon::RunUntilSignalled(cmd->config);
}
