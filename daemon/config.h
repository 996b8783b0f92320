// Config: the daemon's settings, and where they come from.
//
// A setting is decided in three steps, each overriding the one before:
//   1. the defaults written below;
//   2. the TOML file named by -f / --config (docs/configuration.md lists the keys);
//   3. the command-line flags.
// Every value is checked the same way whichever step supplied it; the first bad one
// stops start-up with an InvalidArgument that names the flag, or the file, line,
// column and dotted key, so the operator knows exactly what to fix.
//
// When you add a setting, update (a) the field here, (b) its row in kSettings in
// config.cc (flag, TOML key, range, help), (c) docs/configuration.md and
// (d) etc/memento.toml.
//
// Thread-safety: these functions keep no state and may run on any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace memento::daemon {

// Ranges shared by the flags and the file (inclusive).
inline constexpr int kMaxThreads = 1024;
inline constexpr size_t kMinMaxLine = 1024;               // 1 KiB
inline constexpr size_t kMaxMaxLine = size_t{512} << 20;  // 512 MiB

// One [[cluster.nodes]] entry (docs/cluster.md).
struct ClusterNodeConfig {
  std::string name;
  std::string host;
  uint16_t port = 0;      // client port
  uint16_t bus_port = 0;  // 0: port + 100
  // Explicit slot ranges ("0-2729", "42"), inclusive; empty: the equal split.
  std::vector<std::pair<uint32_t, uint32_t>> slots;
  bool operator==(const ClusterNodeConfig&) const = default;
};

struct Config {
  // [server]
  std::string bind = "127.0.0.1";  // -a HOST          server.bind
  uint16_t port = 6737;            // -p PORT          server.port (0 = any free port, for tests)
  int threads = 0;                 // --threads N      server.threads (0 = number of cores)
  std::string log_level = "info";  // --log-level L    server.log_level (debug|info|warning|error)
  size_t max_line = 65536;         // --max-line BYTES server.max_line (text protocol line limit)
  // Password every connection must AUTH with before other commands; empty: none.
  std::string requirepass;         // --requirepass PASSWORD server.requirepass
  // Client limits (net::ServerOptions; docs/security.md has the why of each).
  size_t max_clients = 10000;      // --max-clients N  server.max_clients (Redis maxclients)
  int idle_timeout_s = 0;          // --idle-timeout S server.idle_timeout_s (0: never)
  size_t max_bulk = size_t{512} << 20;  // --max-bulk BYTES server.max_bulk (proto-max-bulk-len)
  size_t max_multibulk = 1 << 20;  // --max-multibulk N server.max_multibulk
  // Unconsumed input of one client (client-query-buffer-limit).
  // --max-query-buffer BYTES   server.max_query_buffer
  size_t max_query_buffer = size_t{1} << 30;
  // Unsent replies of one client before it is disconnected; 0: no limit.
  // --max-output-buffer BYTES  server.max_output_buffer
  size_t max_output_buffer = size_t{256} << 20;
  // Refuse non-loopback clients while no password is set and bind is not loopback.
  bool protected_mode = true;      // (file only)     server.protected_mode
  // [storage]
  // Relative paths are relative to the daemon's working directory, not to the file
  // that named them (the systemd unit sets WorkingDirectory=/var/lib/memento).
  std::string data_dir = "./data";  // --data-dir DIR   storage.data_dir
  // When a reply may say OK: "always" (the record is on disk: fdatasync, group
  // commit), "everysec" (written to the log file; fdatasync within about a second),
  // "no" (written to the log file; the kernel decides when it reaches the disk).
  std::string fsync = "everysec";   // --fsync POLICY   storage.fsync
  // What start-up does with damage in the middle of the write-ahead log: "strict"
  // refuses to start, "truncate" keeps the valid prefix (the rest is moved aside).
  std::string wal_recovery = "strict";  // --wal-recovery MODE storage.wal_recovery
  // A checkpoint folds the log into the LMDB snapshot every this many seconds (0:
  // never on a timer) or after this many writes (0: never by count), whichever
  // comes first; also on SAVE/BGSAVE and at shutdown.
  int snapshot_interval_s = 60;         // --snapshot-interval S  storage.snapshot_interval_s
  int64_t snapshot_after_writes = 1000000;  // storage.snapshot_after_writes
  int64_t wal_segment_bytes = 64 << 20;     // storage.wal_segment_bytes
  int64_t wal_retention_mb = 1024;          // storage.wal_retention_mb
  // [cluster]
  bool cluster = false;     // -c               cluster.enabled
  std::string node_name;    // -i NAME          cluster.name
  // Every node of the cluster, this one included (file only: [[cluster.nodes]]).
  // The same list must be given to every node. Checked for shape here; the slot
  // map's own rules (unique names, coverage of explicit ranges) when the daemon
  // builds it (cluster::SlotMap::Build).
  std::vector<ClusterNodeConfig> cluster_nodes;
  // A request forwarded to another node fails with CLUSTERDOWN after this long.
  int cluster_timeout_ms = 2000;  // cluster.request_timeout_ms
  // The secret every node proves it holds when linking on the cluster bus (file only:
  // a flag would show it in ps). Empty: server.requirepass is used; with neither,
  // protected mode lets only loopback peers link (docs/security.md).
  std::string cluster_secret;     // cluster.secret
  std::string config_file;  // -f FILE          (the file itself; no key)

  // The number of event-loop threads to run: `threads`, or when that is 0 the
  // number of cores (std::thread::hardware_concurrency(), at least 1 and at most
  // kMaxThreads).
  int EffectiveThreads() const;

  bool operator==(const Config&) const = default;  // member by member
};

struct CommandLine {
  Config config;
  bool show_help = false;     // -h / --help: print UsageText() and exit 0
  bool show_version = false;  // -v / --version: print the version and exit 0
};

// Parses the daemon's flags (argv[0] is the program and is skipped). Order of
// precedence: defaults < the TOML file named by -f (or --config) < flags; a flag
// given twice keeps its last value.
//
// Flags: -a HOST, -p PORT, -c, -f FILE, -i NAME, --data-dir DIR, --threads N,
// --log-level L, --max-line N, --requirepass PASSWORD, --max-clients N,
// --idle-timeout S, --max-bulk N, --max-multibulk N, --max-query-buffer N,
// --max-output-buffer N, -h/--help, -v/--version. A
// long flag takes its value either as the next argument ("--data-dir DIR") or after
// '=' ("--data-dir=DIR"); a short flag only as the next argument.
//
// With -h or -v the file is not read and flag values are not checked, so
// "memento -f missing.toml --help" still prints the help; unknown flags and
// missing values are still errors.
//
// Returns:
//   the parsed command line;
//   InvalidArgument for a bad flag: "unknown flag '--foo'", "flag -p needs a value",
//     "-p: '70000' is not a port (0-65535)", "unexpected argument 'foo'", and for -i
//     without cluster mode (no -c and no cluster.enabled = true in the file);
//   whatever LoadConfigFile() returns for a bad -f file.
// REQUIRES: argv[0..argc) are valid C strings.
Result<CommandLine> ParseCommandLine(int argc, const char* const* argv);

// Parses TOML `text` and applies its keys over `base` (keys absent from the text
// keep their value from `base`). `source_name` is only used in messages.
//
// Returns the new Config, or InvalidArgument naming the first problem in file
// order, as "<source_name>:<line>:<column>: <what>":
//   a TOML syntax error         "memento.toml:3:8: Error while parsing ..."
//   an unknown table or key     "memento.toml:3:1: unknown key 'server.prot'"
//   a value of the wrong type   "memento.toml:7:8: server.port: expected an integer, got a string"
//   a value out of range        "memento.toml:7:8: server.port: 70000 is not a port (0-65535)"
Result<Config> ParseConfigToml(std::string_view text, std::string_view source_name, Config base);

// Reads the file at `path` and returns ParseConfigToml(contents, path, base).
// An unreadable file is an IOError naming the path and the reason
// ("config file 'x.toml': No such file or directory").
Result<Config> LoadConfigFile(const std::string& path, Config base);

// The --help text: every flag with its default and its TOML key, then, under
// "Settings only in the config file:", each key that has no flag as "key = default"
// (in TOML syntax) with its meaning on the next line. Ends with '\n'.
std::string UsageText(std::string_view program);

}  // namespace memento::daemon
