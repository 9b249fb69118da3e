// Exactly-once client sessions (Raft thesis §6.3), kept in the replicated
// database's internal schema (kInternalSchema, attached to the same
// connection; see sql_database.h) so that they change in the same
// transaction as the batch and travel inside snapshots, while the user's
// schema shows none of it:
//
//   reef_internal.reef_sessions(client_id INTEGER PRIMARY KEY,  -- u64 stored bit-cast
//                 last_sequence INTEGER,          -- u64 stored bit-cast
//                 last_active_ms INTEGER,         -- leader timestamp
//                 response BLOB)                  -- the stored BatchResponse
//
// A command (client, seq) is new when the client has no session or seq is
// above last_sequence, a duplicate when equal (the stored response is
// returned, nothing changes), stale when below.
//
// Expiry and the bound are decided only by leader timestamps carried in the
// entries and by the table's content, so every replica expires and evicts
// the same sessions at the same index: before each batch, sessions idle for
// longer than ttl_ms (by the batch's leader timestamp) are deleted; when a
// new session would exceed max_sessions, the least recently active ones
// (ties by client id) are evicted. A client whose session expired is treated
// as new, so a very late retry of its last command would run again; the ttl
// must exceed any client's retry horizon.
//
// The counts kept in memory (session count, a lower bound of the oldest
// activity) are derived from the table and only let the common case skip a
// no-op DELETE; they never decide anything the table does not.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "statemachine/command_batch.h"
#include "statemachine/options.h"
#include "statemachine/sql_database.h"

namespace reef::statemachine {

enum class SessionCheck { kNew, kDuplicate, kStale };

struct SessionLookup {
  SessionCheck check = SessionCheck::kNew;
  bool exists = false;
  uint64_t last_sequence = 0;
  std::string stored_response;  // for kDuplicate
};

class Sessions {
 public:
  explicit Sessions(SessionOptions options) : options_(options) {}

  static absl::Status create_schema(Database& db);
  // After a restore: OK when the internal schema has the table. A snapshot
  // of the older layout has it in main instead: it is moved (rows and all,
  // deterministically). DATA_LOSS when there is none.
  static absl::Status adopt_schema(Database& db);
  // Recomputes the in-memory counts from the table (after open or restore).
  // DATA_LOSS if the table is missing.
  absl::Status load(Database& db);

  // Inside a batch transaction. begin() starts staging count changes,
  // commit() keeps them after the transaction committed; calling begin()
  // again discards them (after a rollback).
  void begin() { staged_ = committed_; }
  void commit() { committed_ = staged_; }

  absl::Status expire(Database& db, int64_t now_ms);
  absl::StatusOr<SessionLookup> lookup(Database& db, CommandId id);
  absl::Status record(Database& db, CommandId id, int64_t now_ms, bool exists, absl::string_view response);

  uint64_t count() const { return committed_.count; }

 private:
  struct Counts {
    uint64_t count = 0;
    int64_t oldest_active_lower_bound_ms = INT64_MAX;  // INT64_MAX: none
  };
  absl::Status evict_oldest(Database& db, uint64_t how_many);
  absl::Status reload_oldest(Database& db);

  SessionOptions options_;
  Counts committed_;
  Counts staged_;
};

}  // namespace reef::statemachine
