// ServerConfig: everything a `reefdb` server process is configured with, as
// plain values, plus the checks and conversions the server needs at startup.
//
// Where the values come from (lowest precedence first; see
// prod/config/server_config_sources.h and docs/CONFIGURATION.md):
//   1. the defaults written below,
//   2. a YAML file (`--config <path>` or REEFDB_CONFIG),
//   3. REEFDB_* environment variables, one per setting,
//   4. command-line flags, one per setting.
// Every setting has one canonical key, its YAML path ("raft.heartbeat_ms");
// the environment variable and flag are derived from it (REEFDB_RAFT_HEARTBEAT_MS,
// --raft-heartbeat-ms). The table in prod/config/server_config_settings.cc is the
// single list of settings; docs/CONFIGURATION.md documents each one.
//
// Times are in milliseconds here because operators think in them; the Raft
// core counts ticks, so election timeout and heartbeat must be whole
// multiples of raft.tick_ms (to_node_config() divides; it never rounds a
// timing the operator chose, except the lease margin, which rounds up: the
// safe direction).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/driver/node.h"
#include "raft/core/types.h"

namespace reef::prod {

// A TCP endpoint as written by an operator: "host:port" or "[v6-literal]:port".
// The host is a name or an IP literal; names are resolved by whoever connects.
// (Not prod/net/host_port.h's HostPort: this library has no Asio
// dependency; the server copies host and port across.)
struct Endpoint {
  std::string host;  // without brackets
  uint16_t port = 0;

  std::string to_string() const;  // brackets an IPv6 literal again
  // 0.0.0.0, :: and the empty host: fine to listen on, unreachable to dial.
  bool is_unspecified() const;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};

// One member of the initial cluster (etcd's --initial-cluster entry).
struct PeerConfig {
  raft::NodeId id;
  Endpoint raft_address;  // where the other nodes send Raft messages
  Endpoint http_address;  // where clients and forwarded requests go
  friend bool operator==(const PeerConfig&, const PeerConfig&) = default;
};

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };
absl::string_view log_level_name(LogLevel level);

struct ServerConfig {
  // --- identity -------------------------------------------------------------
  // This node's id (0 means "not set"). Must appear in `peers`. When not
  // set: the id the data directory remembers, or 1 for a single-node
  // cluster (apply_bootstrap_defaults()).
  uint64_t node_id = 0;
  // Names the cluster; cluster_id() hashes it into the id the transport
  // can exchange, so that two clusters on one network cannot mix.
  std::string cluster_name = "reefdb";
  // Holds the Raft log, hard state and snapshots of this node.
  std::string data_dir = "./reefdb-data";
  LogLevel log_level = LogLevel::kInfo;

  // --- the initial cluster ----------------------------------------------------
  // Every member with its addresses, this node included. Compact form (env,
  // flags): "1=10.0.0.1:7001/10.0.0.1:8001,2=...". Empty: a single-node
  // cluster of this node (apply_bootstrap_defaults()).
  std::vector<PeerConfig> peers;
  // Instead of peers: HTTP addresses of members of a running cluster
  // ("h1:4001,h2:4001"); a node with a fresh data directory asks one of
  // them to add it (docs/CLUSTER.md). Needs node_id and this node's
  // advertise addresses (or dialable listen addresses).
  std::string join;

  struct Raft {
    // Address the Raft listener binds to. Default: the advertise address.
    std::optional<Endpoint> listen_address;
    // Address the other nodes dial. Default: this node's entry in `peers`;
    // when set, it must equal that entry (the others dial what `peers` says).
    std::optional<Endpoint> advertise_address;
    // Length of one Raft tick, the core's unit of time.
    uint32_t tick_ms = 100;
    // Followers wait a random time in [election_timeout, 2*election_timeout)
    // without hearing a leader before campaigning. At least 5 heartbeats, so
    // a few lost heartbeats do not start an election.
    uint32_t election_timeout_ms = 1000;
    uint32_t heartbeat_ms = 100;
    bool pre_vote = true;
    bool check_quorum = true;
    // Lease reads trade a clock-rate assumption for reads without a
    // heartbeat round (raft/core/config.h); off by default.
    bool lease_reads = false;
    uint32_t lease_clock_margin_ms = 200;
    // Flow control and message bounds; see raft::CoreConfig for each.
    uint32_t max_inflight_messages = 256;
    uint64_t max_inflight_bytes = 64ULL << 20;
    uint32_t max_entries_per_message = 1024;
    uint64_t max_message_bytes = 1ULL << 20;
    // The largest log entry: one transaction, or one statement outside a
    // transaction. At least limits.max_http_body_bytes (see validate()).
    uint64_t max_entry_bytes = 32ULL << 20;
    uint64_t max_uncommitted_bytes = 256ULL << 20;
    uint32_t max_pending_reads = 4096;
  } raft;

  struct Http {
    // Address the HTTP API binds to. Default: the advertise address.
    std::optional<Endpoint> listen_address;
    // Address clients are pointed to. Default and rule as for raft.
    std::optional<Endpoint> advertise_address;
  } http;

  struct Snapshot {
    // Snapshot once this many entries or payload bytes were applied since
    // the last one, whichever comes first.
    uint64_t entries = 10000;
    uint64_t bytes = 64ULL << 20;
    uint64_t chunk_bytes = 1ULL << 20;
    uint64_t resend_ms = 1000;
    uint32_t transfer_attempts = 5;
  } snapshot;

  struct Requests {
    // Followers forward writes and strong reads to the leader.
    bool forward_to_leader = true;
    // Deadline given to a client request that names none.
    uint64_t timeout_ms = 5000;
    // Deadline the leader gives a request a follower forwarded.
    uint64_t forwarded_timeout_ms = 5000;
    // Client requests waiting in this node; beyond it: RESOURCE_EXHAUSTED.
    uint32_t max_pending = 10000;
    // Queries (database on disk): interrupted after running this long; run
    // on this many threads beside the node's loop; at most this many wait.
    uint64_t read_timeout_ms = 10000;
    uint32_t read_threads = 4;
    uint32_t max_queued_reads = 1024;
  } requests;

  struct Limits {
    // Largest HTTP request body accepted (413 beyond it).
    uint64_t max_http_body_bytes = 16ULL << 20;
    // Largest Raft transport frame accepted from a peer. Must hold the
    // largest message this node may send (see validate()).
    uint64_t max_frame_bytes = 33ULL << 20;
    // Messages queued per peer while its connection is slow or down; beyond
    // it the newest is dropped and the peer reported unreachable (Raft
    // retransmits what matters).
    uint32_t peer_send_queue_messages = 4096;
  } limits;

  // Where each setting that is not a default came from, by key, e.g.
  // "raft.heartbeat_ms" -> "/etc/reefdb.yaml:12", "env REEFDB_DATA_DIR",
  // "flag --node-id", or "derived from peers". Errors and describe() cite it.
  absl::btree_map<std::string, std::string> sources;
};

// A frame carries one message plus its envelope; this bounds the envelope
// (framing header, FlatBuffers tables, message metadata) generously.
inline constexpr uint64_t kFrameOverheadBytes = 64 << 10;

// Stable 64-bit id of a cluster name (FNV-1a: the same on every build and
// machine, unlike absl::Hash, which is seeded per process).
uint64_t cluster_id(absl::string_view cluster_name);

// The addresses a single-node cluster uses when none are configured (those
// of rqlite, whose HTTP API ReefDB speaks).
inline constexpr uint16_t kDefaultHttpPort = 4001;
inline constexpr uint16_t kDefaultRaftPort = 4002;
inline constexpr char kDefaultHost[] = "127.0.0.1";

// `reefdb serve --data-dir DIR` alone runs a working single-node cluster.
// With `join` set, peers stay empty (the node is added by the cluster).
// An unset node_id becomes `remembered_node_id` (what the data directory's
// identity file says) or, with no peers, 1. No peers: the cluster is this
// node alone, at its advertise addresses, else its listen addresses (a
// wildcard listen host is dialed as 127.0.0.1), else the defaults above.
// Explicit settings are left alone; what was filled is recorded in sources.
// Call before resolve_derived_settings().
void apply_bootstrap_defaults(ServerConfig& config, std::optional<uint64_t> remembered_node_id);
// True if apply_bootstrap_defaults() made `peers` this node alone.
bool peers_default_to_single_node(const ServerConfig& config);

// The endpoints of `join` (empty when not joining). INVALID_ARGUMENT naming
// the entry that does not parse.
absl::StatusOr<std::vector<Endpoint>> join_addresses(const ServerConfig& config);

// Fills what defaults to other settings: advertise addresses from this
// node's peer entry, listen addresses from the advertise addresses. Leaves
// explicitly set values alone. Call before validate().
void resolve_derived_settings(ServerConfig& config);

// Every rule a complete configuration must satisfy. Errors read
// "<source>: <key>: <problem>", e.g.
// "/etc/reefdb.yaml:7: raft.election_timeout_ms: must be at least 5 x
//  raft.heartbeat_ms (got 100 and 50)".
absl::Status validate(const ServerConfig& config);

// The Raft node's configuration. `seed` feeds the election-timeout PRNG;
// the server passes fresh randomness (e.g. std::random_device), tests a
// constant. Fails if `config` is invalid or raft::NodeConfig::validate() does.
absl::StatusOr<raft::NodeConfig> to_node_config(const ServerConfig& config, uint64_t seed);

// A multi-line, human-readable summary for the startup log: every setting,
// its value, and where it came from when it is not the default.
std::string describe(const ServerConfig& config);

}  // namespace reef::prod
