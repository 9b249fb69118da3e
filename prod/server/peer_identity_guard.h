// PeerIdentityGuard: the production node's side of the wiped-directory
// check. A node whose data directory was wiped and which restarts under its
// old node id may have acknowledged entries it no longer holds; if its
// votes and acknowledgements counted again, a committed entry could lose its
// quorum. Every data directory has an incarnation (storage/node_identity.h)
// that the transport stamps on every message and probe.
//
// Receiving side (admit(), the transport's sender check): the first
// non-zero incarnation seen from each peer is remembered durably
// (storage/peer_incarnations.h: written once per peer, never per message);
// a later one that differs is refused: its messages are dropped before they
// reach the Raft node, the refusal is logged (at most once per
// kLogInterval per peer) and listed in GET /status, and the refused node's
// pings are answered with a pong that says so.
//
// Refused side (refused_by(), the transport's refused handler): the node
// learns from that pong that a peer refuses it, logs why and what to do, and
// its owner stops serving (reefdb serve exits 1).
//
// On the node loop; not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "prod/server/runbook.h"
#include "raft/core/types.h"
#include "storage/peer_incarnations.h"

namespace reef::prod {

class PeerIdentityGuard {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kLogInterval{5};

  PeerIdentityGuard(std::unique_ptr<storage::PeerIncarnations> registry, std::string data_dir);

  // The transport's sender check: false refuses `peer`.
  bool admit(raft::NodeId peer, uint64_t incarnation);
  // The transport's refused handler: `peer` refuses this node.
  void refused_by(raft::NodeId peer);

  struct Refusal {
    uint64_t remembered = 0;  // the incarnation first seen
    uint64_t seen = 0;        // the latest other one
    uint64_t messages = 0;    // envelopes and pings refused
    std::optional<Clock::time_point> last_logged;
  };
  const absl::btree_map<raft::NodeId, Refusal>& refused_peers() const { return refused_; }
  // The peers that refuse this node (empty: none).
  const absl::btree_set<raft::NodeId>& refused_by_peers() const { return refused_by_; }

 private:
  void log_refusal(raft::NodeId peer, Refusal& refusal);

  std::unique_ptr<storage::PeerIncarnations> registry_;
  const std::string data_dir_;
  absl::btree_map<raft::NodeId, Refusal> refused_;
  absl::btree_set<raft::NodeId> refused_by_;
  std::optional<Clock::time_point> registry_error_logged_;
};

}  // namespace reef::prod
