#include "statemachine/command_builder.h"

#include <cmath>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace reef::statemachine {
namespace {

constexpr size_t kMaxIdentifierBytes = 1024;

const char* type_name(ColumnType type) {
  switch (type) {
    case ColumnType::kInteger: return "INTEGER";
    case ColumnType::kReal: return "REAL";
    case ColumnType::kText: return "TEXT";
    case ColumnType::kBlob: return "BLOB";
    case ColumnType::kNumeric: return "NUMERIC";
    case ColumnType::kAny: return "";  // no declared type: no affinity conversion
  }
  return "";
}

const char* op_text(CompareOp op) {
  switch (op) {
    case CompareOp::kEq: return " = ";
    case CompareOp::kNe: return " <> ";
    case CompareOp::kLt: return " < ";
    case CompareOp::kLe: return " <= ";
    case CompareOp::kGt: return " > ";
    case CompareOp::kGe: return " >= ";
  }
  return " = ";
}

absl::StatusOr<std::string> column_definition(const ColumnDef& column) {
  auto name = quote_identifier(column.name);
  if (!name.ok()) return name.status();
  std::string out = *name;
  if (*type_name(column.type) != '\0') absl::StrAppend(&out, " ", type_name(column.type));
  if (column.primary_key) absl::StrAppend(&out, " PRIMARY KEY");
  if (column.not_null) absl::StrAppend(&out, " NOT NULL");
  if (column.unique) absl::StrAppend(&out, " UNIQUE");
  if (column.default_value.has_value()) {
    auto literal = sql_literal(*column.default_value);
    if (!literal.ok()) return literal.status();
    // Parenthesized: a negative number is an expression, not a literal.
    absl::StrAppend(&out, " DEFAULT (", *literal, ")");
  }
  return out;
}

// " WHERE a = ?N AND ..." with parameters appended to `statement`.
absl::Status append_where(const std::vector<Filter>& where, Statement& statement) {
  for (size_t i = 0; i < where.size(); ++i) {
    auto column = quote_identifier(where[i].column);
    if (!column.ok()) return column.status();
    absl::StrAppend(&statement.sql, i == 0 ? " WHERE " : " AND ", *column, op_text(where[i].op), "?");
    statement.params.push_back(Param{"", where[i].value});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> quote_identifier(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("identifier is empty");
  if (name.size() > kMaxIdentifierBytes) {
    return absl::InvalidArgumentError(absl::StrCat("identifier of ", name.size(), " bytes exceeds ", kMaxIdentifierBytes));
  }
  if (absl::StrContains(name, '\0')) return absl::InvalidArgumentError("identifier contains a NUL byte");
  if (absl::StartsWithIgnoreCase(name, "sqlite_")) {
    return absl::InvalidArgumentError(absl::StrCat("identifier '", name, "': the sqlite_ prefix is reserved"));
  }
  if (absl::StartsWithIgnoreCase(name, "reef_")) {
    return absl::InvalidArgumentError(absl::StrCat("identifier '", name, "': the reef_ prefix is reserved"));
  }
  return absl::StrCat("\"", absl::StrReplaceAll(name, {{"\"", "\"\""}}), "\"");
}

absl::StatusOr<std::string> sql_literal(const Value& value) {
  return std::visit(
      [](const auto& v) -> absl::StatusOr<std::string> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return std::string("NULL");
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return absl::StrCat(v);
        } else if constexpr (std::is_same_v<T, double>) {
          if (!std::isfinite(v)) return absl::InvalidArgumentError("NaN and infinity have no SQL literal");
          char buffer[32];
          std::snprintf(buffer, sizeof(buffer), "%.17e", v);  // exact round trip, always a REAL
          return std::string(buffer);
        } else if constexpr (std::is_same_v<T, std::string>) {
          if (absl::StrContains(v, '\0')) return absl::InvalidArgumentError("text literal contains a NUL byte");
          return absl::StrCat("'", absl::StrReplaceAll(v, {{"'", "''"}}), "'");
        } else if constexpr (std::is_same_v<T, Blob>) {
          return absl::StrCat("X'", absl::BytesToHexString(v.bytes), "'");
        } else {
          static_assert(std::is_same_v<T, bool>);
          return std::string(v ? "1" : "0");
        }
      },
      value);
}

absl::StatusOr<Statement> create_table(absl::string_view table, const std::vector<ColumnDef>& columns,
                                       bool if_not_exists) {
  auto name = quote_identifier(table);
  if (!name.ok()) return name.status();
  if (columns.empty()) return absl::InvalidArgumentError(absl::StrCat("table '", table, "' needs at least one column"));
  Statement statement{absl::StrCat("CREATE TABLE ", if_not_exists ? "IF NOT EXISTS " : "", *name, " ("), {}};
  for (size_t i = 0; i < columns.size(); ++i) {
    auto definition = column_definition(columns[i]);
    if (!definition.ok()) return definition.status();
    absl::StrAppend(&statement.sql, i == 0 ? "" : ", ", *definition);
  }
  statement.sql += ")";
  return statement;
}

absl::StatusOr<Statement> drop_table(absl::string_view table, bool if_exists) {
  auto name = quote_identifier(table);
  if (!name.ok()) return name.status();
  return Statement{absl::StrCat("DROP TABLE ", if_exists ? "IF EXISTS " : "", *name), {}};
}

absl::StatusOr<Statement> insert_row(absl::string_view table, const std::vector<Assignment>& values) {
  auto name = quote_identifier(table);
  if (!name.ok()) return name.status();
  if (values.empty()) return Statement{absl::StrCat("INSERT INTO ", *name, " DEFAULT VALUES"), {}};
  Statement statement{absl::StrCat("INSERT INTO ", *name, " ("), {}};
  std::string placeholders;
  for (size_t i = 0; i < values.size(); ++i) {
    auto column = quote_identifier(values[i].column);
    if (!column.ok()) return column.status();
    absl::StrAppend(&statement.sql, i == 0 ? "" : ", ", *column);
    absl::StrAppend(&placeholders, i == 0 ? "?" : ", ?");
    statement.params.push_back(Param{"", values[i].value});
  }
  absl::StrAppend(&statement.sql, ") VALUES (", placeholders, ")");
  return statement;
}

absl::StatusOr<Statement> update_rows(absl::string_view table, const std::vector<Assignment>& set,
                                      const std::vector<Filter>& where) {
  auto name = quote_identifier(table);
  if (!name.ok()) return name.status();
  if (set.empty()) return absl::InvalidArgumentError("update needs at least one column to set");
  Statement statement{absl::StrCat("UPDATE ", *name, " SET "), {}};
  for (size_t i = 0; i < set.size(); ++i) {
    auto column = quote_identifier(set[i].column);
    if (!column.ok()) return column.status();
    absl::StrAppend(&statement.sql, i == 0 ? "" : ", ", *column, " = ?");
    statement.params.push_back(Param{"", set[i].value});
  }
  if (auto status = append_where(where, statement); !status.ok()) return status;
  return statement;
}

absl::StatusOr<Statement> delete_rows(absl::string_view table, const std::vector<Filter>& where) {
  auto name = quote_identifier(table);
  if (!name.ok()) return name.status();
  Statement statement{absl::StrCat("DELETE FROM ", *name), {}};
  if (auto status = append_where(where, statement); !status.ok()) return status;
  return statement;
}

absl::StatusOr<Statement> create_index(absl::string_view index, absl::string_view table,
                                       const std::vector<std::string>& columns, bool unique) {
  auto index_name = quote_identifier(index);
  if (!index_name.ok()) return index_name.status();
  auto table_name = quote_identifier(table);
  if (!table_name.ok()) return table_name.status();
  if (columns.empty()) return absl::InvalidArgumentError(absl::StrCat("index '", index, "' needs at least one column"));
  Statement statement{absl::StrCat("CREATE ", unique ? "UNIQUE " : "", "INDEX ", *index_name, " ON ", *table_name, " ("),
                      {}};
  for (size_t i = 0; i < columns.size(); ++i) {
    auto column = quote_identifier(columns[i]);
    if (!column.ok()) return column.status();
    absl::StrAppend(&statement.sql, i == 0 ? "" : ", ", *column);
  }
  statement.sql += ")";
  return statement;
}

absl::StatusOr<Statement> drop_index(absl::string_view index, bool if_exists) {
  auto name = quote_identifier(index);
  if (!name.ok()) return name.status();
  return Statement{absl::StrCat("DROP INDEX ", if_exists ? "IF EXISTS " : "", *name), {}};
}

absl::StatusOr<Statement> add_column(absl::string_view table, const ColumnDef& column) {
  auto name = quote_identifier(table);
  if (!name.ok()) return name.status();
  auto definition = column_definition(column);
  if (!definition.ok()) return definition.status();
  return Statement{absl::StrCat("ALTER TABLE ", *name, " ADD COLUMN ", *definition), {}};
}

absl::StatusOr<Statement> drop_column(absl::string_view table, absl::string_view column) {
  auto name = quote_identifier(table);
  if (!name.ok()) return name.status();
  auto column_name = quote_identifier(column);
  if (!column_name.ok()) return column_name.status();
  return Statement{absl::StrCat("ALTER TABLE ", *name, " DROP COLUMN ", *column_name), {}};
}

absl::StatusOr<Statement> rename_column(absl::string_view table, absl::string_view from, absl::string_view to) {
  auto name = quote_identifier(table);
  if (!name.ok()) return name.status();
  auto from_name = quote_identifier(from);
  if (!from_name.ok()) return from_name.status();
  auto to_name = quote_identifier(to);
  if (!to_name.ok()) return to_name.status();
  return Statement{absl::StrCat("ALTER TABLE ", *name, " RENAME COLUMN ", *from_name, " TO ", *to_name), {}};
}

}  // namespace reef::statemachine
