// End-to-end test of the reef-storage binary: real processes over a real
// directory, because what matters is what an operator sees (exit status and
// output) and that looking never changes the files.
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "prod/disk/posix_file_system.h"
#include "raft/core/log_entry.h"
#include "storage/log_store.h"
#include "storage/node_identity.h"
#include "storage/node_storage.h"

namespace reef::storage {
namespace {

namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

Result run_tool(const std::string& args) {
  Result result;
  const std::string command = std::string("'") + REEF_STORAGE_BIN + "' " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

size_t count_lines(const std::string& text) {
  size_t lines = 0;
  for (char c : text) lines += c == '\n' ? 1 : 0;
  return lines;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class ReefStorageToolTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kEntries = 40;

  void SetUp() override {
    char tmpl[] = "/tmp/reef-storage-tool-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    prod::PosixFileSystem posix;
    NodeStorageOptions options;
    options.log.segment_bytes = 512;  // a few records per segment: many segments
    auto store = NodeStorage::open(posix, dir_.string(), options);
    ASSERT_TRUE(store.ok()) << store.status();
    std::vector<raft::LogEntry> batch;
    for (uint64_t i = 1; i <= kEntries; ++i) {
      // Same payload size for every entry, so every record has the same length.
      batch.push_back(raft::LogEntry{raft::Term(1 + i / 10), raft::Index(i),
                                     i % 7 == 0 ? raft::EntryType::kNoop : raft::EntryType::kNormal,
                                     std::string(60, static_cast<char>('a' + i % 26))});
    }
    const raft::HardState hard_state{raft::Term(5), raft::NodeId(2), raft::Index(30)};
    ASSERT_TRUE((*store)->persist(hard_state, batch).ok());
    ASSERT_GE((*store)->log().segment_count(), 3u);
  }

  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::vector<fs::path> segments() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir_ / NodeStorage::kLogDir)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }

  static uint64_t first_index_of(const fs::path& segment) {
    return std::stoull(segment.filename().string().substr(4, 20));
  }

  fs::path dir_;
};

TEST_F(ReefStorageToolTest, VerifyAndDumpSoundLog) {
  const Result verify = run_tool("verify '" + dir_.string() + "'");
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("40 entries, indexes 1..40"), std::string::npos) << verify.output;
  EXPECT_NE(verify.output.find("hard state: ok, term 5, vote 2, commit 30"), std::string::npos) << verify.output;
  EXPECT_NE(verify.output.find("recovery: would start at term 5, commit 30, snapshot index 0, 40 log entries"),
            std::string::npos)
      << verify.output;

  const Result dump = run_tool("dump '" + dir_.string() + "'");
  EXPECT_EQ(dump.exit_code, 0) << dump.output;
  EXPECT_EQ(count_lines(dump.output), kEntries) << dump.output;
  EXPECT_NE(dump.output.find("index=7 term=1 type=noop payload_bytes=60"), std::string::npos) << dump.output;
  EXPECT_NE(dump.output.find("index=40 term=5 type=normal payload_bytes=60"), std::string::npos)
      << dump.output;
}

TEST_F(ReefStorageToolTest, VerifyPrintsTheIdentity) {
  const Result before = run_tool("verify '" + dir_.string() + "'");
  EXPECT_NE(before.output.find("identity: none yet"), std::string::npos) << before.output;
  EXPECT_NE(before.output.find("adopts the directory"), std::string::npos) << before.output;
  prod::PosixFileSystem posix;
  ASSERT_TRUE(write_node_identity(posix, dir_.string(), NodeIdentity{77, "blue", raft::NodeId(3), 0xabcdef}).ok());
  const Result after = run_tool("verify '" + dir_.string() + "'");
  EXPECT_EQ(after.exit_code, 0) << after.output;
  EXPECT_NE(after.output.find("identity: node 3 of cluster 'blue' (incarnation 0000000000abcdef), cluster id 77"),
            std::string::npos)
      << after.output;
  std::ofstream(dir_ / kNodeIdentityFileName, std::ios::binary | std::ios::app) << "junk";
  const Result damaged = run_tool("verify '" + dir_.string() + "'");
  EXPECT_EQ(damaged.exit_code, 1) << damaged.output;
  EXPECT_NE(damaged.output.find("identity: DAMAGED"), std::string::npos) << damaged.output;
}

TEST_F(ReefStorageToolTest, FlippedByteInNonLastSegmentNamesIndexRange) {
  const std::vector<fs::path> files = segments();
  const fs::path victim = files[0];
  const uint64_t records = first_index_of(files[1]) - first_index_of(victim);
  ASSERT_GE(records, 2u);
  std::string bytes = read_file(victim);
  ASSERT_EQ(bytes.size() % records, 0u);
  const uint64_t record_bytes = bytes.size() / records;
  // Inside the body of the second record (index 2), past its 13-byte header.
  bytes[record_bytes + 30] ^= 0x40;
  write_file(victim, bytes);

  const Result verify = run_tool("verify '" + dir_.string() + "'");
  EXPECT_EQ(verify.exit_code, 1) << verify.output;
  const std::string range = "indexes 2.." + std::to_string(records);
  EXPECT_NE(verify.output.find(range), std::string::npos) << "want '" << range << "' in:\n" << verify.output;
  EXPECT_NE(verify.output.find(victim.filename().string()), std::string::npos) << verify.output;
  EXPECT_NE(verify.output.find("offset " + std::to_string(record_bytes)), std::string::npos) << verify.output;
  // Read-only: the damaged file is exactly as we left it.
  EXPECT_EQ(read_file(victim), bytes);

  const Result dump = run_tool("dump '" + dir_.string() + "'");
  EXPECT_EQ(dump.exit_code, 1) << dump.output;
}

TEST_F(ReefStorageToolTest, TornTailIsReportedButNotCut) {
  const fs::path last = segments().back();
  const std::string before = read_file(last) + std::string("\x01\x20\x00", 3);
  write_file(last, before);

  const Result verify = run_tool("verify '" + dir_.string() + "'");
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("torn tail"), std::string::npos) << verify.output;
  EXPECT_EQ(read_file(last), before);  // a later open cuts it; verify must not

  const Result dump = run_tool("dump '" + dir_.string() + "'");
  EXPECT_EQ(dump.exit_code, 0) << dump.output;
  EXPECT_EQ(count_lines(dump.output), kEntries) << dump.output;
}

// Each store is sound on its own, but together they are not: the hard state
// says entries up to 50 are committed, and the log ends at 40.
TEST_F(ReefStorageToolTest, CommitPastTheLogIsDataLoss) {
  {
    prod::PosixFileSystem posix;
    auto hard_state = HardStateStore::open(&posix, dir_.string());
    ASSERT_TRUE(hard_state.ok()) << hard_state.status();
    ASSERT_TRUE((*hard_state)->save(raft::HardState{raft::Term(5), std::nullopt, raft::Index(50)}).ok());
  }
  const Result verify = run_tool("verify '" + dir_.string() + "'");
  EXPECT_EQ(verify.exit_code, 1) << verify.output;
  EXPECT_NE(verify.output.find("committed entries 41..50 are missing"), std::string::npos) << verify.output;
  EXPECT_NE(verify.output.find("NOT SOUND"), std::string::npos) << verify.output;
}

TEST_F(ReefStorageToolTest, LeftoverHardStateTempFileIsReportedNotRemoved) {
  const fs::path temp = dir_ / HardStateStore::kTempFileName;
  write_file(temp, "half a first save");
  const Result verify = run_tool("verify '" + dir_.string() + "'");
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("hard_state.tmp: leftover"), std::string::npos) << verify.output;
  EXPECT_TRUE(fs::exists(temp));
}

TEST_F(ReefStorageToolTest, UsageErrors) {
  const Result missing = run_tool("verify '" + (dir_ / "nope").string() + "'");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("does not exist"), std::string::npos) << missing.output;
  EXPECT_FALSE(fs::exists(dir_ / "nope"));

  EXPECT_EQ(run_tool("").exit_code, 2);
  EXPECT_EQ(run_tool("frobnicate '" + dir_.string() + "'").exit_code, 2);
  const Result help = run_tool("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("verify DIR"), std::string::npos) << help.output;
}

}  // namespace
}  // namespace reef::storage
