// SnapshotStore: round trips, resumable reads, cleanup and corruption
// detection on both backends; on SimFileSystem, a crash after every single
// file-system operation while writing and installing snapshots (with torn
// writes) and an I/O error at every write and sync: after recovery the newest
// valid snapshot is the previous one or the new one, complete and intact.
#include "storage/snapshot_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "raft/core/random.h"
#include "sim/sim_file_system.h"
#include "tests/storage/crash_point_file_system.h"
#include "tests/storage/store_test_backends.h"

namespace reef::storage {
namespace {

using raft::Configuration;
using raft::Index;
using raft::NodeId;
using raft::SnapshotMeta;
using raft::Term;
using testing::CrashPointFileSystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<NodeId> ids(std::initializer_list<uint64_t> values) {
  std::vector<NodeId> out;
  for (uint64_t v : values) out.emplace_back(v);
  return out;
}

// A joint configuration with learners, so every membership field round-trips.
SnapshotMeta meta_at(uint64_t index, uint64_t term) {
  SnapshotMeta meta;
  meta.index = Index(index);
  meta.term = Term(term);
  meta.configuration = Configuration::of_voters(ids({1, 2, 3}), ids({7, 9}));
  meta.configuration.outgoing_voters = raft::MajorityConfig(ids({1, 2, 4}));
  return meta;
}

// Deterministic bytes, different for every seed.
std::string test_data(size_t size, uint64_t seed) {
  std::string out(size, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (char& c : out) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    c = static_cast<char>(x >> 56);
  }
  return out;
}

SnapshotStoreOptions small_chunks(uint32_t max_chunk_bytes = 1000) {
  SnapshotStoreOptions options;
  options.max_chunk_bytes = max_chunk_bytes;
  return options;
}

// Writes `data` through add_chunk in pieces of the given sizes (the last one
// takes the rest), then finishes.
absl::StatusOr<SnapshotInfo> write_snapshot(SnapshotStore& store, const SnapshotMeta& meta,
                                            absl::string_view data,
                                            std::vector<size_t> pieces = {700, 2500, 1}) {
  absl::StatusOr<std::unique_ptr<SnapshotWriter>> writer = store.begin(meta);
  if (!writer.ok()) return writer.status();
  for (size_t piece : pieces) {
    const absl::string_view part = data.substr(0, piece);
    if (absl::Status s = (*writer)->add_chunk(part); !s.ok()) return s;
    data.remove_prefix(part.size());
  }
  if (absl::Status s = (*writer)->add_chunk(data); !s.ok()) return s;
  return (*writer)->finish();
}

// Reads a reader to the end, checking that chunks are contiguous.
absl::StatusOr<std::string> read_rest(SnapshotReader& reader, std::vector<size_t>* chunk_sizes = nullptr) {
  std::string out;
  const uint64_t start = reader.position();
  for (uint64_t guard = 0; guard <= reader.info().chunk_count + 1; ++guard) {
    absl::StatusOr<std::optional<SnapshotChunk>> chunk = reader.next();
    if (!chunk.ok()) return chunk.status();
    if (!chunk->has_value()) return out;
    EXPECT_EQ((*chunk)->offset, start + out.size());
    EXPECT_FALSE((*chunk)->data.empty());
    if (chunk_sizes != nullptr) chunk_sizes->push_back((*chunk)->data.size());
    out += (*chunk)->data;
    EXPECT_EQ(reader.position(), start + out.size());
  }
  return absl::InternalError("reader returned more chunks than it has");
}

absl::StatusOr<std::string> read_latest(const SnapshotStore& store, uint64_t offset = 0) {
  absl::StatusOr<std::unique_ptr<SnapshotReader>> reader = store.open_reader(offset);
  if (!reader.ok()) return reader.status();
  return read_rest(**reader);
}

// Members are public so the detect() helper below can use them.
template <typename Backend>
class SnapshotStoreTest : public ::testing::Test {
 public:
  void SetUp() override { ASSERT_FALSE(backend_.root().empty()) << "could not make the test directory"; }

  FileSystem& fs() { return backend_.fs(); }
  std::string dir() const { return join_path(backend_.root(), "snapshots"); }
  std::string path_of(uint64_t index, uint64_t term) const {
    return join_path(dir(), SnapshotStore::file_name(Index(index), Term(term)));
  }

  std::unique_ptr<SnapshotStore> open_ok(SnapshotStoreOptions options = small_chunks()) {
    absl::StatusOr<std::unique_ptr<SnapshotStore>> store = SnapshotStore::open(&fs(), dir(), options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  std::vector<std::string> names() {
    absl::StatusOr<std::vector<std::string>> names = fs().list(dir());
    EXPECT_TRUE(names.ok()) << names.status();
    return names.ok() ? *names : std::vector<std::string>{};
  }

  Backend backend_;
};

TYPED_TEST_SUITE(SnapshotStoreTest, testing::StoreBackends, testing::StoreBackendNames);

TYPED_TEST(SnapshotStoreTest, EmptyDirectoryHasNoSnapshot) {
  std::unique_ptr<SnapshotStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->latest().has_value());
  EXPECT_THAT(store->warnings(), IsEmpty());
  EXPECT_EQ(store->open_reader().status().code(), absl::StatusCode::kNotFound);
}

// The inspection tool's view: the same latest() as open(); the temp file and
// the superseded snapshot that open() would remove stay.
TYPED_TEST(SnapshotStoreTest, ReadOnlyOpenFindsTheLatestAndRemovesNothing) {
  EXPECT_EQ(SnapshotStore::open_read_only(&this->fs(), this->dir()).status().code(),
            absl::StatusCode::kNotFound);
  std::unique_ptr<SnapshotStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(write_snapshot(*store, meta_at(10, 2), test_data(300, 1)).ok());
  store.reset();
  // An older snapshot left behind (a cleanup that crashed) and an unfinished one.
  const std::string older = this->path_of(5, 1);
  const std::string temp = join_path(this->dir(), "snapshot-00000000000000000011-00000000000000000002.0.tmp");
  testing::write_file(this->fs(), older, testing::read_file(this->fs(), this->path_of(10, 2)));
  testing::write_file(this->fs(), temp, "unfinished");
  const std::vector<std::string> before = this->names();

  absl::StatusOr<std::unique_ptr<SnapshotStore>> read_only =
      SnapshotStore::open_read_only(&this->fs(), this->dir(), small_chunks());
  ASSERT_TRUE(read_only.ok()) << read_only.status();
  ASSERT_TRUE((*read_only)->latest().has_value());
  EXPECT_EQ((*read_only)->latest()->meta, meta_at(10, 2));
  EXPECT_THAT((*read_only)->warnings(), ElementsAre(HasSubstr("unfinished snapshot; open removes it"),
                                                    HasSubstr("superseded by a newer valid snapshot")));
  EXPECT_EQ((*read_only)->begin(meta_at(20, 3)).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->names(), before);
}

TYPED_TEST(SnapshotStoreTest, RoundTripsMetaAndChunks) {
  const SnapshotMeta meta = meta_at(42, 7);
  const std::string data = test_data(5000, 1);
  {
    std::unique_ptr<SnapshotStore> store = this->open_ok();
    ASSERT_NE(store, nullptr);
    absl::StatusOr<SnapshotInfo> info = write_snapshot(*store, meta, data);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->meta, meta);
    EXPECT_EQ(info->data_bytes, data.size());
    EXPECT_EQ(info->path, this->path_of(42, 7));
    // Pieces 700 | 2500 split at 1000 | 1 | rest 1799 split at 1000.
    EXPECT_EQ(info->chunk_count, 7u);
    ASSERT_TRUE(store->latest().has_value());
    EXPECT_EQ(store->latest()->meta, meta);
  }
  std::unique_ptr<SnapshotStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->latest().has_value());
  EXPECT_EQ(store->latest()->meta, meta);
  EXPECT_TRUE(store->latest()->meta.configuration.is_joint());
  EXPECT_EQ(store->latest()->data_bytes, data.size());
  EXPECT_EQ(store->latest()->chunk_count, 7u);
  EXPECT_THAT(store->warnings(), IsEmpty());

  absl::StatusOr<std::unique_ptr<SnapshotReader>> reader = store->open_reader();
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->info().meta, meta);
  std::vector<size_t> sizes;
  absl::StatusOr<std::string> read = read_rest(**reader, &sizes);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, data);
  EXPECT_THAT(sizes, ElementsAre(700, 1000, 1000, 500, 1, 1000, 799));
  // After the end it stays at the end.
  absl::StatusOr<std::optional<SnapshotChunk>> after = (*reader)->next();
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->has_value());
}

TYPED_TEST(SnapshotStoreTest, EmptySnapshotRoundTrips) {
  std::unique_ptr<SnapshotStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<SnapshotInfo> info = write_snapshot(*store, meta_at(1, 1), "", {});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->chunk_count, 0u);
  store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->latest().has_value());
  EXPECT_EQ(store->latest()->meta, meta_at(1, 1));
  absl::StatusOr<std::string> read = read_latest(*store);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "");
}

TYPED_TEST(SnapshotStoreTest, ResumesFromEveryOffset) {
  const std::string data = test_data(3100, 2);
  std::unique_ptr<SnapshotStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(write_snapshot(*store, meta_at(10, 2), data).ok());
  for (uint64_t offset = 0; offset <= data.size(); ++offset) {
    absl::StatusOr<std::unique_ptr<SnapshotReader>> reader = store->open_reader(offset);
    ASSERT_TRUE(reader.ok()) << offset << ": " << reader.status();
    EXPECT_EQ((*reader)->position(), offset);
    absl::StatusOr<std::string> rest = read_rest(**reader);
    ASSERT_TRUE(rest.ok()) << offset << ": " << rest.status();
    ASSERT_EQ(*rest, data.substr(offset)) << offset;
  }
  absl::StatusOr<std::unique_ptr<SnapshotReader>> past = store->open_reader(data.size() + 1);
  EXPECT_EQ(past.status().code(), absl::StatusCode::kOutOfRange);
}

TYPED_TEST(SnapshotStoreTest, OlderSnapshotsAreRemovedOnceANewerOneIsDurable) {
  std::unique_ptr<SnapshotStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(write_snapshot(*store, meta_at(10, 1), test_data(100, 1)).ok());
  ASSERT_TRUE(write_snapshot(*store, meta_at(20, 2), test_data(200, 2)).ok());
  EXPECT_THAT(this->names(), ElementsAre(SnapshotStore::file_name(Index(20), Term(2))));
  ASSERT_TRUE(write_snapshot(*store, meta_at(30, 2), test_data(300, 3)).ok());
  EXPECT_THAT(this->names(), ElementsAre(SnapshotStore::file_name(Index(30), Term(2))));
  EXPECT_THAT(store->warnings(), IsEmpty());
  // Not newer than the latest: refused up front.
  EXPECT_EQ(store->begin(meta_at(30, 3)).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->begin(meta_at(29, 9)).status().code(), absl::StatusCode::kFailedPrecondition);
  store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->latest().has_value());
  EXPECT_EQ(store->latest()->meta.index, Index(30));
  absl::StatusOr<std::string> read = read_latest(*store);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, test_data(300, 3));
}

TYPED_TEST(SnapshotStoreTest, WriterOvertakenByANewerInstallIsDropped) {
  std::unique_ptr<SnapshotStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::unique_ptr<SnapshotWriter>> slow = store->begin(meta_at(10, 1));
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE((*slow)->add_chunk("old").ok());
  ASSERT_TRUE(write_snapshot(*store, meta_at(20, 1), "new").ok());
  absl::StatusOr<SnapshotInfo> finished = (*slow)->finish();
  EXPECT_EQ(finished.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(this->names(), ElementsAre(SnapshotStore::file_name(Index(20), Term(1))));
  EXPECT_EQ(store->latest()->meta.index, Index(20));
}

TYPED_TEST(SnapshotStoreTest, AbortAndDestructionRemoveTheTempFile) {
  std::unique_ptr<SnapshotStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  {
    absl::StatusOr<std::unique_ptr<SnapshotWriter>> writer = store->begin(meta_at(5, 1));
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->add_chunk(test_data(2000, 5)).ok());
    EXPECT_THAT(this->names(), ElementsAre(HasSubstr(".tmp")));
    (*writer)->abort();
    EXPECT_THAT(this->names(), IsEmpty());
    EXPECT_EQ((*writer)->add_chunk("x").code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ((*writer)->finish().status().code(), absl::StatusCode::kFailedPrecondition);
  }
  {
    absl::StatusOr<std::unique_ptr<SnapshotWriter>> writer = store->begin(meta_at(6, 1));
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->add_chunk("abandoned").ok());
  }
  EXPECT_THAT(this->names(), IsEmpty());
  EXPECT_FALSE(store->latest().has_value());
}

TYPED_TEST(SnapshotStoreTest, LeftoverTempFilesAreRemovedAtOpen) {
  std::unique_ptr<SnapshotStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(write_snapshot(*store, meta_at(10, 1), test_data(100, 1)).ok());
  store.reset();
  // What a crash mid-write leaves behind on a real file system.
  testing::write_file(this->fs(),
                      join_path(this->dir(), "snapshot-00000000000000000020-00000000000000000001.0.tmp"),
                      test_data(700, 9));
  testing::write_file(this->fs(),
                      join_path(this->dir(), "snapshot-00000000000000000030-00000000000000000001.4.tmp"), "");
  store = this->open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(this->names(), ElementsAre(SnapshotStore::file_name(Index(10), Term(1))));
  EXPECT_EQ(store->latest()->meta.index, Index(10));
  EXPECT_THAT(store->warnings(), IsEmpty());
}

TYPED_TEST(SnapshotStoreTest, UnrecognizedFilesAreIgnoredWithAWarning) {
  ASSERT_TRUE(this->fs().create_dir(this->dir()).ok());
  testing::write_file(this->fs(), join_path(this->dir(), "notes.txt"), "hello");
  testing::write_file(this->fs(), join_path(this->dir(), "snapshot-12-3.snap"), "short name");
  std::unique_ptr<SnapshotStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->latest().has_value());
  ASSERT_EQ(store->warnings().size(), 2u);
  EXPECT_THAT(store->warnings()[0], HasSubstr("notes.txt: not a snapshot file name"));
  // An install leaves unrelated files alone.
  ASSERT_TRUE(write_snapshot(*store, meta_at(10, 1), "x").ok());
  EXPECT_EQ(this->names().size(), 3u);
}

TYPED_TEST(SnapshotStoreTest, BeginRejectsAnInvalidConfiguration) {
  std::unique_ptr<SnapshotStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  SnapshotMeta no_voters = meta_at(5, 1);
  no_voters.configuration = Configuration{};
  EXPECT_EQ(store->begin(no_voters).status().code(), absl::StatusCode::kInvalidArgument);
  SnapshotMeta learner_voter = meta_at(5, 1);
  learner_voter.configuration = Configuration::of_voters(ids({1, 2}), ids({2}));
  EXPECT_EQ(store->begin(learner_voter).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(this->names(), IsEmpty());
}

TYPED_TEST(SnapshotStoreTest, OpenReaderSurvivesTheInstallOfANewerSnapshot) {
  std::unique_ptr<SnapshotStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  const std::string old_data = test_data(4000, 1);
  ASSERT_TRUE(write_snapshot(*store, meta_at(10, 1), old_data).ok());
  absl::StatusOr<std::unique_ptr<SnapshotReader>> reader = store->open_reader(1234);
  ASSERT_TRUE(reader.ok());
  absl::StatusOr<std::optional<SnapshotChunk>> first = (*reader)->next();
  ASSERT_TRUE(first.ok() && first->has_value());
  ASSERT_TRUE(write_snapshot(*store, meta_at(20, 1), test_data(10, 2)).ok());  // removes the old file
  absl::StatusOr<std::string> rest = read_rest(**reader);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ((*first)->data + *rest, old_data.substr(1234));
}

// Reads the file at `path` as a store opened with `options` would: either
// the store skips it (and says why), or reading it fails with DATA_LOSS.
// Returns a description of how the damage was detected, or "" if it was not.
template <typename Test>
std::string detect(Test& test, const std::string& path, SnapshotStoreOptions options) {
  absl::StatusOr<std::unique_ptr<SnapshotStore>> store = SnapshotStore::open(&test.fs(), test.dir(), options);
  if (!store.ok()) return absl::StrCat("open failed: ", store.status().message());
  if (!(*store)->latest() || (*store)->latest()->path != path) {
    for (const std::string& warning : (*store)->warnings()) {
      if (absl::StrContains(warning, path)) return warning;
    }
    return "skipped without a warning";  // a failure: checked by the caller
  }
  absl::StatusOr<std::string> data = read_latest(**store);
  if (!data.ok() && data.status().code() == absl::StatusCode::kDataLoss)
    return std::string(data.status().message());
  return "";
}

uint64_t meta_length(const std::string& file) {
  uint64_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(file[12 + i]);
  return v;
}

// Flips bits in every byte of a small snapshot in turn; every flip must be
// detected: the store skips the file at open with a warning naming it and the
// offset, or (without data verification at open) reading it fails with
// DATA_LOSS naming the offset. The bytes of the header and meta get every bit
// flipped, the rest one bit per byte.
TYPED_TEST(SnapshotStoreTest, EveryByteFlipIsDetected) {
  const SnapshotStoreOptions verify = small_chunks(128);
  SnapshotStoreOptions lazy = verify;
  lazy.verify_data_on_open = false;
  std::unique_ptr<SnapshotStore> store = this->open_ok(verify);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(write_snapshot(*store, meta_at(77, 5), test_data(300, 4), {}).ok());
  store.reset();
  const std::string path = this->path_of(77, 5);
  const std::string original = testing::read_file(this->fs(), path);
  const uint64_t records_begin = 32 + meta_length(original);
  uint64_t flips = 0;
  for (uint64_t offset = 0; offset < original.size(); ++offset) {
    const int bits = offset < records_begin + 200 ? 8 : 1;
    for (int b = 0; b < bits; ++b) {
      const uint8_t mask = static_cast<uint8_t>(1u << ((offset + b) % 8));
      testing::xor_byte(this->fs(), path, offset, mask);
      for (const SnapshotStoreOptions& options : {verify, lazy}) {
        const std::string how = detect(*this, path, options);
        ASSERT_FALSE(how.empty()) << "flip at offset " << offset << " mask " << int{mask}
                                  << " went unnoticed";
        ASSERT_THAT(how, HasSubstr(path)) << offset;
        ASSERT_THAT(how, HasSubstr("offset ")) << offset;
      }
      testing::xor_byte(this->fs(), path, offset, mask);
      ++flips;
    }
  }
  std::printf("snapshot: %llu byte flips in a %zu-byte file, all detected\n",
              static_cast<unsigned long long>(flips), original.size());
  // Undamaged again: accepted.
  store = this->open_ok(verify);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->latest().has_value());
  EXPECT_THAT(store->warnings(), IsEmpty());
}

TYPED_TEST(SnapshotStoreTest, CorruptNewestFallsBackToTheOlderOne) {
  std::unique_ptr<SnapshotStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(write_snapshot(*store, meta_at(10, 1), test_data(1500, 1)).ok());
  const std::string older_bytes = testing::read_file(this->fs(), this->path_of(10, 1));
  ASSERT_TRUE(write_snapshot(*store, meta_at(20, 1), test_data(1500, 2)).ok());
  store.reset();
  // Bring the older one back (as after a crash before its removal was
  // durable), then damage a chunk of the newer one.
  testing::write_file(this->fs(), this->path_of(10, 1), older_bytes);
  testing::xor_byte(this->fs(), this->path_of(20, 1), 1000, 0x10);

  store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->latest().has_value());
  EXPECT_EQ(store->latest()->meta.index, Index(10));
  ASSERT_EQ(store->warnings().size(), 1u);
  EXPECT_THAT(store->warnings()[0], HasSubstr(this->path_of(20, 1)));
  EXPECT_THAT(store->warnings()[0], HasSubstr("chunk checksum mismatch"));
  absl::StatusOr<std::string> read = read_latest(*store);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, test_data(1500, 1));
  // The damaged newer file is kept as evidence until a new install.
  EXPECT_EQ(this->names().size(), 2u);
  ASSERT_TRUE(write_snapshot(*store, meta_at(15, 1), "fresh").ok());
  EXPECT_THAT(this->names(), ElementsAre(SnapshotStore::file_name(Index(15), Term(1))));
}

TYPED_TEST(SnapshotStoreTest, FileWhoseNameDisagreesWithItsHeaderIsSkipped) {
  std::unique_ptr<SnapshotStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(write_snapshot(*store, meta_at(10, 1), "data").ok());
  store.reset();
  testing::write_file(this->fs(), this->path_of(11, 1), testing::read_file(this->fs(), this->path_of(10, 1)));
  store = this->open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->latest()->meta.index, Index(10));
  ASSERT_EQ(store->warnings().size(), 1u);
  EXPECT_THAT(store->warnings()[0], HasSubstr("does not match the name"));
}

void put_le(std::string& bytes, uint64_t offset, uint64_t value, int width) {
  for (int i = 0; i < width; ++i) bytes[offset + i] = static_cast<char>(value >> (8 * i));
}
void reseal(std::string& bytes, uint64_t header_offset) {
  put_le(bytes, header_offset + 24, XXH3_64bits(bytes.data() + header_offset, 24), 8);
}

// Length fields with valid checksums (a buggy or hostile writer) that claim
// more than the limits or the file: rejected before anything is allocated.
TYPED_TEST(SnapshotStoreTest, OversizedLengthClaimsAreRejected) {
  std::unique_ptr<SnapshotStore> store = this->open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(write_snapshot(*store, meta_at(10, 1), test_data(3000, 1), {}).ok());
  store.reset();
  const std::string path = this->path_of(10, 1);
  const std::string original = testing::read_file(this->fs(), path);
  const uint64_t first_record = 32 + meta_length(original);

  struct Case {
    const char* name;
    uint64_t header;  // file offset of the header to change and reseal
    uint64_t field;   // offset of the field inside it
    uint64_t value;
    int width;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {"meta length 4 GiB", 0, 12, 0xFFFFFFFF, 4, "meta length 4294967295 out of range"},
      {"meta length past the file", 0, 12, 1 << 20, 4, "runs past the end of the file"},
      {"chunk length 4 GiB", first_record, 4, 0xFFFFFFFF, 4, "chunk length 4294967295 out of range"},
      {"chunk length within the limit but wrong", first_record, 4, 999, 4, "chunk checksum mismatch"},
      {"unknown record type", first_record, 0, 3, 4, "unknown record type 3"},
  };
  for (const Case& c : cases) {
    std::string bytes = original;
    put_le(bytes, c.header + c.field, c.value, c.width);
    reseal(bytes, c.header);  // file and record headers both keep their checksum at +24
    testing::write_file(this->fs(), path, bytes);
    SnapshotStoreOptions lazy = small_chunks();
    lazy.verify_data_on_open = false;
    for (const SnapshotStoreOptions& options : {small_chunks(), lazy}) {
      const std::string how = detect(*this, path, options);
      EXPECT_FALSE(how.empty()) << c.name;
      EXPECT_THAT(how, HasSubstr(path)) << c.name;
    }
    // The reader reports the exact problem.
    absl::StatusOr<std::unique_ptr<SnapshotReader>> reader =
        SnapshotReader::open(&this->fs(), path, 0, small_chunks());
    absl::Status status = reader.ok() ? read_rest(**reader).status() : reader.status();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << c.name;
    EXPECT_THAT(status.message(), HasSubstr(c.expected)) << c.name;
  }
}

// ------------------------------------------------------------ SimFileSystem only

constexpr char kSimDir[] = "/node/snapshots";

struct Planned {
  SnapshotMeta meta;
  std::string data;
  std::vector<size_t> pieces;
};

// Two snapshots, the second replacing the first; sized so that chunks span
// several 512-byte sectors and a write can be torn in the middle.
std::vector<Planned> crash_workload() {
  return {{meta_at(10, 1), test_data(2600, 1), {900, 1200}},
          {meta_at(25, 3), test_data(3300, 2), {100, 3000}}};
}

// Writes the planned snapshots in order; returns how many finish()ed OK.
size_t run_installs(FileSystem* fs, const std::vector<Planned>& plan) {
  absl::StatusOr<std::unique_ptr<SnapshotStore>> store = SnapshotStore::open(fs, kSimDir, small_chunks());
  if (!store.ok()) return 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    if (!write_snapshot(**store, plan[i].meta, plan[i].data, plan[i].pieces).ok()) return i;
  }
  return plan.size();
}

// After a failure or crash during install number `acked` (0-based): the store
// opens cleanly, its latest is the previous install or the interrupted one,
// its data is intact, no temp file or superseded snapshot is left, and
// nothing was reported as damaged (a crash must never look like corruption).
void expect_old_or_new(sim::SimFileSystem& sim, const std::vector<Planned>& plan, size_t acked,
                       const std::string& context, uint64_t* recovered_new) {
  absl::StatusOr<std::unique_ptr<SnapshotStore>> store = SnapshotStore::open(&sim, kSimDir, small_chunks());
  ASSERT_TRUE(store.ok()) << context << ": " << store.status();
  EXPECT_THAT((*store)->warnings(), IsEmpty()) << context;
  const std::optional<SnapshotInfo>& latest = (*store)->latest();
  std::optional<size_t> which;
  if (latest) {
    for (size_t i = 0; i < plan.size(); ++i) {
      if (plan[i].meta == latest->meta) which = i;
    }
    ASSERT_TRUE(which.has_value()) << context << ": unknown snapshot " << latest->path;
  }
  const std::optional<size_t> old = acked == 0 ? std::nullopt : std::optional<size_t>(acked - 1);
  if (acked == plan.size()) {
    EXPECT_EQ(which, old) << context;
  } else {
    EXPECT_TRUE(which == old || which == acked)
        << context << ": latest is snapshot " << (which ? static_cast<int>(*which) : -1) << ", acked "
        << acked;
    if (which == acked) ++*recovered_new;
  }
  if (latest) {
    absl::StatusOr<std::string> data = read_latest(**store);
    ASSERT_TRUE(data.ok()) << context << ": " << data.status();
    EXPECT_EQ(*data, plan[*which].data) << context;
  }
  absl::StatusOr<std::vector<std::string>> names = sim.list(kSimDir);
  ASSERT_TRUE(names.ok());
  if (latest) {
    EXPECT_THAT(*names, ElementsAre(SnapshotStore::file_name(latest->meta.index, latest->meta.term)))
        << context;
  } else {
    EXPECT_THAT(*names, IsEmpty()) << context;
  }
}

// Crash after every operation, in two modes: names durable only through the
// store's own sync_dir calls, and names durable at once (eager), where temp
// files survive with torn contents and a rename can outlive a crash before
// the store's directory sync.
class SnapshotStoreCrashPointTest : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Names, SnapshotStoreCrashPointTest, ::testing::Values(false, true),
                         ::reef::storage::testing::durability_mode_name);

TEST_P(SnapshotStoreCrashPointTest, CrashAfterEveryOperationLeavesTheOldOrTheNewSnapshot) {
  const bool eager = GetParam();
  const std::vector<Planned> plan = crash_workload();
  sim::SimFileSystem counting_sim(1);
  CrashPointFileSystem counting(&counting_sim);
  ASSERT_EQ(run_installs(&counting, plan), plan.size());
  const uint64_t crash_points = counting.operations();

  constexpr uint64_t kSeeds = 16;
  uint64_t cases = 0, torn = 0, recovered_new = 0;
  for (uint64_t budget = 0; budget <= crash_points; ++budget) {
    for (uint64_t seed = 0; seed < kSeeds; ++seed) {
      sim::SimFileSystem sim(budget * 104729 + seed);
      sim.set_faults(sim::SimFaults{.torn_writes = true});
      size_t acked = 0;
      {
        CrashPointFileSystem crashing(&sim, budget, eager);
        acked = run_installs(&crashing, plan);
      }
      sim.crash();
      torn += sim.stats().torn_writes;
      ++cases;
      const std::string context = absl::StrCat("crash after operation ", budget, " seed ", seed);
      expect_old_or_new(sim, plan, acked, context, &recovered_new);
      if (::testing::Test::HasFailure()) return;

      // Recovery leaves a store that installs and survives the next crash.
      {
        absl::StatusOr<std::unique_ptr<SnapshotStore>> store =
            SnapshotStore::open(&sim, kSimDir, small_chunks());
        ASSERT_TRUE(store.ok());
        ASSERT_TRUE(write_snapshot(**store, meta_at(100, 9), test_data(1700, 3)).ok()) << context;
      }
      sim.crash();
      absl::StatusOr<std::unique_ptr<SnapshotStore>> store =
          SnapshotStore::open(&sim, kSimDir, small_chunks());
      ASSERT_TRUE(store.ok()) << context;
      ASSERT_TRUE((*store)->latest().has_value()) << context;
      EXPECT_EQ((*store)->latest()->meta.index, Index(100)) << context;
      EXPECT_EQ(read_latest(**store).value_or("<error>"), test_data(1700, 3)) << context;
    }
  }
  std::printf(
      "snapshot (%s): %llu crash points x %llu seeds = %llu crash cases, %llu torn writes, "
      "%llu recovered the in-flight snapshot\n",
      eager ? "eager names" : "sync_dir only", static_cast<unsigned long long>(crash_points + 1),
      static_cast<unsigned long long>(kSeeds), static_cast<unsigned long long>(cases),
      static_cast<unsigned long long>(torn), static_cast<unsigned long long>(recovered_new));
  if (eager) {
    // Temp files now survive crashes torn, and a durable rename can precede
    // the acknowledgement.
    EXPECT_GT(torn, 0u);
    EXPECT_GT(recovered_new, 0u);
  }
}

TEST(SnapshotStoreCrashTest, IoErrorOnEveryWriteAndSyncLeavesTheOldOrTheNewSnapshot) {
  const std::vector<Planned> plan = crash_workload();
  uint64_t cases = 0, recovered_new = 0;
  for (int kind = 0; kind < 2; ++kind) {
    for (uint64_t call = 1;; ++call) {
      sim::SimFileSystem sim(call);
      sim::SimFaults faults;
      faults.torn_writes = true;
      (kind == 0 ? faults.fail_write_call : faults.fail_sync_call) = call;
      sim.set_faults(faults);
      const size_t acked = run_installs(&sim, plan);
      if (acked == plan.size()) break;
      ++cases;
      sim.set_faults(sim::SimFaults{.torn_writes = true});
      const std::string context = absl::StrCat(kind == 0 ? "write" : "sync", " call ", call);
      expect_old_or_new(sim, plan, acked, context + ", no crash", &recovered_new);
      sim.crash();
      expect_old_or_new(sim, plan, acked, context + ", after crash", &recovered_new);
    }
  }
  std::printf("snapshot: %llu injected I/O error cases\n", static_cast<unsigned long long>(cases));
  EXPECT_GT(cases, 10u);
}

TEST(SnapshotStoreCrashTest, ReadErrorAtOpenFailsInsteadOfFallingBack) {
  sim::SimFileSystem sim(4);
  ASSERT_EQ(run_installs(&sim, crash_workload()), 2u);
  sim.set_faults(sim::SimFaults{.fail_read_call = sim.stats().reads + 1});
  absl::StatusOr<std::unique_ptr<SnapshotStore>> store = SnapshotStore::open(&sim, kSimDir, small_chunks());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
}

TEST(SnapshotStoreCrashTest, OutOfSpaceFailsTheWriteAndKeepsTheOldSnapshot) {
  sim::SimFileSystem sim(5);
  absl::StatusOr<std::unique_ptr<SnapshotStore>> store = SnapshotStore::open(&sim, kSimDir, small_chunks());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(write_snapshot(**store, meta_at(10, 1), test_data(2000, 1)).ok());
  sim.set_faults(sim::SimFaults{.byte_budget = 4000});
  absl::StatusOr<SnapshotInfo> full = write_snapshot(**store, meta_at(20, 1), test_data(3000, 2));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ((*store)->latest()->meta.index, Index(10));
  EXPECT_THAT(*sim.list(kSimDir), ElementsAre(SnapshotStore::file_name(Index(10), Term(1))));
  EXPECT_EQ(read_latest(**store).value_or("<error>"), test_data(2000, 1));
}

// A snapshot cut short at every length (what a lost tail looks like) is
// never taken as valid.
TEST(SnapshotStoreDamageTest, TruncationAtEveryLengthIsSkipped) {
  sim::SimFileSystem sim(7);
  std::string path;
  {
    absl::StatusOr<std::unique_ptr<SnapshotStore>> store =
        SnapshotStore::open(&sim, kSimDir, small_chunks(256));
    ASSERT_TRUE(store.ok());
    absl::StatusOr<SnapshotInfo> info = write_snapshot(**store, meta_at(10, 1), test_data(900, 1), {});
    ASSERT_TRUE(info.ok());
    path = info->path;
  }
  const std::string original = *sim.contents(path);
  for (uint64_t size = 0; size < original.size(); ++size) {
    testing::write_file(sim, path, original.substr(0, size));
    for (bool verify_data : {true, false}) {
      SnapshotStoreOptions options = small_chunks(256);
      options.verify_data_on_open = verify_data;
      absl::StatusOr<std::unique_ptr<SnapshotStore>> store = SnapshotStore::open(&sim, kSimDir, options);
      ASSERT_TRUE(store.ok()) << size << ": " << store.status();
      EXPECT_FALSE((*store)->latest().has_value()) << "truncated to " << size << " bytes was accepted";
      ASSERT_EQ((*store)->warnings().size(), 1u) << size;
      EXPECT_THAT((*store)->warnings()[0], HasSubstr(path));
    }
  }
}

// Random damage (several bytes at once, random lengths): the store never
// crashes, and whatever it returns is exactly the original data from the
// requested offset (chunks before the offset are legitimately not read, so
// damage there may go unnoticed by a resumed read).
TEST(SnapshotStoreDamageTest, RandomDamageIsNeverReadAsData) {
  sim::SimFileSystem sim(8);
  const std::string data = test_data(1500, 8);
  std::string path;
  {
    absl::StatusOr<std::unique_ptr<SnapshotStore>> store =
        SnapshotStore::open(&sim, kSimDir, small_chunks(200));
    ASSERT_TRUE(store.ok());
    absl::StatusOr<SnapshotInfo> info = write_snapshot(**store, meta_at(10, 1), data, {});
    ASSERT_TRUE(info.ok());
    path = info->path;
  }
  const std::string original = *sim.contents(path);
  raft::Prng prng(99);
  uint64_t accepted = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string damaged = original;
    const uint64_t bytes = prng.between(1, 6);
    for (uint64_t i = 0; i < bytes; ++i) {
      damaged[prng.below(damaged.size())] = static_cast<char>(prng.below(256));
    }
    if (prng.chance(1, 4)) damaged.resize(prng.below(damaged.size() + 64), '\x5a');
    testing::write_file(sim, path, damaged);
    SnapshotStoreOptions options = small_chunks(200);
    options.verify_data_on_open = prng.chance(1, 2);
    absl::StatusOr<std::unique_ptr<SnapshotStore>> store = SnapshotStore::open(&sim, kSimDir, options);
    ASSERT_TRUE(store.ok()) << round << ": " << store.status();
    if (!(*store)->latest()) continue;
    const uint64_t offset = prng.below(data.size() + 1);
    absl::StatusOr<std::string> read = read_latest(**store, offset);
    if (!read.ok()) {
      EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << round << ": " << read.status();
      continue;
    }
    ++accepted;
    EXPECT_TRUE(*read == data.substr(offset)) << "round " << round << ": wrong data from offset " << offset;
  }
  std::printf("snapshot: %llu of 3000 randomly damaged files still served correct data\n",
              static_cast<unsigned long long>(accepted));
}

TEST(SnapshotStoreCrashTest, WarningsAreBounded) {
  sim::SimFileSystem sim(6);
  ASSERT_TRUE(sim.create_dir(kSimDir).ok());
  for (int i = 0; i < 70; ++i) testing::write_file(sim, join_path(kSimDir, absl::StrCat("junk-", i)), "x");
  absl::StatusOr<std::unique_ptr<SnapshotStore>> store = SnapshotStore::open(&sim, kSimDir, small_chunks());
  ASSERT_TRUE(store.ok());
  ASSERT_EQ((*store)->warnings().size(), SnapshotStore::kMaxWarnings + 1);
  EXPECT_EQ((*store)->warnings().back(), "... and 6 more warnings");
}

}  // namespace
}  // namespace reef::storage
