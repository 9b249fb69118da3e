// The data directory checked in under tests/encoding/fixtures/data_dir_v1/:
// the one deterministic node history that wrote it, and what recovering it
// must give. Shared by the program that (re)writes the fixture and by the
// test that proves today's code reads it, and writes it again byte for byte
// (on-disk formats never change silently).
#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/core/log_entry.h"
#include "raft/core/membership.h"
#include "raft/core/state.h"
#include "storage/file_system.h"
#include "storage/node_storage.h"

namespace reef::testing {

// Small segments and chunks so a few entries span several segment files and
// the snapshot several data records.
storage::NodeStorageOptions fixture_storage_options();

// The history: entries 1-6 applied to a SqlStateMachine, a snapshot at 6
// (joint configuration, a learner) stored through SnapshotStore, which
// compacts the log, then entries 7-10 and a last hard state. Writes the node
// directory `dir` on `fs`.
absl::Status write_fixture_node(storage::FileSystem& fs, const std::string& dir);

// What NodeStorage::open must recover from the fixture.
raft::HardState fixture_hard_state();
raft::SnapshotMeta fixture_snapshot_meta();
// Entry `index` (1-10) as written: term, type and payload.
raft::LogEntry fixture_entry(uint64_t index);
// A query on the restored state machine and the rows it must print.
inline constexpr char kFixtureQuery[] = "SELECT id, name FROM fish ORDER BY id";
inline constexpr char kFixtureRows[] = "1|clownfish;2|tang;3|grouper;4|wrasse;5|moray;";

// Every file of the node directory `dir` on `fs` (its top level, log/ and
// snapshots/): path relative to `dir` -> bytes.
absl::StatusOr<std::map<std::string, std::string>> read_tree(storage::FileSystem& fs, const std::string& dir);

}  // namespace reef::testing
