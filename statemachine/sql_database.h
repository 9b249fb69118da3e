// Database: one configured SQLite connection holding ReefDB's replicated
// state, with its deterministic VFS and execution context (determinism.h)
// and caches of prepared statements. Either on disk, in a directory through
// a SqliteVfs (the state machine of a node), or in memory (memdb: tests,
// fuzzers, and the scratch copy a restore is validated in).
//
// Two schemas on the one connection. `main` holds the user's objects only,
// so sqlite_master, the shell's .tables and a client's "drop every table"
// loop see nothing of ReefDB's. The state machine's own tables (sessions,
// addresses, the applied record) live in a second database attached as
// kInternalSchema, which client SQL can neither read nor write (the
// authorizer refuses any action on it).
//
// On disk the two are the files kMainFile and kInternalFile of the
// directory, each in WAL mode with synchronous=NORMAL (the argument is in
// docs/STATE_MACHINE.md, "On-disk SQLite"): a commit writes WAL frames and
// never syncs; a checkpoint syncs the WAL before copying it into the
// database file and syncs that after; the state machine's make_durable()
// syncs the files through SqliteVfs::sync_open_files(). WAL
// commits each file on its own, so a crash may keep one file's last
// transaction without the other's: applied_record.h detects exactly that.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "statemachine/batch_response.h"
#include "statemachine/determinism.h"
#include "statemachine/options.h"
#include "statemachine/sqlite_handle.h"

namespace reef::statemachine {

// Why a client statement failed, as reported in a BatchResponse.
struct SqlFailure {
  ErrorCode code = ErrorCode::kSqlError;
  int sqlite_code = 0;
  std::string message;
};

// True for SQLite errors that mean this replica cannot be trusted any more
// (out of memory, corruption, misuse) rather than that the SQL was bad.
bool is_replica_failure(int sqlite_code);

// A serialized database image (sqlite3_malloc'ed).
struct DatabaseImage {
  std::unique_ptr<unsigned char, SqliteFree> bytes;
  int64_t size = 0;
};

// Images of both schemas. An empty internal image opens an empty internal
// schema (a new database, or a snapshot of the layout before the internal
// schema existed, whose sessions table is still in main).
struct DatabaseImages {
  DatabaseImage main;
  DatabaseImage internal;
};

// Sets the context's access mode for a scope and restores the previous one.
class ModeScope {
 public:
  ModeScope(ExecutionContext& context, AccessMode mode) : context_(context), previous_(context.mode) {
    context_.mode = mode;
  }
  ~ModeScope() { context_.mode = previous_; }
  ModeScope(const ModeScope&) = delete;
  ModeScope& operator=(const ModeScope&) = delete;

 private:
  ExecutionContext& context_;
  AccessMode previous_;
};

inline constexpr const char* kMainFile = "state.db";
inline constexpr const char* kInternalFile = "state-internal.db";

class Database {
 public:
  static absl::StatusOr<std::unique_ptr<Database>> open_empty(const DatabaseOptions& options);
  // Opens (creating if missing) the database in `dir`, whose files are
  // reached through the VFS registered as `files_vfs` (a SqliteVfs).
  static absl::StatusOr<std::unique_ptr<Database>> open_files(const DatabaseOptions& options,
                                                              const std::string& files_vfs, const std::string& dir);
  // A read-only connection to the database in `dir` (which open_files()
  // made), for reads beside the applying connection: in WAL mode it sees
  // the newest committed state when its read transaction starts and keeps
  // seeing that while commits go on. It may be used from another thread
  // than the applying connection's (one thread at a time).
  static absl::StatusOr<std::unique_ptr<Database>> open_reader(const DatabaseOptions& options,
                                                               const std::string& files_vfs, const std::string& dir);
  // A read-write connection to the same database that only ever runs
  // checkpoint() (wal_checkpointer.h), possibly on another thread.
  static absl::StatusOr<std::unique_ptr<Database>> open_checkpointer(const DatabaseOptions& options,
                                                                     const std::string& files_vfs,
                                                                     const std::string& dir);
  // Takes ownership of `image`, which must come from sqlite3_malloc64.
  // DATA_LOSS when the bytes are not a usable database.
  static absl::StatusOr<std::unique_ptr<Database>> open_image(const DatabaseOptions& options, DatabaseImages images);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* handle() const { return db_; }
  ExecutionContext& context() { return *context_; }

  // Runs the state machine's own SQL (no results) in internal mode.
  absl::Status exec_internal(absl::string_view sql);
  // The same, with the schema writable for this one call: how the state
  // machine creates an object under SQLite's reserved sqlite_ names.
  absl::Status exec_reserved(absl::string_view sql);
  // A cached prepared statement of the state machine's own.
  absl::StatusOr<sqlite3_stmt*> internal_statement(absl::string_view sql);
  // A cached prepared client statement, prepared under the context's
  // current mode, kApply or kQuery (the authorizer runs at prepare time, and
  // again whenever SQLite re-prepares after a schema change, so each mode
  // has its own cache). Exactly one statement: trailing SQL is refused.
  // nullptr and *failure on error.
  sqlite3_stmt* user_statement(const std::string& sql, SqlFailure* failure);
  // The failure for a client statement that just returned `rc`.
  SqlFailure failure_from(int rc) const;

  // Copies of the current images (stay valid while the database changes).
  absl::StatusOr<DatabaseImages> serialize() const;
  // Replaces both schemas' content with `source`'s, page by page, each in
  // one transaction of its own (see install() in sql_state_machine.cc).
  absl::Status copy_from(Database& source);

  bool on_disk() const { return on_disk_; }
  // WAL frames written since the last checkpoint (0 in memory).
  int wal_pages() const { return wal_pages_; }
  // Starts counting afresh: another connection was asked to checkpoint.
  void reset_wal_pages() { wal_pages_ = 0; }
  // Copies the WAL into the database files (PASSIVE: never waits); the WAL
  // is synced first and the files after, so what it copied is durable.
  // False when another connection held a lock the checkpoint needs (the
  // checkpoint lock, or the writer lock to rebuild a wal-index header it
  // caught mid-update): SQLite's SQLITE_BUSY, nothing was copied, and a
  // later attempt will.
  absl::StatusOr<bool> checkpoint();

 private:
  explicit Database(const DatabaseOptions& options);
  absl::Status open(DatabaseImages images);
  absl::Status open_on_disk(const std::string& files_vfs, const std::string& dir);
  absl::Status open_beside(const std::string& files_vfs, const std::string& dir, int open_flags);
  absl::Status connect(const std::string& main_db, const std::string& internal_db, int open_flags);
  absl::Status connect_files(const std::string& files_vfs, const std::string& dir, int open_flags);
  absl::Status finish_open();
  void reserve_page_checksum_room(const char* schema);
  absl::Status load_image(const char* schema, DatabaseImage image);
  absl::Status set_synchronous(const char* level);
  static int on_wal_commit(void* self, sqlite3* db, const char* schema, int pages);

  DatabaseOptions options_;
  // Declaration order is destruction order in reverse: statements, then the
  // connection, then the VFS it uses, then the context both read.
  std::unique_ptr<ExecutionContext> context_;
  std::unique_ptr<DeterministicVfs> vfs_;
  sqlite3* db_ = nullptr;
  bool on_disk_ = false;
  int wal_pages_ = 0;
  StatementCache internal_cache_;
  StatementCache apply_cache_;
  StatementCache query_cache_;
};

}  // namespace reef::statemachine
