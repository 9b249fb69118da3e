// Existing data directories stay readable: fixtures/data_dir_v1 was written
// by an earlier commit (fixtures/README.md). Today's code must recover it
// exactly (hard state, log entries, snapshot meta and configuration) and
// restore the state-machine snapshot stream inside its snapshot file; and it
// must write the same history again byte for byte as the newest fixture
// (every on-disk format: log record, hard state slot, snapshot file,
// snapshot stream and the database image inside it).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sim/sim_file_system.h"
#include "statemachine/sql_state_machine.h"
#include "storage/node_storage.h"
#include "storage/snapshot_store.h"
#include "tests/encoding/data_dir_fixture.h"

namespace reef::testing {
namespace {

constexpr char kNodeDir[] = "node";

// The oldest fixture, which must stay readable, and the newest, which
// today's code writes byte for byte.
constexpr char kOldestFixture[] = REEF_DATA_DIR_FIXTURE;
constexpr char kNewestFixture[] = REEF_DATA_DIR_FIXTURE_NEWEST;

std::map<std::string, std::string> fixture_files(const char* dir = kOldestFixture) {
  std::map<std::string, std::string> files;
  const std::filesystem::path root = dir;
  for (const auto& item : std::filesystem::recursive_directory_iterator(root)) {
    if (!item.is_regular_file()) continue;
    std::ifstream in(item.path(), std::ios::binary);
    files[std::filesystem::relative(item.path(), root).generic_string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return files;
}

// The fixture, copied into a SimFileSystem as a node directory.
void load_fixture(sim::SimFileSystem& fs, const char* dir = kOldestFixture) {
  for (const auto& [name, bytes] : fixture_files(dir)) {
    const std::string path = absl::StrCat(kNodeDir, "/", name);
    ASSERT_TRUE(fs.create_dir(storage::parent_dir(path)).ok());
    auto file = fs.open(path, storage::OpenMode::kCreateNew);
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_TRUE((*file)->append(bytes).ok());
    ASSERT_TRUE((*file)->sync().ok());
    ASSERT_TRUE(fs.sync_dir(storage::parent_dir(path)).ok());
  }
}

std::vector<std::string> names(const std::map<std::string, std::string>& files) {
  std::vector<std::string> out;
  for (const auto& [name, bytes] : files) out.push_back(name);
  return out;
}

// The snapshot file's data: the state machine's snapshot stream.
std::string snapshot_stream(storage::NodeStorage& node) {
  auto reader = node.snapshots().open_reader();
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return "";
  std::string stream;
  for (;;) {
    auto chunk = (*reader)->next();
    EXPECT_TRUE(chunk.ok()) << chunk.status();
    if (!chunk.ok() || !chunk->has_value()) return stream;
    stream += (*chunk)->data;
  }
}

TEST(DataDirFixture, IsSmallAndComplete) {
  const std::map<std::string, std::string> files = fixture_files();
  uint64_t bytes = 0;
  for (const auto& [name, content] : files) bytes += content.size();
  EXPECT_LT(bytes, 256u << 10);
  EXPECT_TRUE(files.contains("hard_state"));
  EXPECT_TRUE(files.contains(absl::StrCat("snapshots/", storage::SnapshotStore::file_name(
                                                            fixture_snapshot_meta().index,
                                                            fixture_snapshot_meta().term))));
  int segments = 0;
  for (const auto& [name, content] : files) segments += name.starts_with("log/") ? 1 : 0;
  EXPECT_GE(segments, 2);
}

TEST(DataDirFixture, NodeStorageRecoversIt) {
  sim::SimFileSystem fs(1);
  load_fixture(fs);
  auto node = storage::NodeStorage::open(fs, kNodeDir, fixture_storage_options());
  ASSERT_TRUE(node.ok()) << node.status();
  const storage::Recovery& recovery = (*node)->recovery();
  EXPECT_FALSE(recovery.fresh);
  EXPECT_EQ(recovery.hard_state, fixture_hard_state());
  ASSERT_TRUE(recovery.snapshot.has_value());
  EXPECT_EQ(recovery.snapshot->meta, fixture_snapshot_meta());
  std::vector<raft::LogEntry> expected;
  for (uint64_t i = 7; i <= 10; ++i) expected.push_back(fixture_entry(i));
  EXPECT_EQ(recovery.entries, expected);
  EXPECT_EQ((*node)->hard_state().warnings(), std::vector<std::string>{});
  EXPECT_EQ((*node)->snapshots().warnings(), std::vector<std::string>{});
}

// The fixture predates node identities: the server adopts it, recovering
// exactly the same state, and remembers who adopted it.
TEST(DataDirFixture, TheServerAdoptsItUnderItsConfiguredIdentity) {
  sim::SimFileSystem fs(1);
  load_fixture(fs);
  storage::NodeStorageOptions options = fixture_storage_options();
  options.identity = storage::IdentityClaim{99, "reefdb", raft::NodeId(2), 0x5eed};
  auto node = storage::NodeStorage::open(fs, kNodeDir, options);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ((*node)->recovery().hard_state, fixture_hard_state());
  ASSERT_EQ((*node)->recovery().notes.size(), 1u);
  EXPECT_NE((*node)->recovery().notes[0].find("adopted it as node 2 of cluster 'reefdb'"), std::string::npos)
      << (*node)->recovery().notes[0];
  auto identity = storage::read_node_identity(fs, kNodeDir);
  ASSERT_TRUE(identity.ok() && identity->has_value());
  EXPECT_EQ(**identity, (storage::NodeIdentity{99, "reefdb", raft::NodeId(2), 0x5eed}));
}

TEST(DataDirFixture, StateMachineRestoresItsSnapshotStream) {
  sim::SimFileSystem fs(1);
  load_fixture(fs);
  auto node = storage::NodeStorage::open(fs, kNodeDir, fixture_storage_options());
  ASSERT_TRUE(node.ok()) << node.status();
  auto sm = statemachine::SqlStateMachine::create();
  ASSERT_TRUE(sm.ok()) << sm.status();
  auto restore = (*sm)->begin_restore();
  ASSERT_TRUE(restore.ok()) << restore.status();
  ASSERT_TRUE((*restore)->add_chunk(snapshot_stream(**node)).ok());
  auto meta = (*restore)->finish();
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(*meta, fixture_snapshot_meta());
  EXPECT_EQ((*sm)->applied().index, fixture_snapshot_meta().index);

  auto result = (*sm)->run_query(kFixtureQuery);
  ASSERT_TRUE(result.ok()) << result.status();
  std::string rows;
  for (const statemachine::Row& row : result->rows) {
    ASSERT_EQ(row.size(), 2u);
    absl::StrAppend(&rows, std::get<int64_t>(row[0]), "|", std::get<std::string>(row[1]), ";");
  }
  EXPECT_EQ(rows, kFixtureRows);
}

// The same history written by today's code gives the same bytes, file by
// file: the log segments, both hard-state slots, the snapshot file and the
// state-machine snapshot stream inside it. (The stream holds SQLite's
// database image and version string: a different SQLite library writes a
// different image, which the test reports as such.)
TEST(DataDirFixture, TodaysCodeWritesTheSameBytes) {
  sim::SimFileSystem fs(1);
  ASSERT_TRUE(write_fixture_node(fs, kNodeDir).ok());
  auto written = read_tree(fs, kNodeDir);
  ASSERT_TRUE(written.ok()) << written.status();
  const std::map<std::string, std::string> fixture = fixture_files(kNewestFixture);
  ASSERT_EQ(names(*written), names(fixture));
  for (const auto& [name, bytes] : fixture) {
    EXPECT_TRUE(written->at(name) == bytes) << name << " differs from the fixture";
  }
}

// Re-encoding what was decoded gives the newest fixture's bytes: the snapshot file
// written again from its recovered meta and data, and the snapshot stream
// taken again from the state machine restored from it.
TEST(DataDirFixture, ReencodingTheDecodedSnapshotGivesTheSameBytes) {
  sim::SimFileSystem fs(1);
  load_fixture(fs, kNewestFixture);
  auto node = storage::NodeStorage::open(fs, kNodeDir, fixture_storage_options());
  ASSERT_TRUE(node.ok()) << node.status();
  const std::string stream = snapshot_stream(**node);
  const raft::SnapshotMeta meta = (*node)->recovery().snapshot->meta;

  sim::SimFileSystem again(2);
  auto store = storage::SnapshotStore::open(&again, "snapshots", fixture_storage_options().snapshots);
  ASSERT_TRUE(store.ok()) << store.status();
  auto writer = (*store)->begin(meta);
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (size_t offset = 0; offset < stream.size(); offset += 5000) {
    ASSERT_TRUE((*writer)->add_chunk(absl::string_view(stream).substr(offset, 5000)).ok());
  }
  ASSERT_TRUE((*writer)->finish().ok());
  const std::string name = storage::SnapshotStore::file_name(meta.index, meta.term);
  EXPECT_TRUE(*again.contents(absl::StrCat("snapshots/", name)) ==
              fixture_files(kNewestFixture).at(absl::StrCat("snapshots/", name)));

  auto sm = statemachine::SqlStateMachine::create();
  ASSERT_TRUE(sm.ok()) << sm.status();
  auto restore = (*sm)->begin_restore();
  ASSERT_TRUE(restore.ok());
  ASSERT_TRUE((*restore)->add_chunk(stream).ok());
  ASSERT_TRUE((*restore)->finish().ok());
  auto snapshot = (*sm)->snapshot(meta.configuration);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  std::string retaken;
  for (;;) {
    auto chunk = (*snapshot)->next_chunk(1 << 20);
    ASSERT_TRUE(chunk.ok()) << chunk.status();
    if (!chunk->has_value()) break;
    retaken += **chunk;
  }
  EXPECT_TRUE(retaken == stream) << "the snapshot stream re-encoded differs";
}

}  // namespace
}  // namespace reef::testing
