// Database: one configured SQLite connection holding ReefDB's replicated
// state in memory (memdb), with its deterministic VFS and execution context
// (determinism.h) and caches of prepared statements. A state machine holds
// one; a restore builds a second from snapshot images and swaps it in.
//
// Two schemas on the one connection. `main` holds the user's objects only,
// so sqlite_master, the shell's .tables and a client's "drop every table"
// loop see nothing of ReefDB's. The state machine's own tables (the
// exactly-once sessions) live in a second in-memory database attached as
// kInternalSchema, which client SQL can neither read nor write (the
// authorizer refuses any action on it). A transaction covers every database
// attached to a connection, so a batch's writes and its session record
// commit or roll back together, and a snapshot carries both images.
//
// When the database moves to disk: a commit across two attached database
// FILES is atomic only in rollback-journal mode (SQLite then writes a
// super-journal); in WAL mode each file commits on its own and a crash can
// keep one without the other. Keep rollback-journal mode, or move the
// internal tables back into the main file, before making that change.
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

class Database {
 public:
  static absl::StatusOr<std::unique_ptr<Database>> open_empty(const DatabaseOptions& options);
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

 private:
  explicit Database(const DatabaseOptions& options);
  absl::Status open(DatabaseImages images);
  absl::Status load_image(const char* schema, DatabaseImage image);

  DatabaseOptions options_;
  // Declaration order is destruction order in reverse: statements, then the
  // connection, then the VFS it uses, then the context both read.
  std::unique_ptr<ExecutionContext> context_;
  std::unique_ptr<DeterministicVfs> vfs_;
  sqlite3* db_ = nullptr;
  StatementCache internal_cache_;
  StatementCache apply_cache_;
  StatementCache query_cache_;
};

}  // namespace reef::statemachine
