// Focused unit tests of RaftLog, the core's in-memory view of the log:
// the follower's merge (thesis §3.5 consistency check and truncation), the
// conflict search behind fast back-tracking (§5.3), the election restriction
// comparison (§3.6.1), slicing for flow control (§10.2), and compaction /
// snapshot restore (§5.1, §5.3).
#include "raft/core/raft_log.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

#include <string>
#include <vector>

namespace reef::raft::testing {
namespace {

LogEntry entry(uint64_t index, uint64_t term, std::string payload = "") {
  return LogEntry{Term(term), Index(index), EntryType::kNormal, std::move(payload)};
}

// Entries 1..n with the given terms.
std::vector<LogEntry> entries_with_terms(const std::vector<uint64_t>& terms, uint64_t first_index = 1) {
  std::vector<LogEntry> out;
  for (size_t i = 0; i < terms.size(); ++i) {
    out.push_back(entry(first_index + i, terms[i], absl::StrCat("p", first_index + i)));  // not +: g++ 12 -Wrestrict
  }
  return out;
}

SnapshotMeta empty_snapshot() {
  return SnapshotMeta{Index(0), Term(0), Configuration::of_voters({NodeId(1)})};
}

RaftLog log_with_terms(const std::vector<uint64_t>& terms, uint64_t committed = 0, uint64_t applied = 0) {
  return RaftLog(empty_snapshot(), entries_with_terms(terms), Index(committed), Index(applied));
}

std::vector<uint64_t> terms_of(const RaftLog& log) {
  std::vector<uint64_t> out;
  for (Index i = log.first_index(); i <= log.last_index(); i = i.next())
    out.push_back(log.at(i).term.value());
  return out;
}

TEST(RaftLog, EmptyLogHasSentinelAtIndexZero) {
  RaftLog log = log_with_terms({});
  EXPECT_EQ(log.first_index(), Index(1));
  EXPECT_EQ(log.last_index(), Index(0));
  EXPECT_EQ(log.last_term(), Term(0));
  EXPECT_EQ(log.term_at(Index(0)), Term(0));
  EXPECT_FALSE(log.term_at(Index(1)).has_value());
  EXPECT_TRUE(log.matches(Index(0), Term(0)));
  EXPECT_TRUE(log.slice(Index(1), 10, 1000).empty());
}

TEST(RaftLog, TermAtCoversSnapshotAndEntriesOnly) {
  RaftLog log(SnapshotMeta{Index(5), Term(2), Configuration::of_voters({NodeId(1)})},
              entries_with_terms({2, 3, 3}, 6), Index(5), Index(5));
  EXPECT_EQ(log.first_index(), Index(6));
  EXPECT_EQ(log.last_index(), Index(8));
  EXPECT_EQ(log.last_term(), Term(3));
  EXPECT_FALSE(log.term_at(Index(4)).has_value()) << "compacted away";
  EXPECT_EQ(log.term_at(Index(5)), Term(2)) << "the snapshot's own term";
  EXPECT_EQ(log.term_at(Index(7)), Term(3));
  EXPECT_FALSE(log.term_at(Index(9)).has_value()) << "beyond the end";
  EXPECT_EQ(log.at(Index(6)).payload, "p6");
}

TEST(RaftLog, ConstructorClampsCommitAndAppliedIntoTheLog) {
  // A hard state's commit is only a hint and may run ahead of a log whose
  // tail was lost; applied never exceeds committed.
  RaftLog log = log_with_terms({1, 1}, /*committed=*/7, /*applied=*/9);
  EXPECT_EQ(log.committed(), Index(2));
  EXPECT_EQ(log.applied(), Index(2));
  EXPECT_EQ(log.persisted(), Index(2)) << "recovered entries are durable";
}

TEST(RaftLog, MergeAppendsNewEntriesAfterTheMatchPoint) {
  RaftLog log = log_with_terms({1, 1});
  const std::vector<LogEntry> incoming = entries_with_terms({1, 2}, 3);
  std::optional<Index> changed = log.merge(Index(2), incoming);
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ(*changed, Index(3));
  EXPECT_EQ(terms_of(log), (std::vector<uint64_t>{1, 1, 1, 2}));
  EXPECT_EQ(log.persisted(), Index(2)) << "new entries are not durable until the driver says so";
}

TEST(RaftLog, MergeOfEntriesAlreadyPresentChangesNothing) {
  // A duplicated or delayed append must be a no-op (log matching, §3.5).
  RaftLog log = log_with_terms({1, 1, 2, 2});
  const std::vector<LogEntry> incoming = entries_with_terms({1, 2}, 2);
  EXPECT_FALSE(log.merge(Index(1), incoming).has_value());
  EXPECT_EQ(terms_of(log), (std::vector<uint64_t>{1, 1, 2, 2}));
  EXPECT_EQ(log.persisted(), Index(4));
}

TEST(RaftLog, ShorterMatchingAppendDoesNotTruncateTheTail) {
  // Thesis §3.5: "If an existing entry conflicts with a new one ... delete
  // the existing entry and all that follow" — only on conflict. A stale
  // message carrying a prefix must not cut entries that came later.
  RaftLog log = log_with_terms({1, 1, 1, 1, 1});
  const std::vector<LogEntry> incoming = entries_with_terms({1}, 2);
  EXPECT_FALSE(log.merge(Index(1), incoming).has_value());
  EXPECT_EQ(log.last_index(), Index(5));
}

TEST(RaftLog, MergeTruncatesAtTheFirstConflictAndReplacesTheSuffix) {
  RaftLog log = log_with_terms({1, 1, 2, 2, 2}, /*committed=*/2, /*applied=*/2);
  const std::vector<LogEntry> incoming = entries_with_terms({1, 3}, 2);  // index 2 matches, 3 conflicts
  std::optional<Index> changed = log.merge(Index(1), incoming);
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ(*changed, Index(3));
  EXPECT_EQ(terms_of(log), (std::vector<uint64_t>{1, 1, 3}));
  EXPECT_EQ(log.persisted(), Index(2)) << "the replaced suffix is no longer durable";
}

TEST(RaftLog, MergeRightAfterTheSnapshotUsesTheSnapshotTerm) {
  // After compaction the consistency check at the snapshot point compares
  // against the snapshot's term (§5.1): the log knows nothing else there.
  RaftLog log(SnapshotMeta{Index(3), Term(1), Configuration::of_voters({NodeId(1)})},
              entries_with_terms({1}, 4), Index(3), Index(3));
  EXPECT_TRUE(log.matches(Index(3), Term(1)));
  EXPECT_FALSE(log.matches(Index(3), Term(2)));
  const std::vector<LogEntry> tail = entries_with_terms({1, 2}, 4);  // 4 present, 5 new
  std::optional<Index> changed = log.merge(Index(3), tail);
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ(*changed, Index(5));
  EXPECT_EQ(terms_of(log), (std::vector<uint64_t>{1, 2}));
}

TEST(RaftLogDeathTest, MergeAfterAnUnknownIndexIsABug) {
  // The core checks matches(prev) before merging; an unknown prev is a bug.
  RaftLog log = log_with_terms({1});
  const std::vector<LogEntry> incoming = entries_with_terms({1}, 4);
  EXPECT_DEATH(log.merge(Index(3), incoming), "unknown index");
}

TEST(RaftLogDeathTest, MergeNeverOverwritesACommittedEntry) {
  // Leader completeness (§3.6.3) guarantees no leader sends such an append;
  // if one arrives, something is badly broken and the core must stop.
  RaftLog log = log_with_terms({1, 1, 1}, /*committed=*/3, /*applied=*/0);
  const std::vector<LogEntry> incoming = entries_with_terms({2}, 3);
  EXPECT_DEATH(log.merge(Index(2), incoming), "is committed");
}

TEST(RaftLog, FindConflictByTermSkipsWholeTerms) {
  // Index:  1 2 3 4 5 6 7 8 9 10
  // Term:   1 1 1 4 4 5 5 6 6 6
  RaftLog log = log_with_terms({1, 1, 1, 4, 4, 5, 5, 6, 6, 6});
  EXPECT_EQ(log.find_conflict_by_term(Index(10), Term(6)), Index(10));
  EXPECT_EQ(log.find_conflict_by_term(Index(10), Term(5)), Index(7));
  EXPECT_EQ(log.find_conflict_by_term(Index(10), Term(4)), Index(5));
  EXPECT_EQ(log.find_conflict_by_term(Index(10), Term(3)), Index(3)) << "term 3 absent: last entry below it";
  EXPECT_EQ(log.find_conflict_by_term(Index(6), Term(4)), Index(5));
  EXPECT_EQ(log.find_conflict_by_term(Index(10), Term(0)), Index(0)) << "nothing matches: the sentinel";
  EXPECT_EQ(log.find_conflict_by_term(Index(50), Term(9)), Index(10)) << "clamped to the last index";
}

TEST(RaftLog, FindConflictByTermStopsAtTheSnapshot) {
  RaftLog log(SnapshotMeta{Index(4), Term(2), Configuration::of_voters({NodeId(1)})},
              entries_with_terms({3, 3}, 5), Index(4), Index(4));
  EXPECT_EQ(log.find_conflict_by_term(Index(6), Term(1)), Index(4));
  EXPECT_EQ(log.find_conflict_by_term(Index(6), Term(3)), Index(6));
}

TEST(RaftLog, ElectionRestrictionComparesLastTermThenLength) {
  RaftLog log = log_with_terms({1, 1, 3});  // last (3, term 3)
  EXPECT_TRUE(log.is_up_to_date(Index(3), Term(3))) << "equal logs are up to date";
  EXPECT_TRUE(log.is_up_to_date(Index(9), Term(3))) << "same last term, longer";
  EXPECT_FALSE(log.is_up_to_date(Index(2), Term(3))) << "same last term, shorter";
  EXPECT_TRUE(log.is_up_to_date(Index(1), Term(4))) << "newer last term wins even when shorter";
  EXPECT_FALSE(log.is_up_to_date(Index(100), Term(2))) << "older last term loses even when longer";
}

TEST(RaftLog, SliceHonoursCountAndByteBounds) {
  std::vector<LogEntry> entries;
  for (uint64_t i = 1; i <= 6; ++i) entries.push_back(entry(i, 1, std::string(76, 'x')));  // 100 bytes each
  RaftLog log(empty_snapshot(), entries, Index(0), Index(0));
  ASSERT_EQ(entry_size_bytes(log.at(Index(1))), 100u);
  EXPECT_EQ(log.slice(Index(1), 4, 1 << 20).size(), 4u) << "count bound";
  EXPECT_EQ(log.slice(Index(1), 100, 250).size(), 2u) << "byte bound: a third entry would make 300";
  EXPECT_EQ(log.slice(Index(1), 100, 300).size(), 3u) << "the bound is inclusive";
  EXPECT_EQ(log.slice(Index(5), 100, 1 << 20).size(), 2u) << "stops at the last index";
  std::vector<LogEntry> one = log.slice(Index(2), 100, 10);
  ASSERT_EQ(one.size(), 1u) << "an entry above the byte bound still goes, alone";
  EXPECT_EQ(one[0].index, Index(2));
  EXPECT_TRUE(log.slice(Index(7), 100, 1000).empty());
  EXPECT_EQ(log.range(Index(2), Index(4)).size(), 3u);
  EXPECT_TRUE(log.range(Index(4), Index(3)).empty());
}

TEST(RaftLogDeathTest, SliceBelowTheFirstIndexIsABug) {
  RaftLog log(SnapshotMeta{Index(3), Term(1), Configuration::of_voters({NodeId(1)})},
              entries_with_terms({1}, 4), Index(3), Index(3));
  EXPECT_DEATH(log.slice(Index(2), 10, 1000), "before first index|outside");
}

TEST(RaftLog, CommitOnlyMovesForwardAndApplyNeedsPersistence) {
  RaftLog log = log_with_terms({1, 1, 1});
  const std::vector<LogEntry> more = entries_with_terms({2, 2}, 4);
  ASSERT_TRUE(log.merge(Index(3), more).has_value());
  log.commit_to(Index(5));
  log.commit_to(Index(2));
  EXPECT_EQ(log.committed(), Index(5)) << "commit never goes back";
  EXPECT_EQ(log.applicable(), Index(3)) << "entries 4 and 5 are not durable yet";
  EXPECT_FALSE(log.persisted_to(Index(5), Term(1))) << "wrong term: the write was for a replaced suffix";
  EXPECT_EQ(log.persisted(), Index(3));
  EXPECT_TRUE(log.persisted_to(Index(5), Term(2)));
  EXPECT_EQ(log.applicable(), Index(5));
  log.applied_to(Index(5));
  EXPECT_EQ(log.applied(), Index(5));
}

TEST(RaftLogDeathTest, CommitBeyondTheLogIsABug) {
  RaftLog log = log_with_terms({1});
  EXPECT_DEATH(log.commit_to(Index(2)), "beyond last");
}

TEST(RaftLog, CompactDropsThePrefixAndRemembersItsTerm) {
  RaftLog log = log_with_terms({1, 1, 2, 2, 3}, /*committed=*/4, /*applied=*/4);
  const Configuration config = Configuration::of_voters({NodeId(1), NodeId(2)});
  log.compact(Index(3), config);
  EXPECT_EQ(log.snapshot().index, Index(3));
  EXPECT_EQ(log.snapshot().term, Term(2));
  EXPECT_EQ(log.snapshot().configuration, config);
  EXPECT_EQ(log.first_index(), Index(4));
  EXPECT_EQ(log.last_index(), Index(5));
  EXPECT_EQ(log.term_at(Index(3)), Term(2));
  EXPECT_FALSE(log.term_at(Index(2)).has_value());
  EXPECT_EQ(log.committed(), Index(4));
  // Compacting to an older point is a no-op, not an error.
  log.compact(Index(2), config);
  EXPECT_EQ(log.snapshot().index, Index(3));
}

TEST(RaftLogDeathTest, CompactBeyondAppliedIsABug) {
  // The snapshot must cover only applied state (§5.1).
  RaftLog log = log_with_terms({1, 1, 1}, /*committed=*/3, /*applied=*/1);
  EXPECT_DEATH(log.compact(Index(2), Configuration::of_voters({NodeId(1)})), "beyond applied");
}

TEST(RaftLog, RestoreReplacesEverything) {
  RaftLog log = log_with_terms({1, 1, 2}, /*committed=*/1, /*applied=*/1);
  const SnapshotMeta snap{Index(10), Term(4), Configuration::of_voters({NodeId(1), NodeId(2), NodeId(3)})};
  log.restore(snap);
  EXPECT_EQ(log.snapshot(), snap);
  EXPECT_EQ(log.last_index(), Index(10));
  EXPECT_EQ(log.last_term(), Term(4));
  EXPECT_EQ(log.first_index(), Index(11));
  EXPECT_EQ(log.committed(), Index(10));
  EXPECT_EQ(log.applied(), Index(10));
  EXPECT_EQ(log.persisted(), Index(10));
  EXPECT_FALSE(log.term_at(Index(3)).has_value()) << "old entries are gone";
  // The log continues right after the snapshot.
  const std::vector<LogEntry> next = entries_with_terms({4}, 11);
  ASSERT_EQ(log.merge(Index(10), next), Index(11));
  EXPECT_EQ(log.last_index(), Index(11));
}

TEST(RaftLogDeathTest, RestoreAtOrBelowCommitIsABug) {
  RaftLog log = log_with_terms({1, 1, 1}, /*committed=*/3, /*applied=*/3);
  EXPECT_DEATH(log.restore(SnapshotMeta{Index(2), Term(1), Configuration::of_voters({NodeId(1)})}),
               "at or below commit");
}

}  // namespace
}  // namespace reef::raft::testing
