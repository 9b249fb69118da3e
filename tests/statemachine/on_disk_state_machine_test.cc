// SqlStateMachine on disk (SimFileSystem): reopening at the recorded
// position, crashes at every file-system operation of apply, checkpoint,
// make_durable and restore, and damaged files.
#include <sqlite3.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/sim_file_system.h"
#include "statemachine/command_batch.h"
#include "statemachine/page_checksum.h"
#include "statemachine/query_codec.h"
#include "statemachine/sql_database.h"
#include "statemachine/sql_reader.h"
#include "statemachine/sql_state_machine.h"
#include "tests/statemachine/harness.h"

namespace reef::statemachine {
namespace {

using testing::sql;

constexpr char kDir[] = "/data/db";
constexpr int64_t kTime = 1'700'000'000'000;

// Entry i (1-based) of a fixed log: sessions, inserts, updates, a no-op now
// and then, enough rows to spill pages.
raft::LogEntry entry(uint64_t i) {
  raft::LogEntry e{raft::Term(1 + i / 10), raft::Index(i), raft::EntryType::kNormal, {}};
  if (i % 7 == 0) {
    e.type = raft::EntryType::kNoop;
    return e;
  }
  std::vector<Statement> statements;
  if (i == 1) statements.push_back(sql("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, n INTEGER)"));
  statements.push_back(sql(absl::StrCat("INSERT INTO t(v, n) VALUES (hex(randomblob(300)), ", i, ")")));
  if (i % 3 == 0) statements.push_back(sql(absl::StrCat("UPDATE t SET n = n + 1 WHERE id % 5 = ", i % 5)));
  e.payload = encode_command_batch(CommandBatch{CommandId{1 + i % 4, i}, kTime + static_cast<int64_t>(i), statements});
  return e;
}

// The state hash after applying entries 1..n to a fresh in-memory machine.
uint64_t reference_hash(uint64_t n) {
  testing::Replica replica;
  for (uint64_t i = 1; i <= n; ++i) EXPECT_TRUE(replica.sm->apply(entry(i)).ok());
  return replica.hash();
}

SqlStateMachineOptions small_checkpoints() {
  SqlStateMachineOptions options;
  options.checkpoint_wal_pages = 8;
  return options;
}

std::unique_ptr<SqlStateMachine> open_or_die(sim::SimFileSystem& fs, SqlStateMachineOptions options = {}) {
  auto opened = SqlStateMachine::open(options, fs, kDir);
  EXPECT_TRUE(opened.ok()) << opened.status();
  return opened.ok() ? *std::move(opened) : nullptr;
}

TEST(OnDiskStateMachineTest, ReopensAtTheRecordedPositionAfterACleanClose) {
  sim::SimFileSystem fs(1);
  {
    auto sm = open_or_die(fs);
    EXPECT_EQ(sm->applied().index, raft::Index(0));
    for (uint64_t i = 1; i <= 20; ++i) ASSERT_TRUE(sm->apply(entry(i)).ok());
    ASSERT_TRUE(sm->make_durable().ok());
  }
  auto sm = open_or_die(fs);
  EXPECT_TRUE(sm->recovery_note().empty()) << sm->recovery_note();
  EXPECT_EQ(sm->applied(), (raft::AppliedPosition{raft::Index(20), raft::Term(3)}));
  auto hash = sm->state_hash();
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(*hash, reference_hash(20));
}

// Determinism reaches the disk: the same entries write the same bytes into
// every file (WAL salts and checksums included), whatever ran before in
// the process (SQLite's PRNG is process-wide).
TEST(OnDiskStateMachineTest, TheSameEntriesWriteTheSameBytes) {
  std::vector<std::string> images[2];
  for (std::vector<std::string>& files : images) {
    sim::SimFileSystem fs(1);
    {
      auto sm = open_or_die(fs, small_checkpoints());
      for (uint64_t i = 1; i <= 30; ++i) ASSERT_TRUE(sm->apply(entry(i)).ok());
      ASSERT_TRUE(sm->make_durable().ok());
      for (const char* name : {"state.db", "state.db-wal", "state-internal.db", "state-internal.db-wal"}) {
        auto bytes = fs.contents(absl::StrCat(kDir, "/", name));
        ASSERT_TRUE(bytes.ok()) << name << ": " << bytes.status();
        files.push_back(*bytes);
      }
    }
    std::array<char, 16> drawn{};  // what anything else in the process might draw
    sqlite3_randomness(static_cast<int>(drawn.size()), drawn.data());
  }
  ASSERT_EQ(images[0].size(), images[1].size());
  for (size_t i = 0; i < images[0].size(); ++i) EXPECT_TRUE(images[0][i] == images[1][i]) << "file " << i;
}

// A host learns peers' addresses when address_changes() moves; a reopened
// database holds an address book the replay after it may never touch.
TEST(OnDiskStateMachineTest, AReopenedAddressBookCountsAsAChange) {
  sim::SimFileSystem fs(1);
  {
    auto sm = open_or_die(fs);
    EXPECT_EQ(sm->address_changes(), 0u);
    CommandBatch batch;
    batch.leader_timestamp_ms = kTime;
    batch.node_address = NodeAddress{2, "10.0.0.2:4002", "10.0.0.2:4001", true};
    ASSERT_TRUE(sm->apply(raft::LogEntry{raft::Term(1), raft::Index(1), raft::EntryType::kNormal,
                                         encode_command_batch(batch)})
                    .ok());
    ASSERT_TRUE(sm->make_durable().ok());
  }
  auto sm = open_or_die(fs);
  EXPECT_GT(sm->address_changes(), 0u);
  auto book = sm->node_addresses();
  ASSERT_TRUE(book.ok()) << book.status();
  ASSERT_EQ(book->size(), 1u);
  EXPECT_EQ((*book)[0].raft_address, "10.0.0.2:4002");
}

// A crash (unsynced writes lost) right after applying entry n, for every n:
// the reopened machine is at some position p <= n whose state is exactly
// the replay of entries 1..p, and applying p+1..n again reaches the
// reference state.
TEST(OnDiskStateMachineTest, ACrashAfterAnyEntryReopensAtAConsistentPosition) {
  constexpr uint64_t kEntries = 40;
  for (uint64_t n = 1; n <= kEntries; ++n) {
    SCOPED_TRACE(absl::StrCat("crash after entry ", n));
    const bool durable = n % 10 == 0;
    sim::SimFileSystem fs(n);
    fs.set_faults(sim::SimFaults{.torn_writes = true});
    {
      auto sm = open_or_die(fs, small_checkpoints());
      // Commit groups of three, as a driver turn would; up to two entries
      // are still uncommitted at the crash.
      for (uint64_t i = 1; i <= n; ++i) {
        ASSERT_TRUE(sm->apply(entry(i)).ok());
        if (i % 3 == 0) {
          ASSERT_TRUE(sm->commit_applied().ok());
        }
      }
      if (durable) {
        ASSERT_TRUE(sm->make_durable().ok());
      }
      fs.crash();
    }
    auto sm = open_or_die(fs, small_checkpoints());
    const uint64_t p = sm->applied().index.value();
    ASSERT_LE(p, n);
    if (durable) {
      EXPECT_EQ(p, n) << "make_durable() did not survive the crash";
    }
    auto hash = sm->state_hash();
    ASSERT_TRUE(hash.ok()) << hash.status();
    EXPECT_EQ(*hash, reference_hash(p)) << "state at recorded position " << p;
    for (uint64_t i = p + 1; i <= n; ++i) ASSERT_TRUE(sm->apply(entry(i)).ok());
    EXPECT_EQ(*sm->state_hash(), reference_hash(n));
  }
}

// A statement that fails because this replica's disk is full is no batch
// outcome every replica shares (SQLite reports ENOSPC as SQLITE_FULL, like a
// page-count limit): apply() fails, and the driver stops the node instead
// of recording a failure the others do not see.
TEST(OnDiskStateMachineTest, AFullDiskFailsTheReplicaNotTheBatch) {
  sim::SimFileSystem fs(1);
  SqlStateMachineOptions options;
  options.database.cache_kib = 64;  // the insert spills to the WAL mid-statement
  auto sm = open_or_die(fs, options);
  ASSERT_TRUE(sm->apply(entry(1)).ok());
  ASSERT_TRUE(sm->commit_applied().ok());
  fs.set_faults(sim::SimFaults{.byte_budget = 2u << 20});
  const CommandBatch big{CommandId{}, kTime,
                         {sql("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 2000) "
                              "INSERT INTO t(v, n) SELECT hex(randomblob(2000)), i FROM r")}};
  absl::StatusOr<std::string> applied =
      sm->apply(raft::LogEntry{raft::Term(1), raft::Index(2), raft::EntryType::kNormal, encode_command_batch(big)});
  ASSERT_FALSE(applied.ok()) << "a full disk became the batch's failure";
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kInternal) << applied.status();
}

constexpr size_t kPageBytes = 4096;

// The pages of a database file as the disk holds them.
std::vector<std::string> pages_of(const sim::SimFileSystem& fs, const std::string& path) {
  absl::StatusOr<std::string> bytes = fs.contents(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  std::vector<std::string> pages;
  if (!bytes.ok()) return pages;
  for (size_t at = 0; at + kPageBytes <= bytes->size(); at += kPageBytes) pages.push_back(bytes->substr(at, kPageBytes));
  return pages;
}

// Damages the last page of the database file `path`, `into` bytes in.
void damage_last_page(sim::SimFileSystem& fs, const std::string& path, uint64_t into) {
  const size_t pages = pages_of(fs, path).size();
  ASSERT_GT(pages, 0u) << path;
  ASSERT_TRUE(fs.flip_bit(path, (pages - 1) * kPageBytes + into, 4).ok());
}

// Every page of both files carries its checksum once checkpointed; a bit
// the disk flips in one is found the first time the page is read, by the
// applying connection or a reader, before anything is served from it: the
// replica fails, and its next open discards the files, to be rebuilt from
// the snapshot and the log.
TEST(OnDiskStateMachineTest, ADamagedPageIsFoundOnReadAndTheNextOpenDiscardsTheFiles) {
  sim::SimFileSystem fs(1);
  SqlStateMachineOptions options;
  options.checkpoint_wal_pages = 1;  // every commit checkpoints: the pages reach the files
  constexpr uint64_t kEntries = 40;
  {
    auto sm = open_or_die(fs, options);
    for (uint64_t i = 1; i <= kEntries; ++i) ASSERT_TRUE(sm->apply(entry(i)).ok());
    ASSERT_TRUE(sm->commit_applied().ok());
    ASSERT_TRUE(sm->make_durable().ok());
  }
  const std::string main_path = storage::join_path(kDir, kMainFile);
  for (const std::string& path : {main_path, storage::join_path(kDir, kInternalFile)}) {
    std::vector<std::string> pages = pages_of(fs, path);
    ASSERT_GE(pages.size(), 2u) << path;
    EXPECT_EQ(static_cast<int>(pages[0][20]), kPageChecksumBytes) << path << ": no room reserved";
    for (size_t p = 0; p < pages.size(); ++p) {
      EXPECT_TRUE(page_is_intact(pages[p].data(), kPageBytes)) << path << " page " << p + 1;
    }
  }
  const auto count_rows = [](SqlStateMachine& sm) {
    return sm.query(encode_query_request(sql("SELECT count(*), sum(length(v)) FROM t")));
  };
  {
    // Control: the same reopen and read with nothing damaged.
    auto sm = open_or_die(fs, options);
    ASSERT_TRUE(count_rows(*sm).ok());
    EXPECT_TRUE(sm->database_damage().ok());
  }
  damage_last_page(fs, main_path, 2000);
  {
    auto sm = open_or_die(fs, options);
    EXPECT_EQ(sm->applied().index, raft::Index(kEntries)) << "the damage was not where it would be read first";
    auto reader = sm->open_reader();
    ASSERT_TRUE(reader.ok()) << reader.status();
    absl::StatusOr<std::string> read = (*reader)->query(encode_query_request(sql("SELECT sum(length(v)) FROM t")));
    EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << "a damaged page was served";
    EXPECT_THAT(std::string(read.status().message()), ::testing::HasSubstr("fails its checksum"));
    EXPECT_EQ(sm->database_damage().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(sm->database_damage().message()), ::testing::HasSubstr("fails its checksum"));
    // The applying connection stops at its next commit.
    ASSERT_TRUE(sm->apply(raft::LogEntry{raft::Term(9), raft::Index(kEntries + 1), raft::EntryType::kNoop, {}}).ok());
    EXPECT_EQ(sm->commit_applied().code(), absl::StatusCode::kDataLoss);
  }
  auto sm = open_or_die(fs, options);
  EXPECT_THAT(sm->recovery_note(), ::testing::HasSubstr("fails its checksum"));
  EXPECT_EQ(sm->applied().index, raft::Index(0)) << "the damaged files were trusted";
  EXPECT_TRUE(sm->database_damage().ok());
}

// sqlite3_serialize fills a page it cannot read with zeros and carries on;
// the snapshot stream must fail instead of shipping that image (the swarm
// found a follower whose restored table root was a page of zeros, after
// an injected read error on the leader).
TEST(OnDiskStateMachineTest, ASnapshotFailsWhenAPageCannotBeReadInsteadOfShippingZeros) {
  SqlStateMachineOptions options;
  options.checkpoint_wal_pages = 1;  // the pages live in the database file, where the reader reads them
  const auto snapshot_after = [&](sim::SimFileSystem& fs, auto&& break_the_disk) {
    auto sm = open_or_die(fs, options);
    for (uint64_t i = 1; i <= 40; ++i) EXPECT_TRUE(sm->apply(entry(i)).ok());
    EXPECT_TRUE(sm->commit_applied().ok());
    auto snapshot = sm->snapshot(raft::Configuration{});
    EXPECT_TRUE(snapshot.ok()) << snapshot.status();
    break_the_disk(fs);
    return (*snapshot)->next_chunk(1 << 20).status();
  };
  sim::SimFileSystem control(1);
  EXPECT_TRUE(snapshot_after(control, [](sim::SimFileSystem&) {}).ok());
  sim::SimFileSystem eio(1);
  const absl::Status failed = snapshot_after(eio, [](sim::SimFileSystem& fs) {
    fs.set_faults(sim::SimFaults{.fail_read_call = fs.stats().reads + 3});
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable) << failed;
  sim::SimFileSystem flipped(1);
  const absl::Status damaged = snapshot_after(flipped, [](sim::SimFileSystem& fs) {
    damage_last_page(fs, storage::join_path(kDir, kMainFile), 100);
  });
  EXPECT_EQ(damaged.code(), absl::StatusCode::kDataLoss) << damaged;
}

}  // namespace
}  // namespace reef::statemachine
