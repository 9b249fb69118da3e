// SqliteVfs: a sqlite3_vfs that routes every file operation of SQLite to a
// storage::FileSystem, so SQLite's database and journal are covered by the
// same durability model and fault injection as the Raft log: PosixFileSystem
// in production, SimFileSystem (crash loses unsynced writes, torn sectors,
// EIO) in the simulator.
//
// Use: construct one SqliteVfs per FileSystem, open connections with
// sqlite3_open_v2(path, &db, flags, vfs.name().c_str()), and close them all
// before the SqliteVfs goes. Every connection to one database must use the
// same SqliteVfs: its lock table is what keeps them apart.
//
// Durability argument for rollback-journal databases (the state machine
// itself runs WAL mode: its argument is in docs/STATE_MACHINE.md). With
// journal_mode=TRUNCATE and synchronous=FULL, SQLite commits a transaction
// as follows (pager.c), and each step is durable under the
// FileSystem model (storage/file_system.h) for the reason given:
//  1. The original content of every page about to change is written to
//     "<db>-journal", each record with a checksum, the header with a random
//     nonce and a record count of 0. xSync makes it durable; the journal's
//     first sync through this VFS also runs sync_dir() on its directory, so
//     the journal's NAME is durable before the database is touched (the
//     model keeps a new name volatile until then; without it a crash could
//     lose the journal and leave a half-written database with nothing to
//     roll back from). The header's record count is then written and synced
//     again (synchronous=FULL, and we claim no SAFE_APPEND), so a torn tail
//     of the journal is never mistaken for records.
//  2. The new pages are written to the database file and xSync'd. A crash
//     from here until step 3 is durable leaves a "hot" journal: the next
//     opener rolls the database back to the old state from it, syncing the
//     database before clearing the journal (and a crash during that
//     rollback just repeats it).
//  3. COMMIT point: the journal is truncated to zero length and xSync'd
//     (TRUNCATE mode with synchronous=FULL syncs the truncation). Once that
//     sync returns, the journal is empty on disk, so the synced new pages of
//     step 2 are the state: COMMIT returns only after it, so a committed
//     transaction is durable, and a crash at any earlier point leaves a
//     journal that restores the old state.
// Why TRUNCATE and not DELETE or PERSIST: DELETE commits by unlinking the
// journal, which the model makes durable only with a sync_dir, and SQLite
// asks for that (xDelete's dirSync) only at synchronous=EXTRA; at FULL a
// crash could resurrect the journal and roll back a committed transaction.
// PERSIST commits by zeroing the header, which works too but leaves stale
// journal bytes behind; TRUNCATE commits with a file write + sync, exactly
// what the model guarantees, and the journal's name stays durable between
// transactions.
// What we claim: xSectorSize 512 (SimFileSystem tears in 512-byte sectors)
// and xDeviceCharacteristics 0 (no atomic or power-safe writes, no safe
// append, no sequential ordering): SQLite then assumes that an unsynced
// write may tear anywhere in its sector and that writes may be reordered,
// which is the model.
//
// Files: the main database and its journal go to the FileSystem. Temporary
// files (temp databases, statement journals, transient indexes, anything
// opened DELETEONCLOSE or without a name) live in memory: they never need to
// survive a crash, and keeping them off the disk keeps the simulator's disk
// trace to the files that matter. (Their size is bounded by the statements
// that use them; spilling them to a scratch directory is future work.)
//
// Shared memory (xShm*) for WAL mode lives in the process's heap
// (sqlite_shared_memory.h): the connections of one SqliteVfs share it, which
// is every connection to the database, since one process owns a data
// directory. No memory mapping (xFetch) of database files.
//
// xRandomness, xSleep and xCurrentTime(Int64) are delegated to SQLite's
// default VFS. SQLite draws the journal nonce, WAL salts and temp names from
// its own process-wide PRNG, which it seeds through the default VFS; the
// state machine reseeds that PRNG deterministically (ExecutionContext::
// begin_entry, at open and before each entry), so in the simulator the bytes
// SQLite writes are a function of the seed too. Time is the per-connection
// DeterministicVfs's (determinism.h), which wraps this one.
//
// FileSystem errors never throw or assert: an I/O error (UNAVAILABLE and
// anything unexpected) becomes the matching SQLITE_IOERR_* code, running out
// of space (RESOURCE_EXHAUSTED) SQLITE_FULL, and a missing file on open
// SQLITE_CANTOPEN. last_error() keeps the most recent one, with its path.
//
// Thread-safety: the VFS itself is; the FileSystem must be too if
// connections run on several threads (PosixFileSystem is; SimFileSystem
// runs single-threaded in the simulator).
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "statemachine/sqlite_lock_table.h"
#include "statemachine/sqlite_shared_memory.h"
#include "storage/file_system.h"

namespace reef::statemachine {

struct VfsFileState;

// True for the files SqliteVfs keeps in memory rather than on the
// FileSystem: nameless ones and SQLite's temporaries (see Files above).
bool is_temporary_file(const char* name, int open_flags);

// Left next to a database whose page failed its checksum (damage()).
inline constexpr char kDamageMarkerFile[] = "damaged";

class SqliteVfs {
 public:
  // Registers the VFS with SQLite under a name unique in the process (not
  // as the default VFS).
  explicit SqliteVfs(storage::FileSystem& fs);
  // Unregisters it. Every connection opened through it must be closed.
  ~SqliteVfs();
  SqliteVfs(const SqliteVfs&) = delete;
  SqliteVfs& operator=(const SqliteVfs&) = delete;

  // The zVfs argument for sqlite3_open_v2.
  const std::string& name() const { return name_; }
  // The most recent FileSystem error SQLite saw through this VFS (OK if none).
  absl::Status last_error() const;
  // How many FileSystem errors SQLite saw through this VFS so far: a
  // statement that failed while this moved failed because of this
  // replica's disk (ENOSPC is SQLITE_FULL, as SQLite's own VFS says, but
  // unlike a page-count limit it is no outcome every replica shares).
  uint64_t error_count() const;
  // Syncs every database, journal and WAL file open through this VFS (and
  // the names of those it created): everything SQLite wrote so far is then
  // durable. In WAL mode that is every committed transaction, since a
  // commit writes its frames before it returns.
  absl::Status sync_open_files();
  // DATA_LOSS naming the first page of a database file that failed its
  // checksum (page_checksum.h) through this VFS; OK while none did. A read
  // that finds one fails with SQLITE_IOERR_DATA and leaves the marker file
  // kDamageMarkerFile next to the database, durably, so that the next open
  // discards the files instead of trusting them.
  absl::Status damage() const;

 private:
  friend struct SqliteVfsCallbacks;

  // Remembers `status` for last_error() and returns `code`, or SQLITE_OK
  // when the status is OK.
  int fail(const absl::Status& status, int code);
  // sync_dir() of the file's directory, once per path for the VFS's life:
  // the first sync of a file this VFS created makes its name durable.
  int sync_name_once(const std::string& path);
  void forget_name(const std::string& path);
  int report_damage(const std::string& path, uint64_t offset, size_t page_size);
  // Whether the database file's pages carry checksums, one flag per path
  // for every connection, read from its header on the disk at first open.
  std::shared_ptr<std::atomic<bool>> checksum_flag(storage::File& file);

  storage::FileSystem& fs_;
  std::string name_;
  sqlite3_vfs vfs_{};
  sqlite3_vfs* default_vfs_;
  SqliteLockTable locks_;
  SqliteSharedMemoryTable shm_table_;
  mutable std::mutex mu_;
  absl::Status last_error_;
  uint64_t error_count_ = 0;
  absl::Status damage_;
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> checksum_flags_;
  std::set<std::string> durable_names_;
  std::set<VfsFileState*> open_files_;  // on disk
};

}  // namespace reef::statemachine
