// LogWriteTiming: one storage-thread turn of Raft log writes, as the
// storage thread measured it (prod/server/storage_thread_log.h) and as
// NodeObserver reads it. Its own header so observe/ depends on what was
// measured, not on the storage thread that measured it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace reef::prod {

// One storage-thread turn, as measured there.
struct LogWriteTiming {
  double seconds = 0;   // the disk work of the turn
  size_t writes = 0;    // raft::LogWrites carried out
  size_t entries = 0;   // log entries among them
  uint64_t groups = 0;  // syncs (groups the writes merged into)
  bool ok = true;       // false: the node stops (raft/ports/durable_log.h)
};

}  // namespace reef::prod
