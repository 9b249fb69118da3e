// NodeStorage: everything one Raft node keeps on disk, under one directory,
// and the one call that recovers it at boot.
//
// Layout:
//   DIR/identity        cluster, node id, incarnation (storage/node_identity.h)
//   DIR/hard_state      term, vote, commit (HardStateStore)
//   DIR/log/            log segments (LogStore)
//   DIR/snapshots/      state-machine snapshots (SnapshotStore)
//
// Write order (persist()): the log first (truncate a conflicting suffix,
// append, one sync), then the hard state. So on disk the hard state's commit
// never points past the durable log, and the only way the two can disagree
// after a crash is a log holding entries of a term the hard state has not
// reached yet. Recovery repairs exactly that (see below); anything else that
// does not fit together is damage.
//
// Recovery (open): each store recovers on its own first (a torn log tail is
// cut, temp files removed: see their headers), then the three are
// cross-checked against the newest valid snapshot S (index 0, term 0 when
// there is none):
//  - The log must reach S + 1 without a gap: a log starting above S + 1 is
//    DATA_LOSS naming the missing indexes. (A log shorter than the snapshot,
//    or one whose entry at S has another term than S, is what a crash leaves
//    between installing a snapshot from the leader and discarding the log it
//    replaces: the log is discarded, as after the install (Raft paper,
//    Figure 13, InstallSnapshot receiver steps 6-7).)
//  - Entries after S start at a term no lower than S's.
//  - The hard state's term is raised to the last log term and the snapshot
//    term when it is lower, with no vote: a vote for that term was never
//    durable, so it was never sent (votes are persisted before they are
//    granted), and a node may always move to a higher term.
//  - The commit index is raised to S (a snapshot holds only committed
//    entries); a commit above the last index is DATA_LOSS: committed entries
//    are gone.
// What was cut or repaired is listed in Recovery::notes.
//
// Identity: when the options carry an IdentityClaim (the production server
// does; the simulator does not), open() first refuses a directory that
// remembers another node id or cluster, before it repairs anything; then
// writes DIR/identity if it is missing (adopting a directory from before
// identity files, with a note). open_read_only() reads the identity if there
// is one.
//
// open_read_only() runs the same recovery and checks without changing a
// byte (the inspection tool uses it); the notes say what open would change.
//
// Not thread-safe; the file system must outlive the storage.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/core/log_entry.h"
#include "raft/core/membership.h"
#include "raft/core/state.h"
#include "storage/file_system.h"
#include "storage/hard_state_store.h"
#include "storage/log_store.h"
#include "storage/node_identity.h"
#include "storage/snapshot_store.h"

namespace reef::storage {

struct NodeStorageOptions {
  LogStoreOptions log;
  SnapshotStoreOptions snapshots;
  // Who opens the directory; nullopt: no identity check and no file.
  std::optional<IdentityClaim> identity;
};

// What open() found, after the cross-checks and repairs.
struct Recovery {
  raft::HardState hard_state;
  std::optional<SnapshotInfo> snapshot;  // newest valid snapshot
  std::vector<raft::LogEntry> entries;   // contiguous, from snapshot index + 1
  // Everything recovery cut, removed or repaired, and damage it survived
  // (a torn hard-state slot, a skipped damaged snapshot), one line each.
  std::vector<std::string> notes;
  // No hard state, no snapshot and no log entry: a node that never ran.
  bool fresh = false;
};

class NodeStorage {
 public:
  static constexpr char kLogDir[] = "log";
  static constexpr char kSnapshotDir[] = "snapshots";

  // Opens (creating DIR if missing) and recovers a node's storage: see the
  // top of this file.
  static absl::StatusOr<std::unique_ptr<NodeStorage>> open(FileSystem& fs, std::string dir,
                                                           NodeStorageOptions options = {});
  // The same recovery without changing anything; NOT_FOUND if DIR does not
  // exist. persist() and the snapshot calls fail with FAILED_PRECONDITION.
  static absl::StatusOr<std::unique_ptr<NodeStorage>> open_read_only(FileSystem& fs, std::string dir,
                                                                     NodeStorageOptions options = {});

  NodeStorage(const NodeStorage&) = delete;
  NodeStorage& operator=(const NodeStorage&) = delete;

  const Recovery& recovery() const { return recovery_; }
  // What the core starts from: the recovered hard state and entries, and the
  // snapshot's meta, or index 0 with `initial` when there is no snapshot
  // (membership changes in the log come later; until then the configured
  // membership is the node's).
  raft::RecoveredState recovered_state(const raft::Configuration& initial) const;
  // Frees the entries held by recovery() once the core has its copy.
  void release_recovered_entries();

  // Makes what the core asked for durable, log first (see the top of this
  // file): entries overwrite any suffix from their first index, then the
  // hard state is saved if given. OK means both are durable.
  absl::Status persist(const std::optional<raft::HardState>& hard_state,
                       const std::vector<raft::LogEntry>& entries);

  // Call once a snapshot with `meta` is durable in snapshots() (written by
  // this node or received from the leader). Keeps the log after it if the
  // log holds the snapshot's last entry, otherwise discards the whole log;
  // then removes the log segments the snapshot covers. Touches only the log.
  absl::Status on_snapshot_durable(const raft::SnapshotMeta& meta);

  HardStateStore& hard_state() { return *hard_state_; }
  LogStore& log() { return *log_; }
  SnapshotStore& snapshots() { return *snapshots_; }
  const std::string& dir() const { return dir_; }
  // DIR/identity: established by open() with a claim; what the file holds
  // (if anything) otherwise.
  const std::optional<NodeIdentity>& identity() const { return identity_; }

 private:
  NodeStorage(std::string dir, bool read_only) : dir_(std::move(dir)), read_only_(read_only) {}
  static absl::StatusOr<std::unique_ptr<NodeStorage>> open_mode(FileSystem& fs, std::string dir,
                                                                NodeStorageOptions options, bool read_only);
  absl::Status open_stores(FileSystem& fs, const NodeStorageOptions& options);
  absl::Status reconcile_log_with_snapshot();
  absl::Status load_entries_after_snapshot();
  absl::Status check_hard_state();
  absl::Status check_identity_before_recovery(FileSystem& fs, const NodeStorageOptions& options);
  absl::Status establish_identity(FileSystem& fs, const NodeStorageOptions& options);
  void collect_store_notes();
  // True if the log holds the entry (index, term).
  bool log_has(raft::Index index, raft::Term term) const;
  absl::Status discard_log(absl::string_view why);

  std::string dir_;
  bool read_only_;
  std::unique_ptr<HardStateStore> hard_state_;
  std::unique_ptr<LogStore> log_;
  std::unique_ptr<SnapshotStore> snapshots_;
  Recovery recovery_;
  std::optional<NodeIdentity> identity_;
  // Read-only: the log recovery would discard (open does it on disk).
  bool log_discarded_ = false;
};

}  // namespace reef::storage
