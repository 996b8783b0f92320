// What every Memento tool (memento-cli, memento-benchmark, memento-dump,
// memento-restore, memento-compact) shares: exit codes, --version text, and the
// progress line shown during long work.
//
// Thread-safety: a Progress belongs to one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace memento::tools {

// Exit codes of every tool (docs/tools.md).
inline constexpr int kExitOk = 0;       // did what was asked
inline constexpr int kExitFailure = 1;  // an error (I/O, corrupt input, error reply, ...)
inline constexpr int kExitUsage = 2;    // bad flags or arguments; nothing was done

// "memento-dump 0.1.0\n": what --version prints.
std::string VersionLine(std::string_view program);

// When to draw progress: kAuto draws only if stderr is a terminal (--progress forces
// kAlways, --quiet kNever).
enum class ProgressMode { kAuto, kAlways, kNever };

// A progress line on stderr for work that may take more than about a second:
//   dump  [##########..........]  51%  512,000/1,000,000 keys  402k keys/s  38.1 MB/s  ETA 0:01
// (the bytes rate in HumanBytes: "640.0 KB/s" for slow work, not "0.6 MB/s").
// Nothing is drawn during the first second (short work stays silent), then the line
// is redrawn at most every 100 ms. On a terminal it is rewritten in place with "\r";
// when forced onto a non-terminal, one plain line is printed per second instead.
// Finish() (or the destructor) prints the final line, if anything was drawn.
class Progress {
 public:
  // `total` 0: unknown (no bar, no ETA). `unit` names what is counted ("keys").
  Progress(std::string label, uint64_t total, std::string unit, ProgressMode mode);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void SetTotal(uint64_t total) { total_ = total; }
  // `done` items so far and, optionally, `bytes` so far (0: no MB/s shown).
  void Update(uint64_t done, uint64_t bytes = 0);
  void Add(uint64_t items, uint64_t bytes = 0) { Update(done_ + items, bytes_ + bytes); }
  void Finish();

  uint64_t done() const { return done_; }

 private:
  void Draw(bool final_line);

  const std::string label_;
  uint64_t total_;
  const std::string unit_;
  bool enabled_;
  bool terminal_;
  bool drawn_ = false;
  bool finished_ = false;
  uint64_t done_ = 0;
  uint64_t bytes_ = 0;
  int64_t start_us_;
  int64_t last_draw_us_ = 0;
};

// Parses "--progress"/"--quiet" style choices: returns kAlways for progress, kNever
// for quiet, kAuto when neither (a later flag wins; callers keep the last one seen).
bool StderrIsTerminal();

// Walks a tool's arguments: "--name value", "--name=value" and "-x value".
//   FlagWalker flags(argc, argv);
//   std::string_view flag, value;
//   while (flags.Next(&flag)) {
//     if (flag == "-o") { if (!flags.Value(&value)) return Usage("-o needs a file"); ... }
//   }
// "*argv" must outlive the walker (the views point into it).
class FlagWalker {
 public:
  FlagWalker(int argc, char** argv);
  // The next argument, without an inline "=value"; false when there are no more.
  bool Next(std::string_view* flag);
  // The current flag's value: its "=value" if it had one, else the next argument
  // (consumed). False if there is none.
  bool Value(std::string_view* value);

 private:
  std::vector<std::string_view> args_;
  size_t next_ = 0;
  std::string_view inline_value_;
  bool has_inline_ = false;
};

// "12,345,678".
std::string WithThousands(uint64_t n);
// "1.5k", "2.3M": short rates for the progress line and summaries.
std::string ShortCount(double n);

// A size in bytes as people read it, for every tool's summaries and progress line:
// "0 B", "999 B", "1.0 KB", "38.1 MB", "2.3 GB", "1234.5 GB". Units are decimal
// (1 KB = 1,000 bytes, as "MB/s" of disks and networks), one decimal rounded to
// nearest; a figure that would round to 1000.0 takes the next unit ("1.0 MB", not
// "1000.0 KB"). GB is the largest unit.
std::string HumanBytes(uint64_t bytes);

}  // namespace memento::tools
