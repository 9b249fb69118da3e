// Determinism and safety rules enforced on every ReefDB SQLite connection
// (the rules are listed for users in docs/STATE_MACHINE.md).
//
// Every replica must compute the same bytes from the same entries, so the
// connection may read nothing that differs between replicas:
//  - Time: every "now" in SQLite (CURRENT_TIMESTAMP/DATE/TIME, date('now'),
//    datetime(), julianday(), unixepoch(), strftime(), ...) is read through
//    sqlite3_vfs.xCurrentTimeInt64 of the connection's VFS. Each connection
//    gets its own VFS whose clock is ExecutionContext::now_ms, the leader
//    timestamp of the entry being applied. This covers every date function
//    without re-implementing any of them.
//  - Randomness: random() and randomblob() are replaced by functions drawing
//    from a splitmix64 stream seeded from the entry index. SQLite's own
//    PRNG (used internally for a new rowid once the largest rowid is taken)
//    is reseeded from the index before each entry as well.
//  - Connection state that a snapshot does not carry (temp schema, pragmas,
//    attached databases, changes()/total_changes(), loaded extensions,
//    planner statistics) is refused by the authorizer, as is transaction
//    control inside a batch, any access to the reserved "reef_" tables and
//    to the internal schema where the state machine keeps its own tables.
//  - Files: the VFS opens the database's own files only (for an on-disk
//    database, through SqliteVfs; in-memory databases open none), so VACUUM
//    INTO, a temp file or an attached path cannot reach any other file.
//  - Runaway statements: a deterministic budget of virtual-machine steps per
//    batch (counted by the progress handler) interrupts them identically on
//    every replica. Reads on a reader connection (sql_reader.h) may also
//    carry a wall-clock deadline: they change nothing, so when they stop
//    cannot make replicas differ (the simulator never sets one).
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace reef::statemachine {

// The schema the state machine's own tables live in, attached to every
// connection (see sql_database.h). Users cannot ATTACH and names starting
// with reef_ are reserved, so no user object can mean it; the authorizer
// refuses client SQL any action on it.
inline constexpr const char* kInternalSchema = "reef_internal";

// What the SQL being prepared or run is allowed to do.
enum class AccessMode {
  kInternal,  // the state machine's own statements: everything
  kApply,     // a client batch: the determinism rules
  kQuery,     // a read-only query: the rules plus no writes at all
};

// Per-connection state the hooks read. Owned by the Database, which outlives
// the connection and its VFS.
struct ExecutionContext {
  AccessMode mode = AccessMode::kInternal;
  int64_t now_ms = 0;          // Unix ms: the leader timestamp of the entry
  uint64_t random_state = 0;   // splitmix64 state for random()/randomblob()
  uint64_t progress_calls = 0;
  uint64_t progress_calls_max = 0;  // 0: unlimited
  bool budget_exceeded = false;
  // Reads on reader connections only: interrupted once this passes.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool deadline_passed = false;
  std::string denial;  // why the authorizer last refused (for the error)
  // True while client SQL itself is being prepared (as opposed to
  // statements a virtual table prepares while client SQL runs).
  bool preparing_client_sql = false;

  // Seeds time and randomness for one entry (or one read on the applying
  // connection), SQLite's process-wide PRNG included.
  void begin_entry(uint64_t index, int64_t leader_timestamp_ms, uint64_t progress_calls_budget);
  // The same for a read on a reader connection, which may run on another
  // thread: it leaves SQLite's process-wide PRNG to the applying
  // connection (a read draws nothing from it), and may stop at `deadline`.
  void begin_read(uint64_t index, int64_t leader_timestamp_ms, uint64_t progress_calls_budget,
                  std::chrono::steady_clock::time_point deadline);
};

// Opcodes between two progress-handler calls; the step budget is counted in
// these units.
inline constexpr int kProgressOpcodes = 1000;

// A VFS registered under a unique name for one connection: its clock is
// `context->now_ms`, it refuses to load libraries, and it opens only the
// connection's database files (`databases`, plus their -journal and -wal)
// and temporary files, through the VFS named `files_vfs` (a SqliteVfs); with
// no `files_vfs` it opens nothing (an in-memory database). Unregistered when
// destroyed (after the connection that uses it is closed).
class DeterministicVfs {
 public:
  struct Files {
    ExecutionContext* context = nullptr;
    sqlite3_vfs* base = nullptr;
    std::vector<std::string> databases;
  };

  static absl::StatusOr<std::unique_ptr<DeterministicVfs>> create(ExecutionContext* context,
                                                                  const std::string& files_vfs = {},
                                                                  std::vector<std::string> databases = {});
  ~DeterministicVfs();
  DeterministicVfs(const DeterministicVfs&) = delete;
  DeterministicVfs& operator=(const DeterministicVfs&) = delete;

  const char* name() const { return name_.c_str(); }

 private:
  DeterministicVfs() = default;
  std::string name_;
  Files files_;
  sqlite3_vfs vfs_{};
};

// Configures an open connection: safety db_config flags, limits, the
// deterministic functions, the authorizer and the progress handler.
absl::Status install_determinism(sqlite3* db, ExecutionContext* context, int64_t max_value_bytes);

}  // namespace reef::statemachine
