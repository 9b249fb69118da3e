// SqliteLockTable: SQLite's file locks (SHARED, RESERVED, PENDING,
// EXCLUSIVE) between the connections of one process, per database path, for
// a VFS whose files have no OS locks of their own (SqliteVfs: the
// FileSystem port has none, and SimFileSystem has no OS at all).
//
// The rules are those of SQLite's unix VFS (os_unix.c, unixLock), which the
// pager relies on:
//  - SHARED is refused while anyone holds PENDING or EXCLUSIVE (so a writer
//    waiting for readers to leave is not starved by new ones).
//  - RESERVED (from SHARED) is refused while another holds RESERVED, PENDING
//    or EXCLUSIVE: one writer at a time, readers keep reading.
//  - EXCLUSIVE (from SHARED or RESERVED) first takes PENDING, then succeeds
//    only when no other connection holds SHARED; if readers remain, the
//    caller is left at PENDING and gets SQLITE_BUSY, and retries.
//  - Unlocking to SHARED drops RESERVED/PENDING/EXCLUSIVE; to NONE drops all.
// Every lock is held by a Holder (one per open file handle); a handle's
// level is kept here, so the table alone decides.
//
// Thread-safe: connections may run on different threads (issue 16's
// readers). Locks are advisory between the users of one table only: two
// processes, or two SqliteVfs instances over the same files, do not see
// each other's locks.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace reef::statemachine {

class SqliteLockTable {
 public:
  // SQLite's lock levels (SQLITE_LOCK_NONE..SQLITE_LOCK_EXCLUSIVE, same values).
  enum Level : int { kNone = 0, kShared = 1, kReserved = 2, kPending = 3, kExclusive = 4 };

  // One per open file handle; identifies the owner of a lock.
  struct Holder {
    std::string path;
    Level level = kNone;
  };

  // True when granted (the holder's level is then `level` or above); false
  // for SQLITE_BUSY (the holder may have been left at kPending).
  bool lock(Holder& holder, Level level);
  // `level` is kShared or kNone.
  void unlock(Holder& holder, Level level);
  // True when any handle on the holder's path (itself included) holds
  // RESERVED or more: a hot journal there is someone's live transaction.
  bool reserved(const Holder& holder);

 private:
  struct PathLocks {
    int shared = 0;  // handles at kShared or above
    const Holder* reserved = nullptr;
    const Holder* pending = nullptr;
    const Holder* exclusive = nullptr;
  };

  std::mutex mu_;
  std::map<std::string, PathLocks> paths_;
};

}  // namespace reef::statemachine
