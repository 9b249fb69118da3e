// NodeIdentity: who a data directory belongs to, in DIR/identity, written
// once when the directory is first used and checked at every start after.
//
// It holds the cluster (name and the id the transport stamps on every
// message), this node's id, and an incarnation: a random non-zero number
// drawn once, when the directory is created. The incarnation tells apart two
// lives of one node id: a node whose directory was wiped comes back with the
// same id but a new incarnation, and its peers refuse it (it may have lost
// entries it acknowledged; prod/net's transport carries the incarnation and
// storage/peer_incarnations.h remembers the peers').
//
// File: one small sealed record (storage/small_record_file.h, magic "RFID",
// version 1), body integers little-endian:
//   0  cluster_id   u64
//   8  node_id      u64  non-zero
//   16 incarnation  u64  non-zero
//   24 name_len     u16  1..kMaxClusterNameBytes
//   26 cluster name, name_len bytes
// A damaged file is DATA_LOSS: the node does not start rather than guess
// who it is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/core/types.h"
#include "storage/file_system.h"

namespace reef::storage {

struct NodeIdentity {
  uint64_t cluster_id = 0;
  std::string cluster_name;
  raft::NodeId node_id;
  uint64_t incarnation = 0;

  friend bool operator==(const NodeIdentity&, const NodeIdentity&) = default;
};

// Who the process was started as, plus the incarnation to record if the
// directory has no identity yet (the caller draws it: storage draws no
// randomness, so the simulator stays deterministic).
struct IdentityClaim {
  uint64_t cluster_id = 0;
  std::string cluster_name;
  raft::NodeId node_id;
  uint64_t fresh_incarnation = 0;  // non-zero
};

inline constexpr char kNodeIdentityFileName[] = "identity";
inline constexpr size_t kMaxClusterNameBytes = 1024;

// The identity in DIR/identity, or nullopt when the file does not exist.
absl::StatusOr<std::optional<NodeIdentity>> read_node_identity(FileSystem& fs, const std::string& dir);
// Writes DIR/identity atomically and durably (DIR must exist).
absl::Status write_node_identity(FileSystem& fs, const std::string& dir, const NodeIdentity& identity);
// The file's bytes (for tests that forge or damage it).
std::string encode_node_identity_file(const NodeIdentity& identity);

// OK if `remembered` is the node `claim` says it is; otherwise
// FAILED_PRECONDITION naming both and the directory.
absl::Status check_node_identity(const std::string& dir, const NodeIdentity& remembered, const IdentityClaim& claim);

// The identity of DIR for a node that claims `claim`: the remembered one
// when it matches (refused when it does not, see check_node_identity), or a
// new one written now. `holds_raft_state` says DIR already holds a log, hard
// state or snapshot: a directory from before identity files existed, which
// is adopted (one line in `notes` says so).
absl::StatusOr<NodeIdentity> establish_node_identity(FileSystem& fs, const std::string& dir,
                                                     const IdentityClaim& claim, bool holds_raft_state,
                                                     std::vector<std::string>& notes);

// "node 3 of cluster 'reefdb' (incarnation 0x...)".
std::string describe(const NodeIdentity& identity);

}  // namespace reef::storage
