// DurableLog: the node driver's port to its disk (storage/ implements it
// over NodeStorage; the simulator adds latency and faults underneath).
//
// Log writes are asynchronous: submit() returns at once and the adapter later
// calls Node::on_log_written(id, status) on the node's loop. Writes complete
// in submission order; each is carried out as
//   1. if `snapshot_durable` is set: keep the log after that snapshot if the
//      log holds its last entry, otherwise discard the log; drop the log
//      prefix the snapshot covers;
//   2. `entries`: replace every stored entry from entries.front().index on,
//      append, sync;
//   3. `hard_state`: save durably (after the entries, so a durable commit
//      never points past the durable log).
// OK means all of it is durable. A failed write leaves the disk in an
// unknown state: the node stops (it must not acknowledge anything again).
//
// Snapshot files are separate and synchronous: begin_snapshot() writes one
// through a sink, open_snapshot() reads the newest durable one. A sink may
// be used on another thread than the loop's (the driver writes policy
// snapshots through its Background port, raft/ports/background.h): an
// implementation makes begin_snapshot() and its sinks safe to use beside
// log writes and the loop.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/core/log_entry.h"
#include "raft/core/state.h"

namespace reef::raft {

struct LogWrite {
  uint64_t id = 0;  // strictly increasing per node
  std::optional<SnapshotMeta> snapshot_durable;
  std::vector<LogEntry> entries;
  std::optional<HardState> hard_state;
};

// A snapshot being written. Dropping it before finish() abandons it (no
// trace survives a restart).
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual absl::Status add_chunk(std::string_view bytes) = 0;
  // OK: the snapshot is durable and is now the newest.
  virtual absl::Status finish() = 0;
};

// The newest durable snapshot, read from an offset in verified chunks.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  virtual const SnapshotMeta& meta() const = 0;
  virtual uint64_t total_bytes() const = 0;
  // The next chunk, or nullopt at the end.
  virtual absl::StatusOr<std::optional<std::string>> next_chunk() = 0;
};

class DurableLog {
 public:
  virtual ~DurableLog() = default;
  virtual void submit(LogWrite write) = 0;
  virtual absl::StatusOr<std::unique_ptr<SnapshotSink>> begin_snapshot(const SnapshotMeta& meta) = 0;
  // NOT_FOUND when there is no snapshot.
  virtual absl::StatusOr<std::unique_ptr<SnapshotSource>> open_snapshot(uint64_t offset) = 0;
};

}  // namespace reef::raft
