#include "statemachine/determinism.h"

#include <array>
#include <atomic>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"
#include "statemachine/sqlite_vfs.h"

namespace reef::statemachine {
namespace {

// Julian day of the Unix epoch, in ms: what xCurrentTimeInt64 returns.
constexpr int64_t kUnixEpochJulianMs = 210866760000000;

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

const DeterministicVfs::Files& files_of(sqlite3_vfs* vfs) {
  return *static_cast<const DeterministicVfs::Files*>(vfs->pAppData);
}
ExecutionContext* context_of(sqlite3_vfs* vfs) { return files_of(vfs).context; }
sqlite3_vfs* base_vfs() { return sqlite3_vfs_find(nullptr); }

// True for the database files this connection was opened on and their
// journal and WAL: the only files client SQL can make SQLite touch.
bool allowed_path(const DeterministicVfs::Files& files, const char* name) {
  if (files.base == nullptr || name == nullptr) return false;
  const absl::string_view path(name);
  for (const std::string& database : files.databases) {
    if (path == database || path == database + "-journal" || path == database + "-wal") return true;
  }
  return false;
}

// --- VFS ---------------------------------------------------------------

int vfs_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  const DeterministicVfs::Files& files = files_of(vfs);
  // An in-memory database refuses every file; an on-disk one only its own
  // files and in-memory temporaries (SqliteVfs keeps those in memory). Any
  // other open is a way around the rules (VACUUM INTO, a temp file).
  const bool temporary = files.base != nullptr && is_temporary_file(name, flags);
  if (!temporary && !allowed_path(files, name)) {
    file->pMethods = nullptr;
    return SQLITE_CANTOPEN;
  }
  return files.base->xOpen(files.base, name, file, flags, out_flags);
}
int vfs_delete(sqlite3_vfs* vfs, const char* name, int dir_sync) {
  const DeterministicVfs::Files& files = files_of(vfs);
  if (!allowed_path(files, name)) return SQLITE_IOERR_DELETE;
  return files.base->xDelete(files.base, name, dir_sync);
}
int vfs_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  const DeterministicVfs::Files& files = files_of(vfs);
  if (!allowed_path(files, name)) {
    *out = 0;
    return SQLITE_OK;
  }
  return files.base->xAccess(files.base, name, flags, out);
}
int vfs_full_pathname(sqlite3_vfs*, const char* name, int size, char* out) {
  sqlite3_snprintf(size, out, "%s", name);
  return SQLITE_OK;
}
void* vfs_dl_open(sqlite3_vfs*, const char*) { return nullptr; }
void vfs_dl_error(sqlite3_vfs*, int size, char* out) {
  sqlite3_snprintf(size, out, "loading libraries is refused");
}
void (*vfs_dl_sym(sqlite3_vfs*, void*, const char*))(void) { return nullptr; }
void vfs_dl_close(sqlite3_vfs*, void*) {}
int vfs_randomness(sqlite3_vfs*, int size, char* out) {
  // Only used to seed the PRNG of a default VFS; never the case here.
  std::memset(out, 0, static_cast<size_t>(size));
  return size;
}
int vfs_sleep(sqlite3_vfs*, int microseconds) { return base_vfs()->xSleep(base_vfs(), microseconds); }
int vfs_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  *out = kUnixEpochJulianMs + context_of(vfs)->now_ms;
  return SQLITE_OK;
}
int vfs_current_time(sqlite3_vfs* vfs, double* out) {
  sqlite3_int64 ms = 0;
  vfs_current_time_int64(vfs, &ms);
  *out = static_cast<double>(ms) / 86400000.0;
  return SQLITE_OK;
}
int vfs_get_last_error(sqlite3_vfs*, int, char*) { return 0; }

// --- Functions -------------------------------------------------------------

ExecutionContext* context_of(sqlite3_context* ctx) { return static_cast<ExecutionContext*>(sqlite3_user_data(ctx)); }

void random_function(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(splitmix64(context_of(ctx)->random_state)));
}

void randomblob_function(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3_int64 n = sqlite3_value_int64(argv[0]);
  if (n < 1) n = 1;  // SQLite's documented behaviour
  if (n > sqlite3_limit(sqlite3_context_db_handle(ctx), SQLITE_LIMIT_LENGTH, -1)) {
    sqlite3_result_error_toobig(ctx);
    return;
  }
  auto* bytes = static_cast<unsigned char*>(sqlite3_malloc64(static_cast<sqlite3_uint64>(n)));
  if (bytes == nullptr) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  uint64_t& state = context_of(ctx)->random_state;
  for (sqlite3_int64 i = 0; i < n; i += 8) {
    const uint64_t word = splitmix64(state);
    std::memcpy(bytes + i, &word, static_cast<size_t>(std::min<sqlite3_int64>(8, n - i)));
  }
  sqlite3_result_blob64(ctx, bytes, static_cast<sqlite3_uint64>(n), sqlite3_free);
}

int progress_handler(void* arg) {
  auto* context = static_cast<ExecutionContext*>(arg);
  if (context->mode == AccessMode::kInternal) return 0;
  if (context->deadline != std::chrono::steady_clock::time_point::max() &&
      std::chrono::steady_clock::now() >= context->deadline) {
    context->deadline_passed = true;
    return 1;  // interrupts the statement with SQLITE_INTERRUPT
  }
  if (context->progress_calls_max == 0 || ++context->progress_calls <= context->progress_calls_max) return 0;
  context->budget_exceeded = true;
  return 1;
}

// --- Authorizer ------------------------------------------------------------

// reef_* is the state machine's namespace; sqlite_reef_* holds its marker
// in the user's database (applied_record.h).
bool is_reserved_name(const char* name) {
  return name != nullptr && (absl::StartsWithIgnoreCase(name, "reef_") || absl::StartsWithIgnoreCase(name, "sqlite_reef_"));
}

bool is_planner_statistics(const char* name) {
  return name != nullptr && absl::StartsWithIgnoreCase(name, "sqlite_stat");
}

// Pragmas that only read the database file (or take a table name): the same
// answer on every replica, and no connection state changed.
bool is_introspection_pragma(absl::string_view name) {
  static constexpr std::array<absl::string_view, 16> kPragmas = {
      "table_info",        "table_xinfo",     "table_list",    "index_info",
      "index_xinfo",       "index_list",      "foreign_key_list", "foreign_key_check",
      "integrity_check",   "quick_check",     "page_count",    "page_size",
      "freelist_count",    "encoding",        "collation_list", "function_list"};
  for (absl::string_view pragma : kPragmas) {
    if (name == pragma) return true;
  }
  return false;
}

// Header fields that live in the database image, so they are replicated and
// snapshotted like any table row.
bool is_persistent_header_pragma(absl::string_view name) {
  return name == "user_version" || name == "application_id";
}

// Functions whose value is not a function of the replicated log: they read
// connection history (which a restored replica does not have) or the binary.
bool is_refused_function(absl::string_view name, AccessMode mode) {
  if (name == "load_extension") return true;
  if (mode != AccessMode::kApply) return false;
  return name == "changes" || name == "total_changes" || name == "sqlite_version" ||
         name == "sqlite_source_id" || name == "sqlite_compileoption_used" ||
         name == "sqlite_compileoption_get" || name == "fts5_source_id";
}

bool is_allowed_module(absl::string_view module) {
  return module == "fts5" || module == "fts4" || module == "fts3" || module == "rtree";
}

// Table names an action touches (the authorizer's argument layout differs
// per action code).
std::array<const char*, 2> tables_of(int action, const char* a1, const char* a2) {
  switch (action) {
    case SQLITE_CREATE_INDEX: case SQLITE_DROP_INDEX:
    case SQLITE_CREATE_TRIGGER: case SQLITE_DROP_TRIGGER:
      return {a1, a2};
    case SQLITE_ALTER_TABLE:
      return {a2, nullptr};
    case SQLITE_CREATE_TABLE: case SQLITE_DROP_TABLE: case SQLITE_CREATE_VIEW:
    case SQLITE_DROP_VIEW: case SQLITE_DELETE: case SQLITE_INSERT: case SQLITE_READ:
    case SQLITE_UPDATE: case SQLITE_ANALYZE: case SQLITE_CREATE_VTABLE:
    case SQLITE_DROP_VTABLE: case SQLITE_REINDEX:
      return {a1, nullptr};
    default:
      return {nullptr, nullptr};
  }
}

bool is_temp_action(int action) {
  switch (action) {
    case SQLITE_CREATE_TEMP_INDEX: case SQLITE_CREATE_TEMP_TABLE: case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW: case SQLITE_DROP_TEMP_INDEX: case SQLITE_DROP_TEMP_TABLE:
    case SQLITE_DROP_TEMP_TRIGGER: case SQLITE_DROP_TEMP_VIEW:
      return true;
    default:
      return false;
  }
}

bool is_read_action(int action) {
  return action == SQLITE_SELECT || action == SQLITE_READ || action == SQLITE_FUNCTION ||
         action == SQLITE_RECURSIVE || action == SQLITE_PRAGMA;
}

int deny(ExecutionContext* context, std::string reason) {
  context->denial = std::move(reason);
  return SQLITE_DENY;
}

int authorize_pragma(ExecutionContext* context, const char* name_arg, const char* value) {
  const std::string name = absl::AsciiStrToLower(name_arg == nullptr ? "" : name_arg);
  if (is_introspection_pragma(name)) return SQLITE_OK;
  // FTS5 reads data_version through its own statements while a client
  // statement runs, to invalidate its caches; the value differs between
  // connections, so client SQL itself may not read it.
  if (name == "data_version" && !context->preparing_client_sql) return SQLITE_OK;
  if (is_persistent_header_pragma(name) && (value == nullptr || context->mode == AccessMode::kApply)) {
    return SQLITE_OK;
  }
  return deny(context, absl::StrCat("PRAGMA ", name,
                                    " is refused: it changes or reads connection state that is not "
                                    "replicated (only introspection pragmas, user_version and "
                                    "application_id are allowed)"));
}

int authorize(void* arg, int action, const char* a1, const char* a2, const char* database, const char*) {
  auto* context = static_cast<ExecutionContext*>(arg);
  if (context->mode == AccessMode::kInternal) return SQLITE_OK;
  if (context->mode == AccessMode::kQuery && !is_read_action(action)) {
    return deny(context, "a read-only query cannot write or change the schema");
  }
  // ALTER TABLE rewrites the temp schema table itself (empty, since
  // creating temp objects is refused below); other temp writes are refused.
  const bool writes = (action == SQLITE_INSERT || action == SQLITE_UPDATE || action == SQLITE_DELETE) &&
                      !(a1 != nullptr && absl::StartsWithIgnoreCase(a1, "sqlite_"));
  if (writes && database != nullptr && absl::EqualsIgnoreCase(database, "temp")) {
    return deny(context, "the temp schema is refused: it is not replicated");
  }
  switch (action) {
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
      return deny(context, "ATTACH and DETACH are refused: all replicated state lives in the one database");
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
      return deny(context, "transaction control is refused: each batch is one transaction run by the state machine");
    case SQLITE_ANALYZE:
      return deny(context, "ANALYZE is refused: planner statistics could make replicas choose different row orders");
    default:
      break;
  }
  // The state machine's own schema (sessions): neither readable nor
  // writable by client SQL, whatever the action (after the
  // refusals above, whose reasons say more).
  if (database != nullptr && absl::EqualsIgnoreCase(database, kInternalSchema)) {
    return deny(context, absl::StrCat("the ", kInternalSchema,
                                      " schema is reserved for the state machine; client SQL cannot use it"));
  }
  for (const char* table : tables_of(action, a1, a2)) {
    if (is_reserved_name(table)) {
      return deny(context, absl::StrCat("'", table, "': names starting with reef_ are reserved for the state machine"));
    }
    if (action != SQLITE_READ && is_planner_statistics(table)) {
      return deny(context, absl::StrCat("writing '", table, "' is refused: planner statistics must not differ between replicas"));
    }
  }
  if (is_temp_action(action)) return deny(context, "temporary tables, indexes, views and triggers are refused: they are not replicated");
  switch (action) {
    case SQLITE_PRAGMA:
      return authorize_pragma(context, a1, a2);
    case SQLITE_FUNCTION:
      if (a2 != nullptr && is_refused_function(absl::AsciiStrToLower(a2), context->mode)) {
        return deny(context, absl::StrCat(a2, "() is refused: its value is not determined by the replicated log"));
      }
      return SQLITE_OK;
    case SQLITE_CREATE_VTABLE:
    case SQLITE_DROP_VTABLE:
      if (a2 == nullptr || !is_allowed_module(absl::AsciiStrToLower(a2))) {
        return deny(context, absl::StrCat("virtual table module '", a2 == nullptr ? "" : a2,
                                          "' is refused (allowed: fts5, fts4, fts3, rtree)"));
      }
      return SQLITE_OK;
    default:
      return SQLITE_OK;
  }
}

absl::Status check(sqlite3* db, int rc, absl::string_view what) {
  if (rc == SQLITE_OK) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("configuring the connection (", what, "): ", sqlite3_errmsg(db)));
}

}  // namespace

void ExecutionContext::begin_read(uint64_t index, int64_t leader_timestamp_ms, uint64_t progress_calls_budget,
                                  std::chrono::steady_clock::time_point read_deadline) {
  now_ms = leader_timestamp_ms;
  uint64_t seed = index ^ 0x5265656644425244ULL;  // "ReefDBRD": keeps index 0 off the zero state
  random_state = splitmix64(seed);
  progress_calls = 0;
  progress_calls_max = progress_calls_budget;
  budget_exceeded = false;
  deadline = read_deadline;
  deadline_passed = false;
  denial.clear();
}

void ExecutionContext::begin_entry(uint64_t index, int64_t leader_timestamp_ms, uint64_t progress_calls_budget) {
  begin_read(index, leader_timestamp_ms, progress_calls_budget, std::chrono::steady_clock::time_point::max());
  // SQLite's own PRNG picks a rowid at random once the largest rowid is in
  // use; it is process-global, so it is reseeded per entry (the driver is
  // single-threaded; see the StateMachine contract).
  sqlite3_test_control(SQLITE_TESTCTRL_PRNG_SEED, static_cast<int>(random_state & 0x7fffffff),
                       static_cast<sqlite3*>(nullptr));
}

absl::StatusOr<std::unique_ptr<DeterministicVfs>> DeterministicVfs::create(ExecutionContext* context,
                                                                             const std::string& files_vfs,
                                                                             std::vector<std::string> databases) {
  REEF_ASSERT(context != nullptr, "VFS without a context");
  static std::atomic<uint64_t> next_id{1};  // names only; never observable in the database
  std::unique_ptr<DeterministicVfs> vfs(new DeterministicVfs());
  vfs->name_ = absl::StrCat("reef-deterministic-", next_id.fetch_add(1));
  sqlite3_vfs* base = base_vfs();
  if (base == nullptr) return absl::InternalError("SQLite has no default VFS");
  vfs->files_.context = context;
  if (!files_vfs.empty()) {
    vfs->files_.base = sqlite3_vfs_find(files_vfs.c_str());
    if (vfs->files_.base == nullptr) return absl::InternalError(absl::StrCat("no VFS named ", files_vfs));
    vfs->files_.databases = std::move(databases);
  }
  sqlite3_vfs& v = vfs->vfs_;
  v.iVersion = 2;
  v.szOsFile = vfs->files_.base != nullptr ? vfs->files_.base->szOsFile : base->szOsFile;
  v.mxPathname = vfs->files_.base != nullptr ? vfs->files_.base->mxPathname : base->mxPathname;
  v.zName = vfs->name_.c_str();
  v.pAppData = &vfs->files_;
  v.xOpen = vfs_open;
  v.xDelete = vfs_delete;
  v.xAccess = vfs_access;
  v.xFullPathname = vfs_full_pathname;
  v.xDlOpen = vfs_dl_open;
  v.xDlError = vfs_dl_error;
  v.xDlSym = vfs_dl_sym;
  v.xDlClose = vfs_dl_close;
  v.xRandomness = vfs_randomness;
  v.xSleep = vfs_sleep;
  v.xCurrentTime = vfs_current_time;
  v.xGetLastError = vfs_get_last_error;
  v.xCurrentTimeInt64 = vfs_current_time_int64;
  const int rc = sqlite3_vfs_register(&v, /*makeDflt=*/0);
  if (rc != SQLITE_OK) return absl::InternalError(absl::StrCat("registering VFS: ", sqlite3_errstr(rc)));
  return vfs;
}

DeterministicVfs::~DeterministicVfs() { sqlite3_vfs_unregister(&vfs_); }

absl::Status install_determinism(sqlite3* db, ExecutionContext* context, int64_t max_value_bytes) {
  struct Flag {
    int op;
    int value;
    const char* what;
  };
  static constexpr std::array<Flag, 9> kFlags = {{
      {SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, "load extension off"},
      {SQLITE_DBCONFIG_DEFENSIVE, 1, "defensive"},
      {SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, "untrusted schema"},
      // Double-quoted string literals ("fiona" where no column of that name
      // is in scope) are on, as in stock SQLite and rqlite, whose docs and
      // clients rely on them. Still deterministic: whether "x" is a column or
      // a string is decided at prepare time from the schema alone, and every
      // replica has the same schema at the same log index.
      {SQLITE_DBCONFIG_DQS_DML, 1, "double-quoted strings in DML"},
      {SQLITE_DBCONFIG_DQS_DDL, 1, "double-quoted strings in DDL"},
      {SQLITE_DBCONFIG_ENABLE_FKEY, 1, "foreign keys on"},
      {SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, "triggers on"},
      {SQLITE_DBCONFIG_ENABLE_VIEW, 1, "views on"},
      {SQLITE_DBCONFIG_LEGACY_ALTER_TABLE, 0, "modern ALTER TABLE"},
  }};
  for (const Flag& flag : kFlags) {
    if (auto status = check(db, sqlite3_db_config(db, flag.op, flag.value, nullptr), flag.what); !status.ok()) {
      return status;
    }
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, static_cast<int>(std::min<int64_t>(max_value_bytes, 1'000'000'000)));
  constexpr int kFlagsFn = SQLITE_UTF8 | SQLITE_INNOCUOUS;
  if (auto status = check(db, sqlite3_create_function_v2(db, "random", 0, kFlagsFn, context, random_function,
                                                         nullptr, nullptr, nullptr), "random()");
      !status.ok()) {
    return status;
  }
  if (auto status = check(db, sqlite3_create_function_v2(db, "randomblob", 1, kFlagsFn, context,
                                                         randomblob_function, nullptr, nullptr, nullptr),
                          "randomblob()");
      !status.ok()) {
    return status;
  }
  sqlite3_progress_handler(db, kProgressOpcodes, progress_handler, context);
  return check(db, sqlite3_set_authorizer(db, authorize, context), "authorizer");
}

}  // namespace reef::statemachine
