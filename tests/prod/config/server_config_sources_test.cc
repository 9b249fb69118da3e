// The configuration sources: YAML file, REEFDB_* environment, command-line
// flags, and their precedence (defaults < file < env < flags).
#include "prod/config/server_config_sources.h"

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prod/config/server_config_settings.h"

namespace reef::prod {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr const char* kPeersYaml = R"(
peers:
  - {id: 1, raft_address: "127.0.0.1:7001", http_address: "127.0.0.1:8001"}
  - {id: 2, raft_address: "127.0.0.1:7002", http_address: "127.0.0.1:8002"}
  - {id: 3, raft_address: "127.0.0.1:7003", http_address: "127.0.0.1:8003"}
)";
constexpr const char* kPeersCompact = "1=127.0.0.1:7001/127.0.0.1:8001,2=127.0.0.1:7002/127.0.0.1:8002,"
                                      "3=127.0.0.1:7003/127.0.0.1:8003";

std::string yaml_error(absl::string_view text) {
  ServerConfig config;
  absl::Status status = apply_yaml(config, text, "node.yaml");
  EXPECT_FALSE(status.ok()) << text;
  return std::string(status.message());
}

std::string write_temp_file(const std::string& name, const std::string& contents) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/", name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
  return path;
}

// Sets a variable for one test and removes it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) { setenv(name, value.c_str(), 1); }
  ~ScopedEnv() { unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

// --- YAML ---------------------------------------------------------------------

TEST(ServerConfigYaml, ReadsNestedSectionsAndPeers) {
  ServerConfig config;
  const std::string text = absl::StrCat("node_id: 2\nraft:\n  tick_ms: 50\n  pre_vote: false\nlog_level: debug\n",
                                        kPeersYaml);
  ASSERT_TRUE(apply_yaml(config, text, "node.yaml").ok()) << apply_yaml(config, text, "node.yaml");
  EXPECT_EQ(config.node_id, 2u);
  EXPECT_EQ(config.raft.tick_ms, 50u);
  EXPECT_FALSE(config.raft.pre_vote);
  EXPECT_EQ(config.log_level, LogLevel::kDebug);
  ASSERT_EQ(config.peers.size(), 3u);
  EXPECT_EQ(config.peers[2].http_address, (Endpoint{"127.0.0.1", 8003}));
  EXPECT_EQ(config.sources.at("raft.tick_ms"), "node.yaml:3");
  EXPECT_EQ(config.sources.at("node_id"), "node.yaml:1");
}

TEST(ServerConfigYaml, EmptyDocumentChangesNothing) {
  ServerConfig config;
  EXPECT_TRUE(apply_yaml(config, "", "node.yaml").ok());
  EXPECT_TRUE(apply_yaml(config, "# only a comment\n", "node.yaml").ok());
  EXPECT_TRUE(apply_yaml(config, "raft:\n", "node.yaml").ok());  // an empty section
  EXPECT_TRUE(config.sources.empty());
}

TEST(ServerConfigYaml, RefusesUnknownKeysWithTheirPath) {
  EXPECT_EQ(yaml_error("node_id: 1\nraft:\n  heartbeat: 100\n"),
            "node.yaml:3: raft.heartbeat: unknown key (did you mean \"raft.heartbeat_ms\"?)");
  EXPECT_EQ(yaml_error("raf:\n  tick_ms: 100\n"), "node.yaml:1: raf: unknown key (did you mean \"raft\"?)");
  EXPECT_EQ(yaml_error("data_directory: /x\n"), "node.yaml:1: data_directory: unknown key");
  EXPECT_THAT(yaml_error("limits:\n  max_frame_byte: 10\n"),
              HasSubstr("limits.max_frame_byte: unknown key (did you mean \"limits.max_frame_bytes\"?)"));
  EXPECT_THAT(yaml_error("peers:\n  - {id: 1, raft_adress: a:1, http_address: a:2}\n"),
              AllOf(HasSubstr("peers[0].raft_adress: unknown key (did you mean \"raft_address\"?)"),
                    HasSubstr("peers[0].raft_address: is required")));
}

TEST(ServerConfigYaml, RefusesWrongTypes) {
  EXPECT_THAT(yaml_error("node_id: \"1\"\n"), HasSubstr("node.yaml:1: node_id: expected an unquoted number"));
  EXPECT_THAT(yaml_error("node_id: one\n"), HasSubstr("node_id: expected an unsigned integer, got \"one\""));
  EXPECT_THAT(yaml_error("node_id: -1\n"), HasSubstr("node_id: expected an unsigned integer"));
  EXPECT_THAT(yaml_error("node_id: 1.5\n"), HasSubstr("node_id: expected an unsigned integer"));
  EXPECT_THAT(yaml_error("raft:\n  tick_ms: 4294967296\n"), HasSubstr("raft.tick_ms: must be at most 4294967295"));
  EXPECT_THAT(yaml_error("raft:\n  pre_vote: yes\n"), HasSubstr("raft.pre_vote: expected true or false"));
  EXPECT_THAT(yaml_error("data_dir: [a, b]\n"), HasSubstr("data_dir: expected a single value, got a list"));
  EXPECT_THAT(yaml_error("data_dir: {a: b}\n"), HasSubstr("data_dir: expected a single value, got a map"));
  EXPECT_THAT(yaml_error("data_dir:\n"), HasSubstr("data_dir: expected a single value, got nothing (null)"));
  EXPECT_THAT(yaml_error("raft: 5\n"), HasSubstr("raft: is a section: expected a map, got a single value"));
  EXPECT_THAT(yaml_error("peers: 1=a:1/a:2\n"), HasSubstr("peers: expected a list of {id, raft_address"));
  EXPECT_THAT(yaml_error("peers: [5]\n"), HasSubstr("peers[0]: expected a map"));
  EXPECT_THAT(yaml_error("peers:\n  - {id: \"1\", raft_address: a:1, http_address: a:2}\n"),
              HasSubstr("peers[0].id: expected an unquoted number, got a quoted string"));
  EXPECT_THAT(yaml_error("- 1\n- 2\n"), HasSubstr("node.yaml:1: expected a map of settings, got a list"));
  EXPECT_THAT(yaml_error("log_level: loud\n"), HasSubstr("log_level: expected one of trace"));
}

TEST(ServerConfigYaml, RefusesBadAddresses) {
  EXPECT_THAT(yaml_error("raft:\n  listen_address: localhost\n"),
              HasSubstr("node.yaml:2: raft.listen_address: expected host:port"));
  EXPECT_THAT(yaml_error("http:\n  advertise_address: \"h:70000\"\n"),
              HasSubstr("http.advertise_address: expected host:port with a port in 1..65535"));
  EXPECT_THAT(yaml_error("peers:\n  - {id: 1, raft_address: a, http_address: \"b:0\"}\n"),
              AllOf(HasSubstr("peers[0].raft_address: expected host:port"),
                    HasSubstr("peers[0].http_address: expected host:port with a port")));
}

TEST(ServerConfigYaml, RefusesDuplicateAndDottedKeys) {
  EXPECT_THAT(yaml_error("node_id: 1\nnode_id: 2\n"), HasSubstr("node.yaml:2: node_id: duplicate key"));
  EXPECT_THAT(yaml_error("raft.tick_ms: 10\n"), HasSubstr("node.yaml:1: raft.tick_ms: dotted keys are not accepted"));
}

TEST(ServerConfigYaml, ReportsSyntaxErrorsWithLineAndColumn) {
  EXPECT_THAT(yaml_error("peers: [1,\nnode_id: 2\n"), HasSubstr("node.yaml:"));
  EXPECT_THAT(yaml_error("peers: [1,\nnode_id: 2\n"), HasSubstr("invalid YAML"));
}

TEST(ServerConfigYaml, ReportsEveryProblemInOnePass) {
  const std::string error = yaml_error("node_idd: 1\nraft:\n  tick_ms: x\n  heartbeat_ms: \"5\"\n");
  EXPECT_THAT(error, AllOf(HasSubstr("node_idd"), HasSubstr("raft.tick_ms"), HasSubstr("raft.heartbeat_ms")));
}

TEST(ServerConfigYaml, FileErrorsNameThePath) {
  ServerConfig config;
  absl::Status missing = apply_yaml_file(config, "/nonexistent/reefdb.yaml");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr("/nonexistent/reefdb.yaml: cannot open config file"));
  EXPECT_THAT(apply_yaml_file(config, ::testing::TempDir()).message(), HasSubstr("is a directory"));
}

TEST(ServerConfigYaml, ExampleFileLoadsAndIsValid) {
  ServerConfig config;
  absl::Status status = apply_yaml_file(config, REEF_EXAMPLE_CONFIG);
  ASSERT_TRUE(status.ok()) << status;
  // The example writes every setting, so each one has the file as its source.
  for (const Setting& setting : all_settings()) {
    EXPECT_TRUE(config.sources.contains(setting.key)) << setting.key << " missing from the example";
  }
  resolve_derived_settings(config);
  ASSERT_TRUE(validate(config).ok()) << validate(config);
  EXPECT_TRUE(to_node_config(config, 7).ok());
  // ... and writes the defaults, so it doubles as their documentation.
  ServerConfig defaults;
  for (const Setting& setting : all_settings()) {
    const absl::string_view key = setting.key;
    if (key == "node_id" || key == "data_dir" || key == "peers" || absl::EndsWith(key, "_address")) continue;
    EXPECT_EQ(format_setting(setting, config), format_setting(setting, defaults)) << key;
  }
}

// --- environment ----------------------------------------------------------------

TEST(ServerConfigEnv, SetsSettingsFromTheirVariables) {
  ServerConfig config;
  const std::vector<std::string> env = {"PATH=/bin", "REEFDB_NODE_ID=3", "REEFDB_RAFT_PRE_VOTE=false",
                                        absl::StrCat("REEFDB_PEERS=", kPeersCompact), "REEFDB_DATA_DIR=/d"};
  ASSERT_TRUE(apply_environment(config, env).ok()) << apply_environment(config, env);
  EXPECT_EQ(config.node_id, 3u);
  EXPECT_FALSE(config.raft.pre_vote);
  EXPECT_EQ(config.peers.size(), 3u);
  EXPECT_EQ(config.data_dir, "/d");
  EXPECT_EQ(config.sources.at("data_dir"), "env REEFDB_DATA_DIR");
}

TEST(ServerConfigEnv, RefusesUnknownReefdbVariables) {
  ServerConfig config;
  absl::Status status = apply_environment(config, {"REEFDB_DATA_DIRR=/x", "REEFDB_CONFIG=/c.yaml", "OTHER=1"});
  EXPECT_EQ(status.message(),
            "env REEFDB_DATA_DIRR: unknown variable (did you mean \"REEFDB_DATA_DIR\"?); every REEFDB_ variable "
            "must name a setting");
}

TEST(ServerConfigEnv, BadValuesNameVariableAndKey) {
  ServerConfig config;
  EXPECT_EQ(apply_environment(config, {"REEFDB_RAFT_TICK_MS=fast"}).message(),
            "env REEFDB_RAFT_TICK_MS: raft.tick_ms: expected an unsigned integer, got \"fast\"");
  EXPECT_THAT(apply_environment(config, {"REEFDB_PEERS=1=a:1"}).message(),
              HasSubstr("env REEFDB_PEERS: peers: entry 1: expected id=raft-host:port/http-host:port"));
}

// --- flags ------------------------------------------------------------------------

TEST(ServerConfigFlags, AcceptsBothFormsAndBareBooleans) {
  absl::StatusOr<CommandLine> line =
      parse_command_line({"--node-id=2", "--data-dir", "/d", "--raft-pre-vote", "--raft-check-quorum", "false",
                          "--raft-lease-reads", "--config", "/c.yaml"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->config_path, "/c.yaml");
  ServerConfig config;
  ASSERT_TRUE(apply_flags(config, *line).ok()) << apply_flags(config, *line);
  EXPECT_EQ(config.node_id, 2u);
  EXPECT_EQ(config.data_dir, "/d");
  EXPECT_TRUE(config.raft.pre_vote);
  EXPECT_FALSE(config.raft.check_quorum);
  EXPECT_TRUE(config.raft.lease_reads);
  EXPECT_EQ(config.sources.at("raft.check_quorum"), "flag --raft-check-quorum");
}

TEST(ServerConfigFlags, LaterFlagWins) {
  absl::StatusOr<CommandLine> line = parse_command_line({"--node-id=2", "--node-id=5"});
  ServerConfig config;
  ASSERT_TRUE(apply_flags(config, *line).ok());
  EXPECT_EQ(config.node_id, 5u);
}

TEST(ServerConfigFlags, RecognisesHelp) {
  EXPECT_TRUE(parse_command_line({"--help"})->help);
  EXPECT_TRUE(parse_command_line({"-h"})->help);
  EXPECT_FALSE(parse_command_line({})->help);
}

TEST(ServerConfigFlags, RefusesUnknownFlagsPositionalsAndMissingValues) {
  EXPECT_EQ(parse_command_line({"--data-dri=/x"}).status().message(),
            "flag --data-dri: unknown flag (did you mean \"--data-dir\"?); see --help");
  EXPECT_THAT(parse_command_line({"serve"}).status().message(), HasSubstr("argument \"serve\": expected --setting"));
  EXPECT_THAT(parse_command_line({"--"}).status().message(), HasSubstr("argument \"--\""));
  EXPECT_THAT(parse_command_line({"-n", "1"}).status().message(), HasSubstr("argument \"-n\""));
  EXPECT_EQ(parse_command_line({"--node-id"}).status().message(), "flag --node-id: needs a value");
}

TEST(ServerConfigFlags, BadValuesNameFlagAndKey) {
  absl::StatusOr<CommandLine> line = parse_command_line({"--raft-listen-address", "nohost"});
  ASSERT_TRUE(line.ok());
  ServerConfig config;
  EXPECT_THAT(apply_flags(config, *line).message(),
              HasSubstr("flag --raft-listen-address: raft.listen_address: expected host:port"));
}

TEST(ServerConfigFlags, UsageListsEveryFlagWithItsDefault) {
  const std::string usage = command_line_usage();
  for (const Setting& setting : all_settings()) EXPECT_THAT(usage, HasSubstr(absl::StrCat("--", flag_name(setting))));
  EXPECT_THAT(usage, HasSubstr("--config"));
  EXPECT_THAT(usage, HasSubstr("[1000]"));  // raft.election_timeout_ms
}

// --- the settings table -------------------------------------------------------------

TEST(ServerConfigSettings, NamesAreUniqueAndDerivedFromTheKey) {
  absl::btree_set<std::string> keys, variables, flags;
  for (const Setting& setting : all_settings()) {
    EXPECT_TRUE(keys.insert(std::string(setting.key)).second) << setting.key;
    EXPECT_TRUE(variables.insert(env_variable_name(setting)).second) << setting.key;
    EXPECT_TRUE(flags.insert(flag_name(setting)).second) << setting.key;
    EXPECT_EQ(find_setting_by_env(env_variable_name(setting)), &setting);
    EXPECT_EQ(find_setting_by_flag(flag_name(setting)), &setting);
  }
  EXPECT_EQ(env_variable_name(*find_setting_by_key("data_dir")), "REEFDB_DATA_DIR");
  EXPECT_EQ(flag_name(*find_setting_by_key("raft.election_timeout_ms")), "raft-election-timeout-ms");
}

TEST(ServerConfigSettings, EveryValueRoundTripsThroughItsTextForm) {
  ServerConfig config;
  ASSERT_TRUE(apply_yaml_file(config, REEF_EXAMPLE_CONFIG).ok());
  for (const Setting& setting : all_settings()) {
    const std::string text = format_setting(setting, config);
    ServerConfig copy;
    ASSERT_TRUE(apply_setting(setting, text, "test", copy).ok()) << setting.key << " = " << text;
    EXPECT_EQ(format_setting(setting, copy), text) << setting.key;
  }
}

// --- precedence -------------------------------------------------------------------

class ServerConfigPrecedence : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = write_temp_file("precedence.yaml", absl::StrCat("node_id: 1\n"
                                                             "data_dir: /from/file\n"
                                                             "cluster_name: file\n"
                                                             "raft:\n"
                                                             "  tick_ms: 20\n",
                                                             kPeersYaml));
  }
  std::string file_;
};

TEST_F(ServerConfigPrecedence, DefaultsThenFileThenEnvThenFlags) {
  ScopedEnv config_file("REEFDB_CONFIG", file_);
  ScopedEnv data_dir("REEFDB_DATA_DIR", "/from/env");
  ScopedEnv cluster("REEFDB_CLUSTER_NAME", "env");
  absl::StatusOr<ServerConfig> config =
      load_server_config(std::vector<std::string>{"--cluster-name=flag"}, process_environment());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->raft.heartbeat_ms, 100u);   // default only
  EXPECT_EQ(config->raft.tick_ms, 20u);         // file beats default
  EXPECT_EQ(config->data_dir, "/from/env");     // env beats file
  EXPECT_EQ(config->cluster_name, "flag");      // flag beats env and file
  EXPECT_FALSE(config->sources.contains("raft.heartbeat_ms"));
  EXPECT_EQ(config->sources.at("raft.tick_ms"), absl::StrCat(file_, ":5"));
  EXPECT_EQ(config->sources.at("data_dir"), "env REEFDB_DATA_DIR");
  EXPECT_EQ(config->sources.at("cluster_name"), "flag --cluster-name");
}

TEST_F(ServerConfigPrecedence, ConfigFlagBeatsConfigVariable) {
  ScopedEnv config_file("REEFDB_CONFIG", "/nonexistent.yaml");
  absl::StatusOr<ServerConfig> config =
      load_server_config(std::vector<std::string>{"--config", file_}, process_environment());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->data_dir, "/from/file");
}

TEST_F(ServerConfigPrecedence, WorksWithoutAFile) {
  ScopedEnv peers("REEFDB_PEERS", kPeersCompact);
  absl::StatusOr<ServerConfig> config =
      load_server_config(std::vector<std::string>{"--node-id", "3"}, process_environment());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->node_id, 3u);
  EXPECT_EQ(config->raft.listen_address, (Endpoint{"127.0.0.1", 7003}));
}

TEST_F(ServerConfigPrecedence, ValidationErrorsCiteTheWinningSource) {
  ScopedEnv heartbeat("REEFDB_RAFT_HEARTBEAT_MS", "500");
  absl::StatusOr<ServerConfig> config = load_server_config(
      std::vector<std::string>{"--config", file_, "--raft-election-timeout-ms=1000"}, process_environment());
  EXPECT_EQ(config.status().message(),
            "flag --raft-election-timeout-ms: raft.election_timeout_ms: must be at least 5 x raft.heartbeat_ms "
            "(got 1000 and 500)");
}

TEST_F(ServerConfigPrecedence, StopsAtTheFirstFailingSource) {
  ScopedEnv bad("REEFDB_NODE_ID", "x");
  absl::StatusOr<ServerConfig> config = load_server_config(std::vector<std::string>{}, process_environment());
  EXPECT_THAT(config.status().message(), HasSubstr("env REEFDB_NODE_ID: node_id"));
  EXPECT_THAT(load_server_config(std::vector<std::string>{"--config="}, {}).status().message(),
              HasSubstr("flag --config: is empty"));
}

// --- bootstrap defaults (apply_bootstrap_defaults) ----------------------------

TEST(ServerConfigBootstrap, DataDirAloneIsASingleNodeClusterOnTheDefaultAddresses) {
  absl::StatusOr<CommandLine> line = parse_command_line({"--data-dir", "/tmp/one"});
  ASSERT_TRUE(line.ok());
  absl::StatusOr<ServerConfig> config = load_server_config(*line, {});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->node_id, 1u);
  const PeerConfig only{raft::NodeId(1), Endpoint{"127.0.0.1", 4002}, Endpoint{"127.0.0.1", 4001}};
  EXPECT_EQ(config->peers, std::vector<PeerConfig>{only});
  EXPECT_EQ(config->raft.listen_address, (Endpoint{"127.0.0.1", 4002}));
  EXPECT_EQ(config->http.listen_address, (Endpoint{"127.0.0.1", 4001}));
  EXPECT_THAT(describe(*config), HasSubstr("single-node cluster"));
}

TEST(ServerConfigBootstrap, TheRememberedNodeIdWinsOverTheDefault) {
  absl::StatusOr<CommandLine> line = parse_command_line({"--data-dir", "/tmp/seven"});
  ASSERT_TRUE(line.ok());
  std::string asked;
  absl::StatusOr<ServerConfig> config = load_server_config(*line, {}, [&](const std::string& dir) {
    asked = dir;
    return std::optional<uint64_t>(7);
  });
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(asked, "/tmp/seven");
  EXPECT_EQ(config->node_id, 7u);
  ASSERT_EQ(config->peers.size(), 1u);
  EXPECT_EQ(config->peers[0].id, raft::NodeId(7));
  EXPECT_THAT(config->sources.at("node_id"), HasSubstr("/tmp/seven/identity"));
}

TEST(ServerConfigBootstrap, SingleNodeUsesTheConfiguredAddresses) {
  absl::StatusOr<CommandLine> line = parse_command_line(
      {"--node-id", "4", "--http-listen-address", "0.0.0.0:9001", "--raft-advertise-address", "10.0.0.4:9002"});
  ASSERT_TRUE(line.ok());
  absl::StatusOr<ServerConfig> config = load_server_config(*line, {});
  ASSERT_TRUE(config.ok()) << config.status();
  const PeerConfig only{raft::NodeId(4), Endpoint{"10.0.0.4", 9002}, Endpoint{"127.0.0.1", 9001}};
  EXPECT_EQ(config->peers, std::vector<PeerConfig>{only});
  EXPECT_EQ(config->http.listen_address, (Endpoint{"0.0.0.0", 9001}));
}

TEST(ServerConfigBootstrap, StaticPeersStillNeedANodeIdUnlessRemembered) {
  absl::StatusOr<CommandLine> line = parse_command_line({"--peers", kPeersCompact});
  ASSERT_TRUE(line.ok());
  EXPECT_THAT(load_server_config(*line, {}).status().message(), HasSubstr("node_id: is required"));
  absl::StatusOr<ServerConfig> remembered =
      load_server_config(*line, {}, [](const std::string&) { return std::optional<uint64_t>(2); });
  ASSERT_TRUE(remembered.ok()) << remembered.status();
  EXPECT_EQ(remembered->node_id, 2u);
  EXPECT_EQ(remembered->peers.size(), 3u);
}

}  // namespace
}  // namespace reef::prod
