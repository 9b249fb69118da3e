#include "statemachine/sessions.h"

#include <algorithm>
#include <bit>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"

namespace reef::statemachine {
namespace {

int64_t as_sql(uint64_t v) { return std::bit_cast<int64_t>(v); }
uint64_t from_sql(int64_t v) { return std::bit_cast<uint64_t>(v); }

absl::Status step_done(Database& db, sqlite3_stmt* stmt, absl::string_view what) {
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("sessions: ", what, ": ", sqlite_error(db.handle())));
}

}  // namespace

// The table's definition. Created by name inside kInternalSchema.
constexpr const char* kCreateSessions =
    "CREATE TABLE reef_internal.reef_sessions("
    "client_id INTEGER PRIMARY KEY, last_sequence INTEGER NOT NULL, "
    "last_active_ms INTEGER NOT NULL, response BLOB NOT NULL);"
    "CREATE INDEX reef_internal.reef_sessions_by_activity ON reef_sessions(last_active_ms, client_id);";

absl::Status Sessions::create_schema(Database& db) { return db.exec_internal(kCreateSessions); }

absl::Status Sessions::adopt_schema(Database& db) {
  auto found = db.internal_statement(
      "SELECT (SELECT count(*) FROM main.sqlite_schema WHERE type = 'table' AND name = 'reef_sessions'), "
      "(SELECT count(*) FROM reef_internal.sqlite_schema WHERE type = 'table' AND name = 'reef_sessions')");
  if (!found.ok()) return found.status();
  bool in_main = false;
  bool in_internal = false;
  {
    StatementResetter reset(*found);
    if (sqlite3_step(*found) != SQLITE_ROW) {
      return absl::DataLossError(absl::StrCat("looking for the sessions table: ", sqlite_error(db.handle())));
    }
    in_main = sqlite3_column_int64(*found, 0) > 0;
    in_internal = sqlite3_column_int64(*found, 1) > 0;
  }
  if (in_internal && !in_main) return absl::OkStatus();
  if (in_internal && in_main) {
    return absl::DataLossError("snapshot has a sessions table in both main and the internal schema");
  }
  if (!in_main) return absl::DataLossError("snapshot has no sessions table");
  // The layout before the internal schema: move the table, rows in key
  // order, in one transaction. Every replica that restores such a snapshot
  // does the same, and the state hash covers rows, not pages.
  return db.exec_internal(absl::StrCat(
      "BEGIN;", kCreateSessions,
      "INSERT INTO reef_internal.reef_sessions SELECT client_id, last_sequence, last_active_ms, response "
      "FROM main.reef_sessions ORDER BY client_id;"
      "DROP TABLE main.reef_sessions;"
      "COMMIT;"));
}

absl::Status Sessions::load(Database& db) {
  auto stmt = db.internal_statement("SELECT count(*), min(last_active_ms) FROM reef_internal.reef_sessions");
  if (!stmt.ok()) return absl::DataLossError(absl::StrCat("no sessions table: ", stmt.status().message()));
  StatementResetter reset(*stmt);
  if (sqlite3_step(*stmt) != SQLITE_ROW) {
    return absl::DataLossError(absl::StrCat("reading sessions: ", sqlite_error(db.handle())));
  }
  committed_.count = static_cast<uint64_t>(sqlite3_column_int64(*stmt, 0));
  committed_.oldest_active_lower_bound_ms =
      sqlite3_column_type(*stmt, 1) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(*stmt, 1);
  staged_ = committed_;
  return absl::OkStatus();
}

absl::Status Sessions::reload_oldest(Database& db) {
  auto stmt = db.internal_statement("SELECT min(last_active_ms) FROM reef_internal.reef_sessions");
  if (!stmt.ok()) return stmt.status();
  StatementResetter reset(*stmt);
  if (sqlite3_step(*stmt) != SQLITE_ROW) return absl::InternalError(sqlite_error(db.handle()));
  staged_.oldest_active_lower_bound_ms =
      sqlite3_column_type(*stmt, 0) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(*stmt, 0);
  return absl::OkStatus();
}

absl::Status Sessions::expire(Database& db, int64_t now_ms) {
  // Saturating: a timestamp near INT64_MIN expires nothing.
  const int64_t cutoff = now_ms < INT64_MIN + options_.ttl_ms ? INT64_MIN : now_ms - options_.ttl_ms;
  if (cutoff <= staged_.oldest_active_lower_bound_ms) return absl::OkStatus();  // nothing that old
  auto stmt = db.internal_statement("DELETE FROM reef_internal.reef_sessions WHERE last_active_ms < ?1");
  if (!stmt.ok()) return stmt.status();
  StatementResetter reset(*stmt);
  sqlite3_bind_int64(*stmt, 1, cutoff);
  if (auto status = step_done(db, *stmt, "expire"); !status.ok()) return status;
  const auto removed = static_cast<uint64_t>(sqlite3_changes64(db.handle()));
  REEF_ASSERT(removed <= staged_.count, "expired ", removed, " of ", staged_.count, " sessions");
  staged_.count -= removed;
  return reload_oldest(db);
}

absl::StatusOr<SessionLookup> Sessions::lookup(Database& db, CommandId id) {
  REEF_ASSERT(id.client_id != 0, "client 0 has no session");
  auto stmt = db.internal_statement("SELECT last_sequence, response FROM reef_internal.reef_sessions WHERE client_id = ?1");
  if (!stmt.ok()) return stmt.status();
  StatementResetter reset(*stmt);
  sqlite3_bind_int64(*stmt, 1, as_sql(id.client_id));
  SessionLookup result;
  const int rc = sqlite3_step(*stmt);
  if (rc == SQLITE_DONE) return result;
  if (rc != SQLITE_ROW) return absl::InternalError(absl::StrCat("sessions: lookup: ", sqlite_error(db.handle())));
  result.exists = true;
  result.last_sequence = from_sql(sqlite3_column_int64(*stmt, 0));
  if (id.sequence < result.last_sequence) {
    result.check = SessionCheck::kStale;
  } else if (id.sequence == result.last_sequence) {
    result.check = SessionCheck::kDuplicate;
    const auto* bytes = static_cast<const char*>(sqlite3_column_blob(*stmt, 1));
    result.stored_response.assign(bytes == nullptr ? "" : bytes, static_cast<size_t>(sqlite3_column_bytes(*stmt, 1)));
  }
  return result;
}

absl::Status Sessions::evict_oldest(Database& db, uint64_t how_many) {
  auto stmt = db.internal_statement(
      "DELETE FROM reef_internal.reef_sessions WHERE client_id IN "
      "(SELECT client_id FROM reef_internal.reef_sessions ORDER BY last_active_ms, client_id LIMIT ?1)");
  if (!stmt.ok()) return stmt.status();
  StatementResetter reset(*stmt);
  sqlite3_bind_int64(*stmt, 1, static_cast<int64_t>(how_many));
  if (auto status = step_done(db, *stmt, "evict"); !status.ok()) return status;
  const auto removed = static_cast<uint64_t>(sqlite3_changes64(db.handle()));
  REEF_ASSERT(removed == how_many, "evicted ", removed, " sessions, wanted ", how_many);
  staged_.count -= removed;
  return reload_oldest(db);
}

absl::Status Sessions::record(Database& db, CommandId id, int64_t now_ms, bool exists, absl::string_view response) {
  REEF_ASSERT(id.client_id != 0, "client 0 has no session");
  REEF_ASSERT(options_.max_sessions > 0, "sessions bound must be positive");
  if (!exists && staged_.count >= options_.max_sessions) {
    if (auto status = evict_oldest(db, staged_.count - options_.max_sessions + 1); !status.ok()) return status;
  }
  auto stmt = db.internal_statement(
      "INSERT INTO reef_internal.reef_sessions(client_id, last_sequence, last_active_ms, response) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT(client_id) DO UPDATE SET last_sequence = excluded.last_sequence, "
      "last_active_ms = excluded.last_active_ms, response = excluded.response");
  if (!stmt.ok()) return stmt.status();
  StatementResetter reset(*stmt);
  sqlite3_bind_int64(*stmt, 1, as_sql(id.client_id));
  sqlite3_bind_int64(*stmt, 2, as_sql(id.sequence));
  sqlite3_bind_int64(*stmt, 3, now_ms);
  sqlite3_bind_blob64(*stmt, 4, response.empty() ? "" : response.data(), response.size(), SQLITE_STATIC);
  if (auto status = step_done(db, *stmt, "record"); !status.ok()) return status;
  if (!exists) ++staged_.count;
  staged_.oldest_active_lower_bound_ms = std::min(staged_.oldest_active_lower_bound_ms, now_ms);
  return absl::OkStatus();
}

}  // namespace reef::statemachine
