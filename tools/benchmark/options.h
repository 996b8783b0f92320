// memento-benchmark's command line: flags into Options, and the --help text.
//
// Every flag that takes a value accepts both "--flag value" and "--flag=value";
// -h and -p take theirs as the next argument. --help has no short form: -h is the host
// (as redis-benchmark's).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "tools/benchmark/load_runner.h"
#include "tools/benchmark/workload.h"

namespace memento::benchmark {

enum class OutputFormat { kTable, kCsv, kJson };

struct Options {
  LoadConfig load;
  std::vector<PhaseKind> phases;  // in order; all four by default
  OutputFormat format = OutputFormat::kTable;
  bool help = false;
  bool version = false;
};

// Parses argv[1..argc). Errors: InvalidArgument naming the flag and what was wrong
// ("--threads: '0' is not a whole number from 1 to 1024"); the caller prints it and
// exits with kExitUsage.
Result<Options> ParseOptions(int argc, const char* const* argv);

// The --help text.
std::string UsageText();

}  // namespace memento::benchmark
