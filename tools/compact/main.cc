// memento-compact: offline compaction of a stopped daemon's data directory, and
// --check, a read-only verification that also runs alongside a daemon.
// docs/tools/compact.md is the user's manual; compactor.h and checker.h say how.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/logging.h"
#include "storage/wal/wal.h"
#include "tools/common/tool_common.h"
#include "tools/compact/checker.h"
#include "tools/compact/compactor.h"

namespace memento::tools {
namespace {

constexpr char kProgram[] = "memento-compact";

constexpr char kHelp[] =
    "Usage: memento-compact --data-dir DIR [--wal-recovery=strict|truncate]\n"
    "       memento-compact --check --data-dir DIR\n"
    "\n"
    "Compacts a stopped memento's data directory: folds the write-ahead log into the\n"
    "snapshot, drops expired keys, rewrites the LMDB file without its free pages and\n"
    "deletes the log segments the snapshot covers. Refused while a memento runs on the\n"
    "directory. A crash at any point leaves the directory as the daemon can recover it.\n"
    "\n"
    "With --check: verifies every checksum and record of the snapshot and of every log\n"
    "segment, changing nothing (also while a memento runs); exit 1 if anything is wrong.\n"
    "\n"
    "Options:\n"
    "  -d, --data-dir DIR        the data directory (storage.data_dir of the daemon)\n"
    "      --check               verify only, read-only\n"
    "      --wal-recovery MODE   strict (default): refuse a damaged log, naming the file\n"
    "                            and offset; truncate: keep its valid prefix and move the\n"
    "                            rest aside as *.dropped files (the daemon's option)\n"
    "      --progress            draw progress on stderr even when it is not a terminal\n"
    "  -q, --quiet               no progress line\n"
    "  -h, --help                this text\n"
    "  -v, --version             the version\n"
    "\n"
    "Exit codes: 0 done (--check: clean), 1 failure (--check: problems found), 2 usage.\n"
    "Manual: docs/tools/compact.md\n";

int Usage(const std::string& message) {
  std::fprintf(stderr, "%s: %s\nTry '%s --help'.\n", kProgram, message.c_str(), kProgram);
  return kExitUsage;
}

// Testing only (compactor.h names the steps):
//   MEMENTO_COMPACT_CRASH_AT=<step>  the process kills itself with SIGKILL once <step> is
//                                    done, as a crash or kill -9 would end it there;
//   MEMENTO_COMPACT_STOP_AT=<step>   it stops itself (SIGSTOP) there, holding the lock,
//                                    until a SIGCONT.
const char* g_crash_at = nullptr;
const char* g_stop_at = nullptr;
void StepForTesting(const char* step) {
  if (g_stop_at != nullptr && std::strcmp(g_stop_at, step) == 0) ::raise(SIGSTOP);
  if (g_crash_at != nullptr && std::strcmp(g_crash_at, step) == 0) {
    std::fprintf(stderr, "%s: MEMENTO_COMPACT_CRASH_AT=%s: killing myself\n", kProgram, step);
    std::fflush(stderr);
    ::kill(::getpid(), SIGKILL);
    ::_exit(137);  // not reached
  }
}

std::string Bytes(uint64_t n) { return WithThousands(n); }

void PrintResult(const CompactOptions& options, const CompactResult& r) {
  const uint64_t total_before = r.snapshot_bytes_before + r.wal_bytes_before;
  const uint64_t total_after = r.snapshot_bytes_after + r.wal_bytes_after;
  std::printf("memento-compact %s: done in %.1f s\n", options.data_dir.c_str(),
              static_cast<double>(r.micros) / 1e6);
  std::printf("  %-9s %18s %18s\n", "bytes", "before", "after");
  std::printf("  %-9s %18s %18s\n", "snapshot", Bytes(r.snapshot_bytes_before).c_str(),
              Bytes(r.snapshot_bytes_after).c_str());
  std::printf("  %-9s %18s %18s   (%s -> %s segments)\n", "wal", Bytes(r.wal_bytes_before).c_str(),
              Bytes(r.wal_bytes_after).c_str(), WithThousands(r.segments_before).c_str(),
              WithThousands(r.segments_after).c_str());
  // The exact figures above, for scripts and for comparing with `ls -l`; the total
  // also as people read it.
  std::printf("  %-9s %18s %18s   (%s -> %s", "total", Bytes(total_before).c_str(),
              Bytes(total_after).c_str(), HumanBytes(total_before).c_str(),
              HumanBytes(total_after).c_str());
  if (total_before > 0) {
    std::printf(", %.1f%% of before",
                100.0 * static_cast<double>(total_after) / static_cast<double>(total_before));
  }
  std::printf(")");
  std::printf("\n  keys      %s (%s expired keys dropped), %s log records folded, LSN %llu\n",
              WithThousands(r.keys).c_str(), WithThousands(r.expired_dropped).c_str(),
              WithThousands(r.records_folded).c_str(), static_cast<unsigned long long>(r.lsn));
}

int Main(int argc, char** argv) {
  std::string data_dir;
  bool check = false;
  bool have_recovery = false;
  wal::RecoveryMode recovery = wal::RecoveryMode::kStrict;
  ProgressMode progress = ProgressMode::kAuto;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    bool has_value = false;
    if (arg.starts_with("--")) {
      const size_t eq = arg.find('=');
      if (eq != std::string_view::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_value = true;
      }
    }
    auto take_value = [&](std::string_view* out) {
      if (has_value) {
        *out = value;
        return true;
      }
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    auto no_value = [&]() { return !has_value; };
    if (arg == "-h" || arg == "--help") {
      if (!no_value()) return Usage("--help takes no value");
      std::fputs(kHelp, stdout);
      return kExitOk;
    } else if (arg == "-v" || arg == "--version") {
      if (!no_value()) return Usage("--version takes no value");
      std::fputs(VersionLine(kProgram).c_str(), stdout);
      return kExitOk;
    } else if (arg == "-d" || arg == "--data-dir") {
      std::string_view v;
      if (!take_value(&v) || v.empty()) return Usage(std::string(arg) + " needs a directory");
      data_dir = std::string(v);
    } else if (arg == "--check") {
      if (!no_value()) return Usage("--check takes no value");
      check = true;
    } else if (arg == "--wal-recovery") {
      std::string_view v;
      if (!take_value(&v)) return Usage("--wal-recovery needs strict or truncate");
      if (!wal::ParseRecoveryMode(v, &recovery)) {
        return Usage("--wal-recovery: unknown mode '" + std::string(v) + "' (strict or truncate)");
      }
      have_recovery = true;
    } else if (arg == "--progress") {
      if (!no_value()) return Usage("--progress takes no value");
      progress = ProgressMode::kAlways;
    } else if (arg == "-q" || arg == "--quiet") {
      if (!no_value()) return Usage("--quiet takes no value");
      progress = ProgressMode::kNever;
    } else if (arg.starts_with("-")) {
      return Usage("unknown option '" + std::string(argv[i]) + "'");
    } else {
      return Usage("unexpected argument '" + std::string(arg) + "'");
    }
  }
  if (data_dir.empty()) return Usage("--data-dir DIR is required");
  if (check && have_recovery) {
    return Usage("--wal-recovery applies to compaction; --check changes nothing");
  }
  while (data_dir.size() > 1 && data_dir.back() == '/') data_dir.pop_back();

  if (check) {
    CheckOptions options;
    options.data_dir = data_dir;
    options.progress = progress;
    options.now_ms = NowMillis();
    CheckReport report;
    const Status s = CheckDataDir(options, &report);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", kProgram, s.ToString().c_str());
      return kExitFailure;
    }
    std::fputs(FormatCheckReport(options, report).c_str(), stdout);
    return report.ok() ? kExitOk : kExitFailure;
  }

  CompactOptions options;
  options.data_dir = data_dir;
  options.wal_recovery = recovery;
  options.progress = progress;
  options.now_ms = NowMillis();
  g_crash_at = std::getenv("MEMENTO_COMPACT_CRASH_AT");
  g_stop_at = std::getenv("MEMENTO_COMPACT_STOP_AT");
  if (g_crash_at != nullptr || g_stop_at != nullptr) options.step_for_testing = StepForTesting;
  CompactResult result;
  const Status s = CompactDataDir(options, &result);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", kProgram, s.ToString().c_str());
    return kExitFailure;
  }
  PrintResult(options, result);
  return kExitOk;
}

}  // namespace
}  // namespace memento::tools

int main(int argc, char** argv) { return memento::tools::Main(argc, argv); }
