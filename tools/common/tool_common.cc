#include "tools/common/tool_common.h"

#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <iterator>

#include "common/clock.h"
#include "common/version.h"

namespace memento::tools {

namespace {
constexpr int64_t kQuietStartUs = 1'000'000;     // draw nothing during the first second
constexpr int64_t kTerminalRedrawUs = 100'000;   // at most 10 redraws a second
constexpr int64_t kPlainLineUs = 1'000'000;      // one line a second off a terminal
constexpr int kBarWidth = 20;
}  // namespace

std::string VersionLine(std::string_view program) {
  return std::string(program) + " " + kVersion + "\n";
}

FlagWalker::FlagWalker(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) args_.emplace_back(argv[i]);
}

bool FlagWalker::Next(std::string_view* flag) {
  if (next_ >= args_.size()) return false;
  std::string_view a = args_[next_++];
  has_inline_ = false;
  const size_t eq = a.find('=');
  if (a.starts_with("--") && eq != std::string_view::npos) {
    inline_value_ = a.substr(eq + 1);
    a = a.substr(0, eq);
    has_inline_ = true;
  }
  *flag = a;
  return true;
}

bool FlagWalker::Value(std::string_view* value) {
  if (has_inline_) {
    has_inline_ = false;
    *value = inline_value_;
    return true;
  }
  if (next_ >= args_.size()) return false;
  *value = args_[next_++];
  return true;
}

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

std::string WithThousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  const size_t lead = digits.size() % 3;
  for (size_t i = 0; i < digits.size(); i++) {
    // (i + 3 - lead): i - lead would wrap below zero for the leading digits.
    if (i != 0 && (i + 3 - lead) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string ShortCount(double n) {
  char buf[32];
  if (n >= 1e9) {
    snprintf(buf, sizeof(buf), "%.1fG", n / 1e9);
  } else if (n >= 1e6) {
    snprintf(buf, sizeof(buf), "%.1fM", n / 1e6);
  } else if (n >= 1e3) {
    snprintf(buf, sizeof(buf), "%.1fk", n / 1e3);
  } else {
    snprintf(buf, sizeof(buf), "%.0f", n);
  }
  return buf;
}

std::string HumanBytes(uint64_t bytes) {
  if (bytes < 1000) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"KB", "MB", "GB"};
  uint64_t unit = 1000;
  uint64_t tenths = 0;
  size_t i = 0;
  for (;; unit *= 1000, i++) {
    // Rounded tenths of `unit`, in integers: a double would make 999,950 bytes
    // "999.9 KB" or "1000.0 KB" depending on how 999.95 happens to be represented.
    const uint64_t tenth = unit / 10;
    tenths = bytes / tenth + (bytes % tenth >= tenth / 2 ? 1 : 0);
    if (tenths < 10'000 || i + 1 == std::size(kUnits)) break;
  }
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " " + kUnits[i];
}

Progress::Progress(std::string label, uint64_t total, std::string unit, ProgressMode mode)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      start_us_(MonotonicMicros()) {
  terminal_ = StderrIsTerminal();
  enabled_ = mode == ProgressMode::kAlways || (mode == ProgressMode::kAuto && terminal_);
}

Progress::~Progress() { Finish(); }

void Progress::Update(uint64_t done, uint64_t bytes) {
  done_ = done;
  bytes_ = bytes;
  if (!enabled_ || finished_) return;
  const int64_t now = MonotonicMicros();
  if (now - start_us_ < kQuietStartUs) return;
  const int64_t interval = terminal_ ? kTerminalRedrawUs : kPlainLineUs;
  if (drawn_ && now - last_draw_us_ < interval) return;
  last_draw_us_ = now;
  Draw(/*final_line=*/false);
}

void Progress::Finish() {
  if (finished_) return;
  finished_ = true;
  // Short work drew nothing and prints nothing; long work ends with the final figures.
  if (enabled_ && drawn_) Draw(/*final_line=*/true);
}

void Progress::Draw(bool final_line) {
  drawn_ = true;
  const double secs = static_cast<double>(MonotonicMicros() - start_us_) / 1e6;
  const double rate = secs > 0 ? static_cast<double>(done_) / secs : 0;
  std::string line = label_;
  if (total_ != 0) {
    const uint64_t shown = done_ > total_ ? total_ : done_;
    const int filled = static_cast<int>(shown * kBarWidth / total_);
    line += "  [" + std::string(static_cast<size_t>(filled), '#') +
            std::string(static_cast<size_t>(kBarWidth - filled), '.') + "]";
    char pct[16];
    snprintf(pct, sizeof(pct), " %3d%%", static_cast<int>(shown * 100 / total_));
    line += pct;
    line += "  " + WithThousands(done_) + "/" + WithThousands(total_) + " " + unit_;
  } else {
    line += "  " + WithThousands(done_) + " " + unit_;
  }
  line += "  " + ShortCount(rate) + " " + unit_ + "/s";
  if (bytes_ != 0 && secs > 0) {
    line += "  " + HumanBytes(static_cast<uint64_t>(static_cast<double>(bytes_) / secs)) + "/s";
  }
  if (final_line) {
    char took[32];
    snprintf(took, sizeof(took), "  in %.1f s", secs);
    line += took;
  } else if (total_ != 0 && rate > 0 && done_ < total_) {
    const auto eta = static_cast<uint64_t>(static_cast<double>(total_ - done_) / rate);
    char buf[32];
    snprintf(buf, sizeof(buf), "  ETA %" PRIu64 ":%02" PRIu64, eta / 60, eta % 60);
    line += buf;
  }
  if (terminal_) {
    // "\r" + clear to end of line: the previous, possibly longer, line goes away.
    fprintf(stderr, "\r%s\x1b[K%s", line.c_str(), final_line ? "\n" : "");
  } else {
    fprintf(stderr, "%s\n", line.c_str());
  }
  fflush(stderr);
}

}  // namespace memento::tools
