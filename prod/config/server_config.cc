#include "prod/config/server_config.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "prod/config/server_config_settings.h"
#include "prod/config/server_config_values.h"
#include "storage/log_store.h"

namespace reef::prod {
namespace {

// At least this many heartbeats fit in an election timeout, so that losing a
// few heartbeats in a row does not depose a healthy leader (etcd recommends
// about ten; five is the floor).
constexpr uint32_t kMinHeartbeatsPerElection = 5;
constexpr uint32_t kMaxTickMs = 10000;
constexpr size_t kMaxClusterNameChars = 64;

constexpr absl::string_view kDerivedFromPeers = "derived from peers";

// Checks one configuration and words each problem as "<source>: <key>: ...".
class Validator {
 public:
  explicit Validator(const ServerConfig& config) : config_(config) {}

  absl::Status run() {
    check_identity();
    check_peers();
    check_addresses();
    check_timing();
    check_positive_limits();
    check_entry_limit();
    check_frame_limit();
    return problems_.status();
  }

 private:
  void fail(absl::string_view key, absl::string_view message) {
    auto source = config_.sources.find(key);
    if (source == config_.sources.end()) {
      problems_.add(absl::StrCat(key, ": ", message));  // a default value
    } else {
      problems_.add(absl::StrCat(source->second, ": ", key, ": ", message));
    }
  }

  const PeerConfig* this_peer() const {
    for (const PeerConfig& peer : config_.peers) {
      if (peer.id.value() == config_.node_id) return &peer;
    }
    return nullptr;
  }

  void check_identity();
  void check_peers();
  void check_peer_addresses_unique();
  void check_join();
  void check_addresses();
  void check_advertise(absl::string_view key, const std::optional<Endpoint>& advertise, const Endpoint* expected);
  void check_timing();
  void check_positive_limits();
  void check_entry_limit();
  void check_frame_limit();

  const ServerConfig& config_;
  ProblemList problems_;
};

void Validator::check_identity() {
  if (config_.node_id == 0) {
    fail("node_id", "is required when peers or join are given (set node_id in the file, REEFDB_NODE_ID or "
                    "--node-id; 0 is reserved)");
  } else if (!config_.peers.empty() && this_peer() == nullptr && config_.join.empty()) {
    fail("node_id", absl::StrCat("node ", config_.node_id, " is not in peers (", format_value(config_.peers), ")"));
  }
  const std::string& name = config_.cluster_name;
  const bool name_ok = !name.empty() && name.size() <= kMaxClusterNameChars &&
                       std::all_of(name.begin(), name.end(), [](char c) {
                         return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.';
                       });
  if (!name_ok) fail("cluster_name", "must be 1 to 64 characters of A-Z a-z 0-9 . _ -");
  if (config_.data_dir.empty()) fail("data_dir", "must not be empty");
}

void Validator::check_peers() {
  if (!config_.join.empty()) return check_join();
  if (config_.peers.empty()) {
    fail("peers", "must list every member of the initial cluster, this node included (reefdb serve fills in a "
                  "single-node cluster when none are given)");
    return;
  }
  absl::btree_set<uint64_t> ids;
  for (const PeerConfig& peer : config_.peers) {
    if (peer.id.value() == 0) fail("peers", "node id 0 is reserved");
    if (!ids.insert(peer.id.value()).second) fail("peers", absl::StrCat("node id ", peer.id.value(), " appears twice"));
    for (const Endpoint* address : {&peer.raft_address, &peer.http_address}) {
      if (address->is_unspecified()) {
        fail("peers", absl::StrCat("node ", peer.id.value(), ": ", address->to_string(),
                                   " cannot be dialed (0.0.0.0 and :: only make sense as listen addresses)"));
      }
    }
  }
  check_peer_addresses_unique();
}

// A joining node boots with no configuration and learns the cluster from
// the member it asks; it must say where the others reach it.
void Validator::check_join() {
  if (!config_.peers.empty()) {
    fail("join", "cannot be combined with peers (peers bootstraps a new cluster, join enters a running one)");
  }
  if (absl::StatusOr<std::vector<Endpoint>> addresses = join_addresses(config_); !addresses.ok()) {
    fail("join", addresses.status().message());
  }
  const std::pair<absl::string_view, const std::optional<Endpoint>*> advertised[] = {
      {"raft.advertise_address", &config_.raft.advertise_address},
      {"http.advertise_address", &config_.http.advertise_address}};
  for (const auto& [key, address] : advertised) {
    if (!address->has_value()) {
      fail(key, "is required with join (or a listen address that can be dialed): the cluster must know "
                "where to reach this node");
    }
  }
}

void Validator::check_peer_addresses_unique() {
  absl::btree_map<Endpoint, std::string> owners;
  for (const PeerConfig& peer : config_.peers) {
    const std::pair<const Endpoint*, absl::string_view> uses[] = {{&peer.raft_address, "raft"},
                                                                 {&peer.http_address, "http"}};
    for (const auto& [address, kind] : uses) {
      std::string owner = absl::StrCat("node ", peer.id.value(), " ", kind);
      auto [it, inserted] = owners.emplace(*address, owner);
      if (!inserted) {
        fail("peers", absl::StrCat("address ", address->to_string(), " is used twice (", it->second, " and ",
                                   owner, ")"));
      }
    }
  }
}

void Validator::check_advertise(absl::string_view key, const std::optional<Endpoint>& advertise,
                                const Endpoint* expected) {
  if (!advertise) return;
  if (advertise->is_unspecified()) {
    fail(key, absl::StrCat(advertise->to_string(), " cannot be dialed; advertise a reachable address"));
  } else if (expected != nullptr && *advertise != *expected) {
    fail(key, absl::StrCat("must equal this node's peers entry (got ", advertise->to_string(), ", peers says ",
                           expected->to_string(), ")"));
  }
}

bool ports_collide(const Endpoint& a, const Endpoint& b) {
  return a.port == b.port && (a.host == b.host || a.is_unspecified() || b.is_unspecified());
}

void Validator::check_addresses() {
  const PeerConfig* self = this_peer();
  check_advertise("raft.advertise_address", config_.raft.advertise_address, self ? &self->raft_address : nullptr);
  check_advertise("http.advertise_address", config_.http.advertise_address, self ? &self->http_address : nullptr);
  const auto& raft_listen = config_.raft.listen_address;
  const auto& http_listen = config_.http.listen_address;
  if (raft_listen && http_listen && ports_collide(*raft_listen, *http_listen)) {
    fail("http.listen_address", absl::StrCat("collides with raft.listen_address (", http_listen->to_string(),
                                             " and ", raft_listen->to_string(), ")"));
  }
}

void Validator::check_timing() {
  const ServerConfig::Raft& raft = config_.raft;
  if (raft.tick_ms == 0 || raft.tick_ms > kMaxTickMs) {
    fail("raft.tick_ms", absl::StrCat("must be in 1..", kMaxTickMs, " (got ", raft.tick_ms, ")"));
    return;  // every rule below divides by it
  }
  if (raft.heartbeat_ms == 0 || raft.heartbeat_ms % raft.tick_ms != 0) {
    fail("raft.heartbeat_ms", absl::StrCat("must be a positive multiple of raft.tick_ms (got ", raft.heartbeat_ms,
                                           " and ", raft.tick_ms, ")"));
  }
  if (raft.election_timeout_ms % raft.tick_ms != 0) {
    fail("raft.election_timeout_ms", absl::StrCat("must be a multiple of raft.tick_ms (got ",
                                                  raft.election_timeout_ms, " and ", raft.tick_ms, ")"));
  }
  if (uint64_t{raft.election_timeout_ms} < uint64_t{kMinHeartbeatsPerElection} * raft.heartbeat_ms) {
    fail("raft.election_timeout_ms",
         absl::StrCat("must be at least ", kMinHeartbeatsPerElection, " x raft.heartbeat_ms (got ",
                      raft.election_timeout_ms, " and ", raft.heartbeat_ms, ")"));
  }
  if (raft.lease_reads && !raft.check_quorum) fail("raft.lease_reads", "requires raft.check_quorum");
  if (raft.lease_reads && raft.lease_clock_margin_ms >= raft.election_timeout_ms) {
    fail("raft.lease_clock_margin_ms", absl::StrCat("must be below raft.election_timeout_ms (got ",
                                                    raft.lease_clock_margin_ms, " and ",
                                                    raft.election_timeout_ms, ")"));
  }
}

void Validator::check_positive_limits() {
  const ServerConfig& c = config_;
  const std::pair<absl::string_view, uint64_t> must_be_positive[] = {
      {"raft.max_inflight_messages", c.raft.max_inflight_messages},
      {"raft.max_inflight_bytes", c.raft.max_inflight_bytes},
      {"raft.max_entries_per_message", c.raft.max_entries_per_message},
      {"raft.max_message_bytes", c.raft.max_message_bytes},
      {"raft.max_entry_bytes", c.raft.max_entry_bytes},
      {"raft.max_pending_reads", c.raft.max_pending_reads},
      {"snapshot.entries", c.snapshot.entries},
      {"snapshot.bytes", c.snapshot.bytes},
      {"snapshot.chunk_bytes", c.snapshot.chunk_bytes},
      {"snapshot.resend_ms", c.snapshot.resend_ms},
      {"snapshot.transfer_attempts", c.snapshot.transfer_attempts},
      {"requests.timeout_ms", c.requests.timeout_ms},
      {"requests.forwarded_timeout_ms", c.requests.forwarded_timeout_ms},
      {"requests.max_pending", c.requests.max_pending},
      {"requests.read_timeout_ms", c.requests.read_timeout_ms},
      {"requests.read_threads", c.requests.read_threads},
      {"requests.max_queued_reads", c.requests.max_queued_reads},
      {"limits.max_http_body_bytes", c.limits.max_http_body_bytes},
      {"limits.peer_send_queue_messages", c.limits.peer_send_queue_messages},
  };
  for (const auto& [key, value] : must_be_positive) {
    if (value == 0) fail(key, "must be positive (got 0)");
  }
  if (c.raft.max_uncommitted_bytes < c.raft.max_entry_bytes) {
    fail("raft.max_uncommitted_bytes", absl::StrCat("must be at least raft.max_entry_bytes (got ",
                                                    c.raft.max_uncommitted_bytes, " and ",
                                                    c.raft.max_entry_bytes, ")"));
  }
}

// An HTTP request the API accepts becomes one log entry (a transaction) or
// several smaller ones, each about as large as its JSON; the HTTP service
// refuses up front (413) the few whose encoding still exceeds the entry
// limit. Entries are stored whole, so the log store must take them.
void Validator::check_entry_limit() {
  const ServerConfig& c = config_;
  if (c.raft.max_entry_bytes < c.limits.max_http_body_bytes) {
    fail("raft.max_entry_bytes",
         absl::StrCat(
             "must be at least limits.max_http_body_bytes, so that a transaction the HTTP API accepts "
             "fits in one log entry (got ",
             c.raft.max_entry_bytes, " and ", c.limits.max_http_body_bytes, ")"));
  }
  if (c.raft.max_entry_bytes > storage::kMaxStoredEntryBytes) {
    fail("raft.max_entry_bytes",
         absl::StrCat("must be at most ", storage::kMaxStoredEntryBytes,
                      ", the largest entry the log store holds (got ", c.raft.max_entry_bytes, ")"));
  }
}

// A peer refuses frames above its limit, so the limit must hold the largest
// message this node's core and snapshot sender may produce (the cluster is
// expected to share these settings).
void Validator::check_frame_limit() {
  const ServerConfig& c = config_;
  const uint64_t largest_payload =
      std::max({c.raft.max_message_bytes, c.raft.max_entry_bytes, c.snapshot.chunk_bytes});
  if (c.limits.max_frame_bytes < largest_payload + kFrameOverheadBytes) {
    fail("limits.max_frame_bytes",
         absl::StrCat("must be at least the largest of raft.max_message_bytes, raft.max_entry_bytes and "
                      "snapshot.chunk_bytes plus ",
                      kFrameOverheadBytes, " bytes of envelope (got ", c.limits.max_frame_bytes, ", need ",
                      largest_payload + kFrameOverheadBytes, ")"));
  }
  if (c.limits.max_frame_bytes > UINT32_MAX) {
    fail("limits.max_frame_bytes",
         absl::StrCat("must be at most ", UINT32_MAX, ", the largest length a frame header holds (got ",
                      c.limits.max_frame_bytes, ")"));
  }
}

void derive_address(ServerConfig& config, std::optional<Endpoint>& field, absl::string_view key,
                    const Endpoint& value, absl::string_view source) {
  if (field) return;
  field = value;
  config.sources[std::string(key)] = std::string(source);
}

}  // namespace

std::string Endpoint::to_string() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

bool Endpoint::is_unspecified() const { return host.empty() || host == "0.0.0.0" || host == "::"; }

absl::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: return "off";
  }
  return "unknown";
}

uint64_t cluster_id(absl::string_view cluster_name) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64-bit offset basis
  for (char c : cluster_name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;  // FNV-1a 64-bit prime
  }
  return hash;
}

absl::StatusOr<std::vector<Endpoint>> join_addresses(const ServerConfig& config) {
  std::vector<Endpoint> addresses;
  for (absl::string_view entry : absl::StrSplit(config.join, ',', absl::SkipWhitespace())) {
    absl::StatusOr<Endpoint> address = parse_endpoint(absl::StripAsciiWhitespace(entry));
    if (!address.ok()) return absl::InvalidArgumentError(absl::StrCat("\"", entry, "\": ", address.status().message()));
    addresses.push_back(*std::move(address));
  }
  if (addresses.empty() && !config.join.empty()) return absl::InvalidArgumentError("lists no address");
  return addresses;
}

void resolve_derived_settings(ServerConfig& config) {
  if (!config.join.empty()) {
    // A joining node has no peers entry: what it advertises defaults to
    // where it listens, when that can be dialed.
    if (config.raft.listen_address && !config.raft.listen_address->is_unspecified()) {
      derive_address(config, config.raft.advertise_address, "raft.advertise_address", *config.raft.listen_address,
                     "derived from raft.listen_address");
    }
    if (config.http.listen_address && !config.http.listen_address->is_unspecified()) {
      derive_address(config, config.http.advertise_address, "http.advertise_address", *config.http.listen_address,
                     "derived from http.listen_address");
    }
  }
  for (const PeerConfig& peer : config.peers) {
    if (peer.id.value() != config.node_id) continue;
    derive_address(config, config.raft.advertise_address, "raft.advertise_address", peer.raft_address,
                   kDerivedFromPeers);
    derive_address(config, config.http.advertise_address, "http.advertise_address", peer.http_address,
                   kDerivedFromPeers);
    break;
  }
  if (config.raft.advertise_address) {
    derive_address(config, config.raft.listen_address, "raft.listen_address", *config.raft.advertise_address,
                   "derived from raft.advertise_address");
  }
  if (config.http.advertise_address) {
    derive_address(config, config.http.listen_address, "http.listen_address", *config.http.advertise_address,
                   "derived from http.advertise_address");
  }
}

absl::Status validate(const ServerConfig& config) { return Validator(config).run(); }

absl::StatusOr<raft::NodeConfig> to_node_config(const ServerConfig& config, uint64_t seed) {
  if (absl::Status s = validate(config); !s.ok()) return s;
  const ServerConfig::Raft& r = config.raft;
  raft::NodeConfig node;
  node.core.id = raft::NodeId(config.node_id);
  node.core.election_timeout_ticks = r.election_timeout_ms / r.tick_ms;
  node.core.heartbeat_interval_ticks = r.heartbeat_ms / r.tick_ms;
  node.core.pre_vote = r.pre_vote;
  node.core.check_quorum = r.check_quorum;
  node.core.lease_reads = r.lease_reads;
  // Rounded up: a larger drift allowance only shortens the lease (safe).
  node.core.lease_clock_margin_ticks = (r.lease_clock_margin_ms + r.tick_ms - 1) / r.tick_ms;
  node.core.max_inflight_messages = r.max_inflight_messages;
  node.core.max_inflight_bytes = r.max_inflight_bytes;
  node.core.max_entries_per_message = r.max_entries_per_message;
  node.core.max_message_bytes = r.max_message_bytes;
  node.core.max_entry_bytes = r.max_entry_bytes;
  node.core.max_uncommitted_bytes = r.max_uncommitted_bytes;
  node.core.max_pending_reads = r.max_pending_reads;
  node.core.seed = seed;
  node.snapshot.entries = config.snapshot.entries;
  node.snapshot.bytes = config.snapshot.bytes;
  node.snapshot_chunk_bytes = config.snapshot.chunk_bytes;
  node.snapshot_resend_ms = config.snapshot.resend_ms;
  node.snapshot_transfer_attempts = config.snapshot.transfer_attempts;
  node.forward_to_leader = config.requests.forward_to_leader;
  node.forwarded_request_timeout_ms = config.requests.forwarded_timeout_ms;
  node.max_pending_requests = config.requests.max_pending;
  if (absl::Status s = node.validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("raft node configuration: ", s.message()));
  }
  return node;
}

}  // namespace reef::prod
