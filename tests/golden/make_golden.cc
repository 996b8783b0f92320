// make_golden: writes the golden files of golden_content.h into a directory (normally
// tests/testdata/), with today's writers. Run it once per new format version, then
// commit what it wrote (tests/testdata/README.md):
//
//   cmake --build build --target make_golden
//   build/tests/make_golden tests/testdata
//
// It refuses to overwrite: the files of a released version never change. Remove a file
// first to write it again (only while its version is unreleased).
#include <cstdio>
#include <filesystem>
#include <string>

#include "tests/golden/golden_make.h"

namespace memento::golden {
namespace {

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "make_golden: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

int Main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_golden DIR   (normally tests/testdata)\n");
    return 2;
  }
  const std::filesystem::path out = argv[1];
  // Only what does not exist yet is written: a committed golden file is never
  // rewritten, and a version bump adds its new files beside the old ones.
  auto missing = [&](std::string_view name) {
    if (!std::filesystem::exists(out / name)) return true;
    std::printf("make_golden: %s exists, kept\n", (out / name).c_str());
    return false;
  };
  Status s;
  // wal-v1/ (kWalDir) was written by the version-1 writer; today's writes version 2.
  if (missing(kWalV2Dir)) {
    s = MakeWalV2(out / kWalV2Dir);
    if (!s.ok()) return Fail("WAL", s);
    std::printf("make_golden: wrote %s\n", (out / kWalV2Dir).c_str());
  }
  if (missing(kSnapshotDir)) {
    const std::filesystem::path scratch = out / "snapshot-scratch.tmp";
    s = MakeSnapshot(scratch, out / kSnapshotDir);
    std::error_code ec;
    std::filesystem::remove_all(scratch, ec);
    if (!s.ok()) return Fail("snapshot", s);
    // The lock file is LMDB's run-time state, not data: not committed.
    for (const auto& entry : std::filesystem::recursive_directory_iterator(out / kSnapshotDir)) {
      if (entry.path().filename() == "lock.mdb") std::filesystem::remove(entry.path(), ec);
    }
    std::printf("make_golden: wrote %s\n", (out / kSnapshotDir).c_str());
  }
  if (missing(kDumpFile)) {
    Result<std::string> dump = MakeDump();
    if (!dump.ok()) return Fail("dump", dump.status());
    s = WriteWholeFile(out / kDumpFile, *dump);
    if (!s.ok()) return Fail("dump", s);
    std::printf("make_golden: wrote %s\n", (out / kDumpFile).c_str());
  }
  if (missing(kBusFile)) {
    s = WriteWholeFile(out / kBusFile, MakeBusFrames());
    if (!s.ok()) return Fail("bus frames", s);
    std::printf("make_golden: wrote %s\n", (out / kBusFile).c_str());
  }
  return 0;
}

}  // namespace
}  // namespace memento::golden

int main(int argc, char** argv) { return memento::golden::Main(argc, argv); }
