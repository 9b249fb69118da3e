// PeerIncarnations: the first incarnation (storage/node_identity.h) this
// node saw from each peer, remembered in DIR/peer_incarnations, so that a
// peer whose data directory was wiped is recognised when it comes back with
// its old node id: its messages carry another incarnation and are refused.
// Such a node may have acknowledged entries it no longer holds; counting
// its votes and acknowledgements again could lose committed entries. It
// must be removed and added back as a new node.
//
// Incarnation 0 means "unknown" (a sender from before incarnations, or the
// simulator): admitted, never recorded.
//
// The file is one small sealed record (storage/small_record_file.h, magic
// "RFPI", version 1), body integers little-endian: count u32, then count
// pairs of node_id u64 and incarnation u64, in node-id order. It is written
// only when a peer is seen for the first time, never per message, and holds
// one pair per peer.
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "raft/core/types.h"
#include "storage/file_system.h"

namespace reef::storage {

class PeerIncarnations {
 public:
  static constexpr char kFileName[] = "peer_incarnations";

  // Reads DIR/peer_incarnations (none yet: empty). DATA_LOSS if damaged.
  static absl::StatusOr<std::unique_ptr<PeerIncarnations>> open(FileSystem& fs, std::string dir);

  struct Admission {
    bool admitted = false;
    // The incarnation remembered for the peer (0: none yet).
    uint64_t remembered = 0;
  };
  // Whether a message from `peer` stamped with `incarnation` may reach the
  // node. The first non-zero incarnation of a peer is made durable before it
  // is admitted; an error (that write failed) admits nothing.
  absl::StatusOr<Admission> admit(raft::NodeId peer, uint64_t incarnation);

  const absl::btree_map<raft::NodeId, uint64_t>& remembered() const { return remembered_; }

 private:
  PeerIncarnations(FileSystem& fs, std::string dir) : fs_(fs), path_(join_path(dir, kFileName)) {}
  absl::Status load();
  absl::Status save(const absl::btree_map<raft::NodeId, uint64_t>& remembered);

  FileSystem& fs_;
  std::string path_;
  absl::btree_map<raft::NodeId, uint64_t> remembered_;
};

}  // namespace reef::storage
