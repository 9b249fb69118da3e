#include "statemachine/sqlite_vfs.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "statemachine/page_checksum.h"

namespace reef::statemachine {
namespace {

// A temporary file of SQLite, held in memory (see the header: temp files
// need not survive a crash). Implements storage::File so every SQLite file
// goes through the same io methods.
class MemoryFile final : public storage::File {
 public:
  explicit MemoryFile(std::string path) : path_(std::move(path)) {}
  absl::Status append(absl::string_view data) override {
    data_.append(data.data(), data.size());
    return absl::OkStatus();
  }
  absl::Status write_at(uint64_t offset, absl::string_view data) override {
    if (data_.size() < offset + data.size()) data_.resize(offset + data.size(), '\0');
    data_.replace(offset, data.size(), data.data(), data.size());
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> read_at(uint64_t offset, uint64_t length) override {
    if (offset >= data_.size()) return std::string();
    return data_.substr(offset, length);
  }
  absl::Status sync() override { return absl::OkStatus(); }
  absl::Status truncate(uint64_t size) override {
    data_.resize(size, '\0');
    return absl::OkStatus();
  }
  absl::Status allocate(uint64_t size) override {
    if (data_.size() < size) data_.resize(size, '\0');
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> size() override { return data_.size(); }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  std::string data_;
};

constexpr int kMaxPathname = 1024;

}  // namespace

bool is_temporary_file(const char* name, int open_flags) {
  constexpr int kTemporaryFileFlags = SQLITE_OPEN_DELETEONCLOSE | SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_TEMP_JOURNAL |
                                      SQLITE_OPEN_SUBJOURNAL | SQLITE_OPEN_TRANSIENT_DB;
  return name == nullptr || (open_flags & kTemporaryFileFlags) != 0;
}

// What SQLite allocates for each open file (szOsFile): its sqlite3_file
// header first, then ours. Plain data, so SQLite may hand it to us as raw
// memory; the C++ state lives behind `state`.
struct VfsFileState {
  SqliteVfs* vfs;
  std::unique_ptr<storage::File> file;
  SqliteLockTable::Holder lock;
  bool on_disk;
  bool created;  // opened with SQLITE_OPEN_CREATE: its name must be made durable
  bool main_db;  // a database file (main or attached), not a WAL or journal
  // Set when the database's header reserves room for page checksums: pages
  // written are then sealed, whole pages read checked (page_checksum.h).
  // Shared by every connection to the file (SqliteVfs::checksum_flag), so
  // that a header one of them writes (a restore may change it) changes
  // what all of them check at once.
  std::shared_ptr<std::atomic<bool>> checksums;
  SqliteSharedMemory::Handle shm;  // WAL index, once SQLite maps it
};
struct VfsFile {
  sqlite3_file base;
  VfsFileState* state;
};

// The C callbacks SQLite calls, as static members so they may reach
// SqliteVfs's privates.
struct SqliteVfsCallbacks {
  static SqliteVfs* self(sqlite3_vfs* vfs) { return static_cast<SqliteVfs*>(vfs->pAppData); }
  static VfsFileState* state(sqlite3_file* file) { return reinterpret_cast<VfsFile*>(file)->state; }

  // --- io methods ---

  static int close(sqlite3_file* file) {
    VfsFileState* s = state(file);
    s->vfs->locks_.unlock(s->lock, SqliteLockTable::kNone);
    s->vfs->shm_table_.detach(s->shm, s->file->path());
    if (s->on_disk) {
      std::lock_guard<std::mutex> guard(s->vfs->mu_);
      s->vfs->open_files_.erase(s);
    }
    delete s;
    reinterpret_cast<VfsFile*>(file)->state = nullptr;
    return SQLITE_OK;
  }

  static bool checksummed(const VfsFileState* s) { return s->checksums != nullptr && s->checksums->load(); }

  // The header on the disk is what counts when a file is first opened;
  // after that only what SQLite writes there (a header read from the file
  // may be older than the WAL's).
  static void note_header_write(VfsFileState* s, const char* data, size_t size, sqlite3_int64 offset) {
    if (s->checksums != nullptr && offset == 0 && size >= 100) {
      s->checksums->store(header_has_page_checksums(data, size));
    }
  }

  static int read(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
    VfsFileState* s = state(file);
    absl::StatusOr<std::string> data =
        s->file->read_at(static_cast<uint64_t>(offset), static_cast<uint64_t>(amount));
    if (!data.ok()) return s->vfs->fail(data.status(), SQLITE_IOERR_READ);
    size_t got = std::min(data->size(), static_cast<size_t>(amount));
    std::memcpy(buffer, data->data(), got);
    if (got == static_cast<size_t>(amount)) {
      if (checksummed(s) && is_whole_page(got, offset) && !page_is_intact(data->data(), got)) {
        return s->vfs->report_damage(s->file->path(), static_cast<uint64_t>(offset), got);
      }
      return SQLITE_OK;
    }
    // SQLite requires the rest zero-filled on a short read.
    std::memset(static_cast<char*>(buffer) + got, 0, static_cast<size_t>(amount) - got);
    return SQLITE_IOERR_SHORT_READ;
  }

  static int write(sqlite3_file* file, const void* buffer, int amount, sqlite3_int64 offset) {
    VfsFileState* s = state(file);
    absl::string_view data(static_cast<const char*>(buffer), static_cast<size_t>(amount));
    note_header_write(s, data.data(), data.size(), offset);
    std::string sealed;
    if (checksummed(s) && is_whole_page(data.size(), offset)) {
      sealed.assign(data.data(), data.size());
      seal_page(sealed.data(), sealed.size());
      data = sealed;
    }
    return s->vfs->fail(s->file->write_at(static_cast<uint64_t>(offset), data), SQLITE_IOERR_WRITE);
  }

  static int truncate(sqlite3_file* file, sqlite3_int64 size) {
    VfsFileState* s = state(file);
    return s->vfs->fail(s->file->truncate(static_cast<uint64_t>(size)), SQLITE_IOERR_TRUNCATE);
  }

  static int sync(sqlite3_file* file, int /*flags: every sync is a full one*/) {
    VfsFileState* s = state(file);
    if (int rc = s->vfs->fail(s->file->sync(), SQLITE_IOERR_FSYNC); rc != SQLITE_OK) return rc;
    if (!s->on_disk || !s->created) return SQLITE_OK;
    return s->vfs->sync_name_once(s->file->path());
  }

  static int file_size(sqlite3_file* file, sqlite3_int64* size) {
    VfsFileState* s = state(file);
    absl::StatusOr<uint64_t> bytes = s->file->size();
    if (!bytes.ok()) return s->vfs->fail(bytes.status(), SQLITE_IOERR_FSTAT);
    *size = static_cast<sqlite3_int64>(*bytes);
    return SQLITE_OK;
  }

  static int lock(sqlite3_file* file, int level) {
    VfsFileState* s = state(file);
    if (!s->on_disk) return SQLITE_OK;  // private to one connection
    return s->vfs->locks_.lock(s->lock, static_cast<SqliteLockTable::Level>(level)) ? SQLITE_OK : SQLITE_BUSY;
  }

  static int unlock(sqlite3_file* file, int level) {
    VfsFileState* s = state(file);
    if (s->on_disk) s->vfs->locks_.unlock(s->lock, static_cast<SqliteLockTable::Level>(level));
    return SQLITE_OK;
  }

  static int check_reserved_lock(sqlite3_file* file, int* result) {
    VfsFileState* s = state(file);
    *result = s->on_disk && s->vfs->locks_.reserved(s->lock) ? 1 : 0;
    return SQLITE_OK;
  }

  static int file_control(sqlite3_file*, int, void*) { return SQLITE_NOTFOUND; }
  static int sector_size(sqlite3_file*) { return 512; }
  static int device_characteristics(sqlite3_file*) { return 0; }

  // The WAL index (sqlite_shared_memory.h), keyed by the database's path.
  static int shm_map(sqlite3_file* file, int region, int region_bytes, int extend, void volatile** out) {
    VfsFileState* s = state(file);
    s->vfs->shm_table_.attach(s->shm, s->file->path());
    return s->shm.shm->map(region, region_bytes, extend != 0, out);
  }
  static int shm_lock(sqlite3_file* file, int offset, int count, int flags) {
    VfsFileState* s = state(file);
    if (s->shm.shm == nullptr) return SQLITE_IOERR_SHMLOCK;
    return s->shm.shm->lock(s->shm, offset, count, flags);
  }
  static void shm_barrier(sqlite3_file* file) {
    VfsFileState* s = state(file);
    if (s->shm.shm != nullptr) s->shm.shm->barrier();
  }
  static int shm_unmap(sqlite3_file* file, int /*delete: nothing on disk to delete*/) {
    VfsFileState* s = state(file);
    s->vfs->shm_table_.detach(s->shm, s->file->path());
    return SQLITE_OK;
  }

  static const sqlite3_io_methods* io_methods() {
    static const sqlite3_io_methods methods = {
        /*iVersion=*/2, close, read, write, truncate, sync, file_size, lock, unlock, check_reserved_lock,
        file_control, sector_size, device_characteristics, shm_map, shm_lock, shm_barrier, shm_unmap,
        /*xFetch, xUnfetch: version 3, no memory mapping*/
    };
    return &methods;
  }

  // --- vfs methods ---

  static int open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
    SqliteVfs* v = self(vfs);
    file->pMethods = nullptr;  // SQLite calls xClose only when set
    auto s = std::make_unique<VfsFileState>();
    s->vfs = v;
    s->on_disk = !is_temporary_file(name, flags);
    s->created = (flags & SQLITE_OPEN_CREATE) != 0;
    s->main_db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
    if (!s->on_disk) {
      s->file = std::make_unique<MemoryFile>(name != nullptr ? name : "(temporary)");
    } else {
      storage::OpenMode mode = storage::OpenMode::kExisting;
      if (s->created) {
        mode = (flags & SQLITE_OPEN_EXCLUSIVE) != 0 ? storage::OpenMode::kCreateNew : storage::OpenMode::kCreate;
      }
      absl::StatusOr<std::unique_ptr<storage::File>> opened = v->fs_.open(name, mode);
      if (!opened.ok()) {
        int code = opened.status().code() == absl::StatusCode::kUnavailable           ? SQLITE_IOERR
                   : opened.status().code() == absl::StatusCode::kResourceExhausted ? SQLITE_FULL
                                                                                     : SQLITE_CANTOPEN;
        return v->fail(opened.status(), code);
      }
      s->file = std::move(*opened);
      s->lock.path = name;
      if (s->main_db) s->checksums = v->checksum_flag(*s->file);
    }
    if (out_flags != nullptr) *out_flags = flags;
    if (s->on_disk) {
      std::lock_guard<std::mutex> guard(v->mu_);
      v->open_files_.insert(s.get());
    }
    reinterpret_cast<VfsFile*>(file)->state = s.release();
    file->pMethods = io_methods();
    return SQLITE_OK;
  }

  static int remove(sqlite3_vfs* vfs, const char* name, int dir_sync) {
    SqliteVfs* v = self(vfs);
    v->forget_name(name);
    absl::Status removed = v->fs_.remove(name);
    if (removed.code() == absl::StatusCode::kNotFound) return SQLITE_IOERR_DELETE_NOENT;
    if (!removed.ok()) return v->fail(removed, SQLITE_IOERR_DELETE);
    if (dir_sync == 0) return SQLITE_OK;
    return v->fail(v->fs_.sync_dir(storage::parent_dir(name)), SQLITE_IOERR_DIR_FSYNC);
  }

  static int access(sqlite3_vfs* vfs, const char* name, int /*SQLITE_ACCESS_*: no permissions to check*/,
                    int* result) {
    SqliteVfs* v = self(vfs);
    absl::StatusOr<bool> exists = v->fs_.exists(name);
    if (!exists.ok()) return v->fail(exists.status(), SQLITE_IOERR_ACCESS);
    *result = *exists ? 1 : 0;
    return SQLITE_OK;
  }

  // Paths are the FileSystem's own (relative to its working directory or
  // absolute): passed through unchanged.
  static int full_pathname(sqlite3_vfs*, const char* name, int size, char* out) {
    size_t length = std::strlen(name);
    if (length + 1 > static_cast<size_t>(size)) return SQLITE_CANTOPEN;
    std::memcpy(out, name, length + 1);
    return SQLITE_OK;
  }

  // Extension loading, randomness, sleep and time: the default VFS's.
  static sqlite3_vfs* fallback(sqlite3_vfs* vfs) { return self(vfs)->default_vfs_; }
  static void* dl_open(sqlite3_vfs* vfs, const char* name) { return fallback(vfs)->xDlOpen(fallback(vfs), name); }
  static void dl_error(sqlite3_vfs* vfs, int size, char* out) { fallback(vfs)->xDlError(fallback(vfs), size, out); }
  static void (*dl_sym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
    return fallback(vfs)->xDlSym(fallback(vfs), handle, symbol);
  }
  static void dl_close(sqlite3_vfs* vfs, void* handle) { fallback(vfs)->xDlClose(fallback(vfs), handle); }
  static int randomness(sqlite3_vfs* vfs, int size, char* out) {
    return fallback(vfs)->xRandomness(fallback(vfs), size, out);
  }
  static int sleep(sqlite3_vfs* vfs, int micros) { return fallback(vfs)->xSleep(fallback(vfs), micros); }
  static int current_time(sqlite3_vfs* vfs, double* out) {
    return fallback(vfs)->xCurrentTime(fallback(vfs), out);
  }
  static int current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
    return fallback(vfs)->xCurrentTimeInt64(fallback(vfs), out);
  }
  static int get_last_error(sqlite3_vfs* vfs, int size, char* out) {
    std::string message(self(vfs)->last_error().message());
    if (size > 0) {
      size_t n = std::min(message.size(), static_cast<size_t>(size) - 1);
      std::memcpy(out, message.data(), n);
      out[n] = '\0';
    }
    return 0;
  }
};

SqliteVfs::SqliteVfs(storage::FileSystem& fs) : fs_(fs), default_vfs_(sqlite3_vfs_find(nullptr)) {
  static std::atomic<uint64_t> next_id{1};
  name_ = absl::StrCat("reef-fs-", next_id.fetch_add(1));
  using C = SqliteVfsCallbacks;
  vfs_.iVersion = 2;
  vfs_.szOsFile = sizeof(VfsFile);
  vfs_.mxPathname = kMaxPathname;
  vfs_.zName = name_.c_str();
  vfs_.pAppData = this;
  vfs_.xOpen = C::open;
  vfs_.xDelete = C::remove;
  vfs_.xAccess = C::access;
  vfs_.xFullPathname = C::full_pathname;
  vfs_.xDlOpen = C::dl_open;
  vfs_.xDlError = C::dl_error;
  vfs_.xDlSym = C::dl_sym;
  vfs_.xDlClose = C::dl_close;
  vfs_.xRandomness = C::randomness;
  vfs_.xSleep = C::sleep;
  vfs_.xCurrentTime = C::current_time;
  vfs_.xGetLastError = C::get_last_error;
  vfs_.xCurrentTimeInt64 = C::current_time_int64;
  // Fails only on SQLITE_MISUSE-level bugs (a null vfs) or if SQLite cannot
  // initialize; the open that names this VFS then fails with a clear error.
  sqlite3_vfs_register(&vfs_, /*makeDflt=*/0);
}

SqliteVfs::~SqliteVfs() { sqlite3_vfs_unregister(&vfs_); }

absl::Status SqliteVfs::last_error() const {
  std::lock_guard<std::mutex> guard(mu_);
  return last_error_;
}

uint64_t SqliteVfs::error_count() const {
  std::lock_guard<std::mutex> guard(mu_);
  return error_count_;
}

int SqliteVfs::fail(const absl::Status& status, int code) {
  if (status.ok()) return SQLITE_OK;
  {
    std::lock_guard<std::mutex> guard(mu_);
    last_error_ = status;
    ++error_count_;
  }
  return status.code() == absl::StatusCode::kResourceExhausted ? SQLITE_FULL : code;
}

absl::Status SqliteVfs::sync_open_files() {
  std::vector<VfsFileState*> files;
  {
    std::lock_guard<std::mutex> guard(mu_);
    files.assign(open_files_.begin(), open_files_.end());
  }
  for (VfsFileState* s : files) {
    if (absl::Status synced = s->file->sync(); !synced.ok()) {
      fail(synced, SQLITE_IOERR_FSYNC);
      return synced;
    }
    if (s->created && sync_name_once(s->file->path()) != SQLITE_OK) return last_error();
  }
  return absl::OkStatus();
}

int SqliteVfs::sync_name_once(const std::string& path) {
  {
    std::lock_guard<std::mutex> guard(mu_);
    if (durable_names_.contains(path)) return SQLITE_OK;
  }
  if (int rc = fail(fs_.sync_dir(storage::parent_dir(path)), SQLITE_IOERR_DIR_FSYNC); rc != SQLITE_OK) return rc;
  std::lock_guard<std::mutex> guard(mu_);
  durable_names_.insert(path);
  return SQLITE_OK;
}

std::shared_ptr<std::atomic<bool>> SqliteVfs::checksum_flag(storage::File& file) {
  std::lock_guard<std::mutex> guard(mu_);
  std::shared_ptr<std::atomic<bool>>& flag = checksum_flags_[file.path()];
  if (flag == nullptr) {
    absl::StatusOr<std::string> header = file.read_at(0, 100);
    flag = std::make_shared<std::atomic<bool>>(header.ok() && header_has_page_checksums(header->data(), header->size()));
  }
  return flag;
}

int SqliteVfs::report_damage(const std::string& path, uint64_t offset, size_t page_size) {
  const absl::Status damage = absl::DataLossError(
      absl::StrCat("page ", offset / page_size + 1, " of ", path, " fails its checksum: the database file is damaged"));
  {
    std::lock_guard<std::mutex> guard(mu_);
    if (damage_.ok()) damage_ = damage;
  }
  // Best effort: if the marker cannot be written, the next open reads the
  // same page and finds the same damage, if it reaches it.
  const std::string marker = storage::join_path(storage::parent_dir(path), kDamageMarkerFile);
  if (absl::StatusOr<std::unique_ptr<storage::File>> file = fs_.open(marker, storage::OpenMode::kCreate); file.ok()) {
    if ((*file)->write_at(0, damage.message()).ok() && (*file)->sync().ok()) {
      fs_.sync_dir(storage::parent_dir(marker)).IgnoreError();
    }
  }
  fail(damage, SQLITE_IOERR_DATA);
  return SQLITE_IOERR_DATA;
}

absl::Status SqliteVfs::damage() const {
  std::lock_guard<std::mutex> guard(mu_);
  return damage_;
}

void SqliteVfs::forget_name(const std::string& path) {
  std::lock_guard<std::mutex> guard(mu_);
  durable_names_.erase(path);
  checksum_flags_.erase(path);  // a file created again under the name starts anew
}

}  // namespace reef::statemachine
