#include "statemachine/sql_database.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"
#include "statemachine/page_checksum.h"
#include "storage/file_system.h"

namespace reef::statemachine {

bool is_replica_failure(int sqlite_code) {
  switch (sqlite_code & 0xff) {
    case SQLITE_NOMEM: case SQLITE_CORRUPT: case SQLITE_IOERR: case SQLITE_INTERNAL:
    case SQLITE_MISUSE: case SQLITE_NOTADB:
      return true;
    default:
      return false;
  }
}

Database::Database(const DatabaseOptions& options)
    : options_(options),
      context_(std::make_unique<ExecutionContext>()),
      internal_cache_(options.statement_cache_capacity),
      apply_cache_(options.statement_cache_capacity),
      query_cache_(options.statement_cache_capacity) {}

Database::~Database() {
  internal_cache_.clear();
  apply_cache_.clear();
  query_cache_.clear();
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

absl::StatusOr<std::unique_ptr<Database>> Database::open_empty(const DatabaseOptions& options) {
  std::unique_ptr<Database> database(new Database(options));
  if (auto status = database->open(DatabaseImages{}); !status.ok()) return status;
  return database;
}

absl::StatusOr<std::unique_ptr<Database>> Database::open_image(const DatabaseOptions& options, DatabaseImages images) {
  std::unique_ptr<Database> database(new Database(options));
  if (auto status = database->open(std::move(images)); !status.ok()) return status;
  // Parse both schemas now so that a damaged image fails the restore, not a
  // later apply.
  for (const char* schema : {"main", kInternalSchema}) {
    auto check = database->internal_statement(absl::StrCat("SELECT count(*) FROM \"", schema, "\".sqlite_schema"));
    if (!check.ok()) {
      return absl::DataLossError(absl::StrCat("snapshot image of ", schema, " is not a database: ", check.status().message()));
    }
    StatementResetter reset(*check);
    if (sqlite3_step(*check) != SQLITE_ROW) {
      return absl::DataLossError(absl::StrCat("snapshot image of ", schema, " is not a database: ", sqlite_error(database->db_)));
    }
  }
  return database;
}

absl::StatusOr<std::unique_ptr<Database>> Database::open_files(const DatabaseOptions& options,
                                                               const std::string& files_vfs, const std::string& dir) {
  std::unique_ptr<Database> database(new Database(options));
  if (auto status = database->open_on_disk(files_vfs, dir); !status.ok()) return status;
  return database;
}

namespace {

// A path inside a single-quoted SQL string literal.
std::string quoted_path(const std::string& path) {
  std::string out = "'";
  for (char c : path) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

}  // namespace

// Opens the connection on `main_db` through vfs_ and attaches `internal_db`
// as kInternalSchema, before install_determinism() closes ATTACH for good
// (the ATTACHED limit drops to 0 there; an existing attachment stays).
absl::Status Database::connect(const std::string& main_db, const std::string& internal_db, int open_flags) {
  const int rc = sqlite3_open_v2(main_db.c_str(), &db_, open_flags | SQLITE_OPEN_NOMUTEX, vfs_->name());
  if (rc != SQLITE_OK) {
    return absl::InternalError(absl::StrCat("opening ", main_db, ": ", db_ ? sqlite_error(db_) : sqlite3_errstr(rc)));
  }
  return exec_internal(absl::StrCat("ATTACH ", quoted_path(internal_db), " AS ", kInternalSchema));
}

// The two files of the database in `dir`, through `files_vfs`.
absl::Status Database::connect_files(const std::string& files_vfs, const std::string& dir, int open_flags) {
  const std::string main_path = storage::join_path(dir, kMainFile);
  const std::string internal_path = storage::join_path(dir, kInternalFile);
  auto vfs = DeterministicVfs::create(context_.get(), files_vfs, {main_path, internal_path});
  if (!vfs.ok()) return vfs.status();
  vfs_ = *std::move(vfs);
  on_disk_ = true;
  return connect(main_path, internal_path, open_flags);
}

absl::Status Database::open_on_disk(const std::string& files_vfs, const std::string& dir) {
  // The WAL salts the schema's first commits draw come from SQLite's PRNG:
  // seeded here as before an entry, so the simulator's disk bytes repeat.
  context_->begin_entry(0, 0, 0);
  if (auto status = connect_files(files_vfs, dir, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE); !status.ok()) {
    return status;
  }
  const std::string main_path = storage::join_path(dir, kMainFile);
  const std::string internal_path = storage::join_path(dir, kInternalFile);
  // Before anything writes a new file's first page (the WAL switch does).
  reserve_page_checksum_room("main");
  reserve_page_checksum_room(kInternalSchema);
  // WAL for both files: readers on other connections never block a commit.
  for (const auto& [schema, path] : {std::pair{"main", &main_path}, std::pair{kInternalSchema, &internal_path}}) {
    auto mode = internal_statement(absl::StrCat("PRAGMA ", schema, ".journal_mode = WAL"));
    if (!mode.ok()) return mode.status();
    StatementResetter reset(*mode);
    const unsigned char* value = sqlite3_step(*mode) == SQLITE_ROW ? sqlite3_column_text(*mode, 0) : nullptr;
    if (value == nullptr || std::string(reinterpret_cast<const char*>(value)) != "wal") {
      return absl::DataLossError(absl::StrCat("cannot put ", *path, " in WAL mode: ", sqlite_error(db_)));
    }
  }
  if (auto status = set_synchronous("NORMAL"); !status.ok()) return status;
  // Our own hook replaces SQLite's automatic checkpoints: the state machine
  // decides when they run (wal_pages()).
  sqlite3_wal_hook(db_, &Database::on_wal_commit, this);
  if (auto status = exec_internal(absl::StrCat("PRAGMA main.cache_size = -", options_.cache_kib, "; PRAGMA ",
                                               kInternalSchema, ".cache_size = -", options_.cache_kib));
      !status.ok()) {
    return status;
  }
  return finish_open();
}

absl::StatusOr<std::unique_ptr<Database>> Database::open_reader(const DatabaseOptions& options,
                                                                const std::string& files_vfs, const std::string& dir) {
  std::unique_ptr<Database> database(new Database(options));
  if (auto status = database->open_beside(files_vfs, dir, SQLITE_OPEN_READONLY); !status.ok()) return status;
  return database;
}

absl::StatusOr<std::unique_ptr<Database>> Database::open_checkpointer(const DatabaseOptions& options,
                                                                      const std::string& files_vfs,
                                                                      const std::string& dir) {
  DatabaseOptions small = options;
  small.reader_cache_kib = 256;  // a checkpoint reads the WAL, not through the page cache
  std::unique_ptr<Database> database(new Database(small));
  if (auto status = database->open_beside(files_vfs, dir, SQLITE_OPEN_READWRITE); !status.ok()) return status;
  // A checkpoint syncs the WAL before it copies and the files after.
  if (auto status = database->set_synchronous("NORMAL"); !status.ok()) return status;
  return database;
}

// A connection beside the applying one. No PRNG seeding here (open_on_disk's):
// it may open on another thread while the applying connection draws from
// SQLite's PRNG, and it writes no page of its own that would need it. The
// journal mode is the files' own (WAL is recorded in the database header).
absl::Status Database::open_beside(const std::string& files_vfs, const std::string& dir, int open_flags) {
  if (auto status = connect_files(files_vfs, dir, open_flags); !status.ok()) return status;
  if (auto status = exec_internal(absl::StrCat("PRAGMA main.cache_size = -", options_.reader_cache_kib, "; PRAGMA ",
                                               kInternalSchema, ".cache_size = -", options_.reader_cache_kib));
      !status.ok()) {
    return status;
  }
  return finish_open();
}

int Database::on_wal_commit(void* self, sqlite3*, const char*, int pages) {
  auto* database = static_cast<Database*>(self);
  database->wal_pages_ = std::max(database->wal_pages_, pages);
  return SQLITE_OK;
}

absl::Status Database::set_synchronous(const char* level) {
  return exec_internal(absl::StrCat("PRAGMA main.synchronous = ", level, "; PRAGMA ", kInternalSchema,
                                    ".synchronous = ", level));
}

absl::StatusOr<bool> Database::checkpoint() {
  if (!on_disk_) return true;
  ModeScope scope(*context_, AccessMode::kInternal);
  const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (rc == SQLITE_BUSY) return false;
  if (rc != SQLITE_OK) return absl::InternalError(absl::StrCat("checkpoint: ", sqlite_error(db_)));
  wal_pages_ = 0;
  return true;
}

absl::Status Database::copy_from(Database& source) {
  ModeScope scope(*context_, AccessMode::kInternal);
  for (const char* schema : {"main", kInternalSchema}) {
    sqlite3_backup* backup = sqlite3_backup_init(db_, schema, source.db_, schema);
    if (backup == nullptr) return absl::InternalError(absl::StrCat("copying ", schema, ": ", sqlite_error(db_)));
    const int step = sqlite3_backup_step(backup, -1);
    const int finish = sqlite3_backup_finish(backup);
    if (step != SQLITE_DONE || finish != SQLITE_OK) {
      return absl::InternalError(absl::StrCat("copying ", schema, ": ", sqlite3_errstr(step != SQLITE_DONE ? step : finish),
                                              " (", sqlite_error(db_), ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status Database::open(DatabaseImages images) {
  auto vfs = DeterministicVfs::create(context_.get());
  if (!vfs.ok()) return vfs.status();
  vfs_ = *std::move(vfs);
  if (auto status = connect(":memory:", ":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE); !status.ok()) {
    return status;
  }
  const bool fresh_main = images.main.size == 0;
  const bool fresh_internal = images.internal.size == 0;
  if (auto status = load_image("main", std::move(images.main)); !status.ok()) return status;
  if (auto status = load_image(kInternalSchema, std::move(images.internal)); !status.ok()) return status;
  // In memory too, so that every image this database is ever serialized
  // into has the room, wherever it is restored.
  if (fresh_main) reserve_page_checksum_room("main");
  if (fresh_internal) reserve_page_checksum_room(kInternalSchema);
  sqlite3_int64 limit = options_.max_database_bytes;
  sqlite3_file_control(db_, "main", SQLITE_FCNTL_SIZE_LIMIT, &limit);
  return finish_open();
}

// Page checksums (page_checksum.h) need room at the end of every page,
// which only a database without pages can still be given; on one that has
// pages this changes nothing (SQLite would apply it at the next VACUUM,
// which the state machine never runs).
void Database::reserve_page_checksum_room(const char* schema) {
  int bytes = kPageChecksumBytes;
  sqlite3_file_control(db_, schema, SQLITE_FCNTL_RESERVE_BYTES, &bytes);
}

absl::Status Database::finish_open() {
  if (on_disk_) {
    // A database file past the bound: SQLITE_FULL, as memdb's size limit.
    const int64_t pages = options_.max_database_bytes / 4096;
    if (auto status = exec_internal(absl::StrCat("PRAGMA main.max_page_count = ", pages)); !status.ok()) return status;
  }
  if (auto status = install_determinism(db_, context_.get(), options_.max_value_bytes); !status.ok()) return status;
  return exec_internal("PRAGMA temp_store = MEMORY");
}

absl::Status Database::load_image(const char* schema, DatabaseImage image) {
  // memdb keeps the whole database in one buffer, which sqlite3_serialize
  // copies in one memcpy and sqlite3_deserialize adopts without a copy.
  // With no image, the buffer starts empty.
  const int64_t size = image.size;
  // An image of an on-disk database says "WAL" in its header (bytes 18
  // and 19 are 2), which would make memdb look for a WAL file; the image
  // is the whole state, so it opens as a rollback-journal database.
  if (size >= 20 && image.bytes.get()[18] == 2 && image.bytes.get()[19] == 2) {
    image.bytes.get()[18] = 1;
    image.bytes.get()[19] = 1;
  }
  const int rc = sqlite3_deserialize(db_, schema, image.bytes.release(), size, size,
                                     SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE);
  if (rc != SQLITE_OK) {
    return absl::DataLossError(absl::StrCat("loading the ", schema, " database image: ", sqlite_error(db_)));
  }
  return absl::OkStatus();
}

absl::Status Database::exec_internal(absl::string_view sql) {
  ModeScope scope(*context_, AccessMode::kInternal);
  const std::string text(sql.data(), sql.size());
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return absl::OkStatus();
  std::string message = absl::StrCat(text, ": ", error == nullptr ? sqlite3_errstr(rc) : error);
  sqlite3_free(error);
  return absl::InternalError(message);
}

absl::Status Database::exec_reserved(absl::string_view sql) {
  // DEFENSIVE keeps the schema read-only whatever WRITABLE_SCHEMA says.
  int defensive = 0;
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DEFENSIVE, -1, &defensive);
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DEFENSIVE, 0, nullptr);
  sqlite3_db_config(db_, SQLITE_DBCONFIG_WRITABLE_SCHEMA, 1, nullptr);
  absl::Status status = exec_internal(sql);
  sqlite3_db_config(db_, SQLITE_DBCONFIG_WRITABLE_SCHEMA, 0, nullptr);
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DEFENSIVE, defensive, nullptr);
  return status;
}

absl::StatusOr<sqlite3_stmt*> Database::internal_statement(absl::string_view sql) {
  if (sqlite3_stmt* cached = internal_cache_.find(sql)) return cached;
  ModeScope scope(*context_, AccessMode::kInternal);
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                    &raw, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    return absl::InternalError(absl::StrCat("preparing '", sql, "': ", sqlite_error(db_)));
  }
  return internal_cache_.insert(std::string(sql), StatementPtr(raw));
}

namespace {

bool is_blank(const char* begin, const char* end) {
  for (const char* p = begin; p < end; ++p) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(*p)) && *p != ';') return false;
  }
  return true;
}

}  // namespace

sqlite3_stmt* Database::user_statement(const std::string& sql, SqlFailure* failure) {
  REEF_ASSERT(context_->mode == AccessMode::kApply || context_->mode == AccessMode::kQuery,
              "client SQL prepared in internal mode");
  StatementCache& cache = context_->mode == AccessMode::kApply ? apply_cache_ : query_cache_;
  if (sqlite3_stmt* cached = cache.find(sql)) return cached;
  context_->denial.clear();
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  context_->preparing_client_sql = true;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                    &raw, &tail);
  context_->preparing_client_sql = false;
  StatementPtr stmt(raw);
  if (rc != SQLITE_OK) {
    *failure = failure_from(rc);
    return nullptr;
  }
  if (stmt == nullptr) {
    *failure = SqlFailure{ErrorCode::kSqlError, 0, "empty statement: the SQL text contains no statement"};
    return nullptr;
  }
  if (tail != nullptr && !is_blank(tail, sql.data() + sql.size())) {
    // Only whitespace and semicolons may follow; a trailing comment or a
    // second statement is refused (one Statement = one SQL statement).
    *failure = SqlFailure{ErrorCode::kSqlError, 0,
                          absl::StrCat("more than one SQL statement: unexpected text at byte ", tail - sql.data(),
                                       "; send each statement separately")};
    return nullptr;
  }
  return cache.insert(sql, std::move(stmt));
}

SqlFailure Database::failure_from(int rc) const {
  SqlFailure failure{ErrorCode::kSqlError, rc, sqlite3_errmsg(db_)};
  // Some refusals surface as SQLITE_ERROR ("not authorized to use
  // function"); the authorizer's reason is the useful message.
  if (!context_->denial.empty() && ((rc & 0xff) == SQLITE_ERROR || (rc & 0xff) == SQLITE_AUTH)) {
    failure.code = ErrorCode::kRefused;
    failure.message = context_->denial;
    return failure;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      failure.code = ErrorCode::kConstraint;
      break;
    case SQLITE_AUTH:
      failure.code = ErrorCode::kRefused;
      if (!context_->denial.empty()) failure.message = context_->denial;
      break;
    case SQLITE_CANTOPEN:
      failure.code = ErrorCode::kRefused;
      failure.message = "file access is refused: the database lives in memory and may not read or write files";
      break;
    case SQLITE_INTERRUPT:
      failure.code = ErrorCode::kResourceLimit;
      if (context_->budget_exceeded) {
        failure.message = absl::StrCat("execution budget exceeded: more than ", context_->progress_calls_max,
                                       " x ", kProgressOpcodes, " virtual machine steps");
      } else if (context_->deadline_passed) {
        failure.message = "the query ran past the read timeout and was interrupted";
      }
      break;
    case SQLITE_TOOBIG:
    case SQLITE_FULL:
      failure.code = ErrorCode::kResourceLimit;
      break;
    case SQLITE_RANGE:
      failure.code = ErrorCode::kInvalidParameter;
      break;
    default:
      break;
  }
  return failure;
}

absl::StatusOr<DatabaseImages> Database::serialize() const {
  DatabaseImages images;
  for (auto [schema, image] : {std::pair{"main", &images.main}, std::pair{kInternalSchema, &images.internal}}) {
    sqlite3_int64 size = 0;
    unsigned char* bytes = sqlite3_serialize(db_, schema, &size, 0);
    if (bytes == nullptr && size == 0) continue;  // an empty database: an empty image
    if (bytes == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat("serializing the ", schema, " database: out of memory"));
    }
    // A rollback-journal image, whatever the file's journal mode: the
    // image is a whole database, and a reader (of any version) opens it
    // in memory (see load_image).
    if (size >= 20 && bytes[18] == 2 && bytes[19] == 2) bytes[18] = bytes[19] = 1;
    *image = DatabaseImage{std::unique_ptr<unsigned char, SqliteFree>(bytes), size};
  }
  return images;
}

}  // namespace reef::statemachine
