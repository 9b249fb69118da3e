// Reader connections (sql_reader.h) on real files, on a thread of their own
// beside the applying connection: what they see, and their deadline.
#include "statemachine/sql_reader.h"

#include <sqlite3.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "statemachine/batch_response.h"
#include "statemachine/command_batch.h"
#include "statemachine/query_codec.h"
#include "statemachine/sql_database.h"
#include "statemachine/sql_state_machine.h"
#include "statemachine/sqlite_vfs.h"
#include "statemachine/wal_checkpointer.h"
#include "tests/statemachine/harness.h"
#include "tests/storage/store_test_backends.h"

namespace reef::statemachine {
namespace {

using testing::sql;

constexpr int64_t kTime = 1'700'000'000'000;

class SqlReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(disk_.root().empty());
    auto opened = SqlStateMachine::open(options_, disk_.fs(), disk_.root() + "/db");
    ASSERT_TRUE(opened.ok()) << opened.status();
    sm_ = *std::move(opened);
    apply({sql("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")});
    ASSERT_TRUE(sm_->commit_applied().ok());
  }

  void apply(std::vector<Statement> statements) {
    const raft::Index index = sm_->applied().index.next();
    const CommandBatch batch{CommandId{}, kTime + static_cast<int64_t>(index.value()), std::move(statements)};
    auto response =
        sm_->apply(raft::LogEntry{raft::Term(1), index, raft::EntryType::kNormal, encode_command_batch(batch)});
    ASSERT_TRUE(response.ok()) << response.status();
  }

  static QueryResponse ask(SqlReader& reader, const std::string& query,
                           SqlReader::Deadline deadline = SqlReader::Deadline::max()) {
    auto bytes = reader.query(encode_query_request(sql(query)), deadline);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    if (!bytes.ok()) return {};
    auto decoded = decode_query_response(*bytes);
    EXPECT_TRUE(decoded.ok()) << decoded.status();
    return decoded.ok() ? *decoded : QueryResponse{};
  }

  static int64_t count(SqlReader& reader) {
    QueryResponse response = ask(reader, "SELECT count(*) FROM t");
    EXPECT_TRUE(response.ok()) << response.message;
    return response.ok() ? std::get<int64_t>(response.rows.at(0).at(0)) : -1;
  }

  storage::testing::PosixStoreBackend disk_;
  SqlStateMachineOptions options_;
  std::unique_ptr<SqlStateMachine> sm_;
};

// A read sees the entries of finished commit groups, never the group being
// applied; "now" is the leader time of the last entry it sees.
TEST_F(SqlReaderTest, AReaderSeesCommittedGroupsOnly) {
  auto reader = sm_->open_reader();
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(count(**reader), 0);
  apply({sql("INSERT INTO t(v) VALUES ('a')")});
  EXPECT_EQ(count(**reader), 0) << "saw an entry of an uncommitted group";
  ASSERT_TRUE(sm_->commit_applied().ok());
  EXPECT_EQ(count(**reader), 1);
  QueryResponse now = ask(**reader, "SELECT CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)");
  ASSERT_TRUE(now.ok()) << now.message;
  EXPECT_EQ(std::get<int64_t>(now.rows.at(0).at(0)), kTime + 2);
}

// Reader connections answer client mistakes as the applying one does.
TEST_F(SqlReaderTest, AReaderRefusesWritesAndReportsBadSql) {
  auto reader = sm_->open_reader();
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(ask(**reader, "DELETE FROM t").error_code, ErrorCode::kRefused);
  EXPECT_EQ(ask(**reader, "SELECT nope FROM t").error_code, ErrorCode::kSqlError);
  EXPECT_EQ(ask(**reader, "SELECT * FROM reef_internal.reef_applied").error_code, ErrorCode::kRefused);
  EXPECT_EQ(count(**reader), 0);
}

// A strong read reaches the reader as the batch the client sent, once its
// barrier is applied: every statement runs in one read transaction and the
// answer is shaped like apply()'s, down to the failing statement's index.
TEST_F(SqlReaderTest, AReaderAnswersABatchOfReadsLikeApply) {
  apply({sql("INSERT INTO t(v) VALUES ('a'), ('b')")});
  ASSERT_TRUE(sm_->commit_applied().ok());
  auto reader = sm_->open_reader();
  ASSERT_TRUE(reader.ok()) << reader.status();
  const auto answer = [&](std::vector<Statement> statements) {
    auto bytes = (*reader)->query(encode_command_batch(CommandBatch{CommandId{7, 1}, 0, std::move(statements)}));
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    auto decoded = decode_batch_response(bytes.ok() ? *bytes : "");
    EXPECT_TRUE(decoded.ok()) << decoded.status();
    return decoded.ok() ? *decoded : BatchResponse{};
  };
  BatchResponse both = answer({sql("SELECT v FROM t ORDER BY id"), sql("SELECT count(*) FROM t")});
  ASSERT_TRUE(both.ok()) << both.message;
  ASSERT_EQ(both.results.size(), 2u);
  EXPECT_EQ(both.results[0].columns.at(0).name, "v");
  EXPECT_EQ(both.results[0].rows, (std::vector<Row>{{Value(std::string("a"))}, {Value(std::string("b"))}}));
  EXPECT_EQ(std::get<int64_t>(both.results[1].rows.at(0).at(0)), 2);
  EXPECT_FALSE(both.duplicate);

  BatchResponse refused = answer({sql("SELECT 1"), sql("DELETE FROM t")});
  EXPECT_EQ(refused.status, ApplyStatus::kStatementFailed);
  EXPECT_EQ(refused.failed_statement, 1);
  EXPECT_EQ(refused.error_code, ErrorCode::kRefused);
  EXPECT_TRUE(refused.results.empty());
  EXPECT_TRUE(absl::StartsWith(refused.message, "statement 1: ")) << refused.message;
  EXPECT_EQ(answer({sql("SELECT nope FROM t")}).error_code, ErrorCode::kSqlError);
  EXPECT_EQ(count(**reader), 2) << "a refused batch changed the data";

  auto garbage = (*reader)->query(std::string("RCMB-but-not-a-batch"));
  ASSERT_TRUE(garbage.ok()) << garbage.status();
  auto decoded = decode_query_response(*garbage);
  // Without the identifier at offset 4 it is a (bad) QueryRequest.
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->error_code, ErrorCode::kInvalidBatch);
  // With it, a batch that does not verify.
  auto bad_batch = (*reader)->query(std::string("\x08\0\0\0RCMB\xff\xff\xff\xff", 12));
  ASSERT_TRUE(bad_batch.ok()) << bad_batch.status();
  auto bad = decode_batch_response(*bad_batch);
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_EQ(bad->status, ApplyStatus::kInvalidBatch);
}

TEST(SqlReaderInMemoryTest, AnInMemoryMachineHasNoReaders) {
  testing::Replica replica;
  EXPECT_EQ(replica.sm->open_reader().status().code(), absl::StatusCode::kFailedPrecondition);
}

// A query that would run for ever, on its own thread: apply and commit go
// on beside it (a reader never blocks the writer in WAL mode), and its
// deadline interrupts it with a resource-limit error.
TEST_F(SqlReaderTest, ARunawayReadStopsAtItsDeadlineWhileApplyGoesOn) {
  auto reader = sm_->open_reader();
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::atomic<bool> read_finished{false};
  QueryResponse runaway;
  std::thread reading([&] {
    runaway = ask(**reader,
                  "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r",
                  std::chrono::steady_clock::now() + std::chrono::milliseconds(800));
    read_finished = true;
  });
  int committed_while_reading = 0;
  for (int i = 0; i < 20; ++i) {
    apply({sql(absl::StrCat("INSERT INTO t(v) VALUES ('", i, "')"))});
    ASSERT_TRUE(sm_->commit_applied().ok());
    if (!read_finished) ++committed_while_reading;
  }
  reading.join();
  EXPECT_GT(committed_while_reading, 0);
  EXPECT_EQ(runaway.error_code, ErrorCode::kResourceLimit);
  EXPECT_NE(runaway.message.find("read timeout"), std::string::npos) << runaway.message;
  EXPECT_EQ(count(**reader), 20);
}

// On disk, snapshot() only pins the state in a reader's read transaction;
// the stream, read later (and on another thread, as the server's background
// thread does) while apply went on, is exactly the state at the snapshot.
TEST_F(SqlReaderTest, ASnapshotStreamIsTheStateWhenItWasTakenReadWhileApplyGoesOn) {
  apply({sql("INSERT INTO t(v) VALUES ('before')")});
  ASSERT_TRUE(sm_->commit_applied().ok());
  const uint64_t hash_at_snapshot = *sm_->state_hash();
  const raft::AppliedPosition position = sm_->applied();
  auto snapshot = sm_->snapshot(raft::Configuration::of_voters({raft::NodeId(1)}));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  std::string stream;
  std::thread writing([&] {
    while (true) {
      auto chunk = (*snapshot)->next_chunk(4096);
      ASSERT_TRUE(chunk.ok()) << chunk.status();
      if (!chunk->has_value()) break;
      stream += **chunk;
    }
  });
  for (int i = 0; i < 30; ++i) {
    apply({sql(absl::StrCat("INSERT INTO t(v) VALUES ('after ", i, "')"))});
    ASSERT_TRUE(sm_->commit_applied().ok());
  }
  writing.join();
  EXPECT_EQ((*snapshot)->size_bytes(), stream.size());
  testing::Replica restored;
  auto restore = restored.sm->begin_restore();
  ASSERT_TRUE(restore.ok());
  absl::Status added = (*restore)->add_chunk(stream);
  ASSERT_TRUE(added.ok()) << added;
  auto meta = (*restore)->finish();
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->index, position.index);
  EXPECT_EQ(restored.hash(), hash_at_snapshot);
}

// The server's checkpoints run on a thread of their own: the WAL is copied
// into the database file while apply goes on, and nothing is lost.
TEST(BackgroundCheckpointTest, CopiesTheWalIntoTheDatabaseBesideApply) {
  storage::testing::PosixStoreBackend disk;
  ASSERT_FALSE(disk.root().empty());
  const std::string dir = disk.root() + "/db";
  SqlStateMachineOptions options;
  options.checkpoint_in_background = true;
  options.checkpoint_wal_pages = 16;
  const auto file_size = [&](const char* name) -> uint64_t {
    auto file = disk.fs().open(dir + "/" + name, storage::OpenMode::kExisting);
    if (!file.ok()) return 0;
    auto size = (*file)->size();
    return size.ok() ? *size : 0;
  };
  uint64_t hash = 0;
  {
    auto sm = SqlStateMachine::open(options, disk.fs(), dir);
    ASSERT_TRUE(sm.ok()) << sm.status();
    const uint64_t empty_size = file_size(kMainFile);
    const std::vector<Statement> create = {sql("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")};
    const Statement insert = sql("INSERT INTO t(v) VALUES (hex(randomblob(500)))");
    for (uint64_t i = 1; i <= 300; ++i) {
      std::vector<Statement> statements = i == 1 ? create : std::vector<Statement>{};
      statements.push_back(insert);
      const CommandBatch batch{CommandId{}, kTime, statements};
      ASSERT_TRUE((*sm)->apply(raft::LogEntry{raft::Term(1), raft::Index(i), raft::EntryType::kNormal,
                                              encode_command_batch(batch)})
                      .ok());
      ASSERT_TRUE((*sm)->commit_applied().ok());
    }
    // The thread copies on its own time: wait for it (bounded).
    for (int wait = 0; wait < 500 && file_size(kMainFile) <= empty_size; ++wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_GT(file_size(kMainFile), empty_size) << "no checkpoint copied the WAL into the database file";
    ASSERT_TRUE((*sm)->make_durable().ok());
    hash = *(*sm)->state_hash();
  }
  auto reopened = SqlStateMachine::open(options, disk.fs(), dir);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->applied().index, raft::Index(300));
  EXPECT_EQ(*(*reopened)->state_hash(), hash);
}

// A checkpoint that finds another connection holding the checkpoint lock
// (SQLITE_BUSY) is retried, not reported: under load that report stopped
// nodes ("background checkpoint: database is locked"). Here a FULL
// checkpoint on another connection holds the lock while it waits for the
// writer lock, which a third connection holds.
TEST(BackgroundCheckpointTest, ABusyCheckpointIsRetriedNotReported) {
  storage::testing::PosixStoreBackend disk;
  ASSERT_FALSE(disk.root().empty());
  const std::string dir = disk.root() + "/db";
  ASSERT_TRUE(disk.fs().create_dir(dir).ok());
  SqliteVfs files(disk.fs());
  DatabaseOptions options;
  auto writer = Database::open_files(options, files.name(), dir);
  ASSERT_TRUE(writer.ok()) << writer.status();
  absl::Status created = (*writer)->exec_internal("CREATE TABLE t(v); INSERT INTO t VALUES (zeroblob(50000))");
  ASSERT_TRUE(created.ok()) << created;
  auto holder = Database::open_checkpointer(options, files.name(), dir);
  ASSERT_TRUE(holder.ok()) << holder.status();
  auto checkpointer = WalCheckpointer::open(options, files.name(), dir);
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.status();

  ASSERT_TRUE((*writer)->exec_internal("BEGIN IMMEDIATE; INSERT INTO t VALUES (1)").ok());
  struct Gate {
    std::atomic<bool> holding{false};
    std::atomic<bool> release{false};
  } gate;
  sqlite3_busy_handler(
      (*holder)->handle(),
      [](void* arg, int) {
        auto* g = static_cast<Gate*>(arg);
        g->holding = true;
        while (!g->release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return 0;  // give up waiting for the writer: the FULL checkpoint ends
      },
      &gate);
  std::thread full([&] { sqlite3_wal_checkpoint_v2((*holder)->handle(), nullptr, SQLITE_CHECKPOINT_FULL, nullptr, nullptr); });
  while (!gate.holding) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  EXPECT_TRUE((*checkpointer)->request().ok());
  for (int wait = 0; wait < 500 && (*checkpointer)->busy_attempts() == 0; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_GT((*checkpointer)->busy_attempts(), 0u) << "the checkpoint lock was not contended";
  gate.release = true;
  full.join();
  ASSERT_TRUE((*writer)->exec_internal("COMMIT").ok());
  for (int wait = 0; wait < 500 && (*checkpointer)->checkpoints() == 0; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_GT((*checkpointer)->checkpoints(), 0u) << "the busy checkpoint was never retried";
  EXPECT_TRUE((*checkpointer)->request().ok()) << "a busy checkpoint was reported as an error";
}

}  // namespace
}  // namespace reef::statemachine
