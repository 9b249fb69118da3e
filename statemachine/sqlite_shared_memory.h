// SqliteSharedMemory: the wal-index ("-shm") of SQLite's WAL mode, held in
// this process's heap instead of a memory-mapped file, for SqliteVfs.
//
// SQLite's WAL mode needs every connection to one database to share a small
// index of the WAL (regions of 32 KiB) and eight lock slots on it (xShmMap,
// xShmLock, xShmBarrier, xShmUnmap). The unix VFS maps a "-shm" file so that
// several processes can share it; ReefDB opens its database from one process
// only (the data directory is locked), so the regions live in memory, shared
// by the connections of one SqliteVfs. Nothing of it needs to survive a
// crash: SQLite rebuilds the wal-index from the WAL file when the first
// connection finds it zeroed, which a fresh process (or a simulated crash,
// which destroys the VFS) always does.
//
// Lock slots follow os_unix.c's unixShmLock: a slot is held SHARED by any
// number of connections or EXCLUSIVE by one; a request that conflicts with
// another connection's hold fails with SQLITE_BUSY at once (SQLite retries).
//
// Thread-safe: reader connections run on worker threads.
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace reef::statemachine {

class SqliteSharedMemory {
 public:
  // One per open database-file handle that uses the shared memory.
  struct Handle {
    std::shared_ptr<SqliteSharedMemory> shm;
    uint16_t shared_mask = 0;     // slots this handle holds SHARED
    uint16_t exclusive_mask = 0;  // slots this handle holds EXCLUSIVE
  };

  // xShmMap: region `index` of `region_bytes`; nullptr (and SQLITE_OK) when
  // it does not exist yet and `extend` is false.
  int map(int index, int region_bytes, bool extend, void volatile** out);
  // xShmLock: `flags` as SQLite passes them (SQLITE_SHM_LOCK/UNLOCK with
  // SQLITE_SHM_SHARED/EXCLUSIVE) for slots [offset, offset + count).
  int lock(Handle& handle, int offset, int count, int flags);
  // xShmBarrier.
  void barrier();

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<char[]>> regions_;
  int region_bytes_ = 0;
  std::array<int, SQLITE_SHM_NLOCK> shared_ = {};
  std::array<bool, SQLITE_SHM_NLOCK> exclusive_ = {};
};

// The shared memories of one VFS, by database path. A handle attaches on
// its first xShmMap and detaches on xShmUnmap (or close); the memory goes
// when its last handle detaches.
class SqliteSharedMemoryTable {
 public:
  void attach(SqliteSharedMemory::Handle& handle, const std::string& path);
  void detach(SqliteSharedMemory::Handle& handle, const std::string& path);

 private:
  std::mutex mu_;
  std::map<std::string, std::weak_ptr<SqliteSharedMemory>> by_path_;
};

}  // namespace reef::statemachine
