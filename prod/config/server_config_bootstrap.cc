// apply_bootstrap_defaults(): what `reefdb serve` fills in when the operator
// names no node id or no peers (see prod/config/server_config.h).
#include "absl/strings/str_cat.h"
#include "prod/config/server_config.h"

namespace reef::prod {
namespace {

constexpr char kSingleNodeSource[] = "single-node cluster (no peers given)";

// Where the others (here: only this node's clients and forwarded requests)
// reach this node for one kind of traffic.
Endpoint dialable_address(const std::optional<Endpoint>& advertise, const std::optional<Endpoint>& listen,
                          uint16_t default_port) {
  if (advertise) return *advertise;
  if (listen && !listen->is_unspecified()) return *listen;
  return Endpoint{kDefaultHost, listen ? listen->port : default_port};
}

}  // namespace

bool peers_default_to_single_node(const ServerConfig& config) {
  auto source = config.sources.find("peers");
  return source != config.sources.end() && source->second == kSingleNodeSource;
}

void apply_bootstrap_defaults(ServerConfig& config, std::optional<uint64_t> remembered_node_id) {
  if (config.node_id == 0 && remembered_node_id) {
    config.node_id = *remembered_node_id;
    config.sources["node_id"] = absl::StrCat("remembered by ", config.data_dir, "/identity");
  }
  // A joining node has no peers: it learns the cluster from the member it asks.
  if (!config.peers.empty() || !config.join.empty()) return;
  if (config.node_id == 0) {
    config.node_id = 1;
    config.sources["node_id"] = kSingleNodeSource;
  }
  config.peers.push_back(PeerConfig{
      raft::NodeId(config.node_id),
      dialable_address(config.raft.advertise_address, config.raft.listen_address, kDefaultRaftPort),
      dialable_address(config.http.advertise_address, config.http.listen_address, kDefaultHttpPort)});
  config.sources["peers"] = kSingleNodeSource;
}

}  // namespace reef::prod
