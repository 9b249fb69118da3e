// SqliteVfs: SQLite running on the FileSystem port. On both backends (real
// files in a temp dir, SimFileSystem): data survives close and reopen, and
// several connections lock each other out by SQLite's rules. On
// SimFileSystem: a committed transaction survives a crash that drops every
// unsynced write; a crash after every single file-system operation of a
// transaction (torn writes on, names durable only by sync_dir or eagerly)
// leaves an intact database holding exactly the old or the new state; an
// injected EIO or ENOSPC is an SQLite error, never a crash.
#include "statemachine/sqlite_vfs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sim/sim_file_system.h"
#include "tests/storage/crash_point_file_system.h"
#include "tests/storage/store_test_backends.h"

namespace reef::statemachine {
namespace {

using storage::testing::CrashPointFileSystem;
using ::testing::HasSubstr;

// One connection, closed at scope end.
class Db {
 public:
  Db(const std::string& path, const SqliteVfs& vfs, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
    open_rc_ = sqlite3_open_v2(path.c_str(), &db_, flags, vfs.name().c_str());
  }
  ~Db() { sqlite3_close_v2(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  int open_rc() const { return open_rc_; }
  int exec(const std::string& sql) { return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr); }
  // The first column of every row, joined with '|'; "error: <rc>" on failure.
  std::string query(const std::string& sql) {
    std::string out;
    char* error = nullptr;
    int rc = sqlite3_exec(
        db_, sql.c_str(),
        [](void* acc, int, char** values, char**) {
          std::string& s = *static_cast<std::string*>(acc);
          if (!s.empty()) s += '|';
          s += values[0] != nullptr ? values[0] : "NULL";
          return 0;
        },
        &out, &error);
    sqlite3_free(error);
    return rc == SQLITE_OK ? out : absl::StrCat("error: ", rc);
  }
  // The rollback-journal settings the durability argument assumes.
  void use_durable_journal() {
    EXPECT_EQ(query("PRAGMA journal_mode=TRUNCATE"), "truncate");
    EXPECT_EQ(exec("PRAGMA synchronous=FULL"), SQLITE_OK);
  }

 private:
  sqlite3* db_ = nullptr;
  int open_rc_ = SQLITE_ERROR;
};

// "WITH ... INSERT INTO t SELECT value, <value_sql> FROM s" for value in
// [from, to] (Debian's SQLite has no generate_series).
std::string insert_series(int from, int to, const std::string& value_sql) {
  return absl::StrCat("WITH RECURSIVE s(value) AS (SELECT ", from, " UNION ALL SELECT value + 1 FROM s WHERE value < ",
                      to, ") INSERT INTO t SELECT value, ", value_sql, " FROM s");
}

constexpr char kContent[] = "SELECT count(*) || ':' || coalesce(sum(length(v)), 0) || ':' || "
                            "coalesce(group_concat(k || '=' || substr(v, 1, 8), ','), '') FROM t";

template <typename Backend>
class SqliteVfsTest : public ::testing::Test {
 protected:
  std::string db_path() { return storage::join_path(backend_.root(), "state.db"); }
  void SetUp() override { ASSERT_TRUE(backend_.fs().create_dir(backend_.root()).ok()); }
  Backend backend_;
};
TYPED_TEST_SUITE(SqliteVfsTest, storage::testing::StoreBackends, storage::testing::StoreBackendNames);

TYPED_TEST(SqliteVfsTest, CommittedRowsAreReadBackAfterReopen) {
  {
    SqliteVfs vfs(this->backend_.fs());
    Db db(this->db_path(), vfs);
    ASSERT_EQ(db.open_rc(), SQLITE_OK);
    db.use_durable_journal();
    ASSERT_EQ(db.exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)"), SQLITE_OK);
    ASSERT_EQ(db.exec("BEGIN"), SQLITE_OK);
    for (int i = 0; i < 100; ++i) {
      ASSERT_EQ(db.exec(absl::StrCat("INSERT INTO t VALUES(", i, ", printf('%.500c', 'x'))")), SQLITE_OK);
    }
    ASSERT_EQ(db.exec("COMMIT"), SQLITE_OK);
  }
  EXPECT_TRUE(*this->backend_.fs().exists(this->db_path()));
  SqliteVfs vfs(this->backend_.fs());
  Db db(this->db_path(), vfs, SQLITE_OPEN_READONLY);
  ASSERT_EQ(db.open_rc(), SQLITE_OK);
  EXPECT_EQ(db.query("SELECT count(*) FROM t"), "100");
  EXPECT_EQ(db.query("SELECT sum(length(v)) FROM t"), "50000");
  EXPECT_EQ(db.query("PRAGMA integrity_check"), "ok");
}

TYPED_TEST(SqliteVfsTest, OpeningAMissingDatabaseReadOnlyIsCantOpen) {
  SqliteVfs vfs(this->backend_.fs());
  Db db(this->db_path(), vfs, SQLITE_OPEN_READONLY);
  EXPECT_EQ(db.open_rc() & 0xff, SQLITE_CANTOPEN);
}

TYPED_TEST(SqliteVfsTest, ReadersSeeCommittedDataAndWritersExcludeEachOther) {
  SqliteVfs vfs(this->backend_.fs());
  Db writer(this->db_path(), vfs);
  writer.use_durable_journal();
  ASSERT_EQ(writer.exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES(1, 'a')"), SQLITE_OK);
  Db reader(this->db_path(), vfs, SQLITE_OPEN_READONLY);
  Db other_writer(this->db_path(), vfs);
  EXPECT_EQ(reader.query("SELECT count(*) FROM t"), "1");

  // An open write transaction (RESERVED): readers go on, a second writer is busy.
  ASSERT_EQ(writer.exec("BEGIN IMMEDIATE; INSERT INTO t VALUES(2, 'b')"), SQLITE_OK);
  EXPECT_EQ(reader.query("SELECT count(*) FROM t"), "1");
  EXPECT_EQ(other_writer.exec("BEGIN IMMEDIATE"), SQLITE_BUSY);

  // A reader inside a read transaction (SHARED) holds off the commit
  // (EXCLUSIVE); the waiting writer's PENDING keeps new readers out.
  ASSERT_EQ(reader.exec("BEGIN"), SQLITE_OK);
  EXPECT_EQ(reader.query("SELECT count(*) FROM t"), "1");
  EXPECT_EQ(writer.exec("COMMIT"), SQLITE_BUSY);
  Db late_reader(this->db_path(), vfs, SQLITE_OPEN_READONLY);
  EXPECT_EQ(late_reader.query("SELECT count(*) FROM t"), absl::StrCat("error: ", SQLITE_BUSY));

  ASSERT_EQ(reader.exec("COMMIT"), SQLITE_OK);
  ASSERT_EQ(writer.exec("COMMIT"), SQLITE_OK);
  EXPECT_EQ(reader.query("SELECT count(*) FROM t"), "2");
  EXPECT_EQ(late_reader.query("SELECT count(*) FROM t"), "2");
  EXPECT_EQ(other_writer.exec("BEGIN IMMEDIATE; INSERT INTO t VALUES(3, 'c'); COMMIT"), SQLITE_OK);
  EXPECT_EQ(reader.query("SELECT count(*) FROM t"), "3");
}

// The io methods called directly, the way SQLite's pager calls them.
TYPED_TEST(SqliteVfsTest, IoMethodsFollowSqlitesContract) {
  SqliteVfs vfs(this->backend_.fs());
  sqlite3_vfs* raw = sqlite3_vfs_find(vfs.name().c_str());
  ASSERT_NE(raw, nullptr);
  std::vector<char> storage(static_cast<size_t>(raw->szOsFile));
  auto* file = reinterpret_cast<sqlite3_file*>(storage.data());
  const std::string path = this->db_path();
  int out_flags = 0;
  ASSERT_EQ(raw->xOpen(raw, path.c_str(), file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MAIN_DB,
                       &out_flags),
            SQLITE_OK);
  ASSERT_EQ(file->pMethods->xWrite(file, "0123456789", 10, 0), SQLITE_OK);
  // A short read returns what is there, zeros after it, and SHORT_READ.
  char buffer[16];
  std::memset(buffer, 'X', sizeof(buffer));
  EXPECT_EQ(file->pMethods->xRead(file, buffer, 16, 4), SQLITE_IOERR_SHORT_READ);
  EXPECT_EQ(std::string(buffer, 16), std::string("456789") + std::string(10, '\0'));
  sqlite3_int64 size = 0;
  EXPECT_EQ(file->pMethods->xFileSize(file, &size), SQLITE_OK);
  EXPECT_EQ(size, 10);
  EXPECT_EQ(file->pMethods->xTruncate(file, 4), SQLITE_OK);
  EXPECT_EQ(file->pMethods->xFileSize(file, &size), SQLITE_OK);
  EXPECT_EQ(size, 4);
  EXPECT_EQ(file->pMethods->xSync(file, SQLITE_SYNC_FULL), SQLITE_OK);
  EXPECT_EQ(file->pMethods->xFileControl(file, SQLITE_FCNTL_SIZE_HINT, &size), SQLITE_NOTFOUND);
  EXPECT_EQ(file->pMethods->xSectorSize(file), 512);
  EXPECT_EQ(file->pMethods->xDeviceCharacteristics(file), 0);
  EXPECT_EQ(file->pMethods->xClose(file), SQLITE_OK);

  int exists = 0;
  EXPECT_EQ(raw->xAccess(raw, path.c_str(), SQLITE_ACCESS_EXISTS, &exists), SQLITE_OK);
  EXPECT_EQ(exists, 1);
  EXPECT_EQ(raw->xDelete(raw, path.c_str(), /*dirSync=*/1), SQLITE_OK);
  EXPECT_EQ(raw->xAccess(raw, path.c_str(), SQLITE_ACCESS_EXISTS, &exists), SQLITE_OK);
  EXPECT_EQ(exists, 0);
  EXPECT_EQ(raw->xDelete(raw, path.c_str(), 1), SQLITE_IOERR_DELETE_NOENT);
  EXPECT_EQ(raw->xOpen(raw, path.c_str(), file, SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB, &out_flags),
            SQLITE_CANTOPEN);
  EXPECT_EQ(file->pMethods, nullptr);
  EXPECT_EQ(vfs.last_error().code(), absl::StatusCode::kNotFound);
}

// --- SimFileSystem: crashes and injected errors ---

constexpr char kDir[] = "/reef/node";
constexpr char kPath[] = "/reef/node/state.db";

// The old state: a committed table spread over many pages.
void create_old_state(storage::FileSystem& fs) {
  ASSERT_TRUE(fs.create_dir(kDir).ok());
  SqliteVfs vfs(fs);
  Db db(kPath, vfs);
  ASSERT_EQ(db.open_rc(), SQLITE_OK);
  db.use_durable_journal();
  ASSERT_EQ(db.exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)"), SQLITE_OK);
  ASSERT_EQ(db.exec(insert_series(1, 60, "printf('old%d-%.300c', value, 'o')")), SQLITE_OK);
  // No journal left: the transaction under test creates it, so its name
  // must become durable before the database file is written.
  ASSERT_EQ(db.query("PRAGMA journal_mode=DELETE"), "delete");
  ASSERT_TRUE(fs.sync_dir(kDir).ok());
  ASSERT_FALSE(*fs.exists(absl::StrCat(kPath, "-journal")));
}

// The transaction under test: changes, adds and removes rows on many pages.
// Returns SQLITE_OK only if COMMIT reported success.
int run_transaction(storage::FileSystem& fs, const std::string& journal_mode = "truncate") {
  SqliteVfs vfs(fs);
  Db db(kPath, vfs);
  if (db.open_rc() != SQLITE_OK) return db.open_rc();
  if (db.query("PRAGMA journal_mode=" + journal_mode) != journal_mode) return SQLITE_ERROR;
  if (int rc = db.exec("PRAGMA synchronous=FULL"); rc != SQLITE_OK) return rc;
  if (int rc = db.exec("BEGIN"); rc != SQLITE_OK) return rc;
  if (int rc = db.exec("UPDATE t SET v = printf('new%d-%.300c', k, 'n') WHERE k % 2 = 0"); rc != SQLITE_OK) return rc;
  if (int rc = db.exec("DELETE FROM t WHERE k % 7 = 0"); rc != SQLITE_OK) return rc;
  if (int rc = db.exec(insert_series(100, 130, "printf('add%d-%.300c', value, 'a')"));
      rc != SQLITE_OK) {
    return rc;
  }
  return db.exec("COMMIT");
}

// The content of the database after recovery, or "error"/"corrupt: ...".
std::string recovered_content(storage::FileSystem& fs) {
  SqliteVfs vfs(fs);
  Db db(kPath, vfs);
  if (db.open_rc() != SQLITE_OK) return absl::StrCat("open error ", db.open_rc());
  std::string integrity = db.query("PRAGMA integrity_check");
  if (integrity != "ok") return absl::StrCat("corrupt: ", integrity);
  return db.query(kContent);
}

struct States {
  std::string old_state;
  std::string new_state;
};

States reference_states() {
  sim::SimFileSystem sim(7);
  create_old_state(sim);
  States states{recovered_content(sim), ""};
  EXPECT_EQ(run_transaction(sim), SQLITE_OK);
  states.new_state = recovered_content(sim);
  EXPECT_NE(states.old_state, states.new_state);
  EXPECT_THAT(states.new_state, HasSubstr("add130"));
  return states;
}

TEST(SqliteVfsCrashTest, ACommittedTransactionSurvivesACrash) {
  States states = reference_states();
  sim::SimFileSystem sim(11);
  sim.set_faults({.torn_writes = true});
  create_old_state(sim);
  ASSERT_EQ(run_transaction(sim), SQLITE_OK);
  sim.crash();
  EXPECT_EQ(recovered_content(sim), states.new_state);
}

// Why the durability argument picks TRUNCATE: in DELETE mode at
// synchronous=FULL, SQLite commits by unlinking the journal without syncing
// the directory, so a crash can bring the journal back and roll a committed
// transaction back.
TEST(SqliteVfsCrashTest, DeleteJournalModeAtFullCanLoseACommit) {
  States states = reference_states();
  sim::SimFileSystem sim(23);
  create_old_state(sim);
  ASSERT_EQ(run_transaction(sim, "delete"), SQLITE_OK);
  sim.crash();
  EXPECT_EQ(recovered_content(sim), states.old_state);
}

class SqliteVfsCrashPointTest : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Names, SqliteVfsCrashPointTest, ::testing::Values(false, true),
                         storage::testing::durability_mode_name);

TEST_P(SqliteVfsCrashPointTest, ACrashAfterEveryOperationLeavesTheOldOrTheNewState) {
  const bool eager = GetParam();
  States states = reference_states();
  uint64_t operations = 0;
  {
    sim::SimFileSystem sim(13);
    create_old_state(sim);
    CrashPointFileSystem counting(&sim, std::numeric_limits<uint64_t>::max(), eager);
    ASSERT_EQ(run_transaction(counting), SQLITE_OK);
    operations = counting.operations();
  }
  ASSERT_GT(operations, 10u);
  int saw_old = 0;
  int saw_new = 0;
  for (uint64_t budget = 0; budget <= operations; ++budget) {
    SCOPED_TRACE(absl::StrCat("crash after operation ", budget, " of ", operations));
    sim::SimFileSystem sim(1000 + budget);
    create_old_state(sim);
    sim.set_faults({.torn_writes = true});
    CrashPointFileSystem crashing(&sim, budget, eager);
    int committed = run_transaction(crashing);
    sim.crash();
    std::string content = recovered_content(sim);
    if (committed == SQLITE_OK) {
      EXPECT_EQ(content, states.new_state) << "a committed transaction was lost";
    } else {
      EXPECT_TRUE(content == states.old_state || content == states.new_state) << content;
    }
    saw_old += content == states.old_state;
    saw_new += content == states.new_state;
  }
  // Both outcomes occur, so the crash points really span the commit.
  EXPECT_GT(saw_old, 0);
  EXPECT_GT(saw_new, 0);
}

// An EIO at the Nth write or sync of the transaction, for every N it makes:
// the transaction fails with an SQLite I/O error (or, if SQLite's retry-free
// path did not need the failed call, commits), and the database stays intact
// and holds the old or the new state.
TEST(SqliteVfsErrorTest, AnInjectedIoErrorIsAnSqliteErrorAndLeavesAnIntactDatabase) {
  States states = reference_states();
  for (bool on_sync : {false, true}) {
    int failures = 0;
    for (uint64_t n = 1; n <= 40; ++n) {
      SCOPED_TRACE(absl::StrCat(on_sync ? "sync" : "write", " call ", n));
      sim::SimFileSystem sim(17);
      create_old_state(sim);
      sim::SimFaults faults;
      if (on_sync) {
        faults.fail_sync_call = sim.stats().syncs + n;
      } else {
        faults.fail_write_call = sim.stats().writes + n;
      }
      sim.set_faults(faults);
      int rc = run_transaction(sim);
      bool injected = sim.stats().injected_errors > 0;
      if (injected) {
        ++failures;
        EXPECT_EQ(rc & 0xff, SQLITE_IOERR) << rc;
      }
      sim.set_faults({});
      std::string content = recovered_content(sim);
      // A failed call may or may not have taken effect (a truncation that
      // committed, then a failed sync): old or new, never anything else.
      if (rc == SQLITE_OK) {
        EXPECT_EQ(content, states.new_state);
      } else {
        EXPECT_TRUE(content == states.old_state || content == states.new_state) << content;
      }
    }
    EXPECT_GT(failures, 3);
  }
}

TEST(SqliteVfsErrorTest, RunningOutOfSpaceIsSqliteFull) {
  sim::SimFileSystem sim(19);
  create_old_state(sim);
  sim.set_faults({.byte_budget = sim.contents(kPath)->size() + 16 * 1024});
  {
    SqliteVfs vfs(sim);
    Db db(kPath, vfs);
    db.use_durable_journal();
    EXPECT_EQ(db.exec(insert_series(1000, 1100, "printf('%.1000c', 'f')")),
              SQLITE_FULL);
    EXPECT_EQ(vfs.last_error().code(), absl::StatusCode::kResourceExhausted) << vfs.last_error();
    EXPECT_THAT(vfs.last_error().message(), HasSubstr("state.db"));
  }
  sim.set_faults({});
  EXPECT_THAT(recovered_content(sim), ::testing::StartsWith("60:"));
}

}  // namespace
}  // namespace reef::statemachine
