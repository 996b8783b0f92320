// memento-benchmark: load generator and checker for Memento (and Redis) servers.
// Flags: options.h (--help); what it measures: load_runner.h; output: report.h;
// docs/tools/benchmark.md for the user's view.
#include <cstdio>
#include <string>
#include <vector>

#include "tools/benchmark/load_runner.h"
#include "tools/benchmark/options.h"
#include "tools/benchmark/report.h"
#include "tools/common/tool_common.h"

namespace {

using memento::benchmark::OutputFormat;
using memento::benchmark::PhaseResult;

constexpr char kProgram[] = "memento-benchmark";

int Main(int argc, char** argv) {
  auto opts = memento::benchmark::ParseOptions(argc, argv);
  if (!opts.ok()) {
    fprintf(stderr, "%s: %s\nTry '%s --help'.\n", kProgram,
            std::string(opts.status().message()).c_str(), kProgram);
    return memento::tools::kExitUsage;
  }
  if (opts->help) {
    fputs(memento::benchmark::UsageText().c_str(), stdout);
    return memento::tools::kExitOk;
  }
  if (opts->version) {
    fputs(memento::tools::VersionLine(kProgram).c_str(), stdout);
    return memento::tools::kExitOk;
  }

  const memento::benchmark::LoadConfig& config = opts->load;
  const std::string described = memento::benchmark::DescribeConfig(config);
  if (opts->format == OutputFormat::kTable) {
    printf("%s: %s\n", kProgram, described.c_str());
    fflush(stdout);
  }

  std::vector<PhaseResult> results;
  uint64_t errors = 0;
  for (memento::benchmark::PhaseKind kind : opts->phases) {
    auto result = memento::benchmark::RunPhase(config, kind);
    if (!result.ok()) {
      fprintf(stderr, "%s: %s\n", kProgram, std::string(result.status().message()).c_str());
      return memento::tools::kExitFailure;
    }
    errors += result->errors;
    for (const std::string& sample : result->error_samples) {
      fprintf(stderr, "%s: %s: %s\n", kProgram,
              std::string(memento::benchmark::PhaseName(kind)).c_str(), sample.c_str());
    }
    if (result->errors > result->error_samples.size()) {
      fprintf(stderr, "%s: %s: ... %llu errors in all\n", kProgram,
              std::string(memento::benchmark::PhaseName(kind)).c_str(),
              static_cast<unsigned long long>(result->errors));
    }
    results.push_back(std::move(result).value());
  }

  switch (opts->format) {
    case OutputFormat::kTable:
      fputs(memento::benchmark::FormatTable(results).c_str(), stdout);
      break;
    case OutputFormat::kCsv:
      fputs(memento::benchmark::FormatCsv(results).c_str(), stdout);
      break;
    case OutputFormat::kJson:
      fputs(memento::benchmark::FormatJson(config, results).c_str(), stdout);
      break;
  }
  fflush(stdout);
  if (errors != 0) {
    fprintf(stderr, "%s: %llu wrong or missing replies: the figures above are not valid\n",
            kProgram, static_cast<unsigned long long>(errors));
    return memento::tools::kExitFailure;
  }
  return memento::tools::kExitOk;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
