// SnapshotSender: the leader side of snapshot transfers, one per follower
// that needs a snapshot (raft/driver/node.h describes the protocol).
//
// The core asks for a transfer with an InstallSnapshot message; the sender
// streams the newest durable snapshot (DurableLog::open_snapshot) to that
// follower as SnapshotChunks, one in flight, each sent once the previous one
// is acknowledged, and resumes from whatever offset the follower says it
// holds. A transfer with no acknowledgement for resend_ms is resent from the
// last acknowledged offset, at most `attempts` times in a row. Every way a
// transfer ends is returned as a TransferEnded, which the node reports to
// the core (SnapshotStatus); the sender never sees the core.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "raft/ports/clock.h"
#include "raft/ports/durable_log.h"
#include "raft/ports/node_message.h"
#include "raft/core/state.h"
#include "raft/ports/transport.h"
#include "raft/core/types.h"

namespace reef::raft {

// A transfer ended: the follower installed the snapshot (ok), or it was
// given up. The core hears of it as SnapshotStatus{peer, ok}.
struct TransferEnded {
  NodeId peer;
  bool ok = false;

  friend bool operator==(const TransferEnded&, const TransferEnded&) = default;
};

struct SnapshotSenderOptions {
  uint64_t resend_ms = 1000;
  uint32_t attempts = 5;
};

class SnapshotSender {
 public:
  // `self` is the sending node. The ports must outlive the sender.
  SnapshotSender(NodeId self, DurableLog& log, Transport& transport, const Clock& clock,
                 SnapshotSenderOptions options);

  // The core asked (in `term`) for `meta` to be sent to `peer`: starts
  // streaming it, unless already doing so. Ends at once (not ok) if the disk
  // no longer holds that snapshot (a newer one replaced it: the core asks
  // again with the current one) or it cannot be read.
  std::optional<TransferEnded> start(NodeId peer, Term term, const SnapshotMeta& meta);
  // A follower acknowledged chunks (or finished, or gave up).
  std::optional<TransferEnded> on_ack(NodeId from, const SnapshotChunkAck& ack);
  // On every tick: resends stalled transfers and gives up on those past
  // their attempts and on all of them once this node no longer leads in
  // the term they were started in (`leading_term`: nullopt if not leading).
  std::vector<TransferEnded> resend_stalled(std::optional<Term> leading_term);
  // Forgets every transfer, reporting none (the node stopped).
  void clear() { transfers_.clear(); }

  bool sending_to(NodeId peer) const { return transfers_.contains(peer); }

 private:
  struct Transfer {
    SnapshotMeta meta;
    Term term;
    std::unique_ptr<SnapshotSource> source;
    uint64_t total_bytes = 0;
    uint64_t sent_offset = 0;   // bytes handed to the transport
    uint64_t acked_offset = 0;  // bytes the follower confirmed holding
    uint64_t last_send_ms = 0;
    uint32_t resends = 0;
  };

  // Reopens the snapshot at `offset`, to send from there next.
  absl::Status rewind(Transfer& transfer, uint64_t offset);
  // Sends the next chunk; false if it could not be read.
  bool send_next_chunk(NodeId peer, Transfer& transfer);
  std::optional<TransferEnded> end(NodeId peer, bool ok);

  NodeId self_;
  DurableLog& log_;
  Transport& transport_;
  const Clock& clock_;
  SnapshotSenderOptions options_;
  absl::btree_map<NodeId, Transfer> transfers_;
};

}  // namespace reef::raft
