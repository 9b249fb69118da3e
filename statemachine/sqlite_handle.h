// RAII ownership of SQLite connections and statements, a bounded cache of
// prepared statements, and Value <-> SQLite conversion. SQLite never leaves
// statemachine/: nothing outside includes this header.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "statemachine/batch_response.h"
#include "statemachine/value.h"

namespace reef::statemachine {

struct ConnectionCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using ConnectionPtr = std::unique_ptr<sqlite3, ConnectionCloser>;

struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// Memory from sqlite3_malloc (serialized images).
struct SqliteFree {
  void operator()(void* p) const { sqlite3_free(p); }
};

// Resets a statement (and clears its bindings) when the scope ends, so a
// cached statement never stays busy or keeps a previous batch's values.
class StatementResetter {
 public:
  explicit StatementResetter(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StatementResetter() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StatementResetter(const StatementResetter&) = delete;
  StatementResetter& operator=(const StatementResetter&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

// Least-recently-used prepared statements keyed by SQL text. Bounded: when
// full, the least recently used statement is finalized. Statements stay
// valid across schema changes (sqlite3_prepare_v3 re-prepares them).
class StatementCache {
 public:
  explicit StatementCache(size_t capacity) : capacity_(capacity) {}
  // nullptr when absent. Marks the entry most recently used.
  sqlite3_stmt* find(absl::string_view sql);
  // Takes ownership; evicts the least recently used entry when full.
  sqlite3_stmt* insert(std::string sql, StatementPtr stmt);
  size_t size() const { return entries_.size(); }
  void clear();

 private:
  struct Entry {
    StatementPtr stmt;
    std::list<std::string>::iterator lru_position;
  };
  size_t capacity_;
  std::list<std::string> lru_;  // front = most recently used
  absl::flat_hash_map<std::string, Entry> entries_;
};

// Binds `params` (see Param) and checks that every parameter of the
// statement is bound exactly once. INVALID_ARGUMENT names the parameter.
absl::Status bind_params(sqlite3_stmt* stmt, const std::vector<Param>& params);

// The value of column `i` of the current row.
Value column_value(sqlite3_stmt* stmt, int i);

// The statement's result columns: names and declared types.
std::vector<Column> statement_columns(sqlite3_stmt* stmt);

// "<message> (<extended code name>)" for the connection's last error.
std::string sqlite_error(sqlite3* db);

}  // namespace reef::statemachine
