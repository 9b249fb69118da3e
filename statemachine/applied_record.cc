#include "statemachine/applied_record.h"

#include <bit>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"
#include "statemachine/sql_database.h"

namespace reef::statemachine {
namespace {

absl::StatusOr<bool> table_exists(Database& db, const char* schema, const char* table) {
  auto stmt = db.internal_statement(
      absl::StrCat("SELECT count(*) FROM ", schema, ".sqlite_schema WHERE type = 'table' AND name = '", table, "'"));
  if (!stmt.ok()) return stmt.status();
  StatementResetter reset(*stmt);
  if (sqlite3_step(*stmt) != SQLITE_ROW) {
    return absl::DataLossError(absl::StrCat("looking for ", table, ": ", sqlite_error(db.handle())));
  }
  return sqlite3_column_int64(*stmt, 0) > 0;
}

// The marker's index, or nullopt when the table or its row is missing.
absl::StatusOr<std::optional<uint64_t>> marker_index(Database& db) {
  absl::StatusOr<bool> exists = table_exists(db, "main", kAppliedMarker);
  if (!exists.ok()) return exists.status();
  if (!*exists) return std::nullopt;
  auto stmt = db.internal_statement(absl::StrCat("SELECT applied_index FROM main.", kAppliedMarker, " WHERE id = 0"));
  if (!stmt.ok()) return stmt.status();
  StatementResetter reset(*stmt);
  const int rc = sqlite3_step(*stmt);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) return absl::DataLossError(absl::StrCat("reading ", kAppliedMarker, ": ", sqlite_error(db.handle())));
  return std::bit_cast<uint64_t>(sqlite3_column_int64(*stmt, 0));
}

absl::Status step_done(Database& db, sqlite3_stmt* stmt) {
  StatementResetter reset(stmt);
  if (sqlite3_step(stmt) == SQLITE_DONE) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("recording the applied index: ", sqlite_error(db.handle())));
}

}  // namespace

absl::Status create_applied_table(Database& db) {
  if (absl::Status created = db.exec_internal(
          absl::StrCat("CREATE TABLE IF NOT EXISTS ", kInternalSchema, ".", kAppliedTable,
                       "(id INTEGER PRIMARY KEY CHECK (id = 0), applied_index INTEGER NOT NULL, "
                       "applied_term INTEGER NOT NULL, client_id INTEGER NOT NULL, "
                       "sequence INTEGER NOT NULL, timestamp_ms INTEGER NOT NULL)"));
      !created.ok()) {
    return created;
  }
  absl::StatusOr<bool> exists = table_exists(db, "main", kAppliedMarker);
  if (!exists.ok()) return exists.status();
  if (*exists) return absl::OkStatus();
  return db.exec_reserved(absl::StrCat("CREATE TABLE main.", kAppliedMarker,
                                       "(id INTEGER PRIMARY KEY CHECK (id = 0), applied_index INTEGER NOT NULL)"));
}

absl::Status write_applied_record(Database& db, const AppliedRecord& record) {
  auto internal = db.internal_statement(
      absl::StrCat("INSERT INTO ", kInternalSchema, ".", kAppliedTable,
                   "(id, applied_index, applied_term, client_id, sequence, timestamp_ms) "
                   "VALUES (0, ?1, ?2, ?3, ?4, ?5) ON CONFLICT(id) DO UPDATE SET applied_index = ?1, "
                   "applied_term = ?2, client_id = ?3, sequence = ?4, timestamp_ms = ?5"));
  if (!internal.ok()) return internal.status();
  const int64_t index = std::bit_cast<int64_t>(record.position.index.value());
  sqlite3_bind_int64(*internal, 1, index);
  sqlite3_bind_int64(*internal, 2, std::bit_cast<int64_t>(record.position.term.value()));
  sqlite3_bind_int64(*internal, 3, std::bit_cast<int64_t>(record.last_command.client_id));
  sqlite3_bind_int64(*internal, 4, std::bit_cast<int64_t>(record.last_command.sequence));
  sqlite3_bind_int64(*internal, 5, record.last_timestamp_ms);
  if (absl::Status s = step_done(db, *internal); !s.ok()) return s;
  auto marker = db.internal_statement(absl::StrCat("INSERT INTO main.", kAppliedMarker,
                                                   "(id, applied_index) VALUES (0, ?1) "
                                                   "ON CONFLICT(id) DO UPDATE SET applied_index = ?1"));
  if (!marker.ok()) return marker.status();
  sqlite3_bind_int64(*marker, 1, index);
  return step_done(db, *marker);
}

absl::StatusOr<std::optional<AppliedRecord>> read_applied_record(Database& db) {
  absl::StatusOr<std::optional<uint64_t>> marker = marker_index(db);
  if (!marker.ok()) return marker.status();
  absl::StatusOr<bool> exists = table_exists(db, kInternalSchema, kAppliedTable);
  if (!exists.ok()) return exists.status();
  std::optional<AppliedRecord> record;
  if (*exists) {
    auto stmt = db.internal_statement(absl::StrCat("SELECT applied_index, applied_term, client_id, sequence, "
                                                   "timestamp_ms FROM ", kInternalSchema, ".", kAppliedTable,
                                                   " WHERE id = 0"));
    if (!stmt.ok()) return stmt.status();
    StatementResetter reset(*stmt);
    const int rc = sqlite3_step(*stmt);
    if (rc == SQLITE_ROW) {
      record.emplace();
      record->position.index = raft::Index(std::bit_cast<uint64_t>(sqlite3_column_int64(*stmt, 0)));
      record->position.term = raft::Term(std::bit_cast<uint64_t>(sqlite3_column_int64(*stmt, 1)));
      record->last_command.client_id = std::bit_cast<uint64_t>(sqlite3_column_int64(*stmt, 2));
      record->last_command.sequence = std::bit_cast<uint64_t>(sqlite3_column_int64(*stmt, 3));
      record->last_timestamp_ms = sqlite3_column_int64(*stmt, 4);
    } else if (rc != SQLITE_DONE) {
      return absl::DataLossError(absl::StrCat("reading the applied record: ", sqlite_error(db.handle())));
    }
  }
  const std::optional<uint64_t> internal_index =
      record ? std::optional<uint64_t>(record->position.index.value()) : std::nullopt;
  if (*marker != internal_index) {
    const auto describe = [](const std::optional<uint64_t>& index) {
      return index ? absl::StrCat("applied index ", *index) : std::string("no applied record");
    };
    return absl::DataLossError(absl::StrCat("the database's two files disagree: the user database has ",
                                            describe(*marker), ", the internal one ", describe(internal_index)));
  }
  return record;
}

}  // namespace reef::statemachine
