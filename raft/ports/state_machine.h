// StateMachine: the port through which the node driver hands committed
// entries to the replicated application (for ReefDB: SQL on SQLite, in
// statemachine/) and moves its state in and out of snapshots.
//
// Contract (every implementation, every call):
//  - One thread. The driver calls these methods from its event loop only,
//    never concurrently, and never re-entrantly.
//  - apply() is called for every committed entry exactly once per boot, in
//    strictly increasing index order with no gaps, starting right after the
//    position the state machine was restored to (or index 1 on an empty one).
//    No-op entries are applied too, so applied() moves with the log.
//  - Determinism (thesis §3.1, §6.3): the response bytes and the resulting
//    state depend only on the sequence of entries applied since the last
//    restore (and the restored snapshot), never on wall clocks, process
//    randomness, thread timing or the order in which replicas were restarted.
//    An entry whose content is bad (undecodable, failing SQL) is still
//    applied: its response says what went wrong, and every replica says the
//    same. apply() fails only when the replica itself can no longer be
//    trusted (for example out of memory inside the database); the driver
//    then stops the node rather than let it diverge.
//  - A snapshot describes exactly the state after applied(); taking one does
//    not change the state. Restore replaces the whole state: dropped before
//    finish(), it changes nothing; if finish() fails, the state machine may
//    be left unusable and the driver stops the node (a persistent state
//    machine then discards its files at the next boot, see below).
//  - Persistence (DESIGN.md §4). A state machine may keep its state on disk
//    (ReefDB's does): it then reopens at boot at the position it recorded,
//    applied() tells the driver where that is, and the driver replays only
//    the log after it, or restores the newest snapshot when the log no
//    longer reaches back that far. Applying never has to be durable; the
//    driver calls make_durable() before it compacts the log, because from
//    then on nothing else can bring the state back to applied(). A state
//    machine in memory reopens empty and treats make_durable() as a no-op.
//  - Commit groups. apply() may keep an entry's changes pending (ReefDB's
//    gathers the entries of one loop turn into one SQLite transaction, one
//    WAL commit instead of one per entry); commit_applied() ends the group.
//    The driver calls it after the entries of a turn and before it answers
//    their clients, reads, or takes a snapshot. A crash may lose pending
//    entries like any undurable ones: the log replays them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/core/log_entry.h"
#include "raft/core/state.h"
#include "raft/core/types.h"

namespace reef::raft {

// Index and term of the last entry reflected in a state machine.
struct AppliedPosition {
  Index index;
  Term term;

  friend bool operator==(const AppliedPosition&, const AppliedPosition&) = default;
};

// A snapshot being read out of a state machine as a stream of chunks, for the
// storage layer to write or for a peer to receive. The stream is
// self-describing: it carries the SnapshotMeta it was taken with, and the
// restore side recovers it from the bytes.
class StateMachineSnapshot {
 public:
  virtual ~StateMachineSnapshot() = default;
  // Meta of this snapshot: index and term equal the applied position when it
  // was taken; the configuration is the one the driver passed in.
  virtual const SnapshotMeta& meta() const = 0;
  // Total bytes the stream will produce (a stream that reads the state
  // lazily knows it once the first chunk was read; 0 before).
  virtual uint64_t size_bytes() const = 0;
  // The next chunk of at most max_bytes (> 0) bytes, or nullopt at the end.
  virtual absl::StatusOr<std::optional<std::string>> next_chunk(uint64_t max_bytes) = 0;
};

// Receives a snapshot stream produced by StateMachineSnapshot (possibly on
// another replica). Dropping it before finish() abandons the restore and
// leaves the state machine unchanged.
class StateMachineRestore {
 public:
  virtual ~StateMachineRestore() = default;
  // Appends the next bytes of the stream. INVALID_ARGUMENT / DATA_LOSS when
  // they cannot be part of a valid snapshot; the restore is then dead.
  virtual absl::Status add_chunk(std::string_view bytes) = 0;
  // Validates the complete stream and replaces the state machine's state
  // with it atomically. Returns the meta the snapshot was taken with.
  virtual absl::StatusOr<SnapshotMeta> finish() = 0;
};

class StateMachine {
 public:
  virtual ~StateMachine() = default;

  // Applies one committed entry (see the contract above) and returns the
  // response for the client that proposed it (empty for no-ops). The entry's
  // index must be applied().index + 1.
  virtual absl::StatusOr<std::string> apply(const LogEntry& entry) = 0;
  // Ends the group of entries applied since the last call (see the
  // contract). An error means the replica failed: the driver stops.
  virtual absl::Status commit_applied() { return absl::OkStatus(); }
  // Position of the last applied entry; {0, 0} for an empty state machine.
  virtual AppliedPosition applied() const = 0;

  // Leader only, right before a client's payload is proposed: the bytes to
  // put in the log (for ReefDB: the CommandBatch stamped with the leader's
  // wall clock, the only time any replica ever reads), or the error to
  // answer when the payload must never enter the log (undecodable, or
  // statements that cannot run deterministically). Changes no state.
  // `leader_wall_ms` is Clock::wall_now_ms(): Unix milliseconds, which may be
  // behind what earlier leaders stamped.
  virtual absl::StatusOr<std::string> prepare_proposal(std::string_view payload, uint64_t leader_wall_ms) = 0;

  // Answers a read-only request (for ReefDB: an encoded SQL query) from the
  // current state, without changing it. Errors in the request are returned
  // as a response, like apply()'s; a non-OK status means the query could not
  // be run at all.
  virtual absl::StatusOr<std::string> query(std::string_view request) = 0;
  // The driver's way to run query(): `done` gets its answer exactly once,
  // on the driver's loop, either before start_query() returns (this
  // default) or later, from a host that runs reads off the loop (DESIGN.md
  // §4). The answer reflects at least the state at applied() when
  // start_query() was called (every entry up to there is committed, see
  // commit groups above). `done` may call into the driver: a host that
  // answers later must drop answers once the node is gone.
  using QueryDone = absl::AnyInvocable<void(absl::StatusOr<std::string>)>;
  virtual void start_query(std::string request, QueryDone done) { done(query(request)); }

  // Starts reading a snapshot of the current state. `configuration` is the
  // membership in effect at applied() (the driver knows it; the state
  // machine only carries it). The snapshot stays valid while entries are
  // applied after it was taken.
  virtual absl::StatusOr<std::unique_ptr<StateMachineSnapshot>> snapshot(
      const Configuration& configuration) = 0;
  // Starts receiving a snapshot that will replace the whole state.
  virtual absl::StatusOr<std::unique_ptr<StateMachineRestore>> begin_restore() = 0;

  // Makes the state at applied() survive a crash: once this returns OK, a
  // restart reopens at applied() or later. Errors mean the disk failed.
  virtual absl::Status make_durable() { return absl::OkStatus(); }
  // Replaces the whole state with the empty state (applied() {0, 0}), for a
  // boot that finds state the log and snapshots no longer account for.
  virtual absl::Status clear() {
    if (applied().index == Index(0)) return absl::OkStatus();
    return absl::UnimplementedError("this state machine cannot be cleared");
  }
};

}  // namespace reef::raft
