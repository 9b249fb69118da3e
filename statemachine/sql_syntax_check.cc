#include "statemachine/sql_syntax_check.h"

#include <sqlite3.h>

#include "absl/strings/match.h"
#include "statemachine/sqlite_handle.h"

namespace reef::statemachine {
namespace {

// The parser's messages (SQLite's tokenize.c and parse.y): they depend on
// the text alone, never on the schema.
bool is_parser_message(std::string_view message) {
  const absl::string_view m(message.data(), message.size());
  return (absl::StartsWith(m, "near \"") && absl::EndsWith(m, "syntax error")) ||
         absl::StartsWith(m, "unrecognized token:") || m == "incomplete input";
}

// An empty in-memory database with the replicas' parser settings (double-
// quoted strings on, as in determinism.cc). nullptr if SQLite cannot open
// one (out of memory): the check then gives no verdict.
sqlite3* scratch_connection() {
  thread_local ConnectionPtr connection = [] {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      sqlite3_close_v2(db);
      return ConnectionPtr();
    }
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 1, nullptr);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 1, nullptr);
    return ConnectionPtr(db);
  }();
  return connection.get();
}

}  // namespace

std::optional<std::string> sqlite_syntax_error(std::string_view sql) {
  sqlite3* db = scratch_connection();
  if (db == nullptr) return std::nullopt;
  const char* next = sql.data();
  const char* const end = sql.data() + sql.size();
  while (next < end) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(db, next, static_cast<int>(end - next), &raw, &tail);
    StatementPtr stmt(raw);
    if (rc != SQLITE_OK) {
      std::string message = sqlite3_errmsg(db);
      if (is_parser_message(message)) return message;
      return std::nullopt;  // needs the schema: no verdict, and no known next statement
    }
    if (tail == nullptr || tail <= next) return std::nullopt;
    next = tail;
  }
  return std::nullopt;
}

}  // namespace reef::statemachine
