// ServerConfig values, validation, conversion to raft::NodeConfig and
// describe(). The sources (YAML, environment, flags) are tested in
// server_config_sources_test.cc.
#include "prod/config/server_config.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prod/config/server_config_settings.h"
#include "prod/config/server_config_values.h"

namespace reef::prod {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

PeerConfig peer(uint64_t id, std::string host, uint16_t raft_port, uint16_t http_port) {
  return PeerConfig{raft::NodeId(id), Endpoint{host, raft_port}, Endpoint{host, http_port}};
}

// Defaults plus what a real node must say: its id and the cluster.
ServerConfig three_node_config() {
  ServerConfig config;
  config.node_id = 1;
  config.peers = {peer(1, "10.0.0.1", 7001, 8001), peer(2, "10.0.0.2", 7001, 8001), peer(3, "10.0.0.3", 7001, 8001)};
  resolve_derived_settings(config);
  return config;
}

std::string validation_error(const ServerConfig& config) {
  absl::Status status = validate(config);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

// --- values -----------------------------------------------------------------

TEST(ServerConfigValues, ParsesEndpointForms) {
  EXPECT_EQ(*parse_endpoint("127.0.0.1:7001"), (Endpoint{"127.0.0.1", 7001}));
  EXPECT_EQ(*parse_endpoint("node-1.example.com:80"), (Endpoint{"node-1.example.com", 80}));
  EXPECT_EQ(*parse_endpoint("[::1]:7001"), (Endpoint{"::1", 7001}));
  EXPECT_EQ(*parse_endpoint("0.0.0.0:65535"), (Endpoint{"0.0.0.0", 65535}));
  EXPECT_EQ(parse_endpoint("[::1]:7001")->to_string(), "[::1]:7001");
}

TEST(ServerConfigValues, RefusesBadAddresses) {
  for (const char* bad : {"", "host", "host:", ":7001", "host:0", "host:65536", "host:7o01", "::1:7001",
                          "[::1]7001", "[::1", "[abc]:1", "ho st:1", "host:-1", "host:+80", "a/b:1"}) {
    absl::StatusOr<Endpoint> parsed = parse_endpoint(bad);
    EXPECT_FALSE(parsed.ok()) << "accepted \"" << bad << "\"";
    EXPECT_THAT(parsed.status().message(), HasSubstr("expected")) << bad;
  }
  EXPECT_THAT(parse_endpoint("::1:7001").status().message(), HasSubstr("needs brackets"));
  EXPECT_THAT(parse_endpoint("h:0").status().message(), HasSubstr("port in 1..65535"));
}

TEST(ServerConfigValues, ParsesUnsignedStrictly) {
  EXPECT_EQ(*parse_unsigned("0", 10), 0u);
  EXPECT_EQ(*parse_unsigned("18446744073709551615", UINT64_MAX), UINT64_MAX);
  for (const char* bad : {"", "-1", "+1", "1e3", "0x10", " 1", "1 ", "1.0", "18446744073709551616", "abc"}) {
    EXPECT_FALSE(parse_unsigned(bad, UINT64_MAX).ok()) << "accepted \"" << bad << "\"";
  }
  EXPECT_THAT(parse_unsigned("11", 10).status().message(), HasSubstr("must be at most 10 (got 11)"));
}

TEST(ServerConfigValues, ParsesBoolAndLogLevel) {
  EXPECT_TRUE(*parse_bool("true"));
  EXPECT_FALSE(*parse_bool("false"));
  for (const char* bad : {"yes", "no", "on", "1", "True", ""}) EXPECT_FALSE(parse_bool(bad).ok()) << bad;
  EXPECT_EQ(*parse_log_level("warn"), LogLevel::kWarn);
  EXPECT_THAT(parse_log_level("verbose").status().message(), HasSubstr("one of trace, debug, info"));
}

TEST(ServerConfigValues, ParsesCompactPeerListBothWays) {
  absl::StatusOr<std::vector<PeerConfig>> peers = parse_peer_list("1=a:7001/a:8001, 2=[::2]:7001/b:8001");
  ASSERT_TRUE(peers.ok()) << peers.status();
  ASSERT_EQ(peers->size(), 2u);
  EXPECT_EQ((*peers)[1], (PeerConfig{raft::NodeId(2), Endpoint{"::2", 7001}, Endpoint{"b", 8001}}));
  EXPECT_EQ(format_peer_list(*peers), "1=a:7001/a:8001,2=[::2]:7001/b:8001");
}

TEST(ServerConfigValues, PeerListErrorsNameTheEntry) {
  EXPECT_THAT(parse_peer_list("1=a:1/a:2,2=b:1").status().message(), HasSubstr("entry 2: expected id=raft"));
  EXPECT_THAT(parse_peer_list("x=a:1/a:2").status().message(), HasSubstr("entry 1: node id: expected"));
  EXPECT_THAT(parse_peer_list("1=a/a:2").status().message(), HasSubstr("entry 1: raft address"));
  EXPECT_THAT(parse_peer_list("1=a:1/a:0").status().message(), HasSubstr("entry 1: http address"));
  EXPECT_FALSE(parse_peer_list("").ok());
}

// --- validation ---------------------------------------------------------------

TEST(ServerConfigValidation, ThreeNodeConfigWithDefaultsIsValid) {
  ServerConfig config = three_node_config();
  EXPECT_TRUE(validate(config).ok()) << validate(config);
}

TEST(ServerConfigValidation, NodeIdIsRequired) {
  ServerConfig config = three_node_config();
  config.node_id = 0;
  EXPECT_THAT(validation_error(config), HasSubstr("node_id: is required"));
}

TEST(ServerConfigValidation, NodeMustBeInPeers) {
  ServerConfig config = three_node_config();
  config.node_id = 4;
  EXPECT_THAT(validation_error(config), HasSubstr("node_id: node 4 is not in peers"));
}

TEST(ServerConfigValidation, PeersAreRequired) {
  ServerConfig config;
  config.node_id = 1;
  EXPECT_THAT(validation_error(config), HasSubstr("peers: must list every member"));
}

TEST(ServerConfigValidation, PeerIdsMustBeUnique) {
  ServerConfig config = three_node_config();
  config.peers.push_back(peer(2, "10.0.0.9", 7001, 8001));
  EXPECT_THAT(validation_error(config), HasSubstr("peers: node id 2 appears twice"));
}

TEST(ServerConfigValidation, PeerIdZeroIsReserved) {
  ServerConfig config = three_node_config();
  config.peers.push_back(peer(0, "10.0.0.9", 7001, 8001));
  EXPECT_THAT(validation_error(config), HasSubstr("peers: node id 0 is reserved"));
}

TEST(ServerConfigValidation, PeerAddressesMustBeUnique) {
  ServerConfig config = three_node_config();
  config.peers[2].raft_address = config.peers[1].raft_address;
  EXPECT_THAT(validation_error(config),
              HasSubstr("peers: address 10.0.0.2:7001 is used twice (node 2 raft and node 3 raft)"));
  config = three_node_config();
  config.peers[0].http_address = config.peers[0].raft_address;  // one port, two protocols
  EXPECT_THAT(validation_error(config), HasSubstr("(node 1 raft and node 1 http)"));
}

TEST(ServerConfigValidation, PeerAddressesMustBeDialable) {
  ServerConfig config = three_node_config();
  config.peers[1].raft_address = Endpoint{"0.0.0.0", 7001};
  EXPECT_THAT(validation_error(config), HasSubstr("peers: node 2: 0.0.0.0:7001 cannot be dialed"));
}

TEST(ServerConfigValidation, AdvertiseAddressMustMatchPeers) {
  ServerConfig config = three_node_config();
  ASSERT_TRUE(apply_setting(*find_setting_by_key("raft.advertise_address"), "10.0.0.1:7999", "flag --x", config).ok());
  EXPECT_THAT(validation_error(config),
              HasSubstr("flag --x: raft.advertise_address: must equal this node's peers entry (got 10.0.0.1:7999, "
                        "peers says 10.0.0.1:7001)"));
  config = three_node_config();
  config.http.advertise_address = Endpoint{"::", 8001};
  EXPECT_THAT(validation_error(config), HasSubstr("http.advertise_address: [::]:8001 cannot be dialed"));
}

TEST(ServerConfigValidation, ListenAddressesMustNotCollide) {
  ServerConfig config = three_node_config();
  config.raft.listen_address = Endpoint{"0.0.0.0", 9000};
  config.http.listen_address = Endpoint{"10.0.0.1", 9000};
  EXPECT_THAT(validation_error(config), HasSubstr("http.listen_address: collides with raft.listen_address"));
}

TEST(ServerConfigValidation, ElectionTimeoutNeedsFiveHeartbeats) {
  ServerConfig config = three_node_config();
  config.raft.tick_ms = 10;
  config.raft.heartbeat_ms = 50;
  config.raft.election_timeout_ms = 100;
  config.sources["raft.election_timeout_ms"] = "config.yaml:7";
  EXPECT_EQ(validation_error(config),
            "config.yaml:7: raft.election_timeout_ms: must be at least 5 x raft.heartbeat_ms (got 100 and 50)");
}

TEST(ServerConfigValidation, TimingsMustBeWholeTicks) {
  ServerConfig config = three_node_config();
  config.raft.tick_ms = 30;
  EXPECT_THAT(validation_error(config),
              AllOf(HasSubstr("raft.heartbeat_ms: must be a positive multiple of raft.tick_ms (got 100 and 30)"),
                    HasSubstr("raft.election_timeout_ms: must be a multiple of raft.tick_ms (got 1000 and 30)")));
  config.raft.tick_ms = 0;
  EXPECT_THAT(validation_error(config), HasSubstr("raft.tick_ms: must be in 1..10000 (got 0)"));
}

TEST(ServerConfigValidation, LeaseReadsNeedCheckQuorumAndASmallMargin) {
  ServerConfig config = three_node_config();
  config.raft.lease_reads = true;
  config.raft.check_quorum = false;
  config.raft.lease_clock_margin_ms = 1000;
  EXPECT_THAT(validation_error(config),
              AllOf(HasSubstr("raft.lease_reads: requires raft.check_quorum"),
                    HasSubstr("raft.lease_clock_margin_ms: must be below raft.election_timeout_ms")));
}

TEST(ServerConfigValidation, EveryLimitMustBePositive) {
  const std::vector<std::string> keys = {
      "raft.max_inflight_messages", "raft.max_inflight_bytes",   "raft.max_entries_per_message",
      "raft.max_message_bytes",     "raft.max_pending_reads",    "snapshot.entries",
      "snapshot.bytes",             "snapshot.chunk_bytes",      "snapshot.resend_ms",
      "snapshot.transfer_attempts", "requests.timeout_ms",       "requests.forwarded_timeout_ms",
      "requests.max_pending",       "limits.max_http_body_bytes", "limits.peer_send_queue_messages",
      "raft.max_entry_bytes",       "requests.read_timeout_ms",   "requests.read_threads",
      "requests.max_queued_reads"};
  for (const std::string& key : keys) {
    ServerConfig config = three_node_config();
    ASSERT_TRUE(apply_setting(*find_setting_by_key(key), "0", "env X", config).ok()) << key;
    EXPECT_THAT(validation_error(config), HasSubstr(absl::StrCat("env X: ", key, ": must be positive (got 0)")));
  }
}

TEST(ServerConfigValidation, UncommittedBoundHoldsAnEntry) {
  ServerConfig config = three_node_config();
  config.raft.max_uncommitted_bytes = config.raft.max_entry_bytes - 1;
  EXPECT_THAT(validation_error(config), HasSubstr("raft.max_uncommitted_bytes: must be at least raft.max_entry_bytes"));
}

TEST(ServerConfigValidation, FrameLimitHoldsTheLargestMessage) {
  ServerConfig config = three_node_config();
  config.snapshot.chunk_bytes = config.limits.max_frame_bytes;  // no room for the envelope
  EXPECT_THAT(validation_error(config),
              HasSubstr("limits.max_frame_bytes: must be at least the largest of raft.max_message_bytes"));
}

TEST(ServerConfigValidation, FrameLimitHoldsTheLargestEntry) {
  ServerConfig config = three_node_config();
  config.limits.max_frame_bytes = config.raft.max_entry_bytes;
  config.sources["limits.max_frame_bytes"] = "flag --limits-max-frame-bytes";
  EXPECT_THAT(validation_error(config),
              HasSubstr(absl::StrCat(
                  "flag --limits-max-frame-bytes: limits.max_frame_bytes: must be at least the "
                  "largest of raft.max_message_bytes, raft.max_entry_bytes and "
                  "snapshot.chunk_bytes plus 65536 bytes of envelope (got ",
                  config.raft.max_entry_bytes, ", need ", config.raft.max_entry_bytes + 65536, ")")));
  config.limits.max_frame_bytes = uint64_t{1} << 32;
  EXPECT_THAT(validation_error(config), HasSubstr("limits.max_frame_bytes: must be at most 4294967295"));
}

// A transaction the HTTP API accepts must fit in one log entry, and the log
// store must hold every entry the core accepts.
TEST(ServerConfigValidation, EntryLimitHoldsTheLargestHttpBodyAndFitsTheLogStore) {
  ServerConfig config = three_node_config();
  config.raft.max_entry_bytes = 1ULL << 20;
  config.sources["raft.max_entry_bytes"] = "env REEFDB_RAFT_MAX_ENTRY_BYTES";
  EXPECT_THAT(
      validation_error(config),
      HasSubstr(absl::StrCat("env REEFDB_RAFT_MAX_ENTRY_BYTES: raft.max_entry_bytes: must be at least "
                             "limits.max_http_body_bytes, so that a transaction the HTTP API accepts fits "
                             "in one log entry (got 1048576 and ",
                             config.limits.max_http_body_bytes, ")")));
  config.limits.max_http_body_bytes = 1ULL << 20;
  EXPECT_TRUE(validate(config).ok()) << validate(config);
  config.raft.max_entry_bytes = (64ULL << 20) + 1;
  config.limits.max_frame_bytes = 128ULL << 20;
  EXPECT_THAT(
      validation_error(config),
      HasSubstr("raft.max_entry_bytes: must be at most 67108864, the largest entry the log store holds"));
}

// The defaults take a 16 MiB HTTP body as one entry, and every limit agrees.
TEST(ServerConfigValidation, DefaultLimitsTakeA16MiBRequest) {
  const ServerConfig config = three_node_config();
  EXPECT_TRUE(validate(config).ok()) << validate(config);
  EXPECT_EQ(config.limits.max_http_body_bytes, 16ULL << 20);
  EXPECT_GE(config.raft.max_entry_bytes, config.limits.max_http_body_bytes);
  const raft::NodeConfig raft_defaults;
  EXPECT_EQ(config.raft.max_entry_bytes, raft_defaults.core.max_entry_bytes);
}

TEST(ServerConfigValidation, ClusterNameAndDataDir) {
  ServerConfig config = three_node_config();
  config.cluster_name = "my cluster";
  config.data_dir = "";
  EXPECT_THAT(validation_error(config),
              AllOf(HasSubstr("cluster_name: must be 1 to 64 characters"), HasSubstr("data_dir: must not be empty")));
}

TEST(ServerConfigValidation, ReportsEveryProblemOnItsOwnLine) {
  ServerConfig config;
  config.raft.heartbeat_ms = 0;
  config.limits.max_http_body_bytes = 0;
  const std::string error = validation_error(config);
  EXPECT_THAT(error, AllOf(HasSubstr("node_id: is required"), HasSubstr("0 is reserved)\npeers: must list"),
                           HasSubstr("raft.heartbeat_ms:"), HasSubstr("limits.max_http_body_bytes:")));
}

// --- derived settings ---------------------------------------------------------

TEST(ServerConfigResolve, AddressesDefaultToThisNodesPeerEntry) {
  ServerConfig config = three_node_config();
  EXPECT_EQ(config.raft.advertise_address, (Endpoint{"10.0.0.1", 7001}));
  EXPECT_EQ(config.raft.listen_address, (Endpoint{"10.0.0.1", 7001}));
  EXPECT_EQ(config.http.advertise_address, (Endpoint{"10.0.0.1", 8001}));
  EXPECT_EQ(config.http.listen_address, (Endpoint{"10.0.0.1", 8001}));
  EXPECT_EQ(config.sources.at("raft.advertise_address"), "derived from peers");
  EXPECT_EQ(config.sources.at("http.listen_address"), "derived from http.advertise_address");
}

TEST(ServerConfigResolve, ExplicitListenAddressIsKept) {
  ServerConfig config;
  config.node_id = 2;
  config.peers = {peer(1, "a", 7001, 8001), peer(2, "b", 7001, 8001)};
  config.raft.listen_address = Endpoint{"0.0.0.0", 7001};
  resolve_derived_settings(config);
  EXPECT_EQ(config.raft.listen_address, (Endpoint{"0.0.0.0", 7001}));
  EXPECT_EQ(config.raft.advertise_address, (Endpoint{"b", 7001}));
  EXPECT_TRUE(validate(config).ok()) << validate(config);
}

// --- conversion -------------------------------------------------------------

TEST(ServerConfigToNodeConfig, ConvertsMillisecondsToTicksAndCopiesTheRest) {
  ServerConfig config = three_node_config();
  config.raft.tick_ms = 50;
  config.raft.heartbeat_ms = 100;
  config.raft.election_timeout_ms = 1500;
  config.raft.lease_reads = true;
  config.raft.lease_clock_margin_ms = 120;  // 2.4 ticks: rounds up to 3
  config.raft.pre_vote = false;
  config.raft.max_inflight_messages = 7;
  config.snapshot.entries = 123;
  config.requests.forward_to_leader = false;
  config.requests.forwarded_timeout_ms = 777;
  config.requests.max_pending = 55;
  absl::StatusOr<raft::NodeConfig> node = to_node_config(config, 42);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->core.id, raft::NodeId(1));
  EXPECT_EQ(node->core.heartbeat_interval_ticks, 2u);
  EXPECT_EQ(node->core.election_timeout_ticks, 30u);
  EXPECT_EQ(node->core.lease_clock_margin_ticks, 3u);
  EXPECT_TRUE(node->core.lease_reads);
  EXPECT_FALSE(node->core.pre_vote);
  EXPECT_EQ(node->core.max_inflight_messages, 7u);
  EXPECT_EQ(node->core.seed, 42u);
  EXPECT_EQ(node->snapshot.entries, 123u);
  EXPECT_FALSE(node->forward_to_leader);
  EXPECT_EQ(node->forwarded_request_timeout_ms, 777u);
  EXPECT_EQ(node->max_pending_requests, 55u);
  EXPECT_TRUE(node->validate().ok());
}

TEST(ServerConfigToNodeConfig, DefaultsMatchTheRaftDefaults) {
  absl::StatusOr<raft::NodeConfig> node = to_node_config(three_node_config(), 1);
  ASSERT_TRUE(node.ok()) << node.status();
  const raft::NodeConfig raft_defaults;
  EXPECT_EQ(node->core.election_timeout_ticks, raft_defaults.core.election_timeout_ticks);
  EXPECT_EQ(node->core.heartbeat_interval_ticks, raft_defaults.core.heartbeat_interval_ticks);
  EXPECT_EQ(node->core.lease_clock_margin_ticks, raft_defaults.core.lease_clock_margin_ticks);
  EXPECT_EQ(node->core.max_inflight_bytes, raft_defaults.core.max_inflight_bytes);
  EXPECT_EQ(node->core.max_uncommitted_bytes, raft_defaults.core.max_uncommitted_bytes);
  EXPECT_EQ(node->snapshot.bytes, raft_defaults.snapshot.bytes);
  EXPECT_EQ(node->snapshot_chunk_bytes, raft_defaults.snapshot_chunk_bytes);
  EXPECT_EQ(node->max_pending_requests, raft_defaults.max_pending_requests);
}

TEST(ServerConfigToNodeConfig, RefusesAnInvalidConfig) {
  ServerConfig config = three_node_config();
  config.raft.election_timeout_ms = 200;
  absl::StatusOr<raft::NodeConfig> node = to_node_config(config, 1);
  EXPECT_THAT(node.status().message(), HasSubstr("raft.election_timeout_ms"));
}

// --- describe and identity ----------------------------------------------------

TEST(ServerConfigDescribe, ListsEverySettingWithItsSource) {
  ServerConfig config = three_node_config();
  ASSERT_TRUE(apply_setting(*find_setting_by_key("data_dir"), "/var/lib/reefdb", "env REEFDB_DATA_DIR", config).ok());
  const std::string text = describe(config);
  for (const Setting& setting : all_settings()) EXPECT_THAT(text, HasSubstr(std::string(setting.key)));
  EXPECT_THAT(text, HasSubstr("node 1, cluster \"reefdb\""));
  EXPECT_THAT(text, HasSubstr("/var/lib/reefdb"));
  EXPECT_THAT(text, HasSubstr("(env REEFDB_DATA_DIR)"));
  EXPECT_THAT(text, HasSubstr("node 1: raft 10.0.0.1:7001, http 10.0.0.1:8001  <- this node"));
  EXPECT_THAT(text, HasSubstr("(derived from peers)"));
  EXPECT_THAT(text, Not(HasSubstr("(unset)")));
}

TEST(ServerConfigIdentity, ClusterIdIsStableFnv1a) {
  EXPECT_EQ(cluster_id(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(cluster_id("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_NE(cluster_id("reefdb"), cluster_id("reefdb2"));
}

}  // namespace
}  // namespace reef::prod

// --- join ---------------------------------------------------------------------

namespace reef::prod {
namespace {

ServerConfig joining_config() {
  ServerConfig config;
  config.node_id = 4;
  config.join = "10.0.0.1:4001, 10.0.0.2:4001";
  config.raft.listen_address = Endpoint{"10.0.0.4", 4002};
  config.http.listen_address = Endpoint{"10.0.0.4", 4001};
  resolve_derived_settings(config);
  return config;
}

TEST(ServerConfigJoin, JoinReplacesPeersAndAdvertisesTheListenAddresses) {
  const ServerConfig config = joining_config();
  ASSERT_TRUE(validate(config).ok()) << validate(config);
  EXPECT_EQ(config.raft.advertise_address, (Endpoint{"10.0.0.4", 4002}));
  EXPECT_EQ(config.http.advertise_address, (Endpoint{"10.0.0.4", 4001}));
  absl::StatusOr<std::vector<Endpoint>> members = join_addresses(config);
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(*members, (std::vector<Endpoint>{{"10.0.0.1", 4001}, {"10.0.0.2", 4001}}));
  EXPECT_TRUE(to_node_config(config, 1).ok());
}

TEST(ServerConfigJoin, JoinNeedsAnIdReachableAddressesAndNoPeers) {
  ServerConfig no_id = joining_config();
  no_id.node_id = 0;
  EXPECT_THAT(validation_error(no_id), HasSubstr("node_id: is required"));

  ServerConfig wildcard;
  wildcard.node_id = 4;
  wildcard.join = "10.0.0.1:4001";
  wildcard.raft.listen_address = Endpoint{"0.0.0.0", 4002};
  resolve_derived_settings(wildcard);
  const std::string error = validation_error(wildcard);
  EXPECT_THAT(error, HasSubstr("raft.advertise_address: is required with join"));
  EXPECT_THAT(error, HasSubstr("http.advertise_address: is required with join"));

  ServerConfig both = three_node_config();
  both.join = "10.0.0.2:8001";
  EXPECT_THAT(validation_error(both), HasSubstr("join: cannot be combined with peers"));

  ServerConfig garbage = joining_config();
  garbage.join = "10.0.0.1:4001,nonsense";
  EXPECT_THAT(validation_error(garbage), HasSubstr("join: \"nonsense\""));
}

}  // namespace
}  // namespace reef::prod
