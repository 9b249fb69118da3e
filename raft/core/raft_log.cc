#include "raft/core/raft_log.h"

#include <algorithm>

#include "raft/core/assert.h"

namespace reef::raft {

RaftLog::RaftLog(SnapshotMeta snapshot, std::vector<LogEntry> entries, Index committed, Index applied)
    : snapshot_(std::move(snapshot)),
      entries_(std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end())) {
  for (size_t i = 0; i < entries_.size(); ++i) {
    REEF_ASSERT(entries_[i].index == snapshot_.index + 1 + i, "recovered log is not contiguous at ",
                entries_[i].index.value());
    REEF_ASSERT(entries_[i].term >= (i == 0 ? snapshot_.term : entries_[i - 1].term),
                "recovered log terms decrease at ", entries_[i].index.value());
  }
  persisted_ = last_index();
  committed_ = std::clamp(committed, snapshot_.index, last_index());
  applied_ = std::clamp(applied, snapshot_.index, committed_);
}

Term RaftLog::last_term() const { return entries_.empty() ? snapshot_.term : entries_.back().term; }

const LogEntry& RaftLog::at(Index index) const {
  REEF_ASSERT(index >= first_index() && index <= last_index(), "index ", index.value(),
              " outside [", first_index().value(), ", ", last_index().value(), "]");
  return entries_[distance(first_index(), index)];
}

bool RaftLog::is_up_to_date(Index index, Term term) const {
  return term > last_term() || (term == last_term() && index >= last_index());
}

Index RaftLog::find_conflict_by_term(Index index, Term term) const {
  index = std::min(index, last_index());
  while (index > snapshot_.index) {
    if (at(index).term <= term) return index;
    index = index.prev();
  }
  return snapshot_.index;
}

size_t RaftLog::prepare_merge(Index prev_index, std::span<const LogEntry> entries) {
  REEF_ASSERT(term_at(prev_index).has_value(), "merge after unknown index ", prev_index.value());
  size_t skip = 0;
  // Skip what we already have; entries at or below the snapshot are committed
  // and therefore identical (log matching), so they are skipped too.
  while (skip < entries.size()) {
    const LogEntry& e = entries[skip];
    REEF_ASSERT(e.index == prev_index + 1 + skip, "append is not contiguous");
    if (e.index <= snapshot_.index) {
      ++skip;
      continue;
    }
    std::optional<Term> have = term_at(e.index);
    if (!have.has_value() || *have != e.term) break;
    ++skip;
  }
  if (skip == entries.size()) return skip;
  const Index from = entries[skip].index;
  REEF_ASSERT(from > committed_, "conflicting entry at ", from.value(), " is committed (commit ",
              committed_.value(), ")");
  if (from <= last_index()) {
    entries_.resize(distance(first_index(), from));
    persisted_ = std::min(persisted_, from.prev());
  }
  return skip;
}

std::optional<Index> RaftLog::merge(Index prev_index, std::span<const LogEntry> entries) {
  const size_t skip = prepare_merge(prev_index, entries);
  if (skip == entries.size()) return std::nullopt;
  for (size_t i = skip; i < entries.size(); ++i) entries_.push_back(entries[i]);
  return entries[skip].index;
}

std::optional<Index> RaftLog::merge(Index prev_index, std::vector<LogEntry>&& entries) {
  const size_t skip = prepare_merge(prev_index, entries);
  if (skip == entries.size()) return std::nullopt;
  const Index from = entries[skip].index;
  for (size_t i = skip; i < entries.size(); ++i) entries_.push_back(std::move(entries[i]));
  return from;
}

void RaftLog::append(std::vector<LogEntry> entries) {
  for (LogEntry& e : entries) append(std::move(e));
}

void RaftLog::append(LogEntry entry) {
  REEF_ASSERT(entry.index == last_index().next(), "leader append at ", entry.index.value(), " after ",
              last_index().value());
  REEF_ASSERT(entry.term >= last_term(), "leader append with decreasing term");
  entries_.push_back(std::move(entry));
}

std::vector<LogEntry> RaftLog::slice(Index from, uint64_t max_count, uint64_t max_bytes) const {
  std::vector<LogEntry> out;
  if (from > last_index()) return out;
  REEF_ASSERT(from >= first_index(), "slice from ", from.value(), " before first index ",
              first_index().value());
  // Measure first, then copy into a vector of the right size: growing it
  // entry by entry cost several reallocations per append message.
  uint64_t count = 0;
  uint64_t bytes = 0;
  for (auto it = entries_.begin() + static_cast<ptrdiff_t>(distance(first_index(), from));
       it != entries_.end() && count < max_count; ++it) {
    const uint64_t size = entry_size_bytes(*it);
    if (count > 0 && bytes + size > max_bytes) break;
    bytes += size;
    ++count;
  }
  copy_to(from, from + count - 1, out);
  return out;
}

std::vector<LogEntry> RaftLog::range(Index from, Index to) const {
  std::vector<LogEntry> out;
  copy_to(from, to, out);
  return out;
}

void RaftLog::copy_to(Index from, Index to, std::vector<LogEntry>& out) const {
  if (from > to) return;
  REEF_ASSERT(from >= first_index() && to <= last_index(), "copy of [", from.value(), ", ", to.value(),
              "] outside [", first_index().value(), ", ", last_index().value(), "]");
  const auto first = entries_.begin() + static_cast<ptrdiff_t>(distance(first_index(), from));
  out.insert(out.end(), first, first + static_cast<ptrdiff_t>(distance(from, to) + 1));
}

void RaftLog::commit_to(Index index) {
  REEF_ASSERT(index <= last_index(), "commit ", index.value(), " beyond last ", last_index().value());
  if (index > committed_) committed_ = index;
}

void RaftLog::applied_to(Index index) {
  REEF_ASSERT(index >= applied_ && index <= applicable(), "applied_to ", index.value(),
              " outside [", applied_.value(), ", ", applicable().value(), "]");
  applied_ = index;
}

bool RaftLog::persisted_to(Index index, Term term) {
  if (!matches(index, term)) return false;
  if (index > persisted_) persisted_ = index;
  return true;
}

void RaftLog::compact(Index index, const Configuration& configuration) {
  REEF_ASSERT(index <= applied_, "compact beyond applied: ", index.value(), " > ", applied_.value());
  if (index <= snapshot_.index) return;
  const Term term = *term_at(index);
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(distance(first_index(), index) + 1));
  snapshot_ = SnapshotMeta{index, term, configuration};
}

void RaftLog::restore(const SnapshotMeta& snapshot) {
  REEF_ASSERT(snapshot.index > committed_, "restoring snapshot ", snapshot.index.value(),
              " at or below commit ", committed_.value());
  entries_.clear();
  snapshot_ = snapshot;
  committed_ = snapshot.index;
  applied_ = snapshot.index;
  persisted_ = snapshot.index;
}

}  // namespace reef::raft
