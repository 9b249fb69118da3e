#include "statemachine/state_hash.h"

#include <xxhash.h>

#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "statemachine/applied_record.h"

namespace reef::statemachine {
namespace {

std::string quoted(const std::string& name) {
  return absl::StrCat("\"", absl::StrReplaceAll(name, {{"\"", "\"\""}}), "\"");
}

class Hasher {
 public:
  Hasher() : state_(XXH3_createState()) { XXH3_64bits_reset(state_); }
  ~Hasher() { XXH3_freeState(state_); }
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void tag(char t) { XXH3_64bits_update(state_, &t, 1); }
  void u64(uint64_t v) {
    unsigned char bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(v >> (8 * i));
    XXH3_64bits_update(state_, bytes, 8);
  }
  void bytes(const void* data, size_t size) {
    u64(size);
    XXH3_64bits_update(state_, data, size);
  }
  // Type tag, then the value: equal values of different types differ.
  void column(sqlite3_stmt* stmt, int i) {
    const int type = sqlite3_column_type(stmt, i);
    tag(static_cast<char>(type));
    switch (type) {
      case SQLITE_INTEGER:
        u64(static_cast<uint64_t>(sqlite3_column_int64(stmt, i)));
        break;
      case SQLITE_FLOAT: {
        const double d = sqlite3_column_double(stmt, i);
        uint64_t bits = 0;
        std::memcpy(&bits, &d, sizeof(bits));
        u64(bits);
        break;
      }
      case SQLITE_TEXT:
        bytes(sqlite3_column_text(stmt, i), static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
        break;
      case SQLITE_BLOB:
        bytes(sqlite3_column_blob(stmt, i), static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
        break;
      default:
        break;
    }
  }
  uint64_t digest() const { return XXH3_64bits_digest(state_); }

 private:
  XXH3_state_t* state_;
};

absl::StatusOr<StatementPtr> prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    return absl::InternalError(absl::StrCat("state hash: ", sql, ": ", sqlite_error(db)));
  }
  return StatementPtr(raw);
}

// Runs `sql` and feeds every column of every row to `out`; returns rows.
absl::StatusOr<uint64_t> hash_rows(sqlite3* db, const std::string& sql, Hasher* out) {
  auto stmt = prepare(db, sql);
  if (!stmt.ok()) return stmt.status();
  uint64_t rows = 0;
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    out->tag('r');
    for (int i = 0; i < sqlite3_column_count(stmt->get()); ++i) out->column(stmt->get(), i);
    ++rows;
  }
  if (rc != SQLITE_DONE) return absl::InternalError(absl::StrCat("state hash: ", sql, ": ", sqlite_error(db)));
  return rows;
}

// Single-column text results of `sql` (table metadata queries).
absl::StatusOr<std::vector<std::string>> strings(sqlite3* db, const std::string& sql) {
  auto stmt = prepare(db, sql);
  if (!stmt.ok()) return stmt.status();
  std::vector<std::string> out;
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt->get(), 0));
    out.emplace_back(text == nullptr ? "" : text);
  }
  if (rc != SQLITE_DONE) return absl::InternalError(absl::StrCat("state hash: ", sql, ": ", sqlite_error(db)));
  return out;
}

// The SELECT that lists the rows of `schema`.`table` in key order.
absl::StatusOr<std::string> ordered_select(sqlite3* db, const std::string& schema, const std::string& table) {
  const auto literal = [](const std::string& text) {
    return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "''"}}), "'");
  };
  const std::string args = absl::StrCat(literal(table), ", ", literal(schema));
  const std::string qualified = absl::StrCat(quoted(schema), ".", quoted(table));
  auto without_rowid = strings(
      db, absl::StrCat("SELECT wr FROM pragma_table_list(", literal(table), ") WHERE schema = ", literal(schema)));
  if (!without_rowid.ok()) return without_rowid.status();
  if (!without_rowid->empty() && without_rowid->front() == "1") {
    auto keys = strings(db, absl::StrCat("SELECT name FROM pragma_table_info(", args, ") WHERE pk > 0 ORDER BY pk"));
    if (!keys.ok()) return keys.status();
    std::vector<std::string> quoted_keys;
    for (const std::string& key : *keys) quoted_keys.push_back(quoted(key));
    return absl::StrCat("SELECT * FROM ", qualified, " ORDER BY ", absl::StrJoin(quoted_keys, ", "));
  }
  auto columns = strings(db, absl::StrCat("SELECT name FROM pragma_table_xinfo(", args, ")"));
  if (!columns.ok()) return columns.status();
  for (const char* alias : {"rowid", "_rowid_", "oid"}) {
    bool shadowed = false;
    for (const std::string& column : *columns) shadowed = shadowed || absl::EqualsIgnoreCase(column, alias);
    if (!shadowed) return absl::StrCat("SELECT ", alias, ", * FROM ", qualified, " ORDER BY ", alias);
  }
  // Every rowid alias is a column name: the rowid cannot be named, but a
  // full scan of a rowid table still visits rows in rowid order.
  return absl::StrCat("SELECT * FROM ", qualified);
}

// The schema, then every table's rows, of one attached schema.
absl::Status hash_schema(sqlite3* db, const std::string& schema, Hasher* hasher) {
  const std::string master = absl::StrCat(quoted(schema), ".sqlite_schema");
  hasher->tag('S');
  // The applied record is this replica's bookkeeping (applied_record.h).
  const std::string replicated =
      absl::StrCat("tbl_name NOT IN ('", kAppliedTable, "', '", kAppliedMarker, "')");
  if (auto rows = hash_rows(db, absl::StrCat("SELECT type, name, tbl_name, sql FROM ", master, " WHERE ", replicated,
                                             " ORDER BY type, name"),
                            hasher);
      !rows.ok()) {
    return rows.status();
  }
  auto tables = strings(db, absl::StrCat("SELECT name FROM ", master,
                                         " WHERE type = 'table' AND ", replicated,
                                         " AND coalesce(sql, '') NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"));
  if (!tables.ok()) return tables.status();
  for (const std::string& table : *tables) {
    auto select = ordered_select(db, schema, table);
    if (!select.ok()) return select.status();
    hasher->tag('T');
    hasher->bytes(table.data(), table.size());
    auto rows = hash_rows(db, *select, hasher);
    if (!rows.ok()) return rows.status();
    hasher->u64(*rows);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint64_t> compute_state_hash(Database& database) {
  ModeScope scope(database.context(), AccessMode::kInternal);
  Hasher hasher;
  // The user's schema and the internal one (sessions): both are replicated
  // state, so replicas whose sessions diverged disagree too.
  for (const char* schema : {"main", kInternalSchema}) {
    if (auto status = hash_schema(database.handle(), schema, &hasher); !status.ok()) return status;
  }
  return hasher.digest();
}

}  // namespace reef::statemachine
