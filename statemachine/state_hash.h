// A logical hash of the replicated state for comparing replicas at the same
// applied index: the schema (every sqlite_schema row, ordered by type and
// name) and the rows of every table, sessions included, in key order (rowid,
// or the primary key of a WITHOUT ROWID table). It depends on content only,
// never on page layout, so a replica restored from a snapshot and one that
// replayed the log agree. Virtual tables are covered by their shadow tables.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "statemachine/sql_database.h"

namespace reef::statemachine {

absl::StatusOr<uint64_t> compute_state_hash(Database& db);

}  // namespace reef::statemachine
