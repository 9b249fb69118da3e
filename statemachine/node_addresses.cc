#include "statemachine/node_addresses.h"

#include <bit>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace reef::statemachine {
namespace {

constexpr const char* kCreateNodes =
    "CREATE TABLE IF NOT EXISTS reef_internal.reef_nodes("
    "node_id INTEGER PRIMARY KEY, raft_address TEXT NOT NULL, http_address TEXT NOT NULL, "
    "wants_voter INTEGER NOT NULL, removed INTEGER NOT NULL)";

absl::StatusOr<bool> table_exists(Database& db) {
  auto stmt = db.internal_statement(
      "SELECT count(*) FROM reef_internal.sqlite_schema WHERE type = 'table' AND name = 'reef_nodes'");
  if (!stmt.ok()) return stmt.status();
  StatementResetter reset(*stmt);
  if (sqlite3_step(*stmt) != SQLITE_ROW) {
    return absl::InternalError(absl::StrCat("node addresses: ", sqlite_error(db.handle())));
  }
  return sqlite3_column_int64(*stmt, 0) > 0;
}

std::string text_column(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return text == nullptr ? std::string() : std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
}

}  // namespace

absl::Status record_node_address(Database& db, const NodeAddress& address) {
  if (absl::Status created = db.exec_internal(kCreateNodes); !created.ok()) return created;
  auto stmt = db.internal_statement(
      "INSERT INTO reef_internal.reef_nodes(node_id, raft_address, http_address, wants_voter, removed) "
      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(node_id) DO UPDATE SET raft_address = excluded.raft_address, "
      "http_address = excluded.http_address, wants_voter = excluded.wants_voter, removed = excluded.removed");
  if (!stmt.ok()) return stmt.status();
  StatementResetter reset(*stmt);
  sqlite3_bind_int64(*stmt, 1, std::bit_cast<int64_t>(address.node_id));
  sqlite3_bind_text(*stmt, 2, address.raft_address.data(), static_cast<int>(address.raft_address.size()),
                    SQLITE_STATIC);
  sqlite3_bind_text(*stmt, 3, address.http_address.data(), static_cast<int>(address.http_address.size()),
                    SQLITE_STATIC);
  sqlite3_bind_int64(*stmt, 4, address.wants_voter ? 1 : 0);
  sqlite3_bind_int64(*stmt, 5, address.removed ? 1 : 0);
  if (sqlite3_step(*stmt) != SQLITE_DONE) {
    return absl::InternalError(absl::StrCat("node addresses: record: ", sqlite_error(db.handle())));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<NodeAddress>> list_node_addresses(Database& db) {
  absl::StatusOr<bool> exists = table_exists(db);
  if (!exists.ok()) return exists.status();
  std::vector<NodeAddress> addresses;
  if (!*exists) return addresses;
  auto stmt = db.internal_statement(
      "SELECT node_id, raft_address, http_address, wants_voter, removed FROM reef_internal.reef_nodes ORDER BY node_id");
  if (!stmt.ok()) return stmt.status();
  StatementResetter reset(*stmt);
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    addresses.push_back(NodeAddress{std::bit_cast<uint64_t>(sqlite3_column_int64(*stmt, 0)), text_column(*stmt, 1),
                                    text_column(*stmt, 2), sqlite3_column_int64(*stmt, 3) != 0,
                                    sqlite3_column_int64(*stmt, 4) != 0});
  }
  if (rc != SQLITE_DONE) {
    return absl::InternalError(absl::StrCat("node addresses: list: ", sqlite_error(db.handle())));
  }
  return addresses;
}

}  // namespace reef::statemachine
