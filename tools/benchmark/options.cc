#include "tools/benchmark/options.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "common/numbers.h"

namespace memento::benchmark {

namespace {

Status Bad(std::string_view flag, std::string_view value, std::string_view what) {
  return Status::InvalidArgument(std::string(flag) + ": '" + std::string(value) + "' is not " +
                                 std::string(what));
}

Status ParseCount(std::string_view flag, std::string_view text, int64_t lo, int64_t hi,
                  int64_t* out) {
  int64_t v = 0;
  if (!ParseInt64(text, &v) || v < lo || v > hi) {
    return Bad(flag, text,
               "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  *out = v;
  return Status::OK();
}

// "1:10" -> 1, 10. Both parts whole numbers, not both zero.
Status ParseRatio(std::string_view text, uint32_t* set, uint32_t* get) {
  const size_t colon = text.find(':');
  int64_t s = 0;
  int64_t g = 0;
  if (colon == std::string_view::npos || !ParseInt64(text.substr(0, colon), &s) ||
      !ParseInt64(text.substr(colon + 1), &g) || s < 0 || g < 0 || s > 1'000'000 ||
      g > 1'000'000 || s + g == 0) {
    return Bad("--ratio", text, "SET:GET, two whole numbers such as 1:10 (not both 0)");
  }
  *set = static_cast<uint32_t>(s);
  *get = static_cast<uint32_t>(g);
  return Status::OK();
}

Status ParsePhases(std::string_view text, std::vector<PhaseKind>* phases) {
  phases->clear();
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const std::string_view name =
        text.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                            : comma - start);
    PhaseKind kind;
    if (!ParsePhaseName(name, &kind)) {
      return Bad("--phase", name, "a phase: set, get, grow or mixed");
    }
    phases->push_back(kind);
    if (comma == std::string_view::npos) return Status::OK();
    start = comma + 1;
  }
}

}  // namespace

Result<Options> ParseOptions(int argc, const char* const* argv) {
  Options opts;
  bool saw_requests = false;
  bool saw_duration = false;
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    std::string_view flag = arg;
    std::string_view value;
    bool has_value = false;
    if (arg.substr(0, 2) == "--") {
      const size_t eq = arg.find('=');
      if (eq != std::string_view::npos) {
        flag = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        has_value = true;
      }
    }
    // The flag's value: after '=' or the next argument.
    auto take = [&](std::string_view* out) -> Status {
      if (has_value) {
        *out = value;
        return Status::OK();
      }
      if (i + 1 >= argc) return Status::InvalidArgument(std::string(flag) + " needs a value");
      *out = argv[++i];
      return Status::OK();
    };
    auto no_value = [&]() -> Status {
      if (has_value) return Status::InvalidArgument(std::string(flag) + " takes no value");
      return Status::OK();
    };
    std::string_view v;
    int64_t n = 0;
    if (flag == "--help") {
      MEMENTO_RETURN_IF_ERROR(no_value());
      opts.help = true;
    } else if (flag == "--version") {
      MEMENTO_RETURN_IF_ERROR(no_value());
      opts.version = true;
    } else if (flag == "-h" || flag == "--host") {
      MEMENTO_RETURN_IF_ERROR(take(&v));
      if (v.empty()) return Bad(flag, v, "a host name or address");
      opts.load.host = std::string(v);
    } else if (flag == "-p" || flag == "--port") {
      MEMENTO_RETURN_IF_ERROR(take(&v));
      MEMENTO_RETURN_IF_ERROR(ParseCount(flag, v, 1, 65535, &n));
      opts.load.port = static_cast<uint16_t>(n);
    } else if (flag == "--threads") {
      MEMENTO_RETURN_IF_ERROR(take(&v));
      MEMENTO_RETURN_IF_ERROR(ParseCount(flag, v, 1, 1024, &n));
      opts.load.threads = static_cast<int>(n);
    } else if (flag == "--connections") {
      MEMENTO_RETURN_IF_ERROR(take(&v));
      MEMENTO_RETURN_IF_ERROR(ParseCount(flag, v, 1, 100'000, &n));
      opts.load.connections = static_cast<int>(n);
    } else if (flag == "--pipeline") {
      MEMENTO_RETURN_IF_ERROR(take(&v));
      MEMENTO_RETURN_IF_ERROR(ParseCount(flag, v, 1, 100'000, &n));
      opts.load.pipeline = static_cast<int>(n);
    } else if (flag == "--requests") {
      MEMENTO_RETURN_IF_ERROR(take(&v));
      MEMENTO_RETURN_IF_ERROR(ParseCount(flag, v, 1, int64_t{1} << 40, &n));
      opts.load.requests = static_cast<uint64_t>(n);
      saw_requests = true;
    } else if (flag == "--duration") {
      MEMENTO_RETURN_IF_ERROR(take(&v));
      double secs = 0;
      if (!ParseFiniteDouble(v, &secs) || secs <= 0 || secs > 86'400) {
        return Bad(flag, v, "a number of seconds above 0 (at most 86400)");
      }
      opts.load.duration_s = secs;
      saw_duration = true;
    } else if (flag == "--keyspace") {
      MEMENTO_RETURN_IF_ERROR(take(&v));
      MEMENTO_RETURN_IF_ERROR(ParseCount(flag, v, 1, 1'000'000'000, &n));
      opts.load.keyspace = static_cast<uint64_t>(n);
    } else if (flag == "--value-size") {
      MEMENTO_RETURN_IF_ERROR(take(&v));
      MEMENTO_RETURN_IF_ERROR(ParseCount(flag, v, 1, 64 * 1024 * 1024, &n));
      opts.load.value_size = static_cast<size_t>(n);
    } else if (flag == "--ratio") {
      MEMENTO_RETURN_IF_ERROR(take(&v));
      MEMENTO_RETURN_IF_ERROR(ParseRatio(v, &opts.load.set_ratio, &opts.load.get_ratio));
    } else if (flag == "--protocol") {
      MEMENTO_RETURN_IF_ERROR(take(&v));
      if (v == "text") {
        opts.load.protocol = Protocol::kText;
      } else if (v == "resp") {
        opts.load.protocol = Protocol::kResp;
      } else {
        return Bad(flag, v, "text or resp");
      }
    } else if (flag == "--phase") {
      MEMENTO_RETURN_IF_ERROR(take(&v));
      MEMENTO_RETURN_IF_ERROR(ParsePhases(v, &opts.phases));
    } else if (flag == "--timeout") {
      MEMENTO_RETURN_IF_ERROR(take(&v));
      double secs = 0;
      if (!ParseFiniteDouble(v, &secs) || secs <= 0 || secs > 3600) {
        return Bad(flag, v, "a number of seconds above 0 (at most 3600)");
      }
      opts.load.timeout_s = secs;
    } else if (flag == "--seed") {
      MEMENTO_RETURN_IF_ERROR(take(&v));
      MEMENTO_RETURN_IF_ERROR(ParseCount(flag, v, 0, INT64_MAX, &n));
      opts.load.seed = static_cast<uint64_t>(n);
    } else if (flag == "--csv") {
      MEMENTO_RETURN_IF_ERROR(no_value());
      opts.format = OutputFormat::kCsv;
    } else if (flag == "--json") {
      MEMENTO_RETURN_IF_ERROR(no_value());
      opts.format = OutputFormat::kJson;
    } else if (flag == "--quiet" || flag == "-q") {
      MEMENTO_RETURN_IF_ERROR(no_value());
      opts.load.progress = tools::ProgressMode::kNever;
    } else if (flag == "--progress") {
      MEMENTO_RETURN_IF_ERROR(no_value());
      opts.load.progress = tools::ProgressMode::kAlways;
    } else {
      return Status::InvalidArgument("unknown flag '" + std::string(arg) + "'" +
                                     (arg == "-?" ? " (--help shows the flags)" : ""));
    }
  }
  if (saw_requests && saw_duration) {
    return Status::InvalidArgument("--requests and --duration exclude each other: pick one");
  }
  // A thread without a connection would have nothing to do.
  opts.load.threads = std::min(opts.load.threads, opts.load.connections);
  if (opts.phases.empty()) {
    opts.phases = {PhaseKind::kSet, PhaseKind::kGet, PhaseKind::kGrow, PhaseKind::kMixed};
  }
  return opts;
}

std::string UsageText() {
  return R"(Usage: memento-benchmark [flags]

Measures a Memento (or Redis) server: wall-clock ops/s and latency percentiles, with
every reply checked. By default it runs four phases, each with all connections:
  set    SET one key (mb:keyone) over and over        (the original's phase 1)
  get    GET that key                                 (phase 2)
  grow   SET a new key each time: mb:grow:0, 1, ...   (phase 3)
  mixed  SET and GET in --ratio over random keys of --keyspace (the concurrent phase)
then prints one line per phase: requests, errors, ops/s, p50, p99, p99.9, max latency.

Server:
  -h, --host HOST        server host (default 127.0.0.1)
  -p, --port PORT        server port (default 6737)
  --protocol text|resp   Memento's text protocol (default) or RESP2 (also redis-server)
Load:
  --threads N            load threads, each with its own epoll loop (default 1)
  --connections N        connections in all, spread over the threads (default 50)
  --pipeline N           requests sent per connection before waiting for their
                         replies (default 1: no pipelining)
  --requests N           requests per phase (default 100000)
  --duration S           run each phase for S seconds instead of --requests
  --keyspace N           mixed: random keys out of N (default 100000)
  --value-size N         value bytes (default 100)
  --ratio SET:GET        mixed: SETs to GETs (default 1:10)
  --phase NAME[,NAME]    run only these phases: set, get, grow, mixed
  --timeout S            fail a connection with no reply for S seconds (default 10)
  --seed N               seed of the mixed phase's random choices (default 1)
Output:
  --csv                  CSV on stdout (header line, one line per phase)
  --json                 one JSON object on stdout
  --progress             always show the progress line on stderr
  -q, --quiet            never show it (default: only when stderr is a terminal)
  --help                 this text
  --version              the version

Exit status: 0 all replies right; 1 a failure (cannot connect, an error or wrong
reply, a connection lost); 2 bad flags. Details: docs/tools/benchmark.md.
)";
}

}  // namespace memento::benchmark
