// AppliedRecord: where a state machine's database says how far the log has
// been applied to it, written in the same transaction as the data of the
// entry it names, so that the database's content and its applied index can
// never disagree (DESIGN.md §4: the Raft log is the only source of truth; a
// restart replays the log after this index).
//
// The database is two files (sql_database.h): the user's (main) and the
// state machine's own (kInternalSchema). In WAL mode each file commits on
// its own, so a crash can keep one file's last transaction and lose the
// other's. The record is therefore kept in both, in the same transaction:
//   reef_internal.reef_applied(id = 0, applied_index, applied_term,
//                              client_id, sequence, timestamp_ms)
//   main's header: user_version = low 32 bits of the applied index,
//                  application_id = high 32 bits
// (the header fields are client-invisible: PRAGMA is refused to clients).
// The files agree on the index exactly when they hold the same entry's
// state; read_applied_record() refuses them otherwise.
//
// reef_applied is bookkeeping of this replica, not replicated state: it may
// lag the in-memory position by entries with no data (no-ops,
// configurations) and is written at different moments on different
// replicas, so state_hash() leaves it out.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "raft/ports/state_machine.h"
#include "statemachine/command_batch.h"

namespace reef::statemachine {

class Database;

struct AppliedRecord {
  raft::AppliedPosition position;
  CommandId last_command;
  int64_t last_timestamp_ms = 0;

  friend bool operator==(const AppliedRecord&, const AppliedRecord&) = default;
};

inline constexpr const char* kAppliedTable = "reef_applied";         // in kInternalSchema
inline constexpr const char* kAppliedMarker = "sqlite_reef_applied";  // in main

// Creates both tables if missing.
absl::Status create_applied_table(Database& db);
// Records `record` in both files; call inside the transaction that changes
// the data of record.position.
absl::Status write_applied_record(Database& db, const AppliedRecord& record);
// The record both files agree on; nullopt when the database has no record
// at all (empty, or written before records existed); DATA_LOSS when the
// files disagree (a crash kept one file's last commit and not the other's).
absl::StatusOr<std::optional<AppliedRecord>> read_applied_record(Database& db);

}  // namespace reef::statemachine
