// SnapshotReceiver: the follower side of a snapshot transfer (raft/driver/node.h
// describes the protocol; raft/driver/snapshot_sender.h is the other end).
//
// One transfer at a time, from one leader in one term: chunks are written
// to disk (DurableLog::begin_snapshot) and into a state-machine restore at
// the same time, in order, and each is acknowledged with the offset held so
// far, so that the leader resumes from there after a loss. Once every byte
// is here the core decides: the receiver hands back the InstallSnapshot
// message to step into it. If the core accepts, the node calls install()
// (both the file and the restore are finished) and, once its own state
// says so, acknowledge(); if not, drop_unaccepted() tells the leader.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/ports/durable_log.h"
#include "raft/core/message.h"
#include "raft/ports/node_message.h"
#include "raft/core/state.h"
#include "raft/ports/state_machine.h"
#include "raft/ports/transport.h"
#include "raft/core/types.h"

namespace reef::raft {

class SnapshotReceiver {
 public:
  // A snapshot made durable and restored, still to be acknowledged.
  struct Installed {
    NodeId leader;
    Term term;
    Index index;
    uint64_t bytes = 0;
  };

  // `self` is the receiving node. The ports must outlive the receiver.
  SnapshotReceiver(NodeId self, DurableLog& log, StateMachine& state_machine, Transport& transport);

  // Takes a chunk from `from`. `current_term` is the core's term, `applied`
  // the node's applied index. Returns the InstallSnapshot message the core
  // must now be stepped with: when every byte is here, and when the
  // snapshot is one this node has applied past (the core then answers with
  // its commit index, from which the leader resumes appending).
  std::optional<Message> on_chunk(NodeId from, SnapshotChunk chunk, Term current_term, Index applied);
  // The core accepted `meta`, which must be the complete transfer: makes
  // the snapshot durable and replaces the state machine's state with it.
  // An error means the node must stop (what its disk and state machine
  // hold may disagree).
  absl::StatusOr<Installed> install(const SnapshotMeta& meta);
  // Tells the leader the snapshot is installed.
  void acknowledge(const Installed& installed);
  // After the core had its say: a complete snapshot it did not accept
  // (stale) is dropped, and the leader told so it stops waiting.
  void drop_unaccepted();
  // Forgets the transfer, telling no one (the node stopped).
  void clear() { incoming_.reset(); }

  bool receiving() const { return incoming_.has_value(); }

 private:
  struct Incoming {
    NodeId leader;
    Term term;
    SnapshotMeta meta;
    uint64_t total_bytes = 0;
    uint64_t received = 0;
    std::unique_ptr<SnapshotSink> sink;
    std::unique_ptr<StateMachineRestore> restore;
    bool complete = false;  // every byte received; handed to the core
  };

  absl::Status begin(NodeId from, const SnapshotChunk& chunk);
  void ack(NodeId leader, Term term, Index index, uint64_t next_offset, bool done, bool abort);

  NodeId self_;
  DurableLog& log_;
  StateMachine& state_machine_;
  Transport& transport_;
  std::optional<Incoming> incoming_;
};

}  // namespace reef::raft
