#include "daemon/config.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace memento::daemon {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Each test gets its own directory from mkdtemp, so runs in parallel never share a
// file; the fixture removes what it wrote.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "memento-config-test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }

  void TearDown() override {
    for (const std::string& file : files_) unlink(file.c_str());
    rmdir(dir_.c_str());
  }

  // Writes `text` to a new file in the test's directory and returns its path.
  std::string WriteFile(const std::string& text) {
    std::string path = dir_ + "/memento.XXXXXX";
    int fd = mkstemp(path.data());
    EXPECT_GE(fd, 0);
    if (fd < 0) return path;
    files_.push_back(path);
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
    return path;
  }

  // Parses "memento <args...>".
  static Result<CommandLine> Parse(std::initializer_list<std::string> args) {
    std::vector<const char*> argv = {"memento"};
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    return ParseCommandLine(static_cast<int>(argv.size()), argv.data());
  }

  static Result<Config> Toml(const std::string& text) {
    return ParseConfigToml(text, "memento.toml", Config());
  }

  // The error message of a failed parse ("" if it succeeded, which fails the test).
  template <typename T>
  static std::string Error(const Result<T>& result) {
    EXPECT_FALSE(result.ok());
    if (result.ok()) return "";
    EXPECT_TRUE(result.status().IsInvalidArgument()) << result.status().ToString();
    return std::string(result.status().message());
  }

  std::string dir_;
  std::vector<std::string> files_;
};

// --- Defaults and EffectiveThreads -------------------------------------------

TEST_F(ConfigTest, NoFlagsGiveTheDefaults) {
  Result<CommandLine> cmd = Parse({});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  const Config& c = cmd->config;
  EXPECT_EQ(c.bind, "127.0.0.1");
  EXPECT_EQ(c.port, 6737);
  EXPECT_EQ(c.threads, 0);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.max_line, 65536u);
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_FALSE(c.cluster);
  EXPECT_EQ(c.node_name, "");
  EXPECT_EQ(c.config_file, "");
  EXPECT_FALSE(cmd->show_help);
  EXPECT_FALSE(cmd->show_version);
}

TEST_F(ConfigTest, EffectiveThreadsIsThreadsWhenSet) {
  Config c;
  c.threads = 3;
  EXPECT_EQ(c.EffectiveThreads(), 3);
}

TEST_F(ConfigTest, EffectiveThreadsIsCoreCountWhenZero) {
  Config c;
  unsigned cores = std::thread::hardware_concurrency();
  int expected = cores == 0 ? 1 : static_cast<int>(std::min<unsigned>(cores, kMaxThreads));
  EXPECT_EQ(c.EffectiveThreads(), expected);
  EXPECT_GE(c.EffectiveThreads(), 1);
}

// --- One test per flag ---------------------------------------------------------

TEST_F(ConfigTest, BindFlag) {
  Result<CommandLine> cmd = Parse({"-a", "0.0.0.0"});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->config.bind, "0.0.0.0");
}

TEST_F(ConfigTest, PortFlag) {
  Result<CommandLine> cmd = Parse({"-p", "7000"});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->config.port, 7000);
}

TEST_F(ConfigTest, PortFlagAcceptsZeroAndMax) {
  Result<CommandLine> zero = Parse({"-p", "0"});
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_EQ(zero->config.port, 0);
  Result<CommandLine> max = Parse({"-p", "65535"});
  ASSERT_TRUE(max.ok()) << max.status().ToString();
  EXPECT_EQ(max->config.port, 65535);
}

TEST_F(ConfigTest, ClusterFlag) {
  Result<CommandLine> cmd = Parse({"-c"});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_TRUE(cmd->config.cluster);
}

TEST_F(ConfigTest, NameFlag) {
  Result<CommandLine> cmd = Parse({"-c", "-i", "node-a"});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->config.node_name, "node-a");
}

TEST_F(ConfigTest, ConfigFileFlagReadsTheFile) {
  std::string path = WriteFile("[server]\nport = 7100\n");
  Result<CommandLine> cmd = Parse({"-f", path});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->config.config_file, path);
  EXPECT_EQ(cmd->config.port, 7100);
}

TEST_F(ConfigTest, ConfigLongFlagIsAnAliasOfF) {
  std::string path = WriteFile("[server]\nport = 7101\n");
  Result<CommandLine> cmd = Parse({"--config", path});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->config.config_file, path);
  EXPECT_EQ(cmd->config.port, 7101);
}

TEST_F(ConfigTest, DataDirFlag) {
  Result<CommandLine> cmd = Parse({"--data-dir", "/var/lib/memento"});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->config.data_dir, "/var/lib/memento");
}

TEST_F(ConfigTest, ThreadsFlag) {
  Result<CommandLine> cmd = Parse({"--threads", "4"});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->config.threads, 4);
  EXPECT_EQ(cmd->config.EffectiveThreads(), 4);
}

TEST_F(ConfigTest, LogLevelFlag) {
  for (const char* level : {"debug", "info", "warning", "error"}) {
    Result<CommandLine> cmd = Parse({"--log-level", level});
    ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
    EXPECT_EQ(cmd->config.log_level, level);
  }
}

TEST_F(ConfigTest, MaxLineFlag) {
  Result<CommandLine> cmd = Parse({"--max-line", "1024"});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->config.max_line, 1024u);
}

TEST_F(ConfigTest, RequirePassDefaultsToNone) {
  EXPECT_EQ(Config().requirepass, "");
}

TEST_F(ConfigTest, RequirePassFlag) {
  Result<CommandLine> cmd = Parse({"--requirepass", "s3cret pass"});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->config.requirepass, "s3cret pass");
}

TEST_F(ConfigTest, RequirePassFlagMayBeEmpty) {
  Result<CommandLine> cmd = Parse({"--requirepass="});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->config.requirepass, "");
}

TEST_F(ConfigTest, RequirePassInFile) {
  Result<Config> config = Toml("[server]\nrequirepass = \"from-file\"\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->requirepass, "from-file");
}

TEST_F(ConfigTest, RequirePassFlagOverridesFile) {
  std::string path = WriteFile("[server]\nrequirepass = \"from-file\"\n");
  Result<CommandLine> cmd = Parse({"-f", path, "--requirepass", "from-flag"});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->config.requirepass, "from-flag");
}

TEST_F(ConfigTest, RequirePassMustBeAString) {
  EXPECT_EQ(Error(Toml("[server]\nrequirepass = 1234\n")),
            "memento.toml:2:15: server.requirepass: expected a string, got an integer");
}

TEST_F(ConfigTest, UsageListsRequirePass) {
  std::string usage = UsageText("memento");
  EXPECT_THAT(usage, HasSubstr("--requirepass PASSWORD"));
  EXPECT_THAT(usage, HasSubstr("server.requirepass"));
}

TEST_F(ConfigTest, HelpFlagsSetShowHelp) {
  for (const char* flag : {"-h", "--help"}) {
    Result<CommandLine> cmd = Parse({flag});
    ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
    EXPECT_TRUE(cmd->show_help) << flag;
    EXPECT_FALSE(cmd->show_version) << flag;
  }
}

TEST_F(ConfigTest, VersionFlagsSetShowVersion) {
  for (const char* flag : {"-v", "--version"}) {
    Result<CommandLine> cmd = Parse({flag});
    ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
    EXPECT_TRUE(cmd->show_version) << flag;
    EXPECT_FALSE(cmd->show_help) << flag;
  }
}

TEST_F(ConfigTest, HelpDoesNotReadTheFile) {
  Result<CommandLine> cmd = Parse({"-f", dir_ + "/missing.toml", "--help"});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_TRUE(cmd->show_help);
}

// --- Flag forms and precedence ----------------------------------------------------

TEST_F(ConfigTest, LongFlagsAcceptEqualsForm) {
  std::string path = WriteFile("");
  Result<CommandLine> cmd = Parse({"--data-dir=/srv/memento", "--threads=8", "--log-level=debug",
                                   "--max-line=2048", "--config=" + path});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->config.data_dir, "/srv/memento");
  EXPECT_EQ(cmd->config.threads, 8);
  EXPECT_EQ(cmd->config.log_level, "debug");
  EXPECT_EQ(cmd->config.max_line, 2048u);
  EXPECT_EQ(cmd->config.config_file, path);
}

TEST_F(ConfigTest, EqualsFormKeepsLaterEqualsSigns) {
  Result<CommandLine> cmd = Parse({"--data-dir=a=b"});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->config.data_dir, "a=b");
}

TEST_F(ConfigTest, LastRepeatedFlagWins) {
  Result<CommandLine> cmd = Parse({"-p", "7000", "-p", "7001"});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->config.port, 7001);
}

TEST_F(ConfigTest, FlagsOverrideFile) {
  std::string path = WriteFile(
      "[server]\nport = 7000\nbind = \"10.0.0.1\"\n"
      "[storage]\ndata_dir = \"file-dir\"\n");
  // The flag before -f wins too: the file is read first, whatever the order.
  Result<CommandLine> cmd = Parse({"-p", "7001", "-f", path, "--data-dir", "flag-dir"});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->config.port, 7001);
  EXPECT_EQ(cmd->config.data_dir, "flag-dir");
  EXPECT_EQ(cmd->config.bind, "10.0.0.1");  // not given as a flag: the file's value
}

TEST_F(ConfigTest, FileOverridesDefaults) {
  std::string path = WriteFile(R"(
[server]
bind = "0.0.0.0"
port = 7200
threads = 2
log_level = "warning"
max_line = 4096

[storage]
data_dir = "/var/lib/memento"

[cluster]
enabled = true
name = "node-b"
)");
  Result<Config> config = LoadConfigFile(path, Config());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->bind, "0.0.0.0");
  EXPECT_EQ(config->port, 7200);
  EXPECT_EQ(config->threads, 2);
  EXPECT_EQ(config->log_level, "warning");
  EXPECT_EQ(config->max_line, 4096u);
  EXPECT_EQ(config->data_dir, "/var/lib/memento");
  EXPECT_TRUE(config->cluster);
  EXPECT_EQ(config->node_name, "node-b");
}

TEST_F(ConfigTest, KeysAbsentFromFileKeepBaseValues) {
  Config base;
  base.port = 1234;
  base.data_dir = "base-dir";
  Result<Config> config = ParseConfigToml("[server]\nthreads = 2\n", "memento.toml", base);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->port, 1234);
  EXPECT_EQ(config->data_dir, "base-dir");
  EXPECT_EQ(config->threads, 2);
}

TEST_F(ConfigTest, RelativeDataDirInFileStaysRelative) {
  Result<Config> config = Toml("[storage]\ndata_dir = \"var/data\"\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->data_dir, "var/data");
}

TEST_F(ConfigTest, DottedKeysAndInlineTablesWork) {
  Result<Config> config = Toml("server.port = 7300\ncluster = { enabled = true }\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->port, 7300);
  EXPECT_TRUE(config->cluster);
}

TEST_F(ConfigTest, EmptyFileGivesBase) {
  Result<Config> config = Toml("# nothing here\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(*config, Config());
}

// The shipped example must hold every key at its default (see its header comment).
TEST_F(ConfigTest, ExampleFileHoldsTheDefaults) {
  std::string source = __FILE__;  // .../daemon/config_test.cc
  std::string example = source.substr(0, source.rfind("/daemon/")) + "/etc/memento.toml";
  Result<Config> config = LoadConfigFile(example, Config());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(*config, Config());
}

// --- Errors in the file -------------------------------------------------------------

TEST_F(ConfigTest, UnknownKeyNamesFileLineAndKey) {
  EXPECT_EQ(Error(Toml("[server]\nport = 1\nprot = 2\n")),
            "memento.toml:3:1: unknown key 'server.prot'");
}

TEST_F(ConfigTest, UnknownKeyInRealFileNamesThePath) {
  std::string path = WriteFile("[storage]\n\ndatadir = \"x\"\n");
  std::string error = Error(LoadConfigFile(path, Config()));
  EXPECT_THAT(error, StartsWith(path + ":3:1: "));
  EXPECT_THAT(error, HasSubstr("storage.datadir"));
}

TEST_F(ConfigTest, UnknownTableIsRejected) {
  EXPECT_EQ(Error(Toml("[server]\nport = 1\n[replication]\nfactor = 2\n")),
            "memento.toml:3:2: unknown table 'replication'");
}

TEST_F(ConfigTest, TopLevelKeyIsUnknown) {
  EXPECT_EQ(Error(Toml("port = 6737\n")), "memento.toml:1:1: unknown key 'port'");
}

TEST_F(ConfigTest, ClusterNodesAreReadInOrderWithTheirOptionalKeys) {
  Result<Config> config = Toml(R"(
[cluster]
enabled = true
name = "node1"
request_timeout_ms = 500
secret = "s3cret"
[[cluster.nodes]]
name = "node0"
host = "127.0.0.1"
port = 7001
[[cluster.nodes]]
name = "node1"
host = "10.0.0.2"
port = 7002
bus_port = 17002
slots = ["0-100", "4000"]
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->cluster);
  EXPECT_EQ(config->node_name, "node1");
  EXPECT_EQ(config->cluster_timeout_ms, 500);
  EXPECT_EQ(config->cluster_secret, "s3cret");
  ASSERT_EQ(config->cluster_nodes.size(), 2u);
  EXPECT_EQ(config->cluster_nodes[0].name, "node0");
  EXPECT_EQ(config->cluster_nodes[0].host, "127.0.0.1");
  EXPECT_EQ(config->cluster_nodes[0].port, 7001);
  EXPECT_EQ(config->cluster_nodes[0].bus_port, 0);  // the default: port + 100, later
  EXPECT_TRUE(config->cluster_nodes[0].slots.empty());
  EXPECT_EQ(config->cluster_nodes[1].bus_port, 17002);
  using Range = std::pair<uint32_t, uint32_t>;
  EXPECT_EQ(config->cluster_nodes[1].slots, (std::vector<Range>{{0, 100}, {4000, 4000}}));
}

TEST_F(ConfigTest, ClusterNodeMistakesNameTheNodeAndTheKey) {
  EXPECT_EQ(Error(Toml("[[cluster.nodes]]\nname = \"a\"\nhost = \"h\"\n")),
            "memento.toml:1:1: cluster.nodes[0]: missing key 'port'");
  EXPECT_EQ(Error(Toml("[[cluster.nodes]]\nname = \"a\"\nhost = \"h\"\nport = 0\n")),
            "memento.toml:4:8: cluster.nodes[0].port: 0 is not a port (1-65535)");
  EXPECT_EQ(Error(Toml("[[cluster.nodes]]\nname = \"a\"\nhost = \"h\"\nport = 1\nweight = 2\n")),
            "memento.toml:5:1: unknown key 'cluster.nodes[0].weight' (a node has name, host, "
            "port, bus_port and slots)");
  EXPECT_EQ(Error(Toml("[[cluster.nodes]]\nname = \"\"\nhost = \"h\"\nport = 1\n")),
            "memento.toml:2:8: cluster.nodes[0].name: expected a non-empty string, got \"\"");
  EXPECT_THAT(Error(Toml("[[cluster.nodes]]\nname = \"a\"\nhost = \"h\"\nport = 1\n"
                         "slots = [\"9-3\"]\n")),
              HasSubstr("cluster.nodes[0].slots: expected \"first-last\""));
  EXPECT_THAT(Error(Toml("[[cluster.nodes]]\nname = \"a\"\nhost = \"h\"\nport = 1\n"
                         "slots = [\"0-8192\"]\n")),
              HasSubstr("<= 8191"));
  EXPECT_THAT(Error(Toml("[cluster]\nnodes = 3\n")),
              HasSubstr("cluster.nodes: expected an array of tables ([[cluster.nodes]]), got an "
                        "integer"));
}

TEST_F(ConfigTest, WrongTypeNamesKeyAndLine) {
  EXPECT_EQ(Error(Toml("[server]\n\nport = \"6737\"\n")),
            "memento.toml:3:8: server.port: expected an integer, got a string");
}

TEST_F(ConfigTest, WrongTypeForStringAndBoolean) {
  EXPECT_EQ(Error(Toml("[storage]\ndata_dir = 5\n")),
            "memento.toml:2:12: storage.data_dir: expected a string, got an integer");
  EXPECT_EQ(Error(Toml("[cluster]\nenabled = \"yes\"\n")),
            "memento.toml:2:11: cluster.enabled: expected a boolean, got a string");
}

TEST_F(ConfigTest, KnownTableGivenAsValueIsWrongType) {
  EXPECT_EQ(Error(Toml("server = 1\n")),
            "memento.toml:1:10: server: expected a table, got an integer");
}

TEST_F(ConfigTest, PortOutOfRangeInFile) {
  EXPECT_EQ(Error(Toml("[server]\nport = 70000\n")),
            "memento.toml:2:8: server.port: 70000 is not a port (0-65535)");
  EXPECT_THAT(Error(Toml("[server]\nport = -1\n")), HasSubstr("-1 is not a port (0-65535)"));
}

TEST_F(ConfigTest, ThreadsOutOfRangeInFile) {
  EXPECT_THAT(Error(Toml("[server]\nthreads = 1025\n")),
              HasSubstr("server.threads: 1025 is not a thread count (0-1024)"));
}

TEST_F(ConfigTest, MaxLineOutOfRangeInFile) {
  EXPECT_THAT(Error(Toml("[server]\nmax_line = 1023\n")),
              HasSubstr("server.max_line: 1023 is not a line limit (1024-536870912)"));
  EXPECT_THAT(Error(Toml("[server]\nmax_line = 536870913\n")),
              HasSubstr("server.max_line: 536870913 is not a line limit"));
}

TEST_F(ConfigTest, UnknownLogLevelInFile) {
  EXPECT_EQ(Error(Toml("[server]\nlog_level = \"verbose\"\n")),
            "memento.toml:2:13: server.log_level: 'verbose' is not a log level "
            "(debug, info, warning, error)");
}

TEST_F(ConfigTest, EmptyBindAndDataDirInFile) {
  EXPECT_EQ(Error(Toml("[server]\nbind = \"\"\n")),
            "memento.toml:2:8: server.bind: must not be empty");
  EXPECT_EQ(Error(Toml("[storage]\ndata_dir = \"\"\n")),
            "memento.toml:2:12: storage.data_dir: must not be empty");
}

TEST_F(ConfigTest, SyntaxErrorNamesFileLineAndColumn) {
  std::string error = Error(Toml("[server]\nport = = 1\n"));
  EXPECT_THAT(error, StartsWith("memento.toml:2:"));
  EXPECT_THAT(error, HasSubstr("Error while parsing"));
}

TEST_F(ConfigTest, DuplicateKeyIsASyntaxError) {
  EXPECT_THAT(Error(Toml("[server]\nport = 1\nport = 2\n")), StartsWith("memento.toml:3:"));
}

TEST_F(ConfigTest, FirstProblemInFileOrderIsReported) {
  // toml++ keeps keys sorted; 'server' comes after 'cluster', but its line is first.
  EXPECT_EQ(Error(Toml("[server]\nport = \"x\"\n[cluster]\nbogus = 1\n")),
            "memento.toml:2:8: server.port: expected an integer, got a string");
}

TEST_F(ConfigTest, MissingFileIsIOErrorNamingIt) {
  std::string path = dir_ + "/missing.toml";
  Result<Config> config = LoadConfigFile(path, Config());
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(config.status().IsIOError()) << config.status().ToString();
  EXPECT_THAT(std::string(config.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("No such file"));
}

TEST_F(ConfigTest, MissingFileFromFlagIsIOError) {
  std::string path = dir_ + "/missing.toml";
  Result<CommandLine> cmd = Parse({"-f", path});
  ASSERT_FALSE(cmd.ok());
  EXPECT_TRUE(cmd.status().IsIOError()) << cmd.status().ToString();
  EXPECT_THAT(std::string(cmd.status().message()), HasSubstr(path));
}

TEST_F(ConfigTest, DirectoryAsFileIsIOError) {
  Result<Config> config = LoadConfigFile(dir_, Config());
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(config.status().IsIOError()) << config.status().ToString();
  EXPECT_THAT(std::string(config.status().message()), HasSubstr(dir_));
}

TEST_F(ConfigTest, BadFileFromFlagStopsParsing) {
  std::string path = WriteFile("[server]\nprot = 1\n");
  EXPECT_EQ(Error(Parse({"-f", path})), path + ":2:1: unknown key 'server.prot'");
}

// --- Errors in the flags ------------------------------------------------------------

TEST_F(ConfigTest, UnknownFlag) {
  EXPECT_EQ(Error(Parse({"--foo"})), "unknown flag '--foo'");
  EXPECT_EQ(Error(Parse({"--foo=1"})), "unknown flag '--foo'");
  EXPECT_EQ(Error(Parse({"-x"})), "unknown flag '-x'");
}

TEST_F(ConfigTest, ShortFlagHasNoEqualsForm) {
  EXPECT_EQ(Error(Parse({"-p=7000"})), "unknown flag '-p=7000'");
}

TEST_F(ConfigTest, UnexpectedArgument) {
  EXPECT_EQ(Error(Parse({"start"})), "unexpected argument 'start'");
}

TEST_F(ConfigTest, MissingFlagValue) {
  EXPECT_EQ(Error(Parse({"-p"})), "flag -p needs a value");
  EXPECT_EQ(Error(Parse({"-c", "--data-dir"})), "flag --data-dir needs a value");
}

TEST_F(ConfigTest, SwitchTakesNoValue) {
  EXPECT_EQ(Error(Parse({"--help=yes"})), "flag --help takes no value");
}

TEST_F(ConfigTest, PortOutOfRangeInFlags) {
  EXPECT_EQ(Error(Parse({"-p", "70000"})), "-p: '70000' is not a port (0-65535)");
  EXPECT_EQ(Error(Parse({"-p", "-1"})), "-p: '-1' is not a port (0-65535)");
}

TEST_F(ConfigTest, NonNumericPortInFlags) {
  EXPECT_EQ(Error(Parse({"-p", "http"})), "-p: 'http' is not a port (0-65535)");
  EXPECT_EQ(Error(Parse({"-p", "80x"})), "-p: '80x' is not a port (0-65535)");
  EXPECT_EQ(Error(Parse({"-p", ""})), "-p: '' is not a port (0-65535)");
  EXPECT_EQ(Error(Parse({"-p", "99999999999999999999999"})),
            "-p: '99999999999999999999999' is not a port (0-65535)");
}

TEST_F(ConfigTest, ThreadsOutOfRangeInFlags) {
  EXPECT_EQ(Error(Parse({"--threads=2000"})), "--threads: '2000' is not a thread count (0-1024)");
}

TEST_F(ConfigTest, MaxLineOutOfRangeInFlags) {
  EXPECT_EQ(Error(Parse({"--max-line", "100"})),
            "--max-line: '100' is not a line limit (1024-536870912)");
}

TEST_F(ConfigTest, UnknownLogLevelInFlags) {
  EXPECT_EQ(Error(Parse({"--log-level", "WARN"})),
            "--log-level: 'WARN' is not a log level (debug, info, warning, error)");
}

TEST_F(ConfigTest, EmptyValuesInFlags) {
  EXPECT_EQ(Error(Parse({"-a", ""})), "-a: must not be empty");
  EXPECT_EQ(Error(Parse({"--data-dir="})), "--data-dir: must not be empty");
}

TEST_F(ConfigTest, EmptyConfigFileFlagIsAMissingFile) {
  Result<CommandLine> cmd = Parse({"-f", ""});
  ASSERT_FALSE(cmd.ok());
  EXPECT_TRUE(cmd.status().IsIOError()) << cmd.status().ToString();
}

// --- Client limits --------------------------------------------------------------------

TEST_F(ConfigTest, ClientLimitsDefaultToRedisLikeValues) {
  const Config c;
  EXPECT_EQ(c.max_clients, 10000u);
  EXPECT_EQ(c.idle_timeout_s, 0);
  EXPECT_EQ(c.max_bulk, size_t{512} << 20);
  EXPECT_EQ(c.max_multibulk, size_t{1} << 20);
  EXPECT_EQ(c.max_query_buffer, size_t{1} << 30);
  EXPECT_EQ(c.max_output_buffer, size_t{256} << 20);
  EXPECT_TRUE(c.protected_mode);
}

TEST_F(ConfigTest, ClientLimitFlags) {
  Result<CommandLine> cmd =
      Parse({"--max-clients", "50", "--idle-timeout", "30", "--max-bulk", "1048576",
             "--max-multibulk", "100", "--max-query-buffer=2097152", "--max-output-buffer", "0"});
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->config.max_clients, 50u);
  EXPECT_EQ(cmd->config.idle_timeout_s, 30);
  EXPECT_EQ(cmd->config.max_bulk, 1048576u);
  EXPECT_EQ(cmd->config.max_multibulk, 100u);
  EXPECT_EQ(cmd->config.max_query_buffer, 2097152u);
  EXPECT_EQ(cmd->config.max_output_buffer, 0u);
}

TEST_F(ConfigTest, ClientLimitKeysInFile) {
  Result<Config> config = Toml(
      "[server]\nmax_clients = 5\nidle_timeout_s = 300\nmax_bulk = 4096\n"
      "max_multibulk = 10\nmax_query_buffer = 65536\nmax_output_buffer = 1_048_576\n"
      "protected_mode = false\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->max_clients, 5u);
  EXPECT_EQ(config->idle_timeout_s, 300);
  EXPECT_EQ(config->max_bulk, 4096u);
  EXPECT_EQ(config->max_multibulk, 10u);
  EXPECT_EQ(config->max_query_buffer, 65536u);
  EXPECT_EQ(config->max_output_buffer, 1048576u);
  EXPECT_FALSE(config->protected_mode);
}

TEST_F(ConfigTest, ClientLimitsOutOfRangeAreRejected) {
  EXPECT_EQ(Error(Parse({"--max-clients", "0"})),
            "--max-clients: '0' is not a client count (1-1000000)");
  EXPECT_EQ(Error(Parse({"--max-bulk", "100"})),
            "--max-bulk: '100' is not a bulk length the write-ahead log can hold (1024-1073741760)");
  EXPECT_EQ(Error(Parse({"--idle-timeout", "-1"})),
            "--idle-timeout: '-1' is not a number of seconds (0-31536000)");
  EXPECT_EQ(Error(Toml("[server]\nmax_query_buffer = 0\n")),
            "memento.toml:2:20: server.max_query_buffer: 0 is not a buffer size "
            "(1024-1099511627776)");
  EXPECT_EQ(Error(Toml("[server]\nprotected_mode = 1\n")),
            "memento.toml:2:18: server.protected_mode: expected a boolean, got an integer");
}

TEST_F(ConfigTest, ProtectedModeHasNoFlag) {
  EXPECT_EQ(Error(Parse({"--protected-mode"})), "unknown flag '--protected-mode'");
}

// --- Usage ----------------------------------------------------------------------------

TEST_F(ConfigTest, UsageListsEveryFlagWithDefaultAndKey) {
  std::string usage = UsageText("memento");
  EXPECT_THAT(usage, StartsWith("Usage: memento "));
  for (const char* text :
       {"-a HOST", "127.0.0.1", "server.bind", "-p PORT", "6737", "server.port", "--threads N",
        "server.threads", "--log-level L", "server.log_level", "--max-line BYTES", "65536",
        "server.max_line", "--data-dir DIR", "./data", "storage.data_dir", "-c ",
        "cluster.enabled", "-i NAME", "cluster.name", "-f, --config FILE", "-h, --help",
        "-v, --version"}) {
    EXPECT_THAT(usage, HasSubstr(text));
  }
}

TEST_F(ConfigTest, UsageShowsFileOnlySettingsAsKeyEqualsDefault) {
  const std::string usage = UsageText("memento");
  const size_t section = usage.find("\nSettings only in the config file:\n");
  ASSERT_NE(section, std::string::npos) << usage;
  const std::string flags = usage.substr(0, section);
  const std::string file_only = usage.substr(section);
  // Each key without a flag: under the section, as it is written in the file, with
  // its meaning on the next line; never in the flags part as a nameless flag.
  for (const char* line : {"\n  server.protected_mode = true\n      refuse clients",
                           "\n  storage.snapshot_after_writes = 1000000\n      writes",
                           "\n  storage.wal_segment_bytes = 67108864\n      size",
                           "\n  cluster.request_timeout_ms = 2000\n      a request",
                           "\n  cluster.secret = \"\"\n      secret",
                           "\n  [[cluster.nodes]] name, host, port, bus_port, slots\n"}) {
    EXPECT_THAT(file_only, HasSubstr(line));
  }
  for (const char* key : {"server.protected_mode", "storage.snapshot_after_writes",
                          "storage.wal_segment_bytes", "cluster.request_timeout_ms",
                          "cluster.secret"}) {
    EXPECT_THAT(flags, Not(HasSubstr(key))) << key;
  }
  // Every line of the flags part that starts a setting names a flag.
  size_t at = flags.find("Flags:\n");
  ASSERT_NE(at, std::string::npos);
  for (at = flags.find('\n', at) + 1; at < flags.size(); at = flags.find('\n', at) + 1) {
    const std::string line = flags.substr(at, flags.find('\n', at) - at);
    if (line.empty()) break;
    const size_t text = line.find_first_not_of(' ');
    if (text == 2) {
      EXPECT_EQ(line[2], '-') << line;  // not a blank flag column
    }
  }
  // The defaults shown are the parser's: the file accepts them as written.
  Result<Config> parsed = Toml(
      "[server]\nprotected_mode = true\n[storage]\nsnapshot_after_writes = 1000000\n"
      "wal_segment_bytes = 67108864\n[cluster]\nrequest_timeout_ms = 2000\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, Config());
}

// --- -i without cluster mode ------------------------------------------------------------

TEST_F(ConfigTest, NodeNameFlagWithoutClusterModeIsAnError) {
  EXPECT_EQ(Error(Parse({"-i", "node1"})),
            "-i node1: a node name only means something in cluster mode; add -c (or set "
            "cluster.enabled = true in the file given with -f), or drop -i");
  Result<CommandLine> with_c = Parse({"-c", "-i", "node1"});
  ASSERT_TRUE(with_c.ok()) << with_c.status().ToString();
  EXPECT_EQ(with_c->config.node_name, "node1");
  // Cluster mode from the file counts.
  Result<CommandLine> from_file =
      Parse({"-f", WriteFile("[cluster]\nenabled = true\n"), "-i", "n"});
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ(from_file->config.node_name, "n");
  // A file may keep its node name with cluster mode switched off.
  Result<CommandLine> off =
      Parse({"-f", WriteFile("[cluster]\nenabled = false\nname = \"n\"\n")});
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_FALSE(off->config.cluster);
}

}  // namespace
}  // namespace memento::daemon

namespace memento::daemon {
namespace {

TEST(ConfigBytesTest, ControlAndNonAsciiBytesAreRefusedWithTheirPlace) {
  Result<Config> nul = ParseConfigToml(std::string("[server]\nport = 1\x00", 18), "m.toml", Config());
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.status().message(), "m.toml:2:9: byte 0x00 is not allowed: a config file is plain ASCII text");
  Result<Config> utf8 = ParseConfigToml("\xcc\xaa", "m.toml", Config());
  ASSERT_FALSE(utf8.ok());
  EXPECT_EQ(utf8.status().message(), "m.toml:1:1: byte 0xcc is not allowed: a config file is plain ASCII text");
  EXPECT_TRUE(ParseConfigToml("[server]\r\n\tport = 1 # tab and CRLF are fine\r\n", "m.toml", Config()).ok());
}

}  // namespace
}  // namespace memento::daemon
