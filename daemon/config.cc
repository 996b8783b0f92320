#include "daemon/config.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "storage/db/change_limit.h"

// toml++ with exceptions off: parse() returns a toml::parse_result to check.
//
// Debian's pkg-config file builds us against the prebuilt libtomlplusplus.so
// (-DTOML_HEADER_ONLY=0 -DTOML_SHARED_LIB=1), but that library was compiled with
// exceptions on and only exports toml::v3::ex::parse; the no-exception parser lives in
// the inline namespace toml::v3::noex and is not in it, so linking would fail. We
// therefore compile toml++ header-only in this one file. Everything that differs with
// TOML_EXCEPTIONS sits in the ex/noex ABI namespaces, so this copy cannot clash with
// the shared library. Only config.cc may include toml++.
#undef TOML_SHARED_LIB
#define TOML_SHARED_LIB 0
#undef TOML_HEADER_ONLY
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
// toml++'s internal asserts check its own invariants, and in 3.3.0 some fire on
// malformed files (fuzz/regressions/config/tomlpp-assert-table-header-without-key: "["
// alone on a line), where an NDEBUG build reports the parse error. Off in every build,
// so a Debug or fuzzing build parses a bad file the way the shipped one does (and
// TOML_ASSERT_ASSUME never becomes an optimiser assumption about input).
#define TOML_ASSERT(expr) static_cast<void>(0)
#include <toml++/toml.h>

namespace memento::daemon {
namespace {

// ---------------------------------------------------------------------------
// The table of settings
// ---------------------------------------------------------------------------

enum class Kind : uint8_t {
  kString,   // flag takes a value; TOML string
  kInteger,  // flag takes a value; TOML integer, checked against `range`
  kSwitch,   // flag takes no value and sets true; TOML boolean
};

struct IntRange {
  int64_t min;
  int64_t max;
  const char* noun;  // "a port": "'70000' is not a port (0-65535)"
};
constexpr IntRange kPortRange{0, 65535, "a port"};
constexpr IntRange kIntervalRange{0, 86400 * 365, "a number of seconds"};
constexpr IntRange kWritesRange{0, int64_t{1} << 40, "a number of writes"};
constexpr IntRange kSegmentRange{int64_t{1} << 16, int64_t{1} << 34, "a segment size"};
constexpr IntRange kRetentionRange{0, int64_t{1} << 30, "a size in MiB"};
constexpr IntRange kThreadsRange{0, kMaxThreads, "a thread count"};
constexpr IntRange kMaxLineRange{static_cast<int64_t>(kMinMaxLine),
                                 static_cast<int64_t>(kMaxMaxLine), "a line limit"};
constexpr IntRange kClientsRange{1, 1000000, "a client count"};
// Capped to what the write-ahead log holds in one change (a longer value would be
// served from memory and never logged).
constexpr IntRange kBulkRange{1024, static_cast<int64_t>(db::kMaxChangeBytes),
                              "a bulk length the write-ahead log can hold"};
constexpr IntRange kMultibulkRange{1, INT32_MAX, "an element count"};
constexpr IntRange kQueryBufferRange{1024, int64_t{1} << 40, "a buffer size"};
constexpr IntRange kOutputBufferRange{0, int64_t{1} << 40, "a buffer size"};
constexpr IntRange kClusterTimeoutRange{10, 600000, "a time-out in milliseconds"};

// A value that already has the setting's Kind (and, for integers, is in range).
struct Value {
  std::string_view text;  // kString
  int64_t integer = 0;    // kInteger
  bool boolean = false;   // kSwitch
};

// Stores `value` if it is one of `choices`; else says what is allowed.
std::string StoreChoice(std::string_view text, std::initializer_list<std::string_view> choices,
                        std::string* out) {
  std::string allowed;
  for (std::string_view choice : choices) {
    if (text == choice) {
      out->assign(choice);
      return "";
    }
    if (!allowed.empty()) allowed.append(", ");
    allowed.append(choice);
  }
  std::string message("'");
  message.append(text).append("' is not one of ").append(allowed);
  return message;
}

// Stores `value`; returns why it is rejected ("must not be empty"), or "" if stored.
using StoreFn = std::string (*)(const Value& value, Config* config);
// The value as the help text shows it, from a default Config.
using ShowFn = std::string (*)(const Config& config);

template <auto kMember>
std::string StoreString(const Value& value, Config* config) {
  config->*kMember = std::string(value.text);
  return "";
}
template <auto kMember>
std::string StoreNonEmpty(const Value& value, Config* config) {
  if (value.text.empty()) return "must not be empty";
  return StoreString<kMember>(value, config);
}
template <auto kMember>
std::string StoreInt(const Value& value, Config* config) {
  // The range check has already run, so the cast cannot truncate.
  using T = std::remove_reference_t<decltype(config->*kMember)>;
  config->*kMember = static_cast<T>(value.integer);
  return "";
}
template <auto kMember>
std::string StoreBool(const Value& value, Config* config) {
  config->*kMember = value.boolean;
  return "";
}
// The names log::ParseLevel() (common/logging.h) turns into a Level; keep in sync.
std::string StoreLogLevel(const Value& value, Config* config) {
  for (std::string_view name : {"debug", "info", "warning", "error"}) {
    if (value.text == name) {
      config->log_level.assign(name);
      return "";
    }
  }
  // Built with append: g++ 12 at -O3 warns (-Wrestrict, a false positive) on
  // "'" + std::string(...).
  std::string message("'");
  message.append(value.text).append("' is not a log level (debug, info, warning, error)");
  return message;
}

std::string StoreFsync(const Value& value, Config* config) {
  return StoreChoice(value.text, {"always", "everysec", "no"}, &config->fsync);
}
std::string StoreWalRecovery(const Value& value, Config* config) {
  return StoreChoice(value.text, {"strict", "truncate"}, &config->wal_recovery);
}

template <auto kMember>
std::string ShowString(const Config& config) {
  const std::string& s = config.*kMember;
  return s.empty() ? "none" : s;
}
template <auto kMember>
std::string ShowInt(const Config& config) {
  return std::to_string(config.*kMember);
}
template <auto kMember>
std::string ShowBool(const Config& config) {
  return config.*kMember ? "on" : "off";
}

// One setting: its TOML key, its flag, how it is checked and stored.
struct Setting {
  std::string_view key;        // dotted TOML key; "" if the file cannot set it (-f)
  std::string_view flag;       // "-p"; "" if only the file can set it
  std::string_view long_flag;  // "--config"; an alias of `flag`, or ""
  std::string_view metavar;    // "PORT"; "" for a switch
  Kind kind;
  const IntRange* range;  // kInteger only
  StoreFn store;
  ShowFn show;
  std::string_view help;
};

// Every key the file may hold and every flag but -h/-v, in help-text order.
// Adding a key is one row here. The one key that is not a scalar, the array of
// tables cluster.nodes, is checked by TomlChecker::CheckClusterNodes() instead.
constexpr Setting kSettings[] = {
    {"", "-f", "--config", "FILE", Kind::kString, nullptr, StoreString<&Config::config_file>,
     ShowString<&Config::config_file>, "TOML configuration file"},
    {"server.bind", "-a", "", "HOST", Kind::kString, nullptr, StoreNonEmpty<&Config::bind>,
     ShowString<&Config::bind>, "address to listen on"},
    {"server.port", "-p", "", "PORT", Kind::kInteger, &kPortRange, StoreInt<&Config::port>,
     ShowInt<&Config::port>, "TCP port to listen on; 0 picks any free port"},
    {"server.threads", "--threads", "", "N", Kind::kInteger, &kThreadsRange,
     StoreInt<&Config::threads>, ShowInt<&Config::threads>,
     "event-loop threads, 0-1024; 0 means one per core"},
    {"server.log_level", "--log-level", "", "L", Kind::kString, nullptr, StoreLogLevel,
     ShowString<&Config::log_level>, "debug, info, warning or error"},
    {"server.max_line", "--max-line", "", "BYTES", Kind::kInteger, &kMaxLineRange,
     StoreInt<&Config::max_line>, ShowInt<&Config::max_line>,
     "longest request line, 1024-536870912"},
    {"server.requirepass", "--requirepass", "", "PASSWORD", Kind::kString, nullptr,
     StoreString<&Config::requirepass>, ShowString<&Config::requirepass>,
     "password clients must AUTH with; empty: none"},
    {"server.protected_mode", "", "", "", Kind::kSwitch, nullptr,
     StoreBool<&Config::protected_mode>, ShowBool<&Config::protected_mode>,
     "refuse clients from other hosts while no password is set"},
    {"server.max_clients", "--max-clients", "", "N", Kind::kInteger, &kClientsRange,
     StoreInt<&Config::max_clients>, ShowInt<&Config::max_clients>,
     "open client connections at most, 1-1000000"},
    {"server.idle_timeout_s", "--idle-timeout", "", "S", Kind::kInteger, &kIntervalRange,
     StoreInt<&Config::idle_timeout_s>, ShowInt<&Config::idle_timeout_s>,
     "close clients idle this many seconds; 0: never"},
    {"server.max_bulk", "--max-bulk", "", "BYTES", Kind::kInteger, &kBulkRange,
     StoreInt<&Config::max_bulk>, ShowInt<&Config::max_bulk>,
     "longest RESP bulk string (one key or value)"},
    {"server.max_multibulk", "--max-multibulk", "", "N", Kind::kInteger, &kMultibulkRange,
     StoreInt<&Config::max_multibulk>, ShowInt<&Config::max_multibulk>,
     "most elements in one RESP request"},
    {"server.max_query_buffer", "--max-query-buffer", "", "BYTES", Kind::kInteger,
     &kQueryBufferRange, StoreInt<&Config::max_query_buffer>,
     ShowInt<&Config::max_query_buffer>, "a client's unexecuted input before it is closed"},
    {"server.max_output_buffer", "--max-output-buffer", "", "BYTES", Kind::kInteger,
     &kOutputBufferRange, StoreInt<&Config::max_output_buffer>,
     ShowInt<&Config::max_output_buffer>,
     "unsent replies before a client is closed; 0: none"},
    {"storage.data_dir", "--data-dir", "", "DIR", Kind::kString, nullptr,
     StoreNonEmpty<&Config::data_dir>, ShowString<&Config::data_dir>,
     "data directory, relative to the working directory"},
    {"storage.fsync", "--fsync", "", "POLICY", Kind::kString, nullptr, StoreFsync,
     ShowString<&Config::fsync>, "when OK is sent: always, everysec or no"},
    {"storage.wal_recovery", "--wal-recovery", "", "MODE", Kind::kString, nullptr,
     StoreWalRecovery, ShowString<&Config::wal_recovery>,
     "damage in the middle of the log: strict (refuse to start) or truncate"},
    {"storage.snapshot_interval_s", "--snapshot-interval", "", "S", Kind::kInteger,
     &kIntervalRange, StoreInt<&Config::snapshot_interval_s>,
     ShowInt<&Config::snapshot_interval_s>, "seconds between checkpoints; 0: none on a timer"},
    {"storage.snapshot_after_writes", "", "", "N", Kind::kInteger, &kWritesRange,
     StoreInt<&Config::snapshot_after_writes>, ShowInt<&Config::snapshot_after_writes>,
     "writes that trigger a checkpoint; 0: none by count"},
    {"storage.wal_segment_bytes", "", "", "BYTES", Kind::kInteger, &kSegmentRange,
     StoreInt<&Config::wal_segment_bytes>, ShowInt<&Config::wal_segment_bytes>,
     "size at which the log starts a new segment"},
    {"storage.wal_retention_mb", "", "", "MIB", Kind::kInteger, &kRetentionRange,
     StoreInt<&Config::wal_retention_mb>, ShowInt<&Config::wal_retention_mb>,
     "log kept after a checkpoint, for TAIL; 0: only what recovery needs"},
    {"cluster.enabled", "-c", "", "", Kind::kSwitch, nullptr, StoreBool<&Config::cluster>,
     ShowBool<&Config::cluster>, "run as a cluster node"},
    {"cluster.name", "-i", "", "NAME", Kind::kString, nullptr, StoreString<&Config::node_name>,
     ShowString<&Config::node_name>, "this node's name in the cluster"},
    {"cluster.request_timeout_ms", "", "", "MS", Kind::kInteger, &kClusterTimeoutRange,
     StoreInt<&Config::cluster_timeout_ms>, ShowInt<&Config::cluster_timeout_ms>,
     "a request forwarded to another node fails (CLUSTERDOWN) after this long"},
    {"cluster.secret", "", "", "SECRET", Kind::kString, nullptr,
     StoreString<&Config::cluster_secret>, ShowString<&Config::cluster_secret>,
     "secret the nodes prove on the cluster bus; empty: server.requirepass"},
};

// The [[cluster.nodes]] key, checked apart from kSettings (an array of tables).
constexpr std::string_view kClusterNodesKey = "cluster.nodes";

const Setting* FindFlag(std::string_view flag) {
  for (const Setting& s : kSettings) {
    if (!flag.empty() && (flag == s.flag || flag == s.long_flag)) return &s;
  }
  return nullptr;
}

const Setting* FindKey(std::string_view key) {
  for (const Setting& s : kSettings) {
    if (!s.key.empty() && key == s.key) return &s;
  }
  return nullptr;
}

// True if some key lives in [table].
bool IsKnownTable(std::string_view table) {
  for (const Setting& s : kSettings) {
    if (s.key.size() > table.size() && s.key.starts_with(table) && s.key[table.size()] == '.') {
      return true;
    }
  }
  return false;
}

std::string OutOfRange(std::string_view shown, const IntRange& range) {
  return std::string(shown) + " is not " + range.noun + " (" + std::to_string(range.min) + "-" +
         std::to_string(range.max) + ")";
}

// ---------------------------------------------------------------------------
// The TOML file
// ---------------------------------------------------------------------------

// "file:line:col" ("file" alone when toml++ knows no position).
std::string Where(std::string_view source_name, const toml::source_region& region) {
  std::string out(source_name);
  if (region.begin.line != 0) {
    out += ":" + std::to_string(region.begin.line);
    if (region.begin.column != 0) out += ":" + std::to_string(region.begin.column);
  }
  return out;
}

// "a string", "an integer", ... as in "expected an integer, got a string".
const char* TypeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "an unknown type";
}

// One problem found in the file. The walk visits keys in toml++'s (sorted) order,
// so problems are collected and the one earliest in the file is reported: the
// operator fixes the file top to bottom.
struct Problem {
  toml::source_position where;
  std::string message;  // complete, with file:line:col
};

class TomlChecker {
 public:
  TomlChecker(std::string_view source_name, Config* config)
      : source_name_(source_name), config_(config) {}

  void CheckRoot(const toml::table& root) {
    for (auto&& [name, node] : root) {
      if (const toml::table* table = node.as_table(); table != nullptr) {
        if (!IsKnownTable(name.str())) {
          Report(name.source(), "unknown table '" + std::string(name.str()) + "'");
          continue;
        }
        CheckTable(name.str(), *table);
      } else if (IsKnownTable(name.str())) {
        ReportValue(node, name.str(),
                    std::string("expected a table, got ") + TypeName(node.type()));
      } else {
        Report(name.source(), "unknown key '" + std::string(name.str()) + "'");
      }
    }
  }

  // The problem earliest in the file, if any.
  const Problem* First() const {
    auto earlier = [](const Problem& a, const Problem& b) {
      return std::pair(a.where.line, a.where.column) < std::pair(b.where.line, b.where.column);
    };
    auto it = std::min_element(problems_.begin(), problems_.end(), earlier);
    return it == problems_.end() ? nullptr : &*it;
  }

 private:
  void CheckTable(std::string_view table_name, const toml::table& table) {
    for (auto&& [name, node] : table) {
      std::string key = std::string(table_name) + "." + std::string(name.str());
      if (key == kClusterNodesKey) {
        CheckClusterNodes(node);
        continue;
      }
      const Setting* setting = FindKey(key);
      if (setting == nullptr) {
        Report(name.source(), "unknown key '" + key + "'");
        continue;
      }
      CheckValue(*setting, node);
    }
  }

  void CheckValue(const Setting& setting, const toml::node& node) {
    Value value;
    const char* expected = "";
    bool type_ok = false;
    switch (setting.kind) {
      case Kind::kString:
        expected = "a string";
        if (const auto* s = node.as_string(); s != nullptr) {
          value.text = s->get();
          type_ok = true;
        }
        break;
      case Kind::kInteger:
        expected = "an integer";
        if (const auto* i = node.as_integer(); i != nullptr) {
          value.integer = i->get();
          type_ok = true;
          if (value.integer < setting.range->min || value.integer > setting.range->max) {
            ReportValue(node, setting.key,
                        OutOfRange(std::to_string(value.integer), *setting.range));
            return;
          }
        }
        break;
      case Kind::kSwitch:
        expected = "a boolean";
        if (const auto* b = node.as_boolean(); b != nullptr) {
          value.boolean = b->get();
          type_ok = true;
        }
        break;
    }
    if (!type_ok) {
      ReportValue(node, setting.key,
                  std::string("expected ") + expected + ", got " + TypeName(node.type()));
      return;
    }
    std::string why = setting.store(value, config_);
    if (!why.empty()) ReportValue(node, setting.key, why);
  }

  // [[cluster.nodes]]: name, host, port, optional bus_port and slots per node.
  void CheckClusterNodes(const toml::node& node) {
    const toml::array* array = node.as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      ReportValue(node, kClusterNodesKey,
                  std::string("expected an array of tables ([[cluster.nodes]]), got ") +
                      TypeName(node.type()));
      return;
    }
    config_->cluster_nodes.clear();
    size_t index = 0;
    for (const toml::node& element : *array) {
      const std::string where = "cluster.nodes[" + std::to_string(index++) + "]";
      ClusterNodeConfig parsed;
      bool ok = true;
      bool has_name = false, has_host = false, has_port = false;
      for (auto&& [name, value] : *element.as_table()) {
        const std::string key = where + "." + std::string(name.str());
        const std::string_view field = name.str();
        if (field == "name") has_name = true;
        if (field == "host") has_host = true;
        if (field == "port") has_port = true;
        if (field == "name" || field == "host") {
          const auto* text = value.as_string();
          if (text == nullptr || text->get().empty()) {
            ReportValue(value, key, std::string("expected a non-empty string, got ") +
                                        (text == nullptr ? TypeName(value.type()) : "\"\""));
            ok = false;
            continue;
          }
          (field == "name" ? parsed.name : parsed.host) = text->get();
        } else if (field == "port" || field == "bus_port") {
          const auto* number = value.as_integer();
          if (number == nullptr || number->get() < 1 || number->get() > 65535) {
            ReportValue(value, key,
                        number == nullptr
                            ? std::string("expected an integer, got ") + TypeName(value.type())
                            : OutOfRange(std::to_string(number->get()),
                                         IntRange{1, 65535, "a port"}));
            ok = false;
            continue;
          }
          (field == "port" ? parsed.port : parsed.bus_port) = static_cast<uint16_t>(number->get());
        } else if (field == "slots") {
          ok = CheckSlotRanges(value, key, &parsed.slots) && ok;
        } else {
          Report(name.source(), "unknown key '" + key + "' (a node has name, host, port, "
                                "bus_port and slots)");
          ok = false;
        }
      }
      for (auto [present, field] : {std::pair{has_name, "name"}, std::pair{has_host, "host"},
                                    std::pair{has_port, "port"}}) {
        if (!present) {
          Report(element.source(), where + ": missing key '" + field + "'");
          ok = false;
        }
      }
      if (ok) config_->cluster_nodes.push_back(std::move(parsed));
    }
  }

  // slots = ["0-2729", "5000"]: inclusive ranges in [0, 8191].
  bool CheckSlotRanges(const toml::node& node, const std::string& key,
                       std::vector<std::pair<uint32_t, uint32_t>>* out) {
    const toml::array* array = node.as_array();
    if (array == nullptr) {
      ReportValue(node, key,
                  std::string("expected an array of \"first-last\" strings, got ") +
                      TypeName(node.type()));
      return false;
    }
    for (const toml::node& element : *array) {
      const auto* text = element.as_string();
      uint32_t first = 0, last = 0;
      if (text == nullptr || !ParseSlotRange(text->get(), &first, &last)) {
        ReportValue(element, key,
                    "expected \"first-last\" or \"slot\" with 0 <= first <= last <= 8191");
        return false;
      }
      out->emplace_back(first, last);
    }
    return true;
  }

  static bool ParseSlotNumber(std::string_view text, uint32_t* out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
    return !text.empty() && ec == std::errc() && end == text.data() + text.size() && *out < 8192;
  }
  static bool ParseSlotRange(std::string_view text, uint32_t* first, uint32_t* last) {
    const size_t dash = text.find('-');
    if (dash == std::string_view::npos) {
      if (!ParseSlotNumber(text, first)) return false;
      *last = *first;
      return true;
    }
    return ParseSlotNumber(text.substr(0, dash), first) &&
           ParseSlotNumber(text.substr(dash + 1), last) && *first <= *last;
  }

  // "<file:line:col>: <key>: <what>", at the value.
  void ReportValue(const toml::node& node, std::string_view key, std::string_view what) {
    Report(node.source(), std::string(key) + ": " + std::string(what));
  }

  void Report(const toml::source_region& region, std::string_view what) {
    problems_.push_back({region.begin, Where(source_name_, region) + ": " + std::string(what)});
  }

  std::string_view source_name_;
  Config* config_;
  std::vector<Problem> problems_;
};

// ---------------------------------------------------------------------------
// Command-line helpers
// ---------------------------------------------------------------------------

// Turns flag text into a Value of the setting's Kind; returns why it cannot, or "".
std::string FlagValue(const Setting& setting, std::string_view text, Value* value) {
  switch (setting.kind) {
    case Kind::kString:
      value->text = text;
      return "";
    case Kind::kInteger: {
      // from_chars: no locale, no exceptions, and no leading '+' or blanks accepted.
      int64_t n = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
          n < setting.range->min || n > setting.range->max) {
        return OutOfRange("'" + std::string(text) + "'", *setting.range);
      }
      value->integer = n;
      return "";
    }
    case Kind::kSwitch:
      value->boolean = true;
      return "";
  }
  return "unsupported setting";
}

// A flag as found on the command line, applied once the file has been read.
struct FlagUse {
  const Setting* setting;
  std::string_view spelled;  // as the user wrote it: "-p", "--config"
  std::string_view value;    // empty for a switch
};

}  // namespace

int Config::EffectiveThreads() const {
  if (threads > 0) return threads;
  unsigned cores = std::thread::hardware_concurrency();  // 0 when unknown
  return cores == 0 ? 1 : static_cast<int>(std::min<unsigned>(cores, kMaxThreads));
}

// Refuses bytes the TOML parser must not see: control characters (TOML allows none
// but tab, even in strings and comments) and non-ASCII bytes. toml++ 3.3.0 (Debian
// 12) reaches __builtin_unreachable() on some of both (fuzz/regressions/config/), so
// they are stopped here; a config file is ASCII (docs/configuration.md).
Status CheckConfigBytes(std::string_view text, std::string_view source_name) {
  size_t line = 1;
  size_t column = 1;
  for (unsigned char ch : text) {
    if (ch == '\n') {
      ++line;
      column = 1;
      continue;
    }
    if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02x", ch);
      return Status::InvalidArgument(std::string(source_name) + ":" + std::to_string(line) +
                                     ":" + std::to_string(column) + ": byte " + hex +
                                     " is not allowed: a config file is plain ASCII text");
    }
    ++column;
  }
  return Status::OK();
}

Result<Config> ParseConfigToml(std::string_view text, std::string_view source_name, Config base) {
  MEMENTO_RETURN_IF_ERROR(CheckConfigBytes(text, source_name));
  toml::parse_result parsed = toml::parse(text, source_name);
  if (!parsed) {
    const toml::parse_error& error = parsed.error();
    return Status::InvalidArgument(Where(source_name, error.source()) + ": " +
                                   std::string(error.description()));
  }
  TomlChecker checker(source_name, &base);
  checker.CheckRoot(parsed.table());
  if (const Problem* problem = checker.First(); problem != nullptr) {
    return Status::InvalidArgument(problem->message);
  }
  return base;
}

Result<Config> LoadConfigFile(const std::string& path, Config base) {
  std::string context = "config file '" + path + "'";
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return Status::FromErrno(context, errno);
  std::string text;
  char buffer[16384];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) text.append(buffer, n);
  // A directory opens fine and fails here with EISDIR.
  if (std::ferror(file.get())) return Status::FromErrno(context, errno);
  return ParseConfigToml(text, path, std::move(base));
}

Result<CommandLine> ParseCommandLine(int argc, const char* const* argv) {
  CommandLine cmd;
  // Pass 1: find every flag and its value, so -f is known before the file is read,
  // whatever its position, and flags win over the file however they are ordered.
  std::vector<FlagUse> uses;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view name = arg;
    std::string_view value;
    bool has_inline_value = false;
    if (arg.starts_with("--")) {
      if (size_t eq = arg.find('='); eq != std::string_view::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        has_inline_value = true;
      }
    } else if (!arg.starts_with("-")) {
      return Status::InvalidArgument("unexpected argument '" + std::string(arg) + "'");
    }

    bool* show = nullptr;
    if (name == "-h" || name == "--help") show = &cmd.show_help;
    if (name == "-v" || name == "--version") show = &cmd.show_version;
    const Setting* setting = show != nullptr ? nullptr : FindFlag(name);
    if (show == nullptr && setting == nullptr) {
      return Status::InvalidArgument("unknown flag '" + std::string(name) + "'");
    }
    bool takes_value = setting != nullptr && setting->kind != Kind::kSwitch;
    if (!takes_value && has_inline_value) {
      return Status::InvalidArgument("flag " + std::string(name) + " takes no value");
    }
    if (takes_value && !has_inline_value) {
      if (i + 1 >= argc) {
        return Status::InvalidArgument("flag " + std::string(name) + " needs a value");
      }
      value = argv[++i];
    }
    if (show != nullptr) {
      *show = true;
    } else {
      uses.push_back({setting, name, value});
    }
  }
  if (cmd.show_help || cmd.show_version) return cmd;

  // Pass 2: the file (the last -f wins), over the defaults. "-f ''" is read too, and
  // fails as a missing file, rather than being silently ignored.
  bool has_file = false;
  for (const FlagUse& use : uses) {
    if (use.setting->flag == "-f") {
      cmd.config.config_file = std::string(use.value);
      has_file = true;
    }
  }
  if (has_file) {
    Result<Config> loaded = LoadConfigFile(cmd.config.config_file, cmd.config);
    if (!loaded.ok()) return loaded.status();
    cmd.config = std::move(loaded).value();
  }

  // Pass 3: the flags, over the file, in command-line order.
  for (const FlagUse& use : uses) {
    Value value;
    std::string why = FlagValue(*use.setting, use.value, &value);
    if (why.empty()) why = use.setting->store(value, &cmd.config);
    if (!why.empty()) return Status::InvalidArgument(std::string(use.spelled) + ": " + why);
  }
  // A node name on the command line means the operator wants a cluster node; without
  // cluster mode it would be silently ignored and the daemon start standalone. (The
  // file may keep cluster.name while cluster.enabled = false: that is a switch.)
  for (const FlagUse& use : uses) {
    if (use.setting->flag == "-i" && !cmd.config.cluster) {
      return Status::InvalidArgument(
          "-i " + std::string(use.value) +
          ": a node name only means something in cluster mode; add -c (or set "
          "cluster.enabled = true in the file given with -f), or drop -i");
    }
  }
  return cmd;
}

namespace {

// A file-only setting's default as it would be written in the file.
std::string TomlDefault(const Setting& s, const Config& defaults) {
  const std::string shown = s.show(defaults);
  switch (s.kind) {
    case Kind::kSwitch:
      return shown == "on" ? "true" : "false";
    case Kind::kString:
      return shown == "none" ? "\"\"" : "\"" + shown + "\"";
    case Kind::kInteger:
      return shown;
  }
  return shown;
}

}  // namespace

std::string UsageText(std::string_view program) {
  const Config defaults;
  // Two lines a flag, so the text fits in 80 columns:
  //   -p PORT            TCP port to listen on; 0 picks any free port
  //                      default: 6737; file: server.port
  struct Entry {
    std::string flags;
    std::string help;
    std::string origin;  // "default: ...; file: ..." or ""
  };
  std::vector<Entry> entries;
  // Settings without a flag are listed apart, as the file spells them.
  std::vector<Entry> file_only;
  for (const Setting& s : kSettings) {
    if (s.flag.empty()) {
      file_only.push_back({std::string(s.key) + " = " + TomlDefault(s, defaults),
                           std::string(s.help), ""});
      continue;
    }
    std::string flags(s.flag);
    if (!s.long_flag.empty()) flags += ", " + std::string(s.long_flag);
    if (!s.metavar.empty()) flags += " " + std::string(s.metavar);
    std::string origin = "default: " + s.show(defaults);
    if (!s.key.empty()) origin += "; file: " + std::string(s.key);
    entries.push_back({flags, std::string(s.help), origin});
  }
  entries.push_back({"-h, --help", "print this help and exit", ""});
  entries.push_back({"-v, --version", "print the version and exit", ""});

  size_t width = 0;
  for (const Entry& e : entries) width = std::max(width, e.flags.size());
  const std::string indent(2 + width + 2, ' ');
  std::string out = "Usage: " + std::string(program) + " [-f FILE] [flags]\n\n";
  out +=
      "Memento, a Redis-like persistent key-value daemon.\n"
      "Each setting is taken from its default, then from the TOML file named by -f,\n"
      "then from the flags; a repeated flag keeps its last value. Long flags also take\n"
      "--flag=VALUE. See docs/configuration.md.\n\nFlags:\n";
  for (const Entry& e : entries) {
    out += "  " + e.flags + std::string(width - e.flags.size() + 2, ' ') + e.help + "\n";
    if (!e.origin.empty()) out += indent + e.origin + "\n";
  }
  // Key and default on one line, the meaning under it: keys are long.
  out += "\nSettings only in the config file:\n";
  for (const Entry& e : file_only) out += "  " + e.flags + "\n      " + e.help + "\n";
  out += "  [[cluster.nodes]] name, host, port, bus_port, slots\n"
         "      one table per node of the cluster, this one included (docs/cluster.md)\n";
  return out;
}

}  // namespace memento::daemon
