// The core's in-memory view of the log: the entries after the latest
// snapshot, plus the positions that move through it.
//
//   snapshot.index < first_index() <= ... <= last_index()
//   snapshot.index <= applied <= committed <= last_index()
//   applied <= persisted <= last_index()
//
// `persisted` is how far the driver has made the log durable; committed
// entries are handed out for applying only up to min(committed, persisted),
// so an applied entry is always durable locally.
#pragma once

#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "raft/core/log_entry.h"
#include "raft/core/state.h"
#include "raft/core/types.h"

namespace reef::raft {

class RaftLog {
 public:
  // `entries` must be contiguous from snapshot.index + 1; all are durable.
  RaftLog(SnapshotMeta snapshot, std::vector<LogEntry> entries, Index committed, Index applied);

  const SnapshotMeta& snapshot() const { return snapshot_; }
  Index first_index() const { return snapshot_.index.next(); }
  Index last_index() const { return snapshot_.index + entries_.size(); }
  Term last_term() const;
  Index committed() const { return committed_; }
  Index applied() const { return applied_; }
  Index persisted() const { return persisted_; }

  // Term of the entry at `index`; the snapshot's term at its index; nullopt
  // when compacted away or beyond the end.
  // Inline: it runs several times per message, and out of line GCC returned
  // the optional through memory with a store-forwarding stall on every call.
  std::optional<Term> term_at(Index index) const {
    if (index == snapshot_.index) return snapshot_.term;
    if (index < first_index() || index > last_index()) return std::nullopt;
    return entries_[distance(first_index(), index)].term;
  }
  bool matches(Index index, Term term) const { return term_at(index) == term; }
  const LogEntry& at(Index index) const;

  // Thesis §3.6.1 election restriction: is a log ending at
  // (last_index, last_term) at least as up to date as ours?
  bool is_up_to_date(Index last_index, Term last_term) const;

  // Largest index <= `index` whose term is <= `term` (snapshot index at
  // worst). Used for fast back-tracking on both sides.
  Index find_conflict_by_term(Index index, Term term) const;

  // Follower side of AppendEntries once (prev_index, prev_term) matched:
  // skips entries already present, truncates at the first conflict and
  // appends the rest. Returns the index from which the log changed (the
  // driver must rewrite from there), or nullopt if nothing changed.
  // Asserts that no committed entry is overwritten.
  std::optional<Index> merge(Index prev_index, std::span<const LogEntry> entries);
  // The same, but moves the new entries out of `entries` instead of copying
  // them: a follower owns the AppendEntries it received, and copying every
  // payload once more was a large part of its per-entry cost.
  std::optional<Index> merge(Index prev_index, std::vector<LogEntry>&& entries);

  // Leader side: append entries that start right after last_index().
  void append(std::vector<LogEntry> entries);
  // The same for one entry, so a proposal's entries need no staging vector.
  void append(LogEntry entry);

  // Entries in [from, last_index()], at most `max_count` of them and at
  // most `max_bytes` (but always at least one when any exist).
  std::vector<LogEntry> slice(Index from, uint64_t max_count, uint64_t max_bytes) const;
  // Entries in [from, to], unbounded; from > to gives none.
  std::vector<LogEntry> range(Index from, Index to) const;
  // Appends copies of the entries in [from, to] to `out` (none when from > to),
  // growing `out` at most once. Walks the log sequentially instead of looking
  // every index up: this copy is on the path of every replicated entry.
  void copy_to(Index from, Index to, std::vector<LogEntry>& out) const;

  void commit_to(Index index);
  // Highest index that can be handed out for applying.
  Index applicable() const { return std::min(committed_, persisted_); }
  void applied_to(Index index);
  // Returns true if (index, term) still names an entry of this log.
  bool persisted_to(Index index, Term term);

  // Drop entries up to `index` (<= applied), recording `configuration` as the
  // membership in effect there.
  void compact(Index index, const Configuration& configuration);
  // Replace everything with a snapshot received from the leader. The
  // snapshot is considered durable, committed and applied once the driver
  // handles Output::snapshot.
  void restore(const SnapshotMeta& snapshot);

 private:
  // Shared part of both merge() overloads: returns how many leading entries
  // the log already holds and drops the log's suffix from the first
  // conflicting (or new) entry on.
  size_t prepare_merge(Index prev_index, std::span<const LogEntry> entries);

  SnapshotMeta snapshot_;
  std::deque<LogEntry> entries_;  // entries_[i].index == snapshot_.index + 1 + i
  Index committed_;
  Index applied_;
  Index persisted_;
};

}  // namespace reef::raft
