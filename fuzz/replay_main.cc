// A main() for replaying saved inputs through a fuzz target without libFuzzer: the
// normal build links each fuzz/<name>_fuzzer.cc with this file into
// fuzz_replay_<name>, and ctest runs it over fuzz/corpus/<name>/ and
// fuzz/regressions/<name>/ (fuzz/CMakeLists.txt). So every seed and every input that
// once crashed keeps running in the ordinary test suite, under whatever sanitizers
// that build uses, with g++ as well as clang.
//
// Usage: fuzz_replay_<name> PATH...   (a PATH is a file, or a directory whose regular
// files are replayed in name order; a missing directory counts as empty, because git
// does not keep empty ones). Files whose name starts with "UNFIXED-" are reported and
// skipped: they reproduce a bug that is still open (fuzz/README.md).
//
// A failing input aborts the process (FUZZ_CHECK, a sanitizer, an assert); the name
// printed just before it is the culprit.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr char kUnfixedPrefix[] = "UNFIXED-";

bool ReadFile(const std::filesystem::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg(argv[i]);
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<fs::path> in_dir;
      for (const fs::directory_entry& e : fs::directory_iterator(arg, ec)) {
        if (e.is_regular_file(ec)) in_dir.push_back(e.path());
      }
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else if (fs::exists(arg, ec)) {
      files.push_back(arg);
    } else {
      std::printf("(no %s: nothing to replay there)\n", argv[i]);
    }
  }
  size_t ran = 0;
  size_t skipped = 0;
  std::string data;
  for (const fs::path& path : files) {
    if (path.filename().string().rfind(kUnfixedPrefix, 0) == 0) {
      std::printf("SKIP %s (an open bug, see fuzz/README.md)\n", path.c_str());
      ++skipped;
      continue;
    }
    if (!ReadFile(path, &data)) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    std::printf("RUN  %s (%zu bytes)\n", path.c_str(), data.size());
    std::fflush(stdout);
    // A copy in its own allocation, so ASan catches reads past the end.
    std::vector<uint8_t> copy(data.begin(), data.end());
    LLVMFuzzerTestOneInput(copy.data(), copy.size());
    ++ran;
  }
  std::printf("replayed %zu inputs, skipped %zu open bugs\n", ran, skipped);
  return 0;
}
