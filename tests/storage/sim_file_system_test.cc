// What only SimFileSystem does: keep durable state apart from written state,
// lose the unsynced part on crash(), tear writes, and inject EIO, ENOSPC and
// bit flips, all decided by its seed. The crash-consistency suites of the log,
// hard-state and snapshot stores trust these behaviours, so each is pinned
// here against the durability model in storage/file_system.h. Behaviour the
// simulator shares with the real file system is in file_system_test.cc.
#include "sim/sim_file_system.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "raft/core/random.h"

namespace reef::sim {
namespace {

using storage::File;
using storage::OpenMode;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kDir = "/data";

class SimFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fs_.create_dir(kDir).ok()); }

  static std::string at(absl::string_view name) { return storage::join_path(kDir, name); }

  std::unique_ptr<File> open(const std::string& path, OpenMode mode = OpenMode::kCreate) {
    return open_in(fs_, path, mode);
  }

  static std::unique_ptr<File> open_in(SimFileSystem& fs, const std::string& path, OpenMode mode) {
    absl::StatusOr<std::unique_ptr<File>> file = fs.open(path, mode);
    EXPECT_TRUE(file.ok()) << file.status();
    return file.ok() ? std::move(*file) : nullptr;
  }

  // The file's bytes, or "<missing>" so a vanished file reads differently
  // from an empty one.
  std::string contents(const std::string& path) const {
    absl::StatusOr<std::string> data = fs_.contents(path);
    return data.ok() ? *data : "<missing>";
  }

  // Writes `data` as the file's durable contents under a durable name.
  void write_durable(const std::string& path, absl::string_view data) {
    std::unique_ptr<File> file = open(path);
    ASSERT_NE(file, nullptr);
    ASSERT_TRUE(file->truncate(0).ok());
    ASSERT_TRUE(file->append(data).ok());
    ASSERT_TRUE(file->sync().ok());
    ASSERT_TRUE(fs_.sync_dir(storage::parent_dir(path)).ok());
  }

  std::vector<std::string> names(const std::string& dir) {
    absl::StatusOr<std::vector<std::string>> listed = fs_.list(dir);
    EXPECT_TRUE(listed.ok()) << listed.status();
    return listed.ok() ? *listed : std::vector<std::string>{};
  }

  SimFileSystem fs_{1};
};

// ---- crash: data ----------------------------------------------------------------

TEST_F(SimFileSystemTest, CrashLosesUnsyncedAppends) {
  write_durable(at("log"), "synced|");
  std::unique_ptr<File> file = open(at("log"));
  ASSERT_TRUE(file->append("unsynced").ok());
  EXPECT_EQ(contents(at("log")), "synced|unsynced");
  fs_.crash();
  EXPECT_EQ(contents(at("log")), "synced|");
  EXPECT_EQ(fs_.stats().crashes, 1u);
}

TEST_F(SimFileSystemTest, SyncedDataSurvivesRepeatedCrashes) {
  write_durable(at("log"), "one");
  fs_.crash();
  std::unique_ptr<File> file = open(at("log"), OpenMode::kExisting);
  ASSERT_TRUE(file->append(",two").ok());
  ASSERT_TRUE(file->sync().ok());
  ASSERT_TRUE(file->append(",lost").ok());
  fs_.crash();
  fs_.crash();
  EXPECT_EQ(contents(at("log")), "one,two");
}

TEST_F(SimFileSystemTest, CrashUndoesUnsyncedOverwriteAndTruncate) {
  write_durable(at("f"), "abcdef");
  std::unique_ptr<File> file = open(at("f"));
  ASSERT_TRUE(file->write_at(0, "XY").ok());
  ASSERT_TRUE(file->truncate(3).ok());
  EXPECT_EQ(contents(at("f")), "XYc");
  fs_.crash();
  EXPECT_EQ(contents(at("f")), "abcdef");

  file = open(at("f"));
  ASSERT_TRUE(file->truncate(2).ok());
  ASSERT_TRUE(file->sync().ok());
  fs_.crash();
  EXPECT_EQ(contents(at("f")), "ab");
}

TEST_F(SimFileSystemTest, CrashUndoesUnsyncedAllocate) {
  write_durable(at("seg"), "records");
  std::unique_ptr<File> file = open(at("seg"));
  ASSERT_TRUE(file->allocate(64).ok());
  fs_.crash();
  EXPECT_EQ(contents(at("seg")), "records");

  file = open(at("seg"));
  ASSERT_TRUE(file->allocate(64).ok());
  ASSERT_TRUE(file->sync().ok());
  fs_.crash();
  EXPECT_EQ(contents(at("seg")), "records" + std::string(64 - 7, '\0'));
}

TEST_F(SimFileSystemTest, FailedSyncLeavesDataNonDurable) {
  write_durable(at("f"), "old");
  std::unique_ptr<File> file = open(at("f"));
  ASSERT_TRUE(file->append("+new").ok());
  fs_.set_faults({.fail_sync_call = fs_.stats().syncs + 1});
  const absl::Status failed = file->sync();
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(failed.message()), HasSubstr(at("f")));
  fs_.crash();
  EXPECT_EQ(contents(at("f")), "old");
}

// ---- crash: names ----------------------------------------------------------------

TEST_F(SimFileSystemTest, FileSyncedButDirectoryNotSyncedDisappears) {
  std::unique_ptr<File> file = open(at("new.seg"), OpenMode::kCreateNew);
  ASSERT_TRUE(file->append("entries").ok());
  ASSERT_TRUE(file->sync().ok());
  fs_.crash();
  EXPECT_FALSE(*fs_.exists(at("new.seg")));
  EXPECT_THAT(names(kDir), IsEmpty());
  EXPECT_EQ(fs_.open(at("new.seg"), OpenMode::kExisting).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SimFileSystemTest, DirectorySyncedButFileNotSyncedIsEmpty) {
  std::unique_ptr<File> file = open(at("new.seg"), OpenMode::kCreateNew);
  ASSERT_TRUE(file->append("entries").ok());
  ASSERT_TRUE(fs_.sync_dir(kDir).ok());
  fs_.crash();
  EXPECT_EQ(contents(at("new.seg")), "");
}

TEST_F(SimFileSystemTest, SyncDirCoversOnlyItsOwnDirectory) {
  ASSERT_TRUE(fs_.create_dir("/other").ok());
  for (const std::string& p : {at("kept"), std::string("/other/lost")}) {
    std::unique_ptr<File> file = open(p);
    ASSERT_TRUE(file->append("x").ok());
    ASSERT_TRUE(file->sync().ok());
  }
  ASSERT_TRUE(fs_.sync_dir(kDir).ok());
  fs_.crash();
  EXPECT_EQ(contents(at("kept")), "x");
  EXPECT_EQ(contents("/other/lost"), "<missing>");
  // Files in subdirectories are not children of the synced directory.
  ASSERT_TRUE(fs_.create_dir(at("sub")).ok());
  std::unique_ptr<File> deep = open(at("sub/deep"));
  ASSERT_TRUE(deep->sync().ok());
  ASSERT_TRUE(fs_.sync_dir(kDir).ok());
  fs_.crash();
  EXPECT_EQ(contents(at("sub/deep")), "<missing>");
}

TEST_F(SimFileSystemTest, SyncDirWithTrailingSlashMakesNamesDurable) {
  std::unique_ptr<File> file = open(at("f"));
  ASSERT_TRUE(file->append("x").ok());
  ASSERT_TRUE(file->sync().ok());
  ASSERT_TRUE(fs_.sync_dir(std::string(kDir) + "/").ok());
  fs_.crash();
  EXPECT_EQ(contents(at("f")), "x");
  EXPECT_THAT(names(std::string(kDir) + "//"), ElementsAre("f"));
}

TEST_F(SimFileSystemTest, RenameIsNotDurableUntilSyncDir) {
  write_durable(at("snap.tmp"), "image");
  ASSERT_TRUE(fs_.rename(at("snap.tmp"), at("snap")).ok());
  fs_.crash();
  EXPECT_EQ(contents(at("snap.tmp")), "image");
  EXPECT_EQ(contents(at("snap")), "<missing>");

  ASSERT_TRUE(fs_.rename(at("snap.tmp"), at("snap")).ok());
  ASSERT_TRUE(fs_.sync_dir(kDir).ok());
  fs_.crash();
  EXPECT_EQ(contents(at("snap.tmp")), "<missing>");
  EXPECT_EQ(contents(at("snap")), "image");
}

TEST_F(SimFileSystemTest, ReplacingRenameIsNotDurableUntilSyncDir) {
  write_durable(at("hard_state"), "old");
  write_durable(at("hard_state.tmp"), "new");
  ASSERT_TRUE(fs_.rename(at("hard_state.tmp"), at("hard_state")).ok());
  EXPECT_EQ(contents(at("hard_state")), "new");
  fs_.crash();
  EXPECT_EQ(contents(at("hard_state")), "old");
  EXPECT_EQ(contents(at("hard_state.tmp")), "new");

  ASSERT_TRUE(fs_.rename(at("hard_state.tmp"), at("hard_state")).ok());
  ASSERT_TRUE(fs_.sync_dir(kDir).ok());
  fs_.crash();
  EXPECT_EQ(contents(at("hard_state")), "new");
  EXPECT_THAT(names(kDir), ElementsAre("hard_state"));
}

TEST_F(SimFileSystemTest, RenameAcrossDirectoriesIsDurableWithTheTargetDirectory) {
  ASSERT_TRUE(fs_.create_dir("/archive").ok());
  write_durable(at("seg"), "bytes");
  ASSERT_TRUE(fs_.rename(at("seg"), "/archive/seg").ok());
  ASSERT_TRUE(fs_.sync_dir("/archive").ok());
  fs_.crash();
  // One name, not two: the rename moved the file, it did not copy it.
  EXPECT_EQ(contents("/archive/seg"), "bytes");
  EXPECT_EQ(contents(at("seg")), "<missing>");
}

TEST_F(SimFileSystemTest, RemoveIsNotDurableUntilSyncDir) {
  write_durable(at("old.seg"), "compacted");
  ASSERT_TRUE(fs_.remove(at("old.seg")).ok());
  EXPECT_FALSE(*fs_.exists(at("old.seg")));
  fs_.crash();
  EXPECT_EQ(contents(at("old.seg")), "compacted");

  ASSERT_TRUE(fs_.remove(at("old.seg")).ok());
  ASSERT_TRUE(fs_.sync_dir(kDir).ok());
  fs_.crash();
  EXPECT_EQ(contents(at("old.seg")), "<missing>");
}

TEST_F(SimFileSystemTest, RemovedAndRecreatedNameCrashesBackToTheDurableFile) {
  write_durable(at("f"), "durable");
  ASSERT_TRUE(fs_.remove(at("f")).ok());
  std::unique_ptr<File> file = open(at("f"), OpenMode::kCreateNew);
  ASSERT_TRUE(file->append("replacement").ok());
  ASSERT_TRUE(file->sync().ok());
  fs_.crash();
  EXPECT_EQ(contents(at("f")), "durable");
}

TEST_F(SimFileSystemTest, DirectoriesSurviveCrashes) {
  ASSERT_TRUE(fs_.create_dir("/a/b/c").ok());
  fs_.crash();
  EXPECT_TRUE(*fs_.exists("/a/b/c"));
  EXPECT_TRUE(fs_.open("/a/b/c/f", OpenMode::kCreate).ok());
}

TEST_F(SimFileSystemTest, StaleHandlesFailAfterCrash) {
  write_durable(at("f"), "durable");
  std::unique_ptr<File> stale = open(at("f"));
  fs_.crash();
  const std::string p = at("f");
  auto expect_stale = [&](const absl::Status& s) {
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(p));
    EXPECT_THAT(std::string(s.message()), HasSubstr("crash"));
  };
  expect_stale(stale->append("x"));
  expect_stale(stale->write_at(0, "x"));
  expect_stale(stale->read_at(0, 1).status());
  expect_stale(stale->sync());
  expect_stale(stale->truncate(0));
  expect_stale(stale->size().status());
  EXPECT_EQ(stale->path(), p);
  EXPECT_EQ(contents(p), "durable");
  std::unique_ptr<File> fresh = open(p, OpenMode::kExisting);
  EXPECT_EQ(*fresh->read_at(0, 100), "durable");
}

// ---- torn writes -------------------------------------------------------------------

// A byte pattern that never matches the old bytes ('o') or zeros, so the
// surviving part of a write can be measured exactly.
std::string pattern(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>('A' + i % 26);
  return out;
}

// Splits `kept` bytes of a write at `offset` into the disk sectors the write
// completed and the bytes that reached the next, partly written, sector.
struct Cut {
  uint64_t whole_sectors;
  uint64_t partial_bytes;
};
Cut decompose(uint64_t offset, uint64_t size, uint64_t kept) {
  const uint64_t kSector = SimFileSystem::kSectorBytes;
  Cut cut{0, 0};
  uint64_t pos = offset;
  while (pos < offset + kept) {
    const uint64_t sector_end = std::min(offset + size, (pos / kSector + 1) * kSector);
    if (offset + kept >= sector_end) {
      ++cut.whole_sectors;
      pos = sector_end;
    } else {
      cut.partial_bytes = offset + kept - pos;
      pos = offset + kept;
    }
  }
  return cut;
}

TEST(SimTornWriteTest, TornAppendLeavesASectorPrefixPlusAPartialSector) {
  constexpr uint64_t kOld = 700;
  constexpr uint64_t kNew = 1500;
  const std::string fresh = pattern(kNew);
  std::set<std::string> outcomes;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    SimFileSystem fs(seed);
    fs.set_faults({.torn_writes = true});
    {
      std::unique_ptr<File> file = *fs.open("seg", OpenMode::kCreate);
      ASSERT_TRUE(file->append(std::string(kOld, 'o')).ok());
      ASSERT_TRUE(file->sync().ok());
      ASSERT_TRUE(fs.sync_dir(".").ok());
      ASSERT_TRUE(file->append(fresh).ok());
    }
    fs.crash();
    const std::string data = *fs.contents("seg");
    ASSERT_GE(data.size(), kOld) << "seed " << seed;
    ASSERT_LE(data.size(), kOld + kNew) << "seed " << seed;
    EXPECT_EQ(data.substr(0, kOld), std::string(kOld, 'o')) << "seed " << seed;
    const uint64_t kept = data.size() - kOld;
    EXPECT_EQ(data.substr(kOld), fresh.substr(0, kept)) << "seed " << seed << ": not a prefix of the write";
    EXPECT_EQ(fs.stats().torn_writes, kept > 0 ? 1u : 0u);
    const Cut cut = decompose(kOld, kNew, kept);
    EXPECT_LT(cut.partial_bytes, SimFileSystem::kSectorBytes);
    // The write touches four disk sectors: [512,1024) ... [2048,2560).
    EXPECT_LE(cut.whole_sectors, 4u);
    if (kept == 0) outcomes.insert("nothing");
    if (kept == kNew) outcomes.insert("everything");
    if (cut.partial_bytes > 0) outcomes.insert(absl::StrCat("partial sector after ", cut.whole_sectors));
  }
  // Every shape of tear shows up across the seeds. (Nothing surviving needs
  // no whole sector and an empty partial one, about 1 in 1600 here; crashes
  // without torn_writes cover that case.)
  EXPECT_THAT(outcomes,
              ::testing::IsSupersetOf({"everything", "partial sector after 0", "partial sector after 1",
                                       "partial sector after 2", "partial sector after 3"}));
}

// The cut follows the disk's sectors (absolute offsets), not the write's own
// 512-byte blocks: a write starting 12 bytes before a sector boundary has its
// first "sector" 12 bytes long, so a quarter of tears keep fewer than 12 bytes.
TEST(SimTornWriteTest, TearsFollowDiskSectorBoundaries) {
  constexpr uint64_t kOffset = 500;  // 12 bytes before the boundary at 512
  constexpr uint64_t kNew = 600;     // touches sectors 0, 1 and 2
  int within_first_sector = 0;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    SimFileSystem fs(seed);
    fs.set_faults({.torn_writes = true});
    {
      std::unique_ptr<File> file = *fs.open("f", OpenMode::kCreate);
      ASSERT_TRUE(file->sync().ok());
      ASSERT_TRUE(fs.sync_dir(".").ok());
      ASSERT_TRUE(file->write_at(kOffset, pattern(kNew)).ok());
    }
    fs.crash();
    const std::string data = *fs.contents("f");
    const uint64_t kept = data.size() <= kOffset ? 0 : data.size() - kOffset;
    ASSERT_LE(kept, kNew);
    EXPECT_EQ(data.substr(0, std::min<uint64_t>(data.size(), kOffset)),
              std::string(std::min<uint64_t>(data.size(), kOffset), '\0'));
    if (kept > 0) {
      EXPECT_EQ(data.substr(kOffset), pattern(kNew).substr(0, kept)) << "seed " << seed;
    }
    if (kept < 12) ++within_first_sector;
  }
  EXPECT_GT(within_first_sector, 60);  // about 100 expected: one tear in four
  EXPECT_LT(within_first_sector, 140);
}

TEST(SimTornWriteTest, TornOverwriteKeepsTheOldBytesAfterTheCut) {
  constexpr uint64_t kOffset = 1000;
  constexpr uint64_t kNew = 2000;
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    SimFileSystem fs(seed);
    fs.set_faults({.torn_writes = true});
    {
      std::unique_ptr<File> file = *fs.open("f", OpenMode::kCreate);
      ASSERT_TRUE(file->append(std::string(4096, 'o')).ok());
      ASSERT_TRUE(file->sync().ok());
      ASSERT_TRUE(fs.sync_dir(".").ok());
      ASSERT_TRUE(file->write_at(kOffset, pattern(kNew)).ok());
    }
    fs.crash();
    const std::string data = *fs.contents("f");
    ASSERT_EQ(data.size(), 4096u) << "seed " << seed;
    EXPECT_EQ(data.substr(0, kOffset), std::string(kOffset, 'o'));
    uint64_t kept = 0;
    while (kept < kNew && data[kOffset + kept] != 'o') ++kept;
    EXPECT_EQ(data.substr(kOffset, kept), pattern(kNew).substr(0, kept)) << "seed " << seed;
    EXPECT_EQ(data.substr(kOffset + kept), std::string(4096 - kOffset - kept, 'o')) << "seed " << seed;
  }
}

TEST(SimTornWriteTest, OnlyTheLastUnsyncedWriteCanSurvive) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    SimFileSystem fs(seed);
    fs.set_faults({.torn_writes = true});
    {
      std::unique_ptr<File> file = *fs.open("f", OpenMode::kCreate);
      ASSERT_TRUE(fs.sync_dir(".").ok());
      ASSERT_TRUE(file->append(std::string(600, 'a')).ok());
      ASSERT_TRUE(file->append(std::string(600, 'b')).ok());
    }
    fs.crash();
    const std::string data = *fs.contents("f");
    if (data.empty()) continue;
    // The first write is lost: its range reads as zeros under the torn second.
    ASSERT_GT(data.size(), 600u);
    EXPECT_EQ(data.substr(0, 600), std::string(600, '\0')) << "seed " << seed;
    EXPECT_EQ(data.substr(600), std::string(data.size() - 600, 'b')) << "seed " << seed;
  }
}

TEST(SimTornWriteTest, SyncedWritesNeverTear) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    SimFileSystem fs(seed);
    fs.set_faults({.torn_writes = true});
    {
      std::unique_ptr<File> file = *fs.open("f", OpenMode::kCreate);
      ASSERT_TRUE(file->append(pattern(3000)).ok());
      ASSERT_TRUE(file->sync().ok());
      ASSERT_TRUE(fs.sync_dir(".").ok());
    }
    fs.crash();
    EXPECT_EQ(*fs.contents("f"), pattern(3000));
    EXPECT_EQ(fs.stats().torn_writes, 0u);
  }
}

TEST(SimTornWriteTest, WithoutTornWritesUnsyncedWritesVanishWhole) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    SimFileSystem fs(seed);
    {
      std::unique_ptr<File> file = *fs.open("f", OpenMode::kCreate);
      ASSERT_TRUE(file->sync().ok());
      ASSERT_TRUE(fs.sync_dir(".").ok());
      ASSERT_TRUE(file->append(pattern(3000)).ok());
    }
    fs.crash();
    EXPECT_EQ(*fs.contents("f"), "");
  }
}

// ---- injected EIO ------------------------------------------------------------------

TEST_F(SimFileSystemTest, NthReadFails) {
  write_durable(at("f"), "data");
  std::unique_ptr<File> file = open(at("f"));
  fs_.set_faults({.fail_read_call = fs_.stats().reads + 3});
  EXPECT_TRUE(file->read_at(0, 4).ok());
  EXPECT_TRUE(file->read_at(0, 4).ok());
  const absl::Status third = file->read_at(0, 4).status();
  EXPECT_EQ(third.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(third.message()), HasSubstr(at("f")));
  EXPECT_THAT(std::string(third.message()), HasSubstr("EIO"));
  EXPECT_EQ(*file->read_at(0, 4), "data");
  EXPECT_EQ(fs_.stats().injected_errors, 1u);
}

TEST_F(SimFileSystemTest, NthWriteFailsAndChangesNothing) {
  std::unique_ptr<File> file = open(at("f"));
  fs_.set_faults({.fail_write_call = fs_.stats().writes + 2});
  ASSERT_TRUE(file->append("a").ok());
  const absl::Status second = file->append("b");
  EXPECT_EQ(second.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(second.message()), HasSubstr(at("f")));
  EXPECT_EQ(contents(at("f")), "a");
  ASSERT_TRUE(file->append("c").ok());
  EXPECT_EQ(contents(at("f")), "ac");
}

TEST_F(SimFileSystemTest, TruncateCountsAsAWrite) {
  write_durable(at("f"), "abcdef");
  std::unique_ptr<File> file = open(at("f"));
  fs_.set_faults({.fail_write_call = fs_.stats().writes + 1});
  EXPECT_EQ(file->truncate(1).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(*file->size(), 6u);
}

TEST_F(SimFileSystemTest, NthSyncCountsDirectorySyncs) {
  std::unique_ptr<File> file = open(at("f"));
  ASSERT_TRUE(file->append("x").ok());
  fs_.set_faults({.fail_sync_call = fs_.stats().syncs + 2});
  ASSERT_TRUE(file->sync().ok());
  const absl::Status dir_sync = fs_.sync_dir(kDir);
  EXPECT_EQ(dir_sync.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(dir_sync.message()), HasSubstr(kDir));
  fs_.crash();
  EXPECT_EQ(contents(at("f")), "<missing>");
}

// The failure pattern of `calls` reads with `per_million`, as a string of
// '.' (ok) and 'X' (EIO).
std::string read_failures(uint64_t seed, uint32_t per_million, int calls) {
  SimFileSystem fs(seed);
  std::unique_ptr<File> file = *fs.open("f", OpenMode::kCreate);
  fs.set_faults({.read_error_per_million = per_million});
  std::string out;
  for (int i = 0; i < calls; ++i) out.push_back(file->read_at(0, 1).ok() ? '.' : 'X');
  return out;
}

TEST(SimFaultTest, ReadErrorsByProbabilityAreDeterministicPerSeed) {
  const std::string a = read_failures(7, 250000, 2000);
  const auto failures = std::count(a.begin(), a.end(), 'X');
  EXPECT_GT(failures, 400);  // 500 expected
  EXPECT_LT(failures, 600);
  EXPECT_EQ(read_failures(7, 250000, 2000), a);
  EXPECT_NE(read_failures(8, 250000, 2000), a);
}

TEST(SimFaultTest, WriteAndSyncErrorsByProbability) {
  SimFileSystem fs(3);
  std::unique_ptr<File> file = *fs.open("f", OpenMode::kCreate);
  fs.set_faults({.write_error_per_million = 500000, .sync_error_per_million = 500000});
  int write_failures = 0;
  int sync_failures = 0;
  std::string expected;
  for (int i = 0; i < 400; ++i) {
    const std::string byte(1, static_cast<char>('a' + i % 26));
    if (file->append(byte).ok()) {
      expected += byte;
    } else {
      ++write_failures;
    }
    if (!file->sync().ok()) ++sync_failures;
  }
  EXPECT_GT(write_failures, 150);
  EXPECT_LT(write_failures, 250);
  EXPECT_GT(sync_failures, 150);
  EXPECT_LT(sync_failures, 250);
  EXPECT_EQ(*fs.contents("f"), expected);  // failed writes left nothing behind
  EXPECT_EQ(fs.stats().injected_errors, static_cast<uint64_t>(write_failures + sync_failures));
}

TEST(SimFaultTest, ProbabilityAtOrAboveOneMeansAlways) {
  EXPECT_EQ(read_failures(1, 1000000, 50), std::string(50, 'X'));
  EXPECT_EQ(read_failures(1, 5000000, 50), std::string(50, 'X'));
  EXPECT_EQ(read_failures(1, 0, 50), std::string(50, '.'));
}

// ---- ENOSPC --------------------------------------------------------------------------

TEST_F(SimFileSystemTest, WritesPastTheByteBudgetFailWithResourceExhausted) {
  fs_.set_faults({.byte_budget = 1000});
  std::unique_ptr<File> a = open(at("a"));
  std::unique_ptr<File> b = open(at("b"));
  ASSERT_TRUE(a->append(std::string(600, 'a')).ok());
  const absl::Status full = b->append(std::string(500, 'b'));
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(full.message()), HasSubstr(at("b")));
  EXPECT_THAT(std::string(full.message()), HasSubstr("ENOSPC"));
  EXPECT_EQ(*b->size(), 0u);
  ASSERT_TRUE(b->append(std::string(400, 'b')).ok());       // exactly at the budget
  EXPECT_TRUE(a->write_at(0, std::string(600, 'A')).ok());  // in place: no new space
  EXPECT_EQ(a->append("x").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(b->truncate(401).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(b->write_at(400, "x").code(), absl::StatusCode::kResourceExhausted);
  // Shrinking and removing give space back.
  ASSERT_TRUE(a->truncate(100).ok());
  EXPECT_TRUE(b->append(std::string(500, 'b')).ok());
  ASSERT_TRUE(fs_.remove(at("b")).ok());
  EXPECT_TRUE(a->append(std::string(800, 'a')).ok());
}

TEST_F(SimFileSystemTest, OpenRemovedFileStillCountsAgainstTheBudgetWhenGrowing) {
  fs_.set_faults({.byte_budget = 100});
  std::unique_ptr<File> a = open(at("a"));
  ASSERT_TRUE(a->append(std::string(80, 'a')).ok());
  ASSERT_TRUE(fs_.remove(at("a")).ok());
  EXPECT_EQ(a->append(std::string(30, 'a')).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(a->append(std::string(20, 'a')).ok());
}

TEST_F(SimFileSystemTest, FilesPastTheSimulatorLimitAreOutOfRange) {
  std::unique_ptr<File> file = open(at("f"));
  const absl::Status too_far = file->write_at(SimFileSystem::kMaxFileBytes, "x");
  EXPECT_EQ(too_far.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(too_far.message()), HasSubstr(at("f")));
  EXPECT_EQ(file->truncate(SimFileSystem::kMaxFileBytes + 1).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(*file->size(), 0u);
}

// ---- bit flips -------------------------------------------------------------------------

int differing_bits(const std::string& a, const std::string& b) {
  EXPECT_EQ(a.size(), b.size());
  int bits = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    bits += std::popcount(static_cast<unsigned>(static_cast<unsigned char>(a[i] ^ b[i])));
  }
  return bits;
}

TEST_F(SimFileSystemTest, FlipBitChangesExactlyOneBitDurably) {
  const std::string original = pattern(1024);
  write_durable(at("seg"), original);
  ASSERT_TRUE(fs_.flip_bit(at("seg"), 700, 3).ok());
  const std::string flipped = contents(at("seg"));
  EXPECT_EQ(differing_bits(original, flipped), 1);
  EXPECT_EQ(flipped[700], static_cast<char>(original[700] ^ 0x08));
  fs_.crash();
  EXPECT_EQ(contents(at("seg")), flipped);  // media damage survives a restart
  ASSERT_TRUE(fs_.flip_bit(at("seg"), 700, 3).ok());
  EXPECT_EQ(contents(at("seg")), original);
  EXPECT_EQ(fs_.stats().bit_flips, 2u);
}

TEST_F(SimFileSystemTest, FlipBitRejectsWhatIsNotThere) {
  write_durable(at("seg"), "abc");
  EXPECT_EQ(fs_.flip_bit(at("missing"), 0, 0).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fs_.flip_bit(at("seg"), 3, 0).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(fs_.flip_bit(at("seg"), 0, 8).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(fs_.flip_bit(at("seg"), 0, -1).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(contents(at("seg")), "abc");
  EXPECT_EQ(fs_.stats().bit_flips, 0u);
}

TEST(SimFlipTest, FlipRandomBitChangesExactlyOneBitInOneFile) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    SimFileSystem fs(seed);
    EXPECT_FALSE(fs.flip_random_bit());  // nothing to damage yet
    std::vector<std::string> files = {"a", "b", "c"};
    for (size_t i = 0; i < files.size(); ++i) {
      std::unique_ptr<File> file = *fs.open(files[i], OpenMode::kCreate);
      ASSERT_TRUE(file->append(pattern(100 * (i + 1))).ok());
    }
    ASSERT_TRUE(fs.open("empty", OpenMode::kCreate).ok());
    ASSERT_TRUE(fs.flip_random_bit());
    int total = 0;
    for (size_t i = 0; i < files.size(); ++i)
      total += differing_bits(pattern(100 * (i + 1)), *fs.contents(files[i]));
    EXPECT_EQ(total, 1) << "seed " << seed;
    EXPECT_EQ(*fs.contents("empty"), "");
  }
}

// ---- determinism -------------------------------------------------------------------------

// Runs a random mix of every operation (driven by its own PRNG, so only the
// file system's seed varies) with every fault enabled, and returns a
// transcript of each result and the final state.
std::string run_workload(uint64_t fs_seed) {
  SimFileSystem fs(fs_seed);
  fs.set_faults({.read_error_per_million = 50000,
                 .write_error_per_million = 50000,
                 .sync_error_per_million = 50000,
                 .byte_budget = 64 * 1024,
                 .torn_writes = true});
  raft::Prng ops(99);
  const std::vector<std::string> paths = {"/d1/a", "/d1/b", "/d2/c", "/d2/d"};
  EXPECT_TRUE(fs.create_dir("/d1").ok());
  EXPECT_TRUE(fs.create_dir("/d2").ok());
  std::vector<std::unique_ptr<File>> handles(paths.size());
  std::string log;
  auto note = [&](const absl::Status& s) {
    absl::StrAppend(&log, s.ok() ? "." : absl::StatusCodeToString(s.code()), " ");
  };
  for (int step = 0; step < 3000; ++step) {
    const size_t i = ops.below(paths.size());
    const size_t j = ops.below(paths.size());
    switch (ops.below(11)) {
      case 0: {
        absl::StatusOr<std::unique_ptr<File>> f = fs.open(paths[i], OpenMode::kCreate);
        note(f.status());
        if (f.ok()) handles[i] = std::move(*f);
        break;
      }
      case 1:
      case 2:
        if (handles[i]) note(handles[i]->append(pattern(ops.between(1, 1500))));
        break;
      case 3:
        if (handles[i]) note(handles[i]->write_at(ops.below(4000), pattern(ops.between(1, 700))));
        break;
      case 4:
        if (handles[i]) note(handles[i]->truncate(ops.below(3000)));
        break;
      case 5:
        if (handles[i]) note(handles[i]->sync());
        break;
      case 6: note(fs.sync_dir(storage::parent_dir(paths[i]))); break;
      case 7: note(fs.rename(paths[i], paths[j])); break;
      case 8: note(fs.remove(paths[i])); break;
      case 9:
        if (handles[i]) {
          absl::StatusOr<std::string> data = handles[i]->read_at(ops.below(3000), 64);
          absl::StrAppend(&log, data.ok() ? *data : "E", " ");
        }
        break;
      case 10:
        if (ops.chance(1, 10)) {
          fs.crash();
          log += "CRASH ";
        } else if (ops.chance(1, 5)) {
          absl::StrAppend(&log, fs.flip_random_bit() ? "FLIP " : "NOFLIP ");
        }
        break;
    }
  }
  for (const std::string dir : {"/d1", "/d2"}) {
    const absl::StatusOr<std::vector<std::string>> listed = fs.list(dir);
    EXPECT_TRUE(listed.ok()) << listed.status();
    if (!listed.ok()) continue;
    for (const std::string& name : *listed) {
      absl::StrAppend(&log, "\n", dir, "/", name, "=", *fs.contents(storage::join_path(dir, name)));
    }
  }
  const SimFileSystemStats& s = fs.stats();
  absl::StrAppend(&log, "\nstats ", s.reads, " ", s.writes, " ", s.syncs, " ", s.injected_errors, " ",
                  s.crashes, " ", s.torn_writes, " ", s.bit_flips, " ops ", fs.operations());
  return log;
}

TEST(SimDeterminismTest, SameSeedSameOperationsSameEndState) {
  const std::string first = run_workload(2024);
  const std::string second = run_workload(2024);
  EXPECT_EQ(first, second);
  EXPECT_NE(run_workload(2025), first);
  // The workload exercised the faults it claims to.
  EXPECT_THAT(first, HasSubstr("CRASH"));
  EXPECT_THAT(first, HasSubstr("UNAVAILABLE"));
}

// ---- bookkeeping and paths -----------------------------------------------------------------

TEST_F(SimFileSystemTest, EveryCallCountsAsOneOperation) {
  const uint64_t before = fs_.operations();
  std::unique_ptr<File> file = open(at("f"));      // 1
  ASSERT_TRUE(file->append("a").ok());             // 2
  ASSERT_TRUE(file->write_at(0, "b").ok());        // 3
  ASSERT_TRUE(file->read_at(0, 1).ok());           // 4
  ASSERT_TRUE(file->sync().ok());                  // 5
  ASSERT_TRUE(file->size().ok());                  // 6
  ASSERT_TRUE(file->truncate(0).ok());             // 7
  ASSERT_TRUE(fs_.sync_dir(kDir).ok());            // 8
  ASSERT_TRUE(fs_.list(kDir).ok());                // 9
  ASSERT_TRUE(fs_.exists(at("f")).ok());           // 10
  ASSERT_TRUE(fs_.rename(at("f"), at("g")).ok());  // 11
  ASSERT_TRUE(fs_.remove(at("g")).ok());           // 12
  ASSERT_TRUE(fs_.create_dir(at("sub")).ok());     // 13
  EXPECT_EQ(fs_.operations() - before, 13u);
  EXPECT_EQ(fs_.stats().reads, 1u);
  EXPECT_EQ(fs_.stats().writes, 3u);  // append, write_at, truncate
  EXPECT_EQ(fs_.stats().syncs, 2u);   // sync, sync_dir
}

TEST_F(SimFileSystemTest, DotDotIsRefused) {
  const absl::Status s = fs_.open("/data/../etc/passwd", OpenMode::kCreate).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("/data/../etc/passwd"));
}

TEST_F(SimFileSystemTest, RelativeAndDotPathsShareTheWorkingDirectory) {
  std::unique_ptr<File> file = open("./rel");
  ASSERT_TRUE(file->append("r").ok());
  EXPECT_EQ(contents("rel"), "r");
  EXPECT_THAT(names("."), ElementsAre("rel"));
  EXPECT_THAT(names("/"), IsEmpty());
}

}  // namespace
}  // namespace reef::sim
