#include "statemachine/sql_state_machine.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"
#include "statemachine/node_addresses.h"
#include "statemachine/query_runner.h"
#include "statemachine/sessions.h"
#include "statemachine/snapshot_stream.h"
#include "statemachine/sql_database.h"
#include "statemachine/sql_reader.h"
#include "statemachine/wal_checkpointer.h"
#include "statemachine/sqlite_vfs.h"
#include "statemachine/state_hash.h"
#include "statemachine/statement_classifier.h"

namespace reef::statemachine {
namespace {

// Approximate bytes a value adds to a response (for the response bound).
size_t value_bytes(const Value& value) {
  if (const auto* text = std::get_if<std::string>(&value)) return 16 + text->size();
  if (const auto* blob = std::get_if<Blob>(&value)) return 16 + blob->bytes.size();
  return 16;
}

BatchResponse failure_response(const CommandBatch& batch, int32_t statement, const SqlFailure& failure) {
  BatchResponse response;
  response.status = ApplyStatus::kStatementFailed;
  response.id = batch.id;
  response.failed_statement = statement;
  response.error_code = failure.code;
  response.sqlite_code = failure.sqlite_code;
  response.message = failure.message;
  return response;
}

std::string invalid_batch_response(absl::string_view message) {
  BatchResponse response;
  response.status = ApplyStatus::kInvalidBatch;
  response.error_code = ErrorCode::kInvalidBatch;
  response.message = std::string(message);
  return encode_batch_response(response);
}

class SqlRestore final : public raft::StateMachineRestore {
 public:
  SqlRestore(SqlStateMachine* owner, uint64_t max_image_bytes) : owner_(owner), decoder_(max_image_bytes) {}
  absl::Status add_chunk(std::string_view bytes) override {
    return decoder_.add(absl::string_view(bytes.data(), bytes.size()));
  }
  absl::StatusOr<raft::SnapshotMeta> finish() override {
    auto decoded = decoder_.finish();
    if (!decoded.ok()) return decoded.status();
    return owner_->install(std::move(decoded->first), std::move(decoded->second));
  }

 private:
  SqlStateMachine* owner_;
  SnapshotDecoder decoder_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqlStateMachine>> SqlStateMachine::create(SqlStateMachineOptions options) {
  auto db = Database::open_empty(options.database);
  if (!db.ok()) return db.status();
  return adopt(std::move(options), *std::move(db));
}

namespace {

absl::Status require_empty(Database& db) {
  auto objects = db.internal_statement(absl::StrCat("SELECT (SELECT count(*) FROM main.sqlite_schema) + "
                                                    "(SELECT count(*) FROM ", kInternalSchema, ".sqlite_schema)"));
  if (!objects.ok()) return objects.status();
  StatementResetter reset(*objects);
  if (sqlite3_step(*objects) != SQLITE_ROW || sqlite3_column_int64(*objects, 0) != 0) {
    return absl::DataLossError("the database has tables but no applied record");
  }
  return absl::OkStatus();
}

// Every file the database may have in `dir`.
std::vector<std::string> database_files(const std::string& dir) {
  std::vector<std::string> paths;
  for (const char* file : {kMainFile, kInternalFile}) {
    for (const char* suffix : {"", "-wal", "-journal"}) {
      paths.push_back(storage::join_path(dir, absl::StrCat(file, suffix)));
    }
  }
  return paths;
}

absl::Status remove_file(storage::FileSystem& fs, const std::string& path) {
  absl::Status removed = fs.remove(path);
  return removed.code() == absl::StatusCode::kNotFound ? absl::OkStatus() : removed;
}

// The damage marker goes last: a crash before leaves it, and the next open
// discards what is left again.
absl::Status remove_database(storage::FileSystem& fs, const std::string& dir) {
  for (const std::string& path : database_files(dir)) {
    if (absl::Status removed = remove_file(fs, path); !removed.ok()) return removed;
  }
  if (absl::Status synced = fs.sync_dir(dir); !synced.ok()) return synced;
  if (absl::Status removed = remove_file(fs, storage::join_path(dir, kDamageMarkerFile)); !removed.ok()) {
    return removed;
  }
  return fs.sync_dir(dir);
}

// What the marker a failed page checksum left says (sqlite_vfs.h), or
// nullopt when there is none.
absl::StatusOr<std::optional<std::string>> damage_reported(storage::FileSystem& fs, const std::string& dir) {
  const std::string marker = storage::join_path(dir, kDamageMarkerFile);
  absl::StatusOr<bool> exists = fs.exists(marker);
  if (!exists.ok()) return exists.status();
  if (!*exists) return std::nullopt;
  absl::StatusOr<std::unique_ptr<storage::File>> file = fs.open(marker, storage::OpenMode::kExisting);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::string> text = (*file)->read_at(0, 1024);
  return text.ok() && !text->empty() ? *text : std::string("a page failed its checksum");
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqlStateMachine>> SqlStateMachine::open(SqlStateMachineOptions options,
                                                                       storage::FileSystem& fs,
                                                                       const std::string& dir) {
  if (absl::Status made = fs.create_dir(dir); !made.ok()) return made;
  // An I/O error says nothing about the files: retried (the FileSystem's
  // UNAVAILABLE may be), never a reason to discard them. Anything else
  // means the files cannot be trusted: discarded, once.
  constexpr int kAttempts = 4;
  std::string note;
  absl::Status last;
  absl::StatusOr<std::optional<std::string>> damaged = damage_reported(fs, dir);
  if (!damaged.ok()) return damaged.status();
  if (damaged->has_value()) {
    note = absl::StrCat("discarded the database in ", dir, " (", **damaged,
                        "); the node rebuilds it from the newest snapshot and the log");
    if (absl::Status removed = remove_database(fs, dir); !removed.ok()) return removed;
  }
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    bool io_error = false;
    absl::StatusOr<std::unique_ptr<SqlStateMachine>> opened = open_once(options, fs, dir, &io_error);
    if (opened.ok()) {
      (*opened)->recovery_note_ = note;
      return opened;
    }
    last = opened.status();
    if (io_error || !note.empty()) continue;
    note = absl::StrCat("discarded the database in ", dir, " (", last.message(),
                        "); the node rebuilds it from the newest snapshot and the log");
    if (absl::Status removed = remove_database(fs, dir); !removed.ok()) return removed;
  }
  return absl::Status(last.code(), absl::StrCat("opening the database in ", dir, ": ", last.message()));
}

// One attempt at open(); *io_error tells a failure of the disk from files
// that cannot be trusted.
absl::StatusOr<std::unique_ptr<SqlStateMachine>> SqlStateMachine::open_once(const SqlStateMachineOptions& options,
                                                                            storage::FileSystem& fs,
                                                                            const std::string& dir, bool* io_error) {
  auto files = std::make_unique<SqliteVfs>(fs);
  absl::StatusOr<std::unique_ptr<SqlStateMachine>> machine = [&]() -> absl::StatusOr<std::unique_ptr<SqlStateMachine>> {
    auto db = Database::open_files(options.database, files->name(), dir);
    if (!db.ok()) return db.status();
    return adopt(options, *std::move(db));
  }();
  // The database is closed by now if it failed: the VFS may go.
  if (!machine.ok()) {
    *io_error = files->last_error().code() == absl::StatusCode::kUnavailable;
    return machine.status();
  }
  (*machine)->files_ = std::move(files);
  (*machine)->dir_ = dir;
  return machine;
}

// Takes over an open database: a new one gets the state machine's tables;
// one that has them must say where it is.
absl::StatusOr<std::unique_ptr<SqlStateMachine>> SqlStateMachine::adopt(SqlStateMachineOptions options,
                                                                        std::unique_ptr<Database> db) {
  absl::StatusOr<std::optional<AppliedRecord>> record = read_applied_record(*db);
  if (!record.ok()) return record.status();
  if (!record->has_value()) {
    // No record: nothing was ever applied to this database, or it is not
    // one of ours; only an empty one is taken.
    if (auto status = require_empty(*db); !status.ok()) return status;
    if (auto status = Sessions::create_schema(*db); !status.ok()) return status;
    if (auto status = create_applied_table(*db); !status.ok()) return status;
  } else if (auto status = Sessions::adopt_schema(*db); !status.ok()) {
    return status;
  }
  auto sessions = std::make_unique<Sessions>(options.sessions);
  if (auto status = sessions->load(*db); !status.ok()) return status;
  std::unique_ptr<SqlStateMachine> machine(new SqlStateMachine(std::move(options), std::move(db), std::move(sessions)));
  if (record->has_value()) {
    machine->applied_ = (*record)->position;
    machine->last_command_ = (*record)->last_command;
    machine->last_timestamp_ms_ = (*record)->last_timestamp_ms;
    // The reopened database holds an address book no host has read yet,
    // and the replay after it may apply no address batch.
    machine->address_changes_ = 1;
  }
  return machine;
}

SqlStateMachine::SqlStateMachine(SqlStateMachineOptions options, std::unique_ptr<Database> db,
                                 std::unique_ptr<Sessions> sessions)
    : options_(std::move(options)), db_(std::move(db)), sessions_(std::move(sessions)) {}

SqlStateMachine::~SqlStateMachine() = default;

absl::StatusOr<std::unique_ptr<SqlReader>> SqlStateMachine::open_reader() const {
  if (files_ == nullptr) return absl::FailedPreconditionError("the database lives in memory: no reader connections");
  return SqlReader::open(options_, *files_, dir_);
}

uint64_t SqlStateMachine::session_count() const { return sessions_->count(); }

absl::StatusOr<std::string> SqlStateMachine::apply(const raft::LogEntry& entry) {
  REEF_ASSERT(entry.index == applied_.index.next(), "apply out of order: entry ", entry.index.value(),
              " after applied ", applied_.index.value());
  REEF_ASSERT(entry.term >= applied_.term, "entry term ", entry.term.value(), " below applied term ",
              applied_.term.value());
  std::string response;
  applying_ = raft::AppliedPosition{entry.index, entry.term};
  if (entry.type == raft::EntryType::kNormal) {
    auto batch = decode_command_batch(entry.payload);
    if (!batch.ok()) {
      response = invalid_batch_response(batch.status().message());
    } else if (batch->statements.size() > options_.max_statements_per_batch) {
      response = invalid_batch_response(absl::StrCat("batch of ", batch->statements.size(),
                                                     " statements exceeds the limit of ",
                                                     options_.max_statements_per_batch));
    } else {
      auto applied = apply_batch(entry.index, *batch);
      if (!applied.ok()) return applied.status();
      response = *std::move(applied);
    }
  }
  applied_ = raft::AppliedPosition{entry.index, entry.term};
  return response;
}

absl::StatusOr<std::string> SqlStateMachine::prepare_proposal(std::string_view payload, uint64_t leader_wall_ms) {
  absl::StatusOr<CommandBatch> batch = decode_command_batch(absl::string_view(payload.data(), payload.size()));
  if (!batch.ok()) return batch.status();
  for (size_t i = 0; i < batch->statements.size(); ++i) {
    absl::StatusOr<std::vector<ClassifiedStatement>> classified = classify_statements(batch->statements[i].sql);
    absl::Status allowed = classified.ok() ? check_allowed(*classified) : classified.status();
    if (!allowed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("statement ", i, ": ", allowed.message()));
    }
  }
  const int64_t wall_ms = static_cast<int64_t>(std::min<uint64_t>(leader_wall_ms, INT64_MAX));
  // wall_ms >= 0, so when last_timestamp_ms_ is ahead both are
  // non-negative and the difference cannot overflow.
  const bool far_behind = last_timestamp_ms_ > wall_ms && last_timestamp_ms_ - wall_ms > options_.clock_behind_report_ms;
  if (far_behind && options_.on_leader_clock_behind) options_.on_leader_clock_behind(wall_ms, last_timestamp_ms_);
  batch->leader_timestamp_ms =
      options_.injected_bug_trust_leader_clock ? wall_ms : std::max(wall_ms, last_timestamp_ms_);
  return encode_command_batch(*batch);
}

// The leader stamped its wall clock, not behind what it had applied; but an
// entry of an earlier leader whose clock ran ahead may still have been
// committed after that, so apply clamps again. Every replica applies the
// same entries in the same order, so every replica computes the same time.
int64_t SqlStateMachine::entry_time_ms(const CommandBatch& batch) const {
  if (options_.injected_bug_trust_leader_clock) return batch.leader_timestamp_ms;
  return std::max(batch.leader_timestamp_ms, last_timestamp_ms_);
}

absl::Status SqlStateMachine::internal_step(const char* sql) {
  auto stmt = db_->internal_statement(sql);
  if (!stmt.ok()) return stmt.status();
  StatementResetter reset(*stmt);
  const int rc = sqlite3_step(*stmt);
  if (rc == SQLITE_DONE) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(sql, ": ", sqlite_error(db_->handle())));
}

// The entries of one commit group share one transaction (begun by the
// group's first entry, committed by commit_applied()); each entry works in
// a savepoint of its own, so a failing batch undoes only itself. An entry
// that runs alone (see runs_alone()) has its savepoint as the outermost
// transaction: its release commits it.
absl::Status SqlStateMachine::begin_entry() {
  if (sqlite3_get_autocommit(db_->handle()) && !entry_alone_) {
    if (auto status = internal_step("BEGIN"); !status.ok()) return status;
  }
  if (auto status = internal_step("SAVEPOINT reef_entry"); !status.ok()) return status;
  entry_open_ = true;
  sessions_->begin();
  return absl::OkStatus();
}

absl::Status SqlStateMachine::release_entry() {
  if (auto status = internal_step("RELEASE reef_entry"); !status.ok()) return status;
  entry_open_ = false;
  ++entries_pending_;
  sessions_->commit();
  return absl::OkStatus();
}

// Undoes the entry's changes; the group's earlier entries stay. SQLite
// may have rolled back the whole transaction after an I/O or memory error:
// if that took earlier entries with it, the replica lost applied state.
absl::Status SqlStateMachine::abandon_entry() {
  sessions_->begin();
  if (!entry_open_) return absl::OkStatus();
  entry_open_ = false;
  if (sqlite3_get_autocommit(db_->handle())) {
    const uint64_t lost = std::exchange(entries_pending_, 0);
    if (lost == 0) return absl::OkStatus();
    return absl::InternalError(
        absl::StrCat("SQLite rolled back the transaction of the ", lost, " entries applied before this one"));
  }
  if (auto status = internal_step("ROLLBACK TO reef_entry"); !status.ok()) return status;
  return internal_step("RELEASE reef_entry");
}

absl::Status SqlStateMachine::commit_applied() {
  REEF_ASSERT(!entry_open_, "commit_applied() inside an entry");
  entries_pending_ = 0;
  // A reader may have found a damaged page: the replica stops here, and
  // its next open rebuilds the database (sqlite_vfs.h).
  if (absl::Status damage = database_damage(); !damage.ok()) return damage;
  if (sqlite3_get_autocommit(db_->handle())) return absl::OkStatus();
  if (auto status = internal_step("COMMIT"); !status.ok()) {
    (void)internal_step("ROLLBACK");
    return status;
  }
  if (db_->wal_pages() < options_.checkpoint_wal_pages) return absl::OkStatus();
  return checkpoint_wal();
}

absl::Status SqlStateMachine::checkpoint_wal() {
  if (!options_.checkpoint_in_background || files_ == nullptr) {
    // Busy: the next commit tries again (wal_pages() stays above the mark).
    return db_->checkpoint().status();
  }
  if (checkpointer_ == nullptr) {
    absl::StatusOr<std::unique_ptr<WalCheckpointer>> opened =
        WalCheckpointer::open(options_.database, files_->name(), dir_);
    if (!opened.ok()) return opened.status();
    checkpointer_ = *std::move(opened);
  }
  db_->reset_wal_pages();
  return checkpointer_->request();
}

// SQLite 3.40 cannot roll back to a savepoint inside a transaction after
// the savepoint created and wrote an FTS virtual table: the next SAVEPOINT
// fails ("SQL logic error") and COMMIT reports a malformed database (found
// by command_batch_fuzzer; as the outermost savepoint it works). A batch
// that may create a virtual table therefore runs alone, after the group's
// commit. The test is on the text ("virtual" anywhere, literals included):
// a false positive only costs that entry its grouping.
bool SqlStateMachine::runs_alone(const CommandBatch& batch) {
  constexpr std::string_view kWord = "virtual";
  const auto same_letter = [](char a, char b) { return absl::ascii_tolower(a) == b; };
  return std::any_of(batch.statements.begin(), batch.statements.end(), [&](const Statement& s) {
    return std::search(s.sql.begin(), s.sql.end(), kWord.begin(), kWord.end(), same_letter) != s.sql.end();
  });
}

// Deferred foreign keys are checked at COMMIT, which an entry's savepoint
// never reaches: its release checks them itself. The count is 0 when the
// entry starts (every entry before it resolved its own).
bool SqlStateMachine::foreign_keys_unresolved() const {
  int current = 0;
  int highwater = 0;
  sqlite3_db_status(db_->handle(), SQLITE_DBSTATUS_DEFERRED_FKS, &current, &highwater, 0);
  return current > 0;
}

absl::StatusOr<std::string> SqlStateMachine::apply_batch(raft::Index index, const CommandBatch& batch) {
  ExecutionContext& context = db_->context();
  last_timestamp_ms_ = entry_time_ms(batch);
  context.begin_entry(index.value(), last_timestamp_ms_, options_.apply_step_budget);
  last_command_ = batch.id;
  if (options_.injected_bug_applied_index_own_transaction) {
    if (auto status = commit_record_alone(); !status.ok()) return status;
  }
  entry_alone_ = runs_alone(batch);
  if (entry_alone_) {
    if (auto status = commit_applied(); !status.ok()) return status;
  }
  if (auto status = begin_entry(); !status.ok()) return status;
  SessionLookup lookup;
  if (batch.id.client_id != 0) {
    if (auto status = sessions_->expire(*db_, last_timestamp_ms_); !status.ok()) {
      abandon_entry().IgnoreError();  // the replica failed already
      return status;
    }
    auto found = sessions_->lookup(*db_, batch.id);
    if (!found.ok()) {
      abandon_entry().IgnoreError();  // the replica failed already
      return found.status();
    }
    lookup = *std::move(found);
    if (lookup.check != SessionCheck::kNew) return apply_session_outcome(batch, lookup);
  }
  // last_insert_rowid() is connection state: start every batch from 0 so a
  // replica restored from a snapshot sees what the others see.
  sqlite3_set_last_insert_rowid(db_->handle(), 0);
  BatchResponse response;
  response.id = batch.id;
  if (batch.node_address) return apply_node_address(batch, lookup.exists, response);
  if (auto status = run_statements(batch, &response); !status.ok()) {
    abandon_entry().IgnoreError();  // the replica failed already
    return status;
  }
  if (!response.ok()) {
    if (auto status = restart_transaction(batch); !status.ok()) return status;
  }
  if (auto status = record_and_commit(batch, lookup.exists, &response); !status.ok()) {
    abandon_entry().IgnoreError();  // the replica failed already
    return status;
  }
  return encode_batch_response(response);
}

// A batch of the server's own: the member's addresses, no SQL (a batch
// that carries both is refused whole, identically on every replica).
absl::StatusOr<std::string> SqlStateMachine::apply_node_address(const CommandBatch& batch, bool session_exists,
                                                                BatchResponse& response) {
  if (!batch.statements.empty()) {
    if (auto status = abandon_entry(); !status.ok()) return status;
    return invalid_batch_response("a batch recording a node address has no statements");
  }
  if (auto status = record_node_address(*db_, *batch.node_address); !status.ok()) {
    abandon_entry().IgnoreError();  // the replica failed already
    return status;
  }
  if (auto status = record_and_commit(batch, session_exists, &response); !status.ok()) {
    abandon_entry().IgnoreError();  // the replica failed already
    return status;
  }
  ++address_changes_;
  return encode_batch_response(response);
}

absl::StatusOr<std::vector<NodeAddress>> SqlStateMachine::node_addresses() { return list_node_addresses(*db_); }

absl::StatusOr<std::string> SqlStateMachine::apply_session_outcome(const CommandBatch& batch,
                                                                   const SessionLookup& lookup) {
  std::string out;
  if (lookup.check == SessionCheck::kStale) {
    BatchResponse response;
    response.status = ApplyStatus::kStale;
    response.id = batch.id;
    response.error_code = ErrorCode::kStale;
    response.message = absl::StrCat("stale command: client ", batch.id.client_id, " sequence ", batch.id.sequence,
                                    " is older than its last applied sequence ", lookup.last_sequence);
    out = encode_batch_response(response);
  } else {
    auto stored = decode_batch_response(lookup.stored_response);
    REEF_ASSERT(stored.ok(), "stored response of client ", batch.id.client_id, " is corrupt: ",
                stored.status().ToString());
    stored->duplicate = true;
    out = encode_batch_response(*stored);
  }
  // Only session expiry may have changed anything; keep it.
  if (auto status = record_applied(); !status.ok()) {
    abandon_entry().IgnoreError();  // the replica failed already
    return status;
  }
  if (auto status = release_entry(); !status.ok()) {
    abandon_entry().IgnoreError();  // the replica failed already
    return status;
  }
  return out;
}

absl::Status SqlStateMachine::restart_transaction(const CommandBatch& batch) {
  if (auto status = abandon_entry(); !status.ok()) return status;
  if (auto status = begin_entry(); !status.ok()) return status;
  if (batch.id.client_id == 0) return absl::OkStatus();
  if (auto status = sessions_->expire(*db_, last_timestamp_ms_); !status.ok()) {
    abandon_entry().IgnoreError();  // the replica failed already
    return status;
  }
  return absl::OkStatus();
}

absl::Status SqlStateMachine::record_and_commit(const CommandBatch& batch, bool session_exists,
                                                BatchResponse* response) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (batch.id.client_id != 0) {
      const std::string encoded = encode_batch_response(*response);
      if (auto status = sessions_->record(*db_, batch.id, last_timestamp_ms_, session_exists, encoded);
          !status.ok()) {
        return status;
      }
    }
    if (auto status = record_applied(); !status.ok()) return status;
    if (!foreign_keys_unresolved()) return release_entry();
    // A deferred foreign key still unresolved at the end of the batch: a
    // batch failure like any other, so the batch is rolled back and the
    // failure recorded instead (what COMMIT would have said).
    if (attempt > 0) return absl::InternalError("foreign keys unresolved after the batch was rolled back");
    *response = failure_response(batch, -1, SqlFailure{ErrorCode::kConstraint, SQLITE_CONSTRAINT_FOREIGNKEY,
                                                        "at commit: FOREIGN KEY constraint failed"});
    if (auto status = restart_transaction(batch); !status.ok()) return status;
  }
  REEF_UNREACHABLE("commit retried more than once");
}

absl::Status SqlStateMachine::run_statements(const CommandBatch& batch, BatchResponse* response) {
  size_t response_bytes = 0;
  response->results.reserve(batch.statements.size());
  for (size_t i = 0; i < batch.statements.size(); ++i) {
    if (auto status = run_statement(i, batch.statements[i], &response_bytes, response); !status.ok()) return status;
    if (!response->ok()) return absl::OkStatus();
  }
  return absl::OkStatus();
}

// Runs statement `index`, appending its result to `response` or turning
// `response` into the batch's failure. Errors only for replica failures.
absl::Status SqlStateMachine::run_statement(size_t index, const Statement& statement, size_t* response_bytes,
                                            BatchResponse* response) {
  ModeScope scope(db_->context(), AccessMode::kApply);
  sqlite3* db = db_->handle();
  const uint64_t disk_errors_before = disk_errors();
  const auto fail = [&](const SqlFailure& failure) {
    if (absl::Status damage = database_damage(); !damage.ok()) {
      return absl::DataLossError(absl::StrCat("statement ", index, ": ", damage.message()));
    }
    if (is_replica_failure(failure.sqlite_code) || disk_errors() != disk_errors_before) {
      return absl::InternalError(absl::StrCat("statement ", index, ": ", failure.message));
    }
    CommandBatch id_only;
    id_only.id = response->id;
    *response = failure_response(id_only, static_cast<int32_t>(index), failure);
    response->message = absl::StrCat("statement ", index, ": ", response->message);
    return absl::OkStatus();
  };
  SqlFailure failure;
  sqlite3_stmt* stmt = db_->user_statement(statement.sql, &failure);
  if (stmt == nullptr) return fail(failure);
  StatementResetter reset(stmt);
  if (auto status = bind_params(stmt, statement.params); !status.ok()) {
    return fail(SqlFailure{ErrorCode::kInvalidParameter, 0, std::string(status.message())});
  }
  StatementResult result;
  const int64_t changes_before = sqlite3_total_changes64(db);
  const int columns = sqlite3_column_count(stmt);
  if (columns > 0) result.columns = statement_columns(stmt);
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    Row row;
    row.reserve(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      row.push_back(column_value(stmt, c));
      *response_bytes += value_bytes(row.back());
    }
    if (*response_bytes > options_.max_response_bytes) {
      return fail(SqlFailure{ErrorCode::kResourceLimit, 0,
                             absl::StrCat("results exceed the response limit of ", options_.max_response_bytes,
                                          " bytes")});
    }
    result.rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return fail(db_->failure_from(rc));
  // Rows changed by the statement, including by its triggers and foreign
  // key actions (sqlite3_changes() would report an earlier statement's
  // count for statements that are not INSERT/UPDATE/DELETE).
  result.rows_affected = sqlite3_total_changes64(db) - changes_before;
  result.last_insert_id = sqlite3_last_insert_rowid(db);
  response->results.push_back(std::move(result));
  return absl::OkStatus();
}

uint64_t SqlStateMachine::disk_errors() const { return files_ == nullptr ? 0 : files_->error_count(); }

absl::Status SqlStateMachine::database_damage() const {
  return files_ == nullptr ? absl::OkStatus() : files_->damage();
}

absl::StatusOr<QueryResult> SqlStateMachine::run_query(std::string_view sql, const std::vector<Param>& params) {
  db_->context().begin_entry(applied_.index.value(), last_timestamp_ms_, options_.query_step_budget);
  return statemachine::run_query(*db_, options_.max_query_rows, sql, params);
}

absl::StatusOr<std::string> SqlStateMachine::query(std::string_view request) {
  db_->context().begin_entry(applied_.index.value(), last_timestamp_ms_, options_.query_step_budget);
  return answer_query(*db_, options_.max_query_rows, request);
}

absl::StatusOr<uint64_t> SqlStateMachine::state_hash() { return compute_state_hash(*db_); }

absl::StatusOr<std::unique_ptr<raft::StateMachineSnapshot>> SqlStateMachine::snapshot(
    const raft::Configuration& configuration) {
  if (auto status = record_up_to_date(); !status.ok()) return status;
  StateSnapshotMeta meta;
  meta.raft = raft::SnapshotMeta{applied_.index, applied_.term, configuration};
  meta.last_command = last_command_;
  meta.last_timestamp_ms = last_timestamp_ms_;
  if (files_ != nullptr) {
    // On disk: a reader's read transaction holds this state; the images
    // are read when the stream is (off the loop, in the server).
    absl::StatusOr<std::unique_ptr<SqlReader>> reader = open_reader();
    if (!reader.ok()) return reader.status();
    return SqlReader::snapshot(*std::move(reader), meta);
  }
  auto image = db_->serialize();
  if (!image.ok()) return image.status();
  return std::unique_ptr<raft::StateMachineSnapshot>(new ImageSnapshot(meta, *std::move(image)));
}

absl::StatusOr<std::unique_ptr<raft::StateMachineRestore>> SqlStateMachine::begin_restore() {
  return std::unique_ptr<raft::StateMachineRestore>(new SqlRestore(this, options_.max_snapshot_image_bytes));
}

absl::StatusOr<raft::SnapshotMeta> SqlStateMachine::install(StateSnapshotMeta meta, DatabaseImages images) {
  auto scratch = Database::open_image(options_.database, std::move(images));
  if (!scratch.ok()) return scratch.status();
  return replace_with(*std::move(scratch), meta);
}

// Validates `scratch` (in memory) as a state at meta's position, then copies
// it over this database and makes that durable. Each schema is copied in
// one transaction of its own; both carry the same applied record, so a
// crash between the two leaves files that disagree, which open() discards.
absl::StatusOr<raft::SnapshotMeta> SqlStateMachine::replace_with(std::unique_ptr<Database> scratch,
                                                                 const StateSnapshotMeta& meta) {
  if (auto status = commit_applied(); !status.ok()) return status;
  if (auto status = Sessions::adopt_schema(*scratch); !status.ok()) return status;
  auto sessions = std::make_unique<Sessions>(options_.sessions);
  if (auto status = sessions->load(*scratch); !status.ok()) return status;
  const AppliedRecord record{raft::AppliedPosition{meta.raft.index, meta.raft.term}, meta.last_command,
                             meta.last_timestamp_ms};
  if (auto status = create_applied_table(*scratch); !status.ok()) return status;
  if (auto status = write_applied_record(*scratch, record); !status.ok()) return status;
  // Everything that can fail on the copy alone has; from here a failure
  // leaves this database unusable (the port's contract: the node stops).
  // In memory the copy is the database: it is adopted as it is.
  if (files_ == nullptr) {
    db_ = std::move(scratch);
  } else if (auto status = db_->copy_from(*scratch); !status.ok()) {
    return status;
  }
  sessions_ = std::move(sessions);
  applied_ = record.position;
  last_command_ = record.last_command;
  last_timestamp_ms_ = record.last_timestamp_ms;
  ++address_changes_;  // the snapshot's address book replaced ours
  if (files_ != nullptr) {
    if (absl::Status synced = files_->sync_open_files(); !synced.ok()) return synced;
  }
  return meta.raft;
}

absl::Status SqlStateMachine::clear() {
  auto scratch = Database::open_empty(options_.database);
  if (!scratch.ok()) return scratch.status();
  if (auto status = Sessions::create_schema(**scratch); !status.ok()) return status;
  return replace_with(*std::move(scratch), StateSnapshotMeta{}).status();
}

AppliedRecord SqlStateMachine::current_record() const {
  return AppliedRecord{applying_, last_command_, last_timestamp_ms_};
}

absl::Status SqlStateMachine::record_applied() {
  if (options_.injected_bug_applied_index_own_transaction) return absl::OkStatus();
  return write_applied_record(*db_, current_record());
}

// The record in a transaction of its own, after the group's: for entries
// without data, and the deliberate bug's way (the index first, alone, then
// the data).
absl::Status SqlStateMachine::commit_record_alone() {
  if (auto status = commit_applied(); !status.ok()) return status;
  if (auto status = internal_step("BEGIN"); !status.ok()) return status;
  if (auto status = write_applied_record(*db_, current_record()); !status.ok()) {
    (void)internal_step("ROLLBACK");
    return status;
  }
  return commit_applied();
}

absl::Status SqlStateMachine::make_durable() {
  if (files_ == nullptr) return absl::OkStatus();
  if (auto status = record_up_to_date(); !status.ok()) return status;
  return files_->sync_open_files();
}

// Entries without data (no-ops, configurations) move applied() but not
// the record; brought up to date, it says applied() itself (what a durable
// position or a snapshot image must say).
absl::Status SqlStateMachine::record_up_to_date() {
  auto recorded = read_applied_record(*db_);
  if (!recorded.ok()) return recorded.status();
  if (!recorded->has_value() || (*recorded)->position != applied_) {
    applying_ = applied_;
    return commit_record_alone();
  }
  return commit_applied();
}

}  // namespace reef::statemachine
