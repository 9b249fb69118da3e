#include "statemachine/sqlite_handle.h"

#include <type_traits>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"

namespace reef::statemachine {

sqlite3_stmt* StatementCache::find(absl::string_view sql) {
  auto it = entries_.find(sql);
  if (it == entries_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru_position);
  return it->second.stmt.get();
}

sqlite3_stmt* StatementCache::insert(std::string sql, StatementPtr stmt) {
  REEF_ASSERT(capacity_ > 0, "statement cache without capacity");
  REEF_ASSERT(!entries_.contains(sql), "statement cached twice: ", sql);
  if (entries_.size() >= capacity_) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(sql);
  sqlite3_stmt* raw = stmt.get();
  entries_.emplace(std::move(sql), Entry{std::move(stmt), lru_.begin()});
  return raw;
}

void StatementCache::clear() {
  entries_.clear();
  lru_.clear();
}

namespace {

int bind_value(sqlite3_stmt* stmt, int index, const Value& value) {
  return std::visit(
      [stmt, index](const auto& v) -> int {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return sqlite3_bind_null(stmt, index);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return sqlite3_bind_int64(stmt, index, v);
        } else if constexpr (std::is_same_v<T, double>) {
          return sqlite3_bind_double(stmt, index, v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return sqlite3_bind_text64(stmt, index, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
        } else if constexpr (std::is_same_v<T, Blob>) {
          // A zero-length blob must still be a BLOB, not NULL: pass a
          // non-null pointer.
          return sqlite3_bind_blob64(stmt, index, v.bytes.empty() ? "" : v.bytes.data(), v.bytes.size(),
                                     SQLITE_STATIC);
        } else {
          static_assert(std::is_same_v<T, bool>);
          return sqlite3_bind_int64(stmt, index, v ? 1 : 0);
        }
      },
      value);
}

}  // namespace

absl::Status bind_params(sqlite3_stmt* stmt, const std::vector<Param>& params) {
  const int count = sqlite3_bind_parameter_count(stmt);
  std::vector<bool> bound(static_cast<size_t>(count) + 1, false);
  int next_positional = 1;
  for (size_t i = 0; i < params.size(); ++i) {
    const Param& param = params[i];
    int index = 0;
    if (param.name.empty()) {
      index = next_positional++;
      if (index > count) {
        return absl::InvalidArgumentError(absl::StrCat("parameter ", i, " is positional number ", index,
                                                       " but the statement has ", count, " parameters"));
      }
    } else {
      index = sqlite3_bind_parameter_index(stmt, param.name.c_str());
      if (index == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("parameter ", i, ": the statement has no parameter named '", param.name, "'"));
      }
    }
    if (bound[static_cast<size_t>(index)]) {
      return absl::InvalidArgumentError(absl::StrCat("parameter ", i, " binds index ", index, " a second time"));
    }
    bound[static_cast<size_t>(index)] = true;
    const int rc = bind_value(stmt, index, param.value);
    if (rc != SQLITE_OK) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter ", i, ": ", sqlite3_errmsg(sqlite3_db_handle(stmt))));
    }
  }
  for (int index = 1; index <= count; ++index) {
    if (!bound[static_cast<size_t>(index)]) {
      const char* name = sqlite3_bind_parameter_name(stmt, index);
      return absl::InvalidArgumentError(absl::StrCat("statement parameter ", index,
                                                     name == nullptr ? "" : absl::StrCat(" (", name, ")"),
                                                     " is not bound"));
    }
  }
  return absl::OkStatus();
}

std::vector<Column> statement_columns(sqlite3_stmt* stmt) {
  std::vector<Column> columns;
  const int count = sqlite3_column_count(stmt);
  columns.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    const char* name = sqlite3_column_name(stmt, i);
    const char* type = sqlite3_column_decltype(stmt, i);
    columns.push_back(Column{name == nullptr ? "" : name, type == nullptr ? "" : type});
  }
  return columns;
}

Value column_value(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return Value(static_cast<int64_t>(sqlite3_column_int64(stmt, i)));
    case SQLITE_FLOAT:
      return Value(sqlite3_column_double(stmt, i));
    case SQLITE_TEXT: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      return Value(std::string(text == nullptr ? "" : text, static_cast<size_t>(sqlite3_column_bytes(stmt, i))));
    }
    case SQLITE_BLOB: {
      const auto* blob = static_cast<const char*>(sqlite3_column_blob(stmt, i));
      return Value(Blob{std::string(blob == nullptr ? "" : blob, static_cast<size_t>(sqlite3_column_bytes(stmt, i)))});
    }
    default:
      return Value(std::monostate{});
  }
}

std::string sqlite_error(sqlite3* db) {
  return absl::StrCat(sqlite3_errmsg(db), " (", sqlite3_errstr(sqlite3_extended_errcode(db)), ")");
}

}  // namespace reef::statemachine
