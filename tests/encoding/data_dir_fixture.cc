#include "tests/encoding/data_dir_fixture.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "statemachine/command_batch.h"
#include "statemachine/sql_state_machine.h"

namespace reef::testing {
namespace {

using raft::Index;
using raft::NodeId;
using raft::Term;

constexpr uint64_t kSnapshotIndex = 6;
constexpr int64_t kLeaderTimeMs = 1'700'000'000'000;
constexpr const char* kFish[] = {"clownfish", "tang", "grouper", "wrasse", "moray",
                                 "parrotfish", "goby", "blenny", "damselfish"};

std::string sql_of(uint64_t index) {
  if (index == 1) return "CREATE TABLE fish (id INTEGER PRIMARY KEY, name TEXT NOT NULL)";
  return absl::StrCat("INSERT INTO fish (id, name) VALUES (", index - 1, ", '", kFish[index - 2], "')");
}

#define RETURN_IF_ERROR(expr)             \
  do {                                    \
    if (absl::Status s = (expr); !s.ok()) \
      return s;                           \
  } while (0)

absl::Status persist(storage::NodeStorage& node, std::optional<raft::HardState> hs, uint64_t first,
                     uint64_t last) {
  std::vector<raft::LogEntry> entries;
  for (uint64_t i = first; i <= last; ++i) entries.push_back(fixture_entry(i));
  return node.persist(hs, entries);
}

// Takes the state machine's snapshot stream and stores it as the snapshot file.
absl::Status store_snapshot(statemachine::SqlStateMachine& sm, storage::NodeStorage& node) {
  absl::StatusOr<std::unique_ptr<raft::StateMachineSnapshot>> snapshot =
      sm.snapshot(fixture_snapshot_meta().configuration);
  if (!snapshot.ok()) return snapshot.status();
  absl::StatusOr<std::unique_ptr<storage::SnapshotWriter>> writer = node.snapshots().begin((*snapshot)->meta());
  if (!writer.ok()) return writer.status();
  for (;;) {
    absl::StatusOr<std::optional<std::string>> chunk = (*snapshot)->next_chunk(5000);
    if (!chunk.ok()) return chunk.status();
    if (!chunk->has_value()) break;
    RETURN_IF_ERROR((*writer)->add_chunk(**chunk));
  }
  absl::StatusOr<storage::SnapshotInfo> info = (*writer)->finish();
  if (!info.ok()) return info.status();
  return node.on_snapshot_durable(info->meta);
}

}  // namespace

storage::NodeStorageOptions fixture_storage_options() {
  storage::NodeStorageOptions options;
  options.log.segment_bytes = 512;
  options.snapshots.max_chunk_bytes = 4096;
  return options;
}

raft::HardState fixture_hard_state() { return raft::HardState{Term(3), NodeId(2), Index(9)}; }

raft::SnapshotMeta fixture_snapshot_meta() {
  raft::Configuration configuration;
  configuration.voters = raft::MajorityConfig({NodeId(1), NodeId(2), NodeId(3)});
  configuration.outgoing_voters = raft::MajorityConfig({NodeId(1), NodeId(2), NodeId(4)});
  configuration.learners = {NodeId(5)};
  return raft::SnapshotMeta{Index(kSnapshotIndex), Term(2), std::move(configuration)};
}

raft::LogEntry fixture_entry(uint64_t index) {
  statemachine::CommandBatch batch{statemachine::CommandId{7, index}, kLeaderTimeMs + static_cast<int64_t>(index),
                                   {statemachine::Statement{sql_of(index), {}}}};
  const uint64_t term = index <= 3 ? 1 : index <= 8 ? 2 : 3;
  return raft::LogEntry{Term(term), Index(index), raft::EntryType::kNormal,
                        statemachine::encode_command_batch(batch)};
}

absl::Status write_fixture_node(storage::FileSystem& fs, const std::string& dir) {
  absl::StatusOr<std::unique_ptr<storage::NodeStorage>> node =
      storage::NodeStorage::open(fs, dir, fixture_storage_options());
  if (!node.ok()) return node.status();
  absl::StatusOr<std::unique_ptr<statemachine::SqlStateMachine>> sm = statemachine::SqlStateMachine::create();
  if (!sm.ok()) return sm.status();

  RETURN_IF_ERROR(persist(**node, raft::HardState{Term(1), NodeId(1), Index(0)}, 1, 3));
  RETURN_IF_ERROR(persist(**node, raft::HardState{Term(2), NodeId(1), Index(3)}, 4, 6));
  RETURN_IF_ERROR((*node)->persist(raft::HardState{Term(2), NodeId(1), Index(6)}, {}));
  for (uint64_t i = 1; i <= kSnapshotIndex; ++i) {
    absl::StatusOr<std::string> response = (*sm)->apply(fixture_entry(i));
    if (!response.ok()) return response.status();
    // One entry per driver turn: the database image counts its commits.
    RETURN_IF_ERROR((*sm)->commit_applied());
  }
  RETURN_IF_ERROR(store_snapshot(**sm, **node));
  RETURN_IF_ERROR(persist(**node, std::nullopt, 7, 8));
  return persist(**node, fixture_hard_state(), 9, 10);
}

absl::StatusOr<std::map<std::string, std::string>> read_tree(storage::FileSystem& fs, const std::string& dir) {
  std::map<std::string, std::string> files;
  // FileSystem::list names regular files only: walk the node layout's folders.
  for (const std::string sub : {"", storage::NodeStorage::kLogDir, storage::NodeStorage::kSnapshotDir}) {
    const std::string folder = sub.empty() ? dir : absl::StrCat(dir, "/", sub);
    absl::StatusOr<std::vector<std::string>> names = fs.list(folder);
    if (!names.ok()) return names.status();
    for (const std::string& name : *names) {
      absl::StatusOr<std::unique_ptr<storage::File>> file =
          fs.open(absl::StrCat(folder, "/", name), storage::OpenMode::kExisting);
      if (!file.ok()) return file.status();
      absl::StatusOr<uint64_t> size = (*file)->size();
      if (!size.ok()) return size.status();
      absl::StatusOr<std::string> bytes = (*file)->read_at(0, *size);
      if (!bytes.ok()) return bytes.status();
      files[sub.empty() ? name : absl::StrCat(sub, "/", name)] = std::move(*bytes);
    }
  }
  return files;
}

}  // namespace reef::testing
