// memento-dump: writes the live keys of a data directory to one portable, compressed,
// checksummed dump file (docs/formats/dump.md), or as JSON lines. Works while the
// daemon runs on the directory (storage/dump/dump_source.h has the how). User guide:
// docs/tools/dump.md.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/logging.h"
#include "common/numbers.h"
#include "storage/dump/dump_format.h"
#include "storage/dump/dump_io.h"
#include "storage/dump/dump_source.h"
#include "storage/dump/dump_writer.h"
#include "storage/file_modes.h"
#include "storage/wal/file.h"
#include "tools/common/tool_common.h"

namespace memento::tools {
namespace {

constexpr char kProgram[] = "memento-dump";

constexpr char kUsage[] =
    "Usage: memento-dump --data-dir DIR -o FILE [options]\n"
    "\n"
    "Writes every live key of the data directory DIR (snapshot + write-ahead log) to FILE,\n"
    "consistent at one log position. Safe while memento is running on DIR: nothing is\n"
    "locked or written there, clients are not held up.\n"
    "\n"
    "  --data-dir DIR      the data directory to read (memento's --data-dir)\n"
    "  -o, --output FILE   where to write; '-' for stdout. FILE is written under a\n"
    "                      temporary name and renamed when complete\n"
    "  --format F          dump (default): the binary dump format that memento-restore\n"
    "                      reads; jsonl: one JSON object per key, for people and scripts\n"
    "  --prefix P          only keys starting with P\n"
    "  --level N           zstd level 1..19 (default 3)\n"
    "  --progress          always show progress on stderr (default: only on a terminal)\n"
    "  -q, --quiet         no progress, no summary\n"
    "  --help, --version\n"
    "\n"
    "  -h HOST -p PORT     dump over the network: not supported yet (exit 2)\n"
    "\n"
    "Exit status: 0 done, 1 error (nothing usable written), 2 bad usage.\n"
    "Docs: docs/tools/dump.md\n";

struct Flags {
  std::string data_dir;
  std::string output;
  std::string format = "dump";
  std::string prefix;
  int level = 3;
  ProgressMode progress = ProgressMode::kAuto;
  bool remote = false;
};

int Usage(const std::string& why) {
  fprintf(stderr, "%s: %s\nTry '%s --help'.\n", kProgram, why.c_str(), kProgram);
  return kExitUsage;
}

// Returns an exit code if the program must stop now (help, version, usage error).
std::optional<int> ParseFlags(int argc, char** argv, Flags* f) {
  FlagWalker flags(argc, argv);
  std::string_view a;
  while (flags.Next(&a)) {
    std::string_view v;
    if (a == "--help") {
      fputs(kUsage, stdout);
      return kExitOk;
    } else if (a == "--version") {
      fputs(VersionLine(kProgram).c_str(), stdout);
      return kExitOk;
    } else if (a == "--data-dir") {
      if (!flags.Value(&v)) return Usage("--data-dir needs a directory");
      f->data_dir = v;
    } else if (a == "-o" || a == "--output") {
      if (!flags.Value(&v)) return Usage("-o needs a file name (or '-' for stdout)");
      f->output = v;
    } else if (a == "--format") {
      if (!flags.Value(&v)) return Usage("--format needs dump or jsonl");
      if (v != "dump" && v != "jsonl") return Usage("--format must be dump or jsonl");
      f->format = v;
    } else if (a == "--prefix") {
      if (!flags.Value(&v)) return Usage("--prefix needs a value");
      f->prefix = v;
    } else if (a == "--level") {
      int64_t n = 0;
      if (!flags.Value(&v) || !ParseInt64(v, &n) || n < 1 || n > 19) {
        return Usage("--level needs a number from 1 to 19");
      }
      f->level = static_cast<int>(n);
    } else if (a == "--progress") {
      f->progress = ProgressMode::kAlways;
    } else if (a == "-q" || a == "--quiet") {
      f->progress = ProgressMode::kNever;
    } else if (a == "-h" || a == "--host" || a == "-p" || a == "--port") {
      if (!flags.Value(&v)) return Usage(std::string(a) + " needs a value");
      f->remote = true;
    } else {
      return Usage("unknown argument '" + std::string(a) + "'");
    }
  }
  if (f->remote) {
    fprintf(stderr,
            "%s: dumping over the network (-h/-p) is not supported yet: dump the data "
            "directory with --data-dir (works while the daemon runs); see "
            "docs/tools/dump.md\n",
            kProgram);
    return kExitUsage;
  }
  if (f->data_dir.empty()) return Usage("--data-dir is required");
  if (f->output.empty()) return Usage("-o FILE is required ('-' for stdout)");
  if (f->output == "-" && f->format == "dump" && isatty(STDOUT_FILENO) == 1) {
    return Usage("refusing to write a binary dump to a terminal; use -o FILE or a pipe");
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------
// JSON lines: one object per key. Strings are byte strings: printable ASCII as is,
// '"' and '\\' escaped, every other byte as \u00XX, so each JSON character is one byte
// (decode with the code points as bytes: Latin-1). Binary-safe and valid JSON.
// ---------------------------------------------------------------------------------

void AppendJsonBytes(std::string* out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c >= 0x20 && c < 0x7f) {
      out->push_back(static_cast<char>(c));
    } else {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
  out->push_back('"');
}

class JsonlWriter {
 public:
  explicit JsonlWriter(dump::Sink* sink) : sink_(sink) {}
  Status Add(std::string_view key, std::string_view value, int64_t created_ms, int64_t expire_ms) {
    line_.clear();
    line_ += "{\"key\":";
    AppendJsonBytes(&line_, key);
    line_ += ",\"value\":";
    AppendJsonBytes(&line_, value);
    line_ += ",\"created_ms\":" + std::to_string(created_ms);
    line_ += ",\"expire_ms\":" + std::to_string(expire_ms) + "}\n";
    buf_ += line_;
    bytes_ += line_.size();
    if (buf_.size() >= (1u << 20)) return Flush();
    return Status::OK();
  }
  Status Flush() {
    Status s = sink_->Append(buf_);
    buf_.clear();
    return s;
  }
  uint64_t bytes() const { return bytes_; }

 private:
  dump::Sink* sink_;
  std::string line_;
  std::string buf_;
  uint64_t bytes_ = 0;
};

std::string HostName() {
  char name[256] = {0};
  if (gethostname(name, sizeof(name) - 1) != 0) return "";
  std::string out(name);
  if (out.size() > dump::kMaxNodeNameSize) out.resize(dump::kMaxNodeNameSize);
  return out;
}

int Fail(const std::string& what) {
  fprintf(stderr, "%s: %s\n", kProgram, what.c_str());
  return kExitFailure;
}

int Run(const Flags& f) {
  const int64_t started_us = MonotonicMicros();
  const bool to_stdout = f.output == "-";
  const bool jsonl = f.format == "jsonl";
  std::string tmp_path;
  int fd = STDOUT_FILENO;
  if (!to_stdout) {
    // Written under a temporary name beside FILE, renamed when complete: FILE is never a
    // half-written dump.
    tmp_path = f.output + ".tmp-" + std::to_string(getpid());
    // 0600: a dump holds every key and value (docs/security.md).
    fd = storage::OpenPrivateFile(tmp_path, O_WRONLY | O_TRUNC);
    if (fd < 0) return Fail("cannot create " + tmp_path + ": " + strerror(errno));
  }
  auto cleanup = [&] {
    if (!to_stdout) {
      ::close(fd);
      ::unlink(tmp_path.c_str());
    }
  };
  dump::FdSink sink(fd, to_stdout ? "stdout" : tmp_path);

  dump::DumpHeader header;
  header.node = HostName();
  header.created_ms = NowMillis();
  header.key_count = dump::kUnknownKeyCount;  // patched below when FILE is a file

  std::unique_ptr<dump::DumpWriter> writer;
  JsonlWriter json(&sink);
  std::unique_ptr<Progress> progress;
  uint64_t data_bytes = 0;

  dump::SourceOptions options;
  options.now_ms = header.created_ms;
  options.prefix = f.prefix;
  dump::SourceStats stats;
  Status s = dump::ReadDataDir(
      f.data_dir, options,
      [&](uint64_t lsn, uint64_t approx_keys) -> Status {
        header.data_lsn = lsn;
        progress = std::make_unique<Progress>("dump", f.prefix.empty() ? approx_keys : 0, "keys",
                                              f.progress);
        if (jsonl) return Status::OK();
        auto w = dump::DumpWriter::Create(&sink, header, f.level);
        if (!w.ok()) return w.status();
        writer = std::move(*w);
        return Status::OK();
      },
      [&](std::string_view key, std::string_view value, int64_t created_ms,
          int64_t expire_ms) -> Status {
        data_bytes += key.size() + value.size();
        progress->Add(1, key.size() + value.size());
        if (jsonl) return json.Add(key, value, created_ms, expire_ms);
        return writer->Add(key, value, created_ms, expire_ms);
      },
      &stats);
  if (s.ok()) s = jsonl ? json.Flush() : writer->Finish();
  if (progress != nullptr) progress->Finish();
  if (!s.ok()) {
    cleanup();
    return Fail(s.ToString());
  }
  if (!to_stdout) {
    if (!jsonl) {
      // Now the count is known: the header has the same size with it.
      header.key_count = stats.entries;
      const std::string bytes = dump::EncodeHeader(header);
      if (::pwrite(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
        const std::string err = strerror(errno);
        cleanup();
        return Fail("write " + tmp_path + ": " + err);
      }
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
      const std::string err = strerror(errno);
      ::unlink(tmp_path.c_str());
      return Fail("fsync " + tmp_path + ": " + err);
    }
    // The directory is fsynced too: without it a dump reported complete could vanish
    // (or leave only its .tmp file) after a power loss.
    s = wal::RenameAndSyncDir(wal::PosixFileSystem(), tmp_path, f.output);
    if (!s.ok()) {
      ::unlink(tmp_path.c_str());  // a no-op if the rename happened
      return Fail(s.ToString());
    }
  }
  if (f.progress != ProgressMode::kNever) {
    const double secs = static_cast<double>(MonotonicMicros() - started_us) / 1e6;
    const uint64_t out_bytes = jsonl ? json.bytes() : writer->bytes_written();
    fprintf(stderr,
            "%s: %s keys (%s of keys and values) consistent at LSN %" PRIu64
            " written to %s (%s) in %.1f s; %s expired keys skipped%s\n",
            kProgram, WithThousands(stats.entries).c_str(), HumanBytes(data_bytes).c_str(),
            stats.lsn, to_stdout ? "stdout" : f.output.c_str(), HumanBytes(out_bytes).c_str(), secs,
            WithThousands(stats.expired_skipped).c_str(),
            stats.attempts > 1
                ? ("; " + std::to_string(stats.attempts) +
                   " attempts (the checkpointer removed log segments while they were read)")
                      .c_str()
                : "");
  }
  return kExitOk;
}

}  // namespace
}  // namespace memento::tools

int main(int argc, char** argv) {
  using namespace memento::tools;  // NOLINT
  // The storage layer's informational lines ("WAL: recovered ...") are for the daemon.
  memento::log::SetLevel(memento::log::Level::kWarning);
  Flags flags;
  if (auto code = ParseFlags(argc, argv, &flags)) return *code;
  return Run(flags);
}
