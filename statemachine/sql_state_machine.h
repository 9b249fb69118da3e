// SqlStateMachine: ReefDB's replicated state machine — the raft::StateMachine
// port implemented on SQLite: on disk in a node's data directory (open()),
// or in memory (create(): tests, fuzzers, benchmarks).
//
// apply() decodes the entry's CommandBatch and runs its statements in one
// transaction, together with the exactly-once session update (sessions.h),
// under the determinism rules (determinism.h). Every outcome an entry's
// content can cause — undecodable payload, failing statement, stale or
// duplicate command — is a BatchResponse, identical on every replica; apply()
// returns an error status only when the replica itself failed (out of
// memory, a broken database), and then the driver must stop the node.
//
// query() is the read-only path; snapshot() / begin_restore() stream the
// database image plus meta (snapshot_stream.h): on disk, snapshot() only
// pins the state in a reader's read transaction and the stream reads it
// when it is read (sql_reader.h); state_hash() compares replicas
// (state_hash.h).
//
// The entries applied between two commit_applied() calls (one loop turn of
// the driver) share one transaction, each in a savepoint of its own, so a
// turn costs one WAL commit however many entries it applies. On disk, every
// batch records its index in that transaction (applied_record.h), the
// commit never syncs, the WAL is checkpointed once it holds
// checkpoint_wal_pages pages, and make_durable() syncs. open()
// reopens at the recorded position, or discards a database whose files
// disagree or cannot be read and starts empty (the driver then restores
// the newest snapshot and replays the log).
//
// One thread, as the port's contract says. A restore object must not outlive
// the state machine that created it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "raft/ports/state_machine.h"
#include "statemachine/applied_record.h"
#include "statemachine/batch_response.h"
#include "statemachine/command_batch.h"
#include "statemachine/options.h"
#include "statemachine/query_runner.h"
#include "statemachine/value.h"
#include "storage/file_system.h"

namespace reef::statemachine {

class Database;
class Sessions;
class SqlReader;
class WalCheckpointer;
class SqliteVfs;
struct SessionLookup;
struct StateSnapshotMeta;
struct DatabaseImages;

struct SqlStateMachineOptions {
  DatabaseOptions database;
  SessionOptions sessions;
  // Execution budget, in units of kProgressOpcodes (1000) VM steps: per
  // batch (deterministic: same cut-off on every replica) and per query.
  uint64_t apply_step_budget = 1'000'000;
  uint64_t query_step_budget = 1'000'000;
  size_t max_statements_per_batch = 10'000;
  // Result rows and bytes (approximate: values plus 16 bytes each) a batch
  // may return before it fails with kResourceLimit; and a query's rows.
  size_t max_response_bytes = 4 << 20;
  size_t max_query_rows = 100'000;
  uint64_t max_snapshot_image_bytes = uint64_t{16} << 30;
  // Called by prepare_proposal() when the leader's wall clock is more than
  // clock_behind_report_ms behind the last applied entry's time (the batch
  // keeps that time instead), so the host can log it. Never changes state.
  int64_t clock_behind_report_ms = 1000;
  std::function<void(int64_t leader_wall_ms, int64_t applied_ms)> on_leader_clock_behind;
  // On disk: checkpoint the WAL into the database files once it holds this
  // many pages (4 KiB each), after the commit that crossed it: inline, or
  // on a thread of its own (wal_checkpointer.h; the server's choice, never
  // the simulator's).
  int checkpoint_wal_pages = 2000;
  bool checkpoint_in_background = false;
  // Deliberate bug for the simulator's checkers (reef-sim --bug
  // applied-index-own-transaction, sim/bugs.h): the applied index is
  // committed in a transaction of its own before the batch's, so a crash
  // can keep the index and lose the data, and the restarted replica skips
  // the entry. Nothing but the simulator sets it.
  bool injected_bug_applied_index_own_transaction = false;
  // Deliberate bug for the simulator's checkers (reef-sim --bug time-goes-back,
  // sim/bugs.h): the leader stamps its wall clock as is and apply takes it as
  // is, so SQL time goes back when leadership moves to a host whose clock is
  // behind. Nothing but the simulator sets it.
  bool injected_bug_trust_leader_clock = false;
};

class SqlStateMachine final : public raft::StateMachine {
 public:
  // An empty state machine in memory.
  static absl::StatusOr<std::unique_ptr<SqlStateMachine>> create(SqlStateMachineOptions options = {});
  // The state machine kept in `dir` on `fs` (created if missing), at the
  // position its database recorded. A database that cannot be trusted is
  // discarded (recovery_note() says why) and the state machine starts
  // empty. Fails on I/O errors. `fs` must outlive the state machine.
  static absl::StatusOr<std::unique_ptr<SqlStateMachine>> open(SqlStateMachineOptions options, storage::FileSystem& fs,
                                                               const std::string& dir);
  ~SqlStateMachine() override;

  // A read-only connection to this state machine's database, for reads
  // beside apply (sql_reader.h); FAILED_PRECONDITION in memory. This
  // machine must outlive it.
  absl::StatusOr<std::unique_ptr<SqlReader>> open_reader() const;

  // Empty, or why open() discarded the database it found.
  const std::string& recovery_note() const { return recovery_note_; }
  // DATA_LOSS once any connection to the files (the applying one, a
  // reader) read a page that failed its checksum (page_checksum.h): the
  // replica must stop, and its next open() discards the files. OK in memory.
  absl::Status database_damage() const;

  absl::StatusOr<std::string> apply(const raft::LogEntry& entry) override;
  // Commits the entries applied since the last call (the port's commit
  // group), then checkpoints if the WAL grew past checkpoint_wal_pages.
  absl::Status commit_applied() override;
  raft::AppliedPosition applied() const override { return applied_; }
  // Decodes the batch, refuses what the statement classifier refuses
  // (transaction control, ATTACH, VACUUM, temp objects, settings: see
  // statement_classifier.h) with INVALID_ARGUMENT naming the statement, and
  // stamps it with max(leader_wall_ms, the last applied entry's time).
  // apply() clamps once more (entry_time_ms), so "now" never goes back when
  // leadership moves to a node whose clock is behind.
  absl::StatusOr<std::string> prepare_proposal(std::string_view payload, uint64_t leader_wall_ms) override;
  absl::StatusOr<std::unique_ptr<raft::StateMachineSnapshot>> snapshot(
      const raft::Configuration& configuration) override;
  absl::StatusOr<std::unique_ptr<raft::StateMachineRestore>> begin_restore() override;
  // Commits the applied record durably (both WALs synced).
  absl::Status make_durable() override;
  absl::Status clear() override;

  // The port's query: `request` is an encoded QueryRequest, the answer an
  // encoded QueryResponse (query_codec.h) carrying run_query()'s result or
  // its error. Fails only when the replica itself failed.
  absl::StatusOr<std::string> query(std::string_view request) override;

  // Runs one read-only statement against the applied state. "now" is the
  // last applied leader timestamp. INVALID_ARGUMENT for bad SQL or
  // parameters, PERMISSION_DENIED for statements that would write or are
  // refused, RESOURCE_EXHAUSTED past the row or step budget, INTERNAL when
  // the replica failed.
  absl::StatusOr<QueryResult> run_query(std::string_view sql, const std::vector<Param>& params = {});

  absl::StatusOr<uint64_t> state_hash();
  CommandId last_command() const { return last_command_; }
  // "Now" (Unix ms) of the last applied batch: what CURRENT_TIMESTAMP read
  // in it and what reads see. Never decreases along the log.
  int64_t applied_time_ms() const { return last_timestamp_ms_; }
  uint64_t session_count() const;
  // The replicated address book (node_addresses.h), ascending node id.
  absl::StatusOr<std::vector<NodeAddress>> node_addresses();
  // Grows whenever the address book may have changed since the host last
  // looked (an address batch was applied, a snapshot installed, a database
  // reopened with one): a host re-reads node_addresses() when this moved.
  uint64_t address_changes() const { return address_changes_; }

  // Replaces the whole state (used by the restore object).
  absl::StatusOr<raft::SnapshotMeta> install(StateSnapshotMeta meta, DatabaseImages images);

 private:
  SqlStateMachine(SqlStateMachineOptions options, std::unique_ptr<Database> db, std::unique_ptr<Sessions> sessions);
  // Takes over an open database (the caller then hands over its VFS, if
  // any: files_ must be set before the state machine is used).
  static absl::StatusOr<std::unique_ptr<SqlStateMachine>> adopt(SqlStateMachineOptions options,
                                                                std::unique_ptr<Database> db);
  static absl::StatusOr<std::unique_ptr<SqlStateMachine>> open_once(const SqlStateMachineOptions& options,
                                                                    storage::FileSystem& fs, const std::string& dir,
                                                                    bool* io_error);
  absl::StatusOr<raft::SnapshotMeta> replace_with(std::unique_ptr<Database> scratch, const StateSnapshotMeta& meta);
  AppliedRecord current_record() const;
  // Inside a batch's savepoint, right before its release.
  absl::Status record_applied();
  absl::Status commit_record_alone();
  absl::Status record_up_to_date();
  absl::Status begin_entry();
  absl::Status release_entry();
  absl::Status abandon_entry();
  bool foreign_keys_unresolved() const;
  static bool runs_alone(const CommandBatch& batch);
  absl::Status checkpoint_wal();
  // FileSystem errors SQLite met so far (0 in memory): a statement failing
  // while they grow failed on this replica's disk, not for its content.
  uint64_t disk_errors() const;

  absl::StatusOr<std::string> apply_batch(raft::Index index, const CommandBatch& batch);
  absl::StatusOr<std::string> apply_node_address(const CommandBatch& batch, bool session_exists,
                                                 BatchResponse& response);
  absl::StatusOr<std::string> apply_session_outcome(const CommandBatch& batch, const SessionLookup& lookup);
  absl::Status run_statements(const CommandBatch& batch, BatchResponse* response);
  absl::Status run_statement(size_t index, const Statement& statement, size_t* response_bytes,
                             BatchResponse* response);
  absl::Status record_and_commit(const CommandBatch& batch, bool session_exists, BatchResponse* response);
  absl::Status restart_transaction(const CommandBatch& batch);
  int64_t entry_time_ms(const CommandBatch& batch) const;
  absl::Status internal_step(const char* sql);

  SqlStateMachineOptions options_;
  // Declaration order: the VFS outlives the connection that uses it.
  std::unique_ptr<SqliteVfs> files_;
  std::string dir_;  // on disk: where the database's files are
  std::unique_ptr<WalCheckpointer> checkpointer_;  // checkpoint_in_background; closed before files_
  std::unique_ptr<Database> db_;
  std::unique_ptr<Sessions> sessions_;
  raft::AppliedPosition applied_{};
  raft::AppliedPosition applying_{};  // the entry apply() is working on
  bool entry_open_ = false;           // inside the entry's savepoint
  bool entry_alone_ = false;          // its savepoint is the outermost transaction
  uint64_t entries_pending_ = 0;      // released since the group's commit
  CommandId last_command_;
  int64_t last_timestamp_ms_ = 0;
  uint64_t address_changes_ = 0;
  std::string recovery_note_;
};

}  // namespace reef::statemachine
