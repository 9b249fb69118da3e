// NodeStorage: the cross-checks and repairs of recovery (storage/node_storage.h)
// as scenarios on both backends, and, on SimFileSystem, a crash after every
// single file-system operation of a node's life (appends, suffix overwrites,
// hard-state changes, a snapshot that compacts the log and one that replaces
// it), checked against a model of what was acknowledged: recovery never fails,
// never loses an acknowledged entry or hard state, never shows an entry that
// was not written, and never shows a hard state whose log is not durable.
#include "storage/node_storage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "raft/core/log_entry.h"
#include "raft/core/membership.h"
#include "raft/core/state.h"
#include "sim/sim_file_system.h"
#include "tests/storage/crash_point_file_system.h"
#include "tests/storage/hard_state_values.h"
#include "tests/storage/store_test_backends.h"

// Readable entries in failure messages (gtest finds PrintTo by ADL).
namespace reef::raft {
void PrintTo(const LogEntry& e, std::ostream* os) {
  *os << "{" << e.index.value() << "/" << e.term.value() << "}";
}
}  // namespace reef::raft

namespace reef::storage {
namespace {

using raft::HardState;
using raft::Index;
using raft::LogEntry;
using raft::NodeId;
using raft::SnapshotMeta;
using raft::Term;
using ::testing::AllOf;
using ::testing::Contains;
using testing::CrashPointFileSystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

using testing::hs;

// Entries first..last of `term`; the payload names index and term, so an
// entry from another write never compares equal.
std::vector<LogEntry> entries(uint64_t first, uint64_t last, uint64_t term) {
  std::vector<LogEntry> out;
  for (uint64_t i = first; i <= last; ++i) {
    out.push_back(LogEntry{Term(term), Index(i), raft::EntryType::kNormal,
                           absl::StrCat("entry ", i, " of term ", term, " ", std::string(i % 7, 'x'))});
  }
  return out;
}

std::vector<LogEntry> concat(std::vector<LogEntry> a, const std::vector<LogEntry>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

raft::Configuration configuration() {
  return raft::Configuration::of_voters({NodeId(1), NodeId(2), NodeId(3)});
}

SnapshotMeta snapshot_meta(uint64_t index, uint64_t term) {
  return SnapshotMeta{Index(index), Term(term), configuration()};
}

// Small segments, so a few entries span several segment files and
// compaction has whole segments to remove.
NodeStorageOptions small_segments() {
  NodeStorageOptions options;
  options.log.segment_bytes = 256;
  options.snapshots.max_chunk_bytes = 1000;
  return options;
}

// Writes a snapshot through the store's writer; several chunks, spanning
// sectors, so a crash can tear it.
absl::Status write_snapshot(SnapshotStore& store, const SnapshotMeta& meta) {
  absl::StatusOr<std::unique_ptr<SnapshotWriter>> writer = store.begin(meta);
  if (!writer.ok()) return writer.status();
  const std::string data(2500, static_cast<char>('a' + meta.index.value() % 26));
  if (absl::Status s = (*writer)->add_chunk(data); !s.ok()) return s;
  return (*writer)->finish().status();
}

// Every directory and file under a node directory, with contents.
std::map<std::string, std::string> file_tree(FileSystem& fs, const std::string& dir) {
  std::map<std::string, std::string> tree;
  for (const std::string& d :
       {dir, join_path(dir, NodeStorage::kLogDir), join_path(dir, NodeStorage::kSnapshotDir)}) {
    absl::StatusOr<std::vector<std::string>> names = fs.list(d);
    if (!names.ok()) continue;  // no such directory
    tree[d + "/"] = "";
    for (const std::string& name : *names)
      tree[join_path(d, name)] = testing::read_file(fs, join_path(d, name));
  }
  return tree;
}

// The state a recovery hands to the core; notes aside.
void expect_same_state(const Recovery& a, const Recovery& b, const std::string& context) {
  EXPECT_EQ(a.hard_state, b.hard_state)
      << context << ": " << describe(a.hard_state) << " vs " << describe(b.hard_state);
  EXPECT_EQ(a.snapshot.has_value(), b.snapshot.has_value()) << context;
  if (a.snapshot && b.snapshot) {
    EXPECT_EQ(a.snapshot->meta, b.snapshot->meta) << context;
  }
  EXPECT_EQ(a.entries, b.entries) << context;
  EXPECT_EQ(a.fresh, b.fresh) << context;
}

template <typename Backend>
class NodeStorageTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(backend_.root().empty()) << "could not make the test directory"; }

  FileSystem& fs() { return backend_.fs(); }
  std::string dir() const { return join_path(backend_.root(), "node"); }
  std::string log_dir() const { return join_path(dir(), NodeStorage::kLogDir); }

  std::unique_ptr<NodeStorage> open_ok(const std::string& dir) {
    absl::StatusOr<std::unique_ptr<NodeStorage>> storage = NodeStorage::open(fs(), dir, small_segments());
    EXPECT_TRUE(storage.ok()) << storage.status();
    return storage.ok() ? std::move(*storage) : nullptr;
  }
  std::unique_ptr<NodeStorage> open_ok() { return open_ok(dir()); }

  absl::Status open_error() {
    absl::StatusOr<std::unique_ptr<NodeStorage>> storage = NodeStorage::open(fs(), dir(), small_segments());
    return storage.ok() ? absl::OkStatus() : storage.status();
  }

  // A log whose first entry is `first`, written by LogStore directly: what
  // NodeStorage itself would never leave behind.
  void write_log(uint64_t first, uint64_t last, uint64_t term) {
    absl::StatusOr<std::unique_ptr<LogStore>> log = LogStore::open(fs(), log_dir(), small_segments().log);
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE((*log)->append(entries(first, last, term)).ok());
  }

  void write_snapshot_only(const SnapshotMeta& meta) {
    absl::StatusOr<std::unique_ptr<SnapshotStore>> store =
        SnapshotStore::open(&fs(), join_path(dir(), NodeStorage::kSnapshotDir), small_segments().snapshots);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(write_snapshot(**store, meta).ok());
  }

  std::string last_segment() {
    absl::StatusOr<std::vector<std::string>> names = fs().list(log_dir());
    EXPECT_TRUE(names.ok() && !names->empty());
    return names.ok() && !names->empty() ? join_path(log_dir(), names->back()) : "";
  }

  Backend backend_;
};

TYPED_TEST_SUITE(NodeStorageTest, testing::StoreBackends, testing::StoreBackendNames);

TYPED_TEST(NodeStorageTest, FreshDirectoryRecoversLikeABootstrappedNode) {
  std::unique_ptr<NodeStorage> storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  EXPECT_TRUE(storage->recovery().fresh);
  EXPECT_THAT(storage->recovery().notes, IsEmpty());
  const raft::RecoveredState state = storage->recovered_state(configuration());
  const raft::RecoveredState bootstrap = raft::RecoveredState::bootstrap(configuration());
  EXPECT_EQ(state.hard_state, bootstrap.hard_state);
  EXPECT_EQ(state.snapshot, bootstrap.snapshot);
  EXPECT_THAT(state.entries, IsEmpty());
  EXPECT_EQ(state.applied, bootstrap.applied);
}

TYPED_TEST(NodeStorageTest, PersistedEntriesAndHardStateSurviveReopen) {
  std::unique_ptr<NodeStorage> storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(storage->persist(hs(1, 1, 0), entries(1, 5, 1)).ok());
  ASSERT_TRUE(storage->persist(hs(2, std::nullopt, 3), entries(6, 9, 2)).ok());
  ASSERT_TRUE(storage->persist(hs(2, 3, 9), {}).ok());
  ASSERT_GT(storage->log().segment_count(), 1u);
  storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  EXPECT_FALSE(storage->recovery().fresh);
  EXPECT_THAT(storage->recovery().notes, IsEmpty());
  EXPECT_EQ(storage->recovery().hard_state, hs(2, 3, 9));
  EXPECT_EQ(storage->recovery().entries, concat(entries(1, 5, 1), entries(6, 9, 2)));
  const raft::RecoveredState state = storage->recovered_state(configuration());
  EXPECT_EQ(state.entries, storage->recovery().entries);
  EXPECT_EQ(state.snapshot, snapshot_meta(0, 0));

  storage->release_recovered_entries();
  EXPECT_THAT(storage->recovery().entries, IsEmpty());
}

TYPED_TEST(NodeStorageTest, PersistOverwritesTheConflictingSuffix) {
  std::unique_ptr<NodeStorage> storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(storage->persist(hs(1, 1, 2), entries(1, 10, 1)).ok());
  ASSERT_TRUE(storage->persist(hs(3, 2, 5), entries(6, 8, 3)).ok());
  // From the very first entry: the whole log is replaced.
  std::unique_ptr<NodeStorage> other = this->open_ok(join_path(this->backend_.root(), "other"));
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->persist(hs(1, 1, 0), entries(1, 4, 1)).ok());
  ASSERT_TRUE(other->persist(hs(2, 1, 0), entries(1, 2, 2)).ok());

  storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(storage->recovery().entries, concat(entries(1, 5, 1), entries(6, 8, 3)));
  EXPECT_EQ(storage->recovery().hard_state, hs(3, 2, 5));
  other = this->open_ok(join_path(this->backend_.root(), "other"));
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->recovery().entries, entries(1, 2, 2));
}

TYPED_TEST(NodeStorageTest, SnapshotInTheLogKeepsTheEntriesAfterItAndCompacts) {
  std::unique_ptr<NodeStorage> storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(storage->persist(hs(1, 1, 30), entries(1, 40, 1)).ok());
  const size_t segments = storage->log().segment_count();
  ASSERT_TRUE(write_snapshot(storage->snapshots(), snapshot_meta(30, 1)).ok());
  ASSERT_TRUE(storage->on_snapshot_durable(snapshot_meta(30, 1)).ok());
  EXPECT_LT(storage->log().segment_count(), segments);
  EXPECT_GT(storage->log().first_index(), Index(1));
  EXPECT_LE(storage->log().first_index(), Index(31));
  EXPECT_EQ(storage->log().last_index(), Index(40));

  storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  EXPECT_THAT(storage->recovery().notes, IsEmpty());
  ASSERT_TRUE(storage->recovery().snapshot.has_value());
  EXPECT_EQ(storage->recovery().snapshot->meta, snapshot_meta(30, 1));
  EXPECT_EQ(storage->recovery().entries, entries(31, 40, 1));
  EXPECT_EQ(storage->recovered_state(raft::Configuration{}).snapshot, snapshot_meta(30, 1));
}

// A snapshot from the leader that the log does not hold (beyond its end, or
// at an index where the log has another term) replaces the whole log.
TYPED_TEST(NodeStorageTest, SnapshotNotInTheLogDiscardsTheLog) {
  for (const SnapshotMeta& meta : {snapshot_meta(50, 2), snapshot_meta(20, 5)}) {
    const std::string dir = join_path(this->backend_.root(), absl::StrCat("node-", meta.index.value()));
    std::unique_ptr<NodeStorage> storage = this->open_ok(dir);
    ASSERT_NE(storage, nullptr);
    ASSERT_TRUE(storage->persist(hs(1, 1, 10), entries(1, 40, 1)).ok());
    ASSERT_TRUE(write_snapshot(storage->snapshots(), meta).ok());
    ASSERT_TRUE(storage->on_snapshot_durable(meta).ok());
    EXPECT_TRUE(storage->log().empty());
    ASSERT_TRUE(storage->persist(hs(6, 2, meta.index.value()), entries(meta.index.value() + 1, 45, 6)).ok());

    storage = this->open_ok(dir);
    ASSERT_NE(storage, nullptr);
    EXPECT_THAT(storage->recovery().notes, IsEmpty());
    EXPECT_EQ(storage->recovery().snapshot->meta, meta);
    EXPECT_EQ(storage->recovery().entries, entries(meta.index.value() + 1, 45, 6));
  }
}

// A crash after a snapshot became durable but before on_snapshot_durable:
// recovery must leave the log exactly as on_snapshot_durable would have
// (compaction aside, which changes no entry after the snapshot).
TYPED_TEST(NodeStorageTest, CrashBeforeOnSnapshotDurableRecoversAsIfItHadRun) {
  for (const SnapshotMeta& meta : {snapshot_meta(30, 1), snapshot_meta(50, 2), snapshot_meta(20, 5)}) {
    std::vector<Recovery> recovered;
    for (bool call_on_snapshot_durable : {true, false}) {
      const std::string dir =
          join_path(this->backend_.root(),
                    absl::StrCat("node-", meta.index.value(), "-", call_on_snapshot_durable ? "on" : "off"));
      std::unique_ptr<NodeStorage> storage = this->open_ok(dir);
      ASSERT_NE(storage, nullptr);
      ASSERT_TRUE(storage->persist(hs(1, 1, 10), entries(1, 40, 1)).ok());
      ASSERT_TRUE(write_snapshot(storage->snapshots(), meta).ok());
      if (call_on_snapshot_durable) {
        ASSERT_TRUE(storage->on_snapshot_durable(meta).ok());
      }
      storage = this->open_ok(dir);
      ASSERT_NE(storage, nullptr);
      recovered.push_back(storage->recovery());
    }
    const std::string context = absl::StrCat("snapshot ", meta.index.value(), "/", meta.term.value());
    expect_same_state(recovered[0], recovered[1], context);
    const bool in_log = meta.index.value() <= 40 && meta.term == Term(1);
    EXPECT_EQ(recovered[1].entries, in_log ? entries(31, 40, 1) : std::vector<LogEntry>{}) << context;
    if (!in_log) {
      EXPECT_THAT(recovered[1].notes, Contains(HasSubstr("log 1..40 discarded"))) << context;
      // The log is gone from disk, not just skipped: the next open is quiet.
      std::unique_ptr<NodeStorage> again =
          this->open_ok(join_path(this->backend_.root(), absl::StrCat("node-", meta.index.value(), "-off")));
      ASSERT_NE(again, nullptr);
      EXPECT_THAT(again->recovery().notes, Not(Contains(HasSubstr("discarded")))) << context;
    }
  }
}

TYPED_TEST(NodeStorageTest, LogStartingAboveTheSnapshotIsDataLossNamingTheGap) {
  this->write_log(5, 8, 1);
  absl::Status status = this->open_error();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(status.message(), HasSubstr("entries 1..4 are missing"));
  EXPECT_THAT(status.message(), HasSubstr("there is no snapshot"));

  this->write_snapshot_only(snapshot_meta(2, 1));
  status = this->open_error();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(status.message(), HasSubstr("entries 3..4 are missing"));
  EXPECT_THAT(status.message(), HasSubstr(this->log_dir()));
}

TYPED_TEST(NodeStorageTest, HardStateTermBelowTheLastLogTermIsRaisedWithoutVote) {
  std::unique_ptr<NodeStorage> storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  // What a crash between the log write and the hard-state save leaves.
  ASSERT_TRUE(storage->persist(hs(2, 3, 1), entries(1, 3, 4)).ok());
  storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(storage->recovery().hard_state, hs(4, std::nullopt, 1));
  EXPECT_THAT(storage->recovery().notes, Contains(HasSubstr("term 2 is below the last log term 4")));
}

TYPED_TEST(NodeStorageTest, CommitPastTheLastIndexIsDataLossNamingTheMissingEntries) {
  std::unique_ptr<NodeStorage> storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(storage->persist(hs(1, 1, 7), entries(1, 3, 1)).ok());
  storage.reset();
  const absl::Status status = this->open_error();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(status.message(), HasSubstr("committed entries 4..7 are missing"));
}

TYPED_TEST(NodeStorageTest, CommitBelowTheSnapshotIsRaisedToIt) {
  std::unique_ptr<NodeStorage> storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(storage->persist(hs(1, 1, 3), entries(1, 12, 1)).ok());
  ASSERT_TRUE(write_snapshot(storage->snapshots(), snapshot_meta(10, 1)).ok());
  ASSERT_TRUE(storage->on_snapshot_durable(snapshot_meta(10, 1)).ok());
  storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(storage->recovery().hard_state, hs(1, 1, 10));
  EXPECT_THAT(storage->recovery().notes, Contains(HasSubstr("commit 3 is below the snapshot index 10")));
}

TYPED_TEST(NodeStorageTest, TornTailIsCutOnceAndNoted) {
  std::unique_ptr<NodeStorage> storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(storage->persist(hs(1, 1, 2), entries(1, 5, 1)).ok());
  storage.reset();
  const std::string segment = this->last_segment();
  const std::string bytes = testing::read_file(this->fs(), segment);
  testing::write_file(this->fs(), segment, bytes + std::string(9, '\x01'));  // a record cut after 9 bytes

  storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(storage->recovery().entries, entries(1, 5, 1));
  EXPECT_THAT(storage->recovery().notes, Contains(AllOf(HasSubstr(segment), HasSubstr("torn tail"))));
  EXPECT_EQ(testing::read_file(this->fs(), segment), bytes);
  storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  EXPECT_THAT(storage->recovery().notes, IsEmpty());
}

// Everything open repairs at once: a torn tail, a hard-state term behind the
// log, temp files of an interrupted first save and an unfinished snapshot,
// and a snapshot the log does not hold. open_read_only must not change a
// byte, must recover what open then recovers, and must announce each change.
TYPED_TEST(NodeStorageTest, OpenReadOnlyChangesNothingAndPredictsOpen) {
  std::unique_ptr<NodeStorage> storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(storage->persist(hs(1, 1, 2), entries(1, 6, 3)).ok());
  ASSERT_TRUE(write_snapshot(storage->snapshots(), snapshot_meta(60, 4)).ok());  // no on_snapshot_durable
  storage.reset();
  // An unfinished snapshot as a writer names it (snapshot_store.h).
  testing::write_file(
      this->fs(),
      join_path(this->dir(), "snapshots/snapshot-00000000000000000070-00000000000000000004.0.tmp"),
      "never finished");
  const std::string segment = this->last_segment();
  testing::write_file(this->fs(), segment, testing::read_file(this->fs(), segment) + "torn");
  testing::write_file(this->fs(), join_path(this->dir(), HardStateStore::kTempFileName),
                      std::string(1024, '\0'));

  const std::map<std::string, std::string> before = file_tree(this->fs(), this->dir());
  absl::StatusOr<std::unique_ptr<NodeStorage>> read_only =
      NodeStorage::open_read_only(this->fs(), this->dir(), small_segments());
  ASSERT_TRUE(read_only.ok()) << read_only.status();
  EXPECT_EQ(file_tree(this->fs(), this->dir()), before);
  EXPECT_EQ((*read_only)->persist(hs(9, 1, 1), {}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*read_only)->on_snapshot_durable(snapshot_meta(60, 4)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(file_tree(this->fs(), this->dir()), before);
  const Recovery predicted = (*read_only)->recovery();
  read_only->reset();

  storage = this->open_ok();
  ASSERT_NE(storage, nullptr);
  const Recovery& actual = storage->recovery();
  expect_same_state(predicted, actual, "read-only vs open");
  EXPECT_EQ(actual.hard_state, hs(4, std::nullopt, 60));
  EXPECT_THAT(actual.entries, IsEmpty());
  for (const char* change :
       {"torn tail", "discarded", "below the last log term", "below the snapshot index"}) {
    EXPECT_THAT(actual.notes, Contains(HasSubstr(change)));
    EXPECT_THAT(predicted.notes, Contains(HasSubstr(change)));
  }
  for (const char* leftover : {HardStateStore::kTempFileName, "unfinished snapshot; open removes it"}) {
    EXPECT_THAT(predicted.notes, Contains(HasSubstr(leftover)));
  }
  EXPECT_THAT(predicted.notes, Contains(HasSubstr("would be discarded by open")));
  EXPECT_NE(file_tree(this->fs(), this->dir()), before);
}

TYPED_TEST(NodeStorageTest, OpenReadOnlyOfAMissingDirectoryIsNotFoundAndCreatesNothing) {
  absl::StatusOr<std::unique_ptr<NodeStorage>> read_only =
      NodeStorage::open_read_only(this->fs(), this->dir());
  ASSERT_FALSE(read_only.ok());
  EXPECT_EQ(read_only.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(read_only.status().message(), HasSubstr(this->dir()));
  absl::StatusOr<bool> exists = this->fs().exists(this->dir());
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

// A directory holding only a hard state (no log/ or snapshots/ yet): open
// would create the two, so read-only reports them as missing, not as damage.
TYPED_TEST(NodeStorageTest, OpenReadOnlyWithoutSubdirectoriesReportsThemMissing) {
  ASSERT_TRUE(this->fs().create_dir(this->dir()).ok());
  absl::StatusOr<std::unique_ptr<NodeStorage>> read_only =
      NodeStorage::open_read_only(this->fs(), this->dir());
  ASSERT_TRUE(read_only.ok()) << read_only.status();
  EXPECT_TRUE((*read_only)->recovery().fresh);
  EXPECT_THAT((*read_only)->recovery().notes, Contains(HasSubstr("missing; open creates it empty")));
  absl::StatusOr<bool> exists = this->fs().exists(this->log_dir());
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

// ------------------------------------------------------------ SimFileSystem only

constexpr char kSimDir[] = "/node";

// One step of a node's life: a persist() call, or a snapshot install
// (written, then on_snapshot_durable).
struct Step {
  std::optional<HardState> hard_state;
  std::vector<LogEntry> entries;
  std::optional<SnapshotMeta> snapshot;
};

// Appends, a hard-state-only change, a suffix overwritten with a higher
// term, a snapshot the log holds (compacts segments), an overwrite after it,
// and a snapshot the log does not hold (replaces the log), then more appends.
std::vector<Step> crash_workload() {
  return {
      {hs(1, 1, 0), entries(1, 6, 1), std::nullopt},
      {hs(1, 1, 4), {}, std::nullopt},
      {std::nullopt, entries(7, 12, 1), std::nullopt},
      {hs(2, 2, 6), entries(9, 11, 2), std::nullopt},
      {hs(2, 2, 10), entries(12, 20, 2), std::nullopt},
      {std::nullopt, {}, snapshot_meta(15, 2)},
      {hs(3, std::nullopt, 18), entries(19, 22, 3), std::nullopt},
      {std::nullopt, {}, snapshot_meta(30, 4)},
      {hs(4, 1, 31), entries(31, 33, 4), std::nullopt},
  };
}

// What has been acknowledged after some steps.
struct Model {
  HardState hard_state;
  std::optional<SnapshotMeta> snapshot;
  std::map<uint64_t, LogEntry> log;  // only indexes above the snapshot matter

  Index snapshot_index() const { return snapshot ? snapshot->index : Index(0); }
  std::vector<LogEntry> after(Index s) const {
    std::vector<LogEntry> out;
    for (auto it = log.upper_bound(s.value()); it != log.end(); ++it) out.push_back(it->second);
    return out;
  }
  Model then(const Step& step) const {
    Model next = *this;
    if (step.snapshot) {
      auto held = log.find(step.snapshot->index.value());
      if (held == log.end() || held->second.term != step.snapshot->term) next.log.clear();
      next.snapshot = step.snapshot;
    }
    if (!step.entries.empty()) {
      next.log.erase(next.log.lower_bound(step.entries.front().index.value()), next.log.end());
      for (const LogEntry& e : step.entries) next.log[e.index.value()] = e;
    }
    if (step.hard_state) next.hard_state = *step.hard_state;
    return next;
  }
};

// Runs the workload on a storage opened on `fs`; returns how many steps were
// acknowledged before the first failure.
size_t run_steps(FileSystem& fs, const std::vector<Step>& steps) {
  absl::StatusOr<std::unique_ptr<NodeStorage>> storage = NodeStorage::open(fs, kSimDir, small_segments());
  if (!storage.ok()) return 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& step = steps[i];
    absl::Status status;
    if (step.snapshot) {
      status = write_snapshot((*storage)->snapshots(), *step.snapshot);
      if (status.ok()) status = (*storage)->on_snapshot_durable(*step.snapshot);
    } else {
      status = (*storage)->persist(step.hard_state, step.entries);
    }
    if (!status.ok()) return i;
  }
  return steps.size();
}

Index snapshot_index(const Recovery& r) { return r.snapshot ? r.snapshot->meta.index : Index(0); }

Index last_index(const Recovery& r) { return r.entries.empty() ? snapshot_index(r) : r.entries.back().index; }

Term last_term(const Recovery& r) {
  if (!r.entries.empty()) return r.entries.back().term;
  return r.snapshot ? r.snapshot->meta.term : Term(0);
}

// `h` as recovery repairs it given the recovered log (storage/node_storage.h).
HardState repaired(HardState h, const Recovery& r) {
  if (h.term < last_term(r)) {
    h.term = last_term(r);
    h.vote.reset();
  }
  h.commit = std::max(h.commit, snapshot_index(r));
  return h;
}

// Recovery after a crash during `step` (nullptr: after the whole workload),
// which would take the acknowledged state `old` to `next`.
void expect_old_or_new(const Recovery& r, const Model& old, const Model& next, const Step* step,
                       const std::string& context) {
  const Index s = r.snapshot ? r.snapshot->meta.index : Index(0);
  // Contiguous from the snapshot, commit within the log.
  for (size_t i = 0; i < r.entries.size(); ++i) {
    ASSERT_EQ(r.entries[i].index, Index(s.value() + 1 + i)) << context;
  }
  EXPECT_LE(r.hard_state.commit, last_index(r)) << context;

  const bool new_snapshot =
      step != nullptr && step->snapshot && r.snapshot && r.snapshot->meta == *step->snapshot;
  if (!new_snapshot) {
    ASSERT_EQ(r.snapshot.has_value(), old.snapshot.has_value()) << context;
    if (r.snapshot) {
      EXPECT_EQ(r.snapshot->meta, *old.snapshot) << context;
    }
  }
  const bool old_hard_state = r.hard_state == repaired(old.hard_state, r);
  const bool new_hard_state = r.hard_state == repaired(next.hard_state, r);
  EXPECT_TRUE(old_hard_state || new_hard_state)
      << context << ": hard state " << describe(r.hard_state) << ", acknowledged " << describe(old.hard_state)
      << ", being saved " << describe(next.hard_state);

  if (step == nullptr || step->snapshot) {
    // A snapshot install touches the log only after the snapshot is durable,
    // and recovery then does what on_snapshot_durable does.
    EXPECT_EQ(r.entries, (new_snapshot ? next : old).after(s)) << context;
    return;
  }
  if (new_hard_state && !old_hard_state) {
    // The hard state is saved after the log: if it is durable, so is the log.
    EXPECT_EQ(r.entries, next.after(s)) << context << ": new hard state without its log";
    return;
  }
  // A crash inside persist(): every entry below the first one written is
  // there; from it on, what survives is a prefix of the old suffix or of the
  // new entries, never a mix and never anything else.
  const uint64_t first_written = step->entries.empty() ? UINT64_MAX : step->entries.front().index.value();
  for (const LogEntry& e : old.after(s)) {
    if (e.index.value() >= first_written) break;
    ASSERT_GT(r.entries.size(), e.index.value() - s.value() - 1)
        << context << ": acknowledged entry " << e.index.value() << " lost";
  }
  bool seen_new = false;
  for (const LogEntry& e : r.entries) {
    const uint64_t i = e.index.value();
    auto in_old = old.log.find(i);
    auto in_new = next.log.find(i);
    const bool is_old = in_old != old.log.end() && in_old->second == e;
    const bool is_new = i >= first_written && in_new != next.log.end() && in_new->second == e;
    EXPECT_TRUE(is_old || is_new) << context << ": entry " << i << " was never written";
    if (seen_new) {
      EXPECT_TRUE(is_new) << context << ": old entry " << i << " after a new one";
    }
    seen_new = seen_new || (is_new && !is_old);
  }
}

class NodeStorageCrashPointTest : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Names, NodeStorageCrashPointTest, ::testing::Values(false, true),
                         ::reef::storage::testing::durability_mode_name);

TEST_P(NodeStorageCrashPointTest, CrashAfterEveryOperationRecoversEverythingAcknowledged) {
  const bool eager = GetParam();
  const std::vector<Step> steps = crash_workload();
  std::vector<Model> models = {Model{}};
  for (const Step& step : steps) models.push_back(models.back().then(step));

  sim::SimFileSystem counting_sim(1);
  CrashPointFileSystem counting(&counting_sim);
  ASSERT_EQ(run_steps(counting, steps), steps.size());
  const uint64_t crash_points = counting.operations();

  constexpr uint64_t kSeeds = 16;  // different tears of the same write
  uint64_t cases = 0, torn = 0, noted = 0;
  std::vector<uint64_t> crashes_in_step(steps.size() + 1, 0);
  for (uint64_t budget = 0; budget <= crash_points; ++budget) {
    for (uint64_t seed = 0; seed < kSeeds; ++seed) {
      sim::SimFileSystem sim(budget * 7919 + seed);
      sim.set_faults(sim::SimFaults{.torn_writes = true});
      size_t acked = 0;
      {
        CrashPointFileSystem crashing(&sim, budget, eager);
        acked = run_steps(crashing, steps);
      }
      sim.crash();
      torn += sim.stats().torn_writes;
      ++cases;
      ++crashes_in_step[acked];
      const std::string context =
          absl::StrCat("crash after operation ", budget, " (in step ", acked, ") seed ", seed);

      absl::StatusOr<std::unique_ptr<NodeStorage>> storage =
          NodeStorage::open(sim, kSimDir, small_segments());
      ASSERT_TRUE(storage.ok()) << context << ": " << storage.status();
      const Recovery& r = (*storage)->recovery();
      noted += r.notes.empty() ? 0 : 1;
      const bool done = acked == steps.size();
      expect_old_or_new(r, models[acked], models[done ? acked : acked + 1], done ? nullptr : &steps[acked],
                        context);
      if (::testing::Test::HasFailure()) {
        for (const std::string& note : r.notes) std::printf("  note: %s\n", note.c_str());
        return;
      }

      // The recovered storage keeps working: one more entry survives a crash.
      const Index next = last_index(r) + 1;
      HardState saved = r.hard_state;
      saved.commit = next;
      const LogEntry entry{saved.term, next, raft::EntryType::kNormal, "after recovery"};
      ASSERT_TRUE((*storage)->persist(saved, {entry}).ok()) << context;
      const std::vector<LogEntry> expected = concat(r.entries, {entry});
      storage->reset();
      sim.crash();
      storage = NodeStorage::open(sim, kSimDir, small_segments());
      ASSERT_TRUE(storage.ok()) << context << ": " << storage.status();
      EXPECT_EQ((*storage)->recovery().entries, expected) << context;
      EXPECT_EQ((*storage)->recovery().hard_state, saved) << context;
    }
  }
  std::printf(
      "node storage (%s): %llu crash points x %llu seeds = %llu crash cases, %llu torn writes, %llu with "
      "notes\n",
      eager ? "eager names" : "sync_dir only", static_cast<unsigned long long>(crash_points + 1),
      static_cast<unsigned long long>(kSeeds), static_cast<unsigned long long>(cases),
      static_cast<unsigned long long>(torn), static_cast<unsigned long long>(noted));
  // Every step was interrupted somewhere (the workload is what is tested).
  for (size_t i = 0; i < crashes_in_step.size(); ++i) EXPECT_GT(crashes_in_step[i], 0u) << "step " << i;
  EXPECT_GT(torn, 0u);
}

}  // namespace
}  // namespace reef::storage
