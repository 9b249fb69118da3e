// Typed commands (the seed documents' create/drop table, insert, update,
// delete, create/drop index, alter table) turned into parameterized SQL
// statements. Values always travel as parameters; identifiers are checked
// and double-quoted, so no name can change the statement's structure.
// Column defaults are the one place values appear in the SQL text (DDL
// takes no parameters); they are rendered as escaped literals.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "statemachine/value.h"

namespace reef::statemachine {

// INVALID_ARGUMENT for an empty name, a NUL byte, more than 1024 bytes, or a
// reserved prefix ("sqlite_" belongs to SQLite, "reef_" to the state
// machine); otherwise the name in double quotes with quotes doubled.
absl::StatusOr<std::string> quote_identifier(absl::string_view name);
// A value as a SQL literal ('text' with quotes doubled, X'hex', numbers);
// INVALID_ARGUMENT for NaN and infinities, which have no literal.
absl::StatusOr<std::string> sql_literal(const Value& value);

enum class ColumnType { kInteger, kReal, kText, kBlob, kNumeric, kAny };

struct ColumnDef {
  std::string name;
  ColumnType type = ColumnType::kAny;
  bool primary_key = false;
  bool not_null = false;
  bool unique = false;
  std::optional<Value> default_value;
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

// column <op> value; the filters of a command are ANDed. No filters: all rows.
struct Filter {
  std::string column;
  CompareOp op = CompareOp::kEq;
  Value value;
};

struct Assignment {
  std::string column;
  Value value;
};

absl::StatusOr<Statement> create_table(absl::string_view table, const std::vector<ColumnDef>& columns,
                                       bool if_not_exists = false);
absl::StatusOr<Statement> drop_table(absl::string_view table, bool if_exists = false);
absl::StatusOr<Statement> insert_row(absl::string_view table, const std::vector<Assignment>& values);
absl::StatusOr<Statement> update_rows(absl::string_view table, const std::vector<Assignment>& set,
                                      const std::vector<Filter>& where);
absl::StatusOr<Statement> delete_rows(absl::string_view table, const std::vector<Filter>& where);
absl::StatusOr<Statement> create_index(absl::string_view index, absl::string_view table,
                                       const std::vector<std::string>& columns, bool unique = false);
absl::StatusOr<Statement> drop_index(absl::string_view index, bool if_exists = false);
absl::StatusOr<Statement> add_column(absl::string_view table, const ColumnDef& column);
absl::StatusOr<Statement> drop_column(absl::string_view table, absl::string_view column);
absl::StatusOr<Statement> rename_column(absl::string_view table, absl::string_view from, absl::string_view to);

}  // namespace reef::statemachine
