#include "storage/node_storage.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"

namespace reef::storage {
namespace {

raft::Index snapshot_index(const std::optional<SnapshotInfo>& snapshot) {
  return snapshot ? snapshot->meta.index : raft::Index(0);
}

raft::Term snapshot_term(const std::optional<SnapshotInfo>& snapshot) {
  return snapshot ? snapshot->meta.term : raft::Term(0);
}

}  // namespace

absl::StatusOr<std::unique_ptr<NodeStorage>> NodeStorage::open(FileSystem& fs, std::string dir,
                                                               NodeStorageOptions options) {
  return open_mode(fs, std::move(dir), options, /*read_only=*/false);
}

absl::StatusOr<std::unique_ptr<NodeStorage>> NodeStorage::open_read_only(FileSystem& fs, std::string dir,
                                                                         NodeStorageOptions options) {
  return open_mode(fs, std::move(dir), options, /*read_only=*/true);
}

absl::StatusOr<std::unique_ptr<NodeStorage>> NodeStorage::open_mode(FileSystem& fs, std::string dir,
                                                                    NodeStorageOptions options,
                                                                    bool read_only) {
  if (absl::Status s = validate_path(dir); !s.ok()) return s;
  std::unique_ptr<NodeStorage> storage(new NodeStorage(std::move(dir), read_only));
  if (absl::Status s = storage->check_identity_before_recovery(fs, options); !s.ok()) return s;
  if (absl::Status s = storage->open_stores(fs, options); !s.ok()) return s;
  storage->collect_store_notes();
  if (absl::Status s = storage->reconcile_log_with_snapshot(); !s.ok()) return s;
  if (absl::Status s = storage->load_entries_after_snapshot(); !s.ok()) return s;
  if (absl::Status s = storage->check_hard_state(); !s.ok()) return s;
  if (absl::Status s = storage->establish_identity(fs, options); !s.ok()) return s;
  return storage;
}

// Another node's (or cluster's) directory is refused before recovery
// changes a byte of it.
absl::Status NodeStorage::check_identity_before_recovery(FileSystem& fs, const NodeStorageOptions& options) {
  if (!read_only_ && !options.identity) return absl::OkStatus();
  absl::StatusOr<std::optional<NodeIdentity>> remembered = read_node_identity(fs, dir_);
  if (!remembered.ok()) return remembered.status();
  identity_ = *remembered;
  if (identity_ && options.identity) return check_node_identity(dir_, *identity_, *options.identity);
  return absl::OkStatus();
}

absl::Status NodeStorage::establish_identity(FileSystem& fs, const NodeStorageOptions& options) {
  if (read_only_) {
    if (!identity_ && !recovery_.fresh) {
      recovery_.notes.push_back(absl::StrCat(join_path(dir_, kNodeIdentityFileName),
                                             ": missing (written before node identities existed); the "
                                             "server adopts the directory at its next start"));
    }
    return absl::OkStatus();
  }
  if (!options.identity) return absl::OkStatus();
  absl::StatusOr<NodeIdentity> identity =
      establish_node_identity(fs, dir_, *options.identity, /*holds_raft_state=*/!recovery_.fresh, recovery_.notes);
  if (!identity.ok()) return identity.status();
  identity_ = *std::move(identity);
  return absl::OkStatus();
}

absl::Status NodeStorage::open_stores(FileSystem& fs, const NodeStorageOptions& options) {
  if (read_only_) {
    absl::StatusOr<bool> exists = fs.exists(dir_);
    if (!exists.ok()) return exists.status();
    if (!*exists) return absl::NotFoundError(absl::StrCat(dir_, ": no such directory"));
  } else if (absl::Status s = fs.create_dir(dir_); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::unique_ptr<HardStateStore>> hard_state =
      read_only_ ? HardStateStore::open_read_only(&fs, dir_) : HardStateStore::open(&fs, dir_);
  if (!hard_state.ok()) return hard_state.status();
  hard_state_ = std::move(*hard_state);

  // A missing subdirectory in read-only mode is an empty store: open would
  // create it, and nothing in it can be lost.
  const std::string log_dir = join_path(dir_, kLogDir);
  absl::StatusOr<std::unique_ptr<LogStore>> log =
      read_only_ ? LogStore::open_read_only(fs, log_dir, options.log) : LogStore::open(fs, log_dir, options.log);
  if (read_only_ && absl::IsNotFound(log.status())) {
    recovery_.notes.push_back(absl::StrCat(log_dir, ": missing; open creates it empty"));
  } else if (!log.ok()) {
    return log.status();
  } else {
    log_ = std::move(*log);
  }

  const std::string snapshot_dir = join_path(dir_, kSnapshotDir);
  absl::StatusOr<std::unique_ptr<SnapshotStore>> snapshots =
      read_only_ ? SnapshotStore::open_read_only(&fs, snapshot_dir, options.snapshots)
                 : SnapshotStore::open(&fs, snapshot_dir, options.snapshots);
  if (read_only_ && absl::IsNotFound(snapshots.status())) {
    recovery_.notes.push_back(absl::StrCat(snapshot_dir, ": missing; open creates it empty"));
  } else if (!snapshots.ok()) {
    return snapshots.status();
  } else {
    snapshots_ = std::move(*snapshots);
    recovery_.snapshot = snapshots_->latest();
  }
  return absl::OkStatus();
}

void NodeStorage::collect_store_notes() {
  std::vector<std::string>& notes = recovery_.notes;
  const char* verb = read_only_ ? "open cuts" : "cut";
  for (const std::string& w : hard_state_->warnings()) notes.push_back(w);
  if (log_ != nullptr) {
    const RecoveryReport& report = log_->recovery_report();
    if (report.cut_tail) {
      notes.push_back(absl::StrCat(report.cut_tail->path, ": torn tail at offset ", report.cut_tail->offset, " (",
                                   report.cut_tail->bytes, " bytes: ", report.cut_tail->reason, "); ", verb,
                                   " it"));
    }
    for (const std::string& path : report.removed_empty_segments) {
      notes.push_back(absl::StrCat(path, ": empty last segment (crash before its first record); ",
                                   read_only_ ? "open removes it" : "removed"));
    }
  }
  if (snapshots_ != nullptr) {
    for (const std::string& w : snapshots_->warnings()) notes.push_back(w);
  }
  const bool log_empty = log_ == nullptr || log_->empty();
  recovery_.fresh = hard_state_->sequence() == 0 && !recovery_.snapshot && log_empty;
}

bool NodeStorage::log_has(raft::Index index, raft::Term term) const {
  if (log_ == nullptr || log_->empty()) return false;
  absl::StatusOr<raft::Term> at = log_->term_at(index);
  return at.ok() && *at == term;
}

absl::Status NodeStorage::reconcile_log_with_snapshot() {
  if (log_ == nullptr || log_->empty()) return absl::OkStatus();
  const raft::Index s = snapshot_index(recovery_.snapshot);
  const raft::Index first = log_->first_index();
  if (first.value() > s.value() + 1) {
    return absl::DataLossError(absl::StrCat(
        log_->dir(), ": log starts at index ", first.value(), " but ",
        recovery_.snapshot ? absl::StrCat("the newest snapshot ends at index ", s.value())
                           : std::string("there is no snapshot"),
        ": entries ", s.value() + 1, "..", first.value() - 1, " are missing"));
  }
  if (s.value() == 0 || first.value() == s.value() + 1) return absl::OkStatus();
  if (log_has(s, snapshot_term(recovery_.snapshot))) return absl::OkStatus();
  return discard_log(absl::StrCat("it does not hold the snapshot's last entry (index ", s.value(), ", term ",
                                  snapshot_term(recovery_.snapshot).value(),
                                  "): a crash interrupted installing that snapshot"));
}

absl::Status NodeStorage::discard_log(absl::string_view why) {
  recovery_.notes.push_back(absl::StrCat(log_->dir(), ": log ", log_->first_index().value(), "..",
                                         log_->last_index().value(), " ",
                                         read_only_ ? "would be discarded by open" : "discarded", ": ", why));
  if (read_only_) {
    log_discarded_ = true;
    return absl::OkStatus();
  }
  return log_->truncate_suffix(log_->first_index());
}

absl::Status NodeStorage::load_entries_after_snapshot() {
  if (log_ == nullptr || log_->empty() || log_discarded_) return absl::OkStatus();
  const raft::Index s = snapshot_index(recovery_.snapshot);
  const raft::Index from(std::max(s.value() + 1, log_->first_index().value()));
  if (from > log_->last_index()) return absl::OkStatus();
  absl::StatusOr<std::vector<raft::LogEntry>> entries = log_->read(from, log_->last_index() + 1);
  if (!entries.ok()) return entries.status();
  const raft::Term s_term = snapshot_term(recovery_.snapshot);
  if (!entries->empty() && entries->front().term < s_term) {
    return absl::DataLossError(absl::StrCat(log_->dir(), ": entry ", from.value(), " has term ",
                                            entries->front().term.value(), ", below the term ",
                                            s_term.value(), " of the snapshot before it"));
  }
  recovery_.entries = std::move(*entries);
  return absl::OkStatus();
}

absl::Status NodeStorage::check_hard_state() {
  raft::HardState& hs = recovery_.hard_state;
  hs = hard_state_->current();
  const raft::Index s = snapshot_index(recovery_.snapshot);
  const raft::Index last = recovery_.entries.empty() ? s : recovery_.entries.back().index;
  const raft::Term last_term = recovery_.entries.empty() ? snapshot_term(recovery_.snapshot)
                                                         : recovery_.entries.back().term;
  if (hs.term < last_term) {
    recovery_.notes.push_back(absl::StrCat(hard_state_->path(), ": term ", hs.term.value(),
                                           " is below the last log term ", last_term.value(),
                                           " (crash between the log write and the hard-state save); "
                                           "using term ",
                                           last_term.value(), " with no vote"));
    hs.term = last_term;
    hs.vote.reset();
  }
  if (hs.commit < s) {
    recovery_.notes.push_back(absl::StrCat(hard_state_->path(), ": commit ", hs.commit.value(),
                                           " is below the snapshot index ", s.value(), "; using ", s.value()));
    hs.commit = s;
  }
  if (hs.commit > last) {
    return absl::DataLossError(absl::StrCat(hard_state_->path(), ": commit index ", hs.commit.value(),
                                            " is past the last recovered entry ", last.value(),
                                            ": committed entries ", last.value() + 1, "..", hs.commit.value(),
                                            " are missing from ", join_path(dir_, kLogDir)));
  }
  return absl::OkStatus();
}

raft::RecoveredState NodeStorage::recovered_state(const raft::Configuration& initial) const {
  raft::RecoveredState state;
  state.hard_state = recovery_.hard_state;
  if (recovery_.snapshot) {
    state.snapshot = recovery_.snapshot->meta;
  } else {
    state.snapshot = raft::SnapshotMeta{raft::Index(0), raft::Term(0), initial};
  }
  state.entries = recovery_.entries;
  return state;
}

void NodeStorage::release_recovered_entries() {
  recovery_.entries.clear();
  recovery_.entries.shrink_to_fit();
}

absl::Status NodeStorage::persist(const std::optional<raft::HardState>& hard_state,
                                  const std::vector<raft::LogEntry>& entries) {
  if (read_only_) return absl::FailedPreconditionError(absl::StrCat(dir_, ": opened read-only"));
  if (!entries.empty()) {
    const raft::Index first = entries.front().index;
    if (!log_->empty() && first <= log_->last_index()) {
      if (absl::Status s = log_->truncate_suffix(first); !s.ok()) return s;
    }
    if (absl::Status s = log_->append(entries); !s.ok()) return s;
  }
  if (hard_state) return hard_state_->save(*hard_state);
  return absl::OkStatus();
}

absl::Status NodeStorage::on_snapshot_durable(const raft::SnapshotMeta& meta) {
  if (read_only_) return absl::FailedPreconditionError(absl::StrCat(dir_, ": opened read-only"));
  // Touches only the log, never snapshots(): in production the snapshot files
  // are written on the node's loop while log writes run on the storage thread.
  if (log_->empty()) return absl::OkStatus();
  if (!log_has(meta.index, meta.term)) {
    return log_->truncate_suffix(log_->first_index());
  }
  return log_->compact_prefix(meta.index);
}

}  // namespace reef::storage
