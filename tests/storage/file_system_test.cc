// Conformance suite for storage::FileSystem: every typed test runs against
// both SimFileSystem and PosixFileSystem (in a fresh mkdtemp directory under
// /tmp, removed afterwards), because storage code is only as portable between
// the simulator and production as the two implementations agree. Anything a
// test here pins down (gaps read as zeros, short reads at EOF, error codes,
// the path in every message) is behaviour the log store relies on. What only
// the simulator does (crashes, faults) is in sim_file_system_test.cc.
#include "storage/file_system.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "prod/disk/posix_file_system.h"
#include "sim/sim_file_system.h"
#include "tests/storage/store_test_backends.h"

namespace reef::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A simulated file system rooted at an absolute directory, so paths look like
// the production ones.
class SimBackend {
 public:
  static constexpr const char* kName = "Sim";
  SimBackend() : fs_(20240601) {
    if (fs_.create_dir(kRoot).ok()) root_ = kRoot;
  }
  FileSystem& fs() { return fs_; }
  const std::string& root() const { return root_; }

 private:
  static constexpr const char* kRoot = "/reef-test/root";
  sim::SimFileSystem fs_;
  std::string root_;
};

// The real-directory backend is the one the store suites use.
using PosixBackend = testing::PosixStoreBackend;

template <typename Backend>
class FileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(backend_.root().empty()) << "could not make the test directory"; }

  FileSystem& fs() { return backend_.fs(); }
  std::string path(absl::string_view name) const { return join_path(backend_.root(), name); }

  std::unique_ptr<File> open_ok(const std::string& p, OpenMode mode = OpenMode::kCreate) {
    absl::StatusOr<std::unique_ptr<File>> file = fs().open(p, mode);
    EXPECT_TRUE(file.ok()) << file.status();
    return file.ok() ? std::move(*file) : nullptr;
  }

  // Creates `name` holding `data` (synced, so either backend keeps it).
  void make_file(const std::string& p, absl::string_view data) {
    std::unique_ptr<File> file = open_ok(p, OpenMode::kCreate);
    ASSERT_NE(file, nullptr);
    ASSERT_TRUE(file->truncate(0).ok());
    ASSERT_TRUE(file->append(data).ok());
    ASSERT_TRUE(file->sync().ok());
  }

  std::string read_all(const std::string& p) {
    std::unique_ptr<File> file = open_ok(p, OpenMode::kExisting);
    if (file == nullptr) return "<missing>";
    absl::StatusOr<std::string> data = file->read_at(0, UINT64_MAX);
    EXPECT_TRUE(data.ok()) << data.status();
    return data.ok() ? *data : "<error>";
  }

  std::vector<std::string> list_ok(const std::string& dir) {
    absl::StatusOr<std::vector<std::string>> names = fs().list(dir);
    EXPECT_TRUE(names.ok()) << names.status();
    return names.ok() ? *names : std::vector<std::string>{};
  }

  bool exists(const std::string& p) {
    absl::StatusOr<bool> e = fs().exists(p);
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() && *e;
  }

  Backend backend_;
};

class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

using Backends = ::testing::Types<SimBackend, PosixBackend>;
TYPED_TEST_SUITE(FileSystemTest, Backends, BackendNames);

// Checks the code and that the message names the path, so an operator can
// tell which file failed from the log line alone.
#define EXPECT_ERROR(expr, expected_code, path_text)                              \
  do {                                                                            \
    const absl::Status status_ = (expr);                                          \
    EXPECT_EQ(status_.code(), (expected_code)) << status_;                        \
    EXPECT_THAT(std::string(status_.message()), HasSubstr(path_text)) << status_; \
  } while (false)

// ---- open modes --------------------------------------------------------------

TYPED_TEST(FileSystemTest, OpenExistingOnMissingFileIsNotFoundNamingThePath) {
  const std::string p = this->path("missing.log");
  EXPECT_ERROR(this->fs().open(p, OpenMode::kExisting).status(), absl::StatusCode::kNotFound, p);
  EXPECT_FALSE(this->exists(p));
}

TYPED_TEST(FileSystemTest, OpenCreateMakesAnEmptyFile) {
  const std::string p = this->path("new.log");
  std::unique_ptr<File> file = this->open_ok(p, OpenMode::kCreate);
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->path(), p);
  EXPECT_EQ(*file->size(), 0u);
  EXPECT_TRUE(this->exists(p));
}

TYPED_TEST(FileSystemTest, OpenCreateKeepsExistingContents) {
  const std::string p = this->path("keep.log");
  this->make_file(p, "hello");
  std::unique_ptr<File> file = this->open_ok(p, OpenMode::kCreate);
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(*file->size(), 5u);
  EXPECT_EQ(*file->read_at(0, 5), "hello");
}

TYPED_TEST(FileSystemTest, OpenExistingSeesContents) {
  const std::string p = this->path("existing.log");
  this->make_file(p, "abc");
  std::unique_ptr<File> file = this->open_ok(p, OpenMode::kExisting);
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(*file->read_at(0, 10), "abc");
}

TYPED_TEST(FileSystemTest, OpenCreateNewOnExistingFileIsAlreadyExists) {
  const std::string p = this->path("once.log");
  this->make_file(p, "first");
  EXPECT_ERROR(this->fs().open(p, OpenMode::kCreateNew).status(), absl::StatusCode::kAlreadyExists, p);
  EXPECT_EQ(this->read_all(p), "first");
}

TYPED_TEST(FileSystemTest, OpenCreateNewOnMissingFileCreatesIt) {
  const std::string p = this->path("fresh.log");
  std::unique_ptr<File> file = this->open_ok(p, OpenMode::kCreateNew);
  ASSERT_NE(file, nullptr);
  EXPECT_TRUE(this->exists(p));
}

TYPED_TEST(FileSystemTest, OpenInMissingDirectoryIsNotFound) {
  const std::string p = this->path("no-such-dir/file.log");
  for (OpenMode mode : {OpenMode::kExisting, OpenMode::kCreate, OpenMode::kCreateNew}) {
    EXPECT_ERROR(this->fs().open(p, mode).status(), absl::StatusCode::kNotFound, p);
  }
}

TYPED_TEST(FileSystemTest, OpenOnDirectoryIsFailedPrecondition) {
  const std::string d = this->path("adir");
  ASSERT_TRUE(this->fs().create_dir(d).ok());
  EXPECT_ERROR(this->fs().open(d, OpenMode::kCreate).status(), absl::StatusCode::kFailedPrecondition, d);
  EXPECT_ERROR(this->fs().open(d, OpenMode::kExisting).status(), absl::StatusCode::kFailedPrecondition, d);
}

TYPED_TEST(FileSystemTest, BadPathsAreInvalidArgument) {
  EXPECT_EQ(this->fs().open("", OpenMode::kCreate).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->fs().create_dir("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->fs().list("").status().code(), absl::StatusCode::kInvalidArgument);
  // The C library would cut this path at the NUL and create "<root>/a".
  const std::string with_nul = this->path(std::string("a\0b", 3));
  EXPECT_ERROR(this->fs().open(with_nul, OpenMode::kCreate).status(), absl::StatusCode::kInvalidArgument,
               "NUL byte");
  EXPECT_ERROR(this->fs().remove(with_nul), absl::StatusCode::kInvalidArgument, "NUL byte");
  EXPECT_ERROR(this->fs().rename(this->path("x"), with_nul), absl::StatusCode::kInvalidArgument, "NUL byte");
  EXPECT_ERROR(this->fs().exists(with_nul).status(), absl::StatusCode::kInvalidArgument, "NUL byte");
  EXPECT_FALSE(this->exists(this->path("a")));
  EXPECT_THAT(this->list_ok(this->path("")), IsEmpty());
}

// ---- append / write_at / read_at -----------------------------------------------

TYPED_TEST(FileSystemTest, AppendAddsAtTheEnd) {
  std::unique_ptr<File> file = this->open_ok(this->path("a.log"));
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(file->append("one").ok());
  ASSERT_TRUE(file->append("").ok());
  ASSERT_TRUE(file->append("two").ok());
  EXPECT_EQ(*file->size(), 6u);
  EXPECT_EQ(*file->read_at(0, 100), "onetwo");
}

TYPED_TEST(FileSystemTest, AppendFollowsWritesPastTheEnd) {
  std::unique_ptr<File> file = this->open_ok(this->path("a.log"));
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(file->write_at(4, "xy").ok());
  ASSERT_TRUE(file->append("z").ok());
  EXPECT_EQ(*file->read_at(0, 100), std::string("\0\0\0\0xyz", 7));
}

TYPED_TEST(FileSystemTest, AppendFollowsAnotherHandlesWrites) {
  const std::string p = this->path("shared.log");
  std::unique_ptr<File> first = this->open_ok(p);
  std::unique_ptr<File> second = this->open_ok(p);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->append("aaa").ok());
  ASSERT_TRUE(second->append("bb").ok());
  ASSERT_TRUE(first->append("c").ok());
  EXPECT_EQ(this->read_all(p), "aaabbc");
}

TYPED_TEST(FileSystemTest, AppendAfterTruncateWritesAtTheNewEnd) {
  std::unique_ptr<File> file = this->open_ok(this->path("t.log"));
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(file->append("abcdef").ok());
  ASSERT_TRUE(file->truncate(2).ok());
  ASSERT_TRUE(file->append("Z").ok());
  EXPECT_EQ(*file->read_at(0, 100), "abZ");
}

TYPED_TEST(FileSystemTest, WriteAtOverwritesInPlace) {
  std::unique_ptr<File> file = this->open_ok(this->path("w.log"));
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(file->append("0123456789").ok());
  ASSERT_TRUE(file->write_at(3, "abc").ok());
  EXPECT_EQ(*file->size(), 10u);
  EXPECT_EQ(*file->read_at(0, 10), "012abc6789");
  // Straddling the end extends the file by the overhang only.
  ASSERT_TRUE(file->write_at(8, "XYZ").ok());
  EXPECT_EQ(*file->read_at(0, 100), "012abc67XYZ");
}

TYPED_TEST(FileSystemTest, WriteAtPastTheEndLeavesAGapOfZeros) {
  std::unique_ptr<File> file = this->open_ok(this->path("gap.log"));
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(file->append("ab").ok());
  ASSERT_TRUE(file->write_at(5000, "cd").ok());
  EXPECT_EQ(*file->size(), 5002u);
  const std::string data = *file->read_at(0, 10000);
  ASSERT_EQ(data.size(), 5002u);
  EXPECT_EQ(data.substr(0, 2), "ab");
  EXPECT_EQ(data.substr(2, 4998), std::string(4998, '\0'));
  EXPECT_EQ(data.substr(5000), "cd");
}

TYPED_TEST(FileSystemTest, EmptyWritePastTheEndDoesNotExtend) {
  std::unique_ptr<File> file = this->open_ok(this->path("empty-write.log"));
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(file->append("ab").ok());
  ASSERT_TRUE(file->write_at(100, "").ok());
  EXPECT_EQ(*file->size(), 2u);
}

TYPED_TEST(FileSystemTest, ReadAtIsShortOnlyAtTheEnd) {
  std::unique_ptr<File> file = this->open_ok(this->path("r.log"));
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(file->append("0123456789").ok());
  EXPECT_EQ(*file->read_at(2, 3), "234");
  EXPECT_EQ(*file->read_at(0, 0), "");
  EXPECT_EQ(*file->read_at(7, 100), "789");
  EXPECT_EQ(*file->read_at(9, 1), "9");
  EXPECT_EQ(*file->read_at(10, 1), "");
  EXPECT_EQ(*file->read_at(11, 5), "");
  EXPECT_EQ(*file->read_at(UINT64_MAX, UINT64_MAX), "");
  EXPECT_EQ(*file->read_at(0, UINT64_MAX), "0123456789");
}

TYPED_TEST(FileSystemTest, ReadAtOnEmptyFileIsEmpty) {
  std::unique_ptr<File> file = this->open_ok(this->path("empty.log"));
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(*file->read_at(0, 4096), "");
}

TYPED_TEST(FileSystemTest, BinaryDataRoundTrips) {
  std::string all_bytes;
  for (int round = 0; round < 3; ++round) {
    for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  }
  std::unique_ptr<File> file = this->open_ok(this->path("bin.log"));
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(file->append(all_bytes).ok());
  EXPECT_EQ(*file->read_at(0, all_bytes.size()), all_bytes);
}

TYPED_TEST(FileSystemTest, LargeUnalignedWriteRoundTrips) {
  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) >> 3);
  std::unique_ptr<File> file = this->open_ok(this->path("big.log"));
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(file->write_at(1, big).ok());
  ASSERT_TRUE(file->sync().ok());
  EXPECT_EQ(*file->size(), big.size() + 1);
  EXPECT_EQ(*file->read_at(1, big.size()), big);
  EXPECT_EQ(*file->read_at(1 + 1000000, 10), big.substr(1000000, 10));
}

TYPED_TEST(FileSystemTest, WritesAreVisibleThroughANewHandle) {
  const std::string p = this->path("visible.log");
  std::unique_ptr<File> writer = this->open_ok(p);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->append("unsynced but visible").ok());
  EXPECT_EQ(this->read_all(p), "unsynced but visible");
}

TYPED_TEST(FileSystemTest, OffsetsPastTheLimitAreOutOfRange) {
  const std::string p = this->path("limits.log");
  std::unique_ptr<File> file = this->open_ok(p);
  ASSERT_NE(file, nullptr);
  EXPECT_ERROR(file->write_at(UINT64_MAX - 1, "xyz"), absl::StatusCode::kOutOfRange, p);
  EXPECT_ERROR(file->write_at(UINT64_MAX / 2 + 1, "x"), absl::StatusCode::kOutOfRange, p);
  EXPECT_ERROR(file->truncate(UINT64_MAX), absl::StatusCode::kOutOfRange, p);
  EXPECT_EQ(*file->size(), 0u);
}

// ---- truncate, size, sync -------------------------------------------------------

TYPED_TEST(FileSystemTest, TruncateShrinksAndGrowsWithZeros) {
  std::unique_ptr<File> file = this->open_ok(this->path("trunc.log"));
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(file->append("abcdefgh").ok());
  ASSERT_TRUE(file->truncate(3).ok());
  EXPECT_EQ(*file->size(), 3u);
  EXPECT_EQ(*file->read_at(0, 100), "abc");
  ASSERT_TRUE(file->truncate(6).ok());
  EXPECT_EQ(*file->size(), 6u);
  EXPECT_EQ(*file->read_at(0, 100), std::string("abc\0\0\0", 6));
  ASSERT_TRUE(file->truncate(6).ok());
  EXPECT_EQ(*file->size(), 6u);
  ASSERT_TRUE(file->truncate(0).ok());
  EXPECT_EQ(*file->size(), 0u);
  EXPECT_EQ(*file->read_at(0, 100), "");
}

TYPED_TEST(FileSystemTest, AllocateExtendsWithZerosAndNeverShrinks) {
  std::unique_ptr<File> file = this->open_ok(this->path("alloc.log"));
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(file->append("abc").ok());
  ASSERT_TRUE(file->allocate(4096).ok());
  EXPECT_EQ(*file->size(), 4096u);
  EXPECT_EQ(*file->read_at(0, 4), std::string("abc\0", 4));
  // Writes inside the reserved space change nothing else.
  ASSERT_TRUE(file->write_at(3, "def").ok());
  ASSERT_TRUE(file->sync().ok());
  EXPECT_EQ(*file->size(), 4096u);
  EXPECT_EQ(*file->read_at(0, 7), std::string("abcdef\0", 7));
  ASSERT_TRUE(file->allocate(100).ok());
  EXPECT_EQ(*file->size(), 4096u) << "a smaller allocation leaves the file alone";
  EXPECT_EQ(file->allocate(uint64_t{1} << 63).code(), absl::StatusCode::kOutOfRange);
}

TYPED_TEST(FileSystemTest, SizeTracksEveryKindOfWrite) {
  std::unique_ptr<File> file = this->open_ok(this->path("size.log"));
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(*file->size(), 0u);
  ASSERT_TRUE(file->append(std::string(1000, 'a')).ok());
  EXPECT_EQ(*file->size(), 1000u);
  ASSERT_TRUE(file->write_at(10, "b").ok());
  EXPECT_EQ(*file->size(), 1000u);
  ASSERT_TRUE(file->write_at(1500, "c").ok());
  EXPECT_EQ(*file->size(), 1501u);
  ASSERT_TRUE(file->truncate(700).ok());
  EXPECT_EQ(*file->size(), 700u);
}

TYPED_TEST(FileSystemTest, SyncAndSyncDirSucceed) {
  const std::string p = this->path("sync.log");
  std::unique_ptr<File> file = this->open_ok(p);
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(file->append("data").ok());
  EXPECT_TRUE(file->sync().ok());
  EXPECT_TRUE(file->sync().ok());  // nothing new: still fine
  EXPECT_TRUE(this->fs().sync_dir(this->path("")).ok());
  EXPECT_TRUE(this->fs().sync_dir(this->path("") + "/").ok());
}

TYPED_TEST(FileSystemTest, SyncDirOfMissingDirectoryIsNotFound) {
  const std::string d = this->path("nowhere");
  EXPECT_ERROR(this->fs().sync_dir(d), absl::StatusCode::kNotFound, d);
}

// ---- rename / remove --------------------------------------------------------------

TYPED_TEST(FileSystemTest, RenameMovesTheFile) {
  const std::string from = this->path("from.tmp");
  const std::string to = this->path("to.snap");
  this->make_file(from, "payload");
  ASSERT_TRUE(this->fs().rename(from, to).ok());
  EXPECT_FALSE(this->exists(from));
  EXPECT_EQ(this->read_all(to), "payload");
  EXPECT_THAT(this->list_ok(this->path("")), ElementsAre("to.snap"));
}

TYPED_TEST(FileSystemTest, RenameReplacesTheTarget) {
  const std::string from = this->path("hard_state.tmp");
  const std::string to = this->path("hard_state");
  this->make_file(to, "old value");
  this->make_file(from, "new");
  ASSERT_TRUE(this->fs().rename(from, to).ok());
  EXPECT_FALSE(this->exists(from));
  EXPECT_EQ(this->read_all(to), "new");
  EXPECT_THAT(this->list_ok(this->path("")), ElementsAre("hard_state"));
}

TYPED_TEST(FileSystemTest, RenameAcrossDirectories) {
  ASSERT_TRUE(this->fs().create_dir(this->path("a")).ok());
  ASSERT_TRUE(this->fs().create_dir(this->path("b")).ok());
  const std::string from = this->path("a/f");
  const std::string to = this->path("b/g");
  this->make_file(from, "x");
  ASSERT_TRUE(this->fs().rename(from, to).ok());
  EXPECT_THAT(this->list_ok(this->path("a")), IsEmpty());
  EXPECT_THAT(this->list_ok(this->path("b")), ElementsAre("g"));
  EXPECT_EQ(this->read_all(to), "x");
}

TYPED_TEST(FileSystemTest, RenameOntoItselfKeepsTheFile) {
  const std::string p = this->path("self");
  this->make_file(p, "same");
  ASSERT_TRUE(this->fs().rename(p, p).ok());
  EXPECT_EQ(this->read_all(p), "same");
}

TYPED_TEST(FileSystemTest, OpenHandleFollowsTheFileThroughARename) {
  const std::string from = this->path("seg.tmp");
  const std::string to = this->path("seg");
  std::unique_ptr<File> file = this->open_ok(from);
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(file->append("before ").ok());
  ASSERT_TRUE(this->fs().rename(from, to).ok());
  ASSERT_TRUE(file->append("after").ok());
  EXPECT_EQ(this->read_all(to), "before after");
}

TYPED_TEST(FileSystemTest, RenameErrorsNameBothPaths) {
  const std::string missing = this->path("missing");
  const std::string target = this->path("target");
  EXPECT_ERROR(this->fs().rename(missing, target), absl::StatusCode::kNotFound, missing);
  EXPECT_ERROR(this->fs().rename(missing, target), absl::StatusCode::kNotFound, target);
  const std::string src = this->path("src");
  this->make_file(src, "s");
  const std::string no_dir = this->path("no-dir/dst");
  EXPECT_ERROR(this->fs().rename(src, no_dir), absl::StatusCode::kNotFound, no_dir);
  EXPECT_TRUE(this->exists(src));
  const std::string d = this->path("d");
  ASSERT_TRUE(this->fs().create_dir(d).ok());
  EXPECT_ERROR(this->fs().rename(src, d), absl::StatusCode::kFailedPrecondition, d);
  EXPECT_EQ(this->read_all(src), "s");
}

TYPED_TEST(FileSystemTest, RemoveDeletesTheName) {
  const std::string p = this->path("gone");
  this->make_file(p, "bytes");
  ASSERT_TRUE(this->fs().remove(p).ok());
  EXPECT_FALSE(this->exists(p));
  EXPECT_EQ(this->fs().open(p, OpenMode::kExisting).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(this->list_ok(this->path("")), IsEmpty());
}

TYPED_TEST(FileSystemTest, RemoveMissingIsNotFoundNamingThePath) {
  const std::string p = this->path("never-was");
  EXPECT_ERROR(this->fs().remove(p), absl::StatusCode::kNotFound, p);
}

TYPED_TEST(FileSystemTest, RemoveDirectoryIsFailedPrecondition) {
  const std::string d = this->path("keepdir");
  ASSERT_TRUE(this->fs().create_dir(d).ok());
  EXPECT_ERROR(this->fs().remove(d), absl::StatusCode::kFailedPrecondition, d);
  EXPECT_TRUE(this->exists(d));
}

TYPED_TEST(FileSystemTest, RecreatedNameIsANewEmptyFile) {
  const std::string p = this->path("again");
  this->make_file(p, "old");
  std::unique_ptr<File> old_handle = this->open_ok(p, OpenMode::kExisting);
  ASSERT_NE(old_handle, nullptr);
  ASSERT_TRUE(this->fs().remove(p).ok());
  std::unique_ptr<File> fresh = this->open_ok(p, OpenMode::kCreateNew);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(*fresh->size(), 0u);
  // The handle from before the remove still reaches the unlinked file only.
  ASSERT_TRUE(old_handle->append("!").ok());
  EXPECT_EQ(*old_handle->read_at(0, 10), "old!");
  EXPECT_EQ(this->read_all(p), "");
}

// ---- list / create_dir / exists -------------------------------------------------------

TYPED_TEST(FileSystemTest, ListIsSortedAndHoldsNamesNotPaths) {
  for (const char* name : {"b", "a.tmp", "c", "a", "00000000000000000010.seg", "00000000000000000002.seg"}) {
    this->make_file(this->path(name), name);
  }
  EXPECT_THAT(this->list_ok(this->path("")),
              ElementsAre("00000000000000000002.seg", "00000000000000000010.seg", "a", "a.tmp", "b", "c"));
}

TYPED_TEST(FileSystemTest, ListHoldsOnlyDirectChildFiles) {
  ASSERT_TRUE(this->fs().create_dir(this->path("log/sub")).ok());
  ASSERT_TRUE(this->fs().create_dir(this->path("log-other")).ok());
  this->make_file(this->path("log/1.seg"), "1");
  this->make_file(this->path("log/sub/deep.seg"), "d");
  this->make_file(this->path("log-other/x"), "x");
  this->make_file(this->path("top"), "t");
  EXPECT_THAT(this->list_ok(this->path("log")), ElementsAre("1.seg"));
  EXPECT_THAT(this->list_ok(this->path("log/")), ElementsAre("1.seg"));
  EXPECT_THAT(this->list_ok(this->path("log/sub")), ElementsAre("deep.seg"));
  EXPECT_THAT(this->list_ok(this->path("")), ElementsAre("top"));
}

TYPED_TEST(FileSystemTest, ListOfEmptyDirectoryIsEmpty) {
  ASSERT_TRUE(this->fs().create_dir(this->path("empty")).ok());
  EXPECT_THAT(this->list_ok(this->path("empty")), IsEmpty());
}

TYPED_TEST(FileSystemTest, ListErrorsNameThePath) {
  const std::string missing = this->path("missing-dir");
  EXPECT_ERROR(this->fs().list(missing).status(), absl::StatusCode::kNotFound, missing);
  const std::string file = this->path("plain");
  this->make_file(file, "p");
  EXPECT_ERROR(this->fs().list(file).status(), absl::StatusCode::kFailedPrecondition, file);
}

TYPED_TEST(FileSystemTest, CreateDirMakesEveryMissingParent) {
  const std::string deep = this->path("a/b/c/d");
  ASSERT_TRUE(this->fs().create_dir(deep).ok());
  for (const char* d : {"a", "a/b", "a/b/c", "a/b/c/d"}) EXPECT_TRUE(this->exists(this->path(d))) << d;
  this->make_file(join_path(deep, "f"), "deep");
  EXPECT_EQ(this->read_all(this->path("a/b/c/d/f")), "deep");
  EXPECT_THAT(this->list_ok(this->path("a/b")), IsEmpty());
}

TYPED_TEST(FileSystemTest, CreateDirIsIdempotentAndToleratesExtraSlashes) {
  ASSERT_TRUE(this->fs().create_dir(this->path("x/y")).ok());
  this->make_file(this->path("x/y/keep"), "k");
  ASSERT_TRUE(this->fs().create_dir(this->path("x/y")).ok());
  ASSERT_TRUE(this->fs().create_dir(this->path("x//y/")).ok());
  ASSERT_TRUE(this->fs().create_dir(this->path("x")).ok());
  EXPECT_EQ(this->read_all(this->path("x/y/keep")), "k");
  EXPECT_THAT(this->list_ok(this->path("x")), IsEmpty());
}

TYPED_TEST(FileSystemTest, CreateDirOverAFileIsFailedPrecondition) {
  const std::string file = this->path("occupied");
  this->make_file(file, "f");
  EXPECT_ERROR(this->fs().create_dir(file), absl::StatusCode::kFailedPrecondition, file);
  const std::string under = this->path("occupied/sub");
  EXPECT_ERROR(this->fs().create_dir(under), absl::StatusCode::kFailedPrecondition, under);
  EXPECT_EQ(this->read_all(file), "f");
}

TYPED_TEST(FileSystemTest, ExistsSeesFilesAndDirectories) {
  ASSERT_TRUE(this->fs().create_dir(this->path("dir")).ok());
  this->make_file(this->path("dir/file"), "f");
  EXPECT_TRUE(this->exists(this->path("dir")));
  EXPECT_TRUE(this->exists(this->path("dir/file")));
  EXPECT_FALSE(this->exists(this->path("dir/other")));
  EXPECT_FALSE(this->exists(this->path("nodir/file")));
  EXPECT_FALSE(this->exists(this->path("dir/file/below")));
}

TYPED_TEST(FileSystemTest, PathsWithRedundantSlashesNameTheSameFile) {
  ASSERT_TRUE(this->fs().create_dir(this->path("s")).ok());
  this->make_file(this->path("s//f"), "slashes");
  EXPECT_EQ(this->read_all(this->path("s/f")), "slashes");
  EXPECT_EQ(this->read_all(this->path("s/./f")), "slashes");
  EXPECT_THAT(this->list_ok(this->path("s")), ElementsAre("f"));
}

// ---- PosixFileSystem only ---------------------------------------------------------------

TEST(PosixErrnoStatusTest, MapsErrnoAndNamesOperationPathAndReason) {
  const absl::Status s = prod::errno_status(ENOENT, "open", "/data/log/1.seg");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "open /data/log/1.seg: No such file or directory (errno 2)");
  EXPECT_EQ(prod::errno_status(EEXIST, "op", "p").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(prod::errno_status(ENOSPC, "op", "p").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(prod::errno_status(EDQUOT, "op", "p").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(prod::errno_status(EIO, "op", "p").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(prod::errno_status(EISDIR, "op", "p").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(prod::errno_status(EACCES, "op", "p").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(prod::errno_status(EFBIG, "op", "p").code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(prod::errno_status(EPROTO, "op", "p").code(), absl::StatusCode::kInternal);
}

class PosixOnlyTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(backend_.root().empty()); }
  std::string path(absl::string_view name) const { return join_path(backend_.root(), name); }
  PosixBackend backend_;
  prod::PosixFileSystem fs_;
};

// Every descriptor the file system holds must be close-on-exec, so a child
// process cannot keep a segment open (and its space allocated) after removal.
TEST_F(PosixOnlyTest, DescriptorsAreCloseOnExec) {
  const std::string p = path("cloexec.log");
  absl::StatusOr<std::unique_ptr<File>> file = fs_.open(p, OpenMode::kCreate);
  ASSERT_TRUE(file.ok()) << file.status();
  int found = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const std::filesystem::path target = std::filesystem::read_symlink(entry.path(), ec);
    if (ec || target.string() != p) continue;
    const int fd = std::stoi(entry.path().filename().string());
    const int flags = ::fcntl(fd, F_GETFD);
    ASSERT_GE(flags, 0);
    EXPECT_NE(flags & FD_CLOEXEC, 0) << "fd " << fd;
    ++found;
  }
  EXPECT_EQ(found, 1);
  file->reset();  // the descriptor is closed with the handle
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    EXPECT_NE(std::filesystem::read_symlink(entry.path(), ec).string(), p);
  }
}

TEST_F(PosixOnlyTest, SpecialFilesAreNotOpenedOrListed) {
  const std::string fifo = path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const absl::Status s = fs_.open(fifo, OpenMode::kCreate).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(fifo));
  const std::string regular = path("regular");
  ASSERT_TRUE(fs_.open(regular, OpenMode::kCreate).ok());
  ASSERT_EQ(::symlink(regular.c_str(), path("link").c_str()), 0);
  absl::StatusOr<std::vector<std::string>> names = fs_.list(backend_.root());
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, ElementsAre("regular"));
}

TEST_F(PosixOnlyTest, ErrorMessagesCarryTheSystemReason) {
  const std::string p = path("absent");
  const absl::Status s = fs_.open(p, OpenMode::kExisting).status();
  EXPECT_EQ(s.message(), absl::StrCat("open ", p, ": No such file or directory (errno 2)"));
}

TEST_F(PosixOnlyTest, WritesReachTheRealFile) {
  const std::string p = path("real");
  absl::StatusOr<std::unique_ptr<File>> file = fs_.open(p, OpenMode::kCreateNew);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->append("hello ").ok());
  ASSERT_TRUE((*file)->write_at(6, "world").ok());
  ASSERT_TRUE((*file)->sync().ok());
  std::ifstream in(p, std::ios::binary);
  const std::string on_disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(on_disk, "hello world");
}

}  // namespace
}  // namespace reef::storage
