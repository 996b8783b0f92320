// End-to-end: the permissions of everything memento writes (docs/security.md, "The data
// directory"). Under the common umask 022 a file would be 0644 and a directory 0755,
// readable by every local user; memento's are 0600 and 0700.
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/daemon_process.h"

namespace memento::testing {
namespace {

using ::testing::HasSubstr;

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// Every entry under `root` (root included), relative path -> mode.
std::map<std::string, mode_t> Modes(const std::string& root) {
  std::map<std::string, mode_t> out;
  out["."] = ModeOf(root);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    out[std::filesystem::relative(entry.path(), root).string()] = ModeOf(entry.path().string());
  }
  return out;
}

void ExpectPrivate(const std::string& root, const std::map<std::string, mode_t>& modes) {
  for (const auto& [name, mode] : modes) {
    const bool dir = std::filesystem::is_directory(root + "/" + name);
    EXPECT_EQ(mode, dir ? 0700u : 0600u)
        << root << "/" << name << " is " << std::oct << mode << (dir ? " (a directory)" : "");
  }
}

bool HasEntryEndingWith(const std::map<std::string, mode_t>& modes, const std::string& tail) {
  for (const auto& [name, mode] : modes) {
    if (name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0) {
      return true;
    }
  }
  return false;
}

class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t mask) : saved_(::umask(mask)) {}
  ~UmaskGuard() { ::umask(saved_); }

 private:
  mode_t saved_;
};

TEST(FileModesTest, DataDirectoryDumpAndRestoreArePrivateUnderUmask022) {
  UmaskGuard umask(022);  // the daemon and the tools inherit it
  TempDir dir;
  const std::string data = dir.path() + "/data";  // created by the daemon
  {
    DaemonProcess daemon;
    ASSERT_TRUE(daemon.Start({"-p", "0", "--data-dir", data, "--threads", "1"})) << daemon.Log();
    Client c;
    ASSERT_TRUE(c.Connect(daemon.port()));
    for (int i = 0; i < 100; ++i) {
      ASSERT_EQ(c.Call("SET key" + std::to_string(i) + " value" + std::to_string(i)), "OK");
    }
    ASSERT_EQ(c.Call("SAVE"), "OK");  // a checkpoint: a snapshot environment and CURRENT
    ASSERT_EQ(c.Call("SET after-save 1"), "OK");  // and the log after it

    // A dump of the running daemon's directory.
    const std::string dump = dir.path() + "/backup.mdump";
    std::string out;
    ASSERT_EQ(RunBinaryToCompletion("memento-dump", {"--data-dir", data, "-o", dump}, &out), 0)
        << out;
    EXPECT_EQ(ModeOf(dump), 0600u) << std::oct << ModeOf(dump);

    const std::map<std::string, mode_t> modes = Modes(data);
    // What was checked: the LOCK, the log, the snapshot pointer and an LMDB environment.
    EXPECT_TRUE(modes.count("LOCK")) << "no LOCK";
    EXPECT_TRUE(modes.count("snapshot/CURRENT")) << "no CURRENT";
    EXPECT_TRUE(HasEntryEndingWith(modes, ".wal")) << "no WAL segment";
    EXPECT_TRUE(HasEntryEndingWith(modes, "/data.mdb")) << "no data.mdb";
    EXPECT_TRUE(HasEntryEndingWith(modes, "/lock.mdb")) << "no lock.mdb";
    ExpectPrivate(data, modes);

    // The restored copy too.
    const std::string restored = dir.path() + "/restored";
    ASSERT_EQ(RunBinaryToCompletion("memento-restore", {"-i", dump, "--data-dir", restored}, &out),
              0)
        << out;
    ExpectPrivate(restored, Modes(restored));
    EXPECT_TRUE(daemon.Signal(SIGTERM));
    EXPECT_EQ(daemon.Wait(), 0);
  }
  // The restored directory serves, and what the daemon adds there is private as well.
  DaemonProcess second;
  const std::string restored = dir.path() + "/restored";
  ASSERT_TRUE(second.Start({"-p", "0", "--data-dir", restored, "--threads", "1"})) << second.Log();
  Client c;
  ASSERT_TRUE(c.Connect(second.port()));
  EXPECT_EQ(c.Call("GET key7"), "value7");
  ASSERT_EQ(c.Call("SET more 1"), "OK");
  ASSERT_EQ(c.Call("SAVE"), "OK");
  ExpectPrivate(restored, Modes(restored));
}

TEST(FileModesTest, AnExistingDataDirectoryKeepsTheOperatorsMode) {
  UmaskGuard umask(022);
  TempDir dir;
  const std::string data = dir.path() + "/data";
  ASSERT_EQ(::mkdir(data.c_str(), 0750), 0);
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.Start({"-p", "0", "--data-dir", data, "--threads", "1"})) << daemon.Log();
  Client c;
  ASSERT_TRUE(c.Connect(daemon.port()));
  ASSERT_EQ(c.Call("SET k v"), "OK");
  ASSERT_EQ(c.Call("SAVE"), "OK");
  std::map<std::string, mode_t> modes = Modes(data);
  EXPECT_EQ(modes["."], 0750u) << std::oct << modes["."];
  modes.erase(".");
  ExpectPrivate(data, modes);  // what memento created inside is private
}

}  // namespace
}  // namespace memento::testing
